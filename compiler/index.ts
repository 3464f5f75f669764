/**
 * @file The compiler's public surface: IR, op table, tracing, transforms, passes,
 * interpreter. `src/index.ts` re-exports what users see.
 */
export * from './types.js';
export * from './ir.js';
export { ops, opNames, isElementwise, type OpName, type OpParams, type OpTable } from './ops/index.js';
export type { OpDef, Value, Data, Vjp, VjpArgs, Backend } from './ops/op.js';
export { Tensor, apply, type NestedArray } from './tensor.js';
export { KilnError } from './errors.js';
export { interpret, type InterpretOptions, type InterpretResult, type Precision } from './interpret.js';
export { verify } from './verify.js';
export { trace, spec, assign, type Spec, type TraceOutput } from './trace.js';
export { grad, valueAndGrad, vjp, customGrad, type CustomGradResult } from './transforms.js';
export { autodiff, type AutodiffOptions } from './passes/autodiff.js';
export { dce } from './passes/dce.js';
export { checkGrads, gradientError, type GradCheckOptions, type GradCheckResult } from './gradcheck.js';
export * from './functions/index.js';
