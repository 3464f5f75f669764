/**
 * The size report (issue 5, item 7): what a page downloads to run the
 * Fashion-MNIST CNN with kiln and with its peers, and how long kiln/runtime takes
 * to load the artifact and give its first prediction in a fresh Node process.
 *
 * - kiln/runtime: src/runtime bundled and minified by esbuild, gzip -9.
 * - kiln artifacts: the demo CNN (examples/browser's model) exported with predict
 *   alone and with predict + trainStep + evaluate; the .wasm, raw and gzipped.
 * - TensorFlow.js: tfjs-core + tfjs-layers + tfjs-backend-wasm bundled and minified
 *   the same way, and the .wasm its backend fetches (SIMD, single-threaded).
 * - onnxruntime-web: its wasm-only entry (`onnxruntime-web/wasm`, the Emscripten
 *   glue inlined) the same way, and the .wasm it fetches.
 *
 * Runs as a part of `npm run bench` (the "## Size report" section of results.md),
 * alone with `npm run bench -- --size`, or `node bench/dist/bench/size.js` after `tsc -p bench`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { fashionCnn, repoRoot } from '../examples/browser/build.js';
import { artifactOf } from '../src/index.js';
import { encodeArtifact } from '../src/runtime/index.js';
import { formatTable, median, type Table } from './harness.js';

export const sizeHeading = '## Size report';
const root = repoRoot();
/** A package's folder: the benchmark peers' in bench/node_modules, kiln's dev tools' in node_modules (some packages' exports hide their package.json from require.resolve). */
const packageDir = (name: string) => [join(root, 'bench', 'node_modules', name), join(root, 'node_modules', name)].find((d) => existsSync(d)) ?? join(root, 'node_modules', name);
const version = (name: string) => (JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string }).version;
const gzip = (bytes: Uint8Array) => gzipSync(bytes, { level: 9 }).length;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : kb(bytes));

/**
 * kiln/runtime as a bundler gives it to a page: split at its one dynamic import, so
 * `eager` is what loads at once (predict, train, evaluate) and `rows` the row
 * encoder's chunk (src/runtime/rows.ts), fetched only for artifacts that carry one.
 */
async function runtimeChunks(): Promise<{ eager: Uint8Array; rows: Uint8Array; single: Uint8Array }> {
  const result = await build({
    entryPoints: [join(root, 'src', 'runtime', 'index.ts')], bundle: true, splitting: true, minify: true, format: 'esm', platform: 'browser',
    target: 'es2022', write: false, outdir: join(tmpdir(), 'kiln-runtime-chunks'), logLevel: 'silent',
  });
  const rows = result.outputFiles.filter((f) => f.text.includes('is not in the vocabulary'));
  if (rows.length !== 1) throw new Error(`size: expected one chunk holding src/runtime/rows.ts, got ${rows.length}.`);
  const eager = result.outputFiles.filter((f) => f !== rows[0]);
  const join2 = (parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) (out.set(p, at), (at += p.length));
    return out;
  };
  return { eager: join2(eager.map((f) => f.contents)), rows: rows[0]!.contents, single: await minified(`export * from './src/runtime/index.ts';`, 'ts', root) };
}

/** A module (given as source, resolved from the repository root, or from bench/ for the peers) bundled for the browser and minified by esbuild. */
async function minified(contents: string, loader: 'ts' | 'js' = 'js', resolveDir = join(root, 'bench')): Promise<Uint8Array> {
  const result = await build({
    stdin: { contents, resolveDir, loader, sourcefile: 'entry' },
    bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
  });
  return result.outputFiles[0]!.contents;
}

interface FileSize { framework: string; what: string; bytes: number; gzipped: number }
const sized = (framework: string, what: string, bytes: Uint8Array): FileSize => ({ framework, what, bytes: bytes.length, gzipped: gzip(bytes) });
const packageFile = (name: string, file: string) => new Uint8Array(readFileSync(join(packageDir(name), file)));

/** A fresh `node` that imports the runtime bundle, reads the artifact, loads it and predicts one image; its times in ms. */
const childScript = `
const t0 = performance.now();
const { loadArtifact } = await import(process.argv[2]);
const t1 = performance.now();
const bytes = (await import('node:fs')).readFileSync(process.argv[3]);
const t2 = performance.now();
if (process.argv[4] === 'crc') { // only a cold CRC-32 over the file, what loadArtifact's checksums cost
  const { crc32 } = await import(process.argv[2]);
  const start = performance.now();
  crc32(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  console.log(JSON.stringify({ crcMs: performance.now() - start }));
  process.exit(0);
}
const artifact = await loadArtifact(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
const t3 = performance.now();
const out = artifact.predict(new Float32Array(784).fill(0.5));
const t4 = performance.now();
if (out.data.length !== 10) throw new Error('unexpected output');
console.log(JSON.stringify({ importMs: t1 - t0, readMs: t2 - t1, loadMs: t3 - t2, predictMs: t4 - t3 }));
`;

interface LoadTimes { importMs: number; readMs: number; loadMs: number; predictMs: number }

export async function measureSizes(options: { quick?: boolean; log?: (line: string) => void } = {}): Promise<Table[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = mkdtempSync(join(tmpdir(), 'kiln-size-'));
  try {
    // ---- kiln ------------------------------------------------------------------------------
    const chunks = await runtimeChunks();
    const runtimeJs = chunks.single; // one file, the row encoder inlined: what load-time measurements import
    const predictOnly = await artifactOf(fashionCnn(), { entries: ['predict'], maxBatch: 64 });
    const training = await artifactOf(fashionCnn(), { entries: ['predict', 'trainStep', 'evaluate'], maxBatch: 64 });
    const files: FileSize[] = [
      sized('kiln', 'kiln/runtime JS (src/runtime, esbuild --minify --splitting: loaded at once)', chunks.eager),
      sized('kiln', 'CNN artifact .wasm, predict', predictOnly.wasm),
      sized('kiln', 'CNN artifact .wasm, predict + trainStep + evaluate', training.wasm),
    ];
    const rowsChunk = sized('kiln', 'kiln/runtime row-encoder chunk (src/runtime/rows.ts, loaded for artifacts with a row encoder)', chunks.rows);
    log(`kiln: runtime ${kb(files[0]!.gzipped)} min+gz (+ ${kb(rowsChunk.gzipped)} row encoder on demand), predict wasm ${kb(predictOnly.wasm.length)}, training wasm ${kb(training.wasm.length)}`);

    // ---- peers -----------------------------------------------------------------------------
    const tfjs = `tfjs ${version('@tensorflow/tfjs-core')}`;
    const ort = `ort-web ${version('onnxruntime-web')}`;
    const peerNotes: string[] = [];
    try {
      files.push(sized(tfjs, 'tfjs-core + tfjs-layers + tfjs-backend-wasm JS (esbuild --minify)', await minified(
        `export * from '@tensorflow/tfjs-core'; export * as layers from '@tensorflow/tfjs-layers'; export * as wasm from '@tensorflow/tfjs-backend-wasm';`)));
      files.push(sized(tfjs, 'tfjs-backend-wasm-simd.wasm (SIMD, 1 thread)', packageFile('@tensorflow/tfjs-backend-wasm', 'dist/tfjs-backend-wasm-simd.wasm')));
    } catch (e) {
      peerNotes.push(`TensorFlow.js: unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
    try {
      files.push(sized(ort, 'onnxruntime-web/wasm JS, Emscripten glue inlined (esbuild --minify)', await minified(`export * from 'onnxruntime-web/wasm';`)));
      files.push(sized(ort, 'ort-wasm-simd-threaded.wasm (the only CPU build)', packageFile('onnxruntime-web', 'dist/ort-wasm-simd-threaded.wasm')));
    } catch (e) {
      peerNotes.push(`onnxruntime-web: unavailable: ${(e as Error).message.split('\n')[0]}`);
    }
    log(`peers: ${files.filter((f) => f.framework !== 'kiln').map((f) => `${f.framework} ${f.what.split(' (')[0]} ${mb(f.gzipped)} gz`).join('; ')}`);

    // ---- load + first predict, fresh processes ---------------------------------------------------
    const runtimeFile = join(dir, 'runtime.mjs');
    const artifactFile = join(dir, 'fashion-cnn.kiln');
    const childFile = join(dir, 'child.mjs');
    writeFileSync(runtimeFile, runtimeJs);
    writeFileSync(artifactFile, encodeArtifact(predictOnly));
    writeFileSync(childFile, childScript);
    const runs: LoadTimes[] = [];
    for (let i = 0; i < (options.quick ? 5 : 11); i++) {
      const { stdout } = await promisify(execFile)(process.execPath, [childFile, runtimeFile, artifactFile]);
      runs.push(JSON.parse(stdout.trim()) as LoadTimes);
    }
    const crcRuns: number[] = [];
    for (let i = 0; i < (options.quick ? 3 : 7); i++) {
      const { stdout } = await promisify(execFile)(process.execPath, [childFile, runtimeFile, artifactFile, 'crc']);
      crcRuns.push((JSON.parse(stdout.trim()) as { crcMs: number }).crcMs);
    }
    const med = (f: (t: LoadTimes) => number) => median(runs.map(f));
    const total = med((t) => t.importMs + t.readMs + t.loadMs + t.predictMs);
    log(`load + first predict: ${total.toFixed(1)} ms (median of ${runs.length} fresh processes)`);

    // ---- tables ----------------------------------------------------------------------------
    const totals = [...new Set(files.map((f) => f.framework))].map((framework) => {
      const own = files.filter((f) => f.framework === framework && !f.what.includes('trainStep'));
      return { framework, bytes: own.reduce((a, f) => a + f.bytes, 0), gzipped: own.reduce((a, f) => a + f.gzipped, 0) };
    });
    const kiln = totals.find((t) => t.framework === 'kiln')!;
    const weightBytes = predictOnly.manifest.parameters.reduce((a, p) => a + 4 * p.shape.reduce((x, d) => x * d, 1), 0);
    const sizeTable: Table = {
      title: 'Download size: what a page fetches to predict with the Fashion-MNIST CNN (weights excluded)',
      header: ['framework', 'file', 'bytes', 'gzip -9', 'gzipped ÷ kiln\'s total'],
      labelColumns: 2,
      rows: [
        ...files.map((f) => [f.framework, f.what, mb(f.bytes), mb(f.gzipped), '']),
        ...totals.map((t) => [t.framework, 'total: JS + the .wasm for predict', mb(t.bytes), mb(t.gzipped), `×${(t.gzipped / kiln.gzipped).toFixed(t.framework === 'kiln' ? 2 : 0)}`]),
      ],
      notes: [
        'JS: every package bundled with esbuild (bundle, minify, ESM, platform browser), the whole package as its users import it, no tree shaking of unused exports; the same for all.',
        `kiln's .wasm is the model itself (its ops, fused, with the kernels they call); a peer's .wasm is its whole kernel library, the same for every model. The CNN's weights (${kb(weightBytes)} of float32) come on top for every framework; kiln's training artifact adds Adam's state (2× the weights).`,
        'tfjs-backend-wasm also ships tfjs-backend-wasm.wasm (no SIMD) and tfjs-backend-wasm-threaded-simd.wasm; a browser fetches one of the three.',
        'onnxruntime-web 1.30 ships one CPU build (SIMD with threads; it runs single-threaded without cross-origin isolation); its jsep / jspi / asyncify builds serve WebGPU and WebNN.',
        ...peerNotes,
      ],
    };
    const loadTable: Table = {
      title: `kiln/runtime: load + first predict in a fresh Node process, ms (median of ${runs.length})`,
      header: ['step', 'ms'],
      rows: [
        ['import kiln/runtime (the minified bundle)', med((t) => t.importMs).toFixed(2)],
        [`read the artifact file (${kb(readFileSync(artifactFile).length)}: predict, weights)`, med((t) => t.readMs).toFixed(2)],
        ['loadArtifact: checksums, WebAssembly compile + instantiate, weights bound', med((t) => t.loadMs).toFixed(2)],
        [`  of which CRC-32 over the file, cold (measured alone, median of ${crcRuns.length} other processes)`, median(crcRuns).toFixed(2)],
        ['first predict, one image', med((t) => t.predictMs).toFixed(2)],
        ['total (median of the per-process totals)', total.toFixed(2)],
      ],
      notes: [
        'Node\'s own start-up is not counted; each process imports, loads and predicts once, so nothing is warm (the wasm runs as Liftoff baseline code, the JS in the interpreter).',
        `Load average when measured: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} logical cores; on a shared machine these times are inflated by other processes.`,
      ],
    };
    const status = (ok: boolean) => (ok ? 'met' : 'missed');
    const targetTable: Table = {
      title: 'Targets (issue 5, item 7)',
      header: ['target', 'measured', 'status'],
      rows: [
        ['CNN predict artifact .wasm ≤ 64 KB', kb(predictOnly.wasm.length), status(predictOnly.wasm.length <= 64 * 1024)],
        ['kiln/runtime minified + gzipped ≤ 10 KB', kb(files[0]!.gzipped), status(files[0]!.gzipped <= 10 * 1024)],
        ['kiln/runtime row-encoder chunk, on demand (minified + gzipped)', kb(rowsChunk.gzipped), 'info'],
        ['load + first predict in Node < 50 ms', `${total.toFixed(1)} ms`, status(total < 50)],
      ],
    };
    return [targetTable, sizeTable, loadTable];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report as a results.md section. */
export async function sizeSection(options: { quick?: boolean; log?: (line: string) => void } = {}): Promise<string> {
  const tables = await measureSizes(options);
  const line = `- Node ${process.version}; esbuild ${version('esbuild')}; ${options.quick ? 'quick run (--quick)' : 'full run'}`;
  return [sizeHeading, '', line, '', ...tables.flatMap((t) => [formatTable(t), ''])].join('\n').trimEnd();
}

/** `text` with its size section (from the heading to the next "## " heading or the end) taken out; and that section. */
export function splitSizeSection(text: string): { rest: string; section: string | undefined } {
  const at = text.startsWith(`${sizeHeading}\n`) ? 0 : text.indexOf(`\n${sizeHeading}\n`);
  if (at < 0) return { rest: text, section: undefined };
  const start = at === 0 ? 0 : at + 1;
  const next = text.indexOf('\n## ', start);
  const end = next < 0 ? text.length : next + 1;
  return { rest: [text.slice(0, start).trimEnd(), text.slice(end).trim()].filter(Boolean).join('\n\n'), section: text.slice(start, end).trimEnd() };
}

/**
 * bench/index.ts's hook: after the other sections are written, measures the size
 * report (when `measure`) or keeps the one `previous` (results.md before this run)
 * had, and puts it at the end of results.md.
 */
export async function writeSizeSection(options: { measure: boolean; previous?: string; quick?: boolean; log?: (line: string) => void }): Promise<void> {
  const file = join(root, 'bench', 'results.md');
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch { /* no results yet */ }
  const section = options.measure ? await sizeSection(options) : splitSizeSection(options.previous ?? current).section;
  if (section === undefined) return;
  if (options.measure) console.log(`\n${section}`);
  writeFileSync(file, `${[splitSizeSection(current).rest.trimEnd(), section].filter(Boolean).join('\n\n')}\n`);
  (options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`wrote the size report to ${file}`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await writeSizeSection({ measure: true, quick: process.argv.includes('--quick') });
}
