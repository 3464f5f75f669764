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
import { nextSeed, stepStream, uniformAt } from '../../compiler/random.js';
import { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { type Batched, concreteValue, describe, type PaddedShape, padStack, row, stack, type Unbatched, unstack } from './elements.js';
import { readCacheFile, writeCacheFile } from './cacheFile.js';

export type { Batched, PaddedShape, Unbatched };

/** tf.data.AUTOTUNE: let kiln choose the parallelism (4 calls in flight). */
export const AUTOTUNE = -1;

export interface PaddedBatchOptions {
  /** The shape to pad each Tensor to (null: the longest in the batch), following the element's structure. */
  paddedShapes?: PaddedShape | readonly PaddedShape[] | Readonly<Record<string, PaddedShape>>;
  /** The value padding takes (default 0): one number, or one per Tensor following the element's structure. */
  paddingValues?: number | readonly number[] | Readonly<Record<string, number>>;
  /** Drop a last, smaller batch. */
  dropRemainder?: boolean;
}

export interface InterleaveOptions {
  /** How many input elements' datasets are read in turn (default 4). */
  cycleLength?: number;
  /** How many consecutive elements come from each before the next (default 1). */
  blockLength?: number;
  /** Above 1 (or AUTOTUNE), the cycle's datasets read ahead concurrently. */
  numParallelCalls?: number;
}

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

  /**
   * Each element passed through `fn` (run lazily, again at each iteration). With
   * `numParallelCalls` > 1, up to that many calls of an async `fn` run at once
   * (decoding, file reads), and the elements still come out in order.
   * @example ds.map(async (path) => decode(await readFile(path)), { numParallelCalls: 4 })
   */
  map<U>(fn: (element: T) => U | Promise<U>, options: { numParallelCalls?: number } = {}): Dataset<U> {
    if (typeof fn !== 'function') throw new KilnError(`Dataset.map: expected a function of an element, got ${describe(fn)}.`);
    checkOptions('Dataset.map', options, ['numParallelCalls']);
    const parallel = parallelism('Dataset.map', options.numParallelCalls);
    const self = this;
    if (parallel === 1) {
      return new Dataset(async function* () {
        for await (const e of self) yield await fn(e);
      }, this.size);
    }
    return new Dataset(async function* () {
      const pending: Promise<U>[] = [];
      const it = self[Symbol.asyncIterator]();
      try {
        for (let r = await it.next(); !r.done; r = await it.next()) {
          const call = Promise.resolve(r.value).then(fn);
          call.catch(() => undefined); // awaited in order below; not an unhandled rejection meanwhile
          pending.push(call);
          if (pending.length >= parallel) yield await pending.shift()!;
        }
        while (pending.length) yield await pending.shift()!;
      } finally {
        await it.return?.(undefined);
      }
    }, this.size);
  }

  /** The elements for which `predicate` holds (the size becomes unknown). */
  filter(predicate: (element: T) => boolean | Promise<boolean>): Dataset<T> {
    if (typeof predicate !== 'function') throw new KilnError(`Dataset.filter: expected a function of an element that says whether to keep it, got ${describe(predicate)}.`);
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
    return this.grouped('Dataset.batch', batchSize, options.dropRemainder ?? false, stack);
  }

  /** Groups of `batchSize` consecutive elements, each made one batch by `make` (the last group smaller unless dropRemainder). */
  private grouped(method: string, batchSize: number, dropRemainder: boolean, make: (group: T[]) => unknown): Dataset<Batched<T>> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new KilnError(`${method}: expected batchSize to be a positive integer, got ${batchSize}.`);
    const self = this;
    const n = this.size;
    return new Dataset(async function* () {
      let group: T[] = [];
      for await (const e of self) {
        group.push(e);
        if (group.length === batchSize) (yield make(group) as Batched<T>, (group = []));
      }
      if (group.length && !dropRemainder) yield make(group) as Batched<T>;
    }, n === undefined || n === Infinity ? n : dropRemainder ? Math.floor(n / batchSize) : Math.ceil(n / batchSize));
  }

  /**
   * The elements of each batch one by one again: every Tensor leaf is split
   * along its first dimension (all leaves of an element must share it).
   * @example kiln.data.fromTensors(x).batch(8).unbatch()   // the rows of x
   */
  unbatch(): Dataset<Unbatched<T>> {
    const self = this;
    return new Dataset(async function* () {
      for await (const e of self) yield* unstack(e) as Unbatched<T>[];
    }, this.size === 0 ? 0 : this.size === Infinity ? Infinity : undefined);
  }

  /**
   * Batches whose Tensors may differ in shape: each is padded at the end of every
   * dimension to the largest in the batch (or to `paddedShapes`, where a `null`
   * means the largest) with `paddingValues` (0 by default), as tf.data's
   * padded_batch. Shapes follow the element's structure: one shape for a Tensor
   * element, a list or record of them for lists and records.
   * @example kiln.data.fromArray(sentences).paddedBatch(32)   // int32 [32, longest]
   */
  paddedBatch(batchSize: number, options: PaddedBatchOptions = {}): Dataset<Batched<T>> {
    checkOptions('Dataset.paddedBatch', options, ['paddedShapes', 'paddingValues', 'dropRemainder']);
    const { dropRemainder = false, paddedShapes, paddingValues } = options;
    return this.grouped('Dataset.paddedBatch', batchSize, dropRemainder, (group) => padStack(group, paddedShapes, paddingValues));
  }

  /** This dataset's elements, then `other`'s. */
  concatenate<U>(other: Dataset<U>): Dataset<T | U> {
    if (!(other instanceof Dataset)) throw new KilnError(`Dataset.concatenate: expected a Dataset, got ${describe(other)}.`);
    const self = this;
    return new Dataset(async function* () {
      yield* self;
      yield* other;
    }, this.size === undefined || other.size === undefined ? undefined : this.size + other.size);
  }

  /**
   * Each element mapped to a Dataset (or an array or iterable), whose elements
   * follow one another in order.
   * @example files.flatMap((path) => kiln.data.csv(path))
   */
  flatMap<U>(fn: (element: T) => Dataset<U> | Iterable<U> | AsyncIterable<U> | Promise<Dataset<U> | Iterable<U>>): Dataset<U> {
    const self = this;
    return new Dataset(async function* () {
      for await (const e of self) yield* iterableOf<U>('Dataset.flatMap', await fn(e));
    }, this.size === 0 ? 0 : undefined);
  }

  /**
   * tf.data's interleave: `cycleLength` elements at a time are mapped to datasets,
   * and `blockLength` elements are taken from each in turn; an exhausted one is
   * replaced by the next element's. With `numParallelCalls` > 1, the cycle's
   * datasets are read ahead concurrently (their order stays the same).
   * @example files.interleave((path) => kiln.data.csv(path), { cycleLength: 4 })
   */
  interleave<U>(fn: (element: T) => Dataset<U> | Iterable<U> | AsyncIterable<U> | Promise<Dataset<U> | Iterable<U>>, options: InterleaveOptions = {}): Dataset<U> {
    checkOptions('Dataset.interleave', options, ['cycleLength', 'blockLength', 'numParallelCalls']);
    const { cycleLength = 4, blockLength = 1 } = options;
    for (const [what, v] of [['cycleLength', cycleLength], ['blockLength', blockLength]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new KilnError(`Dataset.interleave: expected ${what} to be a positive integer, got ${describe(v)}.`);
    }
    const ahead = parallelism('Dataset.interleave', options.numParallelCalls) > 1;
    const self = this;
    return new Dataset(async function* () {
      const inputs = self[Symbol.asyncIterator]();
      const open = async (): Promise<AsyncIterator<U> | undefined> => {
        const r = await inputs.next();
        if (r.done) return undefined;
        const it = iterableOf<U>('Dataset.interleave', await fn(r.value))[Symbol.asyncIterator]();
        return ahead ? readAhead(it, blockLength) : it;
      };
      const cycle: (AsyncIterator<U> | undefined)[] = [];
      try {
        for (let i = 0; i < cycleLength; i++) {
          const it = await open();
          if (!it) break;
          cycle.push(it);
        }
        while (cycle.some((it) => it)) {
          for (let slot = 0; slot < cycle.length; slot++) {
            for (let k = 0; k < blockLength && cycle[slot]; k++) {
              const r = await cycle[slot]!.next();
              if (!r.done) {
                yield r.value;
                continue;
              }
              cycle[slot] = await open(); // refilled from the next input element (read from at the slot's next turn); undefined when none is left
              break;
            }
          }
        }
      } finally {
        await Promise.all(cycle.map((it) => it?.return?.(undefined)));
        await inputs.return?.(undefined);
      }
    }, this.size === 0 ? 0 : undefined);
  }

  /**
   * Windows of `size` consecutive elements, each a Dataset (tf.data's window),
   * starting every `shift` elements (default `size`) and taking every `stride`-th
   * element. The last windows may be shorter unless `dropRemainder`.
   * @example series.window(48, { shift: 1, dropRemainder: true }).flatMap((w) => w.batch(48))
   */
  window(size: number, options: { shift?: number; stride?: number; dropRemainder?: boolean } = {}): Dataset<Dataset<T>> {
    checkOptions('Dataset.window', options, ['shift', 'stride', 'dropRemainder']);
    const { shift = size, stride = 1, dropRemainder = false } = options;
    for (const [what, v] of [['size', size], ['shift', shift], ['stride', stride]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new KilnError(`Dataset.window: expected ${what} to be a positive integer, got ${describe(v)}.`);
    }
    const span = (size - 1) * stride + 1; // elements one window covers
    const self = this;
    const n = this.size;
    const count = n === undefined || n === Infinity ? n : dropRemainder ? (n >= span ? Math.floor((n - span) / shift) + 1 : 0) : Math.ceil(n / shift);
    return new Dataset(async function* () {
      let buffer: T[] = [];
      let start = 0; // index in the stream of buffer[0]
      let next = 0; // index of the next window's first element
      const take = (have: number) => {
        const picked: T[] = [];
        for (let k = 0; k < size && next - start + k * stride < have; k++) picked.push(buffer[next - start + k * stride]!);
        return picked;
      };
      for await (const e of self) {
        buffer.push(e);
        while (start + buffer.length >= next + span) {
          yield fromArray(take(buffer.length));
          next += shift;
          if (next > start) (buffer = buffer.slice(next - start), (start = next));
        }
      }
      if (dropRemainder) return;
      while (next < start + buffer.length) {
        yield fromArray(take(buffer.length));
        next += shift;
      }
    }, count);
  }

  /**
   * Reads up to `bufferSize` elements ahead while the consumer works on the
   * current one, so async producers (file reads, decoding, a `map` with
   * `numParallelCalls`) overlap the training step.
   * @example kiln.utils.imageDatasetFromDirectory(dir).prefetch(2)
   */
  prefetch(bufferSize = 1): Dataset<T> {
    if (!Number.isInteger(bufferSize) || bufferSize < 1) throw new KilnError(`Dataset.prefetch: expected bufferSize to be a positive integer, got ${describe(bufferSize)}.`);
    const self = this;
    return new Dataset(() => readAhead(self[Symbol.asyncIterator](), bufferSize), this.size);
  }

  /**
   * Remembers the elements of the first complete iteration and replays them
   * afterwards (the pipeline before `cache` runs once). With a `filename` (Node),
   * the elements are written there at the end of the first complete pass and
   * read back by later iterations and later processes; the file is written
   * atomically, so an interrupted pass leaves no partial cache.
   * @example kiln.data.csv('big.csv').map(parse).cache('/tmp/parsed.cache').shuffle(1000).batch(64)
   */
  cache(filename?: string): Dataset<T> {
    if (filename !== undefined && (typeof filename !== 'string' || filename === '')) throw new KilnError(`Dataset.cache: expected filename to be a non-empty string (or nothing, for memory), got ${describe(filename)}.`);
    if (this.size === Infinity) throw new KilnError('Dataset.cache: the dataset is infinite (repeat() without a count); cache before repeat().');
    const self = this;
    let memory: T[] | undefined;
    return new Dataset(async function* () {
      if (!memory && filename) memory = (await readCacheFile(filename)) as T[] | undefined;
      if (memory) return yield* memory;
      const seen: T[] = [];
      for await (const e of self) (seen.push(e), yield e);
      memory = seen; // only a pass that reached the end is kept
      if (filename) await writeCacheFile(filename, seen);
    }, this.size);
  }
}

/** The number of calls in flight: 1 unless asked for more (AUTOTUNE: 4). */
function parallelism(method: string, n: number | undefined): number {
  if (n === undefined) return 1;
  if (n === AUTOTUNE) return 4;
  if (!Number.isInteger(n) || n < 1) throw new KilnError(`${method}: expected numParallelCalls to be a positive integer or kiln.data.AUTOTUNE, got ${describe(n)}.`);
  return n;
}

/** What flatMap/interleave functions may return, as an async iterable. */
function iterableOf<U>(method: string, x: unknown): AsyncIterable<U> {
  if (x instanceof Dataset) return x as Dataset<U>;
  if (x !== null && typeof x === 'object' && (Symbol.asyncIterator in x || Symbol.iterator in x) && typeof x !== 'string') {
    if (Symbol.asyncIterator in x) return x as AsyncIterable<U>;
    const items = x as Iterable<U>;
    return (async function* () { yield* items; })();
  }
  throw new KilnError(`${method}: expected the function to return a Dataset, an array or an iterable, got ${describe(x)}.`);
}

/** `it` with up to `depth` next() calls in flight: the producer runs ahead of the consumer. */
function readAhead<U>(it: AsyncIterator<U>, depth: number): AsyncIterator<U> {
  const queue: Promise<IteratorResult<U>>[] = [];
  let done = false;
  const fill = () => {
    while (!done && queue.length < depth) {
      const p = it.next();
      p.then((r) => { if (r.done) done = true; }, () => { done = true; });
      queue.push(p);
    }
  };
  return {
    next: async () => {
      fill();
      const r = await queue.shift()!;
      if (!r.done) fill();
      return r;
    },
    return: async (v?: unknown) => {
      done = true;
      await Promise.allSettled(queue.splice(0));
      await it.return?.(v);
      return { done: true, value: undefined };
    },
  };
}

function checkCount(method: string, count: number): void {
  if (!(count === Infinity || (Number.isInteger(count) && count >= 0))) throw new KilnError(`Dataset.${method}: expected a non-negative integer count, got ${count}.`);
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

/**
 * Datasets read side by side: each element is the list (or record) of their
 * elements at the same position; it ends with the shortest.
 * @example kiln.data.zip([images, labels]).batch(32)   // [x, y] batches
 */
export function zip<const D extends readonly Dataset<unknown>[] | Readonly<Record<string, Dataset<unknown>>>>(datasets: D): Dataset<{ -readonly [K in keyof D]: D[K] extends Dataset<infer U> ? U : never }> {
  const entries = datasets !== null && typeof datasets === 'object' ? Object.entries(datasets) : [];
  if (entries.length === 0) throw new KilnError(`kiln.data.zip: expected a non-empty list or record of Datasets, got ${describe(datasets)}.`);
  for (const [k, d] of entries) if (!(d instanceof Dataset)) throw new KilnError(`kiln.data.zip: expected datasets${Array.isArray(datasets) ? `[${k}]` : `.${k}`} to be a Dataset, got ${describe(d)}.`);
  const sizes = entries.map(([, d]) => (d as Dataset<unknown>).size);
  const size = sizes.includes(undefined) ? undefined : Math.min(...(sizes as number[])); // with an unknown size, only a bound is known
  type Out = { -readonly [K in keyof D]: D[K] extends Dataset<infer U> ? U : never };
  return new Dataset<Out>(async function* () {
    const its = entries.map(([, d]) => (d as Dataset<unknown>)[Symbol.asyncIterator]());
    try {
      for (;;) {
        const results = await Promise.all(its.map((it) => it.next()));
        if (results.some((r) => r.done)) return;
        const values = results.map((r) => r.value);
        yield (Array.isArray(datasets) ? values : Object.fromEntries(entries.map(([k], i) => [k, values[i]]))) as Out;
      }
    } finally {
      await Promise.all(its.map((it) => it.return?.(undefined)));
    }
  }, size);
}
