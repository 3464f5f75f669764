#!/usr/bin/python3
"""Reference values for kiln.image.transform / rotate / zoom / translate on the
real photos (test/fixtures/images/china-16x12.png and flower-16x12.png, from sklearn's images, 16x12 RGB), by PyTorch's
grid_sample. Writes test/fixtures/data/transform.json.

How grid_sample is bridged to TF's ImageProjectiveTransformV3 semantics:
- TF maps each output pixel (x, y) (integer coordinates, pixel centres at
  integers) to an input point with the 8-parameter matrix. The script computes
  that point with NumPy and hands it to grid_sample with align_corners=True,
  where -1 and +1 are the centres of the first and last pixels: g = 2 x / (w - 1) - 1.
- fillMode 'constant' (fillValue 0) = padding_mode='zeros': both zero each
  out-of-image corner of the bilinear stencil, as TF does.
- fillMode 'nearest' = padding_mode='border': both clamp the point to the image.
- fillMode 'reflect' and 'wrap': grid_sample's 'reflection' mirrors about the
  pixel centres (c b | a b c) where TF mirrors about the edges (c b a | a b c),
  so the script folds the point with TF's map_coord formula in NumPy first and
  samples with 'border'. These cases check the interpolation of folded points;
  the folding formula itself is TF's, written out here and in geometry.ts.
- nonzero fillValue: TF gives fill * (1 - sum of the inside corners' weights);
  the script adds that to the 'zeros' result.
- interpolation 'nearest': grid_sample rounds halves to even, TF away from
  zero; the angles here put no sample exactly on a half.

Run with Debian's interpreter: /usr/bin/python3 scripts/transform_reference.py
"""
import json
import math
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

img = np.asarray(Image.open('test/fixtures/images/china-16x12.png').convert('RGB'), dtype=np.float64)  # [12, 16, 3]
h, w = img.shape[:2]
flower = np.asarray(Image.open('test/fixtures/images/flower-16x12.png').convert('RGB'), dtype=np.float64)
batch = np.stack([img, flower])  # two real photos


def rotation(a):
    c, s = math.cos(a), math.sin(a)
    return [c, -s, ((w - 1) - (c * (w - 1) - s * (h - 1))) / 2, s, c, ((h - 1) - (s * (w - 1) + c * (h - 1))) / 2, 0, 0]


def zoom(zx, zy):
    return [zx, 0, (w - 1) / 2 * (1 - zx), 0, zy, (h - 1) / 2 * (1 - zy), 0, 0]


def fold(c, n, mode):
    if mode == 'reflect':
        p = 2 * n
        t = c - np.floor(c / p) * p
        t = np.where(t >= n, p - 1 - t, t)
    elif mode == 'wrap':
        below = c + (np.floor(-c / (n - 1)) + 1) * n
        above = c - np.floor(c / (n - 1)) * n
        t = np.where(c < 0, below, np.where(c > n - 1, above, c))
    else:
        return c
    return np.clip(t, 0, n - 1)


def sample(transforms, mode='constant', interpolation='bilinear', fill=0.0):
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing='ij')
    grids = []
    for t in transforms:
        k = t[6] * xs + t[7] * ys + 1
        sx = (t[0] * xs + t[1] * ys + t[2]) / k
        sy = (t[3] * xs + t[4] * ys + t[5]) / k
        sx, sy = fold(sx, w, mode), fold(sy, h, mode)
        grids.append(np.stack([2 * sx / (w - 1) - 1, 2 * sy / (h - 1) - 1], -1))
    grid = torch.tensor(np.stack(grids))
    x = torch.tensor(batch).permute(0, 3, 1, 2)
    padding = 'zeros' if mode == 'constant' else 'border'
    out = F.grid_sample(x, grid, mode=interpolation, padding_mode=padding, align_corners=True)
    if mode == 'constant' and fill != 0:
        cover = F.grid_sample(torch.ones_like(x[:, :1]), grid, mode=interpolation, padding_mode='zeros', align_corners=True)
        out = out + fill * (1 - cover)
    return np.round(out.permute(0, 2, 3, 1).numpy(), 4).tolist()


rot = [rotation(0.4), rotation(-1.1)]
zooms = [zoom(1.3, 0.8), zoom(0.7, 1.25)]
shift = [[1, 0, -2.5, 0, 1, 1.75, 0, 0], [1, 0, 3.25, 0, 1, -0.5, 0, 0]]
persp = [[0.9, 0.1, 1.0, -0.05, 1.1, 0.5, 0.01, -0.02]] * 2
out = {
    'x': batch.tolist(),
    'rotations': rot, 'zooms': zooms, 'shifts': shift, 'perspective': persp,
    'rotateConstant': sample(rot),
    'rotateConstantFill': sample(rot, fill=128.0),
    'rotateNearestFill': sample(rot, mode='nearest'),
    'rotateReflect': sample(rot, mode='reflect'),
    'rotateWrap': sample(rot, mode='wrap'),
    'rotateNearestInterp': sample(rot, interpolation='nearest'),
    'zoomReflect': sample(zooms, mode='reflect'),
    'shiftConstant': sample(shift),
    'perspectiveNearestFill': sample(persp, mode='nearest'),
}
with open('test/fixtures/data/transform.json', 'w') as f:
    json.dump(out, f)
    f.write('\n')
