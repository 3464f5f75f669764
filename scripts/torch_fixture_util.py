"""What both PyTorch fixture scripts share: exact grid values, the JSON tensor encoding, and the writer."""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'torch')


def grid(rng, shape, scale=1.0):
    """Uniform values in [-scale, scale] rounded to multiples of 1/64: exact in float32."""
    return np.round(rng.uniform(-scale, scale, shape) * 64) / 64


def enc(x):
    """A tensor as { shape, data } (row-major), at 10 significant digits (integers as is)."""
    a = x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    flat = [int(v) if a.dtype.kind in 'iu' else float(f'{v:.10g}') for v in a.reshape(-1)]
    return {'shape': list(a.shape), 'data': flat}


def write(name, fixture, generated_by):
    """Writes test/fixtures/torch/<name>.json, compact, with the script and torch version that made it."""
    fixture = {'generatedBy': generated_by, 'torch': torch.__version__, **fixture}
    path = os.path.normpath(os.path.join(OUT, f'{name}.json'))
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(fixture, f, separators=(',', ':'), ensure_ascii=False)
        f.write('\n')
    print(f'{path}: {os.path.getsize(path)} bytes')
