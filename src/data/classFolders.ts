/**
 * @file What Keras's `*_dataset_from_directory` loaders share: a folder of class
 * subfolders (sorted names, or the classNames given) → the files of each class
 * with their label, shuffled by a seed before a validation split, and labels as
 * tensors in the chosen labelMode.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../../compiler/errors.js';
import { uniformAt } from '../../compiler/random.js';
import { Tensor } from '../../compiler/tensor.js';

export type LabelMode = 'int' | 'categorical' | 'binary' | null;

export interface ClassFolderOptions {
  readonly labelMode: LabelMode;
  readonly classNames?: readonly string[];
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly validationSplit?: number;
  readonly subset?: 'training' | 'validation' | 'both';
}

/** Files under `dir` (recursively, in name order) whose names match `extensions`. */
function listFiles(dir: string, extensions: RegExp): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path, extensions));
    else if (extensions.test(entry.name)) out.push(path);
  }
  return out;
}

/**
 * The checked options' classes and [file, label] samples (shuffled with the
 * seed when asked or when splitting, as Keras shuffles the file list), split
 * into the subsets asked for.
 */
export function classFolderSamples(subject: string, directory: string, options: ClassFolderOptions, extensions: RegExp, kind: string): { classNames: string[]; subsets: [string, number][][]; both: boolean } {
  const { labelMode, batchSize, shuffle, seed, validationSplit, subset } = options;
  let stats;
  try {
    stats = statSync(directory);
  } catch (e) {
    throw new KilnError(`${subject}: cannot read "${directory}": ${(e as NodeJS.ErrnoException).code}.`);
  }
  if (!stats.isDirectory()) throw new KilnError(`${subject}: expected a folder of class subfolders, got the file "${directory}".`);
  if (![null, 'int', 'categorical', 'binary'].includes(labelMode)) throw new KilnError(`${subject}: expected labelMode 'int', 'categorical', 'binary' or null, got ${JSON.stringify(labelMode)}.`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new KilnError(`${subject}: expected batchSize to be a positive integer, got ${JSON.stringify(batchSize)}.`);
  if ((validationSplit === undefined) !== (subset === undefined)) throw new KilnError(`${subject}: validationSplit and subset go together (got ${validationSplit === undefined ? 'only subset' : 'only validationSplit'}).`);
  if (validationSplit !== undefined && !(validationSplit > 0 && validationSplit < 1)) throw new KilnError(`${subject}: expected validationSplit in (0, 1), got ${validationSplit}.`);
  if (subset !== undefined && !['training', 'validation', 'both'].includes(subset)) throw new KilnError(`${subject}: expected subset 'training', 'validation' or 'both', got ${JSON.stringify(subset)}.`);
  const folders = readdirSync(directory, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const classNames = options.classNames ? [...options.classNames] : folders;
  for (const c of classNames) if (!folders.includes(c)) throw new KilnError(`${subject}: classNames names "${c}", which is not a subfolder of "${directory}" (subfolders: ${folders.join(', ') || 'none'}).`);
  if (classNames.length === 0) throw new KilnError(`${subject}: "${directory}" has no class subfolders.`);
  if (labelMode === 'binary' && classNames.length !== 2) throw new KilnError(`${subject}: labelMode 'binary' needs exactly 2 classes, got ${classNames.length} (${classNames.join(', ')}).`);
  let samples: [string, number][] = [];
  classNames.forEach((c, label) => {
    const files = listFiles(join(directory, c), extensions);
    if (files.length === 0) throw new KilnError(`${subject}: the class folder "${join(directory, c)}" has no ${kind}.`);
    samples.push(...files.map((f): [string, number] => [f, label]));
  });
  if (shuffle || validationSplit !== undefined) { // Keras shuffles the file list with the seed before splitting
    const order = samples.map((_, i) => [uniformAt(seed >>> 0, i), i] as const).sort((a, b) => a[0] - b[0]);
    samples = order.map(([, i]) => samples[i]!);
  }
  if (validationSplit === undefined) return { classNames, subsets: [samples], both: false };
  const held = Math.floor(validationSplit * samples.length);
  const training = samples.slice(0, samples.length - held);
  const validation = samples.slice(samples.length - held);
  return { classNames, subsets: subset === 'both' ? [training, validation] : subset === 'training' ? [training] : [validation], both: subset === 'both' };
}

/** A batch's labels in `labelMode`: int32 indices, float32 [n, 1] (binary) or one-hot rows. */
export function labelsOf(labels: readonly number[], labelMode: Exclude<LabelMode, null>, classes: number): Tensor {
  if (labelMode === 'int') return Tensor.concrete({ dtype: 'int32', shape: [labels.length], data: Int32Array.from(labels) });
  if (labelMode === 'binary') return Tensor.concrete({ dtype: 'float32', shape: [labels.length, 1], data: Float32Array.from(labels) });
  const onehot = new Float32Array(labels.length * classes);
  labels.forEach((l, i) => (onehot[i * classes + l] = 1));
  return Tensor.concrete({ dtype: 'float32', shape: [labels.length, classes], data: onehot });
}
