// Vectorised float32 math for generated elementwise loops: `f32x4_<fn>` (v128 → v128)
// in the loop body and `f32_<fn>` (f32 → f32) in its scalar tail.
//
// Contract: f32_<fn>(v) equals every lane of f32x4_<fn>(x) that holds v, bit for bit
// (NaN payloads aside), so a value never depends on its position in the array. Each
// scalar form is the vector form's operation sequence written on f32 (or f64) scalars:
// no FMA, no relaxed SIMD, and a branch in a scalar form only where the vector form
// selects. Code generation must call these, not Mathf, in both places.
//
// Max error against float64 over whole domains, denormals included (the test's inputs
// plus 8M random points each; the bound test/kernels/vmath.test.ts asserts in brackets):
// exp 0.98 ulp [1], expm1 1.38 [1.5], log 0.84 [1], log1p 0.83 [1], tanh 1.44 [1.5],
// sigmoid 1.92 [2], erf 1.11 [1.5], sin and cos 1.27 for every finite x [1.5], pow 0.50
// [1]; floor_mod is exact (exact fmod, then at most one rounded add, as the op table's
// reference does).
//
// Polynomial coefficients are minimax fits made for this file (Lawson-weighted least
// squares in float64, then rounded to f32 one coefficient at a time, refitting the rest).
// `f32_v<fn>__simd128` / `__scalar` map a whole array; tests and benchmarks use them.
//
// Clamps use pmin/pmax (`b < a ? b : a`, one instruction in V8) rather than min/max
// (NaN-propagating, about six): with the argument as the first operand a NaN passes
// through unchanged, so each lane still equals its scalar form (which clamps with
// min/max) — and the clamps only bound values far from zero, where −0 and +0 agree.
// Measured: f32x4_sigmoid about 28% faster.

const INF: f32 = Infinity;
const NAN: f32 = NaN;
const SIGN: i32 = 1 << 31;
const ONE: f32 = 1; // f32 literals for scalar code, where a bare `1 + x` would be f64
const TWO: f32 = 2;
const HALF: f32 = 0.5;
// Adding 1.5·2^23 rounds an f32 below 2^22 in magnitude to an integer (ties to even)
// and leaves that integer in the low mantissa bits, so no float→int conversion is needed.
const ROUND: f32 = 12582912.0;
const ROUND_BITS: i32 = 0x4b400000;
// The same trick for f64: 1.5·2^52.
const ROUND64: f64 = 6755399441055744.0;
const ROUND64_BITS: i64 = 0x4338000000000000;

// @ts-ignore: decorator
@inline function f4(c: f32): v128 { return f32x4.splat(c); }
// @ts-ignore: decorator
@inline function i4(c: i32): v128 { return i32x4.splat(c); }
// @ts-ignore: decorator
@inline function d2(c: f64): v128 { return f64x2.splat(c); }
/** a·b + c, rounded twice (Horner step). */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: f32): v128 { return f32x4.add(f32x4.mul(a, b), f32x4.splat(c)); }
// @ts-ignore: decorator
@inline function madd2(a: v128, b: v128, c: f64): v128 { return f64x2.add(f64x2.mul(a, b), f64x2.splat(c)); }
/** 2^k for integer lanes −126 ≤ k ≤ 127. */
// @ts-ignore: decorator
@inline function pow2v(k: v128): v128 { return i32x4.shl(i32x4.add(k, i4(127)), 23); }
// @ts-ignore: decorator
@inline function pow2(k: i32): f32 { return reinterpret<f32>((k + 127) << 23); }
/** y with the sign of x: for odd functions computed on |x|. */
// @ts-ignore: decorator
@inline function copysignv(y: v128, x: v128): v128 { return v128.or(y, v128.and(x, i4(SIGN))); }
// @ts-ignore: decorator
@inline function copysign1(y: f32, x: f32): f32 { return reinterpret<f32>(reinterpret<i32>(y) | (reinterpret<i32>(x) & SIGN)); }
/** f64x2 halves → f32x4: lanes 0, 1 of each. */
// @ts-ignore: decorator
@inline function joinHalves(lo: v128, hi: v128): v128 { return i32x4.shuffle(lo, hi, 0, 1, 4, 5); }
// @ts-ignore: decorator
@inline function highHalf(x: v128): v128 { return i32x4.shuffle(x, x, 2, 3, 2, 3); }

// ---- exp, expm1 -------------------------------------------------------------------
// x = k·ln2 + r with k = nearest(x/ln2), |r| ≤ ln2/2 (Cody–Waite: k·LN2_HI is exact as
// LN2_HI has 9 significant bits and |k| ≤ 150); e^r − 1 = r + r²·P(r), P of degree 4.
const LOG2E: f32 = 1.4426950216293335;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -0.00021219444170128554;
const EXP_HI: f32 = 89.0; // e^89 overflows; keeps k ≤ 128
const EXP_LO: f32 = -104.0; // e^−104 rounds to 0; keeps k ≥ −150
const EXPM1_LO: f32 = -30.0; // expm1(−30) rounds to −1
const P0: f32 = 0.4999999701976776;
const P1: f32 = 0.1666654646396637;
const P2: f32 = 0.04166743531823158;
const P3: f32 = 0.008366258814930916;
const P4: f32 = 0.001387064578011632;
// expm1 keeps k = 0 up to |x| < 0.52 (not ln2/2): with k = ±1, r near ∓ln2/2 the error of
// em would be comparable to the result; so its own fit on |r| ≤ 0.52, degree 5.
const EXPM1_K0: f32 = 0.52;
const M0: f32 = 0.5000000596046448;
const M1: f32 = 0.1666666865348816;
const M2: f32 = 0.04166502505540848;
const M3: f32 = 0.008333064615726471;
const M4: f32 = 0.001400745240971446;
const M5: f32 = 0.00019982026424258947;

// @ts-ignore: decorator
@inline function expPoly(r: v128): v128 {
  const p = madd(madd(madd(madd(f4(P4), r, P3), r, P2), r, P1), r, P0);
  return f32x4.add(r, f32x4.mul(f32x4.mul(r, r), p));
}
// @ts-ignore: decorator
@inline function expPoly1(r: f32): f32 {
  const p = (((P4 * r + P3) * r + P2) * r + P1) * r + P0;
  return r + (r * r) * p;
}
// @ts-ignore: decorator
@inline function expm1Poly(r: v128): v128 {
  const p = madd(madd(madd(madd(madd(f4(M5), r, M4), r, M3), r, M2), r, M1), r, M0);
  return f32x4.add(r, f32x4.mul(f32x4.mul(r, r), p));
}
// @ts-ignore: decorator
@inline function expm1Poly1(r: f32): f32 {
  const p = ((((M5 * r + M4) * r + M3) * r + M2) * r + M1) * r + M0;
  return r + (r * r) * p;
}

/** e^x: 2^k·(1 + expm1(r)), with 2^k applied as 2^(k−k/2)·2^(k/2) so that denormal results (k down to −150) round once and k = 128 does not overflow early. */
// @ts-ignore: decorator
@inline export function f32x4_exp(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f4(EXP_LO)), f4(EXP_HI)); // NaN stays NaN (x is pmin/pmax's first operand)
  const t = f32x4.add(f32x4.mul(x, f4(LOG2E)), f4(ROUND));
  const k = f32x4.sub(t, f4(ROUND));
  const ki = i32x4.sub(t, i4(ROUND_BITS));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(k, f4(LN2_HI))), f32x4.mul(k, f4(LN2_LO)));
  const p = f32x4.add(f4(1), expPoly(r));
  const k1 = i32x4.shr_s(ki, 1);
  return f32x4.mul(f32x4.mul(p, pow2v(k1)), pow2v(i32x4.sub(ki, k1)));
}
// @ts-ignore: decorator
@inline export function f32_exp(x: f32): f32 {
  x = min<f32>(max<f32>(x, EXP_LO), EXP_HI);
  const t = x * LOG2E + ROUND;
  const k = t - ROUND;
  const ki = reinterpret<i32>(t) - ROUND_BITS;
  const r = (x - k * LN2_HI) - k * LN2_LO;
  const p = ONE + expPoly1(r);
  const k1 = ki >> 1;
  return (p * pow2(k1)) * pow2(ki - k1);
}

/** e^x − 1 = 2^k2·(2^k1·em + (2^k1 − 2^−k2)) with k = k1 + k2, em = expm1(r): one rounding at the end, and no 2^k that overflows. */
// @ts-ignore: decorator
@inline export function f32x4_expm1(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, f4(EXPM1_LO)), f4(EXP_HI));
  const t = v128.bitselect(f4(ROUND), f32x4.add(f32x4.mul(xc, f4(LOG2E)), f4(ROUND)), f32x4.lt(f32x4.abs(x), f4(EXPM1_K0)));
  const k = f32x4.sub(t, f4(ROUND));
  const ki = i32x4.sub(t, i4(ROUND_BITS));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(k, f4(LN2_HI))), f32x4.mul(k, f4(LN2_LO)));
  const em = expm1Poly(r);
  const k1 = i32x4.shr_s(ki, 1);
  const k2 = i32x4.sub(ki, k1);
  const s1 = pow2v(k1);
  const y = f32x4.mul(f32x4.add(f32x4.mul(s1, em), f32x4.sub(s1, pow2v(i32x4.neg(k2)))), pow2v(k2));
  return v128.bitselect(x, y, f32x4.eq(x, f4(0))); // expm1(−0) = −0
}
// @ts-ignore: decorator
@inline export function f32_expm1(x: f32): f32 {
  const xc = min<f32>(max<f32>(x, EXPM1_LO), EXP_HI);
  const t = select<f32>(ROUND, xc * LOG2E + ROUND, abs<f32>(x) < EXPM1_K0);
  const k = t - ROUND;
  const ki = reinterpret<i32>(t) - ROUND_BITS;
  const r = (xc - k * LN2_HI) - k * LN2_LO;
  const em = expm1Poly1(r);
  const k1 = ki >> 1;
  const k2 = ki - k1;
  const s1 = pow2(k1);
  const y = (s1 * em + (s1 - pow2(-k2))) * pow2(k2);
  return select<f32>(x, y, x == 0);
}

// ---- log, log1p -------------------------------------------------------------------
// x = 2^k·(1 + f) with 1 + f in [√½, √2); s = f/(2 + f), ln(1 + f) = 2·atanh(s) =
// f − hfsq + s·(hfsq + R(s²)) with hfsq = f²/2, R(z) = z·(L0 + L1 z + L2 z²); k·ln2 is
// added in two pieces (k·LOG_LN2_HI is exact: 16 bits times |k| ≤ 152).
const LOG_LN2_HI: f32 = 0.693145751953125;
const LOG_LN2_LO: f32 = 1.428606765330187e-06;
const L0: f32 = 0.6666677594184875;
const L1: f32 = 0.39977580308914185;
const L2: f32 = 0.29870927333831787;
const SQRT_HALF_BITS: i32 = 0x3f3504f3;
const MIN_NORMAL: f32 = 1.1754943508222875e-38;
const LOG1P_TINY: f32 = 5.960464477539063e-08; // 2^−24: below it log1p(x) rounds to x

/** ln(1 + f) + k·ln 2 + c, c a small correction (0 for log). */
// @ts-ignore: decorator
@inline function logCore(f: v128, dk: v128, c: v128): v128 {
  const s = f32x4.div(f, f32x4.add(f4(2), f));
  const z = f32x4.mul(s, s);
  const R = f32x4.mul(z, madd(madd(f4(L2), z, L1), z, L0));
  const hfsq = f32x4.mul(f32x4.mul(f4(0.5), f), f);
  const y = f32x4.add(f32x4.mul(s, f32x4.add(hfsq, R)), f32x4.add(f32x4.mul(dk, f4(LOG_LN2_LO)), c));
  return f32x4.add(f32x4.add(f32x4.sub(y, hfsq), f), f32x4.mul(dk, f4(LOG_LN2_HI)));
}
// @ts-ignore: decorator
@inline function logCore1(f: f32, dk: f32, c: f32): f32 {
  const s = f / (TWO + f);
  const z = s * s;
  const R = z * ((L2 * z + L1) * z + L0);
  const hfsq = (HALF * f) * f;
  const y = s * (hfsq + R) + (dk * LOG_LN2_LO + c);
  return ((y - hfsq) + f) + dk * LOG_LN2_HI;
}

// @ts-ignore: decorator
@inline export function f32x4_log(x: v128): v128 {
  const sub = f32x4.lt(x, f4(MIN_NORMAL)); // denormals: scale by 2^23 first (≤ 0 is fixed below)
  const ix = i32x4.add(v128.bitselect(f32x4.mul(x, f4(8388608.0)), x, sub), i4(0x3f800000 - SQRT_HALF_BITS));
  const k = i32x4.sub(i32x4.sub(i32x4.shr_s(ix, 23), i4(0x7f)), v128.and(sub, i4(23)));
  const f = f32x4.sub(i32x4.add(v128.and(ix, i4(0x007fffff)), i4(SQRT_HALF_BITS)), f4(1));
  const y = logCore(f, f32x4.convert_i32x4_s(k), f4(0));
  // 0 → −inf, < 0 → NaN; +inf and NaN pass through
  const special = v128.bitselect(f4(-INF), v128.bitselect(f4(NAN), x, f32x4.lt(x, f4(0))), f32x4.eq(x, f4(0)));
  return v128.bitselect(y, special, v128.and(f32x4.gt(x, f4(0)), f32x4.lt(x, f4(INF))));
}
// @ts-ignore: decorator
@inline export function f32_log(x: f32): f32 {
  if (!(x > 0 && x < INF)) return x == 0 ? -INF : x < 0 ? NAN : x;
  const sub = x < MIN_NORMAL;
  const ix = reinterpret<i32>(select<f32>(x * 8388608.0, x, sub)) + (0x3f800000 - SQRT_HALF_BITS);
  const k = ((ix >> 23) - 0x7f) - (sub ? 23 : 0);
  const f = reinterpret<f32>((ix & 0x007fffff) + SQRT_HALF_BITS) - 1;
  return logCore1(f, <f32>k, 0);
}

/** u = 1 + x rounded; log1p(x) = log(u) + c with c = (x − (u − 1))/u, its rounding error; when u is in [√½, √2), f = x directly. */
// @ts-ignore: decorator
@inline export function f32x4_log1p(x: v128): v128 {
  const u = f32x4.add(f4(1), x);
  const iu = i32x4.add(u, i4(0x3f800000 - SQRT_HALF_BITS));
  const k = i32x4.sub(i32x4.shr_s(iu, 23), i4(0x7f));
  const near = i32x4.eq(k, i4(0));
  // for k ≥ 2, u − x is exact and u − 1 is not
  const err = v128.bitselect(f32x4.sub(f4(1), f32x4.sub(u, x)), f32x4.sub(x, f32x4.sub(u, f4(1))), i32x4.ge_s(k, i4(2)));
  const c = v128.andnot(f32x4.div(err, u), near);
  const f = v128.bitselect(x, f32x4.sub(i32x4.add(v128.and(iu, i4(0x007fffff)), i4(SQRT_HALF_BITS)), f4(1)), near);
  const y = logCore(f, f32x4.convert_i32x4_s(k), c);
  // −1 → −inf, < −1 → NaN; tiny (incl. ±0, denormals), +inf and NaN pass through
  const special = v128.bitselect(f4(-INF), v128.bitselect(f4(NAN), x, f32x4.lt(x, f4(-1))), f32x4.eq(x, f4(-1)));
  const ok = v128.and(v128.and(f32x4.gt(x, f4(-1)), f32x4.lt(x, f4(INF))), f32x4.ge(f32x4.abs(x), f4(LOG1P_TINY)));
  return v128.bitselect(y, special, ok);
}
// @ts-ignore: decorator
@inline export function f32_log1p(x: f32): f32 {
  if (!(x > -1 && x < INF && abs<f32>(x) >= LOG1P_TINY)) return x == -1 ? -INF : x < -1 ? NAN : x;
  const u = ONE + x;
  const iu = reinterpret<i32>(u) + (0x3f800000 - SQRT_HALF_BITS);
  const k = (iu >> 23) - 0x7f;
  const err = k >= 2 ? ONE - (u - x) : x - (u - ONE);
  const c: f32 = k == 0 ? 0 : err / u;
  const f = k == 0 ? x : reinterpret<f32>((iu & 0x007fffff) + SQRT_HALF_BITS) - 1;
  return logCore1(f, <f32>k, c);
}

// ---- tanh, sigmoid, erf -------------------------------------------------------------
// tanh: |x| < 0.55: x + x·z·T(z), z = x²; else 1 − 2/(e^2|x| + 1): the quotient is at most
// 1/2, so its rounding costs less than a quotient near 1 would.
const TANH_SMALL: f32 = 0.55;
const TANH_ONE: f32 = 9.1; // tanh rounds to 1 beyond 9.011
const T0: f32 = -0.33333316445350647;
const T1: f32 = 0.13332544267177582;
const T2: f32 = -0.0538475476205349;
const T3: f32 = 0.02105071395635605;
const T4: f32 = -0.0062428489327430725;

// @ts-ignore: decorator
@inline export function f32x4_tanh(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(a, a);
  const p = madd(madd(madd(madd(f4(T4), z, T3), z, T2), z, T1), z, T0);
  const small = f32x4.add(a, f32x4.mul(a, f32x4.mul(z, p)));
  const e = f32x4_exp(f32x4.mul(f32x4.pmin(a, f4(TANH_ONE)), f4(2)));
  const large = f32x4.sub(f4(1), f32x4.div(f4(2), f32x4.add(e, f4(1))));
  return copysignv(v128.bitselect(small, large, f32x4.lt(a, f4(TANH_SMALL))), x);
}
// @ts-ignore: decorator
@inline export function f32_tanh(x: f32): f32 {
  const a = abs<f32>(x);
  let y: f32;
  if (a < TANH_SMALL) {
    const z = a * a;
    const p = (((T4 * z + T3) * z + T2) * z + T1) * z + T0;
    y = a + a * (z * p);
  } else {
    const e = f32_exp(min<f32>(a, TANH_ONE) * 2);
    y = ONE - TWO / (e + 1);
  }
  return copysign1(y, x);
}

/**
 * 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) below: e = e^−|x| ≤ 1 never overflows, and
 * sigmoid(−large) underflows to 0 through e. The rounding error of 1 + e is put back
 * (it alone would cost up to 1 ulp).
 */
// @ts-ignore: decorator
@inline export function f32x4_sigmoid(x: v128): v128 {
  const e = f32x4_exp(f32x4.neg(f32x4.abs(x)));
  const d = f32x4.add(f4(1), e);
  const err = f32x4.sub(e, f32x4.sub(d, f4(1))); // 1 + e = d + err exactly
  const positive = f32x4.ge(x, f4(0));
  const q = f32x4.div(v128.bitselect(f4(1), e, positive), d);
  // n/(d + err) ≈ q − q·err/d, with 1/d ≈ q for x ≥ 0 and 1 − q below: no second division
  return f32x4.sub(q, f32x4.mul(f32x4.mul(q, err), v128.bitselect(q, f32x4.sub(f4(1), q), positive)));
}
// @ts-ignore: decorator
@inline export function f32_sigmoid(x: f32): f32 {
  const e = f32_exp(-abs<f32>(x));
  const d = ONE + e;
  const err = e - (d - ONE);
  const q = select<f32>(ONE, e, x >= 0) / d;
  return q - (q * err) * select<f32>(q, ONE - q, x >= 0);
}

// erf: |x| < 0.875: x + x·S(x²), S(0) = 2/√π − 1; else 1 − e^Q(|x|) = −expm1(Q(|x|)),
// Q a degree-6 fit of ln erfc on [0.875, 4] (erf rounds to 1 beyond 3.92).
const ERF_SMALL: f32 = 0.875;
const ERF_ONE: f32 = 4.0;
const S0: f32 = 0.12837916612625122;
const S1: f32 = -0.3761262893676758;
const S2: f32 = 0.11283621937036514;
const S3: f32 = -0.026855282485485077;
const S4: f32 = 0.0051906355656683445;
const S5: f32 = -0.0008021723479032516;
const S6: f32 = 7.842241757316515e-05;
const Q0: f32 = -0.00014420771913137287;
const Q1: f32 = -1.1278893947601318;
const Q2: f32 = -0.6368206739425659;
const Q3: f32 = -0.10425011068582535;
const Q4: f32 = 0.022380927577614784;
const Q5: f32 = -0.0030819480307400227;
const Q6: f32 = 0.0001998933730646968;

// @ts-ignore: decorator
@inline export function f32x4_erf(x: v128): v128 {
  const a = f32x4.abs(x);
  const z = f32x4.mul(a, a);
  const s = madd(madd(madd(madd(madd(madd(f4(S6), z, S5), z, S4), z, S3), z, S2), z, S1), z, S0);
  const small = f32x4.add(a, f32x4.mul(a, s));
  const b = f32x4.pmin(a, f4(ERF_ONE));
  const q = madd(madd(madd(madd(madd(madd(f4(Q6), b, Q5), b, Q4), b, Q3), b, Q2), b, Q1), b, Q0);
  const large = f32x4.neg(f32x4_expm1(q));
  return copysignv(v128.bitselect(small, large, f32x4.lt(a, f4(ERF_SMALL))), x);
}
// @ts-ignore: decorator
@inline export function f32_erf(x: f32): f32 {
  const a = abs<f32>(x);
  let y: f32;
  if (a < ERF_SMALL) {
    const z = a * a;
    y = a + a * ((((((S6 * z + S5) * z + S4) * z + S3) * z + S2) * z + S1) * z + S0);
  } else {
    const b = min<f32>(a, ERF_ONE);
    y = -f32_expm1((((((Q6 * b + Q5) * b + Q4) * b + Q3) * b + Q2) * b + Q1) * b + Q0);
  }
  return copysign1(y, x);
}

// ---- sin, cos -----------------------------------------------------------------------
// x = n·π/2 + r, |r| ≤ π/4, reduced in f64: for |x| ≤ 2^26 Cody–Waite with π/2 in three
// parts (the first two of 26 bits, so n·part is exact), beyond that Payne–Hanek with
// 256 bits of 2/π, one lane at a time. r = r_f32 + rlo; sin r = r + (rlo + r·z·C(z)),
// cos r = 1 − z/2 + (z²·D(z) − r·rlo), z = r², picked and signed by n mod 4.
const TWO_OVER_PI: f64 = 0.6366197723675814;
const PIO2_1: f64 = 1.5707963109016418;
const PIO2_2: f64 = 1.5893254712295857e-08;
const PIO2_3: f64 = 6.123233995736766e-17;
const PIO2_SCALED: f64 = 3.4061215800865545e-19; // π/2 · 2^−62
const REDUCE_MAX: f32 = 67108864.0; // 2^26
const C0: f32 = -0.1666666716337204;
const C1: f32 = 0.008333379402756691;
const C2: f32 = -0.00019853090634569526;
const C3: f32 = 2.8330437089607585e-06;
const D0: f32 = 0.0416666679084301;
const D1: f32 = -0.0013888980029150844;
const D2: f32 = 2.482202216924634e-05;
const D3: f32 = -2.888121457544912e-07;
/** 2/π = 0.a2f9836e 4e441529 … (hex), 32 bits a word. */
const TWO_OVER_PI_BITS: usize = memory.data<u32>([
  0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0, 0xdb629599, 0x3c439041, 0xfe5163ab, 0xdebbc561,
]);
const scratch: usize = memory.data(64, 16); // lanes of x, r, r's low part, n for the one-lane-at-a-time paths

/** 32 bits of 2/π starting at bit `b` after the binary point. */
// @ts-ignore: decorator
@inline function twoOverPiBits(b: i32): u64 {
  const p = TWO_OVER_PI_BITS + (<usize>(b >> 5) << 2);
  return ((((<u64>load<u32>(p)) << 32) | <u64>load<u32>(p + 4)) << <u64>(b & 31)) >> 32;
}

let reducedQuadrant: i32 = 0;
/** Payne–Hanek for 2^26 < |x| < inf: returns r = x − n·π/2 in [−π/4, π/4] and sets reducedQuadrant = n mod 4. */
function reduceLarge(x: f32): f64 {
  const bits = reinterpret<u32>(x);
  const e = <i32>((bits >> 23) & 0xff) - 150; // |x| = m·2^e, m a 24-bit integer, e ≥ 3
  const m = <u64>((bits & 0x7fffff) | 0x800000);
  // m·2^e·(2/π) mod 4 needs the bits of 2/π from weight 2^(1−e) on (earlier ones add multiples of 4);
  // a 96-bit window w0:w1:w2 of them times m, top 64 bits: 2 integer bits and 62 fraction bits
  const b = e - 2;
  const p = ((m * twoOverPiBits(b)) << 32) + m * twoOverPiBits(b + 32) + ((m * twoOverPiBits(b + 64)) >> 32);
  const n = (p + (<u64>1 << 61)) >> 62;
  const r = <f64>(<i64>(p - (n << 62))) * PIO2_SCALED;
  const negative = <i32>(bits >> 31);
  reducedQuadrant = negative ? -<i32>n : <i32>n;
  return negative ? -r : r;
}

/** sin(x + quadrant·π/2) for quadrant 0 (sin) or 1 (cos). */
// @ts-ignore: decorator
@inline function sinCosV(x: v128, quadrant: i32): v128 {
  // f64 halves: n = nearest(x·2/π) via the 1.5·2^52 trick, r = x − n·π/2
  const xl = f64x2.promote_low_f32x4(x);
  const xh = f64x2.promote_low_f32x4(highHalf(x));
  const tl = madd2(xl, d2(TWO_OVER_PI), ROUND64);
  const th = madd2(xh, d2(TWO_OVER_PI), ROUND64);
  const nl = f64x2.sub(tl, d2(ROUND64));
  const nh = f64x2.sub(th, d2(ROUND64));
  const rdl = f64x2.sub(f64x2.sub(f64x2.sub(xl, f64x2.mul(nl, d2(PIO2_1))), f64x2.mul(nl, d2(PIO2_2))), f64x2.mul(nl, d2(PIO2_3)));
  const rdh = f64x2.sub(f64x2.sub(f64x2.sub(xh, f64x2.mul(nh, d2(PIO2_1))), f64x2.mul(nh, d2(PIO2_2))), f64x2.mul(nh, d2(PIO2_3)));
  let r = joinHalves(f32x4.demote_f64x2_zero(rdl), f32x4.demote_f64x2_zero(rdh));
  // r's rounding error, kept for the first-order terms
  let rlo = joinHalves(
    f32x4.demote_f64x2_zero(f64x2.sub(rdl, f64x2.promote_low_f32x4(r))),
    f32x4.demote_f64x2_zero(f64x2.sub(rdh, f64x2.promote_low_f32x4(highHalf(r)))),
  );
  let n = i32x4.shuffle(tl, th, 0, 2, 4, 6); // low words of the rounded integers
  const ax = f32x4.abs(x);
  if (v128.any_true(v128.and(f32x4.gt(ax, f4(REDUCE_MAX)), f32x4.lt(ax, f4(INF))))) {
    v128.store(scratch, x);
    v128.store(scratch, r, 16);
    v128.store(scratch, rlo, 32);
    v128.store(scratch, n, 48);
    for (let i: usize = 0; i < 16; i += 4) {
      const xi = load<f32>(scratch + i);
      if (abs<f32>(xi) > REDUCE_MAX && abs<f32>(xi) < INF) {
        const rd = reduceLarge(xi);
        store<f32>(scratch + i, <f32>rd, 16);
        store<f32>(scratch + i, <f32>(rd - <f64><f32>rd), 32);
        store<i32>(scratch + i, reducedQuadrant, 48);
      }
    }
    r = v128.load(scratch, 16);
    rlo = v128.load(scratch, 32);
    n = v128.load(scratch, 48);
  }
  n = i32x4.add(n, i4(quadrant));
  const z = f32x4.mul(r, r);
  const sp = f32x4.mul(r, f32x4.mul(z, madd(madd(madd(f4(C3), z, C2), z, C1), z, C0)));
  const s = f32x4.add(r, f32x4.add(rlo, sp));
  const cp = f32x4.mul(f32x4.mul(z, z), madd(madd(madd(f4(D3), z, D2), z, D1), z, D0));
  const c = f32x4.add(f32x4.sub(f4(1), f32x4.mul(f4(0.5), z)), f32x4.sub(cp, f32x4.mul(r, rlo)));
  const y = v128.bitselect(c, s, i32x4.eq(v128.and(n, i4(1)), i4(1)));
  return v128.xor(y, i32x4.shl(v128.and(n, i4(2)), 30)); // n mod 4 ≥ 2: negate
}
// @ts-ignore: decorator
@inline function sinCos1(x: f32, quadrant: i32): f32 {
  const xd = <f64>x;
  const t = xd * TWO_OVER_PI + ROUND64;
  const nd = t - ROUND64;
  let rd = ((xd - nd * PIO2_1) - nd * PIO2_2) - nd * PIO2_3;
  let n = <i32>reinterpret<i64>(t);
  const ax = abs<f32>(x);
  if (ax > REDUCE_MAX && ax < INF) {
    rd = reduceLarge(x);
    n = reducedQuadrant;
  }
  const r = <f32>rd;
  const rlo = <f32>(rd - <f64>r);
  n += quadrant;
  const z = r * r;
  const s = r + (rlo + r * (z * (((C3 * z + C2) * z + C1) * z + C0)));
  const c = (ONE - HALF * z) + ((z * z) * (((D3 * z + D2) * z + D1) * z + D0) - r * rlo);
  const y = (n & 1) == 1 ? c : s;
  return reinterpret<f32>(reinterpret<i32>(y) ^ ((n & 2) << 30));
}

export function f32x4_sin(x: v128): v128 {
  return v128.bitselect(x, sinCosV(x, 0), f32x4.eq(x, f4(0))); // sin(−0) = −0
}
export function f32_sin(x: f32): f32 {
  return select<f32>(x, sinCos1(x, 0), x == 0);
}
export function f32x4_cos(x: v128): v128 {
  return sinCosV(x, 1);
}
export function f32_cos(x: f32): f32 {
  return sinCos1(x, 1);
}

// ---- pow ----------------------------------------------------------------------------
// |x|^y = 2^(y·log2|x|) in f64 (log2 to ~2^−45, 2^t to ~2^−40, so the f32 result is off
// by at most the final rounding), then the IEEE special cases: y = ±0 or x = 1 → 1,
// x = −1 with y = ±inf → 1, x < 0 finite with y non-integer → NaN, sign from odd y.
const SQRT_HALF64_BITS: i64 = 0x3fe6a09e667f3bcd;
const LOG2E64: f64 = 1.4426950408889634;
const A0: f64 = 0.3333333333793066; // atanh(s)/s = 1 + z·A(z), z = s²
const A1: f64 = 0.19999997799472272;
const A2: f64 = 0.1428605590674721;
const A3: f64 = 0.11088034445575934;
const A4: f64 = 0.09792997660548997;
const B0: f64 = 0.6931471805482128; // 2^r = 1 + r·B(r), |r| ≤ 1/2
const B1: f64 = 0.24022650698110523;
const B2: f64 = 0.05550410935267078;
const B3: f64 = 0.009618128616129474;
const B4: f64 = 0.001333345485985491;
const B5: f64 = 0.0001540382545651758;
const B6: f64 = 1.5309156348872893e-05;
const B7: f64 = 1.3178935083120718e-06;
const POW_T_MAX: f64 = 130; // 2^t overflows f32
const POW_T_MIN: f64 = -160; // 2^t rounds to 0 in f32

/** |x|^y on an f64x2 half: ax = |x| ≥ 0, y promoted from f32. */
// @ts-ignore: decorator
@inline function powHalf(ax: v128, y: v128): v128 {
  const e = i64x2.shr_s(i64x2.sub(ax, i64x2.splat(SQRT_HALF64_BITS)), 52);
  const f = f64x2.sub(i64x2.sub(ax, i64x2.shl(e, 52)), d2(1)); // ax·2^−e − 1, in [√½ − 1, √2 − 1)
  const s = f64x2.div(f, f64x2.add(d2(2), f));
  const z = f64x2.mul(s, s);
  const a = madd2(madd2(madd2(madd2(d2(A4), z, A3), z, A2), z, A1), z, A0);
  const s2 = f64x2.add(s, s);
  const ef = f64x2.sub(i64x2.add(e, i64x2.splat(ROUND64_BITS)), d2(ROUND64));
  let lg = f64x2.add(ef, f64x2.mul(f64x2.add(s2, f64x2.mul(s2, f64x2.mul(z, a))), d2(LOG2E64)));
  lg = v128.bitselect(d2(-Infinity), lg, f64x2.eq(ax, d2(0)));
  lg = v128.bitselect(ax, lg, f64x2.ne(f64x2.sub(ax, ax), d2(0))); // inf, NaN: log2 is ax itself
  const t = f64x2.pmin(f64x2.pmax(f64x2.mul(y, lg), d2(POW_T_MIN)), d2(POW_T_MAX));
  const tr = f64x2.add(t, d2(ROUND64));
  const r = f64x2.sub(t, f64x2.sub(tr, d2(ROUND64)));
  const p = f64x2.add(d2(1), f64x2.mul(r, madd2(madd2(madd2(madd2(madd2(madd2(madd2(d2(B7), r, B6), r, B5), r, B4), r, B3), r, B2), r, B1), r, B0)));
  const scaled = i64x2.add(p, i64x2.shl(i64x2.sub(tr, i64x2.splat(ROUND64_BITS)), 52));
  return v128.bitselect(t, scaled, f64x2.ne(t, t)); // NaN t: NaN
}
// @ts-ignore: decorator
@inline function powHalf1(ax: f64, y: f64): f64 {
  const e = (reinterpret<i64>(ax) - SQRT_HALF64_BITS) >> 52;
  const f = reinterpret<f64>(reinterpret<i64>(ax) - (e << 52)) - 1;
  const s = f / (2 + f);
  const z = s * s;
  const a = (((A4 * z + A3) * z + A2) * z + A1) * z + A0;
  const s2 = s + s;
  const ef = reinterpret<f64>(e + ROUND64_BITS) - ROUND64;
  let lg = ef + (s2 + s2 * (z * a)) * LOG2E64;
  if (ax == 0) lg = -Infinity;
  if (ax - ax != 0) lg = ax;
  const t = min<f64>(max<f64>(y * lg, POW_T_MIN), POW_T_MAX);
  const tr = t + ROUND64;
  const r = t - (tr - ROUND64);
  const p = 1 + r * (((((((B7 * r + B6) * r + B5) * r + B4) * r + B3) * r + B2) * r + B1) * r + B0);
  const scaled = reinterpret<f64>(reinterpret<i64>(p) + ((reinterpret<i64>(tr) - ROUND64_BITS) << 52));
  return t != t ? t : scaled;
}

export function f32x4_pow(x: v128, y: v128): v128 {
  const ax = f32x4.abs(x);
  let r = joinHalves(
    f32x4.demote_f64x2_zero(powHalf(f64x2.promote_low_f32x4(ax), f64x2.promote_low_f32x4(y))),
    f32x4.demote_f64x2_zero(powHalf(f64x2.promote_low_f32x4(highHalf(ax)), f64x2.promote_low_f32x4(highHalf(y)))),
  );
  const integer = f32x4.eq(f32x4.trunc(y), y); // ±inf count as even integers
  const half = f32x4.mul(y, f4(0.5));
  const odd = v128.and(integer, f32x4.ne(f32x4.trunc(half), half));
  r = v128.xor(r, v128.and(v128.and(x, i4(SIGN)), odd));
  const negativeFinite = v128.and(f32x4.lt(x, f4(0)), f32x4.gt(x, f4(-INF)));
  r = v128.bitselect(f4(NAN), r, v128.andnot(negativeFinite, integer));
  const one = v128.or(v128.or(f32x4.eq(y, f4(0)), f32x4.eq(x, f4(1))), v128.and(f32x4.eq(ax, f4(1)), f32x4.eq(f32x4.abs(y), f4(INF))));
  return v128.bitselect(f4(1), r, one);
}
export function f32_pow(x: f32, y: f32): f32 {
  if (y == 0 || x == 1 || (abs<f32>(x) == 1 && abs<f32>(y) == INF)) return 1;
  const integer = trunc<f32>(y) == y;
  if (x < 0 && x > -INF && !integer) return NAN;
  const half = y * 0.5;
  const odd = integer && trunc<f32>(half) != half;
  const r = <f32>powHalf1(<f64>abs<f32>(x), <f64>y);
  return reinterpret<f32>(reinterpret<i32>(r) ^ (odd ? reinterpret<i32>(x) & SIGN : 0));
}

// ---- floor_mod ----------------------------------------------------------------------
// a mod b with the divisor's sign: r = fmod(a, b) (exact, the sign of a), then r + b when
// r ≠ 0 and the signs differ (the op table's `floorMod`; one rounding, as there). fmod is
// |a| − q·|b| in f64 with q = trunc(|a|/|b|), exact while q < 2^29 (q·|b| fits 53 bits;
// a q one too large is fixed by adding |b| back); other lanes (|a/b| ≥ 2^29, b = 0 or
// ±inf, a = ±inf, NaN) take AssemblyScript's exact f32 `%`, one at a time.
const FMOD_Q_MAX: f32 = 536870912.0; // 2^29

// @ts-ignore: decorator
@inline function fmodHalf(a: v128, b: v128): v128 {
  const r = f64x2.sub(a, f64x2.mul(f64x2.trunc(f64x2.div(a, b)), b));
  return f64x2.add(r, v128.and(b, f64x2.lt(r, d2(0))));
}

export function f32x4_floor_mod(a: v128, b: v128): v128 {
  const aa = f32x4.abs(a);
  const ab = f32x4.abs(b);
  let r = joinHalves(
    f32x4.demote_f64x2_zero(fmodHalf(f64x2.promote_low_f32x4(aa), f64x2.promote_low_f32x4(ab))),
    f32x4.demote_f64x2_zero(fmodHalf(f64x2.promote_low_f32x4(highHalf(aa)), f64x2.promote_low_f32x4(highHalf(ab)))),
  );
  r = v128.or(r, v128.and(a, i4(SIGN)));
  const fast = v128.and(f32x4.lt(aa, f32x4.mul(ab, f4(FMOD_Q_MAX))), f32x4.lt(ab, f4(INF)));
  if (!i32x4.all_true(fast)) {
    v128.store(scratch, a);
    v128.store(scratch, b, 16);
    v128.store(scratch, r, 32);
    for (let i: usize = 0; i < 16; i += 4) {
      const ai = load<f32>(scratch + i);
      const bi = load<f32>(scratch + i, 16);
      if (!(abs<f32>(ai) < abs<f32>(bi) * FMOD_Q_MAX && abs<f32>(bi) < INF)) store<f32>(scratch + i, ai % bi, 32);
    }
    r = v128.load(scratch, 32);
  }
  const flip = v128.and(f32x4.ne(r, f4(0)), i32x4.lt_s(v128.xor(r, b), i4(0)));
  return v128.bitselect(f32x4.add(r, b), r, flip);
}
export function f32_floor_mod(a: f32, b: f32): f32 {
  const aa = abs<f32>(a);
  const ab = abs<f32>(b);
  let r: f32;
  if (aa < ab * FMOD_Q_MAX && ab < INF) {
    const ad = <f64>aa;
    const bd = <f64>ab;
    const rd = ad - trunc<f64>(ad / bd) * bd;
    r = copysign1(<f32>(rd + select<f64>(bd, 0, rd < 0)), a);
  } else {
    r = a % b;
  }
  return select<f32>(r + b, r, (r != 0) & ((reinterpret<i32>(r) ^ reinterpret<i32>(b)) < 0));
}

// ---- array maps ---------------------------------------------------------------------
// y[i] = fn(x[i]) for i < n (binary: fn(x1[i], x2[i])); f32x4 over the body, the scalar
// form on the last n mod 4. Pointers are byte offsets, 4-byte aligned.

export function f32_vexp__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_exp(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_exp(load<f32>(x + (<usize>i << 2))));
}
/** exp unrolled ×4 (16 floats a step): independent chains hide latency, ~1.45× f32_vexp__simd128 in V8. */
export function f32_vexp__simd128_u16(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const y0 = f32x4_exp(v128.load(x + o));
    const y1 = f32x4_exp(v128.load(x + o, 16));
    const y2 = f32x4_exp(v128.load(x + o, 32));
    const y3 = f32x4_exp(v128.load(x + o, 48));
    v128.store(y + o, y0);
    v128.store(y + o, y1, 16);
    v128.store(y + o, y2, 32);
    v128.store(y + o, y3, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_exp(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_exp(load<f32>(x + (<usize>i << 2))));
}
export function f32_vexp__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_exp(load<f32>(x + (<usize>i << 2))));
}

export function f32_vexpm1__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_expm1(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_expm1(load<f32>(x + (<usize>i << 2))));
}
export function f32_vexpm1__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_expm1(load<f32>(x + (<usize>i << 2))));
}

export function f32_vlog__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_log(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_log(load<f32>(x + (<usize>i << 2))));
}
export function f32_vlog__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_log(load<f32>(x + (<usize>i << 2))));
}

export function f32_vlog1p__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_log1p(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_log1p(load<f32>(x + (<usize>i << 2))));
}
export function f32_vlog1p__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_log1p(load<f32>(x + (<usize>i << 2))));
}

export function f32_vtanh__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_tanh(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_tanh(load<f32>(x + (<usize>i << 2))));
}
export function f32_vtanh__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_tanh(load<f32>(x + (<usize>i << 2))));
}

export function f32_vsigmoid__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_sigmoid(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_sigmoid(load<f32>(x + (<usize>i << 2))));
}
export function f32_vsigmoid__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_sigmoid(load<f32>(x + (<usize>i << 2))));
}

export function f32_verf__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_erf(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_erf(load<f32>(x + (<usize>i << 2))));
}
export function f32_verf__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_erf(load<f32>(x + (<usize>i << 2))));
}

export function f32_vsin__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_sin(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_sin(load<f32>(x + (<usize>i << 2))));
}
export function f32_vsin__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_sin(load<f32>(x + (<usize>i << 2))));
}

export function f32_vcos__simd128(n: i32, x: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4_cos(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), f32_cos(load<f32>(x + (<usize>i << 2))));
}
export function f32_vcos__scalar(n: i32, x: usize, y: usize): void {
  for (let i = 0; i < n; i++) store<f32>(y + (<usize>i << 2), f32_cos(load<f32>(x + (<usize>i << 2))));
}

export function f32_vpow__simd128(n: i32, x1: usize, x2: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4_pow(v128.load(x1 + o), v128.load(x2 + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32_pow(load<f32>(x1 + o), load<f32>(x2 + o)));
  }
}
export function f32_vpow__scalar(n: i32, x1: usize, x2: usize, y: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32_pow(load<f32>(x1 + o), load<f32>(x2 + o)));
  }
}

export function f32_vfloor_mod__simd128(n: i32, x1: usize, x2: usize, y: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4_floor_mod(v128.load(x1 + o), v128.load(x2 + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32_floor_mod(load<f32>(x1 + o), load<f32>(x2 + o)));
  }
}
export function f32_vfloor_mod__scalar(n: i32, x1: usize, x2: usize, y: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32_floor_mod(load<f32>(x1 + o), load<f32>(x2 + o)));
  }
}
