/** The README's main job: a compiled Keras-style model learns on real data. */
import { expect, test } from 'vitest';
import { demo } from '../../src/demo.js';

test('two epochs of the demo MLP beat 75% test accuracy and lower the loss', async () => {
  const lines: string[] = [];
  const result = await demo({ model: 'mlp', epochs: 2, log: (l) => lines.push(l) });
  expect(result.testAccuracy).toBeGreaterThan(0.75);
  expect(result.losses[1]).toBeLessThan(result.losses[0]!);
  expect(lines.some((l) => l.startsWith('Total params: 101770'))).toBe(true);
  expect(lines.filter((l) => / (✓|✗) predicted /.test(l)).length).toBe(6);
}, 120_000);
