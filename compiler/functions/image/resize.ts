/**
 * @file tf.image.resize (TF2): each axis resampled on its own by a fixed set of
 * taps (source indices and weights computed on the host from the sizes), read
 * with gather and summed, so a resize is a few gathers and multiply-adds per
 * axis: compiled, batched and differentiable. Methods and their TF kernels:
 * - nearest: half-pixel centres, floor((i + ½)·scale) (ResizeNearestNeighbor).
 * - bilinear: half-pixel centres, edge-clamped (ResizeBilinear).
 * - bicubic: half-pixel centres, Keys' cubic with a = −½ at the offset rounded to
 *   1/1024 (TF's coefficient table), taps outside the image dropped and the rest
 *   renormalised (ResizeBicubic with half_pixel_centers).
 * - area: each output averages the input over its footprint [i·scale, (i+1)·scale),
 *   partial pixels by their covered fraction (ResizeArea).
 * - antialias (bilinear, bicubic): ScaleAndTranslate's 'triangle' / 'keyscubic'
 *   kernels stretched by the downscale factor, so every input pixel counts.
 */
import { Tensor } from '../../tensor.js';
import { formatType } from '../../types.js';
import { add, cast, mul } from '../elementwise.js';
import { expandDims, gather, squeeze } from '../movement.js';
import { checkTensor, fail } from '../util.js';

export type ResizeMethod = 'bilinear' | 'nearest' | 'bicubic' | 'area';
/** The methods resize accepts. @example kiln.image.resize(x, [32, 32], { method: 'area' }) */
export const RESIZE_METHODS: readonly ResizeMethod[] = ['bilinear', 'nearest', 'bicubic', 'area'];

export interface ResizeOptions {
  /** 'bilinear' (default), 'nearest', 'bicubic' or 'area'. */
  method?: ResizeMethod;
  /** When downscaling with 'bilinear' or 'bicubic', widen the kernel so every input pixel contributes (TF's antialias). */
  antialias?: boolean;
}

/** For each output position, source indices and their weights. */
type Taps = { index: number[]; weight: number[] }[];

const keys = (x: number): number => {
  const d = Math.abs(x);
  return d >= 2 ? 0 : d >= 1 ? ((-0.5 * d + 2.5) * d - 4) * d + 2 : (1.5 * d - 2.5) * d * d + 1;
};
const triangle = (x: number): number => Math.max(0, 1 - Math.abs(x));

function normalised(index: number[], weight: number[]): Taps[number] {
  const total = weight.reduce((a, b) => a + b, 0);
  return { index, weight: Math.abs(total) > 1e-30 ? weight.map((w) => w / total) : weight };
}

/** TF's ScaleAndTranslate taps (translate 0) for a kernel of `radius`. */
function kernelTaps(input: number, out: number, kernel: (x: number) => number, radius: number, antialias: boolean): Taps {
  const inv = input / out;
  const ks = antialias ? Math.max(inv, 1) : 1;
  return Array.from({ length: out }, (_, i) => {
    const sample = (i + 0.5) * inv;
    const start = Math.min(Math.max(Math.ceil(sample - radius * ks - 0.5), 0), input - 1);
    const end = Math.min(Math.max(Math.floor(sample + radius * ks - 0.5), 0), input - 1) + 1;
    const index: number[] = [];
    const weight: number[] = [];
    for (let s = start; s < end; s++) {
      index.push(s);
      weight.push(kernel((s + 0.5 - sample) / ks));
    }
    return normalised(index, weight);
  });
}

function bicubicTaps(input: number, out: number): Taps {
  const scale = input / out;
  return Array.from({ length: out }, (_, i) => {
    const src = (i + 0.5) * scale - 0.5;
    const base = Math.floor(src);
    const delta = Math.round((src - base) * 1024) / 1024; // TF reads its 1024-entry coefficient table
    const index: number[] = [];
    const weight: number[] = [];
    for (let k = -1; k <= 2; k++) {
      const s = base + k;
      if (s < 0 || s >= input) continue; // TF zeroes taps outside and renormalises
      index.push(s);
      weight.push(keys(k - delta));
    }
    return normalised(index, weight);
  });
}

function areaTaps(input: number, out: number): Taps {
  const scale = input / out;
  return Array.from({ length: out }, (_, i) => {
    const [lo, hi] = [i * scale, (i + 1) * scale];
    const index: number[] = [];
    const weight: number[] = [];
    for (let s = Math.floor(lo); s < Math.ceil(hi); s++) {
      index.push(Math.min(s, input - 1));
      weight.push((Math.min(s + 1, hi) - Math.max(s, lo)) / scale);
    }
    return { index, weight };
  });
}

function bilinearTaps(input: number, out: number): Taps {
  const scale = input / out;
  return Array.from({ length: out }, (_, i) => {
    const src = Math.max(0, (i + 0.5) * scale - 0.5);
    const l = Math.min(Math.floor(src), input - 1);
    return { index: [l, Math.min(l + 1, input - 1)], weight: [1 - (src - l), src - l] };
  });
}

function nearestTaps(input: number, out: number): Taps {
  const scale = input / out;
  return Array.from({ length: out }, (_, i) => ({ index: [Math.min(Math.floor((i + 0.5) * scale), input - 1)], weight: [1] }));
}

function taps(method: ResizeMethod, input: number, out: number, antialias: boolean): Taps {
  if (method === 'nearest') return nearestTaps(input, out);
  if (method === 'area') return areaTaps(input, out);
  if (method === 'bilinear') return antialias ? kernelTaps(input, out, triangle, 1, true) : bilinearTaps(input, out);
  // with antialias TF always resamples by ScaleAndTranslate (exact kernel weights), which only widens the kernel when downscaling
  return antialias ? kernelTaps(input, out, keys, 2, true) : bicubicTaps(input, out);
}

/** Resamples axis `axis` (1: height, 2: width) to `out` positions: Σₖ gather(x, index[:, k]) · weight[:, k]. */
function resizeAxis(x: Tensor, axis: 1 | 2, out: number, method: ResizeMethod, antialias: boolean): Tensor {
  const input = x.type.shape[axis] as number;
  if (input === out) return x;
  const t = taps(method, input, out, antialias);
  const k = Math.max(...t.map((r) => r.index.length));
  const shape = axis === 1 ? [1, out, 1, 1] : [1, 1, out, 1];
  let sum: Tensor | undefined;
  for (let j = 0; j < k; j++) {
    const index = Int32Array.from(t, (r) => r.index[j] ?? r.index[0]!);
    const weight = Float32Array.from(t, (r) => r.weight[j] ?? 0);
    const g = gather(x, Tensor.concrete({ dtype: 'int32', shape: [out], data: index }), axis);
    const term = weight.every((w) => w === 1) ? g : mul(g, Tensor.concrete({ dtype: 'float32', shape, data: weight }));
    sum = sum ? add(sum, term) : term;
  }
  return sum!;
}

/**
 * Resizes images to `[height, width]`, as TF2's tf.image.resize: 'bilinear'
 * (default), 'nearest', 'bicubic' (Keys, a = −½) or 'area', half-pixel centres;
 * `antialias` widens bilinear and bicubic kernels when downscaling.
 * @example kiln.image.resize(batch, [224, 224], { method: 'bicubic', antialias: true })
 */
export function resize(images: Tensor, sizeHW: readonly [number, number], options: ResizeOptions = {}): Tensor {
  const op = 'image.resize';
  const [height, width] = Array.isArray(sizeHW) ? sizeHW : [];
  if (!Number.isInteger(height) || !Number.isInteger(width) || height! < 1 || width! < 1) fail(op, `expected size [height, width] of positive integers, got ${JSON.stringify(sizeHW)}`);
  const { method = 'bilinear', antialias = false } = options;
  if (!RESIZE_METHODS.includes(method)) fail(op, `expected method ${RESIZE_METHODS.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(method)}`);
  if (typeof antialias !== 'boolean') fail(op, `expected antialias to be a boolean, got ${JSON.stringify(antialias)}`);
  checkTensor(op, images, 'images');
  if (images.rank !== 3 && images.rank !== 4) fail(op, `expected images [batch, height, width, channels] or one [height, width, channels], got ${formatType(images.type)}`);
  const x = images.dtype === 'float32' ? images : cast(images, 'float32');
  const x4 = images.rank === 3 ? expandDims(x, 0) : x;
  for (const axis of [1, 2]) if (typeof x4.type.shape[axis] !== 'number') fail(op, `expected a static image size, got ${formatType(images.type)}`);
  const out = resizeAxis(resizeAxis(x4, 1, height!, method, antialias), 2, width!, method, antialias);
  return images.rank === 3 ? squeeze(out, 0) : out;
}
