#!/usr/bin/python3
"""Reference values for kiln.image: resizing with PyTorch's interpolate
(bilinear with align_corners=False and nearest-exact equal TF2's half-pixel
tf.image.resize), and NumPy for rot90, flips, grayscale, central crop, contrast
and per-image standardization (tf.image's formulas), on cuts of two real photos. Writes
test/fixtures/data/image.json.

Run with Debian's interpreter: /usr/bin/python3 scripts/image_reference.py
"""
import json
import numpy as np
import torch
import torch.nn.functional as F

from PIL import Image

# two 7x9 cuts of the real photos (scripts/real_photos.py: sklearn's china.jpg and flower.jpg), values / 255
def cut(name, top, left):
    img = np.asarray(Image.open(f'test/fixtures/images/{name}-16x12.png').convert('RGB'), dtype=np.float64) / 255
    return img[top:top + 7, left:left + 9]

x = np.round(np.stack([cut('china', 0, 0), cut('flower', 2, 3)]), 4)
t = torch.tensor(x).permute(0, 3, 1, 2)

def resize(size, mode):
    kw = {'align_corners': False, 'antialias': False} if mode == 'bilinear' else {}
    return F.interpolate(t, size=size, mode=mode, **kw).permute(0, 2, 3, 1).numpy().tolist()

mean = x.mean(axis=(1, 2), keepdims=True)
n = 7 * 9 * 3
m_all = x.mean(axis=(1, 2, 3), keepdims=True)
std = x.std(axis=(1, 2, 3), keepdims=True)
top, left = int((7 - 7 * 0.5) / 2), int((9 - 9 * 0.5) / 2)
out = {
    'x': x.tolist(),
    'bilinearDown': resize((4, 5), 'bilinear'), 'bilinearUp': resize((12, 15), 'bilinear'),
    'nearestDown': resize((4, 5), 'nearest-exact'), 'nearestUp': resize((12, 15), 'nearest-exact'),
    'rot90': np.rot90(x, 1, axes=(1, 2)).tolist(), 'rot270': np.rot90(x, 3, axes=(1, 2)).tolist(),
    'flipLeftRight': x[:, :, ::-1].tolist(), 'flipUpDown': x[:, ::-1].tolist(),
    'grayscale': (x @ np.array([0.2989, 0.5870, 0.1140]))[..., None].tolist(),
    'centralCrop': x[:, top:7 - top, left:9 - left].tolist(),
    'contrast': ((x - mean) * 1.7 + mean).tolist(),
    'standardized': ((x - m_all) / np.maximum(std, 1 / np.sqrt(n))).tolist(),
}
with open('test/fixtures/data/image.json', 'w') as f:
    json.dump(out, f)
    f.write('\n')
