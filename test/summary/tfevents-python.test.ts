/**
 * Event files read back by a decoder that shares nothing with kiln's writer:
 * scripts/read_tfevents.py (Debian's python3-protobuf with a schema written from
 * TensorFlow's .proto files, CRC-32C bit by bit, PNG through zlib). A real `fit`
 * with the tensorBoard callback, a SummaryWriter run and kiln.summary are
 * compared tag by tag, value by value. Skipped only when no python3 can import
 * google.protobuf and KILN_REQUIRE_PROTOBUF is unset (CI sets it and installs
 * python3-protobuf).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { blobs } from '../util/blobs.js';

function findPython(): string | undefined {
  const candidates = process.env.KILN_PYTHON ? [process.env.KILN_PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((exe) => spawnSync(exe, ['-c', 'import google.protobuf'], { stdio: 'ignore' }).status === 0);
}
const python = findPython();
const required = Boolean(process.env.KILN_REQUIRE_PROTOBUF);
const script = join(__dirname, '../../scripts/read_tfevents.py');

interface PyValue { tag: string; plugin?: string; data_class?: number; hparams?: Record<string, any>; simple_value?: number | string; tensor?: { dtype: number; shape: number[]; values?: (number | string)[]; strings?: string[]; width?: number; height?: number; images?: { width: number; height: number; channels: number; pixels: number[] }[] } }
interface PyEvent { wall_time: number; step: number; file_version?: string; graph?: { nodes: { name: string; op: string; input: string[]; attr: Record<string, any> }[] }; summary?: PyValue[] }
type PyFiles = Record<string, { events: PyEvent[]; error?: string }>;

function decode(dir: string): PyFiles {
  const r = spawnSync(python!, [script, dir], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`read_tfevents.py failed (${r.status}):\n${r.stderr}`);
  return (JSON.parse(r.stdout) as { files: PyFiles }).files;
}

const num = (v: number | string | undefined) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : (v as number));

/** step → tag → value for every scalar of a run. */
function scalars(events: PyEvent[]): Map<string, Map<number, number>> {
  const out = new Map<string, Map<number, number>>();
  for (const e of events) for (const v of e.summary ?? []) {
    if (v.plugin !== 'scalars') continue;
    expect(v.tensor!.dtype).toBe(1); // DT_FLOAT
    expect(v.tensor!.shape).toEqual([]);
    expect(v.data_class).toBe(1); // DATA_CLASS_SCALAR
    if (!out.has(v.tag)) out.set(v.tag, new Map());
    out.get(v.tag)!.set(e.step, num(v.tensor!.values![0]));
  }
  return out;
}

function runFile(files: PyFiles, run: string): { events: PyEvent[]; error?: string } {
  const names = Object.keys(files).filter((f) => f.startsWith(`${run}/`) && !f.slice(run.length + 1).includes("/"));
  expect(names, `one event file in ${run}/ (files: ${Object.keys(files).join(', ')})`).toHaveLength(1);
  expect(names[0]).toMatch(new RegExp(`^${run}/events\\.out\\.tfevents\\.\\d{10}\\.[^.]+\\.\\d+\\.\\d+$`));
  return files[names[0]!]!;
}

describe.skipIf(!python && !required)('event files read by python3-protobuf', () => {
  test('a python3 with google.protobuf is available', () => {
    expect(python, 'KILN_REQUIRE_PROTOBUF is set but no python3 can import google.protobuf: apt-get install python3-protobuf').toBeDefined();
  });

  describe('a fit with the tensorBoard callback', () => {
    const logDir = mkdtempSync(join(tmpdir(), 'kiln-tb-'));
    const batchLogs: Record<string, number>[] = [];
    const epochLogs: Record<string, number>[] = [];
    const epochWeights: { name: string; shape: number[]; data: number[] }[][] = [];
    let files: PyFiles;
    let steps = 0;
    const printed: string[] = [];

    beforeAll(async () => {
      const { x, y } = blobs(40, 3);
      const model = kiln.sequential({ layers: [
        kiln.layers.dense({ inputShape: [4], units: 6, activation: 'relu', name: 'hidden' }),
        kiln.layers.dense({ units: 3, name: 'logits' }),
      ] });
      model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
      const spy = {
        onBatchEnd: (_b: number, logs: Record<string, number>) => { batchLogs.push({ ...logs }); },
        onEpochEnd: (_e: number, logs: Record<string, number>) => {
          epochLogs.push({ ...logs });
          epochWeights.push(model.namedWeights().map((w) => ({ name: w.name, shape: w.shape, data: Array.from(w.data) })));
        },
      };
      const log = console.log;
      console.log = (...a: unknown[]) => { printed.push(a.join(' ')); };
      try {
        await model.fit(x, y, { epochs: 2, batchSize: 8, validationSplit: 0.2, verbose: 2, callbacks: [spy, kiln.callbacks.tensorBoard({ logDir, histogramFreq: 1, writeImages: true, updateFreq: 'batch' })] });
      } finally {
        console.log = log;
      }
      steps = batchLogs.length / 2;
      files = decode(logDir);
    }, 120_000);

    test('fit prints one line saying how to watch', () => {
      const hints = printed.filter((l) => l.includes('kiln board'));
      expect(hints).toEqual([`TensorBoard logs go to ${logDir}; watch training with: npx kiln board --logdir ${logDir}  (or: tensorboard --logdir ${logDir})`]);
    });

    test('train/ and validation/ runs, each file starting with brain.Event:2, no damage', () => {
      for (const run of ['train', 'validation']) {
        const f = runFile(files, run);
        expect(f.error).toBeUndefined();
        expect(f.events[0]!.file_version).toBe('brain.Event:2');
        expect(f.events[0]!.wall_time).toBeGreaterThan(1.6e9);
      }
    });

    test('batch_<log> every batch at the global batch step, equal to the batch logs as float32', () => {
      const train = scalars(runFile(files, 'train').events);
      expect(batchLogs).toHaveLength(2 * steps);
      for (const key of ['loss', 'accuracy']) {
        const series = train.get(`batch_${key}`)!;
        expect([...series.keys()]).toEqual(batchLogs.map((_, i) => i + 1));
        batchLogs.forEach((l, i) => expect(series.get(i + 1)).toBe(Math.fround(l[key]!)));
      }
    });

    test('epoch_<log> and epoch_learning_rate in train/, val_ logs as epoch_<log> in validation/', () => {
      const train = scalars(runFile(files, 'train').events);
      const validation = scalars(runFile(files, 'validation').events);
      expect([...train.keys()].filter((t) => t.startsWith('epoch_')).sort()).toEqual(['epoch_accuracy', 'epoch_learning_rate', 'epoch_loss']);
      expect([...validation.keys()].sort()).toEqual(['epoch_accuracy', 'epoch_loss', 'evaluation_accuracy_vs_iterations', 'evaluation_loss_vs_iterations']);
      epochLogs.forEach((logs, epoch) => {
        expect(train.get('epoch_loss')!.get(epoch)).toBe(Math.fround(logs.loss!));
        expect(train.get('epoch_accuracy')!.get(epoch)).toBe(Math.fround(logs.accuracy!));
        expect(train.get('epoch_learning_rate')!.get(epoch)).toBe(Math.fround(0.05));
        expect(validation.get('epoch_loss')!.get(epoch)).toBe(Math.fround(logs.val_loss!));
        expect(validation.get('epoch_accuracy')!.get(epoch)).toBe(Math.fround(logs.val_accuracy!));
        expect(validation.get('evaluation_loss_vs_iterations')!.get((epoch + 1) * steps)).toBe(Math.fround(logs.val_loss!));
      });
    });

    test('weight histograms: DT_DOUBLE [30,3] buckets from min to max holding every weight once', () => {
      const events = runFile(files, 'train').events;
      epochWeights.forEach((weights, epoch) => {
        const values = events.filter((e) => e.step === epoch).flatMap((e) => e.summary ?? []).filter((v) => v.plugin === 'histograms');
        expect(values.map((v) => v.tag)).toEqual(weights.map((w) => `${w.name}/histogram`));
        weights.forEach((w, i) => {
          const t = values[i]!.tensor!;
          expect(t.dtype).toBe(2);
          expect(t.shape).toEqual([30, 3]);
          const v = t.values as number[];
          const data = w.data;
          const min = Math.min(...data), max = Math.max(...data);
          expect(v[0]).toBe(min);
          expect(v[29 * 3 + 1]).toBe(max);
          for (let b = 0; b < 30; b++) {
            const [left, right, count] = [v[b * 3]!, v[b * 3 + 1]!, v[b * 3 + 2]!];
            if (b > 0) expect(left).toBe(v[(b - 1) * 3 + 1]); // contiguous
            const inside = data.filter((x) => x >= left && (b === 29 ? x <= right : x < right)).length;
            expect(count).toBe(inside);
          }
          expect(v.filter((_, k) => k % 3 === 2).reduce((a, c) => a + c, 0)).toBe(data.length);
        });
      });
    });

    test('weight images: Keras layout (a matrix with its longer side across, a vector as a column), min→0 and max→255', () => {
      const events = runFile(files, 'train').events;
      const last = epochWeights[epochWeights.length - 1]!;
      const images = events.filter((e) => e.step === epochWeights.length - 1).flatMap((e) => e.summary ?? []).filter((v) => v.plugin === 'images');
      expect(images.map((v) => v.tag)).toEqual(last.map((w) => `${w.name}/image`));
      for (const [i, w] of last.entries()) {
        const t = images[i]!.tensor!;
        expect(t.dtype).toBe(7);
        expect(images[i]!.data_class).toBe(3);
        const [rows, cols] = w.shape.length === 1 ? [w.shape[0]!, 1] : [Math.min(w.shape[0]!, w.shape[1]!), Math.max(w.shape[0]!, w.shape[1]!)];
        expect([t.height, t.width]).toEqual([rows, cols]);
        expect(t.images).toHaveLength(1);
        const im = t.images![0]!;
        expect([im.width, im.height, im.channels]).toEqual([cols, rows, 1]);
        const min = Math.min(...w.data), max = Math.max(...w.data);
        const at = (r: number, c: number) => (w.shape.length === 1 ? w.data[r]! : w.shape[0]! > w.shape[1]! ? w.data[c * w.shape[1]! + r]! : w.data[r * w.shape[1]! + c]!);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) expect(im.pixels[r * cols + c]).toBe(Math.round(((at(r, c) - min) * 255) / (max - min)));
      }
    });

    test('the graph: nodes scoped by layer, parameters by <layer>/<weight>, shapes with -1 for the batch', () => {
      const graphs = runFile(files, 'train').events.filter((e) => e.graph);
      expect(graphs).toHaveLength(1);
      const nodes = graphs[0]!.graph!.nodes;
      const names = nodes.map((n) => n.name);
      for (const p of ['hidden/kernel', 'hidden/bias', 'logits/kernel', 'logits/bias']) expect(names).toContain(p);
      const matmuls = nodes.filter((n) => n.op === 'matmul');
      expect(matmuls.map((n) => n.name.split('/')[0]).sort()).toEqual(['hidden', 'logits']);
      const hidden = matmuls.find((n) => n.name.startsWith('hidden/'))!;
      expect(hidden.input).toContain('hidden/kernel');
      expect(hidden.attr._output_shapes).toEqual({ list: { shape: [[-1, 6]], type: [] } });
      expect(nodes.some((n) => n.name.startsWith('hidden/') && n.op === 'relu')).toBe(true);
      const out = nodes.find((n) => n.op === 'output')!;
      expect(out.input[0]!.startsWith('logits/')).toBe(true);
      for (const n of nodes) for (const i of n.input) expect(names).toContain(i); // every edge names a node
    });
  });

  describe('SummaryWriter (PyTorch) and kiln.summary (TF2)', () => {
    const logDir = mkdtempSync(join(tmpdir(), 'kiln-sw-'));
    let files: PyFiles;
    const losses = [0.9, 0.5, NaN, Infinity, -Infinity, 1e-30];
    const hist = Float32Array.from({ length: 101 }, (_, i) => Math.sin(i) * 3);
    // a 2×3 RGB image, CHW, floats in [0, 1]
    const chw = [[[0, 0.5, 1], [0.25, 0.75, 2]], [[0, 0, 0], [1, 1, 1]], [[0.1, 0.2, 0.3], [0.4, 0.5, -1]]];

    class Net extends kiln.nn.Module {
      fc1 = new kiln.nn.Linear(4, 5);
      fc2 = new kiln.nn.Linear(5, 2);
      forward(x: kiln.Tensor) { return this.fc2.forward(kiln.nn.functional.relu(this.fc1.forward(x))); }
    }

    beforeAll(async () => {
      const w = new kiln.utils.tensorboard.SummaryWriter(join(logDir, 'torch'));
      losses.forEach((l, step) => w.addScalar('Loss/train', l, step));
      w.addScalars('run_14h', { xsinx: 1.5, xcosx: -2 }, 7);
      w.addHistogram('weights', kiln.tensor(hist), 3);
      w.addImage('rgb', kiln.tensor(chw), 4);
      w.addImages('batch', kiln.tensor(Int32Array.from({ length: 10 * 2 * 2 }, (_, i) => (i * 7) % 256), [10, 1, 2, 2]), 5);
      w.addText('notes', '# Title\n*lr* = 0.1 — ok', 6);
      w.addGraph(new Net(), kiln.randn([3, 4], { seed: 1 }));
      w.addHparams({ lr: 0.1, optimizer: 'adam', nesterov: false }, { 'hparam/accuracy': 0.75 }, { runName: 'hp1', hparamDomainDiscrete: { optimizer: ['adam', 'sgd'] } });
      await w.close();
      const fw = kiln.summary.createFileWriter(join(logDir, 'tf2'));
      expect(kiln.summary.scalar('outside', 1, { step: 0 })).toBe(false); // no default writer yet
      await fw.asDefault(async () => {
        for (let step = 0; step < 3; step++) expect(kiln.summary.scalar('loss', 1 / (step + 1), { step })).toBe(true);
        kiln.summary.histogram('h', [1, 1, 1], { step: 1, buckets: 4 });
        kiln.summary.image('im', kiln.tensor([[[[0], [1]]], [[[0.5], [0.2]]]]), { step: 2, maxOutputs: 1 });
        kiln.summary.text('t', ['a', 'b'], { step: 3 });
      });
      await fw.close();
      files = decode(logDir);
    }, 120_000);

    test('addScalar: tensors at each step, NaN and ±Infinity kept, tiny values as float32', () => {
      const s = scalars(runFile(files, 'torch').events).get('Loss/train')!;
      expect([...s.keys()]).toEqual([0, 1, 2, 3, 4, 5]);
      losses.forEach((l, step) => expect(s.get(step)).toBe(Math.fround(l)));
    });

    test('addScalars: one run per key, named <mainTag>_<key>, each holding tag mainTag', () => {
      expect(scalars(runFile(files, 'torch/run_14h_xsinx').events).get('run_14h')!.get(7)).toBe(1.5);
      expect(scalars(runFile(files, 'torch/run_14h_xcosx').events).get('run_14h')!.get(7)).toBe(-2);
    });

    test('addHistogram: 30 buckets over float32 values', () => {
      const v = runFile(files, 'torch').events.flatMap((e) => (e.summary ?? []).map((x) => ({ ...x, step: e.step }))).find((x) => x.tag === 'weights')!;
      expect([v.plugin, v.step, v.tensor!.shape]).toEqual(['histograms', 3, [30, 3]]);
      const b = v.tensor!.values as number[];
      const data = Array.from(hist);
      expect([b[0], b[88]]).toEqual([Math.min(...data), Math.max(...data)]);
      expect(b.filter((_, k) => k % 3 === 2).reduce((a, c) => a + c, 0)).toBe(101);
    });

    test('addImage (CHW floats ×255, clipped) and addImages (a grid of 8 a row)', () => {
      const all = runFile(files, 'torch').events.flatMap((e) => e.summary ?? []);
      const rgb = all.find((x) => x.tag === 'rgb')!.tensor!;
      expect([rgb.width, rgb.height]).toEqual([3, 2]);
      const px = rgb.images![0]!;
      expect([px.width, px.height, px.channels]).toEqual([3, 2, 3]);
      const expected: number[] = [];
      for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) expected.push(Math.trunc(Math.min(255, Math.max(0, Math.fround(chw[c]![y]![x]!) * 255))));
      expect(px.pixels).toEqual(expected);
      const grid = all.find((x) => x.tag === 'batch')!.tensor!.images![0]!;
      expect([grid.width, grid.height, grid.channels]).toEqual([16, 4, 1]); // 10 images of 2×2: 8 a row, two rows
      const value = (n: number, y: number, x: number) => ((n * 4 + y * 2 + x) * 7) % 256;
      for (let n = 0; n < 16; n++) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) {
        const [gy, gx] = [Math.floor(n / 8), n % 8];
        expect(grid.pixels[(gy * 2 + y) * 16 + gx * 2 + x]).toBe(n < 10 ? value(n, y, x) : 0);
      }
    });

    test('addText: <tag>/text_summary, UTF-8 markdown', () => {
      const t = runFile(files, 'torch').events.flatMap((e) => e.summary ?? []).find((x) => x.tag === 'notes/text_summary')!;
      expect([t.plugin, t.tensor!.dtype, t.tensor!.shape, t.tensor!.strings]).toEqual(['text', 7, [1], ['# Title\n*lr* = 0.1 — ok']]);
    });

    test('addGraph: a module’s ops scoped by submodule, parameters by path', () => {
      const nodes = runFile(files, 'torch').events.find((e) => e.graph)!.graph!.nodes;
      const names = nodes.map((n) => n.name);
      for (const p of ['input', 'Net/fc1/weight', 'Net/fc1/bias', 'Net/fc2/weight', 'Net/fc2/bias']) expect(names).toContain(p);
      const matmuls = nodes.filter((n) => n.op === 'matmul');
      expect(matmuls.map((n) => n.name.split('/').slice(0, 2).join('/')).sort()).toEqual(['Net/fc1', 'Net/fc2']);
      expect(nodes.find((n) => n.op === 'relu')!.name).toBe('Net/relu'); // made by Net.forward itself
      expect(nodes.find((n) => n.op === 'output')!.input[0]!.startsWith('Net/fc2/')).toBe(true);
      for (const n of nodes) for (const i of n.input) expect(names).toContain(i);
    });

    test('addHparams: experiment, session start and end, and the metrics in a run of its own', () => {
      const events = runFile(files, 'torch/hp1').events;
      const values = events.flatMap((e) => e.summary ?? []);
      expect(values.map((v) => v.tag)).toEqual(['_hparams_/experiment', '_hparams_/session_start_info', '_hparams_/session_end_info', 'hparam/accuracy']);
      const [exp, start, end] = values.map((v) => v.hparams);
      expect(exp!.experiment.hparam_infos).toEqual([
        { name: 'lr', type: 3 },
        { name: 'optimizer', type: 1, domain_discrete: ['adam', 'sgd'] },
        { name: 'nesterov', type: 2 },
      ]);
      expect(exp!.experiment.metric_infos).toEqual([{ name: { tag: 'hparam/accuracy' } }]);
      expect(start!.session_start_info.hparams).toEqual({ lr: 0.1, optimizer: 'adam', nesterov: false });
      expect(end!.session_end_info.status).toBe(1);
      expect(values[3]!.tensor!.values).toEqual([0.75]);
    });

    test('kiln.summary: scalars, histogram of one repeated value, TF image scaling (×255.5), text list', () => {
      const name = Object.keys(files).find((f) => f.startsWith('tf2/'))!;
      expect(name.endsWith('.v2')).toBe(true);
      const events = files[name]!.events;
      expect([...scalars(events).get('loss')!.entries()]).toEqual([[0, 1], [1, 0.5], [2, Math.fround(1 / 3)]]);
      const all = events.flatMap((e) => e.summary ?? []);
      expect(all.find((v) => v.tag === 'h')!.tensor!.values).toEqual([1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1, 3]); // one value: every count in the last bucket, as TensorBoard's
      const im = all.find((v) => v.tag === 'im')!.tensor!;
      expect(im.images!.map((i) => i.pixels)).toEqual([[0, 255]]); // maxOutputs 1 of 2
      expect(all.find((v) => v.tag === 't')!.tensor).toMatchObject({ shape: [2], strings: ['a', 'b'] });
    });
  });

  test('a crash mid-record: every complete record before it is still read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-trunc-'));
    const w = new kiln.summary.EventFileWriter(dir);
    for (let step = 1; step <= 5; step++) w.addSummary([kiln.summary.scalarValue('x', step)], step);
    await w.close();
    const size = readFileSync(w.path).length;
    truncateSync(w.path, size - 3); // the last record loses its tail
    const f = decode(dir)[readdirSync(dir)[0]!]!;
    expect(f.error).toMatch(/^truncated record at \d+$/);
    expect([...scalars(f.events).get('x')!.entries()]).toEqual([[1, 1], [2, 2], [3, 3], [4, 4]]);
    const ours = kiln.summary.readEventFile(readFileSync(w.path));
    expect(ours.events.length).toBe(5);
    expect(ours.damage?.reason).toBe('truncated record');
  });
});
