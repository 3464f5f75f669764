/**
 * kiln board's reading side: LogDir finds every run below a folder, reads what
 * SummaryWriter wrote value by value (scalars, histograms, images, text, hparams,
 * graph), follows appended records incrementally, reports truncated and damaged
 * files by name without losing what came before; the server's API and its errors (missing folder,
 * port in use).
 */
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { KilnError } from '../../compiler/errors.js';
import * as kiln from '../../src/index.js';
import { sampleIndices, scalarsBuffer } from '../../src/board/api.js';
import { LogDir } from '../../src/board/logDir.js';
import { startBoard } from '../../src/board/server.js';
import { main } from '../../src/cli.js';
import { encodeEvent, frameRecord, scalarValue, type SummaryValueSpec } from '../../src/summary/index.js';

const root = mkdtempSync(join(tmpdir(), 'kiln-board-'));
const eventFile = (dir: string) => join(dir, readdirSync(dir).find((f) => f.includes('tfevents'))!);
const record = (step: number, values: SummaryValueSpec[], wallTime = 1000 + step) => frameRecord(encodeEvent({ wallTime, step, summary: values }));
const scalarsOf = (logs: LogDir, run: string, tag: string) => {
  const s = logs.runs.get(run)!.scalars.get(tag)!;
  return { steps: Array.from(s.steps.subarray(0, s.length)), values: Array.from(s.values.subarray(0, s.length)) };
};

async function writeAll(dir: string) {
  const w = new kiln.utils.tensorboard.SummaryWriter(dir);
  for (let step = 0; step < 5; step++) w.addScalar('loss', 1 / (step + 1), step);
  w.addScalar('odd', NaN, 5);
  w.addHistogram('weights', [0, 1, 1, 2, 3, 3, 3, 4], 2);
  w.addImage('digit', [[[0, 0.1, 0.2, 0.3], [0.4, 0.5, 0.6, 0.7], [0.8, 0.9, 1, 1]]], 3); // CHW: 1 channel, 3×4
  w.addText('notes', '**lr** 0.1', 1);
  w.addGraph(kiln.sequential({ name: 'm', layers: [kiln.layers.dense({ units: 2, inputShape: [3], name: 'dense_a' })] }));
  w.addHparams({ lr: 0.1, optimizer: 'adam' }, { 'hparam/accuracy': 0.75 }, { runName: 'trial' });
  await w.close();
}

describe('LogDir', () => {
  test('reads every run and plugin SummaryWriter writes, value by value', async () => {
    const dir = join(root, 'all');
    await writeAll(join(dir, 'exp1'));
    const logs = new LogDir(dir);
    expect(await logs.refresh()).toBe(true);
    expect([...logs.runs.keys()].sort()).toEqual(['exp1', 'exp1/trial']);
    const run = logs.runs.get('exp1')!;
    expect(scalarsOf(logs, 'exp1', 'loss')).toEqual({ steps: [0, 1, 2, 3, 4], values: [1, 0.5, 1 / 3, 0.25, 0.2].map(Math.fround) });
    expect(scalarsOf(logs, 'exp1', 'odd').values).toEqual([NaN]);
    const h = run.histograms.get('weights')!;
    expect(h.map((p) => p.step)).toEqual([2]);
    const counts = Array.from(h[0]!.buckets).filter((_, i) => i % 3 === 2);
    expect(counts.reduce((a, b) => a + b)).toBe(8);
    expect(h[0]!.buckets[0]).toBe(0);
    expect(h[0]!.buckets[h[0]!.buckets.length - 2]).toBe(4);
    const image = run.images.get('digit')![0]!;
    expect([image.step, image.width, image.height, image.images.length]).toEqual([3, 4, 3, 1]);
    expect(Array.from(image.images[0]!.subarray(1, 4), (c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect([...run.text.keys()]).toEqual(['notes/text_summary']); // PyTorch's tag
    expect(run.text.get('notes/text_summary')![0]!.strings).toEqual(['**lr** 0.1']);
    expect(run.graph!.map((n) => n.name)).toContain('dense_a/matmul');
    expect(run.graph!.find((n) => n.name === 'dense_a/matmul')!.shape).toBe('[?,2]');
    const trial = logs.runs.get('exp1/trial')!;
    expect(trial.hparams.sessionStart!.hparams).toEqual({ lr: 0.1, optimizer: 'adam' });
    expect(trial.hparams.experiment!.metrics).toEqual([{ group: '', tag: 'hparam/accuracy' }]);
    expect(scalarsOf(logs, 'exp1/trial', 'hparam/accuracy').values).toEqual([0.75]);
    expect(logs.problems()).toEqual([]);
    expect(await logs.refresh()).toBe(false); // nothing new
  });

  test('follows appended records, and a record cut in half waits for its end', async () => {
    const dir = join(root, 'live', 'run');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'events.out.tfevents.1.host');
    writeFileSync(file, Buffer.concat([frameRecord(encodeEvent({ wallTime: 1, fileVersion: 'brain.Event:2' })), record(0, [scalarValue('loss', 3)])]));
    const logs = new LogDir(join(root, 'live'));
    await logs.refresh();
    expect(scalarsOf(logs, 'run', 'loss').values).toEqual([3]);
    const next = record(1, [scalarValue('loss', 2)]);
    appendFileSync(file, next.subarray(0, 10));
    expect(await logs.refresh()).toBe(false);
    expect(logs.problems()).toEqual([{ file: 'run/events.out.tfevents.1.host', kind: 'incomplete', message: `ends inside a record: 10 bytes after byte ${readFileSync(file).length - 10} are not a whole record yet (still being written, or cut off)` }]);
    appendFileSync(file, Buffer.concat([next.subarray(10), record(2, [scalarValue('loss', 1)])]));
    expect(await logs.refresh()).toBe(true);
    expect(scalarsOf(logs, 'run', 'loss')).toEqual({ steps: [0, 1, 2], values: [3, 2, 1] });
    expect(logs.problems()).toEqual([]);
  });

  test('a damaged file keeps what was read before the damage and is named; other runs read on', async () => {
    const dir = join(root, 'damaged');
    mkdirSync(join(dir, 'bad'), { recursive: true });
    mkdirSync(join(dir, 'good'), { recursive: true });
    const records = [0, 1, 2, 3].map((s) => record(s, [scalarValue('loss', s)]));
    const bytes = Buffer.concat(records);
    const at = records[0]!.length + records[1]!.length + 14; // inside the third record's data
    bytes[at] ^= 0xff;
    writeFileSync(join(dir, 'bad', 'events.out.tfevents.1.x'), bytes);
    writeFileSync(join(dir, 'good', 'events.out.tfevents.1.x'), Buffer.concat(records));
    const logs = new LogDir(dir);
    await logs.refresh();
    expect(scalarsOf(logs, 'bad', 'loss').values).toEqual([0, 1]);
    expect(scalarsOf(logs, 'good', 'loss').values).toEqual([0, 1, 2, 3]);
    const offset = records[0]!.length + records[1]!.length;
    expect(logs.problems()).toEqual([{ file: 'bad/events.out.tfevents.1.x', kind: 'damaged', message: `bad data checksum at byte ${offset}; the ${offset} bytes before it were read` }]);
    if (process.getuid?.() !== 0) { // root reads anything
      writeFileSync(join(dir, 'good', 'events.out.tfevents.2.x'), records[0]!, { mode: 0o000 });
      await logs.refresh();
      expect(logs.problems().map((p) => [p.file, p.message])).toContainEqual(['good/events.out.tfevents.2.x', 'cannot be read (EACCES)']);
      rmSync(join(dir, 'good', 'events.out.tfevents.2.x'));
    }
    appendFileSync(join(dir, 'bad', 'events.out.tfevents.1.x'), record(9, [scalarValue('loss', 9)]));
    await logs.refresh(); // nothing after damage is read
    expect(scalarsOf(logs, 'bad', 'loss').values).toEqual([0, 1]);
  });

  test('scalars go to the page sampled evenly, first and last kept', () => {
    expect(Array.from(sampleIndices(5, 10))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(sampleIndices(10, 4))).toEqual([0, 3, 6, 9]);
  });
});

describe('the board server', () => {
  const boards: { close(): Promise<void> }[] = [];
  afterAll(async () => { for (const b of boards) await b.close(); });

  test('serves the index, scalar buffers, uPlot from its package and the page', async () => {
    const dir = join(root, 'served');
    await writeAll(join(dir, 'exp1'));
    const board = await startBoard({ logDir: dir, port: 0 });
    boards.push(board);
    const index = await (await fetch(`${board.url}api/index`)).json();
    expect(index.runs).toEqual(['exp1', 'exp1/trial']);
    expect(index.tags.scalars).toEqual({ loss: ['exp1'], odd: ['exp1'], 'hparam/accuracy': ['exp1/trial'] });
    expect(Object.keys(index.tags.histograms)).toEqual(['weights']);
    expect(index.graphs).toEqual(['exp1']);
    const buffer = new Uint8Array(await (await fetch(`${board.url}api/scalars?tag=loss`)).arrayBuffer());
    expect(buffer).toEqual(scalarsBuffer(board.logs, 'loss', 2000));
    const headerLength = new DataView(buffer.buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(buffer.subarray(4, 4 + headerLength)));
    expect(header).toEqual({ runs: [{ run: 'exp1', length: 5, total: 5 }] });
    const floats = new Float64Array(buffer.buffer.slice(Math.ceil((4 + headerLength) / 8) * 8));
    expect(Array.from(floats.subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(floats.subarray(10, 15))).toEqual([1, 0.5, 1 / 3, 0.25, 0.2].map(Math.fround));
    const hp = await (await fetch(`${board.url}api/hparams`)).json();
    expect(hp.sessions).toEqual([{ run: 'exp1/trial', hparams: { lr: 0.1, optimizer: 'adam' }, status: 1, metrics: { 'hparam/accuracy': 0.75 } }]);
    const uplot = await fetch(`${board.url}uplot.js`);
    expect(uplot.status).toBe(200);
    expect(await uplot.text()).toContain('uPlot');
    expect(await (await fetch(board.url)).text()).toContain('<script src="board.js">');
    const graph = await (await fetch(`${board.url}api/graph?run=exp1`)).json();
    expect(graph.nodes.map((n: { id: string }) => n.id)).toContain('dense_a');
    const png = await fetch(`${board.url}api/image?run=exp1&tag=digit&index=0`);
    expect(png.headers.get('content-type')).toBe('image/png');
  });

  test('a port in use, a missing folder and a file given as the folder are named errors', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startBoard({ logDir: root, port })).rejects.toThrow(new KilnError(`kiln board: port ${port} on 127.0.0.1 is already in use; pass --port with another port (or --port 0 for any free one).`));
    } finally {
      blocker.close();
    }
    await expect(startBoard({ logDir: join(root, 'nope'), port: 0 })).rejects.toThrow(new KilnError(`kiln board: log folder ${join(root, 'nope')} does not exist (pass --logdir with the folder a tensorBoard callback or SummaryWriter writes to).`));
    const file = eventFile(join(root, 'served', 'exp1'));
    await expect(startBoard({ logDir: file, port: 0 })).rejects.toThrow(`kiln board: --logdir ${file} is a file, expected a folder.`);
    await expect(startBoard({ logDir: root, port: 70000 })).rejects.toThrow('kiln board: --port expects an integer from 0 to 65535, got 70000.');
    await expect(main(['board'])).rejects.toThrow('kiln board: expected --logdir <folder>; see kiln board --help.');
    await expect(main(['board', '--logdir', root, '--port', 'x'])).rejects.toThrow('kiln board: --port expects an integer from 0 to 65535, got x.');
    await expect(main(['board', '--logdir', join(root, 'nope'), '--port', '0'])).rejects.toThrow(`kiln board: log folder ${join(root, 'nope')} does not exist`);
  });
});
