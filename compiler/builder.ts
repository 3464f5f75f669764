/**
 * @file The mutable accumulator behind tracing: nodes are appended in topological
 * order while user code runs, then frozen into a `Graph`. Builders nest (a trace
 * inside a trace, a custom gradient's backward function); a tensor of an outer
 * builder used inside an inner one becomes a captured input of the inner one.
 */
import { internal, userError } from './errors.js';
import type { Graph, GraphInput, GraphOutput, InputKind, Node, Update } from './ir.js';
import type { OpName, OpParams } from './ops/index.js';
import { formatType, sameType, type TensorType } from './types.js';
import { Tensor } from './tensor.js';

export class Builder {
  readonly nodes: Node[] = [];
  readonly inputs: GraphInput[] = [];
  readonly updates: Update[] = [];
  /** Outer tensors captured by this builder, in the order their inputs were made. */
  readonly captured: Tensor[] = [];
  /** Set while autodiff runs: generated nodes carry the origin of the node they differentiate. */
  originOverride: string | undefined;
  private readonly captures = new Map<Tensor, number>();

  /**
   * `captureLazy`: tensors of the PyTorch-style lazy graph (and leaves that
   * require grad) become captured inputs rather than constants, as a scan body
   * needs so its weights stay differentiable and are not read while tracing.
   */
  constructor(readonly parent?: Builder, readonly captureLazy = false) {}

  node<K extends OpName>(op: K, inputs: readonly number[], params: OpParams[K], type: TensorType, origin?: string): Tensor {
    const id = this.nodes.length;
    const node: Node<K> = Object.freeze({ id, op, inputs: Object.freeze([...inputs]), params, type, origin });
    this.nodes.push(node as unknown as Node);
    return Tensor.symbolic(type, this, id);
  }

  input(name: string, kind: InputKind, type: TensorType, origin?: string): Tensor {
    if (this.inputs.some((i) => i.name === name)) throw userError('trace', `duplicate input name "${name}"`, origin);
    const t = this.node('input', [], { name, kind }, type, origin);
    this.inputs.push(Object.freeze({ name, kind, id: t.id! }));
    return t;
  }

  /** The id of `t` in this builder: its own node, a new constant, or a captured input. */
  lift(t: Tensor, subject = 'trace'): number {
    if (t.builder === this) return t.id!;
    const lazy = this.captureLazy && !t.isSymbolic && (t.isLazy || t.requiresGrad);
    if (!lazy && t.value) return this.node('constant', [], { value: t.value.data }, t.type).id!;
    const known = this.captures.get(t);
    if (known !== undefined) return known;
    if (!lazy && !this.isAncestor(t.builder!)) {
      throw userError(subject, `got a symbolic tensor ${formatType(t.type)} from a trace that has finished or is not enclosing this one; return it from that trace instead of keeping it`);
    }
    const id = this.input(`capture_${this.captured.length}`, 'data', t.type).id!;
    this.captures.set(t, id);
    this.captured.push(t);
    return id;
  }

  private isAncestor(b: Builder): boolean {
    for (let p = this.parent; p; p = p.parent) if (p === b) return true;
    return false;
  }

  update(target: Tensor, value: Tensor, origin?: string): void {
    const input = this.inputs.find((i) => i.id === target.id && target.builder === this);
    if (!input || (input.kind !== 'parameter' && input.kind !== 'state')) {
      throw userError('assign', 'expected a parameter or state input of the current trace as the target', origin);
    }
    if (!sameType(target.type, value.type)) {
      throw userError('assign', `expected a value of type ${formatType(target.type)} for "${input.name}", got ${formatType(value.type)}`, origin);
    }
    if (this.updates.some((u) => u.target === input.name)) throw userError('assign', `"${input.name}" is assigned twice`, origin);
    this.updates.push(Object.freeze({ target: input.name, id: this.lift(value) }));
  }

  finish(outputs: readonly { name: string; tensor: Tensor }[]): Graph {
    const outs: GraphOutput[] = outputs.map(({ name, tensor }) => Object.freeze({ name, id: this.lift(tensor) }));
    return Object.freeze({
      nodes: Object.freeze([...this.nodes]),
      inputs: Object.freeze([...this.inputs]),
      outputs: Object.freeze(outs),
      updates: Object.freeze([...this.updates]),
    });
  }
}

const stack: Builder[] = [];

export function currentBuilder(): Builder | undefined {
  return stack[stack.length - 1];
}

/** Runs `fn` with `b` as the builder that new symbolic nodes go to. */
export function withBuilder<T>(b: Builder, fn: () => T): T {
  stack.push(b);
  try {
    return fn();
  } finally {
    if (stack.pop() !== b) throw internal('builder stack out of order');
  }
}
