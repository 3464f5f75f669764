/**
 * `kiln.optim`: PyTorch's optimizers and learning-rate schedulers.
 * @example const opt = new kiln.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 */
export { Optimizer, SGD, Adam, AdamW, RMSprop, Adagrad, type ParamGroup, type Params } from './optim.js';
export * as lrScheduler from './lrScheduler.js';
