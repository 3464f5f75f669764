/**
 * The graph of a PyTorch-style module's forward pass, for `SummaryWriter.addGraph`:
 * the module runs once on the example input with a forward hook on every
 * submodule; the lazy tensors it records (compiler/lazy.ts) are walked back from
 * the output into an IR-shaped graph, each op scoped by the innermost module whose
 * forward made it (`Net/fc1/matmul`), parameters named by their path
 * (`Net/fc1/weight`). Nothing is computed.
 */
import { KilnError } from '../../compiler/errors.js';
import type { Graph, Node } from '../../compiler/ir.js';
import { Tensor } from '../../compiler/tensor.js';
import type { Module } from '../torch/nn/module.js';
import { graphDefOf } from './graphDef.js';

const tensorsIn = (x: unknown): Tensor[] => (x instanceof Tensor ? [x] : Array.isArray(x) ? x.flatMap(tensorsIn) : x && typeof x === 'object' ? Object.values(x).flatMap(tensorsIn) : []);

/**
 * The GraphDef of `module.forward(...inputs)`.
 * @example writer.addGraph(net, kiln.randn([1, 784])) // calls moduleGraphDef(net, [x])
 */
export function moduleGraphDef(module: Module, inputs: readonly Tensor[]): Uint8Array {
  const root = module.constructor.name || 'Module';
  const modules = module.namedModules();
  const scopeOfModule = new Map(modules.map(([path, m]) => [m, path ? `${root}/${path.replace(/\./g, '/')}` : root]));
  const calls: { scope: string; args: Tensor[]; outputs: Tensor[] }[] = [];
  const handles = modules.map(([, m]) => m.registerForwardHook((mod, args, out) => { calls.push({ scope: scopeOfModule.get(mod)!, args: tensorsIn(args), outputs: tensorsIn(out) }); }));
  let output: unknown;
  try {
    output = (module.forward as (...a: unknown[]) => unknown)(...inputs);
  } finally {
    for (const h of handles) h.remove();
  }
  const outputs = tensorsIn(output);
  if (outputs.length === 0) throw new KilnError(`addGraph: ${root}.forward returned no tensor.`);

  // names of leaves: the inputs, then parameters and buffers by path
  const leafName = new Map<Tensor, string>(inputs.map((t, i) => [t, inputs.length === 1 ? 'input' : `input_${i}`]));
  const storageName = new Map<unknown, string>();
  for (const [path, t] of [...module.namedParameters(), ...module.namedBuffers()]) {
    const dot = path.lastIndexOf('.');
    const owner = dot < 0 ? root : `${root}/${path.slice(0, dot).replace(/\./g, '/')}`;
    if (t.lazy?.kind === 'storage') storageName.set(t.lazy.storage, `${owner}/${path.slice(dot + 1)}`);
  }

  // scopes: inner calls report first, so the innermost module that made an op keeps it
  const scope = new Map<Tensor, string>();
  for (const call of calls) {
    const stop = new Set(call.args);
    const stack = [...call.outputs];
    while (stack.length) {
      const t = stack.pop()!;
      if (stop.has(t) || scope.has(t) || t.lazy?.kind !== 'op') continue;
      scope.set(t, call.scope);
      stack.push(...t.lazy.inputs);
    }
  }

  // post-order from the outputs: ids in topological order
  const id = new Map<Tensor, number>();
  const nodes: Node[] = [];
  const graphInputs: { name: string; kind: 'data' | 'parameter'; id: number }[] = [];
  const visit = (start: Tensor) => {
    const stack: [Tensor, boolean][] = [[start, false]];
    while (stack.length) {
      const [t, expanded] = stack.pop()!;
      if (id.has(t)) continue;
      const lazy = leafName.has(t) ? undefined : t.lazy;
      if (lazy?.kind === 'op' && !expanded) {
        stack.push([t, true]);
        for (const x of [...lazy.inputs].reverse()) if (!id.has(x)) stack.push([x, false]);
        continue;
      }
      const n = nodes.length;
      id.set(t, n);
      if (lazy?.kind === 'op') {
        nodes.push({ id: n, op: lazy.op, inputs: lazy.inputs.map((x) => id.get(x)!), params: lazy.params, type: t.type } as Node);
        continue;
      }
      const name = leafName.get(t) ?? (lazy?.kind === 'storage' ? storageName.get(lazy.storage) ?? `${root}/state_${n}` : undefined);
      nodes.push({ id: n, op: name ? 'input' : 'constant', inputs: [], params: name ? { name, kind: 'data' } : {}, type: t.type } as unknown as Node);
      if (name) graphInputs.push({ name, kind: leafName.has(t) ? 'data' : 'parameter', id: n });
    }
  };
  for (const o of outputs) visit(o);
  const graph: Graph = { nodes, inputs: graphInputs, outputs: outputs.map((o, i) => ({ name: outputs.length === 1 ? 'output' : `output_${i}`, id: id.get(o)! })), updates: [] };
  const nodeScope = new Map<number, string>();
  for (const [t, s] of scope) if (id.has(t)) nodeScope.set(id.get(t)!, s);
  return graphDefOf(graph, (n) => nodeScope.get(n) ?? root);
}
