/**
 * Keras-style optimizers whose whole update runs inside the compiled training
 * step: call `applyGradients` inside `kiln.trace`, bind `initialState(…)` at the
 * first run and pass `inputs()` (the learning rate) to every run.
 *
 * @example
 * const opt = kiln.optimizers.adam({ learningRate: 1e-3, globalClipnorm: 1 });
 * const step = kiln.trace(({ x, y, w, b }) => {
 *   const loss = (w, b) => kiln.meanSquaredError(y, kiln.add(kiln.matmul(x, w), b));
 *   const { value, grad } = kiln.valueAndGrad(loss, [0, 1])(w, b);
 *   opt.applyGradients([[grad[0], w], [grad[1], b]]);
 *   return { loss: value };
 * }, specs);
 * const { module } = await kiln.compileModule({ step });
 * module.run('step', { x, y, w: w0, b: b0, ...opt.initialState({ w: { shape: [3, 2] }, b: { shape: [2] } }), ...opt.inputs() });
 */
export { Optimizer, type OptimizerOptions, type ApplyGradientsOptions, type GradientPair, type Updated, type StateSpec, type Slot, type StepScalars } from './optimizer.js';
export { sgd, SGD, type SgdOptions } from './sgd.js';
export { adagrad, Adagrad, type AdagradOptions } from './adagrad.js';
export { rmsprop, RMSprop, type RmspropOptions } from './rmsprop.js';
export { adam, adamw, Adam, AdamW, type AdamOptions } from './adam.js';
export * as schedules from './schedules.js';
export type { LearningRateSchedule } from './schedules.js';
