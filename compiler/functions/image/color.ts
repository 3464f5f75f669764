/**
 * @file Colour ops in HSV terms computed without leaving RGB: a pixel's value v
 * is max(r, g, b) and each channel is v − v·s·f(hue), so scaling the saturation
 * s (hue and value kept) moves every channel's distance from v by one ratio,
 * and a hue h gives channel n ∈ {r: 5, g: 3, b: 1} as v − chroma·clip(min(k, 4 − k), 0, 1)
 * with k = (n + 6h) mod 6.
 */
import { Tensor } from '../../tensor.js';
import { formatType } from '../../types.js';
import { add, cast, clip, div, eq, floor, gt, minimum, mul, sub, where } from '../elementwise.js';
import { concat, expandDims, reshape, slice, squeeze } from '../movement.js';
import { max, min } from '../reduce.js';
import { checkTensor, fail } from '../util.js';

/**
 * Multiplies each pixel's HSV saturation by `factor` (clipped to [0, 1]), hue
 * and value kept, as tf.image.adjust_saturation: 0 gives grey (v), 1 the image,
 * above 1 more vivid. `factor` is a number or one per image ([batch]). Images are
 * RGB in the last axis, values ≥ 0 (tf.image's convention: floats in [0, 1]; any
 * scale works since v scales with them).
 * @example kiln.image.adjustSaturation(batch, 1.5)
 */
export function adjustSaturation(images: Tensor, factor: Tensor | number): Tensor {
  const op = 'image.adjustSaturation';
  checkTensor(op, images, 'images');
  if (images.rank !== 3 && images.rank !== 4) fail(op, `expected images [batch, height, width, 3] or one [height, width, 3], got ${formatType(images.type)}`);
  if (images.type.shape[images.rank - 1] !== 3) fail(op, `expected 3 (RGB) channels, got ${formatType(images.type)}`);
  const single = images.rank === 3;
  const x = single ? expandDims(images.dtype === 'float32' ? images : cast(images, 'float32'), 0) : images.dtype === 'float32' ? images : cast(images, 'float32');
  let f: Tensor | number;
  if (typeof factor === 'number') {
    if (!Number.isFinite(factor)) fail(op, `expected a finite factor, got ${factor}`);
    f = factor;
  } else {
    checkTensor(op, factor, 'factor');
    if (factor.rank > 1) fail(op, `expected factor as a number or one per image [batch], got ${formatType(factor.type)}`);
    f = reshape(factor.dtype === 'float32' ? factor : cast(factor, 'float32'), [-1, 1, 1, 1]);
  }
  const v = max(x, -1, true);
  const chroma = sub(v, min(x, -1, true));
  const coloured = gt(chroma, 0);
  const s = div(chroma, where(gt(v, 0), v, 1)); // HSV saturation, 0 where v = 0
  const safeS = where(coloured, s, 1);
  const ratio = where(coloured, div(clip(mul(safeS, f), 0, 1), safeS), 0);
  const out = sub(v, mul(sub(v, x), ratio));
  return single ? squeeze(out, 0) : out;
}

/** x − floor(x / m)·m: the remainder with the divisor's sign. */
const modulo = (x: Tensor, m: number) => sub(x, mul(floor(div(x, m)), m));

/**
 * Rotates each pixel's HSV hue by `delta` (a fraction of the colour wheel, in
 * [−1, 1]; saturation and value kept), as tf.image.adjust_hue. `delta` is a
 * number or one per image ([batch]). RGB in the last axis.
 * @example kiln.image.adjustHue(batch, 0.1)
 */
export function adjustHue(images: Tensor, delta: Tensor | number): Tensor {
  const op = 'image.adjustHue';
  checkTensor(op, images, 'images');
  if (images.rank !== 3 && images.rank !== 4) fail(op, `expected images [batch, height, width, 3] or one [height, width, 3], got ${formatType(images.type)}`);
  if (images.type.shape[images.rank - 1] !== 3) fail(op, `expected 3 (RGB) channels, got ${formatType(images.type)}`);
  let d: Tensor | number;
  if (typeof delta === 'number') {
    if (!(delta >= -1 && delta <= 1)) fail(op, `expected delta in [−1, 1], got ${delta}`);
    d = delta;
  } else {
    checkTensor(op, delta, 'delta');
    if (delta.rank > 1) fail(op, `expected delta as a number or one per image [batch], got ${formatType(delta.type)}`);
    d = reshape(delta.dtype === 'float32' ? delta : cast(delta, 'float32'), [-1, 1, 1, 1]);
  }
  const single = images.rank === 3;
  const f = images.dtype === 'float32' ? images : cast(images, 'float32');
  const x = single ? expandDims(f, 0) : f;
  const channel = (i: number) => slice(x, [0, 0, 0, i], [-1, -1, -1, 1]);
  const [r, g, b] = [channel(0), channel(1), channel(2)];
  const v = max(x, -1, true);
  const chroma = sub(v, min(x, -1, true));
  const safe = where(gt(chroma, 0), chroma, 1);
  // hue in sixths of the wheel, by which channel is the largest
  const sixths = where(eq(v, r), modulo(div(sub(g, b), safe), 6), where(eq(v, g), add(div(sub(b, r), safe), 2), add(div(sub(r, g), safe), 4)));
  const h6 = modulo(add(where(gt(chroma, 0), sixths, 0), mul(d, 6)), 6);
  const out = concat([5, 3, 1].map((n) => {
    const k = modulo(add(h6, n), 6);
    return sub(v, mul(chroma, clip(minimum(k, sub(4, k)), 0, 1)));
  }), -1);
  return single ? squeeze(out, 0) : out;
}
