/**
 * Masks, returnState and initial states of kiln.layers.simpleRNN / lstm / gru /
 * bidirectional against PyTorch run on each row's real steps alone
 * (scripts/keras_rnn_masked_reference.py → test/fixtures/torch/keras-rnn-masked.json):
 * outputs, final states and gradients (input, weights, initial states), with
 * the mask given explicitly, from a masking layer and from an embedding with
 * maskZero; the masked 1-D global poolings; mergeMode null; save/load of the
 * call records; and every bad input.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

interface Enc { shape: number[]; data: number[] }
interface Case {
  kind: 'SimpleRNN' | 'LSTM' | 'GRU'; bidirectional: boolean; returnSequences: boolean; units: number;
  x: Enc; mask: Enc; weights: Record<string, Enc>; outputs: Enc[]; r: Enc[]; grads: Record<string, Enc>; inputGrad: Enc; loss: number;
  initialState?: Enc[]; initialStateGrads?: Enc[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/keras-rnn-masked.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };
const t = (e: Enc) => kiln.tensor(Float32Array.from(e.data), e.shape);
const worst = (got: ArrayLike<number>, want: readonly number[]) => Math.max(...want.map((w, i) => Math.abs(got[i]! - w) / (1e-3 + Math.abs(w))));
const factories = { SimpleRNN: kiln.layers.simpleRNN, LSTM: kiln.layers.lstm, GRU: kiln.layers.gru };

function make(c: Case, extra: Record<string, unknown> = {}): kiln.layers.Layer {
  const inner = factories[c.kind]({ units: c.units, returnSequences: c.returnSequences, returnState: true, ...extra });
  return c.bidirectional ? kiln.layers.bidirectional({ layer: inner as kiln.layers.RecurrentLayer }) : inner;
}

const isKiln = (f: () => unknown, message: RegExp) => {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(kiln.KilnError);
  expect((err as Error).message).toMatch(message);
};

/** The fixture's x with every masked step's features set to `value`. */
function padded(c: Case, value: number): kiln.Tensor {
  const [n, steps, f] = c.x.shape as [number, number, number];
  return kiln.tensor(Float32Array.from(c.x.data, (v, i) => (c.mask.data[Math.floor(i / f) % (n * steps)] ? v : value)), c.x.shape);
}

describe('masked recurrent layers against torch on the unpadded rows', () => {
  for (const [name, c] of Object.entries(fixture.cases)) {
    const [, steps, features] = c.x.shape as [number, number, number];
    const states = c.initialState?.length ?? 0;

    test(`${name}: a functional model with the mask (and initial states) as inputs predicts torch's output and final states`, () => {
      const x = kiln.input({ shape: [steps, features] });
      const mask = kiln.input({ shape: [steps] });
      const init = Array.from({ length: states }, () => kiln.input({ shape: [c.units] }));
      const layer = make(c);
      const outputs = layer.applyAll(x, { mask, ...(states ? { initialState: init } : {}) });
      expect(outputs.map((o) => [null, ...o.shape])).toEqual(c.outputs.map((o) => [null, ...o.shape.slice(1)]));
      const model = kiln.model({ inputs: [x, mask, ...init], outputs });
      const names = layer.weights([steps, features]).map((w) => w.name);
      expect(names).toEqual(Object.keys(c.weights));
      model.setWeights(names.map((n) => t(c.weights[n]!)));
      const got = model.predict([t(c.x), t(c.mask), ...(c.initialState ?? []).map(t)]) as kiln.Tensor[];
      got.forEach((g, i) => {
        expect(g.shape, `output ${i}`).toEqual(c.outputs[i]!.shape);
        expect(worst(g.dataSync(), c.outputs[i]!.data), `output ${i}`).toBeLessThan(1e-4);
      });
    });

    test(`${name}: gradients for the input, every weight${states ? ' and the initial states' : ''} are torch's`, () => {
      const layer = make(c);
      const names = layer.weights([steps, features]).map((w) => w.name);
      const mask = t(c.mask);
      const f = (x: kiln.Tensor, ...rest: kiln.Tensor[]) => {
        const w = Object.fromEntries(names.map((n, i) => [n, rest[i]!]));
        const outs = layer.callOutputs(x, w, { training: false, mask, ...(states ? { initialState: rest.slice(names.length) } : {}) });
        return outs.map((o, i) => kiln.sum(kiln.mul(o, t(c.r[i]!)))).reduce((a, b) => kiln.add(a, b));
      };
      const args = [t(c.x), ...names.map((n) => t(c.weights[n]!)), ...(c.initialState ?? []).map(t)];
      const { value, grad } = kiln.valueAndGrad(f, args.map((_, i) => i))(...args);
      expect(Math.abs(value.dataSync()[0]! - c.loss)).toBeLessThan(1e-4 * (1 + Math.abs(c.loss)));
      expect(worst(grad[0]!.dataSync(), c.inputGrad.data), 'd x').toBeLessThan(1e-4);
      names.forEach((n, i) => expect(worst(grad[i + 1]!.dataSync(), c.grads[n]!.data), `d ${n}`).toBeLessThan(1e-4));
      (c.initialStateGrads ?? []).forEach((g, i) => expect(worst(grad[1 + names.length + i]!.dataSync(), g.data), `d state ${i}`).toBeLessThan(1e-4));
    });

    if (!states) {
      test(`${name}: a masking layer over the padded input gives the same outputs (compiled, Sequential when one output)`, () => {
        const x = kiln.input({ shape: [steps, features] });
        const layer = make(c);
        const masked = kiln.layers.masking({ maskValue: -7 }).apply(x);
        const model = kiln.model({ inputs: x, outputs: layer.applyAll(masked) });
        model.setWeights(layer.weights([steps, features]).map((w) => t(c.weights[w.name]!)));
        const got = model.predict(padded(c, -7)) as kiln.Tensor[];
        got.forEach((g, i) => expect(worst(g.dataSync(), c.outputs[i]!.data), `output ${i}`).toBeLessThan(1e-4));
        // without returnState, in a Sequential model
        const plain = make(c, { returnState: false });
        const seq = kiln.sequential({ layers: [kiln.layers.masking({ maskValue: -7, inputShape: [steps, features] }), plain] });
        seq.setWeights(plain.weights([steps, features]).map((w) => t(c.weights[w.name]!)));
        expect(worst((seq.predict(padded(c, -7)) as kiln.Tensor).dataSync(), c.outputs[0]!.data)).toBeLessThan(1e-4);
      });
    }
  }
});

describe('embedding maskZero: a padded batch gives what the unpadded sequences give', () => {
  const ids = [[3, 5, 2, 7, 0, 0], [4, 4, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6]];
  const lengths = [4, 2, 6];
  for (const kind of ['lstm', 'gru', 'simpleRNN'] as const) {
    test(`${kind}: Sequential embedding(maskZero) → ${kind} → dense, row by row against the same model on the real ids alone`, () => {
      const build = (steps: number) => kiln.sequential({ layers: [
        kiln.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true, inputShape: [steps], name: 'emb' }),
        kiln.layers[kind]({ units: 5, name: 'rnn', returnSequences: true }),
        // both pass the mask on
        kind === 'lstm' ? kiln.layers.timeDistributed({ layer: kiln.layers.dense({ units: 2 }), name: 'out' }) : kiln.layers.dense({ units: 2, name: 'out' }),
        kiln.layers.globalAveragePooling1d({ name: 'pool' }), // the mean over the real steps
      ] });
      const model = build(6);
      const weights = model.getWeights();
      const out = (model.predict(kiln.tensor(Int32Array.from(ids.flat()), [3, 6], 'int32')) as kiln.Tensor).dataSync();
      ids.forEach((row, b) => {
        const short = build(lengths[b]!);
        short.setWeights(weights);
        const want = (short.predict(kiln.tensor(Int32Array.from(row.slice(0, lengths[b])), [1, lengths[b]!], 'int32')) as kiln.Tensor).dataSync();
        expect(worst(out.slice(b * 2, b * 2 + 2), Array.from(want)), `row ${b}`).toBeLessThan(1e-5);
      });
    });
  }

  test('a subclassed model passes the embedding\'s mask to the bidirectional layer as Keras does (no mask argument)', () => {
    class Net extends kiln.Model {
      emb = kiln.layers.embedding({ inputDim: 8, outputDim: 3, maskZero: true });
      rnn = kiln.layers.bidirectional({ layer: kiln.layers.gru({ units: 4 }) });
      call(x: kiln.Tensor) { return this.rnn.apply(this.emb.apply(x)); }
    }
    const net = new Net();
    const padded = kiln.tensor(Int32Array.from([3, 5, 2, 0, 0, 0]), [1, 6], 'int32');
    const out = (net.predict(padded) as kiln.Tensor).dataSync();
    const short = new Net();
    short.build([3], 'int32');
    short.setWeights(net.getWeights());
    const want = (short.predict(kiln.tensor(Int32Array.from([3, 5, 2]), [1, 3], 'int32')) as kiln.Tensor).dataSync();
    expect(worst(out, Array.from(want))).toBeLessThan(1e-5);
    // and without maskZero the padding changes the answer
    const unmasked = new Net();
    unmasked.emb = kiln.layers.embedding({ inputDim: 8, outputDim: 3 });
    unmasked.build([6], 'int32');
    unmasked.setWeights(net.getWeights());
    expect(worst((unmasked.predict(padded) as kiln.Tensor).dataSync(), Array.from(want))).toBeGreaterThan(1e-3);
  });
});

describe('masked global pooling over steps', () => {
  const x = kiln.tensor([[[1, -2], [3, 4], [5, 6]], [[-1, -5], [9, 9], [2, 0]]], [2, 3, 2]);
  const mask = kiln.tensor([[1, 1, 0], [0, 0, 0]], [2, 3]);
  test('globalAveragePooling1d: the mean over the real steps; a row with none gives 0', () => {
    const layer = kiln.layers.globalAveragePooling1d();
    expect(Array.from(layer.call(x, {}, { training: false, mask }).dataSync())).toEqual([2, 1, 0, 0]);
    expect(Array.from(layer.call(x, {}, { training: false }).dataSync())).toEqual([3, 8 / 3, 10 / 3, 4 / 3].map(Math.fround));
  });
  test('globalMaxPooling1d: the maximum over the real steps; a row with none gives 0', () => {
    const layer = kiln.layers.globalMaxPooling1d();
    expect(Array.from(layer.call(x, {}, { training: false, mask: kiln.ne(mask, 0) }).dataSync())).toEqual([3, 4, 0, 0]);
    expect(Array.from(layer.call(x, {}, { training: false }).dataSync())).toEqual([5, 6, 9, 9]);
  });
  test('a masking layer marks the steps whose features all equal maskValue and zeroes them', () => {
    const layer = kiln.layers.masking({ maskValue: 9 });
    expect(Array.from(layer.call(x, {}, { training: false }).dataSync())).toEqual([1, -2, 3, 4, 5, 6, -1, -5, 0, 0, 2, 0]);
    expect(Array.from(layer.computeMask(x).dataSync())).toEqual([1, 1, 1, 1, 0, 1]);
  });
});

describe('returnState, initial states and mergeMode null in the functional API', () => {
  test('an encoder LSTM\'s states start a decoder LSTM; the model trains, saves and loads with the call records', async () => {
    const enc = kiln.input({ shape: [5, 2], name: 'enc' });
    const dec = kiln.input({ shape: [4, 3], name: 'dec' });
    const [, h, c] = kiln.layers.lstm({ units: 6, returnState: true }).applyAll(enc);
    const seq = kiln.layers.lstm({ units: 6, returnSequences: true }).apply(dec, { initialState: [h!, c!] }) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: [enc, dec], outputs: kiln.layers.dense({ units: 1 }).apply(seq) as kiln.SymbolicTensor });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.02 }), loss: 'meanSquaredError' });
    const xe = kiln.randomNormal([32, 5, 2], { seed: 1 });
    const xd = kiln.randomNormal([32, 4, 3], { seed: 2 });
    // the target needs the encoder: the decoder's every step must output the encoder's first input feature at step 0
    const v = xe.dataSync();
    const y = kiln.tensor(Float32Array.from({ length: 32 * 4 }, (_, i) => v[Math.floor(i / 4) * 10]!), [32, 4, 1]);
    const hist = await model.fit([xe, xd], y, { epochs: 60, batchSize: 16, verbose: 0 });
    expect(hist.history.loss!.at(-1)!).toBeLessThan(hist.history.loss![0]! / 4);
    const config = model.toConfig().config as { nodes: { layer: string; initialState?: number; output?: number }[] };
    expect(config.nodes.filter((n) => n.output !== undefined).map((n) => n.output)).toEqual([1, 2]); // h and c of the encoder (its output is unused)
    expect(config.nodes.find((n) => n.initialState)?.initialState).toBe(2);
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-rnn-state-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    expect(Array.from((again.predict([xe, xd]) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict([xe, xd]) as kiln.Tensor).dataSync()));
  });

  test('an explicit mask input saves and loads; a masking layer\'s and an embedding\'s maskZero configs round-trip', async () => {
    const ids = kiln.input({ shape: [6], dtype: 'int32' });
    const mask = kiln.input({ shape: [6] });
    const e = kiln.layers.embedding({ inputDim: 9, outputDim: 4, maskZero: true }).apply(ids);
    const [out, hf, hb] = kiln.layers.bidirectional({ layer: kiln.layers.gru({ units: 3, returnSequences: true, returnState: true }), mergeMode: 'sum' }).applyAll(e, { mask });
    const pooled = kiln.layers.globalMaxPooling1d().apply(out!);
    const model = kiln.model({ inputs: [ids, mask], outputs: [pooled, hf!, hb!] });
    const xs = [kiln.tensor(Int32Array.from([1, 2, 3, 0, 0, 0, 4, 5, 6, 7, 8, 1]), [2, 6], 'int32'), kiln.tensor([[1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]], [2, 6])];
    const before = (model.predict(xs) as kiln.Tensor[]).map((o) => Array.from(o.dataSync()));
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-rnn-mask-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path) as unknown as kiln.Functional;
    expect((again.layers[2] as kiln.layers.Embedding).maskZero).toBe(true);
    expect((again.predict(xs) as kiln.Tensor[]).map((o) => Array.from(o.dataSync()))).toEqual(before);
    // the explicit mask wins over the embedding's: row 0 reads 2 steps, not 3
    const shorter = (model.predict([xs[0]!, kiln.tensor([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1]], [2, 6])]) as kiln.Tensor[])[1]!.dataSync();
    expect(Array.from(shorter.slice(0, 3))).not.toEqual(before[1]!.slice(0, 3));
    expect(Array.from(shorter.slice(3))).toEqual(before[1]!.slice(3));

    const seq = kiln.sequential({ layers: [kiln.layers.masking({ maskValue: -1, inputShape: [4, 2] }), kiln.layers.simpleRNN({ units: 2 })] });
    const p2 = join(mkdtempSync(join(tmpdir(), 'kiln-rnn-mask-')), 'm.kiln');
    await seq.save(p2);
    const seq2 = await kiln.loadModel(p2) as unknown as kiln.Sequential;
    expect((seq2.layers[0] as kiln.layers.Masking).maskValue).toBe(-1);
  });

  test('mergeMode null gives the two directions\' outputs, which concat lays side by side', () => {
    const c = fixture.cases['bidirectional-LSTM-masked-sequences']!;
    const w = Object.fromEntries(Object.entries(c.weights).map(([k, v]) => [k, t(v)]));
    const both = kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: c.units, returnSequences: true }), mergeMode: null });
    expect(both.outputCount).toBe(2);
    expect(both.computeOutputShapes([6, 3])).toEqual([[6, 4], [6, 4]]);
    const [fw, bw] = both.callOutputs(t(c.x), w, { training: false, mask: t(c.mask) });
    const u = c.units;
    expect(worst(fw!.dataSync(), c.outputs[0]!.data.filter((_, i) => i % (2 * u) < u))).toBeLessThan(1e-4);
    expect(worst(bw!.dataSync(), c.outputs[0]!.data.filter((_, i) => i % (2 * u) >= u))).toBeLessThan(1e-4);
    const x = kiln.input({ shape: [6, 3] });
    const outs = kiln.layers.bidirectional({ layer: kiln.layers.gru({ units: 2, returnState: true }), mergeMode: null }).applyAll(x);
    expect(outs.map((o) => o.shape)).toEqual([[2], [2], [2], [2]]); // forward, backward, forward h, backward h
  });

  test('returnState from a layer applied to a Tensor inside a kiln.Model\'s call', () => {
    class Net extends kiln.Model {
      rnn = kiln.layers.lstm({ units: 3, returnState: true });
      call(x: kiln.Tensor) { const [, h, c] = this.rnn.applyAll(x); return kiln.concat([h!, c!], -1); }
    }
    const out = new Net().predict(kiln.randomNormal([2, 4, 5], { seed: 3 })) as kiln.Tensor;
    expect(out.shape).toEqual([2, 6]);
  });

  test('returnState on a concrete Tensor outside a model: [output, h, c], the output being h', () => {
    const [output, h, c] = kiln.layers.lstm({ units: 3, returnState: true }).applyAll(kiln.randomNormal([2, 4, 5], { seed: 4 }));
    expect([output!.shape, h!.shape, c!.shape]).toEqual([[2, 3], [2, 3], [2, 3]]);
    expect(Array.from(output!.dataSync())).toEqual(Array.from(h!.dataSync()));
    expect(Array.from(c!.dataSync())).not.toEqual(Array.from(h!.dataSync()));
  });
});

describe('bad masks, initial states and call options are KilnErrors naming the layer', () => {
  test('masks of the wrong shape or dtype', () => {
    const x = kiln.input({ shape: [5, 3] });
    isKiln(() => kiln.layers.lstm({ units: 2 }).apply(x, { mask: kiln.input({ shape: [4] }) }), /LSTM "[^"]+": expected a mask \[null,5\] \(the input \[null,5,3\] without its last axis\), got \[null,4\]/);
    isKiln(() => kiln.layers.gru({ units: 2 }).apply(x, { mask: kiln.input({ shape: [5, 3] }) }), /GRU "[^"]+": expected a mask \[null,5\]/);
    const layer = kiln.layers.simpleRNN({ units: 2 });
    const w = Object.fromEntries(layer.weights([5, 3]).map((s) => [s.name, kiln.zeros([...s.shape])]));
    isKiln(() => layer.call(kiln.zeros([2, 5, 3]), w, { training: false, mask: kiln.ones([2, 4]) }), /SimpleRNN "[^"]+": expected a mask \[2,5\] \(bool, or 0\/1 numbers: one per step of the input f32\[2,5,3\]\), got f32\[2,4\]/);
    isKiln(() => kiln.layers.globalAveragePooling1d().call(kiln.zeros([2, 5, 3]), {}, { training: false, mask: kiln.ones([5]) }), /GlobalAveragePooling1D "[^"]+": expected a mask \[2,5\]/);
    isKiln(() => kiln.layers.lstm({ units: 2 }).apply(x, { mask: 'yes' as never }), /LSTM "[^"]+": expected the mask to be a SymbolicTensor like the inputs, got string/);
    isKiln(() => kiln.layers.concatenate().apply([x, x], { mask: kiln.input({ shape: [5] }) }), /Concatenate "[^"]+": expected no mask or attentionMask \(this layer reads no masks; the attention layers do\)/);
  });

  test('initial states of the wrong number or shape, or given to a layer that takes none', () => {
    const x = kiln.input({ shape: [5, 3] });
    const h = kiln.input({ shape: [4] });
    isKiln(() => kiln.layers.lstm({ units: 4 }).apply(x, { initialState: [h] }), /LSTM "[^"]+": expected initialState to be 2 tensors \[null,4\] \(h, c\), got 1/);
    isKiln(() => kiln.layers.gru({ units: 2 }).apply(x, { initialState: [h] }), /GRU "[^"]+": expected initialState to be 1 tensor \[null,2\], got 1 \(state 0 is \[null,4\]\)/);
    isKiln(() => kiln.layers.bidirectional({ layer: kiln.layers.gru({ units: 4 }) }).apply(x, { initialState: [h] }), /Bidirectional "[^"]+": expected initialState to be 2 tensors \(the forward layer's 1, then the backward layer's\), got 1/);
    isKiln(() => kiln.layers.dense({ units: 4 }).apply(x, { initialState: [h] }), /Dense "[^"]+": expected no initialState: only the recurrent layers/);
    isKiln(() => kiln.layers.lstm({ units: 4 }).apply(x, { initialState: h as never }), /expected initialState to be a non-empty list of SymbolicTensors/);
    const layer = kiln.layers.lstm({ units: 2 });
    const w = Object.fromEntries(layer.weights([5, 3]).map((s) => [s.name, kiln.zeros([...s.shape])]));
    isKiln(() => layer.call(kiln.zeros([2, 5, 3]), w, { training: false, initialState: [kiln.zeros([2, 2]), kiln.zeros([3, 2])] }), /LSTM "[^"]+": expected initialState to be 2 float32 tensors \[2,2\] \(h, c\), got 2 \(state 1 is f32\[3,2\]\)/);
  });

  test('unknown call options, options on a concrete tensor, several outputs in a Sequential, bad maskZero and maskValue', () => {
    const x = kiln.input({ shape: [5, 3] });
    isKiln(() => kiln.layers.lstm({ units: 2 }).apply(x, { masks: x } as never), /LSTM "[^"]+"\.apply: unknown option 'masks'; expected one of mask, initialState/);
    isKiln(() => kiln.layers.lstm({ units: 2 }).apply(kiln.zeros([1, 5, 3]), { mask: kiln.ones([1, 5]) }), /LSTM "[^"]+": apply with a mask, attentionMask or initialState runs inside a model/);
    isKiln(() => kiln.sequential({ layers: [kiln.layers.lstm({ units: 2, returnState: true, inputShape: [5, 3] })] }).predict(kiln.zeros([1, 5, 3])), /Sequential "[^"]+": LSTM "[^"]+" gives 3 outputs \(returnState, or mergeMode null\)/);
    isKiln(() => kiln.layers.embedding({ inputDim: 3, outputDim: 2, maskZero: 1 as never }), /Embedding "[^"]+": expected maskZero to be a boolean, got 1/);
    isKiln(() => kiln.layers.masking({ maskValue: 'x' as never }), /Masking "[^"]+": expected maskValue to be a number, got "x"/);
    isKiln(() => kiln.layers.masking().apply(kiln.input({ shape: [5] })), /Masking "[^"]+": expected an input of rank 3 \[batch, steps, features\]/);
    isKiln(() => kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: 2 }), mergeMode: 'max' as never }), /expected mergeMode to be one of 'concat', 'sum', 'mul', 'ave', null, got "max"/);
  });
});

describe('goBackwards with a mask', () => {
  /** Steps of a [n, steps, …] array reversed. */
  const flip = (e: Enc): kiln.Tensor => {
    const [n, steps] = e.shape as [number, number];
    const inner = e.data.length / (n * steps);
    const out = new Float32Array(e.data.length);
    for (let b = 0; b < n; b++) for (let s = 0; s < steps; s++) for (let k = 0; k < inner; k++) out[(b * steps + s) * inner + k] = e.data[(b * steps + steps - 1 - s) * inner + k]!;
    return kiln.tensor(out, e.shape);
  };
  for (const kind of ['SimpleRNN', 'LSTM', 'GRU'] as const) {
    test(`${kind}: reading backwards with a mask is reading the flipped input with the flipped mask (states and outputs)`, () => {
      const c = fixture.cases[`${kind}-masked-sequences`]!;
      const w = Object.fromEntries(Object.entries(c.weights).map(([k, v]) => [k, t(v)]));
      const back = factories[kind]({ units: c.units, returnSequences: true, returnState: true, goBackwards: true }).callOutputs(t(c.x), w, { training: false, mask: t(c.mask) });
      const forward = factories[kind]({ units: c.units, returnSequences: true, returnState: true }).callOutputs(flip(c.x), w, { training: false, mask: flip(c.mask) });
      back.forEach((b, i) => expect(Array.from(b.dataSync()), `output ${i}`).toEqual(Array.from(forward[i]!.dataSync())));
      // and the masked steps really are skipped: the hole's row differs from the unmasked run
      const unmasked = factories[kind]({ units: c.units, returnSequences: true, returnState: true, goBackwards: true }).callOutputs(t(c.x), w, { training: false });
      expect(Array.from(unmasked[1]!.dataSync().slice(0, c.units))).toEqual(Array.from(back[1]!.dataSync().slice(0, c.units))); // row 0 has no padding
      expect(Array.from(unmasked[1]!.dataSync().slice(3 * c.units))).not.toEqual(Array.from(back[1]!.dataSync().slice(3 * c.units)));
    });
  }
});
