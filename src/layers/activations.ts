/**
 * @file Activations by name, as TensorFlow.js' `activation` strings, over the
 * op functions of `compiler/functions` (so traces see the ops the compiler fuses).
 */
import * as F from '../../compiler/functions/index.js';
import { fail } from '../../compiler/functions/util.js';
import type { Tensor } from '../../compiler/tensor.js';

export type ActivationFn = (x: Tensor) => Tensor;

const table = {
  linear: (x: Tensor) => x,
  relu: F.relu,
  relu6: F.relu6,
  sigmoid: F.sigmoid,
  tanh: F.tanh,
  softmax: (x: Tensor) => F.softmax(x, -1),
  elu: (x: Tensor) => F.elu(x),
  selu: F.selu,
  softplus: F.softplus,
  swish: F.silu,
  silu: F.silu,
  /** The exact (erf) form, as Keras' default. */
  gelu: (x: Tensor) => F.gelu(x),
  /** alpha 0.2, as `tf.leakyRelu`. */
  leakyRelu: (x: Tensor) => F.leakyRelu(x),
} satisfies Record<string, ActivationFn>;

export type ActivationName = keyof typeof table;

/** Every name `get` accepts. */
export const activationNames = Object.keys(table) as ActivationName[];

/** Checks an activation name (undefined is 'linear') and returns it. */
export function checkName(name: unknown, subject = 'activations.get'): ActivationName {
  if (name === undefined || name === null) return 'linear';
  if (typeof name === 'string' && Object.hasOwn(table, name)) return name as ActivationName;
  return fail(subject, `unknown activation ${typeof name === 'string' ? `'${name}'` : JSON.stringify(name) ?? String(name)}; expected one of ${activationNames.map((n) => `'${n}'`).join(', ')}`);
}

/** The activation function for `name`; undefined is 'linear' (the identity). */
export function get(name: string | undefined, subject = 'activations.get'): ActivationFn {
  return table[checkName(name, subject)];
}
