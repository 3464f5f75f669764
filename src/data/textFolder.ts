/**
 * @file `kiln.utils.textDatasetFromDirectory`, as Keras's: `.txt` files in class
 * subfolders → a dataset of [texts, labels] batches (texts stay strings on the
 * host, for a TextVectorization in the pipeline), shuffled and split by a seed.
 */
import { readFile } from 'node:fs/promises';
import { checkOptions } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import { nextSeed } from '../../compiler/random.js';
import type { Tensor } from '../../compiler/tensor.js';
import { classFolderSamples, labelsOf, type LabelMode } from './classFolders.js';
import { AUTOTUNE, Dataset, fromArray } from './dataset.js';

export interface TextDatasetOptions {
  /** 'int' (default): class indices; 'categorical': one-hot; 'binary': 0/1 floats for 2 classes; null: texts alone. */
  labelMode?: LabelMode;
  /** The classes, in label order (default: the subfolders, sorted). */
  classNames?: readonly string[];
  batchSize?: number;
  /** Keep at most this many characters of each text. */
  maxLength?: number;
  shuffle?: boolean;
  seed?: number;
  validationSplit?: number;
  subset?: 'training' | 'validation' | 'both';
}

/** A dataset of [texts, labels] batches (or texts alone) with the classes it found and its files. */
export type TextDataset = Dataset<[string[], Tensor] | string[]> & { readonly classNames: readonly string[]; readonly filePaths: readonly string[] };

/**
 * Text files (`.txt`, UTF-8) in class subfolders as a dataset of [texts, labels]
 * batches: texts as arrays of strings, labels as tensors.
 * @example
 * const [train, val] = await kiln.utils.textDatasetFromDirectory('reviews/', { validationSplit: 0.2, subset: 'both', seed: 1 }) as kiln.data.TextDataset[];
 * await vectorize.adapt(train.map(([texts]) => texts));
 */
export async function textDatasetFromDirectory(directory: string, options: TextDatasetOptions = {}): Promise<TextDataset | [TextDataset, TextDataset]> {
  const subject = 'textDatasetFromDirectory';
  checkOptions(subject, options, ['labelMode', 'classNames', 'batchSize', 'maxLength', 'shuffle', 'seed', 'validationSplit', 'subset']);
  const { labelMode = 'int', batchSize = 32, maxLength, shuffle = true, seed = nextSeed(), validationSplit, subset } = options;
  if (maxLength !== undefined && (!Number.isInteger(maxLength) || maxLength < 1)) throw new KilnError(`${subject}: expected maxLength to be a positive integer, got ${JSON.stringify(maxLength)}.`);
  const { classNames, subsets, both } = classFolderSamples(subject, directory, { labelMode, classNames: options.classNames, batchSize, shuffle, seed, validationSplit, subset }, /\.txt$/i, '.txt files');
  const load = async ([path, label]: [string, number]): Promise<[string, number]> => {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(await readFile(path));
    } catch (e) {
      throw new KilnError(e instanceof TypeError ? `${subject}: "${path}" is not UTF-8 text.` : `${subject}: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
    }
    return [maxLength === undefined ? text : text.slice(0, maxLength), label];
  };
  const make = (files: [string, number][]): TextDataset => {
    let ds = fromArray(files);
    if (shuffle) ds = ds.shuffle(Math.max(1, files.length), { seed });
    const loaded = ds.map(load, { numParallelCalls: AUTOTUNE });
    const batches = new Dataset(async function* () {
      let texts: string[] = [];
      let labels: number[] = [];
      const flush = () => (labelMode === null ? texts : [texts, labelsOf(labels, labelMode, classNames.length)]) as [string[], Tensor] | string[];
      for await (const [text, label] of loaded) {
        texts.push(text);
        labels.push(label);
        if (texts.length === batchSize) {
          yield flush();
          texts = [];
          labels = [];
        }
      }
      if (texts.length) yield flush();
    }, Math.ceil(files.length / batchSize));
    return Object.assign(batches, { classNames, filePaths: files.map(([f]) => f) });
  };
  const made = subsets.map(make);
  return both ? [made[0]!, made[1]!] : made[0]!;
}
