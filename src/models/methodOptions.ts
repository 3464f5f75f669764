/**
 * @file The option keys each Keras-style model method takes, listed once per
 * method (typed against the options' interfaces where there is one, so tsc keeps
 * the list and the type in step): `LayersModel` refuses any other key, as Keras
 * refuses unknown keyword arguments.
 */
import { optionKeys } from '../../compiler/check.js';
import type { CompileArgs } from './compileArgs.js';
import type { ExportOptions } from './export.js';
import type { SaveOptions } from './save.js';
import type { FitArgs } from './trainer.js';

/** The option keys of each model method, one list a method: anything else is refused (as Keras refuses unknown kwargs). */
export const methodOptions = {
  compile: optionKeys<CompileArgs>({ optimizer: true, loss: true, metrics: true, lossWeights: true }),
  fit: optionKeys<FitArgs>({
    epochs: true, batchSize: true, shuffle: true, validationSplit: true, validationData: true, verbose: true,
    seed: true, callbacks: true, initialEpoch: true, stepsPerEpoch: true, classWeight: true,
  }),
  evaluate: ['batchSize'],
  evaluateDataset: ['steps'],
  predict: ['batchSize'],
  save: optionKeys<SaveOptions>({ includeOptimizer: true, metadata: true, allowNonFinite: true }),
  export: optionKeys<ExportOptions>({ entries: true, maxBatch: true, folder: true, metadata: true, allowNonFinite: true }),
} as const;
