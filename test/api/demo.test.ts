/** The README's main job: the traced training step learns on real data. */
import { expect, test } from 'vitest';
import { demo } from '../../src/demo.js';

test('one epoch of the demo MLP beats 60% test accuracy and lowers the loss', async () => {
  const lines: string[] = [];
  const result = await demo({ epochs: 1, hidden: 16, batchSize: 200, learningRate: 0.2, log: (l) => lines.push(l) });
  expect(result.testAccuracy).toBeGreaterThan(0.6);
  expect(result.losses[0]).toBeLessThan(Math.log(10)); // below the loss of a uniform guess
  expect(result.trainStep.updates.map((u) => u.target)).toEqual(['w1', 'b1', 'w2', 'b2']);
  expect(lines.some((l) => l.startsWith('epoch 1/1: mean loss'))).toBe(true);
});
