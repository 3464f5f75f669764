/**
 * The structure of dataset elements: Tensors, numbers and strings, in lists and
 * records to any depth. Batching stacks an element's leaves along a new first
 * dimension (strings into string arrays, which stay on the host), unbatching
 * splits them again, padded batching pads each Tensor leaf to a common shape.
 */
import { KilnError } from '../../compiler/errors.js';
import type { Data, Value } from '../../compiler/ops/op.js';
import { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';

/** An element with its Tensors and numbers stacked along a new leading batch dimension (strings into string arrays). */
export type Batched<T> = T extends Tensor | number ? Tensor : T extends string ? string[] : T extends readonly unknown[] ? { -readonly [K in keyof T]: Batched<T[K]> } : { [K in keyof T]: Batched<T[K]> };

/** A batch's element type again: Tensors lose their first dimension, string arrays give strings. */
export type Unbatched<T> = T extends Tensor ? Tensor : T extends readonly string[] ? string : T extends readonly unknown[] ? { -readonly [K in keyof T]: Unbatched<T[K]> } : { [K in keyof T]: Unbatched<T[K]> };

/** A shape for padded batching: `null` dimensions pad to the longest in the batch. */
export type PaddedShape = readonly (number | null)[];

export function describe(e: unknown): string {
  if (e instanceof Tensor) return formatType(e.type);
  if (Array.isArray(e)) return `a list of ${e.length}`;
  if (typeof e === 'string') return JSON.stringify(e.length > 40 ? `${e.slice(0, 37)}...` : e);
  if (typeof e === 'number') return String(e);
  return e === null ? 'null' : typeof e;
}

export function concreteValue(t: Tensor, what: string): Value {
  if (!t.value) throw new KilnError(`kiln.data: expected ${what} to be a concrete Tensor, got a symbolic one.`);
  return t.value;
}

/** Example i of a batch-major value: a view of its row, not a copy. */
export function row(v: Value, i: number): Tensor {
  const width = v.data.length / v.shape[0]!;
  return Tensor.concrete({ dtype: v.dtype, shape: v.shape.slice(1), data: v.data.subarray(i * width, (i + 1) * width) as Data });
}

const isStringArray = (e: unknown): e is string[] => Array.isArray(e) && e.length > 0 && e.every((s) => typeof s === 'string');

/** Walks elements of one structure leaf by leaf: `leaf` gets the leaves found at one path. */
function zipStructure(method: string, elements: readonly unknown[], path: string, leaf: (leaves: unknown[], path: string) => unknown): unknown {
  const first = elements[0];
  if (first instanceof Tensor || typeof first === 'number' || typeof first === 'string') return leaf([...elements], path);
  if (Array.isArray(first)) {
    return first.map((_, k) => zipStructure(method, elements.map((e, i) => {
      if (!Array.isArray(e) || e.length !== first.length) throw new KilnError(`${method}: expected every element's ${path} to be a list of ${first.length}, got ${describe(e)} in element ${i}.`);
      return e[k];
    }), `${path}[${k}]`, leaf));
  }
  if (first !== null && typeof first === 'object') {
    return Object.fromEntries(Object.keys(first).map((k) => [k, zipStructure(method, elements.map((e, i) => {
      if (e === null || typeof e !== 'object' || !(k in e)) throw new KilnError(`${method}: expected every element's ${path} to have key "${k}", got ${describe(e)} in element ${i}.`);
      return (e as Record<string, unknown>)[k];
    }), `${path}.${k}`, leaf)]));
  }
  throw new KilnError(`${method}: expected elements made of Tensors, numbers and strings (in lists or records), got ${describe(first)} for ${path}.`);
}

/** The leaves at one path as concrete values of one dtype and rank (shapes may differ). */
function leafValues(method: string, leaves: readonly unknown[], path: string, sameShape: boolean): Value[] {
  const first = leaves[0] as Tensor;
  return leaves.map((e, i) => {
    if (!(e instanceof Tensor)) throw new KilnError(`${method}: expected ${path} of every element to be a Tensor, got ${describe(e)} in element ${i}.`);
    const v = concreteValue(e, path);
    if (e.dtype !== first.dtype || v.shape.length !== first.rank || (sameShape && v.shape.some((d, k) => d !== first.shape[k]))) {
      throw new KilnError(`${method}: expected ${path} of every element to be ${formatType(first.type)}${sameShape ? '' : ' (any size)'}, got ${formatType(e.type)} in element ${i}${sameShape ? '' : ''}.`);
    }
    return v;
  });
}

function stackLeaf(method: string, leaves: unknown[], path: string): unknown {
  const first = leaves[0];
  if (typeof first === 'number') {
    leaves.forEach((e, i) => {
      if (typeof e !== 'number') throw new KilnError(`${method}: expected ${path} of every element to be a number, got ${describe(e)} in element ${i}.`);
    });
    return Tensor.concrete({ dtype: 'float32', shape: [leaves.length], data: Float32Array.from(leaves as number[]) });
  }
  if (typeof first === 'string') {
    leaves.forEach((e, i) => {
      if (typeof e !== 'string') throw new KilnError(`${method}: expected ${path} of every element to be a string, got ${describe(e)} in element ${i}.`);
    });
    return leaves as string[];
  }
  const values = leafValues(method, leaves, path, true);
  const width = values[0]!.data.length;
  const Ctor = values[0]!.data.constructor as new (n: number) => Data;
  const out = new Ctor(values.length * width);
  values.forEach((v, i) => out.set(v.data, i * width));
  return Tensor.concrete({ dtype: (first as Tensor).dtype, shape: [values.length, ...values[0]!.shape], data: out });
}

/** Elements of the same structure, stacked leaf by leaf. */
export function stack(elements: readonly unknown[]): unknown {
  return zipStructure('Dataset.batch', elements, 'element', (leaves, path) => stackLeaf('Dataset.batch', leaves, path));
}

/** A batch split into its examples: Tensor leaves along their first dimension, string arrays into strings. */
export function unstack(batch: unknown): unknown[] {
  let n: number | undefined;
  const count = (k: number, path: string) => {
    if (n !== undefined && n !== k) throw new KilnError(`Dataset.unbatch: expected every part of an element to have the same first dimension, got ${n} and ${k} (at ${path}).`);
    n = k;
  };
  const measure = (e: unknown, path: string): void => {
    if (e instanceof Tensor) {
      if (e.rank < 1) throw new KilnError(`Dataset.unbatch: expected ${path} to have a batch dimension, got ${formatType(e.type)}.`);
      count(e.shape[0] as number, path);
    } else if (isStringArray(e)) count(e.length, path);
    else if (Array.isArray(e)) e.forEach((x, k) => measure(x, `${path}[${k}]`));
    else if (e !== null && typeof e === 'object') Object.entries(e).forEach(([k, x]) => measure(x, `${path}.${k}`));
    else throw new KilnError(`Dataset.unbatch: expected a batch of Tensors or string arrays (in lists or records), got ${describe(e)} at ${path}.`);
  };
  measure(batch, 'element');
  const pick = (e: unknown, i: number): unknown => {
    if (e instanceof Tensor) return row(concreteValue(e, 'element'), i);
    if (isStringArray(e)) return e[i];
    if (Array.isArray(e)) return e.map((x) => pick(x, i));
    return Object.fromEntries(Object.entries(e as object).map(([k, x]) => [k, pick(x, i)]));
  };
  return Array.from({ length: n ?? 0 }, (_, i) => pick(batch, i));
}

/** The padded shape given for `path`, following the element's structure. */
function shapeAt(shapes: unknown, path: string): PaddedShape | undefined {
  if (shapes === undefined) return undefined;
  let at: unknown = shapes;
  for (const part of path.replace(/^element/, '').match(/\[\d+\]|\.[^.[]+/g) ?? []) {
    at = part.startsWith('[') ? (at as unknown[])?.[Number(part.slice(1, -1))] : (at as Record<string, unknown>)?.[part.slice(1)];
  }
  return at as PaddedShape | undefined;
}

/** Elements stacked leaf by leaf, each Tensor leaf padded to a common shape. */
export function padStack(elements: readonly unknown[], paddedShapes: unknown, paddingValues: unknown): unknown {
  const method = 'Dataset.paddedBatch';
  return zipStructure(method, elements, 'element', (leaves, path) => {
    if (!(leaves[0] instanceof Tensor)) return stackLeaf(method, leaves, path);
    const values = leafValues(method, leaves, path, false);
    const rank = values[0]!.shape.length;
    const given = shapeAt(paddedShapes, path);
    if (given !== undefined && (!Array.isArray(given) || given.length !== rank)) throw new KilnError(`${method}: expected paddedShapes for ${path} to be a list of ${rank} sizes (null for the longest), got ${JSON.stringify(given)}.`);
    const shape = Array.from({ length: rank }, (_, d) => {
      const longest = Math.max(...values.map((v) => v.shape[d]!));
      const want = given?.[d];
      if (want === null || want === undefined) return longest;
      if (!Number.isInteger(want) || want < longest) throw new KilnError(`${method}: expected paddedShapes for ${path} to leave room for every element, got ${want} for dimension ${d} where an element has ${longest}.`);
      return want;
    });
    const fill = shapeAt(paddingValues, path) ?? (typeof paddingValues === 'number' ? paddingValues : 0);
    if (typeof fill !== 'number') throw new KilnError(`${method}: expected paddingValues for ${path} to be a number, got ${describe(fill)}.`);
    const size = shape.reduce((a, b) => a * b, 1);
    const Ctor = values[0]!.data.constructor as new (n: number) => Data;
    const out = new Ctor(values.length * size).fill(fill);
    values.forEach((v, i) => copyPadded(v, shape, out, i * size));
    return Tensor.concrete({ dtype: (leaves[0] as Tensor).dtype, shape: [values.length, ...shape], data: out });
  });
}

/** `v` written at `offset` into a row-major block of `shape` (which is at least as large in every dimension). */
function copyPadded(v: Value, shape: readonly number[], out: Data, offset: number): void {
  const rank = shape.length;
  if (rank === 0) return void (out[offset] = v.data[0]!);
  const inner = v.shape[rank - 1]!;
  const rows = v.data.length / Math.max(inner, 1);
  for (let r = 0; r < rows; r++) {
    let at = 0;
    for (let d = rank - 2, rest = r; d >= 0; d--) {
      const idx = rest % v.shape[d]!;
      rest = Math.floor(rest / v.shape[d]!);
      let stride = shape[rank - 1]!;
      for (let e = d + 1; e < rank - 1; e++) stride *= shape[e]!;
      at += idx * stride;
    }
    out.set(v.data.subarray(r * inner, (r + 1) * inner), offset + at);
  }
}
