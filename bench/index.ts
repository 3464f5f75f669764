/**
 * `npm run bench`: kiln next to TensorFlow.js (wasm and cpu backends) and
 * onnxruntime (web's wasm build and the native node build), all single-threaded,
 * in one process: the machine's measured f32x4 peak, GEMM GFLOP/s, the
 * Fashion-MNIST CNN's convolutions (forward and both gradients), and compile
 * times; then the model-level section (model-bench.ts): MLP and CNN training
 * steps and predictions through each framework's Keras-style API, with native
 * PyTorch beside them. Prints Markdown tables and writes them to bench/results.md.
 * `npm run bench -- --quick` runs a smaller set; `--models` runs only the model
 * section and `--kernels` only the rest, each replacing its own part of
 * results.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { measureCompileTimes } from './compile-times.js';
import { convFlops, type ConvLayer, type ConvPass, type Engine, type EngineFactory, type Plan } from './engines/engine.js';
import { kilnCompiled, kilnCompiled2 } from './engines/kiln-compiled.js';
import { kilnKernel } from './engines/kiln-kernel.js';
import { ortNode, ortNode2, ortWeb } from './engines/onnxruntime.js';
import { tfjsCpu, tfjsWasm } from './engines/tfjs.js';
import { formatTable, hasTiming, measure, measureRow, Notes, ratio, threadNote, type Cell, type Run, type Table, type TimingOptions } from './harness.js';
import { measureModels } from './model-bench.js';
import { measureTorchLoop } from './torch-loop.js';
import { loadPeakKernels, peakLoops } from './peak.js';
import { writeSizeSection } from './size.js';

const quick = process.argv.includes('--quick');
const modelsOnly = process.argv.includes('--models');
const kernelsOnly = process.argv.includes('--kernels');
const started = performance.now();
const log = (line: string) => process.stderr.write(`${line}\n`);
if (process.argv.includes('--size')) { // the size report alone (size.ts)
  await writeSizeSection({ measure: true, quick, log });
  process.exit(0);
}

const plan: Plan = {
  gemmSizes: quick ? [128, 512] : [128, 256, 512, 1024],
  transposes: [[false, false], [true, false], [false, true]],
  convLayers: [ // the Fashion-MNIST CNN's two convolutions
    { name: 'conv1', batch: 64, size: 28, cin: 1, cout: 32, kernel: 5 },
    { name: 'conv2', batch: 64, size: 14, cin: 32, cout: 64, kernel: 5 },
  ],
};
const timing: TimingOptions = quick
  ? { samples: 3, warmupMs: 80, sampleMs: 20, budgetMs: 300 }
  : { samples: 7, warmupMs: 250, sampleMs: 40, budgetMs: 1500 };
const compileSamples = quick ? 1 : 3;
// a model call takes up to seconds (tfjs-cpu): longer warm-up and budget, one call a sample
const modelTiming: TimingOptions = quick
  ? { samples: 3, warmupMs: 150, sampleMs: 20, budgetMs: 600 }
  : { samples: 7, warmupMs: 500, sampleMs: 40, budgetMs: 3000 };

/** The peak, GEMM, convolution and compile-time sections: their engines' lines and their tables. */
async function measureKernels(): Promise<{ environment: string[]; tables: Table[] }> {
  // the 2-thread columns (issue 16): kiln and onnxruntime-node; TF.js-wasm has no threads in Node, and
  // onnxruntime-web's threads in Node are bench/thread-peers.mjs's (its thread count is fixed per process)
  const factories: EngineFactory[] = [kilnKernel, kilnCompiled, kilnCompiled2, tfjsWasm, tfjsCpu, ortWeb, ortNode, ortNode2];
  const columns = factories.map((f) => f.name);
  const ours = kilnCompiled.name; // ratios compare what a kiln user runs: compiled modules, copies included
  const peers = ['tfjs-wasm', 'tfjs-cpu', 'ort-web', 'ort-node'];

  // ---- engines -------------------------------------------------------------------------
  const engines: Engine[] = [];
  const unavailable = new Map<string, string>();
  for (const factory of factories) {
    const start = performance.now();
    try {
      engines.push(await factory.load(plan));
      log(`loaded ${factory.name} in ${(performance.now() - start).toFixed(0)} ms`);
    } catch (e) {
      const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
      unavailable.set(factory.name, reason);
      log(`unavailable: ${factory.name}: ${reason}`);
    }
  }

  /** One case on every available engine, sampled round-robin. */
  const measureCase = (prepare: (e: Engine) => Promise<Run>) =>
    measureRow(engines.map((e) => ({ name: e.name, activate: e.activate?.bind(e), prepare: () => prepare(e) })), timing);
  const describe = (row: Map<string, Cell>, value: (ms: number) => string) =>
    engines.map((e) => { const c = row.get(e.name); return `${e.name} ${hasTiming(c) ? value(c.timing.median) : c?.missing}`; }).join(', ');

  // ---- peak, GEMM, convolutions, peak again, compile times ---------------------------------
  const peak = await loadPeakKernels();
  async function measurePeak(): Promise<number> {
    const rates = [];
    for (const { flops, call } of peakLoops(peak)) rates.push(flops / (await measure(call, timing)).median / 1e6);
    return Math.max(...rates);
  }
  const peakBefore = await measurePeak();
  log(`f32x4 mul+add peak ${peakBefore.toFixed(1)} GFLOP/s`);

  const caseName = (transA: boolean, transB: boolean) => `${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}`;
  const gemmRows: { name: string; n: number; cells: Map<string, Cell> }[] = [];
  for (const [transA, transB] of plan.transposes) {
    for (const n of plan.gemmSizes) {
      const cells = await measureCase((e) => e.gemm(n, transA, transB));
      gemmRows.push({ name: caseName(transA, transB), n, cells });
      log(`gemm ${caseName(transA, transB)} n=${n}: ${describe(cells, (ms) => (2 * n ** 3 / ms / 1e6).toFixed(1))} GFLOP/s`);
    }
  }

  const passes: ConvPass[] = ['forward', 'inputGrad', 'filterGrad'];
  const convRows: { layer: ConvLayer; pass: ConvPass; cells: Map<string, Cell> }[] = [];
  for (const layer of plan.convLayers) {
    for (const pass of passes) {
      const cells = await measureCase((e) => e.conv(layer, pass));
      convRows.push({ layer, pass, cells });
      log(`${layer.name} ${pass}: ${describe(cells, (ms) => `${ms.toFixed(2)} ms`)}`);
    }
  }
  const peakAfter = await measurePeak();
  const peakGflops = Math.max(peakBefore, peakAfter);

  log('compile times…');
  const compileTable = await measureCompileTimes(compileSamples);

  // ---- tables ----------------------------------------------------------------------------
  const fmt = (x: number, digits = 1) => x.toFixed(digits);
  const ratioHeaders = [...peers.map((p) => `vs ${p}`), '2 threads ÷ 1', '2 threads: vs ort-node 2 threads'];
  /** kiln's 2-thread speed over its one-thread speed, and kiln against onnxruntime-node, both on 2 threads. */
  const twoThreads = (cells: Map<string, Cell>) => [ratio(cells.get(kilnCompiled2.name), cells.get(ours)), ratio(cells.get(kilnCompiled2.name), cells.get(ortNode2.name))];
  const oneThreadRows = <T extends { cells: Map<string, Cell> }>(rows: T[]) => rows.map((r) => ({ ...r, cells: new Map([...r.cells].filter(([name]) => !/2 threads/.test(name))) }));
  const ratioNote = '"vs X": kiln compiled\'s speed ÷ X\'s (medians): ×2.00 means kiln takes half X\'s time; ×0.50, twice X\'s time. '
    + '"2 threads ÷ 1": kiln compiled on 2 threads against itself on 1; "2 threads: vs ort-node 2 threads": both on 2 threads (this machine\'s physical-limit anchor).';
  const percentOfPeak = (flops: number, c: Cell | undefined) => (hasTiming(c) ? `${fmt(flops / c.timing.median / 1e6 / peakGflops * 100, 0)}%` : '—');
  const cellText = (engine: string, c: Cell | undefined, value: (ms: number) => string) =>
    (unavailable.has(engine) ? 'unavailable' : c === undefined ? '—' : hasTiming(c) ? value(c.timing.median) : c.missing);

  const gemmNotes = new Notes();
  const gemmTable: Table = {
    title: `GEMM, square n×n float32, single thread: GFLOP/s (median of up to ${timing.samples} samples)`,
    header: ['case', ...columns, 'kernel % peak', 'compiled ÷ kernel', ...ratioHeaders],
    rows: gemmRows.map(({ name, n, cells }) => {
      columns.forEach((c) => gemmNotes.add(cells.get(c), `${c} ${name} ${n}`));
      return [
        `${name} n=${n}`,
        ...columns.map((c) => cellText(c, cells.get(c), (ms) => fmt(2 * n ** 3 / ms / 1e6))),
        percentOfPeak(2 * n ** 3, cells.get(kilnKernel.name)),
        ratio(cells.get(ours), cells.get(kilnKernel.name)),
        ...peers.map((p) => ratio(cells.get(ours), cells.get(p))),
        ...twoThreads(cells),
      ];
    }),
    notes: [
      ratioNote,
      '"compiled ÷ kernel": kiln compiled\'s speed as a fraction of the bare kernel\'s (the cost of run(): input checks, copies in and out).',
      `"kernel % peak": kiln kernel against the measured f32x4 mul+add peak, ${fmt(peakGflops)} GFLOP/s.`,
      'tfjs: a call ends in dataSync(); onnxruntime: session.run() and the output\'s data. A and B are inputs, not constants.',
      'tfjs-wasm runs XNNPACK only for A·B without transposes, and caches that operator (B packed) per B tensor, so its repeated calls '
        + 'skip packing B; Aᵀ·B and A·Bᵀ take its scalar blocked loop (batch_mat_mul_impl.cc).',
      ...gemmNotes.lines(),
      threadNote(oneThreadRows(gemmRows), (i) => `${gemmRows[i]!.name} ${gemmRows[i]!.n}`),
    ],
  };

  const convNotes = new Notes();
  const passLabel: Record<ConvPass, string> = { forward: 'forward', inputGrad: 'input gradient', filterGrad: 'filter gradient' };
  const convTable: Table = {
    title: 'Fashion-MNIST CNN convolutions, batch 64, 5×5 \'same\' stride 1, NHWC: ms per call (median)',
    header: ['layer', 'pass', 'MFLOP', ...columns, 'kernel % peak', ...ratioHeaders],
    labelColumns: 2,
    rows: convRows.map(({ layer, pass, cells }) => {
      columns.forEach((c) => convNotes.add(cells.get(c), `${c} ${layer.name} ${passLabel[pass]}`));
      return [
        `${layer.name} ${layer.size}×${layer.size}×${layer.cin}→${layer.cout}`, passLabel[pass], fmt(convFlops(layer) / 1e6, 0),
        ...columns.map((c) => cellText(c, cells.get(c), (ms) => fmt(ms, ms < 10 ? 2 : 1))),
        percentOfPeak(convFlops(layer), cells.get(kilnKernel.name)),
        ...peers.map((p) => ratio(cells.get(ours), cells.get(p))),
        ...twoThreads(cells),
      ];
    }),
    notes: [
      ratioNote,
      'kiln compiled: graphs of conv2d, conv2dBackpropInput, conv2dBackpropFilter; filters are parameters bound once (onnxruntime: an initializer).',
      'tfjs gradients: the Conv2DBackpropInput / Conv2DBackpropFilter kernels that tf.grad dispatches to, without the forward pass.',
      'onnxruntime: NCHW, converted from NHWC while preparing; its output stays NCHW.',
      'Every engine but kiln kernel returns a fresh output array a call (conv1: 6.4 MB); when the VM hands out fresh pages for it, '
        + 'that copy can cost more than the convolution.',
      ...convNotes.lines(),
      threadNote(oneThreadRows(convRows), (i) => `${convRows[i]!.layer.name} ${passLabel[convRows[i]!.pass]}`),
    ],
  };

  const peakTable: Table = {
    title: 'Measured single-thread f32x4 mul+add peak (12 register chains, and the 4×8 GEMM tile over L1)',
    header: ['when', 'GFLOP/s'],
    rows: [['before the GEMM and conv runs', fmt(peakBefore)], ['after', fmt(peakAfter)]],
  };

  const environment = [
    ...engines.map((e) => `- ${e.name}${e.info ? `: ${e.info}` : ''}`),
    ...[...unavailable].map(([name, reason]) => `- ${name}: unavailable: ${reason}`),
  ];
  return { environment, tables: [peakTable, gemmTable, convTable, compileTable] };
}

/** The CPU's name, with family and model numbers (VMs often give a generic name) and whether it has AVX-512. */
function cpuDescription(): string {
  const name = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (key: string) => new RegExp(`^${key}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1];
    return `${name} (family ${field('cpu family')}, model ${field('model')}${/\bavx512f\b/.test(info) ? ', AVX-512' : ''})`;
  } catch {
    return name;
  }
}

// ---- run, print, write -------------------------------------------------------------------
// results.md holds the kernel part, then the model part from its heading on; a run of one part (--kernels, --models) keeps the other
const modelHeading = '## Model benchmarks';
const render = ({ environment, tables }: { environment: string[]; tables: Table[] }) => [...environment, '', ...tables.flatMap((t) => [formatTable(t), ''])];
const kernelPart = modelsOnly ? undefined : render(await measureKernels());
const modelPart = kernelsOnly ? undefined : await (async () => {
  const models = await measureModels({ quick, timing: modelTiming, log });
  return render({ environment: models.environment, tables: [...models.tables, await measureTorchLoop({ quick, log })] });
})();
const runLine = `- ${quick ? 'quick run (--quick)' : 'full run'}${modelsOnly ? ', models only (--models)' : kernelsOnly ? ', kernels only (--kernels)' : ''}, `
  + `${((performance.now() - started) / 1e3).toFixed(0)} s in all`;
const machine = `- Node ${process.version} (V8 ${process.versions.v8}), ${cpuDescription()}, ${cpus().length} logical cores (every engine runs on one thread unless its name says otherwise)`;

const resultsFile = fileURLToPath(new URL('../../results.md', import.meta.url));
let previous = '';
try {
  previous = readFileSync(resultsFile, 'utf8');
} catch { /* no results yet */ }
const cut = previous.indexOf(`\n${modelHeading}`);
const [oldKernels, oldModels] = cut < 0 ? [previous.trimEnd(), ''] : [previous.slice(0, cut).trimEnd(), previous.slice(cut + 1).trimEnd()];
const kernelText = kernelPart ? ['## Benchmark results', '', machine, runLine, ...kernelPart].join('\n').trimEnd() : oldKernels;
const modelText = modelPart ? [modelHeading, '', machine, runLine, ...modelPart].join('\n').trimEnd() : oldModels;
console.log([kernelPart ? kernelText : '', modelPart ? modelText : ''].filter(Boolean).join('\n\n'));
writeFileSync(resultsFile, `${[kernelText, modelText].filter(Boolean).join('\n\n')}\n`);
log(`wrote ${resultsFile}${modelsOnly || kernelsOnly ? ` (its ${modelsOnly ? 'model' : 'kernel'} part; the rest is from the previous run)` : ''}`);
await writeSizeSection({ measure: !modelsOnly && !kernelsOnly, previous, quick, log }); // size.ts: measured in a full run, else kept
