/** Reading the committed PyTorch fixtures (test/fixtures/torch, made by scripts/torch-fixtures*.py) and comparing against them. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as kiln from '../../src/index.js';

export interface Stored {
  shape: number[];
  data: number[];
}

export const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/torch/${name}.json`, import.meta.url), 'utf8')) as T;

export const i32 = (s: Stored): kiln.Tensor => kiln.tensor(Int32Array.from(s.data), s.shape, 'int32');

/**
 * A float32-against-float64 comparison, |kiln − torch| ≤ rtol·|torch| + atol
 * elementwise, that remembers the worst error relative to the tolerance.
 */
export function closeness(rtol: number, atol: number) {
  let worst = { ratio: 0, what: '' };
  /** Checks `got` against the stored values (shape too, when a tensor). */
  const expectClose = (what: string, got: kiln.Tensor | number, want: Stored | number): void => {
    const wantData = typeof want === 'number' ? [want] : want.data;
    if (typeof want !== 'number' && typeof got !== 'number') expect(got.shape, `${what}: shape`).toEqual(want.shape);
    const gotData = typeof got === 'number' ? [got] : Array.from(got.dataSync());
    expect(gotData.length, `${what}: size`).toBe(wantData.length);
    wantData.forEach((w, k) => {
      const ratio = Math.abs(gotData[k]! - w) / (rtol * Math.abs(w) + atol);
      if (ratio > worst.ratio) worst = { ratio, what: `${what}[${k}]: kiln ${gotData[k]}, torch ${w}` };
      if (!(ratio <= 1)) expect.fail(`${what}[${k}]: kiln ${gotData[k]}, torch ${w} (error ${Math.abs(gotData[k]! - w).toExponential(2)})`);
    });
  };
  const report = (label: string) => `${label}: worst error ${worst.ratio.toFixed(3)} of the tolerance (rtol ${rtol}, atol ${atol}) at ${worst.what}`;
  return { expectClose, report };
}
