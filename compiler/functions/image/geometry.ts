/**
 * @file Geometric image ops with per-image parameters: `transform` (tf.image's
 * projective transform, TF's 8-parameter convention and fill modes as
 * ImageProjectiveTransformV3 has them) and on it `rotate`, `translate`, `zoom`
 * with Keras 3's matrices. Sampling is a per-image gather (`batchGather`), so it
 * runs compiled and batched, and bilinear sampling is differentiable in the image.
 */
import { Tensor } from '../../tensor.js';
import { formatType } from '../../types.js';
import { add, cast, cos, div, floor, ge, abs, logicalAnd, lt, maximum, minimum, mul, neg, sign, sin, sub, where } from '../elementwise.js';
import { batchGather, broadcastTo, concat, reshape, slice } from '../movement.js';
import { checkTensor, fail } from '../util.js';
import { checkOptions } from '../../check.js';

export type Interpolation = 'nearest' | 'bilinear';
export type FillMode = 'constant' | 'reflect' | 'wrap' | 'nearest';
/** The fill modes transform accepts. @example kiln.image.transform(x, t, { fillMode: 'wrap' }) */
export const FILL_MODES: readonly FillMode[] = ['constant', 'reflect', 'wrap', 'nearest'];

export interface TransformOptions {
  /** 'bilinear' (default) or 'nearest'. */
  interpolation?: Interpolation;
  /** How points outside the image are read: 'constant' (default, `fillValue`), 'reflect', 'wrap' or 'nearest', as Keras. */
  fillMode?: FillMode;
  /** The value of points outside the image in 'constant' mode (default 0). */
  fillValue?: number;
  /** The output's [height, width] (default the input's). */
  outputShape?: readonly [number, number];
}

const f32 = (values: number[], shape: number[]) => Tensor.concrete({ dtype: 'float32', shape, data: Float32Array.from(values) });

function staticSize(op: string, x: Tensor, axis: number): number {
  const d = x.type.shape[axis];
  if (typeof d !== 'number') fail(op, `expected a static image size, got ${formatType(x.type)}`);
  return d as number;
}

/** TF's map_coord: a float source coordinate folded into [0, len − 1] by the fill mode ('constant' leaves it alone). */
function mapCoordinate(c: Tensor, len: number, mode: FillMode): Tensor {
  if (mode === 'constant') return c;
  if (mode === 'nearest' || len <= 1) return maximum(minimum(c, len - 1), 0);
  if (mode === 'reflect') {
    // period 2·len, mirrored about the edges with the edge pixel repeated: d c b a | a b c d | d c b a
    const period = 2 * len;
    const t = sub(c, mul(floor(div(c, period)), period));
    const folded = where(ge(t, len), sub(period - 1, t), t);
    return maximum(minimum(folded, len - 1), 0);
  }
  // wrap, exactly as TF's kernel computes it (whole periods counted against len − 1)
  const below = add(c, mul(add(floor(div(neg(c), len - 1)), 1), len));
  const above = sub(c, mul(floor(div(c, len - 1)), len));
  const wrapped = where(lt(c, 0), below, where(lt(len - 1, c), above, c));
  return maximum(minimum(wrapped, len - 1), 0);
}

/** An index in [0, len) and whether the (integer-valued) coordinate was inside. */
function clampIndex(c: Tensor, len: number): { index: Tensor; inside: Tensor } {
  const inside = logicalAnd(ge(c, 0), lt(c, len));
  return { index: cast(maximum(minimum(c, len - 1), 0), 'int32'), inside };
}

/**
 * Applies a projective transform to each image, as tf.raw_ops.ImageProjectiveTransformV3
 * (keras.ops.image.affine_transform): `transforms` is [8] (all images) or
 * [batch, 8] rows [a0, a1, a2, b0, b1, b2, c0, c1] that map each OUTPUT pixel
 * (x, y) to the INPUT point ((a0·x + a1·y + a2) / k, (b0·x + b1·y + b2) / k),
 * k = c0·x + c1·y + 1, with pixel centres at integer coordinates. Bilinear
 * sampling is differentiable in the images.
 * @example kiln.image.transform(batch, kiln.tensor([1, 0, -3, 0, 1, 0, 0, 0]), { fillMode: 'constant' }) // shifts right by 3
 */
export function transform(images: Tensor, transforms: Tensor, options: TransformOptions = {}): Tensor {
  const op = 'image.transform';
  checkTensor(op, images, 'images');
  checkTensor(op, transforms, 'transforms');
  checkOptions(op, options, ['interpolation', 'fillMode', 'fillValue', 'outputShape']);
  const { interpolation = 'bilinear', fillMode = 'constant', fillValue = 0, outputShape } = options;
  if (interpolation !== 'bilinear' && interpolation !== 'nearest') fail(op, `expected interpolation 'bilinear' or 'nearest', got ${JSON.stringify(interpolation)}`);
  if (!FILL_MODES.includes(fillMode)) fail(op, `expected fillMode ${FILL_MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(fillMode)}`);
  if (typeof fillValue !== 'number' || !Number.isFinite(fillValue)) fail(op, `expected a finite fillValue, got ${JSON.stringify(fillValue)}`);
  if (images.rank !== 3 && images.rank !== 4) fail(op, `expected images [batch, height, width, channels] or one [height, width, channels], got ${formatType(images.type)}`);
  const single = images.rank === 3;
  const x4 = single ? reshape(images, [1, ...images.type.shape.map((d) => d as number)]) : images;
  const x = x4.dtype === 'float32' ? x4 : cast(x4, 'float32');
  const [h, w, c] = [staticSize(op, x, 1), staticSize(op, x, 2), staticSize(op, x, 3)];
  const [oh, ow] = outputShape ?? [h, w];
  if (!Number.isInteger(oh) || !Number.isInteger(ow) || oh < 1 || ow < 1) fail(op, `expected outputShape [height, width] of positive integers, got ${JSON.stringify(outputShape)}`);
  const ts = transforms.type.shape;
  const batch = x.type.shape[0]!;
  const okRows = ts.length === 1 ? ts[0] === 8 : ts.length === 2 && ts[1] === 8 && (ts[0] === 1 || ts[0] === batch);
  if (!okRows) fail(op, `expected transforms [8] or [batch, 8] for ${formatType(images.type)}, got ${formatType(transforms.type)}`);
  const t = ts.length === 1 ? reshape(transforms, [1, 8]) : transforms;
  const tf = t.dtype === 'float32' ? t : cast(t, 'float32');
  const col = (i: number) => reshape(slice(tf, [0, i], [-1, 1]), [-1, 1, 1]); // [B or 1, 1, 1]
  const xs = f32(Array.from({ length: ow }, (_, i) => i), [1, 1, ow]);
  const ys = f32(Array.from({ length: oh }, (_, i) => i), [1, oh, 1]);
  const k = add(add(mul(col(6), xs), mul(col(7), ys)), 1);
  const sx = mapCoordinate(div(add(add(mul(col(0), xs), mul(col(1), ys)), col(2)), k), w, fillMode);
  const sy = mapCoordinate(div(add(add(mul(col(3), xs), mul(col(4), ys)), col(5)), k), h, fillMode);
  const rows = ts.length === 2 && ts[0] === batch ? batch : 1;
  const pixels = reshape(x, [-1, h * w, c]);
  const gatherAt = (iy: Tensor, ix: Tensor) => {
    let idx = reshape(add(mul(iy, w), ix), [-1, oh * ow]);
    if (rows !== batch) idx = broadcastTo(idx, [batch === 'B' ? null : (batch as number), oh * ow]);
    return batchGather(pixels, idx);
  };
  const weightOf = (t: Tensor) => reshape(t, [-1, oh * ow, 1]);
  let out: Tensor;
  let coverage: Tensor | undefined; // the weight read from inside the image, for 'constant' fill
  if (interpolation === 'nearest') {
    // std::round: halves away from zero
    const round = (v: Tensor) => mul(sign(v), floor(add(abs(v), 0.5)));
    const cy = clampIndex(round(sy), h);
    const cx = clampIndex(round(sx), w);
    const inside = cast(logicalAnd(cy.inside, cx.inside), 'float32');
    out = mul(gatherAt(cy.index, cx.index), weightOf(inside));
    coverage = inside;
  } else {
    const y0 = floor(sy);
    const x0 = floor(sx);
    const [y1, x1] = [add(y0, 1), add(x0, 1)];
    const [wy1, wx1] = [sub(sy, y0), sub(sx, x0)];
    const [wy0, wx0] = [sub(y1, sy), sub(x1, sx)];
    const [cy0, cy1, cx0, cx1] = [clampIndex(y0, h), clampIndex(y1, h), clampIndex(x0, w), clampIndex(x1, w)];
    const corners: [typeof cy0, typeof cx0, Tensor][] = [[cy0, cx0, mul(wy0, wx0)], [cy0, cx1, mul(wy0, wx1)], [cy1, cx0, mul(wy1, wx0)], [cy1, cx1, mul(wy1, wx1)]];
    out = undefined as unknown as Tensor;
    for (const [cy, cx, weight] of corners) {
      const wv = mul(weight, cast(logicalAnd(cy.inside, cx.inside), 'float32'));
      const term = mul(gatherAt(cy.index, cx.index), weightOf(wv));
      out = out ? add(out, term) : term;
      coverage = coverage ? add(coverage, wv) : wv;
    }
  }
  if (fillMode === 'constant' && fillValue !== 0) out = add(out, weightOf(mul(sub(1, coverage!), fillValue)));
  const shaped = reshape(out, [-1, oh, ow, c]);
  return single ? reshape(shaped, [oh, ow, c]) : shaped;
}

type Sampling = Omit<TransformOptions, 'outputShape'>;

/** A [B, 1] angle / factor tensor, or a number, as a float32 [n, 1] column. */
function column(op: string, v: Tensor | number, what: string): Tensor {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail(op, `expected a finite ${what}, got ${v}`);
    return f32([v], [1, 1]);
  }
  checkTensor(op, v, what);
  if (v.rank > 1) fail(op, `expected ${what} as a number or a [batch] tensor, got ${formatType(v.type)}`);
  const t = v.dtype === 'float32' ? v : cast(v, 'float32');
  return reshape(t, [-1, 1]);
}

/**
 * Keras 3's rotation transforms about the image centre: rows [8] per angle (radians, counter-clockwise).
 * @example kiln.image.transform(x, rotationTransforms(kiln.tensor([[0.3]]), 28, 28))
 */
export function rotationTransforms(angles: Tensor, height: number, width: number): Tensor {
  const [c, s] = [cos(angles), sin(angles)];
  const xOffset = div(sub(width - 1, sub(mul(c, width - 1), mul(s, height - 1))), 2);
  const yOffset = div(sub(height - 1, add(mul(s, width - 1), mul(c, height - 1))), 2);
  const zero = mul(c, 0);
  return concat([c, neg(s), xOffset, s, c, yOffset, zero, zero], 1);
}

/**
 * Keras 3's zoom transforms about the image centre from [n, 1] zoom columns (> 1 shows more of the image).
 * @example kiln.image.transform(x, zoomTransforms(kiln.tensor([[1.2]]), kiln.tensor([[1.2]]), 28, 28))
 */
export function zoomTransforms(zx: Tensor, zy: Tensor, height: number, width: number): Tensor {
  const [x, y] = [add(zx, mul(zy, 0)), add(zy, mul(zx, 0))]; // both [n, 1]
  const zero = mul(x, 0);
  return concat([x, zero, mul(sub(1, x), (width - 1) / 2), zero, y, mul(sub(1, y), (height - 1) / 2), zero, zero], 1);
}

/**
 * Translation transforms from [n, 1] shifts in pixels (dx right, dy down).
 * @example kiln.image.transform(x, translationTransforms(kiln.tensor([[2]]), kiln.tensor([[-1]])))
 */
export function translationTransforms(dx: Tensor, dy: Tensor): Tensor {
  const zero = add(mul(dx, 0), mul(dy, 0));
  const one = add(zero, 1);
  return concat([one, zero, sub(zero, dx), zero, one, sub(zero, dy), zero, zero], 1);
}

function dims(op: string, images: Tensor): [number, number] {
  checkTensor(op, images, 'images');
  if (images.rank !== 3 && images.rank !== 4) fail(op, `expected images [batch, height, width, channels] or one [height, width, channels], got ${formatType(images.type)}`);
  const r = images.rank;
  return [staticSize(op, images, r - 3), staticSize(op, images, r - 2)];
}

/**
 * Rotates images counter-clockwise about their centres by `angles` radians (a
 * number, or one per image), as Keras's RandomRotation does for a drawn angle.
 * Options as `transform` (default fillMode 'constant').
 * @example kiln.image.rotate(batch, Math.PI / 6, { fillMode: 'reflect' })
 */
export function rotate(images: Tensor, angles: Tensor | number, options: Sampling = {}): Tensor {
  const [h, w] = dims('image.rotate', images);
  return transform(images, rotationTransforms(column('image.rotate', angles, 'angles'), h, w), options);
}

/**
 * Shifts images by `dx` pixels right and `dy` pixels down (numbers, or one per image).
 * @example kiln.image.translate(batch, 3, -2)
 */
export function translate(images: Tensor, dx: Tensor | number, dy: Tensor | number, options: Sampling = {}): Tensor {
  dims('image.translate', images);
  return transform(images, translationTransforms(column('image.translate', dx, 'dx'), column('image.translate', dy, 'dy')), options);
}

/**
 * Zooms about the image centre with Keras's convention: `zy`, `zx` scale the
 * source window, so values above 1 zoom out (show more) and below 1 zoom in.
 * @example kiln.image.zoom(batch, 0.8, 0.8) // 1.25× magnification
 */
export function zoom(images: Tensor, zy: Tensor | number, zx: Tensor | number = zy, options: Sampling = {}): Tensor {
  const [h, w] = dims('image.zoom', images);
  return transform(images, zoomTransforms(column('image.zoom', zx, 'zx'), column('image.zoom', zy, 'zy'), h, w), options);
}
