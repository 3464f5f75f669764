#!/usr/bin/python3
"""Reference values for kiln.image.adjustSaturation and kiln.image.cropAndResize
on a real photo (test/fixtures/images/china-16x12.png, from sklearn's china.jpg, 16x12 RGB). Writes
test/fixtures/data/color-crop.json.

- adjustSaturation and adjustHue: Python's colorsys per pixel (RGB -> HSV, s * factor clipped
  to [0, 1] or (h + delta) mod 1, HSV -> RGB), which is tf.image.adjust_saturation's
  and adjust_hue's definition, on
  values scaled to [0, 1].
- cropAndResize, bilinear: TF's sampling points (y1 (H-1) + i (y2-y1)(H-1)/(h-1),
  the box centre when h = 1) computed with NumPy and read by torch grid_sample
  with align_corners=True (where -1 and +1 are the first and last pixel centres),
  so the interpolation is PyTorch's; points outside [0, H-1] x [0, W-1] are set
  to the extrapolation value, as TF does.
- cropAndResize, nearest: the same points rounded half away from zero (TF's
  roundf) and read by NumPy indexing; grid_sample's nearest rounds halves to even.

Run with Debian's interpreter: /usr/bin/python3 scripts/color_crop_reference.py
"""
import colorsys
import json
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

img = np.asarray(Image.open('test/fixtures/images/china-16x12.png').convert('RGB'), dtype=np.float64) / 255  # [12, 16, 3]
H, W = img.shape[:2]
batch = np.stack([img, img[::-1]])


def saturate(x, f):
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        h, s, v = colorsys.rgb_to_hsv(*x[idx])
        out[idx] = colorsys.hsv_to_rgb(h, min(max(s * f, 0.0), 1.0), v)
    return out


def hue(x, d):
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape[:-1]):
        h, s, v = colorsys.rgb_to_hsv(*x[idx])
        out[idx] = colorsys.hsv_to_rgb((h + d) % 1.0, s, v)
    return out


def points(box, size, length):
    lo, hi = box
    if size > 1:
        return lo * (length - 1) + np.arange(size) * (hi - lo) * (length - 1) / (size - 1)
    return np.array([0.5 * (lo + hi) * (length - 1)])


def crop(boxes, idx, size, method='bilinear', extrapolation=0.0):
    out = []
    for (y1, x1, y2, x2), b in zip(boxes, idx):
        sy, sx = points((y1, y2), size[0], H), points((x1, x2), size[1], W)
        gy, gx = np.meshgrid(sy, sx, indexing='ij')
        if method == 'bilinear':
            grid = torch.tensor(np.stack([2 * gx / (W - 1) - 1, 2 * gy / (H - 1) - 1], -1)[None])
            v = F.grid_sample(torch.tensor(batch[b]).permute(2, 0, 1)[None], grid, mode='bilinear', padding_mode='zeros', align_corners=True)[0].permute(1, 2, 0).numpy()
        else:
            ry, rx = np.clip(np.floor(gy + 0.5), 0, H - 1).astype(int), np.clip(np.floor(gx + 0.5), 0, W - 1).astype(int)
            v = batch[b][ry, rx]
        inside = (gy >= 0) & (gy <= H - 1) & (gx >= 0) & (gx <= W - 1)
        out.append(np.where(inside[..., None], v, extrapolation))
    return np.round(np.stack(out), 6).tolist()


boxes = [[0.1, 0.2, 0.8, 0.9], [0.75, 0.6, 0.05, 0.1], [-0.2, -0.1, 0.52, 1.3], [0.3, 0.3, 0.6, 0.4]]
idx = [0, 1, 1, 0]
out = {
    'x': np.round(batch, 6).tolist(),
    'saturation': {str(f): np.round(saturate(batch, f), 6).tolist() for f in (0.0, 0.4, 1.7, 5.0)},
    'hue': {str(d): np.round(hue(batch, d), 6).tolist() for d in (-0.7, 0.15, 0.5)},
    'boxes': boxes, 'boxIndices': idx,
    'cropBilinear': crop(boxes, idx, (7, 5)),
    'cropBilinearExtrapolate': crop(boxes, idx, (6, 9), extrapolation=-1.0),
    'cropNearest': crop(boxes, idx, (7, 5), 'nearest'),
    'cropOne': crop(boxes, idx, (1, 1)),  # no sample of these boxes lies on a rounding tie (x.5), where float32 vs float64 could round apart
}
with open('test/fixtures/data/color-crop.json', 'w') as f:
    json.dump(out, f)
    f.write('\n')
