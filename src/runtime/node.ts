/**
 * `kiln/runtime/node`: loads an artifact file or folder from disk with the
 * runtime alone (no compiler). Node only — it reads files — so it is its own
 * entry point and the browser-safe `kiln/runtime` never imports it.
 * @example
 * import { loadArtifactFile } from 'kiln/runtime/node';
 * const net = await loadArtifactFile('fashion.kiln-artifact');   // a file, or a folder export
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type Artifact, loadArtifact } from './artifact.js';
import { KilnRuntimeError } from './errors.js';
import { setThreads, type LoadOptions } from './index.js';
import { useNodeWorkers } from './threads.js';

/** The default thread count in Node: `KILN_THREADS` when set, else the cores available up to 4 (bench/results-threads.md). */
export function defaultThreads(): number {
  const env = process.env.KILN_THREADS;
  if (env === undefined || env === '') return Math.max(1, Math.min(availableParallelism(), 4));
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new KilnRuntimeError(`kiln: expected KILN_THREADS to be a whole number from 1 to 64, got "${env}".`);
  return n;
}

// Node runs the pool's workers as worker threads
useNodeWorkers(Worker);
setThreads(defaultThreads());

async function read(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new KilnRuntimeError(`kiln runtime: loadArtifactFile: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

/**
 * Where a folder written with writeFolderAtomic stands: `path` itself, or — when a
 * writer died between moving the previous version aside and moving the new one in
 * — the previous version, `.<name>.<pid>.<tag>.old` beside it. Undefined: neither.
 */
export async function committedFolder(path: string): Promise<string | undefined> {
  try {
    if ((await stat(path)).isDirectory()) return path;
  } catch {
    // not there: look for the version set aside
  }
  const prefix = `.${basename(path)}.`;
  const entries = await readdir(dirname(path)).catch(() => [] as string[]);
  const aside = entries.filter((e) => e.startsWith(prefix) && e.endsWith('.old')).sort();
  return aside.length ? join(dirname(path), aside[aside.length - 1]!) : undefined;
}

/** The artifact at `path`: one file, or a folder holding manifest.json, model.wasm and weights.safetensors. */
export async function loadArtifactFile(path: string, options: LoadOptions = {}): Promise<Artifact> {
  if (typeof path !== 'string' || path === '') throw new KilnRuntimeError(`kiln runtime: loadArtifactFile: expected a file or folder path, got ${path === '' ? 'an empty string' : typeof path}.`);
  let folder: boolean;
  try {
    folder = (await stat(path)).isDirectory();
  } catch (e) {
    const aside = await committedFolder(path); // a folder export interrupted mid-swap: its previous version
    if (!aside) throw new KilnRuntimeError(`kiln runtime: loadArtifactFile: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
    path = aside;
    folder = true;
  }
  if (!folder) return loadArtifact(await read(path), options);
  const manifest = new TextDecoder().decode(await read(join(path, 'manifest.json')));
  return loadArtifact({ manifest, wasm: await read(join(path, 'model.wasm')), weights: await read(join(path, 'weights.safetensors')) }, options);
}
