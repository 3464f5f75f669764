/**
 * @file Loops as one primitive: `scan` runs a body graph (traced once) `length`
 * times, threading carried state through the steps, slicing per-step inputs
 * along their leading axis and stacking per-step outputs along a new leading
 * axis (jax.lax.scan's contract). The IR's nodes have one result, so a scan's
 * value is its results packed into one float32 buffer and `scanPart` reads one
 * of them out (a view: no copy). The packing is private to the pair: nothing but
 * `scanPart` reads a scan's value. Results in order: the final carries, the
 * stacked per-step outputs and, with `save`, the carries each step started from
 * (what the VJP's reverse scan reads).
 *
 * A result of per-example size s (its size with the batch dimension counted as
 * 1) takes s·unit elements, unit being the batch size (1 without a batch
 * dimension); results follow each other at unit·(sizes before them). The
 * interpreter's unit is the bound batch, compiled code's the compiled maximum,
 * so offsets are static in the memory plan.
 */
import { reject } from '../errors.js';
import type { Graph } from '../ir.js';
import { interpret, type Precision } from '../interpret.js';
import { BATCH, formatType, hasBatch, sameType, sizeOf, type TensorType } from '../types.js';
import type { OpDef, Value } from './op.js';

export interface ScanParams {
  /**
   * inputs: [...initial carries, ...xs (sliced along axis 0), ...constants];
   * `body` maps [carries, x slices, constants] to [new carries, per-step outputs].
   */
  scan: {
    readonly body: Graph; readonly length: number; readonly carries: number; readonly xs: number; readonly reverse: boolean; readonly save: boolean;
    /**
     * A last input, an int32 scalar n in [0, length], is the number of steps run (a run-time loop count up to the
     * compiled `length`): steps n… are skipped (their stacked outputs are zeros), and a reverse scan starts at step n − 1.
     */
    readonly counted?: boolean;
  };
  /** Result `index` of a scan: `offset` per-example elements into the packed value. */
  scanPart: { readonly index: number; readonly offset: number; readonly batched: boolean; readonly type: TensorType };
}

type Scan = ScanParams['scan'];

const typeOf = (g: Graph, id: number): TensorType => g.nodes[id]!.type;
const stacked = (t: TensorType, length: number): TensorType => ({ dtype: t.dtype, shape: [length, ...t.shape] });

/** The types of a scan's results, in packing order. */
export function scanResultTypes(p: Scan): TensorType[] {
  const carries = p.body.inputs.slice(0, p.carries).map((i) => typeOf(p.body, i.id));
  const ys = p.body.outputs.slice(p.carries).map((o) => stacked(typeOf(p.body, o.id), p.length));
  return [...carries, ...ys, ...(p.save ? carries.map((t) => stacked(t, p.length)) : [])];
}

/** Per-example size of each result, their offsets, and whether any has the batch dimension. */
export function scanPacking(results: readonly TensorType[]): { sizes: number[]; offsets: number[]; total: number; batched: boolean } {
  const sizes = results.map((t) => t.shape.reduce<number>((a, d) => a * (d === BATCH ? 1 : d), 1));
  const offsets: number[] = [];
  let total = 0;
  for (const s of sizes) (offsets.push(total), (total += s));
  return { sizes, offsets, total, batched: results.some((t) => hasBatch(t.shape)) };
}

/** The inputs the body reads (all but a step count). */
export const bodyArgs = <T>(inputs: readonly T[], p: Scan): readonly T[] => (p.counted ? inputs.slice(0, -1) : inputs);

function inferScan(all: readonly TensorType[], p: Scan): TensorType {
  const { body, length, carries, xs } = p;
  if (!Number.isInteger(length) || length < 1) reject(`expected at least one step, got length ${length}`);
  const inputs = bodyArgs(all, p);
  if (p.counted) {
    const n = all[all.length - 1];
    if (!n || n.dtype !== 'int32' || n.shape.length !== 0) reject(`expected the step count to be an int32 scalar, got ${n ? formatType(n) : 'nothing'}`);
  }
  if (inputs.length !== body.inputs.length || carries + xs > inputs.length) reject(`expected ${body.inputs.length} inputs for the body's, got ${inputs.length}`);
  if (body.outputs.length < carries) reject(`expected the body to return ${carries} carries, got ${body.outputs.length} results`);
  if (body.updates.length > 0) reject('expected a body without assignments');
  inputs.forEach((t, i) => {
    const inner = typeOf(body, body.inputs[i]!.id);
    const isX = i >= carries && i < carries + xs;
    if (isX && (t.shape[0] === BATCH || t.shape.length === 0)) reject(`expected per-step input ${i - carries} to have the steps on a static leading axis, got ${formatType(t)}`);
    const expected = isX ? stacked(inner, length) : inner;
    if (!sameType(t, expected)) reject(`expected ${isX ? `per-step input ${i - carries}` : i < carries ? `carry ${i}` : `constant ${i - carries - xs}`} to be ${formatType(expected)}, got ${formatType(t)}`);
    if (i < carries + xs && t.dtype !== 'float32') reject(`expected float32 carries and per-step inputs, got ${formatType(t)}`);
  });
  body.outputs.forEach((o, k) => {
    const t = typeOf(body, o.id);
    if (k < carries) {
      const c = typeOf(body, body.inputs[k]!.id);
      if (!sameType(t, c)) reject(`the carried state must keep its shape and dtype: carry ${k} enters the body as ${formatType(c)} and leaves it as ${formatType(t)}`);
    } else if (t.dtype !== 'float32') reject(`expected float32 per-step outputs, got ${formatType(t)} for output ${k - carries}`);
  });
  const results = scanResultTypes(p);
  if (results.length === 0) reject('expected at least one carry or per-step output');
  const { total, batched } = scanPacking(results);
  return { dtype: 'float32', shape: batched ? [BATCH, total] : [total] };
}

/** Reference semantics: the body interpreted once per step. */
function refScan(all: readonly Value[], p: Scan, out: { shape: readonly number[] }): Float64Array {
  const { body, carries, xs } = p;
  const inputs = bodyArgs(all, p);
  const length = p.counted ? all[all.length - 1]!.data[0]! : p.length;
  if (!(length >= 0 && length <= p.length)) reject(`expected a step count in [0, ${p.length}] (the compiled maximum), got ${length}`);
  const precision: Precision = inputs.some((v) => v.data instanceof Float64Array) ? 'float64' : 'float32';
  const results = scanResultTypes(p);
  const { sizes, offsets, total, batched } = scanPacking(results);
  const unit = batched ? out.shape[0]! : 1;
  const packed = new Float64Array(unit * total);
  let carry = inputs.slice(0, carries);
  const ys = body.outputs.length - carries;
  const stepSize = (k: number) => (sizes[k]! / p.length) * unit;
  const write = (k: number, step: number, v: Value) => {
    const start = unit * offsets[k]! + (step < 0 ? 0 : step * (hasBatch(results[k]!.shape) ? stepSize(k) : sizes[k]! / p.length));
    packed.set(v.data, start);
  };
  for (let s = 0; s < length; s++) {
    const t = p.reverse ? length - 1 - s : s;
    if (p.save) carry.forEach((v, k) => write(carries + ys + k, t, v));
    const slices = inputs.slice(carries, carries + xs).map((v): Value => {
      const n = v.data.length / p.length;
      return { dtype: v.dtype, shape: v.shape.slice(1), data: v.data.subarray(t * n, (t + 1) * n) };
    });
    const args = [...carry, ...slices, ...inputs.slice(carries + xs)];
    const { outputs } = interpret(body, Object.fromEntries(body.inputs.map((input, i) => [input.name, args[i]!])), { precision });
    const values = body.outputs.map((o) => outputs[o.name]!);
    values.slice(carries).forEach((v, j) => write(carries + j, t, v));
    carry = values.slice(0, carries);
  }
  carry.forEach((v, k) => write(k, -1, v));
  return packed;
}

export const scanOps: { readonly [K in keyof ScanParams]: OpDef<ScanParams[K]> } = {
  scan: {
    arity: 'variadic',
    infer: inferScan,
    ref: refScan,
    vjp: () => {
      throw new Error('internal: a scan gets its cotangents per result; autodiff calls scanVjp');
    },
    backend: { lower: 'scan_loop' },
  },
  scanPart: {
    arity: 1,
    infer: ([packed], { type }) => {
      if (packed!.dtype !== 'float32' || packed!.shape.length < 1) reject(`expected a scan's value, got ${formatType(packed!)}`);
      return type;
    },
    ref: ([packed], { offset, batched }, out) => {
      const start = (batched ? packed!.shape[0]! : 1) * offset;
      return packed!.data.subarray(start, start + sizeOf(out.shape));
    },
    vjp: () => {
      throw new Error('internal: scanPart cotangents are gathered by autodiff for their scan');
    },
    backend: { lower: 'view' },
  },
};
