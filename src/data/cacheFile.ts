/**
 * Dataset.cache's file form (Node): a pass's elements serialized with V8's
 * structured clone (typed arrays as they are), Tensors as tagged records, behind
 * a magic line; written atomically, read back whole. A damaged file is an error,
 * not a silent re-read: delete it to rebuild the cache.
 */
import { KilnError } from '../../compiler/errors.js';
import { Tensor } from '../../compiler/tensor.js';

const MAGIC = 'kiln-dataset-cache 1\n';
const TAG = '__kilnTensor';

const encode = (e: unknown): unknown => {
  if (e instanceof Tensor) {
    if (!e.value) throw new KilnError('Dataset.cache: expected concrete Tensors in the elements, got a symbolic one.');
    return { [TAG]: true, dtype: e.dtype, shape: [...e.value.shape], data: e.value.data.slice() };
  }
  if (Array.isArray(e)) return e.map(encode);
  if (e !== null && typeof e === 'object') return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, encode(v)]));
  return e;
};

const decode = (e: unknown): unknown => {
  if (Array.isArray(e)) return e.map(decode);
  if (e !== null && typeof e === 'object') {
    const r = e as Record<string, unknown>;
    if (r[TAG] === true) return Tensor.concrete({ dtype: r.dtype as Tensor['dtype'], shape: r.shape as number[], data: r.data as Float32Array });
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, decode(v)]));
  }
  return e;
};

/** The cached elements, or undefined when the file does not exist yet. */
export async function readCacheFile(path: string): Promise<unknown[] | undefined> {
  const { readFile } = await import('node:fs/promises');
  const { deserialize } = await import('node:v8');
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KilnError(`Dataset.cache: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  if (bytes.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) throw new KilnError(`Dataset.cache: "${path}" is not a kiln dataset cache; delete it or choose another filename.`);
  try {
    return (deserialize(bytes.subarray(MAGIC.length)) as unknown[]).map(decode);
  } catch {
    throw new KilnError(`Dataset.cache: "${path}" is damaged; delete it to rebuild the cache.`);
  }
}

/** Writes a complete pass's elements to `path`, atomically. */
export async function writeCacheFile(path: string, elements: readonly unknown[]): Promise<void> {
  const { serialize } = await import('node:v8');
  const { writeFileAtomic } = await import('../io/files.js');
  const body = serialize(elements.map(encode));
  const bytes = new Uint8Array(MAGIC.length + body.length);
  bytes.set(new TextEncoder().encode(MAGIC));
  bytes.set(body, MAGIC.length);
  await writeFileAtomic(path, bytes);
}
