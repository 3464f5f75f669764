/**
 * @file tf.image.crop_and_resize: boxes in normalised coordinates cut from
 * images and resampled to one crop size, with TF's sampling grid (the box's
 * corners map to the first and last samples) and extrapolation value.
 */
import { Tensor } from '../../tensor.js';
import { formatType } from '../../types.js';
import { add, abs, cast, floor, ge, le, logicalAnd, maximum, minimum, mul, sign, sub, where } from '../elementwise.js';
import { batchGather, gather, reshape, slice } from '../movement.js';
import { checkTensor, fail } from '../util.js';

export interface CropAndResizeOptions {
  /** 'bilinear' (default) or 'nearest'. */
  method?: 'bilinear' | 'nearest';
  /** The value of samples that fall outside the image (default 0). */
  extrapolationValue?: number;
}

const f32 = (values: number[], shape: number[]) => Tensor.concrete({ dtype: 'float32', shape, data: Float32Array.from(values) });

/**
 * Crops `boxes` ([n, 4] rows [y1, x1, y2, x2] in [0, 1] image coordinates, y2 < y1
 * flips) from `images[boxIndices[i]]` and resizes each to `cropSize`
 * [height, width], as tf.image.crop_and_resize: sample (y, x) of a box reads
 * the image at y1·(H−1) + y·(y2−y1)·(H−1)/(height−1) (the box's centre when
 * height is 1), likewise for x; samples outside the image get
 * `extrapolationValue`. Differentiable in the images. Returns [n, height, width, channels].
 * @example kiln.image.cropAndResize(batch, kiln.tensor([[0.1, 0.1, 0.6, 0.9]]), kiln.tensor([0], [1], 'int32'), [32, 32])
 */
export function cropAndResize(images: Tensor, boxes: Tensor, boxIndices: Tensor, cropSize: readonly [number, number], options: CropAndResizeOptions = {}): Tensor {
  const op = 'image.cropAndResize';
  checkTensor(op, images, 'images');
  checkTensor(op, boxes, 'boxes');
  checkTensor(op, boxIndices, 'boxIndices');
  const { method = 'bilinear', extrapolationValue = 0 } = options;
  if (images.rank !== 4 || images.type.shape.slice(1).some((d) => typeof d !== 'number')) fail(op, `expected images [batch, height, width, channels] with static height, width and channels, got ${formatType(images.type)}`);
  const n = boxes.type.shape[0];
  if (boxes.rank !== 2 || boxes.type.shape[1] !== 4) fail(op, `expected boxes [n, 4] (rows y1, x1, y2, x2), got ${formatType(boxes.type)}`);
  if (boxIndices.rank !== 1 || boxIndices.type.shape[0] !== n || boxIndices.dtype !== 'int32') fail(op, `expected int32 boxIndices [n] with n = ${n} (one per box), got ${formatType(boxIndices.type)}`);
  const [ch, cw] = Array.isArray(cropSize) ? cropSize : [];
  if (!Number.isInteger(ch) || !Number.isInteger(cw) || ch! < 1 || cw! < 1) fail(op, `expected cropSize [height, width] of positive integers, got ${JSON.stringify(cropSize)}`);
  if (method !== 'bilinear' && method !== 'nearest') fail(op, `expected method 'bilinear' or 'nearest', got ${JSON.stringify(method)}`);
  if (typeof extrapolationValue !== 'number' || !Number.isFinite(extrapolationValue)) fail(op, `expected a finite extrapolationValue, got ${JSON.stringify(extrapolationValue)}`);
  const [, h, w, c] = images.type.shape as [unknown, number, number, number];
  if (!boxIndices.isSymbolic) {
    const bad = Array.from(boxIndices.dataSync()).find((i) => i < 0 || (typeof images.type.shape[0] === 'number' && i >= (images.type.shape[0] as number)));
    if (bad !== undefined) fail(op, `expected boxIndices in [0, ${images.type.shape[0]}), got ${bad}`);
  }
  const x = images.dtype === 'float32' ? images : cast(images, 'float32');
  const b = boxes.dtype === 'float32' ? boxes : cast(boxes, 'float32');
  const col = (i: number) => reshape(slice(b, [0, i], [-1, 1]), [-1, 1, 1]); // [n, 1, 1]
  const grid = (y1: Tensor, y2: Tensor, size: number, len: number, shape: number[]) =>
    size > 1
      ? add(mul(y1, len - 1), mul(mul(sub(y2, y1), (len - 1) / (size - 1)), f32(Array.from({ length: size }, (_, i) => i), shape)))
      : mul(add(y1, y2), 0.5 * (len - 1));
  const sy = grid(col(0), col(2), ch!, h, [1, ch!, 1]); // [n, ch, 1]
  const sx = grid(col(1), col(3), cw!, w, [1, 1, cw!]); // [n, 1, cw]
  const valid = logicalAnd(logicalAnd(ge(sy, 0), le(sy, h - 1)), logicalAnd(ge(sx, 0), le(sx, w - 1))); // [n, ch, cw]
  const pixels = reshape(gather(x, boxIndices, 0), [-1, h * w, c]);
  const clampTo = (v: Tensor, len: number) => minimum(maximum(v, 0), len - 1);
  const read = (iy: Tensor, ix: Tensor) => batchGather(pixels, reshape(cast(add(mul(clampTo(iy, h), w), clampTo(ix, w)), 'int32'), [-1, ch! * cw!]));
  let out: Tensor;
  if (method === 'nearest') {
    const round = (v: Tensor) => mul(sign(v), floor(add(abs(v), 0.5)));
    out = read(round(sy), round(sx));
  } else {
    const [y0, x0] = [floor(sy), floor(sx)];
    const [ly, lx] = [reshape(add(sub(sy, y0), mul(sx, 0)), [-1, ch! * cw!, 1]), reshape(add(sub(sx, x0), mul(sy, 0)), [-1, ch! * cw!, 1])];
    const [tl, tr, bl, br] = [read(y0, x0), read(y0, add(x0, 1)), read(add(y0, 1), x0), read(add(y0, 1), add(x0, 1))];
    const top = add(tl, mul(sub(tr, tl), lx));
    const bottom = add(bl, mul(sub(br, bl), lx));
    out = add(top, mul(sub(bottom, top), ly));
  }
  const masked = where(reshape(valid, [-1, ch! * cw!, 1]), out, extrapolationValue);
  return reshape(masked, [-1, ch!, cw!, c]);
}
