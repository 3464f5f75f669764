/** The README's main job: a compiled Keras-style model learns on real data and is saved. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { demo } from '../../src/demo.js';
import * as kiln from '../../src/index.js';

test('two epochs of the demo MLP beat 75% test accuracy, lower the loss and save a model that loads', async () => {
  const lines: string[] = [];
  const save = join(mkdtempSync(join(tmpdir(), 'kiln-demo-')), 'mlp.kiln');
  const result = await demo({ model: 'mlp', epochs: 2, log: (l) => lines.push(l), save });
  expect(result.testAccuracy).toBeGreaterThan(0.75);
  expect(result.losses[1]).toBeLessThan(result.losses[0]!);
  expect(lines.some((l) => l.startsWith('Total params: 101770'))).toBe(true);
  expect(lines.filter((l) => / (✓|✗) predicted /.test(l)).length).toBe(6);
  expect(lines.some((l) => l.startsWith(`saved the model (architecture, weights, optimizer state) to ${save}`))).toBe(true);
  const loaded = await kiln.loadModel(save);
  expect(JSON.parse(loaded.metadata.classNames!)).toHaveLength(10);
  const x = kiln.randomUniform([3, 28, 28, 1], { seed: 1 });
  const want = (result.model.predict(x) as kiln.Tensor).dataSync();
  (loaded.predict(x) as kiln.Tensor).dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
}, 120_000);
