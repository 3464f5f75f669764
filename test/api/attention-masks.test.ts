/**
 * Keras's masks in multiHeadAttention and attention, against PyTorch
 * (scripts/attention_reference.py → test/fixtures/torch/attention.json, the
 * padded cases: torch.nn.MultiheadAttention with key_padding_mask, and Keras's
 * Attention written out in torch): masks given to apply, propagated from a
 * masking layer or an embedding with maskZero; a padded batch gives what the
 * unpadded sequences give; the query's mask passes on; bad masks are named.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

interface Enc { shape: number[]; data: number[] }
interface Case {
  numHeads: number; keyDim: number; causal: boolean; cross: boolean;
  query: Enc; value: Enc; key?: Enc; r: Enc; output: Enc; queryMask: Enc; valueMask: Enc;
  weights: Record<string, Enc>; grads: Record<string, Enc>; inputGrads: Record<string, Enc>;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/attention.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };
const t = (e: Enc) => kiln.tensor(Float32Array.from(e.data), e.shape);
const ORDER = ['query/kernel', 'query/bias', 'key/kernel', 'key/bias', 'value/kernel', 'value/bias', 'attention_output/kernel', 'attention_output/bias'];

/** The worst relative error over the entries `keep` selects (all when undefined). */
function worst(got: ArrayLike<number>, want: readonly number[], keep?: (i: number) => boolean): number {
  let w = 0;
  want.forEach((v, i) => { if (!keep || keep(i)) w = Math.max(w, Math.abs(got[i]! - v) / (1e-3 + Math.abs(v))); });
  return w;
}
/** Whether flat index i of a [batch, steps, features] output is at a real query step. */
const realStep = (mask: Enc, features: number) => (i: number) => mask.data[Math.floor(i / features)] === 1;

/** x with its padded steps (mask 0) set to `value`. */
function padWith(x: Enc, mask: Enc, value: number): kiln.Tensor {
  const f = x.shape[2]!;
  return kiln.tensor(Float32Array.from(x.data, (v, i) => (mask.data[Math.floor(i / f)] ? v : value)), x.shape);
}

const isKiln = (f: () => unknown, message: RegExp) => {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(kiln.KilnError);
  expect((err as Error).message).toMatch(message);
};

describe('multiHeadAttention with masks against torch (key_padding_mask)', () => {
  for (const name of ['selfPadded', 'causalPadded', 'crossPadded']) {
    const c = fixture.cases[name]!;
    const [, tq, e] = c.query.shape as [number, number, number];
    const tv = c.value.shape[1]!;
    const make = () => kiln.layers.multiHeadAttention({ numHeads: c.numHeads, keyDim: c.keyDim, useCausalMask: c.causal });
    const keep = realStep(c.queryMask, e);

    test(`${name}: masks given to apply as model inputs give torch's output at the real query steps`, () => {
      const q = kiln.input({ shape: [tq, e] });
      const v = kiln.input({ shape: [tv, e] });
      const k = c.cross ? kiln.input({ shape: [tv, e] }) : undefined;
      const qm = kiln.input({ shape: [tq] });
      const vm = kiln.input({ shape: [tv] });
      const y = make().apply(k ? [q, v, k] : [q, v], { mask: k ? [qm, vm, vm] : [qm, vm] }) as kiln.SymbolicTensor;
      const model = kiln.model({ inputs: [q, v, ...(k ? [k] : []), qm, vm], outputs: y });
      model.setWeights(ORDER.map((n) => t(c.weights[n]!)));
      const out = model.predict([t(c.query), t(c.value), ...(c.cross ? [t(c.key!)] : []), t(c.queryMask), t(c.valueMask)]) as kiln.Tensor;
      expect(worst(out.dataSync(), c.output.data, keep)).toBeLessThan(1e-4);
      if (c.causal) return; // padding at the end hides nothing from a real step under the causal mask
      // without the masks the real steps' outputs differ: the masks are what make them torch's
      const free = kiln.model({ inputs: k ? [q, v, k] : [q, v], outputs: make().apply(k ? [q, v, k] : [q, v]) as kiln.SymbolicTensor });
      free.setWeights(ORDER.map((n) => t(c.weights[n]!)));
      expect(worst((free.predict([t(c.query), t(c.value), ...(c.cross ? [t(c.key!)] : [])]) as kiln.Tensor).dataSync(), c.output.data, keep)).toBeGreaterThan(1e-2);
    });

    test(`${name}: masks propagated from masking layers give the same, and gradients are torch's`, () => {
      const q = kiln.input({ shape: [tq, e] });
      const v = kiln.input({ shape: [tv, e] });
      const mq = kiln.layers.masking({ maskValue: -99 }).apply(q) as kiln.SymbolicTensor;
      const mv = kiln.layers.masking({ maskValue: -99 }).apply(v) as kiln.SymbolicTensor;
      const model = kiln.model({ inputs: [q, v], outputs: make().apply(c.cross ? [mq, mv, mv] : [mq, mv]) as kiln.SymbolicTensor });
      model.setWeights(ORDER.map((n) => t(c.weights[n]!)));
      if (!c.cross) { // cross: the fixture's key differs from the value
        const out = model.predict([padWith(c.query, c.queryMask, -99), padWith(c.value, c.valueMask, -99)]) as kiln.Tensor;
        expect(worst(out.dataSync(), c.output.data, keep)).toBeLessThan(1e-4);
      }
      const layer = make();
      const inputs = c.cross ? [c.query, c.value, c.key!] : [c.query, c.value];
      layer.computeOutputShapeMany(inputs.map((x) => x.shape.slice(1)));
      const masks = [t(c.queryMask), t(c.valueMask), ...(c.cross ? [t(c.valueMask)] : [])];
      const f = (...args: kiln.Tensor[]) => {
        const ws = Object.fromEntries(ORDER.map((n, i) => [n, args[inputs.length + i]!]));
        return kiln.sum(kiln.mul(layer.callMany(args.slice(0, inputs.length), ws, { training: false, masks }), t(c.r)));
      };
      const args = [...inputs.map(t), ...ORDER.map((n) => t(c.weights[n]!))];
      const { grad } = kiln.valueAndGrad(f, args.map((_, i) => i))(...args);
      (['query', 'value', ...(c.cross ? ['key'] : [])] as const).forEach((n, i) => expect(worst(grad[i]!.dataSync(), c.inputGrads[n]!.data), `d ${n}`).toBeLessThan(1e-4));
      ORDER.forEach((n, i) => expect(worst(grad[inputs.length + i]!.dataSync(), c.grads[n]!.data), `d ${n}`).toBeLessThan(1e-4));
    });
  }

  test('an explicit attentionMask combines with the propagated masks (Keras: their product)', () => {
    const c = fixture.cases.selfPadded!;
    const [n, tq, e] = c.query.shape as [number, number, number];
    const q = kiln.input({ shape: [tq, e] });
    const v = kiln.input({ shape: [tq, e] });
    const am = kiln.input({ shape: [tq, tq] });
    const mq = kiln.layers.masking({ maskValue: -99 }).apply(q) as kiln.SymbolicTensor;
    const mv = kiln.layers.masking({ maskValue: -99 }).apply(v) as kiln.SymbolicTensor;
    // a causal attentionMask given explicitly, with the padding masks propagated, is causalPadded's setting on these inputs
    const explicit = kiln.model({ inputs: [q, v, am], outputs: kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 4 }).apply([mq, mv], { attentionMask: am }) as kiln.SymbolicTensor });
    const causal = kiln.model({ inputs: [q, v], outputs: kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 4, useCausalMask: true }).apply([mq, mv]) as kiln.SymbolicTensor });
    const weights = ORDER.map((name) => t(c.weights[name]!));
    explicit.setWeights(weights);
    causal.setWeights(weights);
    const tri = kiln.tensor(Float32Array.from({ length: n * tq * tq }, (_, i) => ((i % tq) <= Math.floor(i / tq) % tq ? 1 : 0)), [n, tq, tq]);
    const xs = [padWith(c.query, c.queryMask, -99), padWith(c.value, c.valueMask, -99)];
    const a = (explicit.predict([...xs, tri]) as kiln.Tensor).dataSync();
    const b = (causal.predict(xs) as kiln.Tensor).dataSync();
    expect(worst(a, Array.from(b), realStep(c.queryMask, e))).toBeLessThan(1e-6);
  });
});

describe('attention (Keras\'s Attention) with masks against torch', () => {
  const c = fixture.cases.dotPadded!;
  test('query and value masks: the value mask on the scores, zeros at masked query steps; gradients are torch\'s', () => {
    const layer = kiln.layers.attention();
    const masks = [t(c.queryMask), t(c.valueMask)];
    const out = layer.callMany([t(c.query), t(c.value)], {}, { training: false, masks });
    expect(worst(out.dataSync(), c.output.data)).toBeLessThan(1e-4);
    const f = (q: kiln.Tensor, v: kiln.Tensor) => kiln.sum(kiln.mul(layer.callMany([q, v], {}, { training: false, masks }), t(c.r)));
    const { grad } = kiln.valueAndGrad(f, [0, 1])(t(c.query), t(c.value));
    expect(worst(grad[0]!.dataSync(), c.inputGrads.query!.data)).toBeLessThan(1e-4);
    expect(worst(grad[1]!.dataSync(), c.inputGrads.value!.data)).toBeLessThan(1e-4);
  });

  test('in a functional model the masks come from masking layers, and the output keeps the query\'s mask', () => {
    const [, tq, d] = c.query.shape as [number, number, number];
    const tv = c.value.shape[1]!;
    const q = kiln.input({ shape: [tq, d] });
    const v = kiln.input({ shape: [tv, d] });
    const mq = kiln.layers.masking({ maskValue: -99 }).apply(q) as kiln.SymbolicTensor;
    const mv = kiln.layers.masking({ maskValue: -99 }).apply(v) as kiln.SymbolicTensor;
    const att = kiln.layers.attention().apply([mq, mv]) as kiln.SymbolicTensor;
    // the query's mask reaches the pooling: the mean over the real query steps only
    const pooled = kiln.layers.globalAveragePooling1d({}).apply(att) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: [q, v], outputs: [att, pooled] });
    const [out, mean] = model.predict([padWith(c.query, c.queryMask, -99), padWith(c.value, c.valueMask, -99)]) as kiln.Tensor[];
    expect(worst(out!.dataSync(), c.output.data)).toBeLessThan(1e-4);
    const want = Array.from({ length: c.query.shape[0]! * d }, (_, i) => {
      const [b, f] = [Math.floor(i / d), i % d];
      let s = 0, n = 0;
      for (let s2 = 0; s2 < tq; s2++) if (c.queryMask.data[b * tq + s2]) (s += c.output.data[(b * tq + s2) * d + f]!, n++);
      return s / n;
    });
    expect(worst(mean!.dataSync(), want)).toBeLessThan(1e-4);
  });
});

describe('a padded batch gives what the unpadded sequences give', () => {
  test('embedding with maskZero → multiHeadAttention (self) → pooling: each padded row equals its sequence run alone', () => {
    const ids = kiln.input({ shape: [6], dtype: 'int32' });
    const embedding = kiln.layers.embedding({ inputDim: 20, outputDim: 8, maskZero: true });
    const mha = kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 4, seed: 1 });
    const pool = kiln.layers.globalAveragePooling1d({});
    const embedded = embedding.apply(ids) as kiln.SymbolicTensor;
    const att = mha.apply([embedded, embedded]) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: ids, outputs: [att, pool.apply(att) as kiln.SymbolicTensor] });
    const rows = [[3, 7, 1, 9, 4, 2], [5, 8, 2, 0, 0, 0], [11, 6, 0, 0, 0, 0]];
    const [seq, mean] = model.predict(kiln.tensor(Int32Array.from(rows.flat()), [3, 6], 'int32')) as kiln.Tensor[];
    rows.forEach((row, b) => {
      const real = row.filter((id) => id !== 0);
      // the same layers (shared weights) on the unpadded sequence: its own length, no padding
      const x = kiln.input({ shape: [real.length], dtype: 'int32' });
      const h = embedding.apply(x) as kiln.SymbolicTensor;
      const a = mha.apply([h, h]) as kiln.SymbolicTensor;
      const alone = kiln.model({ inputs: x, outputs: [a, pool.apply(a) as kiln.SymbolicTensor] });
      const [aSeq, aMean] = alone.predict(kiln.tensor(Int32Array.from(real), [1, real.length], 'int32')) as kiln.Tensor[];
      const got = seq!.dataSync().slice(b * 6 * 8, (b * 6 + real.length) * 8);
      expect(worst(got, Array.from(aSeq!.dataSync()))).toBeLessThan(1e-5);
      expect(worst(mean!.dataSync().slice(b * 8, b * 8 + 8), Array.from(aMean!.dataSync()))).toBeLessThan(1e-5);
    });
  });
});

describe('bad masks are named', () => {
  test('masks of the wrong shape, a mask for a layer that reads none, an attentionMask for Attention', () => {
    const q = kiln.input({ shape: [5, 8] });
    const v = kiln.input({ shape: [4, 8] });
    const mha = () => kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 4 });
    isKiln(() => mha().apply([q, v], { attentionMask: kiln.input({ shape: [4, 5] }) }), /MultiHeadAttention "[^"]+": expected an attentionMask of shape \[null,5,4\] \(\[batch, query steps, value steps\]\), got \[null,4,5\]/);
    isKiln(() => mha().apply([q, v], { mask: [kiln.input({ shape: [5] }), kiln.input({ shape: [5] })] }), /MultiHeadAttention "[^"]+": expected the value's mask of shape \[null,4\] \(one per step of the value \[null,4,8\]\), got \[null,5\]/);
    isKiln(() => mha().apply([q, v], { mask: kiln.input({ shape: [5] }) }), /expected mask to be a list of 2 masks \(one per input, undefined for none\), got one mask/);
    isKiln(() => kiln.layers.attention().apply([q, kiln.input({ shape: [4, 8] })], { attentionMask: kiln.input({ shape: [5, 4] }) }), /Attention "[^"]+": expected no attentionMask \(Keras's Attention takes masks: \[queryMask, valueMask\]\)/);
    isKiln(() => kiln.layers.add().apply([q, q], { mask: [undefined, kiln.input({ shape: [5] })] }), /Add "[^"]+": expected no mask or attentionMask \(this layer reads no masks/);
    isKiln(() => kiln.layers.dense({ units: 2 }).apply(q, { attentionMask: kiln.input({ shape: [5, 5] }) }), /Dense "[^"]+": expected no attentionMask/);
    // at trace time (a traced call, as a subclassed model's): shapes with the batch
    const layer = kiln.layers.attention();
    isKiln(() => layer.callMany([kiln.zeros([2, 5, 8]), kiln.zeros([2, 4, 8])], {}, { training: false, masks: [undefined, kiln.zeros([2, 5])] }), /Attention "[^"]+": expected the value's mask \[2,4\] \(bool, or 0\/1 numbers: one per step of the value f32\[2,4,8\]\), got f32\[2,5\]/);
    isKiln(() => mha().callMany([kiln.zeros([2, 5, 8]), kiln.zeros([2, 4, 8])], {}, { training: false, attentionMask: kiln.zeros([2, 4, 4]) }), /expected an attentionMask \[2,5,4\]/);
  });

  test('masks and the attention mask survive save and load', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const q = kiln.input({ shape: [5, 8] });
    const qm = kiln.input({ shape: [5] });
    const am = kiln.input({ shape: [5, 5] });
    const y = kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 4 }).apply([q, q], { mask: [qm, undefined], attentionMask: am }) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: [q, qm, am], outputs: y });
    const xs = [kiln.randomNormal([2, 5, 8], { seed: 4 }), kiln.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]), kiln.tensor(Float32Array.from({ length: 50 }, (_, i) => (i % 3 ? 1 : 0)), [2, 5, 5])];
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-att-mask-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    expect(Array.from((again.predict(xs) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict(xs) as kiln.Tensor).dataSync()));
  });
});
