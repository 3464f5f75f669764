/**
 * Node-only file helpers: an atomic write (temp file, fsync, rename) and async
 * save/load of .npy, .npz and safetensors files as kiln tensors. The only file of
 * src/io that touches the file system.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import { decodeNpy, encodeNpy, type EncodeNpyOptions } from './npy.js';
import { fail, setEntry, type NpyArrayLike } from './npyArray.js';
import { decodeNpz, encodeNpz, type EncodeNpzOptions } from './npz.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import { toTensor, type ToTensorOptions } from './toTensor.js';

export type LoadOptions = Omit<ToTensorOptions, 'name'>;

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** The bytes of `path`, or a KilnError `<subject>: cannot read "<path>": <code>.` */
export async function readFileChecked(path: string, subject: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new KilnError(`${subject}: cannot read "${path}": ${errorCode(e)}.`);
  }
}

/**
 * Writes `bytes` to `path` so that a crash or an error never leaves a half-written
 * file: the bytes go to a temporary file in the same folder, are flushed to disk,
 * then renamed over `path`. On failure the temporary file is removed and any
 * previous file at `path` is left as it was.
 * @example await writeFileAtomic('ckpt/weights.safetensors', encodeSafetensors(weights));
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await removeStale(path);
  const temp = tempName(path, 'tmp');
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(temp, 'wx');
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    fail(path, `cannot write the file (${errorCode(e)})`);
  }
  await syncFolder(dirname(path));
}

/** `.<name>.<pid>.<tag>.<kind>` beside `path`: temporary files and folders carry their writer's pid. */
const tempName = (path: string, kind: 'tmp' | 'old') => join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.${kind}`);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Removes what writers of `path` that are no longer running left behind (a crash
 * mid-write): their temporary files and folders; a previous version a dead
 * writer set aside is moved back first when `path` itself is missing.
 */
async function removeStale(path: string): Promise<void> {
  const prefix = `.${basename(path)}.`;
  const entries = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const entry of entries.sort()) {
    const m = entry.startsWith(prefix) ? /^(\d+)\.[a-z0-9]+\.(tmp|old)$/.exec(entry.slice(prefix.length)) : null;
    if (!m || alive(Number(m[1]))) continue;
    const stale = join(dirname(path), entry);
    if (m[2] === 'old' && !(await exists(path))) await rename(stale, path).catch(() => undefined);
    else await rm(stale, { recursive: true, force: true }).catch(() => undefined);
  }
}

const exists = (path: string) => open(path, 'r').then((h) => h.close().then(() => true), () => false);

/**
 * Replaces the folder `path` with `files` as a whole: they are written and flushed
 * in a temporary folder beside it, the previous folder (if any) is renamed aside,
 * the new one renamed in, and the previous one removed. A crash at any point
 * leaves `path` at its previous or its new version, or — between the two renames
 * — missing with the previous version set aside, which readers (loadArtifactFile)
 * use and the next write moves back.
 * @example await writeFolderAtomic('out/model', { 'manifest.json': bytes, 'model.wasm': wasm });
 */
export async function writeFolderAtomic(path: string, files: Readonly<Record<string, Uint8Array>>, hooks: WriteHooks = {}): Promise<void> {
  const step = hooks.step ?? (() => undefined);
  await removeStale(path);
  await step('cleaned');
  const temp = tempName(path, 'tmp');
  try {
    await mkdir(temp);
    await step('made the temporary folder');
    for (const [name, bytes] of Object.entries(files)) {
      const handle = await open(join(temp, name), 'wx');
      try {
        await step(`opened ${name}`);
        await handle.writeFile(bytes.subarray(0, bytes.length >> 1));
        await step(`wrote half of ${name}`);
        await handle.write(bytes.subarray(bytes.length >> 1));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await step(`wrote ${name}`);
    }
    await syncFolder(temp);
    await step('synced the temporary folder');
    const old = (await exists(path)) ? tempName(path, 'old') : undefined;
    if (old) await rename(path, old);
    await step('set the previous version aside');
    await rename(temp, path);
    await step('renamed the new version in');
    await syncFolder(dirname(path));
    await step('synced the parent folder');
    if (old) await rm(old, { recursive: true, force: true });
    await step('removed the previous version');
  } catch (e) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    fail(path, `cannot write the folder (${errorCode(e)})`);
  }
}

/**
 * For tests of crash safety: `step(name)` runs after each step of a write (a
 * test kills the process there).
 */
export interface WriteHooks {
  step?: (name: string) => void | Promise<void>;
}

/** Makes the rename itself durable; some systems cannot open a folder, which is harmless. */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r');
    try { await handle.sync(); } finally { await handle.close(); }
  } catch {
    // best effort
  }
}


/**
 * Saves a tensor (or an array) as a .npy file that `np.load` reads.
 * @example await kiln.io.saveNpy('x.npy', kiln.tensor([[1, 2], [3, 4]]));
 */
export async function saveNpy(path: string, x: Tensor | NpyArrayLike, options?: EncodeNpyOptions): Promise<void> {
  await writeFileAtomic(path, encodeNpy(x, options));
}

/**
 * Loads a .npy file (`np.save`) as a tensor: float64 becomes float32, int64 int32.
 * @example const x = await kiln.io.loadNpy('x.npy');
 */
export async function loadNpy(path: string, options: LoadOptions = {}): Promise<Tensor> {
  return toTensor(decodeNpy(await readFileChecked(path, 'loadNpy'), path), { ...options, name: path });
}

/**
 * Saves named tensors (or arrays) as a .npz archive, deflated with `{ compress: true }`.
 * @example await kiln.io.saveNpz('data.npz', { x, y }, { compress: true });
 */
export async function saveNpz(path: string, arrays: Record<string, Tensor | NpyArrayLike>, options?: EncodeNpzOptions): Promise<void> {
  await writeFileAtomic(path, encodeNpz(arrays, options));
}

/**
 * Loads a .npz archive (`np.savez`, `np.savez_compressed`) as tensors by name.
 * @example const { x, y } = await kiln.io.loadNpz('data.npz');
 */
export async function loadNpz(path: string, options: LoadOptions = {}): Promise<Record<string, Tensor>> {
  const out: Record<string, Tensor> = {};
  for (const [name, array] of Object.entries(decodeNpz(await readFileChecked(path, 'loadNpz'), path))) {
    setEntry(out, name, toTensor(array, { ...options, name: `${path}/${name}.npy` }));
  }
  return out;
}

/**
 * Saves named tensors as a safetensors file, with optional string metadata.
 * @example await kiln.io.saveSafetensors('w.safetensors', { 'dense.kernel': w }, { format: 'pt' });
 */
export async function saveSafetensors(path: string, tensors: Record<string, Tensor | NpyArrayLike>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/**
 * Loads a safetensors file as tensors by name, with its metadata.
 * @example const { tensors, metadata } = await kiln.io.loadSafetensors('w.safetensors');
 */
export async function loadSafetensors(path: string, options: LoadOptions = {}): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> | undefined }> {
  const { tensors, metadata } = decodeSafetensors(await readFileChecked(path, 'loadSafetensors'), path);
  const out: Record<string, Tensor> = {};
  for (const [name, array] of Object.entries(tensors)) setEntry(out, name, toTensor(array, { ...options, name: `${path} "${name}"` }));
  return { tensors: out, metadata };
}
