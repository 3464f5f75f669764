/**
 * @file The VJP of `scan`: a reverse scan.
 *
 * Residuals: each step of the reverse scan differentiates the body at that step.
 * The values its backward reads from the forward computation (an LSTM's gate
 * activations and tanh of the cell: the residuals) are stacked by the forward
 * scan as extra per-step outputs and read back, so the reverse scan does not run
 * the body's forward again — no second h·W matmul and no second round of
 * sigmoid/tanh per step (measured on bench/recurrent.mjs's LSTM: see
 * bench/results-sequences.md). The forward scan is rebuilt with those outputs and the
 * carries each step started from (`save`); `mergeScans` then makes the original
 * forward scan read its results from the rebuilt one, so the loop runs once.
 * Residuals cost O(T · residuals) memory; when they would take more than
 * `residualLimit` times the carries' size per step (a body with large
 * intermediates) the reverse scan recomputes the body's forward from the saved
 * carries instead (O(T · carry)), as it does for values that are not float32.
 *
 * The reverse scan carries the cotangents of the carries and one accumulator per
 * float32 constant (the weights a recurrent cell closes over; cotangents of the
 * saved carries, which a second derivative sends, join the carry's at their
 * step); its per-step outputs are the cotangents of the per-step inputs, stacked
 * in time order. It is itself a scan whose body was traced with ordinary ops, so
 * it differentiates again (second order).
 */
import { backwardMany } from './autodiff.js';
import { Builder, withBuilder } from './builder.js';
import { internal } from './errors.js';
import type { Graph } from './ir.js';
import { inlineValues } from './inline.js';
import { bodyArgs, type ScanParams } from './ops/scan.js';
import { dce } from './passes/dce.js';
import { asInputs } from './passes/scanBodies.js';
import { viewOps } from './plan.js';
import { apply, type Tensor } from './tensor.js';
import type { Shape } from './types.js';
import * as F from './functions/index.js';
import { scanParts } from './functions/scan.js';

type Scan = ScanParams['scan'];

/** Residuals are stacked only while they take at most this many times the carries' elements per step. */
const residualLimit = 8;

const perExample = (shape: Shape) => shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);

/**
 * The forward values that the backward part of a reverse body reads: ids in the
 * reverse body, among the forward nodes [first, end) that depend on the step
 * (`varying`), float32 and not views. Empty when they exceed the size limit.
 */
function residualsOf(g: Graph, first: number, end: number, varying: Uint8Array, carryElements: number): number[] {
  const live = new Uint8Array(g.nodes.length);
  for (const o of g.outputs) live[o.id] = 1;
  for (let i = g.nodes.length - 1; i >= 0; i--) if (live[i]) for (const j of g.nodes[i]!.inputs) live[j] = 1;
  const wanted = new Set<number>();
  const consider = (id: number) => {
    const n = g.nodes[id]!;
    if (id >= first && id < end && varying[id] && n.op !== 'input' && n.op !== 'constant' && !viewOps.has(n.op) && n.type.dtype === 'float32') wanted.add(id);
  };
  for (const n of g.nodes) if (n.id >= end && live[n.id]) n.inputs.forEach(consider);
  for (const o of g.outputs) consider(o.id);
  const ids = [...wanted].sort((a, b) => a - b);
  const elements = ids.reduce((a, id) => a + perExample(g.nodes[id]!.type.shape), 0);
  return elements <= residualLimit * Math.max(carryElements, 1) ? ids : [];
}

/** Cotangents of a scan's inputs from those of its results (undefined: zero). */
export function scanVjp(inputs: readonly Tensor[], output: Tensor, p: Scan, cts: readonly (Tensor | undefined)[]): (Tensor | undefined)[] {
  const { body, carries: nc, xs: nx, length } = p;
  const ny = body.outputs.length - nc;
  const args = bodyArgs(inputs, p);
  const count = p.counted ? inputs.slice(-1) : []; // the reverse scan runs the same steps
  const consts = args.slice(nc + nx);
  const carryTypes = body.inputs.slice(0, nc).map((i) => body.nodes[i.id]!.type);
  const xTypes = body.inputs.slice(nc, nc + nx).map((i) => body.nodes[i.id]!.type);
  const constTypes = body.inputs.slice(nc + nx).map((i) => body.nodes[i.id]!.type);
  const floatConsts = constTypes.flatMap((t, k) => (t.dtype === 'float32' ? [k] : []));
  const seeded = Array.from({ length: ny }, (_, j) => j).filter((j) => cts[nc + j] !== undefined);
  // the saved carries are results too (a second derivative reaches them through the first one's reverse scan)
  const savedSeeded = p.save ? Array.from({ length: nc }, (_, i) => i).filter((i) => cts[nc + ny + i] !== undefined) : [];

  // the reverse body, first with the body's forward recomputed from the saved carries
  const b = new Builder();
  let forward: Tensor[] = [];
  let first = 0;
  let end = 0;
  let stepInputs: number[] = [];
  const recomputing: Graph = withBuilder(b, () => {
    const dc = carryTypes.map((t, i) => b.input(`dc_${i}`, 'data', t));
    const acc = floatConsts.map((k) => b.input(`dk_${k}`, 'data', constTypes[k]!));
    const c = carryTypes.map((t, i) => b.input(`c_${i}`, 'data', t));
    const x = xTypes.map((t, j) => b.input(`x_${j}`, 'data', t));
    const dy = seeded.map((j) => b.input(`dy_${j}`, 'data', body.nodes[body.outputs[nc + j]!.id]!.type));
    const ds = savedSeeded.map((i) => b.input(`ds_${i}`, 'data', carryTypes[i]!));
    const k = constTypes.map((t, i) => b.input(`k_${i}`, 'data', t));
    stepInputs = [...c, ...x].map((t) => t.id!);
    first = b.nodes.length;
    forward = inlineValues(body, [...c, ...x, ...k]);
    end = b.nodes.length;
    const outs = body.outputs.map((o) => forward[o.id]!);
    const seeds = [...outs.slice(0, nc).map((o, i) => ({ output: o, seed: dc[i]! })), ...seeded.map((j, m) => ({ output: outs[nc + j]!, seed: dy[m]! }))];
    const grads = backwardMany(b, seeds, [...c, ...x, ...floatConsts.map((i) => k[i]!)], 'scan');
    const next = acc.map((a, i) => F.add(a, grads[nc + nx + i]!));
    const dcPrev = grads.slice(0, nc).map((g, i) => (savedSeeded.includes(i) ? F.add(g, ds[savedSeeded.indexOf(i)]!) : g));
    const results = [...dcPrev, ...next, ...grads.slice(nc, nc + nx)];
    return b.finish(results.map((tensor, i) => ({ name: `out_${i}`, tensor })));
  });
  if (b.captured.length > 0) throw internal('scan: the reverse body captured an outer tensor');

  // residuals: the forward values the backward reads, found in the body and stacked by the forward scan
  const varying = new Uint8Array(recomputing.nodes.length);
  for (const id of stepInputs) varying[id] = 1;
  for (const n of recomputing.nodes) if (n.inputs.some((i) => varying[i])) varying[n.id] = 1;
  const bodyId = new Map<number, number>(); // reverse-body id → body id
  forward.forEach((t, id) => {
    if (t?.builder === b && !bodyId.has(t.id!)) bodyId.set(t.id!, id);
  });
  const carryElements = carryTypes.reduce((a, t) => a + perExample(t.shape), 0);
  const residuals = residualsOf(recomputing, first, end, varying, carryElements).filter((id) => bodyId.has(id));
  let forwardParams: Scan = p.save ? p : { ...p, save: true };
  if (residuals.length > 0) {
    const taken = new Set(body.outputs.map((o) => o.name));
    let n = 0;
    const name = () => {
      while (taken.has(`residual_${n}`)) n++;
      return `residual_${n++}`;
    };
    const outputs = [...body.outputs, ...residuals.map((id) => Object.freeze({ name: name(), id: bodyId.get(id)! }))];
    forwardParams = { ...p, body: Object.freeze({ ...body, outputs: Object.freeze(outputs) }), save: true };
  }
  const parts = forwardParams === p ? scanParts(output, p) : scanParts(apply('scan', inputs, forwardParams), forwardParams);
  const stacked = parts.slice(nc + ny, nc + ny + residuals.length);
  const saved = parts.slice(nc + ny + residuals.length);
  // the residuals enter the reverse body as per-step inputs after dy and ds; the recomputation they replace dies
  const reverseBody = residuals.length > 0 ? dce(asInputs(recomputing, residuals, 'r', nc + floatConsts.length + nc + nx + seeded.length + savedSeeded.length)) : recomputing;

  const init = [...carryTypes.map((_, i) => cts[i] ?? F.zerosLike(args[i]!)), ...floatConsts.map((k) => F.zerosLike(consts[k]!))];
  const reverse: Scan = {
    body: reverseBody, length, carries: nc + floatConsts.length, xs: nc + nx + seeded.length + savedSeeded.length + residuals.length, reverse: !p.reverse, save: false,
    ...(p.counted ? { counted: true } : {}),
  };
  const packed = apply('scan', [...init, ...saved, ...args.slice(nc, nc + nx), ...seeded.map((j) => cts[nc + j]!), ...savedSeeded.map((i) => cts[nc + ny + i]!), ...stacked, ...consts, ...count], reverse);
  const r = scanParts(packed, reverse);
  const dConsts: (Tensor | undefined)[] = constTypes.map(() => undefined);
  floatConsts.forEach((k, i) => (dConsts[k] = r[nc + i]));
  return [...r.slice(0, nc), ...r.slice(nc + floatConsts.length, nc + floatConsts.length + nx), ...dConsts, ...count.map(() => undefined)];
}
