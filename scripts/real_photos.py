#!/usr/bin/python3
"""Small crops of two real photographs for the image reference checks: the
china.jpg and flower.jpg that Debian's python3-sklearn ships
(/usr/lib/python3/dist-packages/sklearn/datasets/images/; both CC BY 2.0, see
test/fixtures/images/README.md for the attribution). Each is cut to its central
4:3 region and downscaled by PIL (Lanczos) to 16x12, then saved as PNG, so every
reference script reads the same pixels losslessly.

Run with Debian's interpreter (after apt-get install python3-sklearn):
  /usr/bin/python3 scripts/real_photos.py
"""
import os
from PIL import Image

SRC = '/usr/lib/python3/dist-packages/sklearn/datasets/images/'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'images')

for name in ('china', 'flower'):
    img = Image.open(os.path.join(SRC, f'{name}.jpg')).convert('RGB')
    w, h = img.size
    cw, ch = (w, w * 3 // 4) if w * 3 // 4 <= h else (h * 4 // 3, h)
    left, top = (w - cw) // 2, (h - ch) // 2
    small = img.crop((left, top, left + cw, top + ch)).resize((16, 12), Image.LANCZOS)
    path = os.path.normpath(os.path.join(OUT, f'{name}-16x12.png'))
    small.save(path)
    print(path, small.size)
