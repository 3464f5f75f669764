/**
 * @file A scan node as one loop: the body's code is emitted once, inside a
 * `for` over the steps. Before the loop the initial carries are copied into the
 * scan's carry buffers (where the body reads them); each step points the body's
 * per-step inputs at row t of the sequences, runs the body, copies its per-step
 * outputs to row t of the stacked results (and, with `save`, the carries it
 * started from), then moves the new carries into the carry buffers; after the
 * loop the carries are copied to the final-carry results.
 */
import type { Graph, Node } from '../ir.js';
import type { OpParams } from '../ops/index.js';
import { scanPacking, scanResultTypes } from '../ops/scan.js';
import type { MemoryPlan, ScanLayout } from '../plan.js';
import { elementBytes, viewOps } from '../plan.js';
import type { Shape } from '../types.js';
import { indent, sizeExpr } from './code.js';

/** Emits a graph's nodes with some values' addresses given (a scan body's inputs); `constant` tells the values that hold still for the whole loop. */
export type EmitBody = (g: Graph, plan: MemoryPlan, pointer: (id: number) => string | undefined, constant: (id: number) => boolean) => string;

const bytes = (shape: Shape) => `(<usize>(${sizeExpr(shape)}) << 2)`;
const row = (ptr: string, t: string, shape: Shape) => `(${ptr} + <usize>${t} * ${bytes(shape)})`;

/** The loop of scan node `node`; `ptr` gives outer addresses, `step` is a fresh index variable name. */
export function emitScan(node: Node, ptr: (id: number) => string, layout: ScanLayout, maxBatch: number, step: string, emitBody: EmitBody, error: (message: string) => number): string {
  const p = node.params as OpParams['scan'];
  const { body, carries: nc, xs: nx, length } = p;
  const ny = body.outputs.length - nc;
  const results = scanResultTypes(p);
  const { offsets, batched } = scanPacking(results);
  const base = ptr(node.id);
  // results are planned at the maximum batch (plan.ts's partSlot)
  const resultPtr = (k: number) => (offsets[k] ? `(${base} + ${offsets[k]! * elementBytes * (batched ? maxBatch : 1)})` : base);
  const carryPtr = (k: number) => `(base + ${layout.carries[k]!.offset})`;
  const typeOf = (id: number) => body.nodes[id]!.type;
  const t = `${step}_t`;
  // the steps run: the compiled length, or a run-time count checked against it
  const n = p.counted ? `${step}_n` : String(length);
  const count = p.counted
    ? [
      `const ${n}: i32 = load<i32>(${ptr(node.inputs[node.inputs.length - 1]!)});`,
      `if (<u32>${n} > <u32>${length}) { fail(${error(`scan: expected a step count in [0, ${length}] (the compiled maximum), got {value}${node.origin ? ` (at ${node.origin})` : ''}.`)}, ${n}); return; }`,
      // outputs of the steps not run are zeros, as in the reference
      ...body.outputs.slice(nc).map((o, j) => `memory.fill(${row(resultPtr(nc + j), n, typeOf(o.id).shape)}, 0, <usize>(${length} - ${n}) * ${bytes(typeOf(o.id).shape)});`),
    ]
    : [];

  // body inputs: carries in their buffers, x slices at row t of the sequences, constants where they are
  const given = new Map<number, string>();
  body.inputs.forEach((input, k) => {
    if (k < nc) given.set(input.id, carryPtr(k));
    else if (k < nc + nx) given.set(input.id, row(ptr(node.inputs[k]!), t, typeOf(input.id).shape));
    else given.set(input.id, ptr(node.inputs[k]!));
  });
  const owner = new Int32Array(body.nodes.length);
  for (const n of body.nodes) owner[n.id] = viewOps.has(n.op) ? owner[n.inputs[0]!]! : n.id;
  // the body's constant inputs (and views of them) keep their values for the whole loop
  const constants = new Set(body.inputs.slice(nc + nx).map((i) => i.id));
  const constant = (id: number) => constants.has(owner[id]!);
  const pointer = (id: number) => given.get(owner[id]!);
  const bodyPtr = (id: number) => pointer(id) ?? `(base + ${layout.body.slots[id]!.offset})`;

  const copy = (dst: string, src: string, shape: Shape) => `memory.copy(${dst}, ${src}, ${bytes(shape)});`;
  const carryTypes = body.inputs.slice(0, nc).map((i) => typeOf(i.id));
  const newCarries = body.outputs.slice(0, nc).map((o) => bodyPtr(o.id));
  // a new carry that is another carry's buffer must be read before that buffer is overwritten
  const trade = newCarries.some((src, k) => src !== carryPtr(k) && carryTypes.some((_, j) => j !== k && src === carryPtr(j)));
  const moves = trade
    ? [...newCarries.map((src, k) => copy(`(base + ${layout.staging[k]!.offset})`, src, carryTypes[k]!.shape)), ...carryTypes.map((c, k) => copy(carryPtr(k), `(base + ${layout.staging[k]!.offset})`, c.shape))]
    : newCarries.flatMap((src, k) => (src === carryPtr(k) ? [] : [copy(carryPtr(k), src, carryTypes[k]!.shape)]));
  const stepCode = [
    `const ${t}: i32 = ${p.reverse ? `${n} - 1 - ${step}` : step};`,
    ...(p.save ? carryTypes.map((c, k) => copy(row(resultPtr(nc + ny + k), t, c.shape), carryPtr(k), c.shape)) : []),
    `{\n${indent(emitBody(body, layout.body, pointer, constant))}\n}`,
    ...body.outputs.slice(nc).map((o, j) => copy(row(resultPtr(nc + j), t, typeOf(o.id).shape), bodyPtr(o.id), typeOf(o.id).shape)),
    ...moves,
  ];
  // a GEMM by a constant keeps its packed operand across the steps (runtime-as/gemm.ts): only within this loop
  const keeps = /f32_gemm_stable_b__simd128\(/.test(stepCode.join('\n'));
  return [
    ...count,
    ...carryTypes.map((c, k) => copy(carryPtr(k), ptr(node.inputs[k]!), c.shape)),
    ...(keeps ? ['f32_gemm_forget_b();'] : []),
    `for (let ${step}: i32 = 0; ${step} < ${n}; ${step}++) {\n${indent(stepCode.join('\n'))}\n}`,
    ...(keeps ? ['f32_gemm_forget_b();'] : []),
    ...carryTypes.map((c, k) => copy(resultPtr(k), carryPtr(k), c.shape)),
  ].join('\n');
}
