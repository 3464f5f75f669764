/**
 * nn.LSTM / GRU / RNN reuse their cell's traced loop body between calls
 * (scanReusing): every call must still compute with the call's own shapes and
 * the module's current weights. Checked against a float64 JavaScript loop:
 * calls with a new sequence length and batch, weights changed in place
 * (loadStateDict) and replaced, the two RNN nonlinearities with the same
 * weights, modules with and without biases, and a training loop whose steps
 * reuse one trace.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

const { nn } = kiln;
type Matrix = number[][];

const matrix = (t: Tensor | undefined, rows: number, cols: number): Matrix => {
  const d = t ? Array.from(t.dataSync()) : new Array<number>(rows * cols).fill(0);
  return Array.from({ length: rows }, (_, r) => d.slice(r * cols, (r + 1) * cols));
};
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/** x·Wᵀ + b for one row. */
const affine = (x: number[], w: Matrix, b: number[]) => w.map((row, j) => row.reduce((a, wk, k) => a + wk * x[k]!, b[j]!));

type Kind = 'lstm' | 'gru' | 'tanh' | 'relu';

/** One layer, one direction, over x [T][N][in] from zero states: every step's h, flattened [T, N, H]. */
function reference(kind: Kind, x: number[][][], m: Record<string, Tensor | undefined>, input: number, hidden: number): number[] {
  const gates = kind === 'lstm' ? 4 : kind === 'gru' ? 3 : 1;
  const wIh = matrix(m.weight_ih_l0, gates * hidden, input);
  const wHh = matrix(m.weight_hh_l0, gates * hidden, hidden);
  const bIh = matrix(m.bias_ih_l0, 1, gates * hidden)[0]!;
  const bHh = matrix(m.bias_hh_l0, 1, gates * hidden)[0]!;
  const n = x[0]!.length;
  let h: Matrix = Array.from({ length: n }, () => new Array<number>(hidden).fill(0));
  const c: Matrix = h.map((r) => [...r]);
  const out: number[] = [];
  for (const xt of x) {
    const next = xt.map((row, b) => {
      const xi = affine(row, wIh, bIh);
      const hh = affine(h[b]!, wHh, bHh);
      const at = (g: number, j: number) => [xi[g * hidden + j]!, hh[g * hidden + j]!] as const;
      return Array.from({ length: hidden }, (_, j) => {
        if (kind === 'tanh' || kind === 'relu') { const v = at(0, j)[0] + at(0, j)[1]; return kind === 'tanh' ? Math.tanh(v) : Math.max(0, v); }
        if (kind === 'gru') {
          const r = sigmoid(at(0, j)[0] + at(0, j)[1]);
          const z = sigmoid(at(1, j)[0] + at(1, j)[1]);
          const nn_ = Math.tanh(at(2, j)[0] + r * at(2, j)[1]);
          return (1 - z) * nn_ + z * h[b]![j]!;
        }
        const g = (k: number) => at(k, j)[0] + at(k, j)[1];
        c[b]![j] = sigmoid(g(1)) * c[b]![j]! + sigmoid(g(0)) * Math.tanh(g(2));
        return sigmoid(g(3)) * Math.tanh(c[b]![j]!);
      });
    });
    h = next;
    out.push(...h.flat());
  }
  return out;
}

/** [N, T, F] (batchFirst) data as [T][N][F]. */
function timeMajor(t: Tensor): number[][][] {
  const [n, steps, f] = t.shape as number[];
  const d = Array.from(t.dataSync());
  return Array.from({ length: steps! }, (_, s) => Array.from({ length: n! }, (_, b) => d.slice((b * steps! + s) * f!, (b * steps! + s + 1) * f!)));
}
/** [N, T, H] output as [T, N, H] flattened. */
function outputTimeMajor(t: Tensor): number[] {
  const [n, steps, h] = t.shape as number[];
  const d = Array.from(t.dataSync());
  const out: number[] = [];
  for (let s = 0; s < steps!; s++) for (let b = 0; b < n!; b++) out.push(...d.slice((b * steps! + s) * h!, (b * steps! + s + 1) * h!));
  return out;
}

function expectClose(got: number[], want: number[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(2e-5));
}

const params = (m: object) => m as unknown as Record<string, Tensor | undefined>;
const construct = (kind: Kind, input: number, hidden: number, options: { bias?: boolean } = {}) =>
  kind === 'lstm' ? new nn.LSTM(input, hidden, { batchFirst: true, ...options })
    : kind === 'gru' ? new nn.GRU(input, hidden, { batchFirst: true, ...options })
      : new nn.RNN(input, hidden, { batchFirst: true, nonlinearity: kind, ...options });

beforeEach(() => kiln.setCompilePolicy({ compileAt: Infinity }));
afterEach(() => kiln.setCompilePolicy({ compileAt: 2 }));

describe('recurrent modules reuse their traced cell and still compute each call', () => {
  test.each(['lstm', 'gru', 'tanh'] as const)('%s: a new sequence length or batch gives that call\'s values', (kind) => {
    const m = construct(kind, 3, 4);
    for (const [n, steps] of [[2, 5], [2, 3], [3, 5], [2, 5]] as const) {
      const x = kiln.randomNormal([n, steps, 3], { seed: n * 10 + steps });
      const [out] = m.forward(x);
      expect(out.shape).toEqual([n, steps, 4]);
      expectClose(outputTimeMajor(out), reference(kind, timeMajor(x), params(m), 3, 4));
    }
  });

  test('weights changed in place (loadStateDict) and a parameter replaced are seen by the next call', () => {
    const m = construct('lstm', 3, 4);
    const x = kiln.randomNormal([2, 4, 3], { seed: 1 });
    const first = outputTimeMajor(m.forward(x)[0]);
    expectClose(first, reference('lstm', timeMajor(x), params(m), 3, 4));
    m.loadStateDict({ ...m.stateDict(), weight_hh_l0: kiln.randomNormal([16, 4], { seed: 9 }), bias_hh_l0: kiln.randomNormal([16], { seed: 10 }) });
    const second = outputTimeMajor(m.forward(x)[0]);
    expectClose(second, reference('lstm', timeMajor(x), params(m), 3, 4));
    expect(second).not.toEqual(first);
    (m as unknown as Record<string, Tensor>).weight_hh_l0 = new nn.Parameter(kiln.randomNormal([16, 4], { seed: 11 }));
    const third = outputTimeMajor(m.forward(x)[0]);
    expectClose(third, reference('lstm', timeMajor(x), params(m), 3, 4));
    expect(third).not.toEqual(second);
  });

  test('RNN tanh and relu with the same weights, and modules without biases, each keep their own cell', () => {
    const tanh = construct('tanh', 3, 4);
    const relu = construct('relu', 3, 4);
    relu.loadStateDict(tanh.stateDict());
    const x = kiln.randomNormal([2, 3, 3], { seed: 2 });
    const a = outputTimeMajor(tanh.forward(x)[0]);
    const b = outputTimeMajor(relu.forward(x)[0]);
    expectClose(a, reference('tanh', timeMajor(x), params(tanh), 3, 4));
    expectClose(b, reference('relu', timeMajor(x), params(relu), 3, 4));
    for (const kind of ['lstm', 'gru'] as const) {
      const plain = construct(kind, 3, 4, { bias: false });
      const biased = construct(kind, 3, 4);
      expect(params(plain).bias_hh_l0).toBeUndefined();
      expectClose(outputTimeMajor(plain.forward(x)[0]), reference(kind, timeMajor(x), params(plain), 3, 4));
      expectClose(outputTimeMajor(biased.forward(x)[0]), reference(kind, timeMajor(x), params(biased), 3, 4));
    }
  });

  test('a compiled training loop over one reused trace follows the weights its steps write', async () => {
    kiln.setCompilePolicy({ compileAt: 2 });
    const m = construct('lstm', 3, 4);
    const opt = new kiln.optim.SGD(m.parameters(), { lr: 0.5 });
    const x = kiln.randomNormal([2, 4, 3], { seed: 3 });
    const y = kiln.randomNormal([2, 4, 4], { seed: 4 });
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) {
      opt.zeroGrad();
      const [out] = m.forward(x);
      const loss = nn.functional.mseLoss(out, y);
      loss.backward();
      await opt.step();
      losses.push(await loss.item());
    }
    // the steps ran compiled and wrote the weights in the module: a forward now reads those weights
    expectClose(outputTimeMajor(m.forward(x)[0]), reference('lstm', timeMajor(x), params(m), 3, 4));
    expect(losses[3]).toBeLessThan(losses[0]!);
  });
});
