/**
 * Builds the penguins page into a folder of static files:
 *
 *   index.html, main.js   the page and its module script (copied from this folder)
 *   runtime/*.js          kiln/runtime as the browser loads it (src/runtime/*.ts transpiled
 *                         one file each; rows.js loads only because this artifact has an encoder)
 *   penguins.kiln         the trained classifier as one artifact file, its row encoder in the manifest
 *   rows.json             the raw test rows (penguins.json's objects, untouched)
 *
 *   npx tsc -p examples/penguins && node dist/examples/penguins/build.js [outDir] [--epochs 60]
 *   node dist/examples/browser/serve.js <outDir>
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { artifactOf } from '../../src/index.js';
import { encodeArtifact } from '../../src/runtime/index.js';
import { repoRoot, transpileRuntime } from '../browser/build.js';
import { trainPenguins, type Penguin } from './penguins.js';

export const penguinsArtifactFile = 'penguins.kiln';

/** penguins.json from vega-datasets (a devDependency). */
export function readPenguins(): Penguin[] {
  const root = dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets')));
  return JSON.parse(readFileSync(join(root, 'data', 'penguins.json'), 'utf8')) as Penguin[];
}

export async function buildPenguinsPage(outDir: string, options: { epochs?: number; log?: (line: string) => void } = {}): Promise<{ artifact: Uint8Array; rows: Penguin[]; accuracy: number }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { model, species, testRows, accuracy } = await trainPenguins(readPenguins(), { epochs: options.epochs ?? 60 });
  log(`trained: test accuracy ${(accuracy * 100).toFixed(1)}% on ${testRows.length} rows`);
  mkdirSync(outDir, { recursive: true });
  const parts = await artifactOf(model, { maxBatch: 64, metadata: { classNames: species.getVocabulary(), dataset: 'vega-datasets penguins.json' } });
  const artifact = encodeArtifact(parts);
  writeFileSync(join(outDir, penguinsArtifactFile), artifact);
  writeFileSync(join(outDir, 'rows.json'), JSON.stringify(testRows));
  const here = join(repoRoot(), 'examples', 'penguins');
  for (const file of ['index.html', 'main.js']) copyFileSync(join(here, file), join(outDir, file));
  transpileRuntime(join(outDir, 'runtime'));
  log(`${penguinsArtifactFile}: ${(artifact.length / 1024).toFixed(1)} KB; rows.json: ${testRows.length} raw rows`);
  return { artifact, rows: testRows, accuracy };
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--epochs');
  const epochs = at >= 0 ? Number(args[at + 1]) : undefined;
  const outDir = resolve(args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1)) ?? join(repoRoot(), 'examples', 'penguins', 'site'));
  await buildPenguinsPage(outDir, epochs ? { epochs } : {});
  console.log(`built ${outDir}; serve it with: node dist/examples/browser/serve.js ${outDir}`);
}
