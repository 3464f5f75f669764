/**
 * @file A seeded counter-based generator: value i of stream `seed` is a pure
 * function of (seed, i), so draws are reproducible and splittable by offset.
 */
import { KilnError } from './errors.js';

function mix32(h: number): number {
  // murmur3's finaliser: every input bit affects every output bit
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * 32 random bits (a uint32) for draw `counter` of stream `seed`. Only 32-bit
 * integer arithmetic (sums wrap as `mix32`'s ToInt32 reads them), so
 * `runtime-as/random.ts` reproduces it bit for bit.
 */
export function bitsAt(seed: number, counter: number): number {
  const a = mix32((seed ^ 0x9e3779b9) + Math.imul(counter, 0x9e3779b9));
  return mix32(a ^ Math.imul(counter + 0x7f4a7c15, 0x85ebca6b) ^ seed);
}

/** Uniform in [0, 1) with 32 random bits, for draw `counter` of stream `seed`. */
export function uniformAt(seed: number, counter: number): number {
  return bitsAt(seed, counter) / 4294967296;
}

/** The stream of step `step` (a uint32) of seed `seed`: consecutive steps draw unrelated values. */
export function stepStream(seed: number, step: number): number {
  return (seed ^ mix32(step + 0x632be5ab)) >>> 0;
}

/** Uniform in [0, 1) on the float32 grid: the top 24 bits of `bitsAt`, so exact in float32 and never 1. */
export function uniform24At(seed: number, counter: number): number {
  return (bitsAt(seed, counter) >>> 8) / 16777216;
}

export function uniforms(n: number, seed: number, offset = 0): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => uniformAt(seed, offset + i));
}

/** Standard normal draws by Box–Muller over pairs of uniforms. */
export function normals(n: number, seed: number, offset = 0): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - uniformAt(seed, offset + 2 * i); // (0, 1]: log stays finite
    const v = uniformAt(seed, offset + 2 * i + 1);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

const INITIAL_SEED = 0x2545f491;
let fallbackSeed = INITIAL_SEED;

/**
 * Restarts the stream that every call without a seed draws from (initializers,
 * dropout, random layers, shuffles, random tensors), so a run repeats bit for bit
 * in one process, as Keras's `keras.utils.set_random_seed` and PyTorch's
 * `torch.manual_seed` do.
 * @example kiln.utils.setRandomSeed(42); // or kiln.manualSeed(42)
 */
export function setRandomSeed(seed: number): void {
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new KilnError(`setRandomSeed: expected an integer seed, got ${typeof seed === 'number' ? seed : typeof seed}.`);
  fallbackSeed = mix32((seed ^ INITIAL_SEED) >>> 0);
}

/** A fresh seed for calls that did not pass one. */
export function nextSeed(): number {
  fallbackSeed = mix32(fallbackSeed + 0x6d2b79f5);
  return fallbackSeed;
}

/**
 * A seeded permutation of 0 … n − 1 (Fisher–Yates over the counter-based
 * stream): the same order for the same seed on every platform.
 * @example permutation(5, 42) // Int32Array [3, 0, 4, 1, 2] (for instance)
 */
export function permutation(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniformAt(seed, i) * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
