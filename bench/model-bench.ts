/**
 * The model-level section of `npm run bench`: a training step of the MLP
 * 784-256-128-10 (batch 128) and of the Fashion-MNIST CNN (batch 64), both with
 * Adam, and predictions at batch 1 and 64, through each framework's Keras-style
 * API: kiln, TF.js layers on its wasm and cpu backends, onnxruntime (web and
 * node; prediction only) and native PyTorch at 1 and 2 threads (a child
 * process). Returns the section's header lines and tables, with the issue's
 * targets checked against the ratios of this run.
 */
import { kilnLayers, kilnLayers2, kilnModuleRun } from './engines/kiln-layers.js';
import { ortNodeModels, ortNodeModels2, ortWebModels } from './engines/onnx-models.js';
import { tfjsLayersCpu, tfjsLayersWasm } from './engines/tfjs-layers.js';
import { torchCase, torchTimings, type TorchRun } from './engines/torch.js';
import { hasTiming, measureOnce, measureRow, Notes, ratio, threadNote, type Cell, type Table, type TimingOptions } from './harness.js';
import { architectures, predictBatches, type ModelEngine, type ModelKind, type ModelName } from './models.js';

export interface ModelBenchOptions {
  readonly quick: boolean;
  readonly timing: TimingOptions;
  readonly log: (line: string) => void;
}

interface Case {
  readonly model: ModelName;
  readonly kind: ModelKind;
  readonly batch: number;
}

const trainCases: Case[] = (['mlp', 'cnn'] as const).map((model) => ({ model, kind: 'train', batch: architectures[model].trainBatch }));
const predictCases: Case[] = (['mlp', 'cnn'] as const).flatMap((model) => predictBatches.map((batch) => ({ model, kind: 'predict' as const, batch })));
const caseLabel = (c: Case) => `${c.model.toUpperCase()} ${c.kind === 'train' ? 'train step' : 'predict'} batch ${c.batch}`;

const ours = kilnLayers.name;
const diagnostic = kilnModuleRun.name;
// kilnLayers2 and ortNodeModels2: the 2-thread columns (issue 16), beside torch on 2 threads
const factories = [kilnLayers, kilnModuleRun, kilnLayers2, tfjsLayersWasm, tfjsLayersCpu, ortWebModels, ortNodeModels, ortNodeModels2];

const ms = (x: number) => x.toFixed(x < 1 ? 3 : x < 10 ? 2 : 1);

export async function measureModels({ quick, timing, log }: ModelBenchOptions): Promise<{ environment: string[]; tables: Table[] }> {
  const engines: ModelEngine[] = [];
  const unavailable = new Map<string, string>();
  for (const factory of factories) {
    try {
      engines.push(await factory.load());
    } catch (e) {
      unavailable.set(factory.name, (e instanceof Error ? e.message : String(e)).split('\n')[0]!);
      log(`unavailable: ${factory.name}: ${unavailable.get(factory.name)}`);
    }
  }

  // torch first, in a child process while this one waits: it shares the cores with nothing of ours
  const allCases = [...trainCases, ...predictCases];
  const torchRuns: TorchRun[] = [];
  for (const threads of [1, 2]) {
    log(`torch at ${threads} thread(s)…`);
    torchRuns.push(await torchTimings(threads, allCases.map((c) => torchCase(c.model, c.kind, c.batch)), timing));
  }

  const slowNotes: string[] = [];
  const measureCase = async (c: Case): Promise<Map<string, Cell>> => {
    const slow = (e: ModelEngine) => e.slow?.(c.model, c.kind);
    const cells = await measureRow(engines.filter((e) => !slow(e)).map((e) => ({
      name: e.name, activate: e.activate?.bind(e), prepare: () => e.prepare(c.model, c.kind, c.batch),
    })), timing);
    for (const e of engines.filter(slow)) {
      if (quick) {
        cells.set(e.name, { missing: 'skipped', note: `${slow(e)}: skipped under --quick` });
        continue;
      }
      log(`${e.name} ${caseLabel(c)}: one timed call (${slow(e)})…`);
      try {
        await e.activate?.();
        cells.set(e.name, { timing: await measureOnce(await e.prepare(c.model, c.kind, c.batch)) });
        slowNotes.push(`${e.name} ${caseLabel(c)}: one timed call, no warm-up (${slow(e)}).`);
      } catch (err) {
        cells.set(e.name, { missing: 'error', note: (err instanceof Error ? err.message : String(err)).split('\n')[0]! });
      }
    }
    for (const t of torchRuns) cells.set(t.name, t.cells.get(torchCase(c.model, c.kind, c.batch))!);
    log(`${caseLabel(c)}: ${[...cells].map(([name, cell]) => `${name} ${hasTiming(cell) ? `${ms(cell.timing.median)} ms` : cell.missing}`).join(', ')}`);
    return cells;
  };

  const trainRows: { c: Case; cells: Map<string, Cell> }[] = [];
  for (const c of trainCases) trainRows.push({ c, cells: await measureCase(c) });
  const predictRows: { c: Case; cells: Map<string, Cell> }[] = [];
  for (const c of predictCases) predictRows.push({ c, cells: await measureCase(c) });

  // ---- tables ---------------------------------------------------------------------------
  const torchNames = torchRuns.map((t) => t.name);
  const cellText = (engine: string, c: Cell | undefined) => (unavailable.has(engine) ? 'unavailable' : c === undefined ? '—' : hasTiming(c) ? ms(c.timing.median) : c.missing);
  const overhead = (cells: Map<string, Cell>) => {
    const [api, bare] = [cells.get(ours), cells.get(diagnostic)];
    return hasTiming(api) && hasTiming(bare) ? `${((1 - bare.timing.median / api.timing.median) * 100).toFixed(0)}%` : '—';
  };
  const twoThreads = kilnLayers2.name;
  /** Ratios on 2 threads: kiln against itself on 1, and against each 2-thread peer present. */
  const twoThreadRatios = (cells: Map<string, Cell>, peers2: string[]) => [ratio(cells.get(twoThreads), cells.get(ours)), ...peers2.map((p) => ratio(cells.get(twoThreads), cells.get(p)))];
  const table = (title: string, rows: { c: Case; cells: Map<string, Cell> }[], peers: string[], peers2: string[], extraNotes: string[]): Table => {
    const columns = [ours, diagnostic, ...peers.filter((p) => !peers2.includes(p)), twoThreads, ...peers2];
    const onePeers = peers.filter((p) => !peers2.includes(p));
    const notes = new Notes();
    return {
      title,
      header: ['model', 'batch', ...columns, 'API overhead', ...onePeers.map((p) => `vs ${p}`), '2 threads ÷ 1', ...peers2.map((p) => `2 threads: vs ${p}`)],
      labelColumns: 2,
      rows: rows.map(({ c, cells }) => {
        columns.forEach((name) => notes.add(cells.get(name), `${name} ${caseLabel(c)}`));
        return [architectures[c.model].title, String(c.batch), ...columns.map((name) => cellText(name, cells.get(name))), overhead(cells),
          ...onePeers.map((p) => ratio(cells.get(ours), cells.get(p))), ...twoThreadRatios(cells, peers2)];
      }),
      notes: [
        '"vs X": X\'s time ÷ kiln\'s (medians of this run): ×2.00 means kiln takes half X\'s time; ×0.50, twice X\'s time. kiln runs on one thread there; '
          + '"2 threads ÷ 1" is kiln on 2 threads against itself on 1, and "2 threads: vs X" kiln on 2 threads against X on 2 threads.',
        `"${diagnostic}" is a diagnostic, not a contender: the same compiled entry called directly; "API overhead" is the share of kiln's time spent outside it (1 − module.run ÷ kiln).`,
        ...extraNotes,
        ...notes.lines(),
        ...slowNotes.filter((n) => rows.some(({ c }) => n.includes(caseLabel(c)))),
        threadNote(rows.map(({ cells }) => ({ cells: new Map([...cells].filter(([name]) => !torchNames.includes(name) && !/2 threads/.test(name))) })), (i) => caseLabel(rows[i]!.c)),
      ],
    };
  };
  const torchNote = 'torch: bench/torch_models.py in a child process (NCHW, same data), timed by itself with the same warm-up and sample rules, '
    + 'not round-robin with the rest; "torch 2 threads" uses both cores, so it is not a same-thread comparison.';
  const torch2 = torchNames.filter((n) => /2 threads/.test(n));
  const trainTable = table('MLP/CNN train step, ms (median)', trainRows, ['tfjs-wasm', 'tfjs-cpu', ...torchNames], torch2, [
    'A step: forward, softmax cross-entropy on the logits, backward, Adam (lr 1e-3) on a fixed batch; kiln and TF.js through trainOnBatch (which returns the loss), torch: zero_grad, forward, CrossEntropyLoss, backward, step, loss.item().',
    torchNote,
  ]);
  const predictTable = table('predict, ms (median)', predictRows, ['tfjs-wasm', 'tfjs-cpu', 'ort-web', 'ort-node', ...torchNames, ortNodeModels2.name], [ortNodeModels2.name, ...torch2], [
    'kiln and TF.js: model.predict(x, { batchSize: batch }).dataSync() (the default batchSize, 32, would split batch 64 in two); onnxruntime: session.run() on a model written by onnx.ts, a session per batch size; torch: forward under no_grad, .numpy().',
    torchNote,
  ]);

  const time = (rows: typeof trainRows, model: ModelName, batch: number, engine: string) => {
    const cell = rows.find(({ c }) => c.model === model && c.batch === batch)?.cells.get(engine);
    return hasTiming(cell) ? cell.timing.median : undefined;
  };
  /** The fastest timed peer's time ÷ kiln's, with kiln's API and, as a diagnostic, with module.run. */
  const target = (what: string, kilnMs: (engine: string) => number | undefined, peers: [string, number | undefined][], need: number) => {
    const timed = peers.filter((p): p is [string, number] => p[1] !== undefined);
    const [api, bare] = [kilnMs(ours), kilnMs(diagnostic)];
    if (api === undefined || !timed.length) return [what, '—', '—', 'not measured'];
    const [peer, peerMs] = timed.reduce((a, b) => (b[1] < a[1] ? b : a));
    const r = peerMs / api;
    return [what, `×${r.toFixed(2)} (${peer} ${ms(peerMs)} ms, kiln ${ms(api)} ms)`, bare === undefined ? '—' : `×${(peerMs / bare).toFixed(2)}`, r >= need ? 'met' : 'missed'];
  };
  const train = (model: ModelName) => (engine: string) => time(trainRows, model, architectures[model].trainBatch, engine);
  const predict = (batch: number) => (engine: string) => time(predictRows, 'cnn', batch, engine);
  const targetsTable: Table = {
    title: 'Targets (issue 4, item 10), from the ratios above',
    header: ['target', 'measured: peer\'s time ÷ kiln\'s', `same with ${diagnostic}`, 'status'],
    labelColumns: 1,
    rows: [
      target('MLP train step ≥ 5× faster than TF.js\'s best backend', train('mlp'), [['tfjs-wasm', train('mlp')('tfjs-wasm')], ['tfjs-cpu', train('mlp')('tfjs-cpu')]], 5),
      ...torchNames.map((t, i) => target(`CNN train step faster than native PyTorch, ${t.slice(6)}${i ? ' (kiln on 1)' : ''}`, train('cnn'), [[t, train('cnn')(t)]], 1)),
      ...predictBatches.flatMap((batch) => ['tfjs-wasm', 'ort-web'].map((peer) =>
        target(`CNN predict batch ${batch} ≥ ${batch === 1 ? '1.3' : '1.4'}× faster than ${peer}`, predict(batch), [[peer, predict(batch)(peer)]], batch === 1 ? 1.3 : 1.4))),
    ],
    notes: [`The status is kiln's (the public API's); "same with ${diagnostic}" shows the ratio without the API's per-call overhead, for diagnosis only.`],
  };

  const environment = [
    ...engines.map((e) => `- ${e.name}: ${e.info ?? ''}`),
    ...[...unavailable].map(([name, reason]) => `- ${name}: unavailable: ${reason}`),
    ...torchRuns.map((t) => `- ${t.name}: ${t.info}`),
  ];
  return { environment, tables: [trainTable, predictTable, targetsTable] };
}
