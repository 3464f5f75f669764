/**
 * @file Scan bodies for codegen.
 * Changes: every scan's body goes through `optimize` (the same pipeline as the
 * graph around it), then the body's constants become inputs of the body fed by
 * constant nodes of the outer graph, placed just before the scan.
 * Invariant: each scan computes the same values (the body's inputs keep their
 * order; hoisted constants are appended after the existing constants, before a
 * step count).
 * Why: the body is emitted once inside the loop, so it should be as fused as any
 * entry; constants must live in the module's constant region, which only the
 * outer graph's constant nodes reach.
 */
import type { Graph, Node } from '../ir.js';
import { withNodes } from '../ir.js';
import type { OpParams } from '../ops/index.js';

/** The body with its constant nodes turned into trailing inputs, and those constants' nodes. */
function hoistConstants(body: Graph): { body: Graph; constants: Node[] } {
  const constants = body.nodes.filter((n) => n.op === 'constant');
  if (constants.length === 0) return { body, constants };
  const taken = new Set(body.inputs.map((i) => i.name));
  const names = new Map<number, string>();
  for (const c of constants) {
    let k = names.size;
    while (taken.has(`const_${k}`)) k++;
    taken.add(`const_${k}`);
    names.set(c.id, `const_${k}`);
  }
  const nodes = body.nodes.map((n) => (n.op === 'constant' ? Object.freeze({ ...n, op: 'input' as const, params: { name: names.get(n.id)!, kind: 'data' as const } }) as Node : n));
  const moved = withNodes(body, nodes, (id) => id);
  return { body: Object.freeze({ ...moved, inputs: Object.freeze([...moved.inputs, ...constants.map((c) => Object.freeze({ name: names.get(c.id)!, kind: 'data' as const, id: c.id }))]) }), constants };
}

export function optimizeScanBodies(g: Graph, optimize: (g: Graph) => Graph): Graph {
  if (!g.nodes.some((n) => n.op === 'scan')) return g;
  const nodes: Node[] = [];
  const map = new Int32Array(g.nodes.length);
  for (const n of g.nodes) {
    const inputs = n.inputs.map((i) => map[i]!);
    if (n.op !== 'scan') {
      map[n.id] = nodes.length;
      nodes.push(Object.freeze({ ...n, id: nodes.length, inputs: Object.freeze(inputs) }));
      continue;
    }
    const params = n.params as OpParams['scan'];
    const { body, constants } = hoistConstants(optimize(params.body));
    const count = params.counted ? inputs.splice(-1) : []; // the step count stays last
    for (const c of constants) {
      inputs.push(nodes.length);
      nodes.push(Object.freeze({ ...c, id: nodes.length, inputs: Object.freeze([]) }));
    }
    inputs.push(...count);
    map[n.id] = nodes.length;
    nodes.push(Object.freeze({ ...n, id: nodes.length, inputs: Object.freeze(inputs), params: { ...params, body } }));
  }
  return withNodes(g, nodes, (old) => map[old]!);
}
