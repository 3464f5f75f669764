/**
 * @file `kiln.image`: tf.image's operations on NHWC images ([batch, height,
 * width, channels], or one [height, width, channels]) as composites of graph
 * ops (gather, slice, reductions, elementwise), so they run compiled, batched
 * and differentiable like any op. Resizing (image/resize.ts) uses TF2's half-pixel centres; geometry
 * (image/geometry.ts), colour (image/color.ts) and crops (image/crop.ts) have
 * their own files.
 */
import { Tensor } from '../tensor.js';
import { formatType } from '../types.js';
import { add, cast, div, maximum, minimum, mul, sqrt, sub } from './elementwise.js';
import { expandDims, gather, slice, squeeze, tile, transpose } from './movement.js';
import { mean, sum } from './reduce.js';
import { checkTensor, fail } from './util.js';

const int32 = (values: number[]) => Tensor.concrete({ dtype: 'int32', shape: [values.length], data: Int32Array.from(values) });
const float32 = (values: number[], shape: number[]) => Tensor.concrete({ dtype: 'float32', shape, data: Float32Array.from(values) });

/** `fn` applied to images as a batch: a single [h, w, c] image gets a batch of one and loses it again. */
function batched(op: string, images: Tensor, fn: (x: Tensor) => Tensor): Tensor {
  checkTensor(op, images, 'images');
  if (images.rank !== 3 && images.rank !== 4) fail(op, `expected images [batch, height, width, channels] or one [height, width, channels], got ${formatType(images.type)}`);
  const x = images.dtype === 'float32' ? images : cast(images, 'float32');
  return images.rank === 3 ? squeeze(fn(expandDims(x, 0)), 0) : fn(x);
}

/** The static size of axis `axis` of x, or an error naming the op. */
function size(op: string, x: Tensor, axis: number): number {
  const d = x.type.shape[axis];
  if (typeof d !== 'number') fail(op, `expected a static image size, got ${formatType(x.type)}`);
  return d as number;
}

const reversed = (n: number) => int32(Array.from({ length: n }, (_, i) => n - 1 - i));

/** Mirrors images left to right. @example kiln.image.flipLeftRight(batch) */
export const flipLeftRight = (images: Tensor): Tensor => batched('image.flipLeftRight', images, (x) => gather(x, reversed(size('image.flipLeftRight', x, 2)), 2));

/** Mirrors images top to bottom. @example kiln.image.flipUpDown(batch) */
export const flipUpDown = (images: Tensor): Tensor => batched('image.flipUpDown', images, (x) => gather(x, reversed(size('image.flipUpDown', x, 1)), 1));

/** Rotates images by k × 90° counter-clockwise, as tf.image.rot90. @example kiln.image.rot90(batch, 1) */
export function rot90(images: Tensor, k = 1): Tensor {
  if (!Number.isInteger(k)) fail('image.rot90', `expected an integer k, got ${k}`);
  return batched('image.rot90', images, (x) => {
    let out = x;
    for (let i = 0; i < (((k % 4) + 4) % 4); i++) out = transpose(gather(out, reversed(size('image.rot90', out, 2)), 2), [0, 2, 1, 3]);
    return out;
  });
}

/** The central `fraction` of each image, as tf.image.central_crop. @example kiln.image.centralCrop(batch, 0.5) */
export function centralCrop(images: Tensor, fraction: number): Tensor {
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction <= 1)) fail('image.centralCrop', `expected fraction in (0, 1], got ${fraction}`);
  return batched('image.centralCrop', images, (x) => {
    const [h, w] = [size('image.centralCrop', x, 1), size('image.centralCrop', x, 2)];
    const top = Math.trunc((h - h * fraction) / 2);
    const left = Math.trunc((w - w * fraction) / 2);
    return slice(x, [0, top, left, 0], [-1, h - 2 * top, w - 2 * left, -1]);
  });
}

/** Crops each image to a box, as tf.image.crop_to_bounding_box. */
export function cropToBoundingBox(images: Tensor, top: number, left: number, height: number, width: number): Tensor {
  return batched('image.cropToBoundingBox', images, (x) => {
    const [h, w] = [size('image.cropToBoundingBox', x, 1), size('image.cropToBoundingBox', x, 2)];
    if (![top, left, height, width].every(Number.isInteger) || top < 0 || left < 0 || height < 1 || width < 1 || top + height > h || left + width > w) {
      fail('image.cropToBoundingBox', `expected a box inside the ${h}×${w} image, got top ${top}, left ${left}, height ${height}, width ${width}`);
    }
    return slice(x, [0, top, left, 0], [-1, height, width, -1]);
  });
}

/** Adds `delta` to every value, as tf.image.adjust_brightness. */
export const adjustBrightness = (images: Tensor, delta: number): Tensor => batched('image.adjustBrightness', images, (x) => add(x, delta));

/** Scales each channel's distance from its per-image mean by `factor`, as tf.image.adjust_contrast. */
export const adjustContrast = (images: Tensor, factor: number): Tensor =>
  batched('image.adjustContrast', images, (x) => {
    const m = mean(x, [1, 2], true);
    return add(mul(sub(x, m), factor), m);
  });

/** RGB to one luma channel with tf.image's weights (0.2989, 0.5870, 0.1140). */
export const rgbToGrayscale = (images: Tensor): Tensor =>
  batched('image.rgbToGrayscale', images, (x) => {
    if (size('image.rgbToGrayscale', x, 3) !== 3) fail('image.rgbToGrayscale', `expected 3 channels, got ${formatType(x.type)}`);
    return sum(mul(x, float32([0.2989, 0.587, 0.114], [3])), -1, true);
  });

/** One channel repeated into three. */
export const grayscaleToRgb = (images: Tensor): Tensor =>
  batched('image.grayscaleToRgb', images, (x) => {
    if (size('image.grayscaleToRgb', x, 3) !== 1) fail('image.grayscaleToRgb', `expected 1 channel, got ${formatType(x.type)}`);
    return tile(x, [1, 1, 1, 3]);
  });

/** Each image to zero mean and unit variance: (x − mean) / max(std, 1/√N), as tf.image.per_image_standardization. */
export const perImageStandardization = (images: Tensor): Tensor =>
  batched('image.perImageStandardization', images, (x) => {
    const n = size('image.perImageStandardization', x, 1) * size('image.perImageStandardization', x, 2) * size('image.perImageStandardization', x, 3);
    const m = mean(x, [1, 2, 3], true);
    const centred = sub(x, m);
    const std = sqrt(mean(mul(centred, centred), [1, 2, 3], true));
    return div(centred, maximum(std, 1 / Math.sqrt(n)));
  });

/**
 * tf.image.convert_image_dtype with int32 standing for uint8 (values 0–255):
 * int32 → float32 multiplies by 1/255; float32 → int32 multiplies by 255.5 and
 * truncates (TF's rounding), clipping to [0, 255] first with `saturate` (else values
 * outside [0, 1] stay outside [0, 255]); the
 * same dtype is returned as is.
 * @example kiln.image.convertImageDtype(pixels, 'float32')   // 0–255 integers → 0–1
 */
export function convertImageDtype(images: Tensor, dtype: 'float32' | 'int32', options: { saturate?: boolean } = {}): Tensor {
  checkTensor('image.convertImageDtype', images, 'images');
  if (dtype !== 'float32' && dtype !== 'int32') fail('image.convertImageDtype', `expected dtype 'float32' or 'int32', got ${JSON.stringify(dtype)}`);
  if (images.dtype === 'bool') fail('image.convertImageDtype', `expected float32 or int32 images, got ${formatType(images.type)}`);
  if (images.dtype === dtype) return images;
  if (dtype === 'float32') return mul(cast(images, 'float32'), 1 / 255);
  const scaled = mul(images, 255.5);
  return cast(options.saturate ? minimum(maximum(scaled, 0), 255) : scaled, 'int32');
}

export { transform, rotate, translate, zoom, type TransformOptions, type FillMode, type Interpolation } from './image/geometry.js';

export { adjustHue, adjustSaturation } from './image/color.js';
export { cropAndResize, type CropAndResizeOptions } from './image/crop.js';

export { resize, RESIZE_METHODS, type ResizeMethod, type ResizeOptions } from './image/resize.js';
