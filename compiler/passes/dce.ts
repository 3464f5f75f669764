/**
 * @file Dead-code elimination.
 * Changes: drops nodes that no output or update depends on, renumbering the rest.
 * Invariant: inputs are kept (they are the graph's signature); order and types are unchanged.
 * Why: tracing and autodiff record everything they touch; only what is used should be compiled.
 */
import type { Graph, Node } from '../ir.js';
import { checkGraph, withNodes } from '../ir.js';

export function dce(g: Graph): Graph {
  checkGraph('dce', g);
  const live = new Uint8Array(g.nodes.length);
  for (const o of g.outputs) live[o.id] = 1;
  for (const u of g.updates) live[u.id] = 1;
  for (const i of g.inputs) live[i.id] = 1;
  for (let i = g.nodes.length - 1; i >= 0; i--) if (live[i]) for (const j of g.nodes[i]!.inputs) live[j] = 1;
  const renumber = new Int32Array(g.nodes.length).fill(-1);
  const nodes: Node[] = [];
  for (const n of g.nodes) {
    if (!live[n.id]) continue;
    renumber[n.id] = nodes.length;
    nodes.push(Object.freeze({ ...n, id: nodes.length, inputs: Object.freeze(n.inputs.map((j) => renumber[j]!)) }));
  }
  const id = (old: number) => renumber[old]!;
  return withNodes(g, nodes, id);
}
