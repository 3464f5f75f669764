"""NumPy reference values for kiln's numeric preprocessing layers (Keras's
formulas): Normalization's adapted mean/variance (population) and output,
Discretization's buckets (np.digitize, right=False), CategoryEncoding's counts
and multi-hot rows. Writes test/fixtures/data/preprocessing.json.

Run: python3 scripts/preprocessing_reference.py
"""
import json
import numpy as np

rng = np.random.default_rng(7)
x = np.round(rng.normal([10.0, -3.0, 250.0], [2.0, 0.5, 40.0], size=(40, 3)), 3)
mean, var = x.mean(axis=0), x.var(axis=0)
norm = (x - mean) / np.maximum(np.sqrt(var), 1e-7)
mean_all, var_all = x.mean(), x.var()
bins = [-3.0, 9.5, 12.0]
buckets = np.digitize(x, bins, right=False)
ids = rng.integers(0, 5, size=(8, 4))
counts = np.stack([np.bincount(r, minlength=5) for r in ids])
out = {
    'x': x.tolist(),
    'mean': mean.tolist(), 'variance': var.tolist(), 'normalized': norm.tolist(),
    'meanAll': float(mean_all), 'varianceAll': float(var_all),
    'bins': bins, 'buckets': buckets.tolist(),
    'ids': ids.tolist(), 'counts': counts.tolist(), 'multiHot': (counts > 0).astype(int).tolist(),
}
with open('test/fixtures/data/preprocessing.json', 'w') as f:
    json.dump(out, f)
    f.write('\n')
