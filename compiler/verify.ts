/**
 * @file Checks a graph's invariants: ids equal positions, inputs come earlier,
 * arity matches the op table, every type is what the op's rule infers, and
 * outputs, inputs and updates refer to nodes that exist. Passes run it in tests.
 */
import { internal, RuleError } from './errors.js';
import type { Graph } from './ir.js';
import { checkGraph, printNode } from './ir.js';
import { ops, type OpName, type OpParams } from './ops/index.js';
import type { OpDef } from './ops/op.js';
import { formatType, sameType, type TensorType } from './types.js';

export function verify(g: Graph): Graph {
  checkGraph('verify', g);
  const fail = (message: string): never => { throw internal(`verify: ${message}`); };
  g.nodes.forEach((node, index) => {
    const line = printNode(node);
    if (node.id !== index) fail(`node at position ${index} has id ${node.id}: ${line}`);
    const def = ops[node.op] as OpDef<OpParams[OpName]> | undefined;
    if (!def) fail(`unknown op "${node.op}": ${line}`);
    if (def!.arity !== 'variadic' && def!.arity !== node.inputs.length) fail(`${node.op} takes ${def!.arity} inputs: ${line}`);
    for (const i of node.inputs) if (!(i >= 0 && i < index)) fail(`input %${i} does not precede: ${line}`);
    if (node.op === 'input' || node.op === 'constant') return;
    let inferred: TensorType;
    try {
      inferred = def!.infer(node.inputs.map((i) => g.nodes[i]!.type), node.params);
    } catch (e) {
      if (e instanceof RuleError) return fail(`${e.message}: ${line}`);
      throw e;
    }
    if (!sameType(inferred, node.type)) fail(`type ${formatType(node.type)} but the rule gives ${formatType(inferred)}: ${line}`);
  });
  const exists = (id: number, what: string) => { if (!(id >= 0 && id < g.nodes.length)) fail(`${what} refers to missing node %${id}`); };
  for (const i of g.inputs) {
    exists(i.id, `input "${i.name}"`);
    if (g.nodes[i.id]!.op !== 'input') fail(`input "${i.name}" refers to a ${g.nodes[i.id]!.op} node`);
  }
  const inputNodes = g.nodes.filter((n) => n.op === 'input').length;
  if (inputNodes !== g.inputs.length) fail(`${inputNodes} input nodes but ${g.inputs.length} named inputs`);
  for (const o of g.outputs) exists(o.id, `output "${o.name}"`);
  for (const u of g.updates) {
    exists(u.id, `update of "${u.target}"`);
    const target = g.inputs.find((i) => i.name === u.target);
    if (!target || (target.kind !== 'parameter' && target.kind !== 'state')) fail(`update of "${u.target}", which is not a parameter or state input`);
    else if (!sameType(g.nodes[target.id]!.type, g.nodes[u.id]!.type)) fail(`update of "${u.target}" changes its type`);
  }
  return g;
}
