/**
 * @file Random draws inside a graph: the randomUniform primitive, whose values
 * are a pure function of (seed, step, index). Pass a new step (a runtime
 * counter such as a layer's step weight) to draw new values each training step.
 */
import { BATCH, type Shape } from '../types.js';
import { apply, Tensor } from '../tensor.js';
import { checkTensor, fail, scalar } from './util.js';

/**
 * Uniform draws in [0, 1) of `shape` (`null` or the batch dimension first) for
 * `step` of stream `seed`; the same (seed, step) gives the same values, compiled or
 * interpreted.
 * @example const u = kiln.randomUniformOp(x.type.shape, 42, step); // step: f32 scalar
 */
export function randomUniformOp(shape: readonly (number | null)[] | Shape, seed: number, step: Tensor | number): Tensor {
  if (!Array.isArray(shape)) fail('randomUniformOp', `expected a shape array, got ${typeof shape}`);
  if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) fail('randomUniformOp', `expected an integer seed, got ${seed}`);
  const s = typeof step === 'number' ? scalar(step) : checkTensor('randomUniformOp', step, 'step');
  return apply('randomUniform', [s], { shape: shape.map((d) => (d === null ? BATCH : d)), seed: seed >>> 0 });
}
