/**
 * @file Batched matrix multiplication, either operand transposed, batch dimensions
 * broadcast. The VJP of each transpose combination is again one matmul per
 * operand, so backward passes use the same GEMM kernels forward does.
 */
import { reject } from '../errors.js';
import * as F from '../functions/index.js';
import { apply } from '../tensor.js';
import { formatType, sameShape, type TensorType } from '../types.js';
import { broadcastShapes } from './binary.js';
import { broadcastIndex } from './ndarray.js';
import { applyEpilogue, checkEpilogue, fusedAfterAutodiff, type Epilogue, type OpDef } from './op.js';

export interface LinalgParams {
  /** With an `epilogue` (set by fuseEpilogues), a bias input and relu are applied in the GEMM. */
  matmul: {
    readonly transposeA: boolean; readonly transposeB: boolean; readonly epilogue?: Epilogue;
    /**
     * With `transposeA` (and not `transposeB`), A [..., K, M] and B [..., K, N] of the same
     * leading shape: C [M, N] = Σ over every leading index of op(A)·op(B) — the leading axes
     * fold into the inner dimension, one GEMM over all of them (set by hoistScanAccumulators
     * for a loop's weight gradient: the steps' products summed as one).
     */
    readonly contract?: boolean;
  };
}

function matmulInfer(inputs: readonly TensorType[], { transposeA, transposeB, epilogue, contract }: LinalgParams['matmul']): TensorType {
  const [a, b] = inputs;
  if (!a || !b) reject(`expected 2 inputs, got ${inputs.length}`);
  if (a!.dtype !== 'float32' || b!.dtype !== 'float32') reject(`expected float32 operands, got ${formatType(a!)} and ${formatType(b!)}`);
  if (a!.shape.length < 2 || b!.shape.length < 2) reject(`expected operands of rank >= 2, got ${formatType(a!)} and ${formatType(b!)}`);
  if (contract) {
    if (!transposeA || transposeB) reject('expected transposeA and not transposeB with contract');
    if (a!.shape.length !== b!.shape.length || !sameShape(a!.shape.slice(0, -1), b!.shape.slice(0, -1))) reject(`expected operands [..., K, M] and [..., K, N] with the same leading shape to contract, got ${formatType(a!)} and ${formatType(b!)}`);
    checkEpilogue(inputs, epilogue, b!.shape[b!.shape.length - 1]!, reject);
    return { dtype: 'float32', shape: [a!.shape[a!.shape.length - 1]!, b!.shape[b!.shape.length - 1]!] };
  }
  const [ra, ca] = a!.shape.slice(-2);
  const [rb, cb] = b!.shape.slice(-2);
  const [m, ka] = transposeA ? [ca!, ra!] : [ra!, ca!];
  const [kb, n] = transposeB ? [cb!, rb!] : [rb!, cb!];
  const flags = `${transposeA ? ' transposeA' : ''}${transposeB ? ' transposeB' : ''}`;
  if (ka !== kb) reject(`expected inner dimensions to agree, got ${formatType(a!)} and ${formatType(b!)}${flags}`);
  const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
  if (!batch) reject(`cannot broadcast the batch dimensions of ${formatType(a!)} and ${formatType(b!)}`);
  checkEpilogue(inputs, epilogue, n!, reject);
  return { dtype: 'float32', shape: [...batch, m, n] };
}

const matmulRef: OpDef<LinalgParams['matmul']>['ref'] = ([a, b, bias], { transposeA, transposeB, epilogue, contract }, out) => {
  if (contract) {
    // the leading axes and K are one inner dimension: rows of A [R, M] and B [R, N]
    const [m, n] = [out.shape[0]!, out.shape[1]!];
    const rows = a!.data.length / m;
    const result = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < rows; p++) acc += a!.data[p * m + i]! * b!.data[p * n + j]!;
        result[i * n + j] = acc;
      }
    }
    return applyEpilogue(result, epilogue, bias);
  }
  const rank = out.shape.length;
  const [m, n] = [out.shape[rank - 2]!, out.shape[rank - 1]!];
  const k = transposeA ? a!.shape[a!.shape.length - 2]! : a!.shape[a!.shape.length - 1]!;
  const batchShape = out.shape.slice(0, -2);
  const batches = batchShape.reduce((x, y) => x * y, 1);
  const mapA = broadcastIndex(a!.shape.slice(0, -2), batchShape);
  const mapB = broadcastIndex(b!.shape.slice(0, -2), batchShape);
  const result = new Float64Array(batches * m * n);
  // strides of op(A) (i, p) and op(B) (p, j); accumulate in float64 over p in order
  const [sai, sap] = transposeA ? [1, m] : [k, 1];
  const [sbp, sbj] = transposeB ? [1, k] : [n, 1];
  const row = new Float64Array(n);
  const [A, B] = [a!.data, b!.data];
  for (let t = 0; t < batches; t++) {
    const [oa, ob, oc] = [mapA[t]! * m * k, mapB[t]! * k * n, t * m * n];
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = A[oa + i * sai + p * sap]!;
        let bj = ob + p * sbp;
        for (let j = 0; j < n; j++, bj += sbj) row[j] += av * B[bj]!;
      }
      result.set(row, oc + i * n);
    }
  }
  return applyEpilogue(result, epilogue, bias);
};

export const linalgOps: { readonly [K in keyof LinalgParams]: OpDef<LinalgParams[K]> } = {
  matmul: {
    arity: 'variadic',
    infer: matmulInfer,
    ref: matmulRef,
    vjp: ({ inputs: [a, b], params: { transposeA: ta, transposeB: tb, epilogue, contract } }, dy) => {
      if (epilogue) return fusedAfterAutodiff({ inputs: [], output: dy, params: undefined }, dy);
      const mm = (x: F.Tensor, y: F.Tensor, transposeA: boolean, transposeB: boolean) => F.matmul(x, y, { transposeA, transposeB });
      // C = Σ_l A_lᵀ B_l: every A_l gets B_l·dCᵀ and every B_l gets A_l·dC (dC broadcast over the leading axes)
      if (contract) return [mm(b!, dy, false, true), mm(a!, dy, false, false)];
      // A [..., M, K] by a matrix B (a dense layer on sequences): B's gradient sums over every leading index,
      // one GEMM with them folded into its inner dimension rather than a product per index and a sum
      const folded = (x: F.Tensor, y: F.Tensor) => apply('matmul', [x, y], { transposeA: true, transposeB: false, contract: true });
      if (!ta && b!.rank === 2 && a!.rank > 2) return [tb ? mm(dy, b!, false, false) : mm(dy, b!, false, true), tb ? folded(dy, a!) : folded(a!, dy)];
      // C = op(A) op(B); each case is dA, dB written as one matmul
      const [da, db] = !ta && !tb ? [mm(dy, b!, false, true), mm(a!, dy, true, false)]
        : !ta && tb ? [mm(dy, b!, false, false), mm(dy, a!, true, false)]
          : ta && !tb ? [mm(b!, dy, false, true), mm(a!, dy, false, false)]
            : [mm(b!, dy, true, true), mm(dy, a!, true, true)];
      return [F.sumTo(da, a!.shape), F.sumTo(db, b!.shape)];
    },
    backend: { lower: 'f32_gemm' },
  },
};
