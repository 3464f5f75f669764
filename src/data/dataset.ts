/**
 * `kiln.data`: input pipelines after tf.data, in plain JS over typed-array views.
 * A `Dataset` is an immutable, lazily evaluated sequence of elements (Tensors, or
 * lists or records of them); its methods return new Datasets, and nothing runs
 * until it is iterated (`for await (const b of ds)`, `toArray()`). Each iteration
 * starts over, so a shuffled dataset gives a new order each time unless
 * `reshuffleEachIteration: false`.
 * @example
 * const ds = kiln.data.fromTensors([x, y]).shuffle(1024, { seed: 0 }).batch(64);
 * await model.fit(ds, { epochs: 5 });
 */
import { checkOptions } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import type { Data, Value } from '../../compiler/ops/op.js';
import { nextSeed, stepStream, uniformAt } from '../../compiler/random.js';
import { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';

/** An element with its Tensors (and numbers) stacked along a new leading batch dimension. */
export type Batched<T> = T extends Tensor | number ? Tensor : T extends readonly unknown[] ? { -readonly [K in keyof T]: Batched<T[K]> } : { [K in keyof T]: Batched<T[K]> };

/**
 * The number of elements: a count, `Infinity` (repeated forever), or undefined
 * when not known without iterating (a generator, a filter).
 */
export type Size = number | undefined;

export class Dataset<T> {
  /** @param source a fresh iterator for each iteration. */
  constructor(private readonly source: () => AsyncIterator<T> | Iterator<T>, readonly size: Size) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const it = this.source();
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    } finally {
      await it.return?.();
    }
  }

  /** All elements (for tests and small data); throws on an infinite dataset. */
  async toArray(): Promise<T[]> {
    if (this.size === Infinity) throw new KilnError('Dataset.toArray: the dataset is infinite (repeat() without a count); take(n) first.');
    const out: T[] = [];
    for await (const e of this) out.push(e);
    return out;
  }

  /** Each element passed through `fn` (run lazily, again at each iteration). */
  map<U>(fn: (element: T) => U | Promise<U>): Dataset<U> {
    const self = this;
    return new Dataset(async function* () {
      for await (const e of self) yield await fn(e);
    }, this.size);
  }

  /** The elements for which `predicate` holds (the size becomes unknown). */
  filter(predicate: (element: T) => boolean | Promise<boolean>): Dataset<T> {
    const self = this;
    return new Dataset(async function* () {
      for await (const e of self) if (await predicate(e)) yield e;
    }, this.size === Infinity ? Infinity : undefined);
  }

  /** The first `count` elements. */
  take(count: number): Dataset<T> {
    checkCount('take', count);
    const self = this;
    return new Dataset(async function* () {
      if (count === 0) return;
      let i = 0;
      for await (const e of self) {
        yield e;
        if (++i >= count) return;
      }
    }, this.size === undefined ? undefined : Math.min(this.size, count));
  }

  /** All but the first `count` elements. */
  skip(count: number): Dataset<T> {
    checkCount('skip', count);
    const self = this;
    return new Dataset(async function* () {
      let i = 0;
      for await (const e of self) if (i++ >= count) yield e;
    }, this.size === undefined ? undefined : this.size === Infinity ? Infinity : Math.max(0, this.size - count));
  }

  /** The elements `count` times over (forever without a count); each pass re-iterates, so shuffling differs per pass. */
  repeat(count = Infinity): Dataset<T> {
    checkCount('repeat', count);
    const self = this;
    return new Dataset(async function* () {
      for (let pass = 0; pass < count; pass++) {
        let any = false;
        for await (const e of self) (any = true, yield e);
        if (!any) return; // an empty dataset repeated is empty, not an endless loop
      }
    }, this.size === undefined ? undefined : this.size === 0 || count === 0 ? 0 : this.size * count);
  }

  /**
   * tf.data's buffer shuffle: the first `bufferSize` elements fill a buffer; each
   * step yields a random one of the buffer and puts the next element in its place.
   * With `bufferSize` ≥ the size it is a uniform permutation. Seeded, it is
   * reproducible; with `reshuffleEachIteration` (the default) iteration k draws
   * from stream (seed, k), so each epoch has its own order.
   */
  shuffle(bufferSize: number, options: { seed?: number; reshuffleEachIteration?: boolean } = {}): Dataset<T> {
    checkOptions('Dataset.shuffle', options, ['seed', 'reshuffleEachIteration']);
    if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new KilnError(`Dataset.shuffle: expected bufferSize to be a positive integer, got ${bufferSize}.`);
    const { seed = nextSeed(), reshuffleEachIteration = true } = options;
    if (!Number.isInteger(seed)) throw new KilnError(`Dataset.shuffle: expected seed to be an integer, got ${seed}.`);
    const self = this;
    let iteration = 0;
    return new Dataset(async function* () {
      const stream = reshuffleEachIteration ? stepStream(seed >>> 0, iteration++) : seed >>> 0;
      let draw = 0;
      const buffer: T[] = [];
      const it = self[Symbol.asyncIterator]();
      try {
        for (let r = await it.next(); ; r = await it.next()) {
          if (r.done) break;
          buffer.push(r.value);
          if (buffer.length < bufferSize) continue;
          const j = Math.floor(uniformAt(stream, draw++) * buffer.length);
          const picked = buffer[j]!;
          buffer[j] = buffer[buffer.length - 1]!;
          buffer.pop();
          yield picked;
        }
        while (buffer.length) {
          const j = Math.floor(uniformAt(stream, draw++) * buffer.length);
          const picked = buffer[j]!;
          buffer[j] = buffer[buffer.length - 1]!;
          buffer.pop();
          yield picked;
        }
      } finally {
        await it.return?.(undefined);
      }
    }, this.size);
  }

  /**
   * Consecutive elements stacked into batches of `batchSize` (the last may be
   * smaller unless `dropRemainder`): each Tensor leaf becomes a Tensor with a
   * leading batch dimension, copying only that batch's rows.
   */
  batch(batchSize: number, options: { dropRemainder?: boolean } = {}): Dataset<Batched<T>> {
    checkOptions('Dataset.batch', options, ['dropRemainder']);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new KilnError(`Dataset.batch: expected batchSize to be a positive integer, got ${batchSize}.`);
    const { dropRemainder = false } = options;
    const self = this;
    const n = this.size;
    return new Dataset(async function* () {
      let group: T[] = [];
      for await (const e of self) {
        group.push(e);
        if (group.length === batchSize) (yield stack(group) as Batched<T>, (group = []));
      }
      if (group.length && !dropRemainder) yield stack(group) as Batched<T>;
    }, n === undefined || n === Infinity ? n : dropRemainder ? Math.floor(n / batchSize) : Math.ceil(n / batchSize));
  }
}

function checkCount(method: string, count: number): void {
  if (!(count === Infinity || (Number.isInteger(count) && count >= 0))) throw new KilnError(`Dataset.${method}: expected a non-negative integer count, got ${count}.`);
}

function concreteValue(t: Tensor, what: string): Value {
  if (!t.value) throw new KilnError(`kiln.data: expected ${what} to be a concrete Tensor, got a symbolic one.`);
  return t.value;
}

/** Example i of a batch-major value: a view of its row, not a copy. */
function row(v: Value, i: number): Tensor {
  const width = v.data.length / v.shape[0]!;
  return Tensor.concrete({ dtype: v.dtype, shape: v.shape.slice(1), data: v.data.subarray(i * width, (i + 1) * width) as Data });
}

/** Elements of the same structure, stacked leaf by leaf. */
function stack(elements: readonly unknown[], path = 'element'): unknown {
  const first = elements[0];
  if (first instanceof Tensor) {
    const values = elements.map((e, i) => {
      if (!(e instanceof Tensor)) throw new KilnError(`Dataset.batch: expected ${path} of every element to be a Tensor, got ${describe(e)} in element ${i}.`);
      const v = concreteValue(e, path);
      if (e.dtype !== first.dtype || v.shape.length !== first.rank || v.shape.some((d, k) => d !== first.shape[k])) {
        throw new KilnError(`Dataset.batch: expected ${path} of every element to be ${formatType(first.type)}, got ${formatType(e.type)} in element ${i}.`);
      }
      return v;
    });
    const width = values[0]!.data.length;
    const Ctor = values[0]!.data.constructor as new (n: number) => Data;
    const out = new Ctor(values.length * width);
    values.forEach((v, i) => out.set(v.data, i * width));
    return Tensor.concrete({ dtype: first.dtype, shape: [values.length, ...values[0]!.shape], data: out });
  }
  if (typeof first === 'number') {
    return Tensor.concrete({ dtype: 'float32', shape: [elements.length], data: Float32Array.from(elements as number[]) });
  }
  if (Array.isArray(first)) {
    return first.map((_, k) => stack(elements.map((e, i) => {
      if (!Array.isArray(e) || e.length !== first.length) throw new KilnError(`Dataset.batch: expected every element's ${path} to be a list of ${first.length}, got ${describe(e)} in element ${i}.`);
      return e[k];
    }), `${path}[${k}]`));
  }
  if (first !== null && typeof first === 'object') {
    return Object.fromEntries(Object.keys(first).map((k) => [k, stack(elements.map((e, i) => {
      if (e === null || typeof e !== 'object' || !(k in e)) throw new KilnError(`Dataset.batch: expected every element's ${path} to have key "${k}", got ${describe(e)} in element ${i}.`);
      return (e as Record<string, unknown>)[k];
    }), `${path}.${k}`)]));
  }
  throw new KilnError(`Dataset.batch: expected elements made of Tensors and numbers (in lists or records), got ${describe(first)} for ${path}.`);
}

function describe(e: unknown): string {
  if (e instanceof Tensor) return formatType(e.type);
  if (Array.isArray(e)) return `a list of ${e.length}`;
  return e === null ? 'null' : typeof e;
}

/**
 * A dataset of the examples of `tensors` (slices along axis 0): one Tensor, a
 * list or a record of Tensors sharing their first dimension. Examples are views
 * of the tensors' data, not copies.
 * @example kiln.data.fromTensors([x, y]).shuffle(1024, { seed: 0 }).batch(64)
 */
export function fromTensors<const T extends Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>>(tensors: T): Dataset<T> {
  const entries: [string, unknown][] = tensors instanceof Tensor ? [['tensors', tensors]] : Array.isArray(tensors) ? tensors.map((t, i) => [`tensors[${i}]`, t]) : tensors !== null && typeof tensors === 'object' ? Object.entries(tensors).map(([k, t]) => [`tensors.${k}`, t]) : [];
  if (!(tensors instanceof Tensor) && entries.length === 0) throw new KilnError(`kiln.data.fromTensors: expected a Tensor, or a non-empty list or record of Tensors, got ${describe(tensors)}.`);
  const values = entries.map(([what, t]) => {
    if (!(t instanceof Tensor)) throw new KilnError(`kiln.data.fromTensors: expected ${what} to be a Tensor, got ${describe(t)}.`);
    if (t.rank < 1) throw new KilnError(`kiln.data.fromTensors: expected ${what} to have a first dimension to slice, got ${formatType(t.type)}.`);
    return concreteValue(t, what);
  });
  const n = values[0]!.shape[0]!;
  values.forEach((v, i) => {
    if (v.shape[0] !== n) throw new KilnError(`kiln.data.fromTensors: expected every tensor to have the same first dimension, got ${n} for ${entries[0]![0]} and ${v.shape[0]} for ${entries[i]![0]}.`);
  });
  const example = (i: number): T => {
    if (tensors instanceof Tensor) return row(values[0]!, i) as T;
    if (Array.isArray(tensors)) return values.map((v) => row(v, i)) as unknown as T;
    return Object.fromEntries(Object.keys(tensors).map((k, j) => [k, row(values[j]!, i)])) as unknown as T;
  };
  return new Dataset(function* () {
    for (let i = 0; i < n; i++) yield example(i);
  }, n);
}

/** A dataset of the elements of a plain array (numbers, Tensors, lists or records of them). */
export function fromArray<T>(items: readonly T[]): Dataset<T> {
  if (!Array.isArray(items)) throw new KilnError(`kiln.data.fromArray: expected an array, got ${describe(items)}.`);
  return new Dataset(() => items[Symbol.iterator](), items.length);
}

/** A dataset of what `make()` yields, called afresh at each iteration (its size is unknown). */
export function generator<T>(make: () => Iterator<T> | AsyncIterator<T>): Dataset<T> {
  return new Dataset(make, undefined);
}
