/**
 * @file Elementwise fusion.
 * Changes: every elementwise node (an op with an `emit` rule) joins a `fused` node
 * whose body graph holds a chain of them; a producer joins its consumer's group when
 * it has the group's output shape and no use outside the group; a sum/prod/max/min
 * whose input is such a chain used by nothing else ends it. Scalar constants are
 * copied into bodies; other values (including broadcast ones) become body inputs.
 * Invariant: outputs and updates keep their values; nodes stay in topological order.
 * Why: a chain like relu(x·w + b) becomes one loop that reads its inputs once and
 * writes one result, instead of a loop and a buffer per op.
 */
import type { Graph, GraphInput, Node } from '../ir.js';
import { withNodes } from '../ir.js';
import { isElementwise, type OpParams } from '../ops/index.js';
import { sameShape, sizeOf, isStatic } from '../types.js';
import { internal } from '../errors.js';
import { dce } from './dce.js';

const reductions: ReadonlySet<string> = new Set(['sum', 'prod', 'max', 'min']);

function isScalarConstant(n: Node): boolean {
  return n.op === 'constant' && isStatic(n.type.shape) && sizeOf(n.type.shape) === 1;
}

/** Group id per node (root id of its group), or -1 for nodes that are not fused. */
function groups(g: Graph): Int32Array {
  const uses = g.nodes.map(() => [] as number[]);
  for (const n of g.nodes) for (const i of n.inputs) uses[i]!.push(n.id);
  const escapes = new Uint8Array(g.nodes.length); // an output or update: must be materialised
  for (const o of g.outputs) escapes[o.id] = 1;
  for (const u of g.updates) escapes[u.id] = 1;

  const group = new Int32Array(g.nodes.length).fill(-1);
  for (let r = g.nodes.length - 1; r >= 0; r--) {
    const root = g.nodes[r]!;
    if (group[r] !== -1 || !isElementwise(root.op)) continue;
    group[r] = r;
    // grow until no producer can join: a diamond's shared producer joins once both branches have
    let grew = true;
    while (grew) {
      grew = false;
      for (let i = r - 1; i >= 0; i--) {
        const p = g.nodes[i]!;
        if (group[i] !== -1 || !isElementwise(p.op) || escapes[i] || !sameShape(p.type.shape, root.type.shape)) continue;
        const u = uses[i]!;
        if (u.length > 0 && u.every((c) => group[c] === r)) {
          group[i] = r;
          grew = true;
        }
      }
    }
  }
  // a reduction whose input is a loop used by nothing else ends that loop: the values are reduced as they are made
  for (const n of g.nodes) {
    if (!reductions.has(n.op)) continue;
    const i = n.inputs[0]!;
    // the input must be an elementwise loop: a loop already ending in a reduction cannot take another
    if (group[i] !== i || escapes[i] || uses[i]!.length !== 1 || reductions.has(g.nodes[i]!.op)) continue;
    for (let m = 0; m <= i; m++) if (group[m] === i) group[m] = n.id;
    group[n.id] = n.id;
  }
  return group;
}

/** The body graph of group `root`: its members, with outside values as inputs. */
function body(g: Graph, members: readonly Node[]): { graph: Graph; external: number[] } {
  const inGroup = new Set(members.map((m) => m.id));
  const nodes: Node[] = [];
  const inputs: GraphInput[] = [];
  const local = new Map<number, number>();
  const external: number[] = [];
  const push = (n: Omit<Node, 'id'>) => {
    const id = nodes.length;
    nodes.push(Object.freeze({ ...n, id } as Node));
    return id;
  };
  for (const m of members) {
    for (const i of m.inputs) {
      if (inGroup.has(i) || local.has(i)) continue;
      const src = g.nodes[i]!;
      if (isScalarConstant(src)) {
        local.set(i, push({ op: 'constant', inputs: [], params: src.params, type: src.type }));
      } else {
        const name = `in_${external.length}`;
        local.set(i, push({ op: 'input', inputs: [], params: { name, kind: 'data' } as OpParams['input'], type: src.type }));
        inputs.push(Object.freeze({ name, kind: 'data', id: local.get(i)! }));
        external.push(i);
      }
    }
    local.set(m.id, push({ op: m.op, inputs: m.inputs.map((i) => local.get(i)!), params: m.params, type: m.type, origin: m.origin }));
  }
  const out = local.get(members[members.length - 1]!.id)!;
  return { graph: Object.freeze({ nodes: Object.freeze(nodes), inputs: Object.freeze(inputs), outputs: Object.freeze([{ name: 'output', id: out }]), updates: Object.freeze([]) }), external };
}

export function fuseElementwise(g: Graph): Graph {
  const group = groups(g);
  const map = new Int32Array(g.nodes.length).fill(-1);
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (group[n.id] === -1) {
      map[n.id] = nodes.length;
      nodes.push(Object.freeze({ ...n, id: nodes.length, inputs: Object.freeze(n.inputs.map((i) => map[i]!)) }));
      continue;
    }
    if (group[n.id] !== n.id) continue; // a member: emitted with its root
    const members = g.nodes.filter((m) => group[m.id] === n.id);
    const { graph, external } = body(g, members);
    const inputs = external.map((i) => map[i]!);
    if (inputs.some((i) => i < 0)) throw internal(`fusion: %${n.id} uses a value defined after it`);
    map[n.id] = nodes.length;
    nodes.push(Object.freeze({ id: nodes.length, op: 'fused', inputs: Object.freeze(inputs), params: { body: graph }, type: n.type, origin: n.origin }));
  }
  const id = (old: number) => {
    if (map[old]! < 0) throw internal(`fusion: %${old} is used outside its group`);
    return map[old]!;
  };
  // scalar constants now live in the bodies that use them
  return dce(withNodes(g, nodes, id));
}
