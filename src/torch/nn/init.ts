/**
 * `kiln.nn.init`: PyTorch's initialisers, seeded (the same seed gives the same
 * values in Node and in browsers). Each writes into a parameter and returns it.
 * @example kiln.nn.init.kaimingUniform_(layer.weight, { seed: 0 });
 */
import { userError } from '../../../compiler/errors.js';
import { nextSeed, normals, uniforms } from '../../../compiler/random.js';
import { captureOrigin } from '../../../compiler/source.js';
import { Tensor } from '../../../compiler/tensor.js';
import { storageOf } from '../tensors.js';

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Uniform in ±1/sqrt(fanIn): PyTorch's default for Linear and Conv weights and biases. */
export function fanUniform(shape: readonly number[], fanIn: number, seed: number): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return Tensor.concrete({ dtype: 'float32', shape: [...shape], data: Float32Array.from(uniforms(sizeOf(shape), seed), (u) => (2 * u - 1) * bound) });
}

/** fan_in and fan_out of a weight in PyTorch's layout ([out, in, ...kernel]). */
export function fans(shape: readonly number[]): [number, number] {
  if (shape.length < 2) throw userError('nn.init', `fans need a weight of rank >= 2, got rank ${shape.length}`, captureOrigin());
  const receptive = sizeOf(shape.slice(2));
  return [shape[1]! * receptive, shape[0]! * receptive];
}

function write(t: Tensor, values: ArrayLike<number>): Tensor {
  storageOf(t, 'nn.init').write({ dtype: 'float32', shape: t.shape as number[], data: Float32Array.from(values) });
  return t;
}

const gains: Record<string, (a: number) => number> = {
  linear: () => 1, sigmoid: () => 1, conv2d: () => 1, tanh: () => 5 / 3, relu: () => Math.SQRT2,
  leaky_relu: (a) => Math.sqrt(2 / (1 + a * a)), selu: () => 3 / 4,
};

/** The recommended gain for a nonlinearity ('relu' → √2, 'tanh' → 5/3, 'leaky_relu' with its slope). */
export function calculateGain(nonlinearity: string, param = 0.01): number {
  const g = gains[nonlinearity];
  if (!g) throw userError('nn.init.calculateGain', `unknown nonlinearity "${nonlinearity}"; known: ${Object.keys(gains).join(', ')}`, captureOrigin());
  return g(param);
}

export interface InitOptions { seed?: number }

export const uniform_ = (t: Tensor, a = 0, b = 1, o: InitOptions = {}) => write(t, Array.from(uniforms(t.size, o.seed ?? nextSeed()), (u) => a + (b - a) * u));
export const normal_ = (t: Tensor, mean = 0, std = 1, o: InitOptions = {}) => write(t, Array.from(normals(t.size, o.seed ?? nextSeed()), (z) => mean + std * z));
export const constant_ = (t: Tensor, value: number) => write(t, new Float64Array(t.size).fill(value));
export const zeros_ = (t: Tensor) => constant_(t, 0);
export const ones_ = (t: Tensor) => constant_(t, 1);

export function xavierUniform_(t: Tensor, o: InitOptions & { gain?: number } = {}): Tensor {
  const [fi, fo] = fans(t.shape as number[]);
  const bound = (o.gain ?? 1) * Math.sqrt(6 / (fi + fo));
  return uniform_(t, -bound, bound, o);
}
export function xavierNormal_(t: Tensor, o: InitOptions & { gain?: number } = {}): Tensor {
  const [fi, fo] = fans(t.shape as number[]);
  return normal_(t, 0, (o.gain ?? 1) * Math.sqrt(2 / (fi + fo)), o);
}

export interface KaimingOptions extends InitOptions { a?: number; mode?: 'fanIn' | 'fanOut'; nonlinearity?: string }
const kaimingStd = (t: Tensor, o: KaimingOptions) => {
  const [fi, fo] = fans(t.shape as number[]);
  return calculateGain(o.nonlinearity ?? 'leaky_relu', o.a ?? 0) / Math.sqrt(o.mode === 'fanOut' ? fo : fi);
};
export function kaimingUniform_(t: Tensor, o: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, o);
  return uniform_(t, -bound, bound, o);
}
export const kaimingNormal_ = (t: Tensor, o: KaimingOptions = {}) => normal_(t, 0, kaimingStd(t, o), o);
