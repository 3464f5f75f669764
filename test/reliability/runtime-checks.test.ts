/**
 * The runtime checks what the front end checks (issue: labels out of range counted
 * as loss 0, NaN in x poisoned the weights, learningRate Infinity passed): every
 * bad input to an artifact's predict, trainStep and evaluate is a KilnRuntimeError
 * naming the call, the input, the value and where it is — and nothing is run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { loadArtifactFile } from '../../src/runtime/node.js';
import type { Artifact } from '../../src/runtime/artifact.js';

let art: Artifact;
const x = Float32Array.from({ length: 8 }, (_, i) => i / 8); // 2 rows of 4
beforeAll(async () => {
  const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 4 })] });
  model.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
  const path = join(mkdtempSync(join(tmpdir(), 'kiln-rt-checks-')), 'm.kiln-artifact');
  await model.export(path, { entries: ['predict', 'trainStep', 'evaluate'] });
  art = await loadArtifactFile(path);
});

const e = 'kiln runtime: ';
describe('labels', () => {
  for (const [label, shown] of [[4, '4'], [-1, '-1'], [2 ** 31 - 1, '2147483647']] as const) {
    test(`class ${shown} of 4 is refused by trainStep and evaluate`, () => {
      const y = Int32Array.of(1, label);
      expect(() => art.trainStep(x, y)).toThrow(`${e}trainStep: label "y" expects class indices in 0…3, got ${shown} at example 1.`);
      expect(() => art.evaluate(x, y)).toThrow(`${e}evaluate: label "y" expects class indices in 0…3, got ${shown} at example 1.`);
    });
  }
  test('a fractional label is refused', () => {
    expect(() => art.trainStep(x, [1, 1.5])).toThrow(`${e}trainStep: input "y" holds 1.5 at example 1 (flat index 1); expected an int32 integer.`);
  });
});

describe('x and options', () => {
  test('NaN, Infinity, null and strings in x are refused before anything runs; the weights stay', () => {
    const before = JSON.stringify(art.getWeights());
    const bad = Float32Array.from(x);
    bad[5] = NaN;
    expect(() => art.trainStep(bad, Int32Array.of(0, 1))).toThrow(`${e}trainStep: input "x" holds NaN at example 1 (flat index 5); expected a finite number.`);
    expect(() => art.predict([1, 2, 3, null] as never)).toThrow(`${e}predict: input "x" holds null at example 0 (flat index 3); expected a finite number.`);
    expect(() => art.predict(['a', 'b', 'c', 'd'] as never)).toThrow(`${e}predict: input "x" holds "a" at example 0 (flat index 0); expected a finite number.`);
    expect(() => art.predict(null as never)).toThrow(`${e}predict: expected a typed array, an array of numbers or { data, shape }, got null.`);
    expect(() => art.predict(undefined as never)).toThrow(`${e}predict: expected a typed array, an array of numbers or { data, shape }, got undefined.`);
    expect(JSON.stringify(art.getWeights())).toBe(before);
  });

  test('a learning rate that is not a finite number >= 0 is refused', () => {
    for (const lr of [Infinity, NaN, -0.1]) expect(() => art.trainStep(x, Int32Array.of(0, 1), { learningRate: lr })).toThrow(`${e}trainStep: expected learningRate to be a finite number >= 0, got ${lr}.`);
    expect(art.trainStep(x, Int32Array.of(0, 1), { learningRate: 0.1 }).loss).toBeGreaterThan(0);
  });
});
