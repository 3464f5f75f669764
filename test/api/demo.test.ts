/** The README's main job: the compiled training step learns on real data. */
import { expect, test } from 'vitest';
import { demo } from '../../src/demo.js';

test('two epochs of the compiled demo MLP beat 70% test accuracy and lower the loss', async () => {
  const lines: string[] = [];
  const result = await demo({ epochs: 2, log: (l) => lines.push(l) });
  expect(result.testAccuracy).toBeGreaterThan(0.7);
  expect(result.losses[0]).toBeLessThan(Math.log(10)); // below the loss of a uniform guess
  expect(result.losses[1]).toBeLessThan(result.losses[0]!);
  expect(result.trainStep.updates.map((u) => u.target)).toEqual(['w1', 'b1', 'w2', 'b2']);
  expect(lines.some((l) => l.startsWith('epoch 2/2: mean loss'))).toBe(true);
}, 120_000);
