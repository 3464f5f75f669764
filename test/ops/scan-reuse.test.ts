/**
 * scanReusing: a body that reads outer tensors only through its consts is traced
 * once per (key, argument types) and reused, so later calls see new const
 * values without tracing again; a new length, batch or const shape traces
 * again, and a body that reads anything else (an outer lazy tensor, a plain
 * tensor that would be baked in as a constant), or a call inside a trace, is
 * traced on every call, as `scan` is.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { scanReusing } from '../../compiler/functions/scan.js';
import type { Tensor } from '../../compiler/index.js';

const values = (t: Tensor) => Array.from(t.dataSync());

/** h' = tanh(x + h·w) over xs [T, N, F], in float64: every h. */
function reference(h0: number[][], xs: number[][][], w: number[][]): number[] {
  let h = h0;
  const out: number[] = [];
  for (const x of xs) {
    h = x.map((row, n) => row.map((v, j) => Math.tanh(v + h[n]!.reduce((a, hk, k) => a + hk * w[k]![j]!, 0))));
    out.push(...h.flat());
  }
  return out;
}

const nested = (t: Tensor) => t.arraySync() as never;
/** A lazy (PyTorch-style) weight: a parameter's storage. */
const parameter = (shape: number[], seed: number) => new kiln.nn.Parameter(kiln.randomNormal(shape, { seed }));

/** h ← tanh(x + h·w) as a scan body that counts how often it is traced. */
function rnnCell() {
  let traced = 0;
  const body = (h: Tensor, x: Tensor, [w]: readonly Tensor[]) => {
    traced++;
    const next = kiln.tanh(kiln.add(x, kiln.matmul(h, w!)));
    return [next, next] as const;
  };
  return { body, traces: () => traced };
}

beforeEach(() => kiln.setCompilePolicy({ compileAt: Infinity }));
afterEach(() => kiln.setCompilePolicy({ compileAt: 2 }));

describe('scanReusing', () => {
  test('traces the body once for calls with the same types, and every call reads its own consts', () => {
    const cache = new Map<string, unknown>();
    const { body, traces } = rnnCell();
    const h0 = kiln.randomNormal([2, 3], { seed: 1 });
    const xs = kiln.randomNormal([4, 2, 3], { seed: 2 });
    for (const seed of [3, 4, 5]) {
      const w = parameter([3, 3], seed);
      const [, ys] = scanReusing(cache, 'cell', body, h0, xs, [w]);
      const expected = reference(nested(h0), nested(xs), nested(w));
      values(ys).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    }
    expect(traces()).toBe(1);
    expect(cache.size).toBe(1);
  });

  test('a new length, batch or const shape traces again, and each gives its own values', () => {
    const cache = new Map<string, unknown>();
    const { body, traces } = rnnCell();
    const cases: [number, number][] = [[4, 2], [6, 2], [4, 5], [4, 2]];
    for (const [steps, batch] of cases) {
      const h0 = kiln.randomNormal([batch, 3], { seed: steps });
      const xs = kiln.randomNormal([steps, batch, 3], { seed: batch });
      const w = parameter([3, 3], 7);
      const [h, ys] = scanReusing(cache, 'cell', body, h0, xs, [w]);
      expect(h.shape).toEqual([batch, 3]);
      expect(ys.shape).toEqual([steps, batch, 3]);
      const expected = reference(nested(h0), nested(xs), nested(w));
      values(ys).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    }
    expect(traces()).toBe(3); // the last case repeats the first's types
  });

  test('a body that reads an outer tensor besides its consts is traced on every call and sees its new value', () => {
    const cache = new Map<string, unknown>();
    let traced = 0;
    const h0 = kiln.zeros([1, 2]);
    const xs = kiln.ones([3, 1, 2]);
    const w = parameter([2, 2], 1);
    for (const scale of [1, 2]) {
      const outer = kiln.mul(new kiln.nn.Parameter(kiln.fill([2], scale)), 1); // a lazy tensor, new each call
      const [, ys] = scanReusing(cache, 'cell', (h: Tensor, x: Tensor, [wc]: readonly Tensor[]) => {
        traced++;
        const next = kiln.add(kiln.mul(x, outer), kiln.mul(kiln.matmul(h, wc!), 0));
        return [next, next] as const;
      }, h0, xs, [w]);
      expect(values(ys)).toEqual([scale, scale, scale, scale, scale, scale]);
    }
    expect(traced).toBe(2);
    expect(cache.size).toBe(0);
  });

  test('a plain (concrete) const would be baked into the body: traced on every call, each with its value', () => {
    const cache = new Map<string, unknown>();
    let traced = 0;
    for (const scale of [2, 3]) {
      const [, ys] = scanReusing(cache, 'cell', (h: Tensor, x: Tensor, [s]: readonly Tensor[]) => {
        traced++;
        const next = kiln.add(h, kiln.mul(x, s!));
        return [next, next] as const;
      }, kiln.zeros([2]), kiln.ones([2, 2]), [kiln.fill([2], scale)]);
      expect(values(ys)).toEqual([scale, scale, 2 * scale, 2 * scale]);
    }
    expect(traced).toBe(2);
    expect(cache.size).toBe(0);
  });

  test('inside a trace it traces the body every time (the body then belongs to that trace)', () => {
    const cache = new Map<string, unknown>();
    let traced = 0;
    const fn = (xs: Tensor, w: Tensor) => scanReusing(cache, 'cell', (h: Tensor, x: Tensor, [wc]: readonly Tensor[]) => {
      traced++;
      const next = kiln.tanh(kiln.add(x, kiln.matmul(h, wc!)));
      return [next, next] as const;
    }, kiln.zeros([2, 3]), xs, [w])[1];
    const g1 = kiln.trace(fn, [kiln.spec([4, 2, 3]), kiln.spec([3, 3])]);
    const g2 = kiln.trace(fn, [kiln.spec([4, 2, 3]), kiln.spec([3, 3])]);
    expect(traced).toBe(2);
    expect(cache.size).toBe(0);
    expect(kiln.print(g1)).toBe(kiln.print(g2));
  });
});
