/**
 * Parameters and the bookkeeping the PyTorch surface keeps beside tensors: a
 * parameter is the leaf tensor of a `Storage` (its value may live in a compiled
 * module), its gradient after a step is another storage, and a loss remembers
 * the tensors it was computed from (its "companions") so a step also computes
 * them — `out` stays readable after `optimizer.step()` changed the weights.
 */
import { userError } from '../../compiler/errors.js';
import { Storage } from '../../compiler/lazy.js';
import { captureOrigin } from '../../compiler/source.js';
import { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';

let parameterCount = 0;

/**
 * A trainable leaf (PyTorch's nn.Parameter): float32, requires grad by default.
 * @example this.scale = new kiln.nn.Parameter(kiln.ones([4]));
 */
export const Parameter = function Parameter(data: Tensor, requiresGrad = true): Tensor {
  if (!(data instanceof Tensor) || data.isSymbolic) throw userError('nn.Parameter', `expected a concrete Tensor, got ${data instanceof Tensor ? 'a symbolic one' : typeof data}`, captureOrigin());
  if (data.dtype !== 'float32') throw userError('nn.Parameter', `expected float32 data, got ${formatType(data.type)}`, captureOrigin());
  return new Storage(data.value!, `parameter_${parameterCount++}`, 'parameter', requiresGrad).leaf;
} as unknown as { new (data: Tensor, requiresGrad?: boolean): Tensor; (data: Tensor, requiresGrad?: boolean): Tensor };

/** A buffer: persistent state of a module that is not trained (running statistics). */
export function buffer(data: Tensor, label = 'buffer'): Tensor {
  return new Storage(data.value!, label, 'state').leaf;
}

export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && t.lazy?.kind === 'storage' && t.lazy.storage.kind === 'parameter';
}

export function isBuffer(t: unknown): t is Tensor {
  return t instanceof Tensor && t.lazy?.kind === 'storage' && t.lazy.storage.kind === 'state';
}

/** The storage of parameter `p`. */
export function storageOf(p: Tensor, subject: string): Storage {
  if (p.lazy?.kind === 'storage') return p.lazy.storage;
  throw userError(subject, `expected parameters (model.parameters(), or kiln.nn.Parameter(t)), got ${p.isLazy ? 'a computed tensor' : 'a plain tensor'} ${formatType(p.type)}; wrap it: new kiln.nn.Parameter(t)`, captureOrigin());
}

const grads = new WeakMap<Storage, Storage>();

/** Where a step stores parameter `p`'s gradient. */
export function gradStorage(p: Tensor): Storage {
  const s = storageOf(p, 'grad');
  let g = grads.get(s);
  if (!g) {
    const size = s.type.shape.reduce<number>((a, d) => a * (d as number), 1);
    grads.set(s, (g = new Storage({ dtype: 'float32', shape: s.type.shape as number[], data: new Float32Array(size) }, `${s.label}.grad`, 'state')));
  }
  return g;
}

const companions = new WeakMap<Tensor, Tensor[]>();

/** Records that `loss` was computed from `inputs`, so the step that uses `loss` computes them too. */
export function remember(loss: Tensor, ...inputs: Tensor[]): Tensor {
  if (loss.isLazy) companions.set(loss, inputs.filter((t) => t.isLazy));
  return loss;
}

export function companionsOf(t: Tensor): Tensor[] {
  return companions.get(t) ?? [];
}
