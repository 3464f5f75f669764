/**
 * nn.MultiheadAttention against torch.nn.MultiheadAttention: the fixture of
 * scripts/attention_reference.py (weights stored in Keras's layout, turned back
 * into torch's packed in_proj_weight / out_proj here) loads as a state dict, and
 * the forward pass and the input gradients of sum(output · r) are torch's.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

interface Enc { shape: number[]; data: number[] }
type Case = { numHeads: number; keyDim: number; causal: boolean; cross: boolean; query: Enc; value: Enc; key?: Enc; r: Enc; output: Enc; weights: Record<string, Enc>; inputGrads: Record<string, Enc> };
const { cases } = JSON.parse(readFileSync(new URL('../fixtures/torch/attention.json', import.meta.url), 'utf8')) as { cases: Record<string, Case> };
const t = (e: Enc) => kiln.tensor(Float32Array.from(e.data), e.shape);
const worst = (got: ArrayLike<number>, want: readonly number[]) => Math.max(...want.map((w, i) => Math.abs(got[i]! - w) / (1e-3 + Math.abs(w))));

/** Keras's [in, heads, headDim] kernel back to torch's [heads·headDim, in] rows. */
const rows = (k: Enc) => {
  const [din, h, d] = k.shape as [number, number, number];
  return Array.from({ length: h * d }, (_, o) => Array.from({ length: din }, (_, i) => k.data[i * h * d + o]!));
};

describe('nn.MultiheadAttention against torch', () => {
  for (const name of ['self', 'causal', 'cross']) {
    test(`${name}: output and input gradients (batchFirst)`, () => {
      const c = cases[name]!;
      const e = c.query.shape[2]!;
      const mha = new kiln.nn.MultiheadAttention(e, c.numHeads, { batchFirst: true });
      const w = c.weights;
      const out = w['attention_output/kernel']!;
      mha.loadStateDict({
        in_proj_weight: kiln.tensor([...rows(w['query/kernel']!), ...rows(w['key/kernel']!), ...rows(w['value/kernel']!)]),
        in_proj_bias: kiln.tensor([...w['query/bias']!.data, ...w['key/bias']!.data, ...w['value/bias']!.data]),
        'out_proj.weight': kiln.tensor(Array.from({ length: e }, (_, o) => Array.from({ length: e }, (_, i) => out.data[i * e + o]!))),
        'out_proj.bias': t(w['attention_output/bias']!),
      });
      const q = t(c.query).requiresGrad_();
      const v = t(c.value).requiresGrad_();
      const k = c.cross ? t(c.key!).requiresGrad_() : v;
      const [y] = mha.forward(q, k, v, { isCausal: c.causal, needWeights: false });
      expect(worst(y.dataSync(), c.output.data)).toBeLessThan(1e-4);
      kiln.sum(kiln.mul(y, t(c.r))).backward();
      expect(worst(q.grad!.dataSync(), c.inputGrads.query!.data)).toBeLessThan(1e-4);
      expect(worst(v.grad!.dataSync(), c.inputGrads.value!.data)).toBeLessThan(1e-4);
      if (c.cross) expect(worst(k.grad!.dataSync(), c.inputGrads.key!.data)).toBeLessThan(1e-4);
    });
  }

  test("sequence-first layout, a boolean mask equal to isCausal, averaged weights, PyTorch's state-dict names", () => {
    kiln.manualSeed(3);
    const mha = new kiln.nn.MultiheadAttention(8, 2);
    expect(Object.keys(mha.stateDict()).sort()).toEqual(['in_proj_bias', 'in_proj_weight', 'out_proj.bias', 'out_proj.weight']);
    const x = kiln.randn([5, 3, 8]); // [length, batch, embed]
    const mask = kiln.tensor(Array.from({ length: 25 }, (_, n) => (n % 5 > Math.floor(n / 5) ? 1 : 0)), [5, 5]).cast('bool');
    const [a, weights] = mha.forward(x, x, x, { attnMask: mask });
    const [b] = mha.forward(x, x, x, { isCausal: true });
    expect(a.shape).toEqual([5, 3, 8]);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(weights!.shape).toEqual([3, 5, 5]);
    const w = weights!.arraySync() as number[][][];
    expect(w[0]![0]!.slice(1).every((p) => p === 0)).toBe(true); // step 0 sees only itself
    expect(w[1]![3]!.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 5);
    expect(() => new kiln.nn.MultiheadAttention(10, 3)).toThrow(/nn\.MultiheadAttention: expected embedDim \(10\) to be divisible by numHeads \(3\)/);
  });
});
