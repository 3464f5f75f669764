/**
 * Host-side affine resampling of one [height, width, channels] image, as Keras's
 * ImageDataGenerator does it with scipy.ndimage.affine_transform (order 1): the
 * output pixel (r, c) takes the bilinear value of the input at M·(r, c) + offset,
 * where M composes rotation, shift, shear and zoom about the image centre.
 */
import { KilnError } from '../../compiler/errors.js';

export interface AffineParams {
  /** Rotation in degrees (counter-clockwise). */
  theta: number;
  /** Shift along rows (height) and columns (width), in pixels. */
  tx: number;
  ty: number;
  /** Shear angle in degrees. */
  shear: number;
  /** Zoom along rows and columns (> 1 shows less of the image). */
  zx: number;
  zy: number;
}

export type FillMode = 'nearest' | 'constant';

type Matrix = [number, number, number, number, number, number, number, number, number];
const mul = (a: Matrix, b: Matrix): Matrix => {
  const out = new Array<number>(9).fill(0) as Matrix;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) out[i * 3 + j]! += a[i * 3 + k]! * b[k * 3 + j]!;
  return out;
};
const rad = (deg: number) => (deg * Math.PI) / 180;

/** The 3×3 matrix Keras's apply_affine_transform builds, offset to the centre of an h × w image; undefined for the identity. */
export function affineMatrix(p: AffineParams, h: number, w: number): Matrix | undefined {
  let m: Matrix | undefined;
  const then = (n: Matrix) => (m = m ? mul(m, n) : n);
  if (p.theta !== 0) then([Math.cos(rad(p.theta)), -Math.sin(rad(p.theta)), 0, Math.sin(rad(p.theta)), Math.cos(rad(p.theta)), 0, 0, 0, 1]);
  if (p.tx !== 0 || p.ty !== 0) then([1, 0, p.tx, 0, 1, p.ty, 0, 0, 1]);
  if (p.shear !== 0) then([1, -Math.sin(rad(p.shear)), 0, 0, Math.cos(rad(p.shear)), 0, 0, 0, 1]);
  if (p.zx !== 1 || p.zy !== 1) then([p.zx, 0, 0, 0, p.zy, 0, 0, 0, 1]);
  if (!m) return undefined;
  const ox = h / 2 - 0.5;
  const oy = w / 2 - 0.5;
  return mul(mul([1, 0, ox, 0, 1, oy, 0, 0, 1], m), [1, 0, -ox, 0, 1, -oy, 0, 0, 1]);
}

/** The image resampled through `m` (order-1 interpolation; outside the image: the nearest edge, or `cval`). */
export function resample(data: Float32Array, h: number, w: number, channels: number, m: Matrix, fillMode: FillMode, cval: number): Float32Array {
  if (fillMode !== 'nearest' && fillMode !== 'constant') throw new KilnError(`imageDataGenerator: expected fillMode 'nearest' or 'constant', got ${JSON.stringify(fillMode)}.`);
  const out = new Float32Array(data.length);
  const eps = 1e-9; // coordinates a rounding error outside the edge are still inside (as scipy treats them)
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      let y = m[0] * r + m[1] * c + m[2];
      let x = m[3] * r + m[4] * c + m[5];
      const o = (r * w + c) * channels;
      if (fillMode === 'constant' && (y < -eps || y > h - 1 + eps || x < -eps || x > w - 1 + eps)) {
        out.fill(cval, o, o + channels);
        continue;
      }
      y = Math.min(Math.max(y, 0), h - 1);
      x = Math.min(Math.max(x, 0), w - 1);
      const y0 = Math.floor(y);
      const x0 = Math.floor(x);
      const y1 = Math.min(y0 + 1, h - 1);
      const x1 = Math.min(x0 + 1, w - 1);
      const fy = y - y0;
      const fx = x - x0;
      for (let k = 0; k < channels; k++) {
        const at = (yy: number, xx: number) => data[(yy * w + xx) * channels + k]!;
        out[o + k] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1));
      }
    }
  }
  return out;
}
