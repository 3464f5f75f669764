#!/usr/bin/python3
"""Small PNG and JPEG files in the forms kiln.io.decodeImage must read (8-bit
RGB, gray, gray+alpha, RGBA, palette, 16-bit gray; baseline and progressive
JPEG), written and decoded by PIL, whose pixels are the reference. Writes
test/fixtures/images/*.png|jpg and test/fixtures/images/pixels.json.

Run with Debian's interpreter: /usr/bin/python3 scripts/image_decode_reference.py
"""
import json
import numpy as np
from PIL import Image

rng = np.random.default_rng(11)
h, w = 12, 16
yy, xx = np.mgrid[0:h, 0:w]
rgb = np.stack([xx * 15, yy * 20, (xx + yy) * 8], -1) + rng.integers(0, 30, size=(h, w, 3))
rgb = np.clip(rgb, 0, 255).astype(np.uint8)
out = 'test/fixtures/images/'
files = {}

def save(name, img, **kw):
    img.save(out + name, **kw)
    back = np.asarray(Image.open(out + name))
    files[name] = {'mode': Image.open(out + name).mode, 'pixels': back.astype(np.int64).tolist()}

save('rgb.png', Image.fromarray(rgb, 'RGB'))
save('gray.png', Image.fromarray(rgb[..., 0], 'L'))
save('gray-alpha.png', Image.fromarray(np.stack([rgb[..., 0], rgb[..., 1]], -1), 'LA'))
save('rgba.png', Image.fromarray(np.concatenate([rgb, rgb[..., :1]], -1), 'RGBA'))
save('palette.png', Image.fromarray(rgb, 'RGB').convert('P', palette=Image.ADAPTIVE, colors=16))
save('gray16.png', Image.fromarray((rgb[..., 1].astype(np.uint16) * 257), 'I;16'))
save('photo.jpg', Image.fromarray(rgb, 'RGB'), quality=90)
save('progressive.jpg', Image.fromarray(rgb, 'RGB'), quality=85, progressive=True)
save('gray.jpg', Image.fromarray(rgb[..., 0], 'L'), quality=90)
# palette images read back as indices by PIL: give the RGB they stand for
files['palette.png']['pixels'] = np.asarray(Image.open(out + 'palette.png').convert('RGB')).astype(np.int64).tolist()
with open(out + 'pixels.json', 'w') as f:
    json.dump(files, f)
    f.write('\n')
