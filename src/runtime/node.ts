/**
 * `kiln/runtime/node`: loads an artifact file or folder from disk with the
 * runtime alone (no compiler). Node only — it reads files — so it is its own
 * entry point and the browser-safe `kiln/runtime` never imports it.
 * @example
 * import { loadArtifactFile } from 'kiln/runtime/node';
 * const net = await loadArtifactFile('fashion.kiln-artifact');   // a file, or a folder export
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Artifact, loadArtifact } from './artifact.js';
import { KilnRuntimeError } from './errors.js';

async function read(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    throw new KilnRuntimeError(`kiln runtime: loadArtifactFile: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
}

/** The artifact at `path`: one file, or a folder holding manifest.json, model.wasm and weights.safetensors. */
export async function loadArtifactFile(path: string): Promise<Artifact> {
  if (typeof path !== 'string' || path === '') throw new KilnRuntimeError(`kiln runtime: loadArtifactFile: expected a file or folder path, got ${path === '' ? 'an empty string' : typeof path}.`);
  let folder: boolean;
  try {
    folder = (await stat(path)).isDirectory();
  } catch (e) {
    throw new KilnRuntimeError(`kiln runtime: loadArtifactFile: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
  }
  if (!folder) return loadArtifact(await read(path));
  const manifest = new TextDecoder().decode(await read(join(path, 'manifest.json')));
  return loadArtifact({ manifest, wasm: await read(join(path, 'model.wasm')), weights: await read(join(path, 'weights.safetensors')) });
}
