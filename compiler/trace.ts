/**
 * @file Tracing: runs a user function on symbolic tensors described by specs and
 * records the graph it builds. `null` in a spec's leading dimension makes it the
 * dynamic batch dimension.
 */
import { Builder, currentBuilder, withBuilder } from './builder.js';
import { describe } from './check.js';
import { KilnError, userError } from './errors.js';
import type { Graph, InputKind } from './ir.js';
import { inputKinds } from './ir.js';
import { captureOrigin } from './source.js';
import { Tensor } from './tensor.js';
import { BATCH, dtypes, type DType, type Shape } from './types.js';

export interface Spec {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly kind: InputKind;
  readonly name?: string | undefined;
}

/**
 * Describes one traced input; `null` as the first dimension is the dynamic batch.
 * @example kiln.spec([null, 784]); kiln.spec([784, 10], 'float32', { kind: 'parameter', name: 'w' })
 */
export function spec(shape: readonly (number | null)[], dtype: DType = 'float32', options: { kind?: InputKind; name?: string } = {}): Spec {
  const origin = captureOrigin();
  if (!Array.isArray(shape)) throw userError('spec', `expected a shape array, got ${typeof shape}`, origin);
  shape.forEach((d, i) => {
    if (d === null && i > 0) throw userError('spec', `only the leading dimension may be dynamic (null), got [${shape.map(String).join(',')}]`, origin);
    if (d !== null && (!Number.isInteger(d) || d < 0)) throw userError('spec', `expected non-negative integer dimensions, got [${shape.map(String).join(',')}]`, origin);
  });
  if (!dtypes.includes(dtype)) throw userError('spec', `expected dtype float32, int32 or bool, got ${String(dtype)}`, origin);
  const kind = options.kind ?? 'data';
  if (!inputKinds.includes(kind)) throw userError('spec', `expected kind ${inputKinds.join(', ')}, got ${String(kind)}`, origin);
  return { shape: shape.map((d) => (d === null ? BATCH : d)), dtype, kind, name: options.name };
}

export type TraceOutput = Tensor | readonly Tensor[] | { readonly [name: string]: Tensor };

function namedOutputs(result: TraceOutput): { name: string; tensor: Tensor }[] {
  if (result instanceof Tensor) return [{ name: 'output', tensor: result }];
  const entries = Array.isArray(result) ? result.map((t, i) => [`output_${i}`, t] as const) : Object.entries(result as Record<string, Tensor>);
  if (entries.length === 0) throw new KilnError('trace: the traced function returned no tensors.');
  return entries.map(([name, tensor]) => {
    if (!(tensor instanceof Tensor)) throw new KilnError(`trace: output "${name}" is not a Tensor (got ${typeof tensor}).`);
    return { name, tensor };
  });
}

/**
 * Traces `fn` into a graph: positional specs give positional tensors, a record of
 * specs gives `fn` one record of tensors.
 * @example const g = kiln.trace((x) => kiln.relu(x), [kiln.spec([null, 4])]);
 */
export function trace(fn: (...args: never[]) => TraceOutput, specs: readonly Spec[] | Readonly<Record<string, Spec>>): Graph {
  if (typeof fn !== 'function') throw userError('trace', `expected a function to trace, got ${describe(fn)}`, captureOrigin());
  if (specs === null || typeof specs !== 'object') throw userError('trace', `expected a list (or a record) of specs from kiln.spec, got ${describe(specs)}`, captureOrigin());
  const b = new Builder(currentBuilder());
  return withBuilder(b, () => {
    const origin = captureOrigin();
    let result: TraceOutput;
    if (Array.isArray(specs)) {
      const args = specs.map((s, i) => b.input(s.name ?? (specs.length === 1 ? 'input' : `input_${i}`), s.kind, s, origin));
      result = (fn as (...a: Tensor[]) => TraceOutput)(...args);
    } else {
      const record = Object.fromEntries(Object.entries(specs).map(([key, s]) => [key, b.input(s.name ?? key, s.kind, s, origin)]));
      result = (fn as (r: Record<string, Tensor>) => TraceOutput)(record);
    }
    return b.finish(namedOutputs(result));
  });
}

/** Inside a trace: after the step, parameter or state `target` takes `value`. */
export function assign(target: Tensor, value: Tensor): void {
  const b = currentBuilder();
  if (!b || !target.isSymbolic) throw userError('assign', 'expected to be called while tracing, with a parameter or state input as the target', captureOrigin());
  b.update(target, value, captureOrigin());
}
