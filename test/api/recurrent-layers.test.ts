/**
 * kiln.layers.simpleRNN / lstm / gru / bidirectional against PyTorch
 * (scripts/keras_rnn_reference.py → test/fixtures/torch/keras-rnn.json): torch's
 * nn.RNN / LSTM / GRU weights in Keras 3's layout give torch's outputs (compiled
 * predict through a model) and gradients (input and every weight) with
 * returnSequences true and false; goBackwards, the merge modes, training,
 * save/load and bad options.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

interface Enc { shape: number[]; data: number[] }
interface Case {
  kind: 'SimpleRNN' | 'LSTM' | 'GRU'; returnSequences: boolean; bidirectional: boolean; resetAfter?: boolean; units: number;
  x: Enc; r: Enc; weights: Record<string, Enc>; output: Enc; grads: Record<string, Enc>; inputGrad: Enc;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/keras-rnn.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };
const t = (e: Enc) => kiln.tensor(Float32Array.from(e.data), e.shape);
const worst = (got: ArrayLike<number>, want: readonly number[]) => Math.max(...want.map((w, i) => Math.abs(got[i]! - w) / (1e-3 + Math.abs(w))));
const factories = { SimpleRNN: kiln.layers.simpleRNN, LSTM: kiln.layers.lstm, GRU: kiln.layers.gru };

function make(c: Case, extra: Record<string, unknown> = {}): kiln.layers.Layer {
  const inner = factories[c.kind]({ units: c.units, returnSequences: c.returnSequences, ...(c.resetAfter === false ? { resetAfter: false } : {}), ...extra });
  return c.bidirectional ? kiln.layers.bidirectional({ layer: inner as kiln.layers.RecurrentLayer }) : inner;
}

describe('Keras recurrent layers against torch', () => {
  for (const [name, c] of Object.entries(fixture.cases)) {
    const [, steps, features] = c.x.shape as [number, number, number];

    test(`${name}: a model with torch's weights predicts torch's output (compiled)`, () => {
      const layer = make(c);
      const model = kiln.sequential({ layers: [kiln.layers.dense({ units: features, inputShape: [steps, features], useBias: false, trainable: false }), layer] });
      const names = layer.weights([steps, features]).map((w) => w.name);
      expect(names).toEqual(Object.keys(c.weights));
      expect(model.getWeights().slice(1).map((w) => w.shape)).toEqual(names.map((n) => c.weights[n]!.shape));
      const identity = kiln.tensor(Float32Array.from({ length: features * features }, (_, i) => (i % (features + 1) === 0 ? 1 : 0)), [features, features]);
      model.setWeights([identity, ...names.map((n) => t(c.weights[n]!))]);
      const out = model.predict(t(c.x)) as kiln.Tensor;
      expect(out.shape).toEqual(c.output.shape);
      expect(worst(out.dataSync(), c.output.data)).toBeLessThan(1e-4);
    });

    test(`${name}: gradients of sum(output · r) for the input and every weight are torch's`, () => {
      const layer = make(c);
      const names = layer.weights([steps, features]).map((w) => w.name);
      const f = (x: kiln.Tensor, ...ws: kiln.Tensor[]) => kiln.sum(kiln.mul(layer.call(x, Object.fromEntries(names.map((n, i) => [n, ws[i]!])), { training: false }), t(c.r)));
      const args = [t(c.x), ...names.map((n) => t(c.weights[n]!))];
      const { value, grad } = kiln.valueAndGrad(f, args.map((_, i) => i))(...args);
      const want = c.output.data.reduce((s, v, i) => s + v * c.r.data[i]!, 0);
      expect(Math.abs(value.dataSync()[0]! - want)).toBeLessThan(1e-4 * (1 + Math.abs(want)));
      expect(worst(grad[0]!.dataSync(), c.inputGrad.data), 'd x').toBeLessThan(1e-4);
      names.forEach((n, i) => expect(worst(grad[i + 1]!.dataSync(), c.grads[n]!.data), `d ${n}`).toBeLessThan(1e-4));
    });
  }
});

/** x reversed along the steps axis. */
function flip(x: Enc): kiln.Tensor {
  const [n, steps, f] = x.shape as [number, number, number];
  const out = new Float32Array(x.data.length);
  for (let b = 0; b < n; b++) for (let s = 0; s < steps; s++) for (let k = 0; k < f; k++) out[(b * steps + s) * f + k] = x.data[(b * steps + (steps - 1 - s)) * f + k]!;
  return kiln.tensor(out, x.shape);
}

describe('goBackwards and the merge modes', () => {
  for (const kind of ['SimpleRNN', 'LSTM', 'GRU'] as const) {
    test(`${kind}: goBackwards reads the steps last to first and returns them in that order, as Keras`, () => {
      const c = fixture.cases[`${kind}-sequences`]!;
      const w = Object.fromEntries(Object.entries(c.weights).map(([k, v]) => [k, t(v)]));
      const back = factories[kind]({ units: c.units, returnSequences: true, goBackwards: true }).call(t(c.x), w, { training: false });
      const forwardOnFlipped = factories[kind]({ units: c.units, returnSequences: true }).call(flip(c.x), w, { training: false });
      expect(Array.from(back.dataSync())).toEqual(Array.from(forwardOnFlipped.dataSync()));
      const last = factories[kind]({ units: c.units, goBackwards: true }).call(t(c.x), w, { training: false });
      const seq = forwardOnFlipped.dataSync();
      const [n, steps, units] = forwardOnFlipped.shape as [number, number, number];
      expect(Array.from(last.dataSync())).toEqual(Array.from({ length: n * units }, (_, i) => seq[(Math.floor(i / units) * steps + steps - 1) * units + (i % units)]!));
    });
  }

  test("'sum', 'mul' and 'ave' combine the two directions that 'concat' lays side by side", () => {
    const c = fixture.cases['bidirectional-GRU-sequences']!;
    const w = Object.fromEntries(Object.entries(c.weights).map(([k, v]) => [k, t(v)]));
    const u = c.units;
    const both = c.output.data;
    const fw = both.filter((_, i) => i % (2 * u) < u);
    const bw = both.filter((_, i) => i % (2 * u) >= u);
    const combine = { sum: (a: number, b: number) => a + b, mul: (a: number, b: number) => a * b, ave: (a: number, b: number) => (a + b) / 2 };
    for (const mode of ['sum', 'mul', 'ave'] as const) {
      const layer = kiln.layers.bidirectional({ layer: kiln.layers.gru({ units: u, returnSequences: true }), mergeMode: mode });
      expect(layer.computeOutputShape([5, 3])).toEqual([5, u]);
      const out = layer.call(t(c.x), w, { training: false });
      expect(out.shape).toEqual([2, 5, u]);
      expect(worst(out.dataSync(), fw.map((a, i) => combine[mode](a, bw[i]!))), mode).toBeLessThan(1e-4);
    }
  });
});

describe('dropout and recurrentDropout', () => {
  const eye = (n: number) => kiln.tensor(Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)), [n, n]);

  test('dropout: one mask of input features per sequence, the same at every step, scaled by 1 / (1 − rate); none at inference', () => {
    // linear SimpleRNN, kernel I, recurrent kernel 0: output[t] = x[t] · mask
    const layer = kiln.layers.simpleRNN({ units: 6, activation: 'linear', returnSequences: true, dropout: 0.5, seed: 9 });
    expect(layer.weights([4, 6]).map((s) => s.name)).toEqual(['kernel', 'recurrent_kernel', 'bias', 'step']);
    const w = { kernel: eye(6), recurrent_kernel: kiln.zeros([6, 6]), bias: kiln.zeros([6]), step: kiln.scalar(3) };
    const out = layer.call(kiln.ones([5, 4, 6]), w, { training: true }).dataSync();
    const values = new Set(Array.from(out));
    expect(values).toEqual(new Set([0, 2]));
    for (let b = 0; b < 5; b++) for (let t = 1; t < 4; t++) for (let f = 0; f < 6; f++) expect(out[(b * 4 + t) * 6 + f]).toBe(out[b * 24 + f]);
    expect(new Set(Array.from(layer.call(kiln.ones([5, 4, 6]), w, { training: false }).dataSync()))).toEqual(new Set([1]));
    const other = layer.call(kiln.ones([5, 4, 6]), { ...w, step: kiln.scalar(4) }, { training: true }).dataSync();
    expect(Array.from(other)).not.toEqual(Array.from(out)); // another training step, other masks
  });

  test('recurrentDropout: one mask of state units per sequence in the recurrent matmul', () => {
    // linear SimpleRNN, recurrent kernel I, input 1 at step 0 then 0: h_t = h_{t-1} · mask, so 2^t or 0
    const layer = kiln.layers.simpleRNN({ units: 8, activation: 'linear', returnSequences: true, recurrentDropout: 0.5, seed: 2 });
    const x = kiln.tensor(Float32Array.from({ length: 3 * 4 * 8 }, (_, i) => (Math.floor(i / 8) % 4 === 0 ? 1 : 0)), [3, 4, 8]);
    const out = layer.call(x, { kernel: eye(8), recurrent_kernel: eye(8), bias: kiln.zeros([8]), step: kiln.scalar(0) }, { training: true }).dataSync();
    let kept = 0;
    for (let b = 0; b < 3; b++) for (let u = 0; u < 8; u++) {
      const on = out[(b * 4 + 1) * 8 + u] === 2;
      kept += on ? 1 : 0;
      expect([0, 1, 2, 3].map((t) => out[(b * 4 + t) * 8 + u])).toEqual(on ? [1, 2, 4, 8] : [1, 0, 0, 0]);
    }
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(24);
  });
});

describe('defaults, training, save/load and bad options', () => {
  test("Keras's defaults: glorot kernel, orthogonal recurrent kernel, LSTM forget bias 1, GRU reset-after bias [2, 3·units]", () => {
    const lstm = kiln.layers.lstm({ units: 3 });
    const specs = lstm.weights([7, 2]);
    expect(specs.map((s) => [s.name, s.shape])).toEqual([['kernel', [2, 12]], ['recurrent_kernel', [3, 12]], ['bias', [12]]]);
    expect(Array.from(specs[2]!.initializer.init([12], 1))).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(specs[0]!.initializer.className).toBe('GlorotUniform');
    const q = specs[1]!.initializer.init([3, 12], 5); // orthogonal: the rows are orthonormal
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      let dot = 0;
      for (let k = 0; k < 12; k++) dot += q[a * 12 + k]! * q[b * 12 + k]!;
      expect(dot).toBeCloseTo(a === b ? 1 : 0, 4);
    }
    expect(lstm.activation).toBe('tanh');
    expect(lstm.recurrentActivation).toBe('sigmoid');
    expect(kiln.layers.gru({ units: 3 }).weights([7, 2]).map((s) => s.shape)).toEqual([[2, 9], [3, 9], [2, 9]]);
    expect(kiln.layers.gru({ units: 3, resetAfter: false }).weights([7, 2]).map((s) => s.shape)).toEqual([[2, 9], [3, 9], [9]]);
    expect(kiln.layers.simpleRNN({ units: 3, useBias: false }).weights([7, 2]).map((s) => s.name)).toEqual(['kernel', 'recurrent_kernel']);
    expect(kiln.layers.bidirectional({ layer: kiln.layers.simpleRNN({ units: 3 }) }).weights([7, 2]).map((s) => s.name))
      .toEqual(['forward/kernel', 'forward/recurrent_kernel', 'forward/bias', 'backward/kernel', 'backward/recurrent_kernel', 'backward/bias']);
  });

  test('a bidirectional LSTM → GRU model learns a sequence task, and saves and loads', async () => {
    const x = kiln.input({ shape: [8, 2] });
    const seq = kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: 6, returnSequences: true, dropout: 0.1, recurrentDropout: 0.1 }), mergeMode: 'concat' }).apply(x) as kiln.SymbolicTensor;
    const last = kiln.layers.gru({ units: 5, resetAfter: false }).apply(seq) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: x, outputs: kiln.layers.dense({ units: 2 }).apply(last) as kiln.SymbolicTensor });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.03 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    // the label: is the first step's first feature larger than the last step's? (needs memory across the sequence)
    const xs = kiln.randomNormal([96, 8, 2], { seed: 4 });
    const v = xs.dataSync();
    const ys = kiln.tensor(Array.from({ length: 96 }, (_, b) => (v[b * 16]! > v[b * 16 + 14]! ? 1 : 0)), [96], 'int32');
    const h = await model.fit(xs, ys, { epochs: 40, batchSize: 16, verbose: 0 });
    expect(h.history.loss!.at(-1)!).toBeLessThan(h.history.loss![0]! / 2);
    const logits = (model.predict(xs) as kiln.Tensor).dataSync(); // at inference: no dropout
    const labels = ys.dataSync();
    const right = Array.from({ length: 96 }, (_, b) => ((logits[2 * b + 1]! > logits[2 * b]! ? 1 : 0) === labels[b] ? 1 : 0) as number).reduce((a, c) => a + c, 0);
    expect(right / 96).toBeGreaterThan(0.9);
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-rnn-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    expect((again as unknown as kiln.Functional).layers.map((l) => l.className)).toEqual(model.layers.map((l) => l.className));
    expect(Array.from((again.predict(xs) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict(xs) as kiln.Tensor).dataSync()));
  });

  test('embedding → gru → dense learns whether a token occurs in an int32 sequence', async () => {
    const model = kiln.sequential({ layers: [
      kiln.layers.embedding({ inputDim: 12, outputDim: 6, inputShape: [10] }),
      kiln.layers.bidirectional({ layer: kiln.layers.gru({ units: 8 }), mergeMode: 'ave' }),
      kiln.layers.dense({ units: 2 }),
    ] });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.03 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    let state = 7;
    const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 16) % 12;
    const tokens = Array.from({ length: 128 * 10 }, rand);
    const labels = Array.from({ length: 128 }, (_, b) => (tokens.slice(b * 10, b * 10 + 10).includes(3) ? 1 : 0));
    const xs = kiln.tensor(Int32Array.from(tokens), [128, 10], 'int32');
    const h = await model.fit(xs, kiln.tensor(labels, [128], 'int32'), { epochs: 30, batchSize: 32, verbose: 0 });
    expect(h.history.accuracy!.at(-1)!).toBeGreaterThan(0.95);
  });

  test('a sequential simpleRNN with goBackwards, a regularizer and a constraint trains and round-trips its config', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.simpleRNN({ units: 4, goBackwards: true, returnSequences: true, activation: 'relu', inputShape: [5, 3], recurrentConstraint: 'nonNeg', kernelRegularizer: 'l2' }), kiln.layers.dense({ units: 1 })] });
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }), loss: 'meanSquaredError' });
    await model.fit(kiln.randomNormal([8, 5, 3], { seed: 5 }), kiln.randomNormal([8, 5, 1], { seed: 6 }), { epochs: 2, verbose: 0 });
    expect(Math.min(...model.getWeights()[1]!.dataSync())).toBeGreaterThanOrEqual(0); // recurrent_kernel after the constraint
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-rnn-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    const rnn = (again as unknown as kiln.Sequential).layers[0] as kiln.layers.SimpleRNN;
    expect([rnn.goBackwards, rnn.returnSequences, rnn.activation, rnn.units]).toEqual([true, true, 'relu', 4]);
    expect([rnn.penalties.kernel.regularizer?.className, rnn.penalties.recurrent.constraint?.className, rnn.penalties.bias.regularizer]).toEqual(['L2', 'NonNeg', undefined]);
    const xs = kiln.randomNormal([3, 5, 3], { seed: 2 });
    expect(Array.from((again.predict(xs) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict(xs) as kiln.Tensor).dataSync()));
  });

  test('a bidirectional layer takes its inputShape from the wrapped layer and saves and loads as the first layer of a sequential', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: 3, inputShape: [5, 2] }), mergeMode: 'mul' }), kiln.layers.dense({ units: 1 })] });
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-rnn-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    const bi = (again as unknown as kiln.Sequential).layers[0] as kiln.layers.Bidirectional;
    expect([bi.mergeMode, bi.forwardLayer.className, bi.backwardLayer.goBackwards, bi.inputShape]).toEqual(['mul', 'LSTM', true, [5, 2]]);
    const xs = kiln.randomNormal([3, 5, 2], { seed: 8 });
    expect(Array.from((again.predict(xs) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict(xs) as kiln.Tensor).dataSync()));
  });

  test('bad options and inputs are KilnErrors naming the layer', () => {
    const isKiln = (f: () => unknown, message: RegExp) => {
      let err: unknown;
      try { f(); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(kiln.KilnError);
      expect((err as Error).message).toMatch(message);
    };
    isKiln(() => kiln.layers.lstm({ units: 0 }), /LSTM "[^"]+": expected units to be a positive integer, got 0/);
    isKiln(() => kiln.layers.gru({ units: 4, activation: 'nope' as never }), /GRU "[^"]+": unknown activation 'nope'/);
    isKiln(() => kiln.layers.simpleRNN({ units: 4, returnState: 'yes' as never }), /SimpleRNN "[^"]+": expected returnState to be a boolean, got "yes"/);
    isKiln(() => kiln.layers.lstm({ units: 4, goBackwards: 'yes' as never }), /expected goBackwards to be a boolean, got "yes"/);
    isKiln(() => kiln.layers.lstm({ units: 4, recurrentDropout: 1.5 }), /LSTM "[^"]+": expected recurrentDropout in \[0, 1\), got 1\.5/);
    isKiln(() => kiln.layers.gru({ units: 4, stateful: 'yes' as never }), /GRU "[^"]+": expected stateful to be a boolean, got "yes"/);
    isKiln(() => kiln.layers.gru({ units: 4, stateful: true }).weights([5, 3]), /GRU "[^"]+": stateful needs a fixed batch size .*kiln\.input\(\{ shape, batchSize \}\)/);
    isKiln(() => kiln.layers.gru({ units: 4, batchSize: 0 }), /GRU "[^"]+": expected batchSize to be a positive integer, got 0/);
    isKiln(() => kiln.layers.gru({ units: 4, batchInputShape: [2, 5, 3], inputShape: [5, 3] }), /expected inputShape or batchInputShape, got both/);
    expect(kiln.layers.gru({ units: 4, stateful: true, batchInputShape: [2, 5, 3] }).getConfig()).toMatchObject({ stateful: true, batchInputShape: [2, 5, 3] });
    expect(kiln.layers.gru({ units: 4, stateful: false }).getConfig()).toMatchObject({ stateful: false, returnState: false });
    isKiln(() => kiln.layers.bidirectional({ layer: kiln.layers.dense({ units: 2 }) as never }), /Bidirectional "[^"]+": expected layer to be a simpleRNN, lstm or gru layer, got Dense/);
    isKiln(() => kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: 2 }), mergeMode: 'max' as never }), /expected mergeMode to be one of 'concat', 'sum', 'mul', 'ave', null, got "max"/);
    isKiln(() => kiln.layers.lstm({ units: 4 }).apply(kiln.input({ shape: [5] })), /LSTM "[^"]+": expected an input of rank 3 \[batch, steps, features\]/);
    const layer = kiln.layers.gru({ units: 2 });
    const w = Object.fromEntries(layer.weights([4, 3]).map((s) => [s.name, kiln.zeros([...s.shape])]));
    isKiln(() => layer.call(kiln.zeros([2, 4, 5]), w, { training: false }), /GRU "[^"]+": expected a float32 input \[batch, steps, 3\], got/);
  });
});
