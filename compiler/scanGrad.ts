/**
 * @file The VJP of `scan`: a reverse scan.
 *
 * Residuals: the forward scan saves only the carry each step started from
 * (`save`, [T, …carry]); each step of the reverse scan recomputes that step's
 * body from (carry, x, constants) and differentiates it at once. We chose this
 * over saving every intermediate of every step because it keeps the memory of a
 * training step at O(T · carry) instead of O(T · body) — for an LSTM the gates
 * alone are 4× the carry — costs one extra body forward per step (the
 * backward's matmuls dominate anyway), and keeps the backward body a plain
 * traced graph: no partial evaluation is needed to decide what to keep, and the
 * recomputed forward fuses with the backward in the same loop body.
 *
 * The reverse scan carries the cotangents of the carries and one accumulator per
 * float32 constant (cotangents of the saved carries, which a second derivative
 * sends, join the carry's at their step) (the weights a recurrent cell closes over); its per-step
 * outputs are the cotangents of the per-step inputs, stacked in time order. It
 * is itself a scan whose body was traced with ordinary ops, so it differentiates
 * again (second order).
 */
import { backwardMany } from './autodiff.js';
import { Builder, withBuilder } from './builder.js';
import { internal } from './errors.js';
import type { Graph } from './ir.js';
import { inline } from './inline.js';
import { bodyArgs, type ScanParams } from './ops/scan.js';
import { apply, type Tensor } from './tensor.js';
import * as F from './functions/index.js';
import { scanParts } from './functions/scan.js';

type Scan = ScanParams['scan'];

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
  const saved = p.save
    ? scanParts(output, p).slice(nc + ny)
    : scanParts(apply('scan', inputs, { ...p, save: true }), { ...p, save: true }).slice(nc + ny);
  const floatConsts = constTypes.flatMap((t, k) => (t.dtype === 'float32' ? [k] : []));
  const seeded = Array.from({ length: ny }, (_, j) => j).filter((j) => cts[nc + j] !== undefined);
  // the saved carries are results too (a second derivative reaches them through the first one's reverse scan)
  const savedSeeded = p.save ? Array.from({ length: nc }, (_, i) => i).filter((i) => cts[nc + ny + i] !== undefined) : [];

  const b = new Builder();
  const reverseBody: Graph = withBuilder(b, () => {
    const dc = carryTypes.map((t, i) => b.input(`dc_${i}`, 'data', t));
    const acc = floatConsts.map((k) => b.input(`dk_${k}`, 'data', constTypes[k]!));
    const c = carryTypes.map((t, i) => b.input(`c_${i}`, 'data', t));
    const x = xTypes.map((t, j) => b.input(`x_${j}`, 'data', t));
    const dy = seeded.map((j) => b.input(`dy_${j}`, 'data', body.nodes[body.outputs[nc + j]!.id]!.type));
    const ds = savedSeeded.map((i) => b.input(`ds_${i}`, 'data', carryTypes[i]!));
    const k = constTypes.map((t, i) => b.input(`k_${i}`, 'data', t));
    const outs = inline(body, [...c, ...x, ...k]);
    const seeds = [...outs.slice(0, nc).map((o, i) => ({ output: o, seed: dc[i]! })), ...seeded.map((j, m) => ({ output: outs[nc + j]!, seed: dy[m]! }))];
    const grads = backwardMany(b, seeds, [...c, ...x, ...floatConsts.map((i) => k[i]!)], 'scan');
    const next = acc.map((a, i) => F.add(a, grads[nc + nx + i]!));
    const dcPrev = grads.slice(0, nc).map((g, i) => (savedSeeded.includes(i) ? F.add(g, ds[savedSeeded.indexOf(i)]!) : g));
    const results = [...dcPrev, ...next, ...grads.slice(nc, nc + nx)];
    return b.finish(results.map((tensor, i) => ({ name: `out_${i}`, tensor })));
  });
  if (b.captured.length > 0) throw internal('scan: the reverse body captured an outer tensor');

  const init = [...carryTypes.map((_, i) => cts[i] ?? F.zerosLike(args[i]!)), ...floatConsts.map((k) => F.zerosLike(consts[k]!))];
  const reverse: Scan = { body: reverseBody, length, carries: nc + floatConsts.length, xs: nc + nx + seeded.length + savedSeeded.length, reverse: !p.reverse, save: false, ...(p.counted ? { counted: true } : {}) };
  const packed = apply('scan', [...init, ...saved, ...args.slice(nc, nc + nx), ...seeded.map((j) => cts[nc + j]!), ...savedSeeded.map((i) => cts[nc + ny + i]!), ...consts, ...count], reverse);
  const r = scanParts(packed, reverse);
  const dConsts: (Tensor | undefined)[] = constTypes.map(() => undefined);
  floatConsts.forEach((k, i) => (dConsts[k] = r[nc + i]));
  return [...r.slice(0, nc), ...r.slice(nc + floatConsts.length, nc + floatConsts.length + nx), ...dConsts, ...count.map(() => undefined)];
}
