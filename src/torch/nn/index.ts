/**
 * `kiln.nn`: modules, parameters, functional, init and utils with PyTorch's names.
 * @example class Net extends kiln.nn.Module { fc = new kiln.nn.Linear(4, 2); forward(x: kiln.Tensor) { return this.fc.forward(x); } }
 */
export { Module } from './module.js';
export * from './layers.js';
export { MultiheadAttention, type AttentionForwardOptions, type MultiheadAttentionOptions } from './attention.js';
export { RNN, LSTM, GRU, recurrent, type RecurrentKind, type RecurrentWeights, type RecurrentOptions, type RecurrentModuleOptions } from './recurrent.js';
export { Parameter } from '../tensors.js';
export * as functional from './functional.js';
export * as init from './init.js';
import { clipGradNorm_, clipGradValue_ } from '../optim.js';
import { padSequence } from './rnnUtils.js';
/** `clipGradNorm_`, `clipGradValue_` and `rnn.padSequence` (why there is no packing: src/torch/nn/rnnUtils.ts). */
export const utils = { clipGradNorm_, clipGradValue_, rnn: { padSequence } };
