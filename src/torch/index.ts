/**
 * The PyTorch-style surface: lazy tensors (compiler/lazy.ts) with the compiled
 * back end, `nn`, `optim`, `utils.data`. Importing it installs the back end.
 * @example
 * opt.zeroGrad(); const loss = kiln.nn.functional.crossEntropy(model.forward(x), y); loss.backward(); opt.step();
 */
import { installCompiledBackend } from './engine.js';
import * as data from './data.js';
import { SummaryWriter } from '../summary/summaryWriter.js';
import { plotModel, modelToDot, modelToSvg } from '../plot/plotModel.js';
import { imageDatasetFromDirectory } from '../data/imageFolder.js';
import { padSequences, timeseriesDatasetFromArray } from '../data/sequences.js';
import { textDatasetFromDirectory } from '../data/textFolder.js';
import { setRandomSeed } from '../../compiler/random.js';

installCompiledBackend();

export * as nn from './nn/index.js';
export * as optim from './optimIndex.js';
/** `kiln.utils.setRandomSeed`, `imageDatasetFromDirectory`, `textDatasetFromDirectory`, `timeseriesDatasetFromArray` and `padSequences` (Keras's); `kiln.utils.data` (Dataset, DataLoader) and `kiln.utils.tensorboard.SummaryWriter`, as torch.utils; `kiln.utils.plotModel` (and modelToDot, modelToSvg), as Keras's plot_model. */
export const utils = { data, tensorboard: { SummaryWriter }, plotModel, modelToDot, modelToSvg, imageDatasetFromDirectory, textDatasetFromDirectory, timeseriesDatasetFromArray, padSequences, setRandomSeed };
export { noGrad, isGradEnabled, cacheStats, resetCacheStats, setCompilePolicy, flush as synchronize } from '../../compiler/lazy.js';
