/**
 * `kiln.utils.data`: PyTorch's Dataset, TensorDataset and DataLoader. A
 * DataLoader stacks examples into batch tensors (float32 or int32 as the
 * dataset's), shuffles with a seed (a new order each epoch, the same orders on
 * every run) and can drop the last, smaller batch — which keeps every step the
 * same shape, so a training loop compiles once.
 * @example
 * const loader = new kiln.utils.data.DataLoader(new kiln.utils.data.TensorDataset(x, y), { batchSize: 64, shuffle: true, seed: 0 });
 * for (const [xb, yb] of loader) { … }
 */
import { checkOptions, optionKeys } from '../../compiler/check.js';
import { userError } from '../../compiler/errors.js';
import { bitsAt } from '../../compiler/random.js';
import { captureOrigin } from '../../compiler/source.js';
import { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';

/** A map-style dataset: `length` examples, `get(i)` the i-th. */
export abstract class Dataset<T = Tensor[]> {
  abstract get length(): number;
  abstract get(index: number): T;
}

/** Examples are rows of tensors that share their first dimension. */
export class TensorDataset extends Dataset<Tensor[]> {
  readonly tensors: readonly Tensor[];
  constructor(...tensors: Tensor[]) {
    super();
    if (tensors.length === 0) throw userError('TensorDataset', 'expected at least one tensor', captureOrigin());
    const n = tensors[0]!.shape[0];
    for (const t of tensors) if (t.rank === 0 || t.shape[0] !== n) throw userError('TensorDataset', `expected tensors with the same first dimension, got ${tensors.map((x) => formatType(x.type)).join(' and ')}`, captureOrigin());
    this.tensors = tensors;
  }
  get length(): number { return this.tensors[0]!.shape[0] as number; }
  get(index: number): Tensor[] { return this.rows([index]); }

  /** Rows `index` of every tensor, as batch tensors. */
  rows(index: readonly number[]): Tensor[] {
    return this.tensors.map((t) => {
      const v = t.value!;
      const width = v.data.length / (v.shape[0] || 1);
      const out = new (v.data.constructor as new (n: number) => typeof v.data)(index.length * width);
      index.forEach((r, i) => out.set(v.data.subarray(r * width, (r + 1) * width), i * width));
      return Tensor.concrete({ dtype: v.dtype, shape: [index.length, ...v.shape.slice(1)], data: out });
    });
  }
}

export interface DataLoaderOptions {
  batchSize?: number;
  shuffle?: boolean;
  /** Seed of the shuffling; epoch e uses stream (seed, e). */
  seed?: number;
  dropLast?: boolean;
}

/** Batches of a dataset; iterate it once per epoch. */
export class DataLoader<T = Tensor[]> implements Iterable<Tensor[]> {
  readonly batchSize: number;
  private epoch = 0;
  constructor(readonly dataset: Dataset<T>, readonly options: DataLoaderOptions = {}) {
    checkOptions('DataLoader', options, optionKeys<DataLoaderOptions>({ batchSize: true, shuffle: true, seed: true, dropLast: true }));
    this.batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw userError('DataLoader', `expected a positive integer batchSize, got ${options.batchSize}`, captureOrigin());
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.options.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  private order(): number[] {
    const n = this.dataset.length;
    const index = Array.from({ length: n }, (_, i) => i);
    if (this.options.shuffle) {
      const seed = ((this.options.seed ?? 0) ^ Math.imul(this.epoch + 1, 0x9e3779b9)) >>> 0;
      for (let i = n - 1; i > 0; i--) { // Fisher–Yates with the counter-based generator
        const j = bitsAt(seed, i) % (i + 1);
        [index[i], index[j]] = [index[j]!, index[i]!];
      }
    }
    this.epoch++;
    return index;
  }

  *[Symbol.iterator](): Iterator<Tensor[]> {
    const order = this.order();
    for (let start = 0; start < order.length; start += this.batchSize) {
      const index = order.slice(start, start + this.batchSize);
      if (index.length < this.batchSize && this.options.dropLast) break;
      if (this.dataset instanceof TensorDataset) yield this.dataset.rows(index);
      else yield stack(index.map((i) => this.dataset.get(i) as unknown as Tensor[]));
    }
  }
}

/** Stacks examples (each a list of tensors) into batch tensors. */
function stack(examples: Tensor[][]): Tensor[] {
  return examples[0]!.map((_, k) => {
    const parts = examples.map((e) => e[k]!.value!);
    const width = parts[0]!.data.length;
    const out = new (parts[0]!.data.constructor as new (n: number) => typeof parts[0]['data'])(parts.length * width);
    parts.forEach((p, i) => out.set(p.data, i * width));
    return Tensor.concrete({ dtype: parts[0]!.dtype, shape: [parts.length, ...parts[0]!.shape], data: out });
  });
}
