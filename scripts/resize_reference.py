#!/usr/bin/python3
"""Reference values for kiln.image.resize's 'bicubic', 'area' and antialias on
a real photo (test/fixtures/images/china-16x12.png, from sklearn's china.jpg, 16x12 RGB, values / 255).
Writes test/fixtures/data/resize.json.

- antialias bilinear / bicubic (downscaling): PIL's Image.resize with BILINEAR /
  BICUBIC on float ('F') channels. PIL's resampler is TF's ScaleAndTranslate
  with antialias: the 'triangle' and Keys (a = -0.5) kernels stretched by the
  scale, sampled at (j + 0.5 - centre), taps outside the image dropped and the
  weights renormalised. Same values up to float rounding.
- bicubic without antialias (upscaling): the same PIL call. TF's ResizeBicubic
  with half-pixel centres uses the same Keys kernel and border handling but
  reads its weights from a 1024-entry table, i.e. at the sub-pixel offset rounded
  to 1/1024; kiln does as TF, so the test allows that rounding's effect (< 2e-3
  on values in [0, 1]). torch's bicubic uses a = -0.75 and clamps at the edges,
  so it is not used.
- area: torch's interpolate(mode='area') (adaptive average pooling) for an
  integer factor (16x12 -> 8x6), where it equals TF's ResizeArea. For a
  non-integer factor adaptive pooling takes whole pixels where TF weighs partial
  ones; that case is checked by hand in the test.

Run with Debian's interpreter: /usr/bin/python3 scripts/resize_reference.py
"""
import json
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

img = np.asarray(Image.open('test/fixtures/images/china-16x12.png').convert('RGB'), dtype=np.float32) / 255  # [12, 16, 3]


def pil(size, resample):
    h, w = size
    chans = [np.asarray(Image.fromarray(img[..., c], mode='F').resize((w, h), resample), dtype=np.float64) for c in range(3)]
    return np.round(np.stack(chans, -1), 6).tolist()


t = torch.tensor(img, dtype=torch.float64).permute(2, 0, 1)[None]
out = {
    'x': img.tolist(),
    'bilinearAntialias7x5': pil((5, 7), Image.BILINEAR),
    'bicubicAntialias7x5': pil((5, 7), Image.BICUBIC),
    'bicubicAntialias9x13': pil((9, 13), Image.BICUBIC),
    'bicubicUp21x27': pil((21, 27), Image.BICUBIC),
    'area6x8': np.round(F.interpolate(t, size=(6, 8), mode='area')[0].permute(1, 2, 0).numpy(), 6).tolist(),
}
with open('test/fixtures/data/resize.json', 'w') as f:
    json.dump(out, f)
    f.write('\n')
