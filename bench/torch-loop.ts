/**
 * The PyTorch-style literal loop (issue 6's target: within 10% of `fit`'s step):
 * `optimizer.zeroGrad(); out = model.forward(x); loss = crossEntropy(out, y);
 * loss.backward(); await optimizer.step(); await loss.item()` against Keras-style
 * `trainOnBatch` on the same Fashion-MNIST CNN (conv 5×5×32 same relu, maxpool 2,
 * conv 5×5×64 same relu, maxpool 2, dense 10), batch 64, Adam. The two alternate
 * step by step in one process, so machine noise hits both alike.
 */
import * as kiln from '../src/index.js';
import { kerasNet, Net } from '../examples/pytorch-style/net.js';
import type { Table } from './harness.js';
kiln.setThreads(1); // one thread, as every table here compares (bench/threads.mjs measures threads)

const fmt = (ms: number) => ms.toFixed(ms < 10 ? 2 : 1);

const batch = 64;

export async function measureTorchLoop({ quick, log }: { quick: boolean; log: (line: string) => void }): Promise<Table> {
  log('PyTorch-style loop vs fit…');
  const { nn, optim } = kiln;
  const F = nn.functional;
  const net = new Net();
  const optimizer = new optim.Adam(net.parameters(), { lr: 1e-3 });
  const keras = kerasNet();
  // four different batches in turn, the same pixels for both (NCHW for the loop, NHWC for fit)
  const images = Array.from({ length: 4 }, (_, i) => kiln.randomUniform([batch, 28, 28, 1], { seed: 10 + i }));
  const labels = kiln.tensor(Array.from({ length: batch }, (_, i) => i % 10), [batch], 'int32');
  const nchw = images.map((x) => kiln.transpose(x, [0, 3, 1, 2]));
  const steps = quick ? 12 : 30;
  const warmup = 4;
  const loop: number[] = [];
  const fit: number[] = [];
  const before = kiln.cacheStats();
  for (let i = 0; i < steps + warmup; i++) {
    let t0 = performance.now();
    await keras.trainOnBatch(images[i % 4]!, labels);
    const tFit = performance.now() - t0;
    t0 = performance.now();
    optimizer.zeroGrad();
    const loss = F.crossEntropy(net.forward(nchw[i % 4]!), labels);
    loss.backward();
    await optimizer.step();
    await loss.item();
    const tLoop = performance.now() - t0;
    if (i >= warmup) (fit.push(tFit), loop.push(tLoop));
  }
  const stats = kiln.cacheStats();
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
  const m = { loop: median(loop), fit: median(fit) };
  return {
    title: 'PyTorch-style literal loop vs fit: Fashion-MNIST CNN train step, batch 64, Adam, ms (median, interleaved)',
    header: ['surface', 'ms per step', 'vs fit'],
    rows: [
      ['fit (trainOnBatch)', fmt(m.fit), '×1.00'],
      ['literal loop (zeroGrad, forward, crossEntropy, backward, step, item)', fmt(m.loop), `×${(m.loop / m.fit).toFixed(3)}`],
    ],
    notes: [
      `${steps} steps of each after ${warmup} warm-up steps, alternating one of each; target: the loop within 10% of fit (×1.10).`,
      `the loop compiled ${stats.compiles - before.compiles} program(s) and lowered ${stats.plansBuilt - before.plansBuilt} graph(s); every later step found both in the caches.`,
    ],
  };
}
