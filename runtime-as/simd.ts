// SIMD helpers the kernels share.

/**
 * c + a·b, four lanes: two roundings (mul, then add) in the deterministic build,
 * one fused multiply-add where the module is built with relaxed SIMD
 * (`--enable relaxed-simd`: x86's FMA3, Arm's fmla where the engine has them;
 * results may then differ by engine and machine, which is why only the
 * non-deterministic build uses it).
 */
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}
