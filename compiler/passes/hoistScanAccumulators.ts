/**
 * @file Hoisting a scan's accumulators out of its loop.
 * Changes: a carry that only accumulates — the body's new carry is
 * `add(carry, g)`, the carry read nowhere else — where `g` (through reshapes) is
 * `matmul(a, b)` with `transposeA` (a [K, M], b [K, N]) or `sum(y, axes)`, stops
 * being carried: the body stacks a and b (or y) as per-step outputs instead
 * (reusing a per-step output or per-step input that already holds them), and
 * after the loop one `matmul … contract` over all steps (an inner dimension of
 * T·K) or one `sum` over the steps too gives the total, added to the carry's
 * initial value. Scans that save their carries keep them.
 * Invariant: every result keeps its value up to the order of float32 additions
 * (Σ_t a_tᵀ·b_t = Aᵀ·B with A, B stacked along K; Σ_t sum(y_t) = sum(Y)).
 * Why: a recurrent layer's reverse scan accumulates its weight gradient one
 * small product a step (K = the batch) and adds and copies the whole weight
 * gradient every step; one large product after the loop (as cuDNN does) runs at
 * the GEMM kernel's full speed and the loop loses that traffic.
 */
import type { Graph, Node } from '../ir.js';
import { withNodes } from '../ir.js';
import { ops, type OpName, type OpParams } from '../ops/index.js';
import { scanPacking, scanResultTypes } from '../ops/scan.js';
import { hasBatch, sameType } from '../types.js';
import { dce } from './dce.js';

type Scan = OpParams['scan'];

/** An accumulator of a scan body: carry k, the per-step values its increment is made of, and how. */
interface Accumulator {
  readonly carry: number;
  readonly kind: 'matmul' | 'sum';
  /** Body ids: [a, b] for a matmul, [y] for a sum. */
  readonly operands: readonly number[];
  /** The sum's axes (of one step's y). */
  readonly axes: readonly number[];
}

/** The carries of scan `p` that only accumulate a matmul with transposeA or a sum. */
function accumulators(p: Scan): Accumulator[] {
  const { body, carries: nc } = p;
  if (p.save) return []; // its saved carries are results: the running totals stay
  const uses = new Int32Array(body.nodes.length);
  for (const n of body.nodes) for (const i of n.inputs) uses[i]++;
  for (const o of body.outputs) uses[o.id]++;
  const found: Accumulator[] = [];
  for (let k = 0; k < nc; k++) {
    const carry = body.inputs[k]!.id;
    const next = body.nodes[body.outputs[k]!.id]!;
    if (next.op !== 'add' || uses[carry] !== 1 || uses[next.id] !== 1 || hasBatch(next.type.shape)) continue;
    const [x, y] = next.inputs as [number, number];
    const other = x === carry ? y : y === carry ? x : -1;
    if (other < 0 || other === carry || !sameType(body.nodes[other]!.type, next.type)) continue;
    let core = body.nodes[other]!;
    while (core.op === 'reshape') core = body.nodes[core.inputs[0]!]!;
    if (core.op === 'matmul') {
      const mp = core.params as OpParams['matmul'];
      const [a, b] = core.inputs.map((i) => body.nodes[i]!.type);
      if (!mp.transposeA || mp.transposeB || mp.epilogue || mp.contract || core.inputs.length !== 2 || a!.shape.length !== 2 || b!.shape.length !== 2) continue;
      found.push({ carry: k, kind: 'matmul', operands: core.inputs, axes: [] });
    } else if (core.op === 'sum') {
      found.push({ carry: k, kind: 'sum', operands: core.inputs, axes: (core.params as OpParams['sum']).axes });
    }
  }
  return found;
}

export function hoistScanAccumulators(g: Graph): Graph {
  const plans = new Map<number, Accumulator[]>();
  for (const n of g.nodes) {
    if (n.op !== 'scan') continue;
    const found = accumulators(n.params as Scan);
    if (found.length > 0) plans.set(n.id, found);
  }
  if (plans.size === 0) return g;

  const nodes: Node[] = [];
  const push = <K extends OpName>(op: K, inputs: readonly number[], params: OpParams[K], origin: string | undefined): number => {
    const type = ops[op].infer(inputs.map((i) => nodes[i]!.type), params as never);
    nodes.push(Object.freeze({ id: nodes.length, op, inputs: Object.freeze([...inputs]), params, type, ...(origin === undefined ? {} : { origin }) }) as Node);
    return nodes.length - 1;
  };
  const copy = (n: Node, params: unknown, inputs: readonly number[]) => {
    nodes.push(Object.freeze({ ...n, id: nodes.length, params: params as never, inputs: Object.freeze([...inputs]) }));
    return nodes.length - 1;
  };
  const map = new Int32Array(g.nodes.length).fill(-1);
  /** Old result index → new result index (or -1: a hoisted carry), per rewritten scan. */
  const results = new Map<number, { index: Int32Array; finals: Map<number, number>; params: Scan }>();

  for (const n of g.nodes) {
    const found = plans.get(n.id);
    if (found) {
      const p = n.params as Scan;
      const { body, carries: nc, xs: nx } = p;
      const hoisted = new Set(found.map((a) => a.carry));
      // where each operand comes from after the loop: an existing stacked output, a sequence input, or a new output
      const outputs = body.outputs.filter((_, k) => !hoisted.has(k));
      const source = new Map<number, { output: number } | { input: number }>();
      for (const a of found) {
        for (const id of a.operands) {
          if (source.has(id)) continue;
          const y = body.outputs.findIndex((o, j) => j >= nc && o.id === id);
          const x = body.inputs.findIndex((input, j) => j >= nc && j < nc + nx && input.id === id);
          if (y >= 0) source.set(id, { output: y - nc });
          else if (x >= 0 && !p.counted) source.set(id, { input: x }); // a counted loop's skipped steps must read as zeros
          else {
            source.set(id, { output: outputs.length - (nc - hoisted.size) });
            outputs.push(Object.freeze({ name: `accumulated_${id}`, id }));
          }
        }
      }
      const taken = new Set<string>();
      const named = outputs.map((o) => {
        let name = o.name;
        for (let s = 1; taken.has(name); s++) name = `${o.name}_${s}`;
        taken.add(name);
        return name === o.name ? o : Object.freeze({ ...o, name });
      });
      const newBody = dce(Object.freeze({ ...body, inputs: Object.freeze(body.inputs.filter((_, k) => !hoisted.has(k))), outputs: Object.freeze(named) }));
      const params: Scan = { ...p, body: newBody, carries: nc - hoisted.size };
      const inputs = n.inputs.filter((_, k) => !hoisted.has(k)).map((i) => map[i]!);
      const scan = push('scan', inputs, params, n.origin); // a smaller packed value
      map[n.id] = scan;
      const types = scanResultTypes(params);
      const { offsets, batched } = scanPacking(types);
      const part = (index: number) => push('scanPart', [scan], { index, offset: offsets[index]!, batched, type: types[index]! }, n.origin);
      const stacked = (id: number): number => {
        const s = source.get(id)!;
        return 'input' in s ? map[n.inputs[s.input]!]! : part(params.carries + s.output);
      };
      // each hoisted carry's final value: its initial value plus all steps' increments at once
      const finals = new Map<number, number>();
      for (const a of found) {
        const carryType = body.nodes[body.inputs[a.carry]!.id]!.type;
        let total: number;
        if (a.kind === 'matmul') {
          total = push('matmul', [stacked(a.operands[0]!), stacked(a.operands[1]!)], { transposeA: true, transposeB: false, contract: true }, n.origin);
        } else {
          total = push('sum', [stacked(a.operands[0]!)], { axes: [0, ...a.axes.map((d) => d + 1)], keepDims: false }, n.origin);
        }
        if (!sameType(nodes[total]!.type, carryType)) total = push('reshape', [total], { shape: carryType.shape }, n.origin);
        finals.set(a.carry, push('add', [map[n.inputs[a.carry]!]!, total], {}, n.origin));
      }
      const index = new Int32Array(scanResultTypes(p).length).fill(-1);
      let next = 0;
      for (let k = 0; k < index.length; k++) if (!(k < nc && hoisted.has(k))) index[k] = next++;
      results.set(n.id, { index, finals, params });
      continue;
    }
    const rewritten = n.op === 'scanPart' ? results.get(n.inputs[0]!) : undefined;
    if (rewritten) {
      const old = (n.params as OpParams['scanPart']).index;
      const to = rewritten.index[old]!;
      if (to < 0) {
        map[n.id] = rewritten.finals.get(old)!;
        continue;
      }
      const types = scanResultTypes(rewritten.params);
      const { offsets, batched } = scanPacking(types);
      map[n.id] = copy(n, { ...(n.params as OpParams['scanPart']), index: to, offset: offsets[to]!, batched }, [map[n.inputs[0]!]!]);
      continue;
    }
    map[n.id] = copy(n, n.params, n.inputs.map((i) => map[i]!));
  }
  return dce(withNodes(g, nodes, (old) => map[old]!));
}
