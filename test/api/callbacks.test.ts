/** kiln.callbacks and the fit loop features they need: hooks, stopping, learning rates, CSV, progress, initialEpoch, stepsPerEpoch, classWeight. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import * as kiln from '../../src/index.js';
import { blobs } from '../util/blobs.js';

const { x, y } = blobs(30, 1);
const val = blobs(12, 2);

// one model compiled once for the whole file (compiling is the slow part): each test resets its weights and learning rate
const model = kiln.sequential({ layers: [
  kiln.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
  kiln.layers.dense({ units: 3 }),
] });
model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
const initial = model.getWeights();
const weights = () => model.getWeights().map((w) => Array.from(w.dataSync()));
const sameWeights = (a: number[][], b: number[][]) => a.every((w, i) => w.every((v, k) => v === b[i]![k]));

beforeAll(async () => { await model.evaluate(x, y); }); // builds the module once
beforeEach(() => {
  model.setWeights(initial);
  model.optimizer!.learningRate = 0.1;
});

/** A callback (ahead of the one under test) that puts `values[epoch]` in the logs as `score`. */
const score = (values: number[]) => ({ onEpochEnd: (epoch: number, logs: kiln.callbacks.Logs) => { logs.score = values[epoch]!; } });

describe('fit hooks', () => {
  test('are called in Keras’ order, with the model, the params and running batch logs', async () => {
    const calls: string[] = [];
    const batchLogs: kiln.callbacks.Logs[] = [];
    let params: kiln.callbacks.TrainingParams | undefined;
    let seen: unknown;
    const cb = new (class extends kiln.callbacks.Callback {
      override setModel(m: kiln.Sequential) { seen = m; }
      override setParams(p: kiln.callbacks.TrainingParams) { params = p; }
      override onTrainBegin() { calls.push('trainBegin'); }
      override onTrainEnd(logs: kiln.callbacks.Logs) { calls.push(`trainEnd ${Object.keys(logs).join(',')}`); }
      override onEpochBegin(e: number) { calls.push(`epochBegin ${e}`); }
      override onEpochEnd(e: number) { calls.push(`epochEnd ${e}`); }
      override onBatchBegin(b: number) { calls.push(`batchBegin ${b}`); }
      override onBatchEnd(b: number, logs: kiln.callbacks.Logs) { calls.push(`batchEnd ${b}`); batchLogs.push(logs); }
    })();
    const history = await model.fit(x, y, { epochs: 2, batchSize: 10, verbose: 0, validationData: [val.x, val.y], callbacks: [cb] });
    expect(seen).toBe(model);
    expect(params).toEqual({ epochs: 2, initialEpoch: 0, steps: 3, batchSize: 10, samples: 30, verbose: 0 });
    const epoch = (e: number) => [`epochBegin ${e}`, 'batchBegin 0', 'batchEnd 0', 'batchBegin 1', 'batchEnd 1', 'batchBegin 2', 'batchEnd 2', `epochEnd ${e}`];
    expect(calls).toEqual(['trainBegin', ...epoch(0), ...epoch(1), 'trainEnd loss,accuracy,val_loss,val_accuracy']);
    expect(Object.keys(batchLogs[0]!)).toEqual(['loss', 'accuracy']);
    // the last batch's running means are the epoch's values
    expect(batchLogs[2]!.loss).toBeCloseTo(history.history.loss![0]!, 6);
    expect(batchLogs[5]!.accuracy).toBeCloseTo(history.history.accuracy![1]!, 6);
  });

  test('initialEpoch and stepsPerEpoch set which epochs run and how many batches each has', async () => {
    const batches: number[] = [];
    const epochs: number[] = [];
    const history = await model.fit(x, y, { epochs: 5, initialEpoch: 2, stepsPerEpoch: 4, batchSize: 10, verbose: 0, callbacks: {
      onBatchEnd: (b) => { batches.push(b); },
      onEpochBegin: (e) => { epochs.push(e); },
    } });
    expect(history.epoch).toEqual([2, 3, 4]);
    expect(epochs).toEqual([2, 3, 4]);
    expect(batches).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]); // 4 batches of 10 cycle through the 30 examples
    expect((await model.fit(x, y, { epochs: 2, initialEpoch: 2, verbose: 0 })).epoch).toEqual([]);
    await expect(model.fit(x, y, { stepsPerEpoch: 0, verbose: 0 })).rejects.toThrow('fit: expected stepsPerEpoch to be a positive integer, got 0.');
  });
});

describe('earlyStopping', () => {
  test('stops after patience epochs without improvement', async () => {
    model.optimizer!.learningRate = 0; // the loss cannot improve
    const stop = kiln.callbacks.earlyStopping({ monitor: 'loss', patience: 2 });
    const history = await model.fit(x, y, { epochs: 10, batchSize: 30, verbose: 0, callbacks: [stop] });
    expect(history.epoch).toEqual([0, 1, 2]); // best at 0, then 2 epochs without improvement
    expect(stop.stoppedEpoch).toBe(2);
  });

  test('restoreBestWeights puts back the best epoch’s weights', async () => {
    const atEnd: number[][][] = [];
    const stop = kiln.callbacks.earlyStopping({ monitor: 'score', patience: 2, restoreBestWeights: true });
    const history = await model.fit(x, y, { epochs: 10, batchSize: 10, verbose: 0, callbacks: [
      score([3, 1, 2, 2, 2, 2]), { onEpochEnd: () => { atEnd.push(weights()); } }, stop,
    ] });
    expect(history.epoch).toEqual([0, 1, 2, 3]);
    expect(stop.bestEpoch).toBe(1);
    expect(sameWeights(weights(), atEnd[1]!)).toBe(true);
    expect(sameWeights(weights(), atEnd[3]!)).toBe(false);
  });

  test('a baseline not beaten stops training; mode auto maximizes accuracies', async () => {
    const history = await model.fit(x, y, { epochs: 10, batchSize: 30, verbose: 0, callbacks: [score([5, 4, 3, 2, 1]), kiln.callbacks.earlyStopping({ monitor: 'score', patience: 1, baseline: 0.5 })] });
    expect(history.epoch).toEqual([0, 1]); // improving, but never below the baseline
    const accuracy = { onEpochEnd: (e: number, logs: kiln.callbacks.Logs) => { logs.score_acc = [0.5, 0.4, 0.3][e]!; } };
    const acc = await model.fit(x, y, { epochs: 3, batchSize: 30, verbose: 0, callbacks: [accuracy, kiln.callbacks.earlyStopping({ monitor: 'score_acc', patience: 1 })] });
    expect(acc.epoch).toEqual([0, 1]); // 0.4 after 0.5 is worse: max mode
  });
});

describe('learning rate callbacks', () => {
  test('reduceLROnPlateau lowers the optimizer’s learning rate, down to minLr', async () => {
    const history = await model.fit(x, y, { epochs: 4, batchSize: 30, verbose: 0, callbacks: [score([5, 5, 5, 5]), kiln.callbacks.reduceLROnPlateau({ monitor: 'score', factor: 0.5, patience: 1, minLr: 0.03 })] });
    expect(history.history.learning_rate).toEqual([0.1, 0.1, 0.05, 0.03].map((v) => expect.closeTo(v, 7)));
    expect(model.optimizer!.learningRate).toBeCloseTo(0.03, 7);
    expect(() => kiln.callbacks.reduceLROnPlateau({ factor: 1 })).toThrow('reduceLROnPlateau: expected factor in [0, 1), got 1.');
  });

  test('reduceLROnPlateau waits out its cooldown', async () => {
    const history = await model.fit(x, y, { epochs: 5, batchSize: 30, verbose: 0, callbacks: [score([5, 5, 5, 5, 5]), kiln.callbacks.reduceLROnPlateau({ monitor: 'score', factor: 0.5, patience: 1, cooldown: 2 })] });
    expect(history.history.learning_rate).toEqual([0.1, 0.1, 0.05, 0.05, 0.025].map((v) => expect.closeTo(v, 7)));
    expect(model.optimizer!.learningRate).toBeCloseTo(0.025, 7);
  });

  test('learningRateScheduler sets the rate at each epoch, and training uses it', async () => {
    const asked: [number, number][] = [];
    const atEnd: number[][][] = [];
    const history = await model.fit(x, y, { epochs: 3, batchSize: 10, verbose: 0, callbacks: [
      kiln.callbacks.learningRateScheduler((epoch, lr) => { asked.push([epoch, lr]); return epoch === 1 ? 0 : lr / 2; }),
      { onEpochEnd: () => { atEnd.push(weights()); } },
    ] });
    expect(asked.map(([e, lr]) => [e, Number(lr.toFixed(6))])).toEqual([[0, 0.1], [1, 0.05], [2, 0]]);
    expect(history.history.learning_rate).toEqual([0.05, 0, 0]);
    expect(sameWeights(atEnd[0]!, initial.map((w) => Array.from(w.dataSync())))).toBe(false);
    expect(sameWeights(atEnd[1]!, atEnd[0]!)).toBe(true); // learning rate 0: nothing moved
  });
});

describe('terminateOnNaN', () => {
  // a huge learning rate: the first step's update overflows the next batch's loss
  test('without it, fit throws on a NaN loss; with it, training stops cleanly and keeps the last good weights', async () => {
    model.optimizer!.learningRate = 1e37;
    await expect(model.fit(x, y, { epochs: 3, batchSize: 10, shuffle: false, verbose: 0 })).rejects.toThrow(/^fit: the loss or its gradients became non-finite at batch 1; that step was not applied/);
    const afterThrow = weights();
    model.setWeights(initial);
    await model.trainOnBatch(kiln.slice(x, [0, 0], [10, -1]), kiln.slice(y, [0], [10])); // the one good step
    const good = weights();
    expect(afterThrow).toEqual(good); // the failed fit left the weights of its last good step
    model.setWeights(initial);
    const batches: number[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const history = await model.fit(x, y, { epochs: 3, batchSize: 10, shuffle: false, verbose: 0, validationData: [val.x, val.y], callbacks: [kiln.callbacks.terminateOnNaN(), { onBatchEnd: (b) => { batches.push(b); } }] });
      expect(history.epoch).toEqual([0]);
      expect(batches).toEqual([0, 1]);
      expect(Number.isFinite(history.history.loss![0]!)).toBe(false);
      expect(model.stopTraining).toBe(true);
      expect(log).toHaveBeenCalledWith('Batch 1: Invalid loss, terminating training');
      expect(weights()).toEqual(good);
    } finally {
      log.mockRestore();
    }
  });
});

describe('csvLogger', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'kiln-csv-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('writes a header and one row per epoch; append adds rows without a second header', async () => {
    const path = join(dir, 'log.csv');
    const history = await model.fit(x, y, { epochs: 2, batchSize: 10, verbose: 0, validationData: [val.x, val.y], callbacks: [kiln.callbacks.csvLogger({ path })] });
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('epoch,accuracy,loss,val_accuracy,val_loss');
    expect(lines.length).toBe(3);
    lines.slice(1).forEach((line, e) => {
      const [epoch, accuracy, loss, valAccuracy, valLoss] = line.split(',').map(Number);
      expect(epoch).toBe(e);
      expect(accuracy).toBe(history.history.accuracy![e]);
      expect(loss).toBe(history.history.loss![e]);
      expect(valAccuracy).toBe(history.history.val_accuracy![e]);
      expect(valLoss).toBe(history.history.val_loss![e]);
    });
    await model.fit(x, y, { epochs: 4, initialEpoch: 2, batchSize: 10, verbose: 0, validationData: [val.x, val.y], callbacks: [kiln.callbacks.csvLogger({ path, append: true })] });
    const appended = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(appended.length).toBe(5);
    expect(appended.slice(0, 3)).toEqual(lines);
    expect(appended.slice(3).map((l) => l.split(',')[0])).toEqual(['2', '3']);
    // a new logger without append replaces the file
    await model.fit(x, y, { epochs: 1, batchSize: 30, verbose: 0, callbacks: [kiln.callbacks.csvLogger({ path, separator: ';' })] });
    const replaced = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(replaced[0]).toBe('epoch;accuracy;loss');
    expect(replaced.length).toBe(2);
  });
});

describe('classWeight', () => {
  test('weights each example’s loss by its class: weight 0 drops a class from the loss and the update', async () => {
    // all 30 examples with class 0 weighted 0 = the 20 others alone, with the mean over 30 (so ×2/3)
    const h1 = await model.fit(x, y, { epochs: 1, batchSize: 30, shuffle: false, verbose: 0, classWeight: { 0: 0 } });
    const weighted = weights();
    model.setWeights(initial);
    const keep = Int32Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 3 !== 0);
    const xs = kiln.tensor(Float32Array.from(Array.from(keep).flatMap((i) => Array.from(x.dataSync().subarray(i * 4, i * 4 + 4)))), [20, 4]);
    const ys = kiln.tensor(Int32Array.from(keep, (i) => y.dataSync()[i]!), [20], 'int32');
    model.optimizer!.learningRate = 0.1 * (20 / 30);
    const h2 = await model.fit(xs, ys, { epochs: 1, batchSize: 20, verbose: 0 });
    expect(h1.history.loss![0]).toBeCloseTo(h2.history.loss![0]! * (20 / 30), 5);
    weights().forEach((w, i) => w.forEach((v, k) => expect(weighted[i]![k]).toBeCloseTo(v, 5)));
    // only class 0, weighted 0: the loss is 0 and nothing moves
    model.setWeights(initial);
    const zeros = kiln.tensor(Float32Array.from({ length: 40 }, (_, k) => x.dataSync()[Math.floor(k / 4) * 12 + (k % 4)]!), [10, 4]);
    const h3 = await model.fit(zeros, kiln.zeros([10], 'int32'), { epochs: 2, batchSize: 5, verbose: 0, classWeight: { 0: 0, 1: 2 } });
    expect(h3.history.loss).toEqual([0, 0]);
    expect(sameWeights(weights(), initial.map((w) => Array.from(w.dataSync())))).toBe(true);
    await expect(model.fit(x, y, { verbose: 0, classWeight: { 0: -1 } })).rejects.toThrow('fit: expected classWeight[0] to be a finite number >= 0, got -1.');
  });
});

describe('progress display', () => {
  const fitLines = async (isTTY: boolean, verbose: 1 | 2, columns = 200) => {
    let out = '';
    const stdout = process.stdout as { isTTY?: boolean; columns?: number };
    const [was, wasColumns] = [stdout.isTTY, stdout.columns];
    stdout.isTTY = isTTY;
    stdout.columns = isTTY ? columns : undefined;
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((t: string | Uint8Array) => { out += String(t); return true; });
    try {
      await model.fit(x, y, { epochs: 2, batchSize: 10, verbose, validationData: [val.x, val.y] });
    } finally {
      write.mockRestore();
      stdout.isTTY = was;
      stdout.columns = wasColumns;
    }
    return out;
  };
  const logs = String.raw` - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: \d\.\d{4} - val_accuracy: \d\.\d{4}`;

  test('without a terminal: one plain line per epoch, no carriage returns', async () => {
    const out = await fitLines(false, 1);
    expect(out).not.toContain('\r');
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBe(2);
    lines.forEach((l, e) => expect(l).toMatch(new RegExp(String.raw`^Epoch ${e + 1}/2 - 3/3 - \d+s \d+(us|ms|s)/step${logs}$`)));
    expect(await fitLines(true, 2)).not.toContain('\r'); // verbose 2: lines even on a terminal
  });

  test('on a terminal: Epoch i/n, then a bar redrawn in place, finished with the time and all logs', async () => {
    const out = await fitLines(true, 1);
    const epochs = out.split(/Epoch \d\/2\n/).slice(1);
    expect(epochs.length).toBe(2);
    for (const text of epochs) {
      const draws = text.split('\r').slice(1);
      expect(draws[draws.length - 1]).toMatch(new RegExp(String.raw`^\[={30}\] 3/3 - \d+s \d+(us|ms|s)/step${logs}\n$`));
      expect(draws[0]).toMatch(/^\[=========>\.{20}\] 1\/3 - ETA: \d+s - loss: \d\.\d{4} - accuracy: \d\.\d{4}$/);
    }
  });

  test('on a 60-column terminal every line of fit’s bar fits, and every log is printed', async () => {
    const out = await fitLines(true, 1, 60);
    for (const line of out.split(/[\r\n]/)) expect(line.length).toBeLessThanOrEqual(59);
    const epochs = out.split(/Epoch \d\/2\n/).slice(1);
    for (const text of epochs) {
      const final = text.split('\r').at(-1)!;
      for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy']) expect(final).toMatch(new RegExp(`(- |   )${k}: \\d\\.\\d{4}`));
    }
  });

  test('the bar’s format, with a fake clock', () => {
    let out = '';
    let now = 0;
    const bar = new kiln.callbacks.ProgbarLogger({ mode: 'bar', width: 10, interval: 0, write: (t) => { out += t; }, now: () => now });
    bar.setParams({ epochs: 5, initialEpoch: 0, steps: 125, batchSize: 8, samples: 1000, verbose: 1 });
    bar.onEpochBegin(0);
    now = 1000;
    bar.onBatchEnd(44, { loss: 0.51234, accuracy: 0.81 });
    now = 2500;
    for (let b = 45; b < 125; b++) bar.onBatchEnd(b, { loss: 0.5, accuracy: 0.8 });
    bar.onEpochEnd(0, { loss: 0.5, accuracy: 0.8, val_loss: 0.00001 });
    expect(out.startsWith('Epoch 1/5\n\r[==>.......]  45/125 - ETA: 2s - loss: 0.5123 - accuracy: 0.8100')).toBe(true);
    expect(out.endsWith('\r[==========] 125/125 - 3s 20ms/step - loss: 0.5000 - accuracy: 0.8000 - val_loss: 1.0000e-5\n')).toBe(true);
  });

  test('the bar fits the terminal: it narrows, a redraw cuts its logs with …, the epoch’s logs wrap onto indented lines', () => {
    let out = '';
    let now = 0;
    const bar = new kiln.callbacks.ProgbarLogger({ mode: 'bar', interval: 0, columns: 50, write: (t) => { out += t; }, now: () => now });
    bar.setParams({ epochs: 1, initialEpoch: 0, steps: 125, batchSize: 8, samples: 1000, verbose: 1 });
    bar.onEpochBegin(0);
    now = 1000;
    bar.onBatchEnd(44, { loss: 0.51234, accuracy: 0.81 });
    now = 2500;
    bar.onBatchEnd(124, { loss: 0.5, accuracy: 0.8 });
    bar.onEpochEnd(0, { loss: 0.5, accuracy: 0.8, val_loss: 0.25, val_accuracy: 0.9 });
    for (const line of out.split(/[\r\n]/)) expect(line.length).toBeLessThanOrEqual(50);
    expect(out).toBe([
      'Epoch 1/1\n',
      '\r[==>.......]  45/125 - ETA: 2s - loss: 0.5123 - a…',
      '\r[==========] 125/125 - ETA: 0s - loss: 0.5000 - a…',
      '\r[==========] 125/125 - 3s 20ms/step - loss: 0.5000',
      '\n   accuracy: 0.8000 - val_loss: 0.2500',
      '\n   val_accuracy: 0.9000\n',
    ].join(''));
  });

  test('plain lines to a stdout that is no terminal wrap at 120 columns, every log kept', () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((t) => { out += String(t); return true; });
    const lines = new kiln.callbacks.ProgbarLogger({ mode: 'lines', now: () => 0 });
    lines.setParams({ epochs: 1, initialEpoch: 0, steps: 4, batchSize: 8, samples: 32, verbose: 2 });
    lines.onEpochBegin(0);
    for (let b = 0; b < 4; b++) lines.onBatchEnd(b, {});
    const logs = Object.fromEntries(['loss', 'accuracy', 'precision', 'recall', 'auc'].flatMap((k) => [[k, 0.5], [`val_${k}`, 0.25]]));
    lines.onEpochEnd(0, logs);
    spy.mockRestore();
    const printed = out.split('\n').filter((l) => l);
    for (const line of printed) expect(line.length).toBeLessThanOrEqual(120);
    expect(printed.length).toBe(2);
    for (const k of Object.keys(logs)) expect(out).toMatch(new RegExp(`(- |   )${k}: `));
  });
});
