/**
 * @file The autodiff pass.
 * Changes: adds one output `grad_<input>` per differentiated input: the gradient of
 * output `of` (a scalar, or seeded by a `cotangent` input of its type).
 * Invariant: the original outputs and updates compute the same values.
 * Why: training steps and `grad` transforms are graphs like any other, so they
 * compile, print and interpret the same way.
 */
import { Builder, withBuilder } from '../builder.js';
import { backward } from '../autodiff.js';
import { KilnError } from '../errors.js';
import { checkGraph, type Graph } from '../ir.js';
import { inlineValues } from '../inline.js';
import { Tensor } from '../tensor.js';
import { formatType } from '../types.js';
import * as F from '../functions/index.js';
import { dce } from './dce.js';

export interface AutodiffOptions {
  /** Name of the output to differentiate. */
  of: string;
  /** Names of the inputs to differentiate with respect to. */
  wrt: readonly string[];
  /** Add an input of this name, typed like `of`, as the cotangent seed (required for non-scalar `of`). */
  cotangent?: string;
}

export function autodiff(g: Graph, options: AutodiffOptions): Graph {
  checkGraph('autodiff', g);
  if (options === null || typeof options !== 'object') throw new KilnError(`autodiff: expected options { of, wrt }, got ${options === null ? 'null' : typeof options}.`);
  const b = new Builder();
  return withBuilder(b, () => {
    const args = g.inputs.map((i) => b.input(i.name, i.kind, g.nodes[i.id]!.type, g.nodes[i.id]!.origin));
    const values = inlineValues(g, args);
    const named = new Map(g.outputs.map((o) => [o.name, values[o.id]!]));
    const y = named.get(options.of);
    if (!y) throw new KilnError(`autodiff: no output named "${options.of}"; outputs are ${g.outputs.map((o) => `"${o.name}"`).join(', ')}.`);
    const wrt = options.wrt.map((name) => {
      const k = g.inputs.findIndex((i) => i.name === name);
      if (k < 0) throw new KilnError(`autodiff: no input named "${name}"; inputs are ${g.inputs.map((i) => `"${i.name}"`).join(', ')}.`);
      return args[k]!;
    });
    let seed: Tensor;
    if (options.cotangent !== undefined) seed = b.input(options.cotangent, 'data', y.type);
    else if (y.rank === 0 && y.dtype === 'float32') seed = F.onesLike(y);
    else throw new KilnError(`autodiff: output "${options.of}" is ${formatType(y.type)}; gradients need a float32 scalar, or a cotangent input for other shapes.`);
    const grads = backward(b, y, wrt, seed, 'autodiff');
    for (const u of g.updates) b.updates.push({ target: u.target, id: b.lift(values[u.id]!) });
    const outputs = [...g.outputs.map((o) => ({ name: o.name, tensor: values[o.id]! })), ...options.wrt.map((name, k) => ({ name: `grad_${name}`, tensor: grads[k]! }))];
    return dce(b.finish(outputs));
  });
}
