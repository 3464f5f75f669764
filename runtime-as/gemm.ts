// f32 GEMM family: C = op(A)·op(B) (+ old C) (+ bias per column), then the activation.
//
// op(A) is m×k, op(B) is k×n, C is m×n; every matrix is row-major with its own row
// stride, and a transposed operand is stored the other way round (A as k×m, B as n×k).
// Pointers are byte offsets, 4-byte aligned at least.
//
// `__simd128` is GotoBLAS/BLIS-shaped: op(B) is packed per KC×NC block into NR-wide
// column panels and op(A) per MC×KC block into MR-tall row panels, both in static,
// 64-byte-aligned scratch, so the 4×8 micro-kernel always streams contiguous,
// non-transposed data. A transpose only changes which packing loop runs (a copy or a
// 4×4 shuffle transpose), so all four combinations run at the same speed. Panels are
// zero-padded to the full tile; edge tiles finish through a small scratch tile.
// Scratch is per thread (static for thread 0), so the threads of a run can work on
// disjoint parts of C at once.
// 4×8 won the measurement: 8 f32x4 accumulators + 2 B vectors + a splat + a product
// fit V8's 15 usable xmm registers, where 5×8 and 6×8 spill (about 40% slower).

import { madd } from './simd';

const MR = 4; // micro-tile rows (splatted from packed A)
const NR = 8; // micro-tile columns (two f32x4 of packed B)
const KC = 256; // k per block: one 4×KC A panel (4 KB) and one KC×8 B panel (8 KB) stay in L1
const MC = 128; // rows per packed A block (128 KB, in L2)
const NC = 512; // columns per packed B block (512 KB)

// Thread 0 packs into static scratch; every other thread of a run gets its own
// region through `f32_gemm_scratch_set` (runtime-as/threads.ts).
let packedA: usize = memory.data(MC * KC * 4, 64);
let packedB: usize = memory.data(KC * NC * 4, 64);
let edgeTile: usize = memory.data(MR * NR * 4, 64);

/** Bytes of scratch one thread's GEMM calls need (64-byte aligned blocks). */
export function f32_gemm_scratch_bytes(): usize {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** Points this instance's packing scratch at `at` (64-byte aligned, `f32_gemm_scratch_bytes` long). */
export function f32_gemm_scratch_set(at: usize): void {
  packedA = at;
  packedB = at + MC * KC * 4;
  edgeTile = packedB + KC * NC * 4;
  keptB = false;
}

// ---- a kept op(B) ------------------------------------------------------------------
// A loop that multiplies by the same matrix every step (an RNN's recurrent weight)
// calls `f32_gemm_stable_b__simd128`: when the whole op(B) fits one packed block, it
// stays packed between calls with the same B (address, shape, stride, transpose), so
// the loop packs it once instead of every step. The caller promises B's values do not
// change between such calls, and forgets it (`f32_gemm_forget_b`) before and after
// the loop; every other call that packs B overwrites the block and clears the key.
let keptB = false;
let keptAt: usize = 0;
let keptK: i32 = 0;
let keptN: i32 = 0;
let keptLd: i32 = 0;
let keptTrans = false;

/** Drops the kept op(B): B's values may change from here on. */
export function f32_gemm_forget_b(): void {
  keptB = false;
}

// ---- a prepacked op(B) -----------------------------------------------------------
// A weight that many runs multiply by (a dense layer's kernel in predict) can stay
// packed in a buffer of its own between runs: `f32_gemm_pack_b` fills it once and
// `f32_gemm_prepacked__simd128` reads its panels instead of packing B per block.
// The layout is the per-call packing's, block after block of k: for each KC block
// of k, every NR-wide panel of all n columns, each kc steps × NR floats. A block's
// panels are one sequential stream (as packed per call), and a call for columns
// from any panel on (a thread's share) finds its panels at the same places. The
// buffer's first word says whether it holds B's current values: the module clears
// it whenever a parameter may have changed (a training step, or the host writing one).

/** Bytes of a prepacked op(B) buffer: the flag's 64-byte line, then ⌈n/NR⌉ panels of k × NR floats. */
export function f32_gemm_packed_bytes(n: i32, k: i32): usize {
  return 64 + ((<usize>((n + NR - 1) / NR) * NR * <usize>k) << 2);
}

/** Packs op(B) into `buffer` unless its flag says it is current (and unless m rows take the few-rows path, which packs nothing). */
export function f32_gemm_pack_b(m: i32, n: i32, k: i32, b: usize, ldb: i32, transB: bool, buffer: usize): void {
  if (load<i32>(buffer) != 0 || n <= 0 || (m <= SMALL_M && !transB)) return;
  const psB = transB ? 1 : ldb, wsB = transB ? ldb : 1;
  const panels = (n + NR - 1) / NR;
  for (let pc = 0; pc < k; pc += KC) {
    packBlock(b + ((<usize>pc * psB) << 2), psB, wsB, buffer + 64 + ((<usize>pc * panels * NR) << 2), NR, n, min(KC, k - pc));
  }
  store<i32>(buffer, 1);
}

/** Marks a prepacked buffer stale: the parameter it copies may have changed. */
export function f32_gemm_packed_stale(buffer: usize): void {
  store<i32>(buffer, 0);
}

/**
 * `f32_gemm__simd128` with op(B)'s panels read from a prepacked buffer (`buffer`,
 * filled for all `allColumns` of B) instead of packed per call; this call's B
 * starts at column `firstColumn` of it (a multiple of NR). The same kernel,
 * blocks and sums, so the same bits.
 */
export function f32_gemm_prepacked__simd128(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32, transA: bool,
  b: usize, ldb: i32, transB: bool,
  c: usize, ldc: i32,
  accumulate: bool, bias: usize, activation: i32,
  buffer: usize, allColumns: i32, firstColumn: i32,
): void {
  prepackedPanels = (allColumns + NR - 1) / NR;
  prepackedFirst = firstColumn / NR;
  gemm(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, accumulate, bias, activation, false, buffer + 64);
}
let prepackedPanels: i32 = 0, prepackedFirst: i32 = 0;

// ---- packing -------------------------------------------------------------------
// A panel is kc rows of `width` floats: dst[p*width + w] = X(p, w), where element
// (p, w) of the source sits at src + (p*ps + w*ws)*4. For A, w is a row of op(A); for
// B, w is a column of op(B); p always runs along k.

/** Unit stride along w: each k step is `width` contiguous floats, copied as vectors. */
function packCopy(src: usize, ps: i32, dst: usize, width: i32, kc: i32): void {
  const step = <usize>ps << 2;
  if (width == NR) {
    for (let p = 0; p < kc; p++, src += step, dst += NR << 2) {
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
    }
  } else {
    for (let p = 0; p < kc; p++, src += step, dst += MR << 2) v128.store(dst, v128.load(src));
  }
}

/** Unit stride along p: 4 lanes of w at a time, read as 4 rows and transposed 4×4. */
function packTransposed(src: usize, ws: i32, dst: usize, width: i32, kc: i32): void {
  const rowBytes = <usize>ws << 2;
  const dstStep = <usize>width << 2;
  for (let g = 0; g < width; g += 4) {
    const s0 = src + <usize>g * rowBytes, s1 = s0 + rowBytes, s2 = s1 + rowBytes, s3 = s2 + rowBytes;
    let d = dst + (<usize>g << 2);
    let p = 0;
    for (; p + 4 <= kc; p += 4) {
      const q = <usize>p << 2;
      const r0 = v128.load(s0 + q), r1 = v128.load(s1 + q), r2 = v128.load(s2 + q), r3 = v128.load(s3 + q);
      const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
      v128.store(d, i32x4.shuffle(t0, t2, 0, 1, 4, 5)); d += dstStep;
      v128.store(d, i32x4.shuffle(t0, t2, 2, 3, 6, 7)); d += dstStep;
      v128.store(d, i32x4.shuffle(t1, t3, 0, 1, 4, 5)); d += dstStep;
      v128.store(d, i32x4.shuffle(t1, t3, 2, 3, 6, 7)); d += dstStep;
    }
    // k tail (kc not a multiple of 4): one k step of the 4 lanes at a time
    for (; p < kc; p++, d += dstStep) {
      const q = <usize>p << 2;
      store<f32>(d, load<f32>(s0 + q));
      store<f32>(d, load<f32>(s1 + q), 4);
      store<f32>(d, load<f32>(s2 + q), 8);
      store<f32>(d, load<f32>(s3 + q), 12);
    }
  }
}

/** Edge panel (fewer than `width` rows of A or columns of B left): scalar, zero-padded. */
function packEdge(src: usize, ps: i32, ws: i32, dst: usize, width: i32, valid: i32, kc: i32): void {
  for (let p = 0; p < kc; p++) {
    for (let w = 0; w < width; w++, dst += 4) {
      store<f32>(dst, w < valid ? load<f32>(src + ((<usize>p * ps + <usize>w * ws) << 2)) : 0);
    }
  }
}

/** Packs `count` lanes of w (rows of A or columns of B) × kc into panels of `width`. */
function packBlock(src: usize, ps: i32, ws: i32, dst: usize, width: i32, count: i32, kc: i32): void {
  const panelBytes = <usize>(width * kc) << 2;
  const panelStep = <usize>(width * ws) << 2;
  for (let w = 0; w < count; w += width, src += panelStep, dst += panelBytes) {
    const valid = min(width, count - w);
    if (valid < width) packEdge(src, ps, ws, dst, width, valid, kc);
    else if (ws == 1) packCopy(src, ps, dst, width, kc);
    else if (ps == 1) packTransposed(src, ws, dst, width, kc);
    else packEdge(src, ps, ws, dst, width, width, kc); // neither stride is 1: only reachable by exotic strides
  }
}

// ---- micro-kernel --------------------------------------------------------------

/** One row of a full tile: x0|x1 (+ old C) + bias, activation, stored to C. */
// @ts-ignore: decorator
@inline function finishRow(c: usize, x0: v128, x1: v128, addC: bool, b0: v128, b1: v128, relu: bool): void {
  if (addC) {
    x0 = f32x4.add(x0, v128.load(c));
    x1 = f32x4.add(x1, v128.load(c, 16));
  }
  x0 = f32x4.add(x0, b0);
  x1 = f32x4.add(x1, b1);
  if (relu) {
    x0 = f32x4.max(x0, f32x4.splat(0));
    x1 = f32x4.max(x1, f32x4.splat(0));
  }
  v128.store(c, x0);
  v128.store(c, x1, 16);
}

/** Edge tile (m or n tail): the parked 4×8 accumulators, finished only on the mr×nr corner. */
function finishEdge(c: usize, ldc: usize, mr: i32, nr: i32, addC: bool, bias: usize, relu: bool): void {
  for (let i = 0; i < mr; i++, c += ldc) {
    for (let j = 0; j < nr; j++) {
      const at = c + (<usize>j << 2);
      let x = load<f32>(edgeTile + (<usize>(i * NR + j) << 2));
      if (addC) x += load<f32>(at);
      if (bias) x += load<f32>(bias + (<usize>j << 2));
      if (relu) x = max<f32>(x, 0);
      store<f32>(at, x);
    }
  }
}

/** 4×8 tile of C from kc steps of packed A (4 floats a step) and packed B (8 a step). */
// Inlined on purpose: V8's TurboFan unrolls a wasm loop only if it is small for its
// nesting depth; inside the blocking loops this one gets unrolled, which measured about
// 20% faster than the same loop in a stand-alone function.
// @ts-ignore: decorator
@inline function kernel4x8(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, mr: i32, nr: i32, addC: bool, bias: usize, relu: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const end = pb + (<usize>(kc * NR) << 2);
  for (; pb < end; pa += MR << 2, pb += NR << 2) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
  }
  if (mr == MR && nr == NR) {
    // full tile: fused epilogue straight into C
    const b0 = bias ? v128.load(bias) : f32x4.splat(0);
    const b1 = bias ? v128.load(bias, 16) : f32x4.splat(0);
    finishRow(c, c00, c01, addC, b0, b1, relu);
    finishRow(c + ldc, c10, c11, addC, b0, b1, relu);
    finishRow(c + 2 * ldc, c20, c21, addC, b0, b1, relu);
    finishRow(c + 3 * ldc, c30, c31, addC, b0, b1, relu);
  } else {
    // edge tile: park the accumulators, then finish the valid corner scalar by scalar
    v128.store(edgeTile, c00, 0);
    v128.store(edgeTile, c01, 16);
    v128.store(edgeTile, c10, 32);
    v128.store(edgeTile, c11, 48);
    v128.store(edgeTile, c20, 64);
    v128.store(edgeTile, c21, 80);
    v128.store(edgeTile, c30, 96);
    v128.store(edgeTile, c31, 112);
    finishEdge(c, ldc, mr, nr, addC, bias, relu);
  }
}

// ---- few rows ---------------------------------------------------------------------

/**
 * m ≤ SMALL_M with op(B) not transposed (batch-1 inference through a dense layer):
 * B's rows stream once, straight from memory, and the m rows of C stay in L1. Packing
 * would read and write all of B for a single use of it.
 */
const SMALL_M = 4;

function gemmFewRows(
  m: i32, n: i32, k: i32, a: usize, lda: i32, transA: bool, b: usize, ldb: i32,
  c: usize, ldc: i32, accumulate: bool, bias: usize, relu: bool,
): void {
  const ldcBytes = <usize>ldc << 2;
  const n4 = n & ~3;
  if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldcBytes, 0, <usize>n << 2);
  for (let p = 0; p < k; p++) {
    const row = b + ((<usize>p * ldb) << 2);
    for (let i = 0; i < m; i++) {
      const av = load<f32>(a + ((transA ? <usize>p * lda + i : <usize>i * lda + p) << 2));
      const s = f32x4.splat(av);
      const out = c + <usize>i * ldcBytes;
      let j = 0;
      for (; j < n4; j += 4) {
        const at = <usize>j << 2;
        v128.store(out + at, f32x4.add(v128.load(out + at), f32x4.mul(s, v128.load(row + at))));
      }
      for (; j < n; j++) store<f32>(out + (<usize>j << 2), load<f32>(out + (<usize>j << 2)) + av * load<f32>(row + (<usize>j << 2)));
    }
  }
  if (!bias && !relu) return;
  for (let i = 0; i < m; i++) {
    const out = c + <usize>i * ldcBytes;
    for (let j = 0; j < n; j++) {
      let v = load<f32>(out + (<usize>j << 2));
      if (bias) v += load<f32>(bias + (<usize>j << 2));
      if (relu) v = max<f32>(v, 0);
      store<f32>(out + (<usize>j << 2), v);
    }
  }
}

// ---- entry points --------------------------------------------------------------

/** C = op(A)·op(B) (+ C when accumulate) (+ bias[j]); activation 1 = relu. Blocked, packed, 4×8 SIMD tiles. */
export function f32_gemm__simd128(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32, transA: bool,
  b: usize, ldb: i32, transB: bool,
  c: usize, ldc: i32,
  accumulate: bool, bias: usize, activation: i32,
): void {
  gemm(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, accumulate, bias, activation, false, 0);
}

/** `f32_gemm__simd128` whose op(B) stays packed for the next call with the same B (see "a kept op(B)"). */
export function f32_gemm_stable_b__simd128(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32, transA: bool,
  b: usize, ldb: i32, transB: bool,
  c: usize, ldc: i32,
  accumulate: bool, bias: usize, activation: i32,
): void {
  gemm(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, accumulate, bias, activation, true, 0);
}

function gemm(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32, transA: bool,
  b: usize, ldb: i32, transB: bool,
  c: usize, ldc: i32,
  accumulate: bool, bias: usize, activation: i32, stable: bool, panels: usize,
): void {
  if (m <= 0 || n <= 0) return;
  if (m <= SMALL_M && !transB) {
    gemmFewRows(m, n, k, a, lda, transA, b, ldb, c, ldc, accumulate, bias, activation == 1);
    return;
  }
  // element (p, w) strides of each operand, w = row of op(A) / column of op(B)
  const psA = transA ? lda : 1, wsA = transA ? 1 : lda;
  const psB = transB ? 1 : ldb, wsB = transB ? ldb : 1;
  const ldcBytes = <usize>ldc << 2;
  const relu = activation == 1;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    let pc = 0;
    do { // do-while: k == 0 still runs one (empty) block, so C gets its epilogue
      const kc = min(KC, k - pc);
      const last = pc + kc >= k;
      const addC = accumulate || pc > 0; // later k blocks add onto the earlier ones
      // one block holds all of op(B) when n ≤ NC and k ≤ KC: a stable B packed by the last call is still there
      const whole = stable && n <= NC && k <= KC;
      if (panels == 0 && !(whole && keptB && keptAt == b && keptK == k && keptN == n && keptLd == ldb && keptTrans == transB)) {
        packBlock(b + ((<usize>pc * psB + <usize>jc * wsB) << 2), psB, wsB, packedB, NR, nc, kc);
        keptB = whole;
        keptAt = b; keptK = k; keptN = n; keptLd = ldb; keptTrans = transB;
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        packBlock(a + ((<usize>pc * psA + <usize>ic * wsA) << 2), psA, wsA, packedA, MR, mc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const pb = panels
            ? panels + ((<usize>pc * prepackedPanels + <usize>(prepackedFirst + (jc + jr) / NR) * kc) * NR << 2)
            : packedB + (<usize>(jr * kc) << 2);
          const biasAt = last && bias ? bias + (<usize>(jc + jr) << 2) : 0;
          let cAt = c + <usize>ic * ldcBytes + (<usize>(jc + jr) << 2);
          for (let ir = 0; ir < mc; ir += MR, cAt += ldcBytes * MR) {
            kernel4x8(kc, packedA + (<usize>(ir * kc) << 2), pb, cAt, ldcBytes, min(MR, mc - ir), nr, addC, biasAt, last && relu);
          }
        }
      }
      pc += kc;
    } while (pc < k);
  }
}

/** Reference: the plain triple loop, same contract as f32_gemm__simd128. */
export function f32_gemm__scalar(
  m: i32, n: i32, k: i32,
  a: usize, lda: i32, transA: bool,
  b: usize, ldb: i32, transB: bool,
  c: usize, ldc: i32,
  accumulate: bool, bias: usize, activation: i32,
): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum: f32 = 0;
      for (let p = 0; p < k; p++) {
        const ai = transA ? <usize>p * lda + i : <usize>i * lda + p;
        const bi = transB ? <usize>j * ldb + p : <usize>p * ldb + j;
        sum += load<f32>(a + (ai << 2)) * load<f32>(b + (bi << 2));
      }
      const at = c + ((<usize>i * ldc + j) << 2);
      if (accumulate) sum += load<f32>(at);
      if (bias) sum += load<f32>(bias + (<usize>j << 2));
      if (activation == 1) sum = max<f32>(sum, 0);
      store<f32>(at, sum);
    }
  }
}
