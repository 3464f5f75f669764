/**
 * The event writer on its own (no Python): CRC-32C check values, the record
 * framing, the folder made when missing, exact errors for bad input, the
 * in-memory store and its zip, a Keras-style round trip through kiln's reader,
 * weight images laid out as Keras does, and the profile trace.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, unzipSync } from 'fflate';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { weightImages } from '../../src/summary/tensorboard.js';
import { writeProfileTrace } from '../../src/summary/profile.js';
import { messageOf } from '../util/errors.js';
import { blobs } from '../util/blobs.js';

const { summary } = kiln;
const file = 'test/summary/writer.test.ts';
const message = (f: () => unknown) => messageOf(f, file);
const ascii = (s: string) => new TextEncoder().encode(s);

describe('CRC-32C and framing', () => {
  test('the standard check values', () => {
    expect(summary.crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(summary.crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720's 32 zero bytes
    expect(summary.crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
  });

  test('a record is length, masked CRC of the length, data, masked CRC of the data', () => {
    const data = ascii('hello');
    const r = summary.frameRecord(data);
    const view = new DataView(r.buffer);
    expect(r.length).toBe(5 + 16);
    expect([view.getUint32(0, true), view.getUint32(4, true)]).toEqual([5, 0]);
    const mask = (c: number) => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
    expect(view.getUint32(8, true)).toBe(mask(summary.crc32c(r.subarray(0, 8))));
    expect(new TextDecoder().decode(r.subarray(12, 17))).toBe('hello');
    expect(view.getUint32(17, true)).toBe(mask(summary.crc32c(data)));
  });

  test('a flipped byte is reported as damage, with the events before it kept', () => {
    const sink = new summary.MemoryLogs({ opfs: false });
    const w = new summary.EventFileWriter('logs/run', { sink });
    w.addSummary([summary.scalarValue('a', 1)], 1);
    w.addSummary([summary.scalarValue('a', 2)], 2);
    w.flushSync();
    const bytes = sink.read(w.path);
    const second = bytes.length - summary.frameRecord(summary.encodeEvent({ wallTime: 0, step: 2, summary: [summary.scalarValue('a', 2)] })).length;
    bytes[second + 14] ^= 0xff;
    const read = summary.readEventFile(bytes);
    expect(read.events.map((e) => e.step)).toEqual([0, 1]);
    expect(read.damage).toEqual({ offset: second, reason: 'bad data checksum' });
  });
});

describe('the log folder', () => {
  test('is made when missing, with one file named events.out.tfevents.<time>.<host>.<pid>.<n>', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kiln-w-')), 'a', 'b');
    const w = new summary.EventFileWriter(dir);
    expect(readdirSync(dir)).toHaveLength(1);
    expect(readdirSync(dir)[0]).toMatch(/^events\.out\.tfevents\.\d{10}\.[^.]+\.\d+\.\d+$/);
    const first = summary.readEventFile(readFileSync(w.path));
    expect(first.events).toHaveLength(1); // file_version is on disk at once
    expect(first.events[0]!.fileVersion).toBe('brain.Event:2');
    await w.close();
  });

  test('a folder that cannot be made is a KilnError naming it', () => {
    const parent = mkdtempSync(join(tmpdir(), 'kiln-w-'));
    writeFileSync(join(parent, 'file'), 'x');
    const dir = join(parent, 'file', 'logs');
    expect(message(() => new summary.EventFileWriter(dir))).toBe(`summary: cannot write the log folder "${dir}" (ENOTDIR); choose a folder you can write to.`);
    expect(message(() => new kiln.utils.tensorboard.SummaryWriter(dir))).toBe(`summary: cannot write the log folder "${dir}" (ENOTDIR); choose a folder you can write to.`);
  });

  test('fit with a tensorBoard callback whose folder cannot be made fails before training, naming it', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'kiln-w-'));
    writeFileSync(join(parent, 'file'), 'x');
    const { x, y } = blobs(12, 1);
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 3 })] });
    model.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const logDir = join(parent, 'file', 'logs');
    await expect(model.fit(x, y, { epochs: 1, callbacks: [kiln.callbacks.tensorBoard({ logDir })] })).rejects.toThrow(`summary: cannot write the log folder "${logDir}/train" (ENOTDIR); choose a folder you can write to.`);
  });
});

describe('bad arguments are named errors', () => {
  test.each([
    [() => kiln.callbacks.tensorBoard({ updateFreq: 'step' as never }), `tensorBoard: expected updateFreq 'epoch', 'batch' or a positive integer, got "step".`],
    [() => kiln.callbacks.tensorBoard({ updateFreq: 0 }), `tensorBoard: expected updateFreq 'epoch', 'batch' or a positive integer, got 0.`],
    [() => kiln.callbacks.tensorBoard({ histogramFreq: -1 }), 'tensorBoard: expected histogramFreq to be a non-negative integer, got -1.'],
    [() => kiln.callbacks.tensorBoard({ logDir: '' }), 'tensorBoard: expected logDir to be a folder path, got "".'],
    [() => kiln.callbacks.tensorBoard({ profileBatch: [5, 2] }), 'tensorBoard: expected profileBatch to be a batch number or [first, last] (non-negative, first <= last), got [5,2].'],
    [() => summary.histogramValue('h', [1], 0), 'histogram: expected a positive integer bucket count, got 0.'],
    [() => summary.imageValue('im', []), 'image "im": expected at least one image, got none.'],
    [() => summary.textValue('t', [1 as never]), 'text "t": expected a string or a list of strings, got number.'],
  ])('%#', (f, expected) => {
    expect(message(f)).toBe(expected);
  });

  test('SummaryWriter arguments', () => {
    const w = new kiln.utils.tensorboard.SummaryWriter('logs', { sink: new summary.MemoryLogs({ opfs: false }) });
    expect(message(() => w.addScalar('x', kiln.tensor([1, 2]), 0))).toBe('addScalar "x": expected a number or a one-element tensor, got shape [2].');
    expect(message(() => w.addScalar('x', 1, 1.5))).toBe('addScalar: expected globalStep to be a non-negative integer, got 1.5.');
    expect(message(() => w.addScalar('x', 'a' as never))).toBe('addScalar "x": expected a Tensor, a number or nested number arrays, got string.');
    expect(message(() => w.addImage('im', kiln.zeros([2, 2, 2])))).toBe('addImage "im": expected 1, 3 or 4 channels, got 2.');
    expect(message(() => w.addImage('im', kiln.zeros([2, 2]), 0, undefined, 'NCHW'))).toBe(`addImage "im": expected dataformats 'CHW', 'HWC' or 'HW', got "NCHW".`);
    expect(message(() => w.addHparams({ lr: [1] as never }, { acc: 1 }))).toBe('addHparams: hparam "lr" must be a number, string or boolean, got object.');
    expect(message(() => w.addGraph({} as never))).toBe('addGraph: expected a kiln.nn.Module or a Keras-style model, got object.');
  });

  test('kiln.summary without a step', () => {
    const fw = summary.createFileWriter('logs/x', { sink: new summary.MemoryLogs({ opfs: false }) });
    expect(message(() => fw.asDefault(() => summary.scalar('loss', 1)))).toBe('summary.scalar "loss": no step; pass { step } or call kiln.summary.setStep(step) first.');
    expect(fw.asDefault(() => summary.scalar('loss', 1), 4)).toBe(true);
    expect(summary.scalar('loss', 1, { step: 1 })).toBe(false); // the default writer was restored (none)
  });
});

describe('in memory (the browser default)', () => {
  test('a fit logs to a MemoryLogs store that zips the log folder', async () => {
    const sink = new summary.MemoryLogs({ opfs: false });
    const { x, y } = blobs(24, 2);
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 3, name: 'out' })] });
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const seen: string[] = [];
    const stop = sink.watch((p) => seen.push(p));
    const history = await model.fit(x, y, { epochs: 3, batchSize: 8, validationSplit: 0.25, callbacks: [kiln.callbacks.tensorBoard({ logDir: 'logs/fit', sink, histogramFreq: 2, updateFreq: 2, profileBatch: [2, 3] })] });
    stop();
    expect(sink.paths().map((p) => p.replace(/tfevents\..*$/, 'tfevents').replace(/profile\/[\d_]+\//, 'profile/<time>/'))).toEqual(['logs/fit/train/events.out.tfevents', 'logs/fit/validation/events.out.tfevents', 'logs/fit/plugins/profile/<time>/browser.trace.json.gz']);
    const trace = JSON.parse(new TextDecoder().decode(gunzipSync(sink.read(sink.paths()[2]!)))) as { traceEvents: { name: string; args: { batch: number }; dur: number }[] };
    expect(trace.traceEvents.map((e) => [e.name, e.args.batch])).toEqual([['train_step', 2], ['train_step', 3]]);
    expect(trace.traceEvents.every((e) => e.dur > 0)).toBe(true);
    expect(seen.length).toBeGreaterThan(2);
    const train = summary.readEventFile(sink.read(sink.paths()[0]!));
    expect(train.damage).toBeUndefined();
    const byTag = (tag: string) => train.events.flatMap((e) => (e.summary ?? []).filter((v) => v.tag === tag).map((v) => [e.step, v.tensor!.values[0]]));
    expect(byTag('epoch_loss')).toEqual(history.history.loss!.map((l, i) => [i, Math.fround(l)]));
    expect(byTag('batch_loss').map(([s]) => s)).toEqual([2, 4, 6, 8]); // 3 batches an epoch, every 2nd of the 9
    expect(train.events.flatMap((e) => (e.summary ?? []).filter((v) => v.pluginName === 'histograms').map((v) => `${e.step} ${v.tag}`))).toEqual(['0 out/kernel/histogram', '0 out/bias/histogram', '2 out/kernel/histogram', '2 out/bias/histogram']);
    const zip = unzipSync(sink.zip('logs/fit/train'));
    expect(Object.keys(zip)).toEqual([sink.paths()[0]]);
    expect(Object.keys(unzipSync(sink.zip('logs')))).toEqual(sink.paths());
    expect(zip[sink.paths()[0]!]).toEqual(sink.read(sink.paths()[0]!));
  });
});

describe('weight images as Keras lays them out', () => {
  test('vector as a column, a tall matrix transposed, 3-d kernels one image per output channel (at most 3), 4-d only with 1, 3 or 4 channels', () => {
    const v = weightImages([3], Float32Array.from([0, 1, 2]))!;
    expect(v.map((i) => [i.height, i.width, Array.from(i.data)])).toEqual([[3, 1, [0, 128, 255]]]);
    const m = weightImages([3, 2], Float32Array.from([0, 1, 2, 3, 4, 5]))!; // [[0,1],[2,3],[4,5]] → 2×3
    expect(m.map((i) => [i.height, i.width, Array.from(i.data)])).toEqual([[2, 3, [0, 102, 204, 51, 153, 255]]]);
    const k = weightImages([2, 1, 2, 4], Float32Array.from({ length: 16 }, (_, i) => i))!; // squeezed to [2,2,4]: 4 slices, 3 kept
    expect(k.map((i) => [i.height, i.width, Array.from(i.data)])).toEqual([[2, 2, [0, 68, 136, 204]], [2, 2, [17, 85, 153, 221]], [2, 2, [34, 102, 170, 238]]]);
    expect(weightImages([2, 2, 2, 5], new Float32Array(40))).toBeUndefined();
  });
});

test('profileBatch writes the timed steps as a gzipped Chrome trace', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-prof-'));
  const path = await writeProfileTrace(dir, [{ name: 'train_step', batch: 2, startMs: 10, endMs: 12.5 }]);
  expect(path).toMatch(new RegExp(`^${dir}/plugins/profile/\\d{4}_\\d\\d_\\d\\d_\\d\\d_\\d\\d_\\d\\d/[^/]+\\.trace\\.json\\.gz$`));
  const trace = JSON.parse(new TextDecoder().decode(gunzipSync(readFileSync(path))));
  expect(trace.traceEvents).toEqual([{ name: 'train_step', ph: 'X', ts: 10000, dur: 2500, pid: process.pid, tid: 1, args: { batch: 2 } }]);
});

test('the reader migrates older values as TensorBoard does: simple_value, histo, image', async () => {
  const { ProtoWriter } = await import('../../src/summary/proto.js');
  const histo = new ProtoWriter().double(1, -1).double(2, 5).double(3, 6);
  histo.bytes(6, new Uint8Array(new Float64Array([0, 2, 1e300]).buffer)).bytes(7, new Uint8Array(new Float64Array([1, 2, 3]).buffer));
  const image = new ProtoWriter().varint(1, 7).varint(2, 9).bytes(4, ascii('png'));
  const values = [
    new ProtoWriter().string(1, 'old_scalar').float(2, 0.25).finish(),
    new ProtoWriter().string(1, 'old_histo').message(5, histo.finish()).finish(),
    new ProtoWriter().string(1, 'old_image').message(4, image.finish()).finish(),
  ];
  const s = new ProtoWriter();
  for (const v of values) s.message(1, v);
  const event = new ProtoWriter().double(1, 1).varint(2, 3).message(5, s.finish()).finish();
  const [e] = summary.readEventFile(summary.frameRecord(event)).events;
  const [scalar, hist, im] = e!.summary!;
  expect([scalar!.pluginName, scalar!.tensor!.values]).toEqual(['scalars', [0.25]]);
  expect([hist!.pluginName, hist!.tensor!.shape, hist!.tensor!.values]).toEqual(['histograms', [3, 3], [-1, 0, 1, 0, 2, 2, 2, 5, 3]]);
  expect([im!.pluginName, im!.tensor!.strings.map((b) => new TextDecoder().decode(b))]).toEqual(['images', ['9', '7', 'png']]);
});

test('tracePredict tells which nodes each layer call made, merge layers included', () => {
  const a = kiln.input({ shape: [4] }), b = kiln.input({ shape: [2] });
  const h = kiln.layers.concatenate({ name: 'join' }).apply([kiln.layers.dense({ units: 3, name: 'da' }).apply(a), kiln.layers.dense({ units: 3, name: 'db' }).apply(b)]);
  const m = kiln.model({ inputs: [a, b], outputs: kiln.layers.dense({ units: 1, name: 'out' }).apply(h) });
  const calls: [string, number, number][] = [];
  const g = m.tracePredict((name, first, end) => calls.push([name, first, end]));
  expect(calls.map((c) => c[0])).toEqual(['da', 'db', 'join', 'out']);
  const opsOf = (name: string) => { const [, first, end] = calls.find((c) => c[0] === name)!; return g.nodes.slice(first, end).map((n) => n.op); };
  expect(opsOf('da')).toContain('matmul');
  expect(opsOf('join')).toContain('concat');
  expect(opsOf('out')).toContain('matmul');
  const scopes = summary.scopeRecorder();
  m.tracePredict(scopes.watch);
  const matmuls = g.nodes.filter((n) => n.op === 'matmul').map((n) => scopes.scopeOf(n.id));
  expect(matmuls).toEqual(['da', 'db', 'out']);
  expect(m.layers.filter((l) => Object.prototype.hasOwnProperty.call(l, 'call') || Object.prototype.hasOwnProperty.call(l, 'callMany'))).toEqual([]); // nothing left patched
});

test('the reader takes typed *_val lists (packed or not) and a negative int64 step', async () => {
  const { ProtoWriter } = await import('../../src/summary/proto.js');
  const shape = new ProtoWriter().message(2, new ProtoWriter().varint(1, 2).finish()).finish();
  const packed = new ProtoWriter().varint(1, 1).message(2, shape).bytes(5, new Uint8Array(new Float32Array([1.5, -2]).buffer)).finish();
  const loose = new ProtoWriter().varint(1, 3).message(2, shape).varint(7, 4).varint(7, -5).finish();
  const value = (tag: string, t: Uint8Array) => new ProtoWriter().string(1, tag).message(8, t).finish();
  const event = new ProtoWriter().double(1, 2).varint(2, -3).message(5, new ProtoWriter().message(1, value('f', packed)).message(1, value('i', loose)).finish()).finish();
  const [e] = summary.readEventFile(summary.frameRecord(event)).events;
  expect(e!.step).toBe(-3);
  expect(e!.summary!.map((v) => [v.tag, v.tensor!.shape, v.tensor!.values])).toEqual([['f', [2], [1.5, -2]], ['i', [2], [4, -5]]]);
});
