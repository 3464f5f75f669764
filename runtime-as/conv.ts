// f32 convolution family, NHWC activations and HWIO filters [KH, KW, Cin/groups, Cout]:
// conv2d (optional bias and relu), its input gradient (also the transposed
// convolution) and its filter gradient. Semantics are compiler/ops/conv.ts's:
// explicit top/left padding (bottom/right implied by the output size), strides,
// dilations, groups. Pointers are byte offsets, 4-byte aligned at least.
//
// `__simd128`: all three are one register-tiled product C[M×N] += Σ_k A[m,k]·B[k,n]
// with A splatted and B read as f32x4 along N, which NHWC makes contiguous:
//   conv2d          M = output pixels of a row, N = output channels,  k = (ky, kx, ci)
//   filter gradient M = (kx, ci) of one ky,     N = output channels,  k = (oy, ox)
//   input gradient  M = input pixels of a row,  N = input channels,   k = (ky, kx, co)
// The broadcast operand (x, or dy for the input gradient) is first copied into
// zero-padded scratch rows, so no tile ever tests a bound; the input gradient also
// packs the filter transposed to [ky][kx][co][ci]. Scratch is static and bounded:
// when rows or filter do not fit, the reduction is split into passes (ky ranges,
// channel slices) that accumulate into C, and a row too wide for the scratch falls
// back to the scalar loops. Tiles are 4×8 (8 f32x4 accumulators fit V8's xmm
// registers, as the GEMM measured), then 1×8, 4×4, 1×4, and a scalar 1×1 for the
// last N % 4 columns. Two shapes leave that scheme:
//   - input gradient with Cin per group < 4: dot tiles reduce along co instead,
//     f32x4 in both dy and the filter as it is, so N = Cin/groups is no vector;
//   - depthwise (Cin and Cout per group 1): no reduction across channels at all, so
//     every tap is a channel-vector multiply-add (`depthwise` below). Depthwise with
//     a multiplier > 1 takes the general path, through 1×1 tiles when it is < 4.
//

import { madd } from './simd';
const ROWS_FLOATS: i32 = 16384; // 64 KB of padded rows
const PACK_FLOATS: i32 = 32768; // 128 KB of transposed filter
let rows: usize = memory.data(ROWS_FLOATS * 4, 64); // static for thread 0; other threads' through f32_conv_scratch_set
let pack: usize = memory.data(PACK_FLOATS * 4, 64);

/** Bytes of scratch one thread's convolution calls need. */
export function f32_conv_scratch_bytes(): usize {
  return (ROWS_FLOATS + PACK_FLOATS) * 4;
}

/** Points this instance's scratch at `at` (64-byte aligned, `f32_conv_scratch_bytes` long). */
export function f32_conv_scratch_set(at: usize): void {
  rows = at;
  pack = at + ROWS_FLOATS * 4;
}

// ---- the tiles -------------------------------------------------------------------
// A tile's reduction walks three nested loops; loop i moves A by kAi bytes and B by
// kBi bytes. Row m of a tile reads A at a + m·tileA and writes C at c + m·tileC.
// One call sets these once for all its tiles.
let kN1: i32 = 0, kA1: usize = 0, kB1: usize = 0;
let kN2: i32 = 0, kA2: usize = 0, kB2: usize = 0;
let kN3: i32 = 0, kA3: usize = 0, kB3: usize = 0;
let tileA: usize = 0, tileC: usize = 0;

// How a tile starts: from zero, from C (a later pass, or a gradient that accumulates), or from the bias.
const START_ZERO = 0, START_C = 1, START_BIAS = 2;

@inline function relu(v: v128): v128 {
  return v128.bitselect(v, f32x4.splat(0), f32x4.gt(v, f32x4.splat(0))); // NaN → 0, as the op's ref
}

function tile4x8(a: usize, b: usize, c: usize, start: i32, bias: usize, act: bool): void {
  const am = tileA, cm = tileC;
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  if (start == START_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + cm); c11 = v128.load(c + cm, 16);
    c20 = v128.load(c + 2 * cm); c21 = v128.load(c + 2 * cm, 16);
    c30 = v128.load(c + 3 * cm); c31 = v128.load(c + 3 * cm, 16);
  } else if (start == START_BIAS) {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01; c30 = c00; c31 = c01;
  }
  const am2 = am * 2, am3 = am * 3;
  const n1 = kN1, n2 = kN2, n3 = kN3, a1 = kA1, a2 = kA2, a3 = kA3, b1 = kB1, b2 = kB2, b3 = kB3;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += a3, pb += b3) {
        const v0 = v128.load(pb), v1 = v128.load(pb, 16);
        let s = v128.load32_splat(pa);
        c00 = madd(s, v0, c00); c01 = madd(s, v1, c01);
        s = v128.load32_splat(pa + am);
        c10 = madd(s, v0, c10); c11 = madd(s, v1, c11);
        s = v128.load32_splat(pa + am2);
        c20 = madd(s, v0, c20); c21 = madd(s, v1, c21);
        s = v128.load32_splat(pa + am3);
        c30 = madd(s, v0, c30); c31 = madd(s, v1, c31);
      }
    }
  }
  if (act) {
    c00 = relu(c00); c01 = relu(c01); c10 = relu(c10); c11 = relu(c11);
    c20 = relu(c20); c21 = relu(c21); c30 = relu(c30); c31 = relu(c31);
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + cm, c10); v128.store(c + cm, c11, 16);
  v128.store(c + 2 * cm, c20); v128.store(c + 2 * cm, c21, 16);
  v128.store(c + 3 * cm, c30); v128.store(c + 3 * cm, c31, 16);
}

// The last M % 4 rows: 3×8 and 2×16 keep six and eight accumulators, as many
// independent sums as the adds' latency needs (1×8 has two and runs at about a
// third of the 4×8 tile's rate: 2 of 14 output pixels of a 14-wide row were a
// quarter of a 5×5 convolution's time). Like every tile but 4×8 they multiply and
// add apart even in the relaxed-SIMD build, so a column's bits do not depend on
// which of them computes it (a thread's share of columns meets other tiles).

function tile3x8(a: usize, b: usize, c: usize, start: i32, bias: usize, act: bool): void {
  const am = tileA, cm = tileC;
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  if (start == START_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + cm); c11 = v128.load(c + cm, 16);
    c20 = v128.load(c + 2 * cm); c21 = v128.load(c + 2 * cm, 16);
  } else if (start == START_BIAS) {
    c00 = v128.load(bias); c01 = v128.load(bias, 16);
    c10 = c00; c11 = c01; c20 = c00; c21 = c01;
  }
  const am2 = am * 2;
  const n1 = kN1, n2 = kN2, n3 = kN3, a1 = kA1, a2 = kA2, a3 = kA3, b1 = kB1, b2 = kB2, b3 = kB3;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += a3, pb += b3) {
        const v0 = v128.load(pb), v1 = v128.load(pb, 16);
        let s = v128.load32_splat(pa);
        c00 = f32x4.add(c00, f32x4.mul(s, v0)); c01 = f32x4.add(c01, f32x4.mul(s, v1));
        s = v128.load32_splat(pa + am);
        c10 = f32x4.add(c10, f32x4.mul(s, v0)); c11 = f32x4.add(c11, f32x4.mul(s, v1));
        s = v128.load32_splat(pa + am2);
        c20 = f32x4.add(c20, f32x4.mul(s, v0)); c21 = f32x4.add(c21, f32x4.mul(s, v1));
      }
    }
  }
  if (act) { c00 = relu(c00); c01 = relu(c01); c10 = relu(c10); c11 = relu(c11); c20 = relu(c20); c21 = relu(c21); }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + cm, c10); v128.store(c + cm, c11, 16);
  v128.store(c + 2 * cm, c20); v128.store(c + 2 * cm, c21, 16);
}

function tile2x16(a: usize, b: usize, c: usize, start: i32, bias: usize, act: bool): void {
  const am = tileA, cm = tileC;
  let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  if (start == START_C) {
    c00 = v128.load(c); c01 = v128.load(c, 16); c02 = v128.load(c, 32); c03 = v128.load(c, 48);
    c10 = v128.load(c + cm); c11 = v128.load(c + cm, 16); c12 = v128.load(c + cm, 32); c13 = v128.load(c + cm, 48);
  } else if (start == START_BIAS) {
    c00 = v128.load(bias); c01 = v128.load(bias, 16); c02 = v128.load(bias, 32); c03 = v128.load(bias, 48);
    c10 = c00; c11 = c01; c12 = c02; c13 = c03;
  }
  const n1 = kN1, n2 = kN2, n3 = kN3, a1 = kA1, a2 = kA2, a3 = kA3, b1 = kB1, b2 = kB2, b3 = kB3;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += a3, pb += b3) {
        const v0 = v128.load(pb), v1 = v128.load(pb, 16), v2 = v128.load(pb, 32), v3 = v128.load(pb, 48);
        let s = v128.load32_splat(pa);
        c00 = f32x4.add(c00, f32x4.mul(s, v0)); c01 = f32x4.add(c01, f32x4.mul(s, v1));
        c02 = f32x4.add(c02, f32x4.mul(s, v2)); c03 = f32x4.add(c03, f32x4.mul(s, v3));
        s = v128.load32_splat(pa + am);
        c10 = f32x4.add(c10, f32x4.mul(s, v0)); c11 = f32x4.add(c11, f32x4.mul(s, v1));
        c12 = f32x4.add(c12, f32x4.mul(s, v2)); c13 = f32x4.add(c13, f32x4.mul(s, v3));
      }
    }
  }
  if (act) {
    c00 = relu(c00); c01 = relu(c01); c02 = relu(c02); c03 = relu(c03);
    c10 = relu(c10); c11 = relu(c11); c12 = relu(c12); c13 = relu(c13);
  }
  v128.store(c, c00); v128.store(c, c01, 16); v128.store(c, c02, 32); v128.store(c, c03, 48);
  v128.store(c + cm, c10); v128.store(c + cm, c11, 16); v128.store(c + cm, c12, 32); v128.store(c + cm, c13, 48);
}

function tile1x8(a: usize, b: usize, c: usize, start: i32, bias: usize, act: bool): void {
  let c0 = f32x4.splat(0), c1 = c0;
  if (start == START_C) { c0 = v128.load(c); c1 = v128.load(c, 16); }
  else if (start == START_BIAS) { c0 = v128.load(bias); c1 = v128.load(bias, 16); }
  const n1 = kN1, n2 = kN2, n3 = kN3, a1 = kA1, a2 = kA2, a3 = kA3, b1 = kB1, b2 = kB2, b3 = kB3;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += a3, pb += b3) {
        const s = v128.load32_splat(pa);
        c0 = f32x4.add(c0, f32x4.mul(s, v128.load(pb)));
        c1 = f32x4.add(c1, f32x4.mul(s, v128.load(pb, 16)));
      }
    }
  }
  if (act) { c0 = relu(c0); c1 = relu(c1); }
  v128.store(c, c0); v128.store(c, c1, 16);
}

function tile4x4(a: usize, b: usize, c: usize, start: i32, bias: usize, act: bool): void {
  const am = tileA, cm = tileC;
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0;
  if (start == START_C) {
    c0 = v128.load(c); c1 = v128.load(c + cm); c2 = v128.load(c + 2 * cm); c3 = v128.load(c + 3 * cm);
  } else if (start == START_BIAS) {
    c0 = v128.load(bias); c1 = c0; c2 = c0; c3 = c0;
  }
  const am2 = am * 2, am3 = am * 3;
  const n1 = kN1, n2 = kN2, n3 = kN3, a1 = kA1, a2 = kA2, a3 = kA3, b1 = kB1, b2 = kB2, b3 = kB3;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += a3, pb += b3) {
        const v = v128.load(pb);
        c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), v));
        c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(pa + am), v));
        c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(pa + am2), v));
        c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(pa + am3), v));
      }
    }
  }
  if (act) { c0 = relu(c0); c1 = relu(c1); c2 = relu(c2); c3 = relu(c3); }
  v128.store(c, c0); v128.store(c + cm, c1); v128.store(c + 2 * cm, c2); v128.store(c + 3 * cm, c3);
}

function tile1x4(a: usize, b: usize, c: usize, start: i32, bias: usize, act: bool): void {
  let c0 = f32x4.splat(0);
  if (start == START_C) c0 = v128.load(c);
  else if (start == START_BIAS) c0 = v128.load(bias);
  const n1 = kN1, n2 = kN2, n3 = kN3, a1 = kA1, a2 = kA2, a3 = kA3, b1 = kB1, b2 = kB2, b3 = kB3;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += a3, pb += b3) {
        c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(pa), v128.load(pb)));
      }
    }
  }
  if (act) c0 = relu(c0);
  v128.store(c, c0);
}

function tile1x1(a: usize, b: usize, c: usize, start: i32, bias: usize, act: bool): void {
  let s: f32 = 0;
  if (start == START_C) s = load<f32>(c);
  else if (start == START_BIAS) s = load<f32>(bias);
  const n1 = kN1, n2 = kN2, n3 = kN3, a1 = kA1, a2 = kA2, a3 = kA3, b1 = kB1, b2 = kB2, b3 = kB3;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += a3, pb += b3) s += load<f32>(pa) * load<f32>(pb);
    }
  }
  store<f32>(c, act && !(s > 0) ? 0 : s);
}

/** Covers C[M×N] with tiles: column blocks of 8 (rows by 4, then the last 3 as 3×8, 2 as 2×16 where the columns allow, else by 1), then 4, then single columns. */
function tiles(m: i32, n: i32, a: usize, b: usize, c: usize, start: i32, bias: usize, act: bool): void {
  const am4 = tileA << 2, cm4 = tileC << 2;
  const full = m & ~3, rest = m - full; // rows in 4×8 tiles, and the last M % 4
  const aRest = a + <usize>full * tileA, cRest = c + <usize>full * tileC;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const bj = b + (<usize>j << 2), cj = c + (<usize>j << 2), biasj = bias + (<usize>j << 2);
    let i = 0, ai = a, ci = cj;
    for (; i < full; i += 4, ai += am4, ci += cm4) tile4x8(ai, bj, ci, start, biasj, act);
    if (rest == 3) tile3x8(aRest, bj, cRest + (<usize>j << 2), start, biasj, act);
  }
  if (rest == 1 || rest == 2) { // the same 8-column blocks, 16 columns at a time where two rows remain
    let jr = 0;
    if (rest == 2) for (; jr + 16 <= j; jr += 16) tile2x16(aRest, b + (<usize>jr << 2), cRest + (<usize>jr << 2), start, bias + (<usize>jr << 2), act);
    for (; jr < j; jr += 8) {
      let ai = aRest, ci = cRest + (<usize>jr << 2);
      for (let i = full; i < m; i++, ai += tileA, ci += tileC) tile1x8(ai, b + (<usize>jr << 2), ci, start, bias + (<usize>jr << 2), act);
    }
  }
  if (j + 4 <= n) {
    const bj = b + (<usize>j << 2), cj = c + (<usize>j << 2), biasj = bias + (<usize>j << 2);
    let i = 0, ai = a, ci = cj;
    for (; i + 4 <= m; i += 4, ai += am4, ci += cm4) tile4x4(ai, bj, ci, start, biasj, act);
    for (; i < m; i++, ai += tileA, ci += tileC) tile1x4(ai, bj, ci, start, biasj, act);
    j += 4;
  }
  for (; j < n; j++) { // the last N % 4 columns, one value at a time
    const bj = b + (<usize>j << 2), biasj = bias + (<usize>j << 2);
    let ai = a, ci = c + (<usize>j << 2);
    for (let i = 0; i < m; i++, ai += tileA, ci += tileC) tile1x1(ai, bj, ci, start, biasj, act);
  }
}

// Dot tiles, for the input gradient when Cin per group is below a vector: C[m] +=
// Σ_k A[m,k]·B[k] with k running along contiguous channels in both A and B, so the
// innermost loop takes f32x4 of both and kN3 counts vectors; the last kTail
// channels go one lane at a time. One horizontal sum per tile.
let kTail: i32 = 0;

/** [Σa, Σb, Σc, Σd]. */
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7)); // a0+a2 b0+b2 a1+a3 b1+b3
  const cd = f32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7));
  return f32x4.add(i32x4.shuffle(ab, cd, 0, 1, 4, 5), i32x4.shuffle(ab, cd, 2, 3, 6, 7));
}

function dotTile4(a: usize, b: usize, c: usize): void {
  const am = tileA, am2 = am * 2, am3 = am * 3, cm = tileC;
  let s0 = f32x4.splat(0), s1 = s0, s2 = s0, s3 = s0;
  const n1 = kN1, n2 = kN2, n3 = kN3, tail = kTail, a1 = kA1, a2 = kA2, b1 = kB1, b2 = kB2;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += 16, pb += 16) {
        const v = v128.load(pb);
        s0 = f32x4.add(s0, f32x4.mul(v128.load(pa), v));
        s1 = f32x4.add(s1, f32x4.mul(v128.load(pa + am), v));
        s2 = f32x4.add(s2, f32x4.mul(v128.load(pa + am2), v));
        s3 = f32x4.add(s3, f32x4.mul(v128.load(pa + am3), v));
      }
      for (let t = 0; t < tail; t++, pa += 4, pb += 4) { // the last channels, in lane 0
        const v = v128.load32_zero(pb);
        s0 = f32x4.add(s0, f32x4.mul(v128.load32_zero(pa), v));
        s1 = f32x4.add(s1, f32x4.mul(v128.load32_zero(pa + am), v));
        s2 = f32x4.add(s2, f32x4.mul(v128.load32_zero(pa + am2), v));
        s3 = f32x4.add(s3, f32x4.mul(v128.load32_zero(pa + am3), v));
      }
    }
  }
  const s = sum4(s0, s1, s2, s3);
  store<f32>(c, load<f32>(c) + f32x4.extract_lane(s, 0));
  store<f32>(c + cm, load<f32>(c + cm) + f32x4.extract_lane(s, 1));
  store<f32>(c + 2 * cm, load<f32>(c + 2 * cm) + f32x4.extract_lane(s, 2));
  store<f32>(c + 3 * cm, load<f32>(c + 3 * cm) + f32x4.extract_lane(s, 3));
}

function dotTile1(a: usize, b: usize, c: usize): void {
  let s0 = f32x4.splat(0);
  const n1 = kN1, n2 = kN2, n3 = kN3, tail = kTail, a1 = kA1, a2 = kA2, b1 = kB1, b2 = kB2;
  for (let i1 = 0; i1 < n1; i1++, a += a1, b += b1) {
    let pa2 = a, pb2 = b;
    for (let i2 = 0; i2 < n2; i2++, pa2 += a2, pb2 += b2) {
      let pa = pa2, pb = pb2;
      for (let i3 = 0; i3 < n3; i3++, pa += 16, pb += 16) s0 = f32x4.add(s0, f32x4.mul(v128.load(pa), v128.load(pb)));
      for (let t = 0; t < tail; t++, pa += 4, pb += 4) s0 = f32x4.add(s0, f32x4.mul(v128.load32_zero(pa), v128.load32_zero(pb)));
    }
  }
  const s = f32x4.add(s0, i32x4.shuffle(s0, s0, 2, 3, 0, 1));
  store<f32>(c, load<f32>(c) + f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1));
}

/** C[m][j] += the dot tiles of M rows for each of N columns; column j's B starts bStep·j bytes on. */
function dotTiles(m: i32, n: i32, a: usize, b: usize, bStep: usize, c: usize): void {
  const am4 = tileA << 2, cm4 = tileC << 2;
  for (let j = 0; j < n; j++, b += bStep, c += 4) {
    let i = 0, ai = a, ci = c;
    for (; i + 4 <= m; i += 4, ai += am4, ci += cm4) dotTile4(ai, b, ci);
    for (; i < m; i++, ai += tileA, ci += tileC) dotTile1(ai, b, ci); // the last M % 4 rows
  }
}

/** Sets the reduction walk of the tiles that follow. */
function walk(n1: i32, a1: usize, b1: usize, n2: i32, a2: usize, b2: usize, n3: i32, a3: usize, b3: usize, am: usize, cm: usize): void {
  kN1 = n1; kA1 = a1; kB1 = b1; kN2 = n2; kA2 = a2; kB2 = b2; kN3 = n3; kA3 = a3; kB3 = b3; tileA = am; tileC = cm;
}

// ---- padded rows ------------------------------------------------------------------

/**
 * Copies `count` rows of an NHWC tensor into scratch rows at `dst` of `width` pixels
 * × `kc` channels. Source row r starts at src + r·rowStep bytes (rowStep may wrap
 * round, to walk rows backwards); its pixel p, at p·pixelBytes, lands at scratch
 * pixel `left` + p; scratch pixels outside the source row are zero.
 */
function copyRows(dst: usize, src: usize, rowStep: usize, count: i32, srcWidth: i32, pixelBytes: usize, kc: i32, left: i32, width: i32): void {
  const lo = max(0, left), hi = max(lo, min(width, left + srcWidth)); // scratch pixels that hold source pixels
  const kcBytes = <usize>kc << 2, rowBytes = <usize>width * kcBytes;
  for (let r = 0; r < count; r++, src += rowStep, dst += rowBytes) {
    memory.fill(dst, 0, <usize>lo * kcBytes);
    memory.fill(dst + <usize>hi * kcBytes, 0, <usize>(width - hi) * kcBytes);
    let s = src + <usize>(lo - left) * pixelBytes, d = dst + <usize>lo * kcBytes;
    if (pixelBytes == kcBytes) { memory.copy(d, s, <usize>(hi - lo) * kcBytes); continue; } // whole pixels: one run
    for (let p = lo; p < hi; p++, s += pixelBytes, d += kcBytes) {
      let k = 0;
      for (; k + 4 <= kc; k += 4) v128.store(d + (<usize>k << 2), v128.load(s + (<usize>k << 2)));
      for (; k < kc; k++) store<f32>(d + (<usize>k << 2), load<f32>(s + (<usize>k << 2))); // the last kc % 4 channels
    }
  }
}

/** floor(a / b) for b > 0. */
@inline function floorDiv(a: i32, b: i32): i32 {
  const q = a / b;
  return q * b > a ? q - 1 : q;
}

function gcd(a: i32, b: i32): i32 {
  while (b != 0) { const t = a % b; a = b; b = t; }
  return a;
}

// ---- conv2d -------------------------------------------------------------------------

export function f32_conv2d_nhwc__simd128(
  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, groups: i32,
  x: usize, filter: usize, y: usize, bias: usize, activation: i32,
): void {
  const cig = cin / groups, cog = cout / groups;
  if (cig == 1 && cog == 1) { depthwise(DEPTHWISE_FORWARD, n, h, w, cin, oh, ow, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, x, y, filter, bias, activation == 1); return; }
  const wp = (ow - 1) * strideW + (kw - 1) * dilationW + 1; // pixels of a padded input row that the output row reads
  const kc = min(cig, ROWS_FLOATS / wp); // input channels per pass: at least one padded row must fit
  if (kc == 0) {
    f32_conv2d_nhwc__scalar(n, h, w, cin, oh, ow, cout, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, groups, x, filter, y, bias, activation);
    return;
  }
  const direct = groups == 1 && kc == cin && padLeft == 0 && wp <= w; // x's own rows need no padding
  // when a whole image's padded rows fit, they are copied once per image, not once per output row that reads them
  const whole = !direct && kc == cig && h * wp * cig <= ROWS_FLOATS;
  const act = activation == 1;
  const pixelBytes = <usize>cin << 2, coutBytes = <usize>cout << 2;
  for (let g = 0; g < groups; g++) {
    const gBias: usize = bias == 0 ? 0 : bias + (<usize>(g * cog) << 2);
    for (let b = 0; b < n; b++) {
      if (whole) copyRows(rows, x + <usize>(b * h * w) * pixelBytes + (<usize>(g * cig) << 2), <usize>w * pixelBytes, h, w, pixelBytes, cig, padLeft, wp);
      for (let oy = 0; oy < oh; oy++) {
        const iy0 = oy * strideH - padTop;
        const kyLo = iy0 >= 0 ? 0 : (dilationH - 1 - iy0) / dilationH; // first ky inside the image
        const kyHi = iy0 > h - 1 ? 0 : min(kh, (h - 1 - iy0) / dilationH + 1);
        const yRow = y + <usize>((b * oh + oy) * ow) * coutBytes + (<usize>(g * cog) << 2);
        if (kyLo >= kyHi) { // every tap in the padding: bias and activation only
          walk(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, coutBytes);
          tiles(ow, cog, 0, 0, yRow, gBias ? START_BIAS : START_ZERO, gBias, act);
          continue;
        }
        for (let c0 = 0; c0 < cig; c0 += kc) {
          const kcs = min(kc, cig - c0);
          const rowBytes = <usize>(wp * kcs) << 2;
          const rowsPerPass = ROWS_FLOATS / (wp * kcs);
          for (let kyA = kyLo; kyA < kyHi; kyA += rowsPerPass) {
            const kyB = min(kyHi, kyA + rowsPerPass);
            const first = c0 == 0 && kyA == kyLo, last = c0 + kcs == cig && kyB == kyHi;
            const src = x + <usize>((b * h + iy0 + kyA * dilationH) * w) * pixelBytes + (<usize>(g * cig + c0) << 2);
            const srcRowStep = <usize>(dilationH * w) * pixelBytes;
            let a = rows, aRow = rowBytes;
            if (direct) { a = src; aRow = srcRowStep; }
            else if (whole) { a = rows + <usize>(iy0 + kyA * dilationH) * rowBytes; aRow = <usize>dilationH * rowBytes; }
            else copyRows(rows, src, srcRowStep, kyB - kyA, w, pixelBytes, kcs, padLeft, wp);
            const kcBytes = <usize>kcs << 2;
            const fb = filter + <usize>((kyA * kw * cig + c0) * cout + g * cog) * 4;
            const start = first ? (gBias ? START_BIAS : START_ZERO) : START_C;
            if (dilationW == 1 && kcs == cig) { // (kx, ci) is one contiguous run in both x and the filter
              edgeRow(ow, cog, kyB - kyA, aRow, a, fb, yRow, start, gBias, last && act, w, cig, coutBytes, kw, strideW, padLeft);
            } else {
              walk(kyB - kyA, aRow, <usize>(kw * cig) * coutBytes, kw, <usize>dilationW * kcBytes, <usize>cig * coutBytes, kcs, 4, coutBytes, <usize>strideW * kcBytes, coutBytes);
              tiles(ow, cog, a, fb, yRow, start, gBias, last && act);
            }
          }
        }
      }
    }
  }
}

/**
 * One output row of a convolution whose (kx, ci) taps are one contiguous run (no
 * dilation along x, all of a group's channels in one pass): the pixels at each
 * edge whose first or last taps fall on the zero padding get tiles of their own
 * that skip those taps (with 5×5 "same" padding, 6 of a row's 70 tap columns at
 * 14 pixels). An edge takes its own tiles only when they stay wide: at least 3
 * pixels, or 2 (2×16 tiles) when the columns come in 16s. Skipping a product
 * with a padding zero leaves the sum as the reference's, which skips it too.
 */
function edgeRow(ow: i32, cog: i32, rowsK: i32, aRow: usize, a: usize, fb: usize, yRow: usize, start: i32, bias: usize, act: bool,
  w: i32, cig: i32, coutBytes: usize, kw: i32, strideW: i32, padLeft: i32): void {
  let left = min(ow, (padLeft + strideW - 1) / strideW); // pixels whose first tap is padding
  let right = min(ow, max(left, floorDiv(w + padLeft - kw, strideW) + 1)); // from here on the last tap is padding
  if (!wideEdge(left, cog)) left = 0;
  if (!wideEdge(ow - right, cog)) right = ow;
  if (left > 0) edgeTiles(0, left, cog, rowsK, aRow, a, fb, yRow, start, bias, act, w, cig, coutBytes, kw, strideW, padLeft);
  edgeTiles(left, right, cog, rowsK, aRow, a, fb, yRow, start, bias, act, w, cig, coutBytes, kw, strideW, padLeft);
  if (right < ow) edgeTiles(right, ow, cog, rowsK, aRow, a, fb, yRow, start, bias, act, w, cig, coutBytes, kw, strideW, padLeft);
}

/** Whether an edge of `pixels` pixels gets tiles as efficient as the row's own. */
@inline function wideEdge(pixels: i32, cog: i32): bool {
  return pixels >= 3 || (pixels == 2 && cog % 16 == 0);
}

/** The tiles of pixels [p0, p1) of a row over the taps kx that any of them reads inside the image. */
function edgeTiles(p0: i32, p1: i32, cog: i32, rowsK: i32, aRow: usize, a: usize, fb: usize, yRow: usize, start: i32, bias: usize, act: bool,
  w: i32, cig: i32, coutBytes: usize, kw: i32, strideW: i32, padLeft: i32): void {
  if (p0 >= p1) return;
  const kxLo = max(0, padLeft - (p1 - 1) * strideW), kxHi = max(kxLo, min(kw, w + padLeft - p0 * strideW));
  const kcBytes = <usize>cig << 2, pixelA = <usize>strideW * kcBytes;
  walk(rowsK, aRow, <usize>(kw * cig) * coutBytes, 1, 0, 0, (kxHi - kxLo) * cig, 4, coutBytes, pixelA, coutBytes);
  tiles(p1 - p0, cog, a + <usize>p0 * pixelA + <usize>kxLo * kcBytes, fb + <usize>(kxLo * cig) * coutBytes, yRow + <usize>p0 * coutBytes, start, bias, act);
}

export function f32_conv2d_nhwc__scalar(
  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, groups: i32,
  x: usize, filter: usize, y: usize, bias: usize, activation: i32,
): void {
  const cig = cin / groups, cog = cout / groups;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    for (let co = 0; co < cout; co++) {
      const g = co / cog;
      let s: f32 = bias == 0 ? 0 : load<f32>(bias + (<usize>co << 2));
      for (let ky = 0; ky < kh; ky++) {
        const iy = oy * strideH - padTop + ky * dilationH;
        if (iy < 0 || iy >= h) continue; // padding contributes zero
        for (let kx = 0; kx < kw; kx++) {
          const ix = ox * strideW - padLeft + kx * dilationW;
          if (ix < 0 || ix >= w) continue;
          for (let ci = 0; ci < cig; ci++) {
            const xv = load<f32>(x + (<usize>(((b * h + iy) * w + ix) * cin + g * cig + ci) << 2));
            s += xv * load<f32>(filter + (<usize>(((ky * kw + kx) * cig + ci) * cout + co) << 2));
          }
        }
      }
      store<f32>(y + (<usize>(((b * oh + oy) * ow + ox) * cout + co) << 2), activation == 1 && !(s > 0) ? 0 : s);
    }
  }
}

// ---- filter gradient -------------------------------------------------------------------

export function f32_conv2d_nhwc_backprop_filter__simd128(
  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, groups: i32,
  x: usize, dy: usize, dfilter: usize,
): void {
  f32_conv2d_nhwc_backprop_filter_cols__simd128(n, h, w, cin, oh, ow, cout, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, groups, x, dy, dfilter, 0, cout);
}

/**
 * The filter gradient's output channels [co0, co1) only (one thread's share: each
 * value is the same sum, in the same order, as in the whole call). Only groups 1
 * splits; otherwise, and for the scalar fallback, the share that starts at
 * channel 0 computes everything and the others nothing.
 */
export function f32_conv2d_nhwc_backprop_filter_cols__simd128(
  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, groups: i32,
  x: usize, dy: usize, dfilter: usize, co0: i32, co1: i32,
): void {
  const cig = cin / groups, cog = cout / groups;
  const wp = (ow - 1) * strideW + (kw - 1) * dilationW + 1;
  const spanH = (kh - 1) * dilationH + 1; // input rows one output row reads
  const kc = min(cig, ROWS_FLOATS / (wp * spanH)); // input channels per pass: one output row's slab must fit
  const whole = groups != 1 || kc == 0;
  if (whole && co0 != 0) return;
  if (co0 >= co1) return;
  if (cig == 1 && cog == 1) { depthwise(DEPTHWISE_FILTER, n, h, w, cin, oh, ow, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, x, dy, dfilter, 0, false); return; }
  if (kc == 0) {
    f32_conv2d_nhwc_backprop_filter__scalar(n, h, w, cin, oh, ow, cout, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, groups, x, dy, dfilter);
    return;
  }
  const c0w = whole ? 0 : co0, cw = whole ? cog : co1 - co0; // this call's columns of every group
  if (whole || cw == cout) memory.fill(dfilter, 0, <usize>(kh * kw * cig * cout) << 2);
  else for (let r = 0; r < kh * kw * cig; r++) memory.fill(dfilter + (<usize>(r * cout + c0w) << 2), 0, <usize>cw << 2);
  const pixelBytes = <usize>cin << 2, coutBytes = <usize>cout << 2;
  for (let g = 0; g < groups; g++) {
    for (let c0 = 0; c0 < cig; c0 += kc) {
      const kcs = min(kc, cig - c0), kcBytes = <usize>kcs << 2;
      const rowBytes = <usize>wp * kcBytes;
      const ohPass = (ROWS_FLOATS / (wp * kcs) - spanH) / strideH + 1; // output rows whose input slab fits
      const collapse = dilationW == 1 && kcs == cig; // (kx, ci) is one run of tile rows
      for (let b = 0; b < n; b++) {
        for (let oyA = 0; oyA < oh; oyA += ohPass) {
          const oyB = min(oh, oyA + ohPass);
          const iyA = oyA * strideH - padTop, slabH = (oyB - 1 - oyA) * strideH + spanH;
          const iyLo = max(0, iyA), iyHi = min(h, iyA + slabH); // slab rows outside the image are never read
          if (iyLo < iyHi) {
            const src = x + <usize>((b * h + iyLo) * w) * pixelBytes + (<usize>(g * cig + c0) << 2);
            copyRows(rows + <usize>(iyLo - iyA) * rowBytes, src, <usize>w * pixelBytes, iyHi - iyLo, w, pixelBytes, kcs, padLeft, wp);
          }
          for (let ky = 0; ky < kh; ky++) {
            const t = padTop - ky * dilationH; // output rows whose input row is inside the image: 0 <= oy·sh - t < h
            const oyLo = max(oyA, t <= 0 ? 0 : (t + strideH - 1) / strideH);
            const oyHi = min(oyB, floorDiv(h - 1 + t, strideH) + 1);
            if (oyLo >= oyHi) continue;
            walk(oyHi - oyLo, <usize>strideH * rowBytes, <usize>(ow * cout) << 2, 1, 0, 0, ow, <usize>strideW * kcBytes, coutBytes, 4, coutBytes);
            const a = rows + <usize>((oyLo - oyA) * strideH + ky * dilationH) * rowBytes;
            const bp = dy + <usize>((b * oh + oyLo) * ow) * coutBytes + (<usize>(g * cog + c0w) << 2);
            const dw0 = dfilter + <usize>((ky * kw * cig + c0) * cout + g * cog + c0w) * 4;
            if (collapse) tiles(kw * kcs, cw, a, bp, dw0, START_C, 0, false);
            else for (let kx = 0; kx < kw; kx++) {
              tiles(kcs, cw, a + <usize>(kx * dilationW) * kcBytes, bp, dw0 + <usize>(kx * cig) * coutBytes, START_C, 0, false);
            }
          }
        }
      }
    }
  }
}

export function f32_conv2d_nhwc_backprop_filter__scalar(
  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, groups: i32,
  x: usize, dy: usize, dfilter: usize,
): void {
  const cig = cin / groups, cog = cout / groups;
  memory.fill(dfilter, 0, <usize>(kh * kw * cig * cout) << 2);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * strideH - padTop + ky * dilationH;
      if (iy < 0 || iy >= h) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * strideW - padLeft + kx * dilationW;
        if (ix < 0 || ix >= w) continue;
        for (let co = 0; co < cout; co++) {
          const g = co / cog;
          const d = load<f32>(dy + (<usize>(((b * oh + oy) * ow + ox) * cout + co) << 2));
          for (let ci = 0; ci < cig; ci++) {
            const p = dfilter + (<usize>(((ky * kw + kx) * cig + ci) * cout + co) << 2);
            store<f32>(p, load<f32>(p) + load<f32>(x + (<usize>(((b * h + iy) * w + ix) * cin + g * cig + ci) << 2)) * d);
          }
        }
      }
    }
  }
}

// ---- input gradient ---------------------------------------------------------------------
// dx[iy, ix, ci] = Σ dy[oy, ox, co]·f[ky, kx, ci, co] over the taps with iy = oy·sh - pt + ky·dh
// and ix = ox·sw - pl + kx·dw. For one dx row the valid ky form a progression (step
// sh / gcd(sh, dh)); their dy rows are copied, zero-padded, into scratch. The dx pixels
// of one phase ix ≡ rx (mod sw) share their valid kx (again a progression) and read
// consecutive dy pixels, so each phase is one row of tiles vectorised over ci.

export function f32_conv2d_nhwc_backprop_input__simd128(
  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, groups: i32,
  dy: usize, filter: usize, dx: usize,
): void {
  const cig = cin / groups, cog = cout / groups;
  if (cig == 1 && cog == 1) { depthwise(DEPTHWISE_INPUT, n, h, w, cin, oh, ow, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, dx, dy, filter, 0, false); return; }
  const oxLo = floorDiv(padLeft - (kw - 1) * dilationW, strideW), oxHi = floorDiv(w - 1 + padLeft, strideW);
  const wq = oxHi - oxLo + 1; // the dy pixels some dx pixel reads, padded row width
  // Cin per group below a vector: reduce along co (dot tiles, the filter as it is) instead of vectorising over ci
  const dot = cig < 4 && cog >= 4;
  const kc = min(cog, min(ROWS_FLOATS / wq, dot ? cog : PACK_FLOATS / (kw * cig))); // output channels per pass
  if (kc == 0) {
    f32_conv2d_nhwc_backprop_input__scalar(n, h, w, cin, oh, ow, cout, kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, groups, dy, filter, dx);
    return;
  }
  memory.fill(dx, 0, <usize>(n * h * w * cin) << 2);
  const kyStep = strideH / gcd(strideH, dilationH), oyStep = kyStep * dilationH / strideH;
  const kxStep = strideW / gcd(strideW, dilationW), oxStep = kxStep * dilationW / strideW;
  const coutBytes = <usize>cout << 2, cinBytes = <usize>cin << 2;
  for (let g = 0; g < groups; g++) {
    for (let c0 = 0; c0 < cog; c0 += kc) {
      const kcs = min(kc, cog - c0), kcBytes = <usize>kcs << 2;
      const kyPass = dot ? ROWS_FLOATS / (wq * kcs) : min(ROWS_FLOATS / (wq * kcs), PACK_FLOATS / (kw * kcs * cig));
      // B: the packed [ky][kx][co][ci] filter, or for dot tiles the filter's own [ky][kx][ci][co]
      const tapBytes: usize = dot ? <usize>(cig * cout) << 2 : <usize>(kcs * cig) << 2;
      for (let kyA = 0; kyA < kh; kyA += kyPass) {
        const kyB = min(kh, kyA + kyPass);
        if (!dot) packTransposed(filter, kyA, kyB, kw, cig, cout, g * cog + c0, kcs);
        const b0 = dot ? filter + (<usize>(kyA * kw * cig * cout + g * cog + c0) << 2) : pack;
        for (let b = 0; b < n; b++) {
          for (let iy = 0; iy < h; iy++) {
            // the first ky in [kyA, kyB) that lands on a dy row, then the rows inside dy
            let kyF = kyA;
            while (kyF < kyB && (iy + padTop - kyF * dilationH) % strideH != 0) kyF++;
            while (kyF < kyB && (iy + padTop - kyF * dilationH) / strideH >= oh) kyF += kyStep;
            let nky = 0;
            while (kyF + nky * kyStep < kyB && iy + padTop - (kyF + nky * kyStep) * dilationH >= 0) nky++;
            if (nky == 0) continue;
            const oyF = (iy + padTop - kyF * dilationH) / strideH;
            const src = dy + <usize>((b * oh + oyF) * ow) * coutBytes + (<usize>(g * cog + c0) << 2);
            copyRows(rows, src, -(<usize>(oyStep * ow) * coutBytes), nky, ow, coutBytes, kcs, -oxLo, wq);
            for (let rx = 0; rx < min(strideW, w); rx++) {
              let kxF = 0;
              while (kxF < kw && (rx + padLeft - kxF * dilationW) % strideW != 0) kxF++;
              if (kxF >= kw) continue; // no tap lands on this phase: dx stays zero
              const a = rows + <usize>(floorDiv(rx + padLeft - kxF * dilationW, strideW) - oxLo) * kcBytes;
              const bp = b0 + <usize>((kyF - kyA) * kw + kxF) * tapBytes;
              const c = dx + <usize>((b * h + iy) * w + rx) * cinBytes + (<usize>(g * cig) << 2);
              const m = (w - rx + strideW - 1) / strideW;
              walk(nky, <usize>wq * kcBytes, <usize>(kyStep * kw) * tapBytes, (kw - 1 - kxF) / kxStep + 1, -(<usize>oxStep * kcBytes),
                <usize>kxStep * tapBytes, kcs, 4, <usize>cig << 2, kcBytes, <usize>strideW * cinBytes);
              if (dot) { kN3 = kcs >> 2; kTail = kcs & 3; dotTiles(m, cig, a, bp, coutBytes, c); }
              else tiles(m, cig, a, bp, c, START_C, 0, false);
            }
          }
        }
      }
    }
  }
}

/** pack[ky - kyA][kx][co][ci] = f[ky][kx][ci][co0 + co] for ky in [kyA, kyB), co < kc. */
function packTransposed(filter: usize, kyA: i32, kyB: i32, kw: i32, cig: i32, cout: i32, co0: i32, kc: i32): void {
  let d = pack;
  for (let ky = kyA; ky < kyB; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const tap = filter + (<usize>(((ky * kw + kx) * cig) * cout + co0) << 2);
      for (let co = 0; co < kc; co++) {
        let s = tap + (<usize>co << 2);
        for (let ci = 0; ci < cig; ci++, s += <usize>cout << 2, d += 4) store<f32>(d, load<f32>(s));
      }
    }
  }
}

export function f32_conv2d_nhwc_backprop_input__scalar(
  n: i32, h: i32, w: i32, cin: i32, oh: i32, ow: i32, cout: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, groups: i32,
  dy: usize, filter: usize, dx: usize,
): void {
  const cig = cin / groups, cog = cout / groups;
  memory.fill(dx, 0, <usize>(n * h * w * cin) << 2);
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    for (let ky = 0; ky < kh; ky++) {
      const iy = oy * strideH - padTop + ky * dilationH;
      if (iy < 0 || iy >= h) continue;
      for (let kx = 0; kx < kw; kx++) {
        const ix = ox * strideW - padLeft + kx * dilationW;
        if (ix < 0 || ix >= w) continue;
        for (let co = 0; co < cout; co++) {
          const g = co / cog;
          const d = load<f32>(dy + (<usize>(((b * oh + oy) * ow + ox) * cout + co) << 2));
          for (let ci = 0; ci < cig; ci++) {
            const p = dx + (<usize>(((b * h + iy) * w + ix) * cin + g * cig + ci) << 2);
            store<f32>(p, load<f32>(p) + load<f32>(filter + (<usize>(((ky * kw + kx) * cig + ci) * cout + co) << 2)) * d);
          }
        }
      }
    }
  }
}

// ---- depthwise, one input and one output channel per group --------------------------------
// No reduction across channels: every in-image tap is dst[c] += a[c]·b[c] along the
// channel vector, so all three kernels are one loop over output pixels and their taps.

const DEPTHWISE_FORWARD = 0, DEPTHWISE_INPUT = 1, DEPTHWISE_FILTER = 2;

/** dst[c] += a[c]·b[c] for c < count. */
@inline function maddRows(dst: usize, a: usize, b: usize, count: i32): void {
  let c = 0;
  for (; c + 4 <= count; c += 4, dst += 16, a += 16, b += 16) v128.store(dst, f32x4.add(v128.load(dst), f32x4.mul(v128.load(a), v128.load(b))));
  for (; c < count; c++, dst += 4, a += 4, b += 4) store<f32>(dst, load<f32>(dst) + load<f32>(a) * load<f32>(b)); // the last count % 4
}

/**
 * For each output pixel o and in-image tap (input pixel i, filter tap f): forward
 * y[o] += x[i]·f (y starting at the bias), input gradient dx[i] += dy[o]·f, filter
 * gradient df[f] += x[i]·dy[o]; `input`, `output` and `taps` hold x or dx, y or dy,
 * filter or df.
 */
function depthwise(kind: i32, n: i32, h: i32, w: i32, c: i32, oh: i32, ow: i32, kh: i32, kw: i32,
  strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32,
  input: usize, output: usize, taps: usize, bias: usize, act: bool): void {
  const pixel = <usize>c << 2;
  if (kind == DEPTHWISE_INPUT) memory.fill(input, 0, <usize>(n * h * w) * pixel);
  if (kind == DEPTHWISE_FILTER) memory.fill(taps, 0, <usize>(kh * kw) * pixel);
  let o = output;
  for (let b = 0; b < n; b++) for (let oy = 0; oy < oh; oy++) {
    const ty = padTop - oy * strideH, ty1 = h - 1 + padTop - oy * strideH; // in image: ty <= ky·dh <= ty1
    const kyLo = ty <= 0 ? 0 : (ty + dilationH - 1) / dilationH, kyHi = ty1 < 0 ? 0 : min(kh, ty1 / dilationH + 1);
    for (let ox = 0; ox < ow; ox++, o += pixel) {
      const tx = padLeft - ox * strideW, tx1 = w - 1 + padLeft - ox * strideW;
      const kxLo = tx <= 0 ? 0 : (tx + dilationW - 1) / dilationW, kxHi = tx1 < 0 ? 0 : min(kw, tx1 / dilationW + 1);
      if (kind == DEPTHWISE_FORWARD) {
        if (bias) memory.copy(o, bias, pixel);
        else memory.fill(o, 0, pixel);
      }
      for (let ky = kyLo; ky < kyHi; ky++) {
        const row = input + <usize>((b * h + ky * dilationH - ty) * w - tx) * pixel, tapRow = taps + <usize>(ky * kw) * pixel;
        for (let kx = kxLo; kx < kxHi; kx++) {
          const i = row + <usize>(kx * dilationW) * pixel, f = tapRow + <usize>kx * pixel;
          if (kind == DEPTHWISE_FORWARD) maddRows(o, i, f, c);
          else if (kind == DEPTHWISE_INPUT) maddRows(i, o, f, c);
          else maddRows(f, i, o, c);
        }
      }
      if (act) {
        let ch = 0;
        for (; ch + 4 <= c; ch += 4) v128.store(o + (<usize>ch << 2), relu(v128.load(o + (<usize>ch << 2))));
        for (; ch < c; ch++) { const v = load<f32>(o + (<usize>ch << 2)); store<f32>(o + (<usize>ch << 2), v > 0 ? v : 0); }
      }
    }
  }
}
