/**
 * @file A seeded counter-based generator: value i of stream `seed` is a pure
 * function of (seed, i), so draws are reproducible and splittable by offset.
 */

function mix32(h: number): number {
  // murmur3's finaliser: every input bit affects every output bit
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1) with 32 random bits, for draw `counter` of stream `seed`. */
export function uniformAt(seed: number, counter: number): number {
  const a = mix32((seed ^ 0x9e3779b9) + Math.imul(counter, 0x9e3779b9));
  const b = mix32(a ^ Math.imul(counter + 0x7f4a7c15, 0x85ebca6b) ^ seed);
  return b / 4294967296;
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

let fallbackSeed = 0x2545f491;
/** A fresh seed for calls that did not pass one. */
export function nextSeed(): number {
  fallbackSeed = mix32(fallbackSeed + 0x6d2b79f5);
  return fallbackSeed;
}
