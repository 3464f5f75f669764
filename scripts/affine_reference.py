#!/usr/bin/python3
"""Reference values for kiln's ImageDataGenerator transforms: Keras's
apply_affine_transform recipe (rotation, shift, shear, zoom composed about the
centre, then scipy.ndimage.affine_transform with order=1) on a small random
image, for fill modes 'nearest' and 'constant'. Writes
test/fixtures/data/affine.json.

Run with Debian's interpreter: /usr/bin/python3 scripts/affine_reference.py
"""
import json
import numpy as np
from scipy import ndimage

rng = np.random.default_rng(5)
h, w = 9, 11
x = np.round(rng.uniform(0, 255, size=(h, w, 2)), 3)

def matrix(theta, tx, ty, shear, zx, zy):
    m = np.eye(3)
    t = np.deg2rad(theta)
    m = m @ np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    m = m @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    s = np.deg2rad(shear)
    m = m @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    m = m @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
    ox, oy = h / 2 - 0.5, w / 2 - 0.5
    return np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ m @ np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])

cases = []
for params in [(20, 0, 0, 0, 1, 1), (0, 1.5, -2.25, 0, 1, 1), (0, 0, 0, 15, 1, 1), (0, 0, 0, 0, 0.8, 1.3), (-35, 1, 0.5, 10, 1.1, 0.9)]:
    m = matrix(*params)
    for mode in ['nearest', 'constant']:
        out = np.stack([ndimage.affine_transform(x[..., k], m[:2, :2], m[:2, 2], order=1, mode=mode, cval=7.0) for k in range(2)], -1)
        cases.append({'params': params, 'fillMode': mode, 'cval': 7.0, 'out': out.tolist()})
with open('test/fixtures/data/affine.json', 'w') as f:
    json.dump({'x': x.tolist(), 'cases': cases}, f)
    f.write('\n')
