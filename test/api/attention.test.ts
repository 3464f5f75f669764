/**
 * multiHeadAttention and attention against PyTorch (scripts/attention_reference.py
 * → test/fixtures/torch/attention.json): torch.nn.MultiheadAttention's weights in
 * Keras's layout give torch's outputs (compiled predict) and gradients (inputs
 * and every weight), for self-, causal and cross-attention; Keras's Attention
 * likewise against softmax(q·kᵀ)·v written out in torch.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

interface Enc { shape: number[]; data: number[] }
interface MhaCase {
  numHeads: number; keyDim: number; causal: boolean; cross: boolean;
  query: Enc; value: Enc; key?: Enc; r: Enc; output: Enc;
  weights: Record<string, Enc>; grads: Record<string, Enc>; inputGrads: Record<string, Enc>;
}
interface DotCase { causal: boolean; query: Enc; value: Enc; r: Enc; output: Enc; inputGrads: Record<string, Enc> }
const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/attention.json', import.meta.url), 'utf8')) as { cases: Record<string, MhaCase & DotCase> };
const t = (e: Enc) => kiln.tensor(Float32Array.from(e.data), e.shape);
const worst = (got: ArrayLike<number>, want: readonly number[]) => Math.max(...want.map((w, i) => Math.abs(got[i]! - w) / (1e-3 + Math.abs(w))));
const ORDER = ['query/kernel', 'query/bias', 'key/kernel', 'key/bias', 'value/kernel', 'value/bias', 'attention_output/kernel', 'attention_output/bias'];

describe('multiHeadAttention against torch.nn.MultiheadAttention', () => {
  for (const name of ['self', 'causal', 'cross']) {
    const c = fixture.cases[name] as MhaCase;
    const [, tq, e] = c.query.shape as [number, number, number];
    const tv = c.value.shape[1]!;
    const make = () => kiln.layers.multiHeadAttention({ numHeads: c.numHeads, keyDim: c.keyDim, useCausalMask: c.causal });

    test(`${name}: a functional model with torch's weights predicts torch's output (compiled)`, () => {
      const q = kiln.input({ shape: [tq, e] });
      const v = kiln.input({ shape: [tv, e] });
      const k = c.cross ? kiln.input({ shape: [tv, e] }) : undefined;
      const layer = make();
      const y = layer.apply(k ? [q, v, k] : [q, v]) as kiln.SymbolicTensor;
      const model = kiln.model({ inputs: k ? [q, v, k] : [q, v], outputs: y });
      expect(model.getWeights().map((w) => w.shape)).toEqual(ORDER.map((n) => c.weights[n]!.shape));
      model.setWeights(ORDER.map((n) => t(c.weights[n]!)));
      const out = model.predict(c.cross ? [t(c.query), t(c.value), t(c.key!)] : [t(c.query), t(c.value)]) as kiln.Tensor;
      expect(out.shape).toEqual(c.output.shape);
      expect(worst(out.dataSync(), c.output.data)).toBeLessThan(1e-4);
    });

    test(`${name}: gradients of sum(output · r) for the inputs and every weight are torch's`, () => {
      const layer = make();
      layer.computeOutputShapeMany(c.cross ? [[tq, e], [tv, e], [tv, e]] : [[tq, e], [tv, e]]);
      const names = layer.weights([tq, e]).map((w) => w.name);
      expect(names).toEqual(ORDER);
      const inputs = c.cross ? [c.query, c.value, c.key!] : [c.query, c.value];
      const f = (...args: kiln.Tensor[]) => {
        const xs = args.slice(0, inputs.length);
        const ws = Object.fromEntries(names.map((n, i) => [n, args[inputs.length + i]!]));
        return kiln.sum(kiln.mul(layer.callMany(xs, ws, { training: false }), t(c.r)));
      };
      const args = [...inputs.map(t), ...ORDER.map((n) => t(c.weights[n]!))];
      const { grad } = kiln.valueAndGrad(f, args.map((_, i) => i))(...args);
      (['query', 'value', ...(c.cross ? ['key'] : [])] as const).forEach((n, i) => expect(worst(grad[i]!.dataSync(), c.inputGrads[n]!.data), `d ${n}`).toBeLessThan(1e-4));
      ORDER.forEach((n, i) => expect(worst(grad[inputs.length + i]!.dataSync(), c.grads[n]!.data), `d ${n}`).toBeLessThan(1e-4));
    });
  }

  test('trains inside a model (a tiny sequence task), saves and loads with its config', async () => {
    const x = kiln.input({ shape: [6, 4] });
    const att = kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 3, dropout: 0.1, seed: 3 }).apply([x, x]) as kiln.SymbolicTensor;
    const pooled = kiln.layers.globalAveragePooling1d({}).apply(att) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: x, outputs: kiln.layers.dense({ units: 2 }).apply(pooled) as kiln.SymbolicTensor });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.02 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const xs = kiln.randomNormal([64, 6, 4], { seed: 1 });
    const ys = kiln.tensor(Array.from((kiln.sum(xs, [1, 2]) as kiln.Tensor).dataSync(), (s) => (s > 0 ? 1 : 0)), [64], 'int32');
    const h = await model.fit(xs, ys, { epochs: 40, batchSize: 16, verbose: 0 });
    expect(h.history.accuracy!.at(-1)!).toBeGreaterThan(0.9);
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-mha-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    expect(Array.from((again.predict(xs) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict(xs) as kiln.Tensor).dataSync()));
  });

  test('bad arguments and inputs are named', () => {
    expect(() => kiln.layers.multiHeadAttention({ numHeads: 0, keyDim: 4 })).toThrow(/MultiHeadAttention "[^"]+": expected numHeads to be a positive integer, got 0/);
    const x = kiln.input({ shape: [5, 8] });
    expect(() => kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 4 }).apply(x)).toThrow(/MultiHeadAttention "[^"]+": expected a list of inputs, got one/);
    expect(() => kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 4 }).apply([x, kiln.input({ shape: [5, 8] }), kiln.input({ shape: [4, 8] })])).toThrow(/expected key and value of one length, got \[null,4,8\] and \[null,5,8\]/);
  });
});

describe('attention (Keras\'s dot-product Attention) against torch', () => {
  for (const name of ['dot', 'dotCausal']) {
    const c = fixture.cases[name] as DotCase;
    test(`${name}: output and input gradients`, () => {
      const layer = kiln.layers.attention({ useCausalMask: c.causal });
      const f = (q: kiln.Tensor, v: kiln.Tensor) => kiln.sum(kiln.mul(layer.callMany([q, v], {}, { training: false }), t(c.r)));
      const out = layer.callMany([t(c.query), t(c.value)], {}, { training: false });
      expect(worst(out.dataSync(), c.output.data)).toBeLessThan(1e-4);
      const { grad } = kiln.valueAndGrad(f, [0, 1])(t(c.query), t(c.value));
      expect(worst(grad[0]!.dataSync(), c.inputGrads.query!.data)).toBeLessThan(1e-4);
      expect(worst(grad[1]!.dataSync(), c.inputGrads.value!.data)).toBeLessThan(1e-4);
    });
  }
});
