// Counter-based uniform draws, bit for bit compiler/random.ts (mix32, bitsAt,
// stepStream, uniform24At) and the randomUniform op of compiler/ops/random.ts:
// element i of step `step` of seed `seed` is the top 24 bits of bitsAt(stream, i)
// times 2^-24. All arithmetic is u32 and wraps, as JS's Math.imul and ToInt32 do;
// the result is exact in f32, so there is no rounding to agree on. One variant:
// the loop is a handful of multiplies per element and never a hot spot.

// @ts-ignore: decorator
@inline function mix32(h: u32): u32 {
  // murmur3's finaliser
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  h ^= h >>> 16;
  return h;
}

/** n uniforms in [0, 1) on the f32 grid k·2^-24 for stream (seed, step), written to `out` (a byte offset). */
export function f32_random_uniform__scalar(n: i32, seed: u32, step: u32, out: usize): void {
  const stream: u32 = seed ^ mix32(step + 0x632be5ab);
  for (let i = 0; i < n; i++) {
    const c = <u32>i;
    const a = mix32((stream ^ 0x9e3779b9) + c * 0x9e3779b9);
    const b = mix32(a ^ ((c + 0x7f4a7c15) * 0x85ebca6b) ^ stream);
    store<f32>(out + (<usize>i << 2), <f32>(b >>> 8) * <f32>(1.0 / 16777216.0));
  }
}
