/** Three Gaussian blobs in 4-D, labelled 0–2 in turn: separable, so a small model must learn them. */
import * as kiln from '../../src/index.js';

export function blobs(n: number, seed: number): { x: kiln.Tensor; y: kiln.Tensor } {
  const noise = kiln.randomNormal([n, 4], { seed, stddev: 0.5 }).dataSync();
  const centers = [[2, 0, 0, 1], [0, 2, 1, 0], [-2, -2, 0, 0]];
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const x = Float32Array.from({ length: n * 4 }, (_, k) => centers[labels[Math.floor(k / 4)]!]![k % 4]! + noise[k]!);
  return { x: kiln.tensor(x, [n, 4]), y: kiln.tensor(labels, [n], 'int32') };
}
