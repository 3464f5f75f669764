/**
 * @file Index arithmetic shared by the reference semantics: broadcasting maps,
 * axis iteration for reductions, transposition. Written for clarity; the
 * reference interpreter is the oracle, not the fast path.
 */
import { stridesOf } from '../types.js';

/** For each flat index of `outShape`, the flat index into an input broadcast to it. */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = outShape.reduce((a, b) => a * b, 1);
  const map = new Int32Array(n);
  const rank = outShape.length;
  const offset = rank - inShape.length;
  const inStrides = stridesOf(inShape);
  // stride 0 on broadcast axes, the input's own stride elsewhere
  const eff = outShape.map((_, i) => {
    const j = i - offset;
    return j < 0 || inShape[j] === 1 ? 0 : inStrides[j]!;
  });
  const idx = new Array<number>(rank).fill(0);
  let flat = 0;
  for (let k = 0; k < n; k++) {
    map[k] = flat;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      flat += eff[d]!;
      if (idx[d]! < outShape[d]!) break;
      flat -= eff[d]! * outShape[d]!;
      idx[d] = 0;
    }
  }
  return map;
}

/**
 * Splits `shape` by `axes` into the kept and reduced parts: for each output index,
 * the input indices it reduces over, as (outIndex, list of input flat indices).
 */
export function reductionGroups(shape: readonly number[], axes: readonly number[]): { outSize: number; groups: Int32Array[] } {
  const reduced = new Set(axes);
  const keptShape = shape.filter((_, i) => !reduced.has(i));
  const outSize = keptShape.reduce((a, b) => a * b, 1);
  const groupSize = axes.reduce((a, ax) => a * shape[ax]!, 1);
  const groups = Array.from({ length: outSize }, () => new Int32Array(groupSize));
  const fill = new Int32Array(outSize);
  const keptStrides = stridesOf(keptShape);
  const total = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    let out = 0;
    for (let d = 0, k = 0; d < shape.length; d++) if (!reduced.has(d)) out += idx[d]! * keptStrides[k++]!;
    groups[out]![fill[out]!++] = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return { outSize, groups };
}

/** Calls `visit(flat, index)` for every index of `shape` in row-major order. */
export function forEachIndex(shape: readonly number[], visit: (flat: number, index: readonly number[]) => void): void {
  const total = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    visit(flat, idx);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}
