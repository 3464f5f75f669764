/** Keras-style models: `kiln.sequential`, `kiln.model` (functional), `kiln.Model` (subclassed), losses and metrics for `compile`. */
export { sequential, Sequential } from './sequential.js';
export { LayersModel, type CompileArgs, type FitArgs, type History, type Callback, type Logs, type TrainingParams, type InputSpec, type Topology } from './model.js';
export { input, model, Functional, Model, InputLayer, SymbolicTensor, type FunctionalArgs } from './functional.js';
export { losses, getLoss, type Loss } from './losses.js';
export { metrics, getMetric, type Metric } from './metrics.js';
