/**
 * Builds the browser example into a folder of static files:
 *
 *   index.html, main.js      the page and its module script (copied from this folder)
 *   uplot.js, uplot.css      uPlot, for the live loss curve (from its installed package)
 *   worker.js                the same prediction in a Web Worker
 *   runtime/*.js             kiln/runtime as the browser loads it: src/runtime/*.ts
 *                            transpiled one file each (no bundler, no type check)
 *   fashion-cnn.kiln         the demo CNN as one artifact file (predict + trainStep),
 *                            class names and how it was trained in its metadata
 *   samples.json             test images to classify and training images for the
 *                            page's "train" button (base64 bytes, 0–255)
 *
 *   npx tsc -p examples/browser && node dist/examples/browser/build.js [outDir] [--train N]
 *
 * `--train N` trains the CNN in Node for one epoch on N images first (default 2000;
 * 0: export the untrained model). The page says which.
 */
import { createRequire } from 'node:module';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as kiln from '../../src/index.js';
import { encodeArtifact } from '../../src/runtime/index.js';
import { demoModel } from '../../src/demo.js';

export interface BuildOptions {
  /** Images the CNN trains on (one epoch, batch 32) before export; 0 exports it untrained. Default 2000. */
  trainImages?: number;
  /** Test images the page classifies (default 16). */
  sampleImages?: number;
  /** Training batches the page's button runs (batch 32, default 8). */
  pageBatches?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface BuildResult {
  outDir: string;
  /** The artifact file's bytes, as served. */
  artifact: Uint8Array;
  metadata: Record<string, string>;
}

/** The batch size of the page's training steps, and the artifact's maxBatch. */
export const pageBatchSize = 32;
export const artifactFile = 'fashion-cnn.kiln';

/** The repository root: the folder above this file (or its compiled copy in dist/) that holds src/runtime. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(join(dir, 'src', 'runtime', 'index.ts')); i++) dir = dirname(dir);
  return dir;
}

/** The demo's CNN (`kiln demo`, src/demo.ts): two 5×5 convolutions with pooling, then a dense layer to the 10 classes. */
export const fashionCnn = (): kiln.Sequential => demoModel('cnn');

/** kiln/runtime's sources as browser ES modules, one .js per .ts (imports already end in .js). */
export function transpileRuntime(outDir: string): string[] {
  const src = join(repoRoot(), 'src', 'runtime');
  mkdirSync(outDir, { recursive: true });
  const files = readdirSync(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(join(src, file), 'utf8'), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, removeComments: false },
      fileName: file,
    });
    writeFileSync(join(outDir, file.replace(/\.ts$/, '.js')), outputText);
  }
  return files;
}

/** Rows [from, to) of a Fashion-MNIST split as bytes (pixels × 255, exact: the data set's own bytes) and labels. */
function rows(split: kiln.datasets.fashionMnist.Split, from: number, to: number): { labels: number[]; pixels: string } {
  const pixels = split.images.dataSync().subarray(from * 784, to * 784);
  const bytes = Uint8Array.from(pixels, (v) => Math.round(v * 255));
  return { labels: Array.from(split.labels.dataSync().subarray(from, to)), pixels: Buffer.from(bytes).toString('base64') };
}

export async function buildPage(outDir: string, options: BuildOptions = {}): Promise<BuildResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const trainImages = options.trainImages ?? 2000;
  const pageImages = (options.pageBatches ?? 8) * pageBatchSize;
  const data = await kiln.datasets.fashionMnist.load();
  const trainRows = Number(data.train.labels.shape[0]);
  if (trainImages + pageImages > trainRows) throw new Error(`build: --train ${trainImages} leaves too few of the ${trainRows} training images for the page's ${pageImages}.`);
  mkdirSync(outDir, { recursive: true });

  const model = fashionCnn();
  let training = 'untrained: the initial random weights (seed 0); the page\'s "train" button is the only training it gets.';
  if (trainImages > 0) {
    const started = performance.now();
    const x = kiln.slice(data.train.images, [0, 0, 0, 0], [trainImages, -1, -1, -1]);
    const y = kiln.slice(data.train.labels, [0], [trainImages]);
    await model.fit(x, y, { epochs: 1, batchSize: pageBatchSize, seed: options.seed ?? 0, verbose: 0 });
    const [, accuracy] = (await model.evaluate(data.test.images, data.test.labels)) as kiln.Tensor[];
    const percent = (accuracy!.itemSync() * 100).toFixed(1);
    training = `trained in Node for one epoch on ${trainImages} images (test accuracy ${percent}% on ${data.test.labels.shape[0]} others), briefly on purpose.`;
    log(`trained on ${trainImages} images in ${((performance.now() - started) / 1e3).toFixed(1)} s: test accuracy ${percent}%`);
  }
  const metadata = { classNames: JSON.stringify(data.classNames), dataset: 'fashion-mnist', training };
  const parts = await kiln.artifactOf(model, { entries: ['predict', 'trainStep'], maxBatch: pageBatchSize, metadata });
  const artifact = encodeArtifact(parts);
  writeFileSync(join(outDir, artifactFile), artifact);
  log(`${artifactFile}: ${(artifact.length / 1024).toFixed(0)} KB (wasm ${(parts.wasm.length / 1024).toFixed(1)} KB, weights and Adam state ${(parts.weights.length / 1024).toFixed(0)} KB)`);

  const samples = {
    classify: rows(data.test, 0, options.sampleImages ?? 16),
    train: rows(data.train, trainImages, trainImages + pageImages),
    batchSize: pageBatchSize,
  };
  writeFileSync(join(outDir, 'samples.json'), JSON.stringify(samples));
  const here = join(repoRoot(), 'examples', 'browser');
  for (const file of ['index.html', 'main.js', 'worker.js']) copyFileSync(join(here, file), join(outDir, file));
  const require = createRequire(import.meta.url);
  copyFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), join(outDir, 'uplot.js'));
  copyFileSync(require.resolve('uplot/dist/uPlot.min.css'), join(outDir, 'uplot.css'));
  const runtime = transpileRuntime(join(outDir, 'runtime'));
  log(`runtime/: ${runtime.map((f) => f.replace(/\.ts$/, '.js')).join(', ')} (transpiled from src/runtime)`);
  return { outDir, artifact, metadata };
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--train');
  const trainImages = at >= 0 ? Number(args[at + 1]) : undefined;
  if (trainImages !== undefined && !(Number.isInteger(trainImages) && trainImages >= 0)) throw new Error(`build: expected --train <images>, a whole number, got ${args[at + 1]}.`);
  const outDir = resolve(args.find((a, i) => !a.startsWith('--') && (at < 0 || i !== at + 1)) ?? join(repoRoot(), 'examples', 'browser', 'site'));
  await buildPage(outDir, { ...(trainImages !== undefined ? { trainImages } : {}) });
  console.log(`built ${outDir}; serve it with: node dist/examples/browser/serve.js ${outDir}`);
}
