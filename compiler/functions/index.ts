/**
 * @file Every op function, composite or primitive: what users call as
 * `kiln.<op>(…)` and what VJP rules are written with.
 */
export { Tensor } from '../tensor.js';
export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './movement.js';
export * from './nn.js';
export * from './losses.js';
export * from './conv.js';
export * from './random.js';
export { scalar, type TensorLike } from './util.js';
export { scan, type ScanOptions, type ScanTree } from './scan.js';
