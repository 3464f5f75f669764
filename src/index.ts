/**
 * kiln: define, differentiate, compile and run tensor programs from TypeScript.
 *
 * @example
 * import * as kiln from 'kiln';
 * const x = kiln.tensor([[1, 2], [3, 4]]);
 * kiln.matmul(x, x).add(1).relu().arraySync(); // [[8, 11], [16, 23]]
 * const g = kiln.trace((a) => kiln.sum(kiln.tanh(a)), [kiln.spec([null, 4])]);
 * console.log(kiln.print(kiln.autodiff(g, { of: 'output', wrt: ['input'] })));
 * const f = kiln.compile((a) => kiln.relu(a)); await f(x);
 */
export * from '../compiler/index.js';
export * as datasets from './datasets/index.js';
export * as optimizers from './optimizers/index.js';
export * as layers from './layers/index.js';
export { sequential, Sequential, losses, metrics, type CompileArgs, type FitArgs, type History, type Callback } from './models/index.js';
export { input, model, Model, LayersModel, Functional, SymbolicTensor } from './models/index.js';
export { loadModel, decodeModel, encodeModel, type SaveOptions } from './models/save.js';
export { loadArtifactFile, artifactOf, type ExportOptions } from './models/export.js';
export { loadArtifact, Artifact, type ArtifactManifest } from './runtime/index.js';
export { compileModule, manifestOf, type Compiled, type CompileOptions } from './compile.js';
export { compile, type JitOptions } from './jit.js';
export { load, KilnModule, KilnRuntimeError, type Manifest } from './runtime/index.js';
export { setThreads, getThreads, setNumThreads, getNumThreads } from './threads.js';
export { setDeterministic, getDeterministic } from './determinism.js';
export * as callbacks from './models/callbacks.js';
export * as data from './data/index.js';
export * as image from '../compiler/functions/image.js';
export * as preprocessing from './data/preprocessing.js';
/** PyTorch's name for kiln.utils.setRandomSeed. */
export { setRandomSeed as manualSeed } from '../compiler/random.js';
export { variable, variableGrads, Variable } from './variables.js';
export * as io from './io/index.js';
export * as summary from './summary/index.js';

// ---- PyTorch-style surface (issue 6): lazy tensors, nn, optim, utils.data; see src/torch/ ----
export { nn, optim, utils, noGrad, isGradEnabled, cacheStats, resetCacheStats, setCompilePolicy, synchronize } from './torch/index.js';
// ---- end PyTorch-style surface ----
