/** Keras-style models: `kiln.sequential`, losses and metrics for `compile`. */
export { sequential, Sequential, type CompileArgs, type FitArgs, type History, type Callback, type Logs, type TrainingParams } from './sequential.js';
export { losses, getLoss, type Loss } from './losses.js';
export { getMetric, type Metric } from './metrics.js';
