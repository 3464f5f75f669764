/**
 * @file Scan bodies for codegen.
 * Changes: in every scan's body, the values that do not depend on the step (they
 * read only the body's constant inputs and constants: a transposed weight, a
 * broadcast bias) are computed once before the loop, in the outer graph, and
 * enter the body as inputs; the body then goes through `optimize` (the same
 * pipeline as the graph around it), and its constants become inputs fed by
 * constant nodes of the outer graph, placed just before the scan.
 * Invariant: each scan computes the same values (the body's inputs keep their
 * order; new inputs are appended after the existing constants, before a step
 * count).
 * Why: the body is emitted once inside the loop, so it should be as fused as any
 * entry and do no work that is the same every step; constants must live in the
 * module's constant region, which only the outer graph's constant nodes reach.
 */
import type { Graph, Node } from '../ir.js';
import { withNodes } from '../ir.js';
import type { OpParams } from '../ops/index.js';

/** `body` with nodes `ids` turned into inputs (named `${prefix}_k`), placed at position `at` of its inputs (default: appended). */
export function asInputs(body: Graph, ids: readonly number[], prefix: string, at = body.inputs.length): Graph {
  if (ids.length === 0) return body;
  const taken = new Set(body.inputs.map((i) => i.name));
  const names = new Map<number, string>();
  let k = 0;
  for (const id of ids) {
    while (taken.has(`${prefix}_${k}`)) k++;
    names.set(id, `${prefix}_${k}`);
    taken.add(`${prefix}_${k}`);
  }
  const nodes = body.nodes.map((n) => (names.has(n.id) ? Object.freeze({ ...n, op: 'input' as const, inputs: Object.freeze([]), params: { name: names.get(n.id)!, kind: 'data' as const } }) as Node : n));
  const moved = withNodes(body, nodes, (id) => id);
  const added = ids.map((id) => Object.freeze({ name: names.get(id)!, kind: 'data' as const, id }));
  return Object.freeze({ ...moved, inputs: Object.freeze([...moved.inputs.slice(0, at), ...added, ...moved.inputs.slice(at)]) });
}

/** Body nodes that do not depend on the step and that a step-dependent node (or an output) reads. */
function invariantFrontier(body: Graph, firstConstant: number): { invariant: Uint8Array; frontier: number[] } {
  const position = new Map(body.inputs.map((input, k) => [input.id, k]));
  const invariant = new Uint8Array(body.nodes.length);
  for (const n of body.nodes) {
    if (n.op === 'input') invariant[n.id] = position.get(n.id)! >= firstConstant ? 1 : 0;
    else invariant[n.id] = n.op === 'constant' || (n.inputs.length > 0 && n.inputs.every((i) => invariant[i])) ? 1 : 0;
  }
  const computed = (id: number) => invariant[id] && body.nodes[id]!.op !== 'input' && body.nodes[id]!.op !== 'constant';
  const frontier = new Set<number>();
  for (const n of body.nodes) if (!invariant[n.id]) for (const i of n.inputs) if (computed(i)) frontier.add(i);
  for (const o of body.outputs) if (computed(o.id)) frontier.add(o.id);
  return { invariant, frontier: [...frontier].sort((a, b) => a - b) };
}

export function optimizeScanBodies(g: Graph, optimize: (g: Graph) => Graph): Graph {
  if (!g.nodes.some((n) => n.op === 'scan')) return g;
  const nodes: Node[] = [];
  const push = (n: Node, inputs: readonly number[]): number => {
    nodes.push(Object.freeze({ ...n, id: nodes.length, inputs: Object.freeze([...inputs]) }));
    return nodes.length - 1;
  };
  const map = new Int32Array(g.nodes.length);
  for (const n of g.nodes) {
    const inputs = n.inputs.map((i) => map[i]!);
    if (n.op !== 'scan') {
      map[n.id] = push(n, inputs);
      continue;
    }
    const params = n.params as OpParams['scan'];
    const count = params.counted ? inputs.splice(-1) : []; // the step count stays last
    // loop-invariant values: copied into the outer graph, read by the body as inputs
    const { invariant, frontier } = invariantFrontier(params.body, params.carries + params.xs);
    const outer = new Map<number, number>(params.body.inputs.map((input, k) => [input.id, inputs[k]!]));
    const needed = new Uint8Array(params.body.nodes.length);
    for (const id of frontier) needed[id] = 1;
    for (let id = params.body.nodes.length - 1; id >= 0; id--) if (needed[id]) for (const i of params.body.nodes[id]!.inputs) if (invariant[i]) needed[i] = 1;
    for (const m of params.body.nodes) {
      if (needed[m.id] && m.op !== 'input') outer.set(m.id, push(m, m.inputs.map((i) => outer.get(i)!)));
    }
    inputs.push(...frontier.map((id) => outer.get(id)!));
    const optimized = optimize(asInputs(params.body, frontier, 'invariant'));
    // the body's constants: outer constant nodes, read as inputs
    const constants = optimized.nodes.filter((m) => m.op === 'constant');
    for (const c of constants) inputs.push(push(c, []));
    const body = asInputs(optimized, constants.map((c) => c.id), 'const');
    map[n.id] = push({ ...n, params: { ...params, body } }, [...inputs, ...count]);
  }
  return withNodes(g, nodes, (old) => map[old]!);
}
