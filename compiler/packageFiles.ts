/**
 * @file Files that ship inside the kiln package (the runtime-as kernel sources, the
 * Fashion-MNIST data), found from this module's own location — never from the
 * working directory — so they are found wherever kiln is installed: in the
 * repository, under a project's node_modules (hoisted or nested), or in a
 * read-only folder. The package root is the nearest folder above this file whose
 * package.json is named "kiln" (the compiled file sits in `dist/compiler/`, the
 * source in `compiler/`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from './errors.js';

let root: string | undefined;

function isKilnRoot(dir: string): boolean {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'kiln';
  } catch {
    return false;
  }
}

/** The folder of the kiln package this module belongs to. */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    if (isKilnRoot(dir)) return (root = dir);
    if (dirname(dir) === dir) break;
  }
  throw new KilnError(`kiln: cannot find the kiln package folder above ${here} (no package.json named "kiln"); reinstall kiln.`);
}

/** An absolute path to a file or folder shipped in the package, e.g. `packagePath('runtime-as')`. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
