/**
 * The PyTorch-style surface: lazy tensors against eager results and kiln.grad,
 * optimizer steps against float64 implementations of PyTorch's formulas, the
 * compile cache (a 100-step loop compiles once per shape), modules, data, and
 * error messages.
 */
import { afterEach, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const F = kiln.nn.functional;
afterEach(() => kiln.setCompilePolicy({ compileAt: 2 }));

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-5) => {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i]! - want[i]!), `index ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!)));
};

describe('lazy tensors', () => {
  test('ops on a tensor that requires grad are lazy and agree with eager results', () => {
    kiln.setCompilePolicy({ compileAt: Infinity });
    const a = kiln.randn([3, 4], { seed: 1 });
    const w = kiln.randn([4, 2], { seed: 2 });
    const eager = a.matmul(w).tanh().mul(2).sub(a.sum(1, true)).softmax(-1);
    const leaf = kiln.tensor(w.arraySync() as number[][], { requiresGrad: true });
    const lazy = a.matmul(leaf).tanh().mul(2).sub(a.sum(1, true)).softmax(-1);
    expect(lazy.isLazy && !eager.isLazy).toBe(true);
    close(lazy.dataSync(), eager.dataSync(), 1e-6);
  });

  test('backward matches kiln.grad, accumulates, and detach/noGrad cut the graph', () => {
    kiln.setCompilePolicy({ compileAt: Infinity });
    const x = kiln.randn([2, 3], { seed: 4 });
    const w0 = kiln.randn([3, 3], { seed: 5 });
    const f = (w: kiln.Tensor) => kiln.sum(kiln.square(kiln.relu(kiln.matmul(x, w))));
    const want = kiln.grad(f)(w0);
    const w = kiln.fromArray(w0.dataSync(), [3, 3], { requiresGrad: true });
    f(w).backward();
    close(w.grad!.dataSync(), want.dataSync());
    f(w).backward(); // accumulates
    close(w.grad!.dataSync(), kiln.mul(want, 2).dataSync());
    w.grad = undefined;
    const y = kiln.matmul(x, w);
    kiln.sum(y.mul(y.detach())).backward(); // d/dw sum(y·c) with c = y held constant
    close(w.grad!.dataSync(), kiln.matmul(x, kiln.matmul(x, w0), { transposeA: true }).dataSync());
    expect(kiln.noGrad(() => kiln.sum(kiln.matmul(x, w))).requiresGrad).toBe(false);
  });

  test('backward with an upstream gradient is a vector-Jacobian product', () => {
    const w = kiln.tensor([1, 2, 3], { requiresGrad: true });
    w.mul(w).backward(kiln.tensor([1, 0, 2]));
    expect(Array.from(w.grad!.dataSync())).toEqual([2, 0, 12]);
  });

  test('bad backward calls say what is wrong and where', () => {
    const w = kiln.tensor([1, 2], { requiresGrad: true });
    expect(() => w.mul(2).backward()).toThrow(/backward: expected a scalar \(one element\) or a gradient argument, got f32\[2\].*\(at test\/torch\/lazy\.test\.ts:\d+\)/);
    expect(() => kiln.tensor([1, 2]).sum().backward()).toThrow(/backward: expected a tensor that requires grad/);
    const loss = w.sum();
    loss.backward();
    expect(() => loss.backward()).toThrow(/a second time; pass \{ retainGraph: true \}/);
    expect(() => w.add(kiln.tensor([1, 2], { dtype: 'int32' }))).toThrow(/add: .*(at test\/torch\/lazy\.test\.ts:\d+)/);
  });

  test('creation functions follow NumPy and PyTorch', () => {
    expect(kiln.arange(4).arraySync()).toEqual([0, 1, 2, 3]);
    expect(kiln.arange(4).dtype).toBe('int32');
    expect(kiln.arange(0, 1, 0.25).arraySync()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(kiln.linspace(0, 1, 5).arraySync()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(kiln.eye(2, 3).arraySync()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(kiln.full([2], 7).arraySync()).toEqual([7, 7]);
    expect(kiln.fromArray(new Float64Array([1.5, 2])).dtype).toBe('float32');
    expect(kiln.rand([3], { seed: 1 }).arraySync()).toEqual(kiln.rand([3], { seed: 1 }).arraySync());
    const r = kiln.randint(2, 5, [100], { seed: 3 }).dataSync();
    expect(Math.min(...r) >= 2 && Math.max(...r) < 5 && r instanceof Int32Array).toBe(true);
    expect(kiln.randn([2, 2], { seed: 2 }).shape).toEqual([2, 2]);
  });
});

/** One linear-regression problem; `ref` applies the optimizer in float64 with PyTorch's formulas. */
function regression() {
  const x = kiln.randn([8, 3], { seed: 11 });
  const y = kiln.randn([8, 2], { seed: 12 });
  const w0 = kiln.randn([2, 3], { seed: 13 }).dataSync();
  return { x, y, w0 };
}

/** Loss and gradient of mean((x·wᵀ − y)²) in float64. */
function lossGrad(x: Float32Array, y: Float32Array, w: Float64Array): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(6);
  let loss = 0;
  for (let n = 0; n < 8; n++) for (let o = 0; o < 2; o++) {
    let p = 0;
    for (let i = 0; i < 3; i++) p += x[n * 3 + i]! * w[o * 3 + i]!;
    const d = p - y[n * 2 + o]!;
    loss += d * d / 16;
    for (let i = 0; i < 3; i++) grad[o * 3 + i]! += (2 * d * x[n * 3 + i]!) / 16;
  }
  return { loss, grad };
}

type Rule = (w: Float64Array, g: Float64Array, state: Record<string, Float64Array>, t: number) => void;
const map = (w: Float64Array, f: (i: number) => number) => { for (let i = 0; i < w.length; i++) w[i] = f(i); };
const slot = (s: Record<string, Float64Array>, k: string) => (s[k] ??= new Float64Array(6));

const cases: [string, (p: kiln.Tensor[]) => kiln.optim.Optimizer, Rule][] = [
  ['SGD with momentum, dampening and weight decay', (p) => new kiln.optim.SGD(p, { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }), (w, g, s, t) => {
    const b = slot(s, 'b');
    map(b, (i) => (t === 1 ? g[i]! + 0.01 * w[i]! : 0.9 * b[i]! + 0.9 * (g[i]! + 0.01 * w[i]!)));
    map(w, (i) => w[i]! - 0.1 * b[i]!);
  }],
  ['SGD nesterov', (p) => new kiln.optim.SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true }), (w, g, s) => {
    const b = slot(s, 'b');
    map(b, (i) => 0.8 * b[i]! + g[i]!);
    map(w, (i) => w[i]! - 0.05 * (g[i]! + 0.8 * b[i]!));
  }],
  ['Adam (eps after the bias-corrected root)', (p) => new kiln.optim.Adam(p, { lr: 0.05, eps: 1e-3 }), (w, g, s, t) => {
    const [m, v] = [slot(s, 'm'), slot(s, 'v')];
    map(m, (i) => 0.9 * m[i]! + 0.1 * g[i]!);
    map(v, (i) => 0.999 * v[i]! + 0.001 * g[i]! ** 2);
    map(w, (i) => w[i]! - (0.05 / (1 - 0.9 ** t)) * m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(1 - 0.999 ** t) + 1e-3));
  }],
  ['AdamW (decoupled decay)', (p) => new kiln.optim.AdamW(p, { lr: 0.05, weightDecay: 0.1 }), (w, g, s, t) => {
    const [m, v] = [slot(s, 'm'), slot(s, 'v')];
    map(w, (i) => w[i]! * (1 - 0.05 * 0.1));
    map(m, (i) => 0.9 * m[i]! + 0.1 * g[i]!);
    map(v, (i) => 0.999 * v[i]! + 0.001 * g[i]! ** 2);
    map(w, (i) => w[i]! - (0.05 / (1 - 0.9 ** t)) * m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
  }],
  ['RMSprop centered with momentum', (p) => new kiln.optim.RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true }), (w, g, s) => {
    const [v, a, b] = [slot(s, 'v'), slot(s, 'a'), slot(s, 'b')];
    map(v, (i) => 0.99 * v[i]! + 0.01 * g[i]! ** 2);
    map(a, (i) => 0.99 * a[i]! + 0.01 * g[i]!);
    map(b, (i) => 0.5 * b[i]! + g[i]! / (Math.sqrt(v[i]! - a[i]! ** 2) + 1e-8));
    map(w, (i) => w[i]! - 0.01 * b[i]!);
  }],
  ['Adagrad with lrDecay', (p) => new kiln.optim.Adagrad(p, { lr: 0.1, lrDecay: 0.1 }), (w, g, s, t) => {
    const a = slot(s, 'a');
    map(a, (i) => a[i]! + g[i]! ** 2);
    map(w, (i) => w[i]! - (0.1 / (1 + (t - 1) * 0.1)) * g[i]! / (Math.sqrt(a[i]!) + 1e-10));
  }],
];

describe('optimizers follow PyTorch\'s formulas', () => {
  test.each(cases)('%s', async (_, make, rule) => {
    kiln.setCompilePolicy({ compileAt: Infinity });
    const { x, y, w0 } = regression();
    const lin = new kiln.nn.Linear(3, 2, { bias: false });
    lin.loadStateDict({ weight: kiln.fromArray(w0, [2, 3]) });
    const opt = make(lin.parameters());
    const w = Float64Array.from(w0);
    const state: Record<string, Float64Array> = {};
    for (let t = 1; t <= 4; t++) {
      opt.zeroGrad();
      const loss = F.mseLoss(lin.forward(x), y);
      loss.backward();
      await opt.step();
      const ref = lossGrad(x.dataSync() as Float32Array, y.dataSync() as Float32Array, w);
      close([await loss.item()], [ref.loss], 1e-5);
      rule(w, ref.grad, state, t);
      close(lin.weight.dataSync(), w, 2e-5);
      close(lin.weight.grad!.dataSync(), ref.grad, 1e-5);
    }
  });
});

describe('the compiled loop', () => {
  test('a 100-iteration loop compiles once per shape signature and matches the interpreter', async () => {
    const data = new kiln.utils.data.TensorDataset(kiln.randn([100, 6], { seed: 21 }), kiln.randint(0, 3, [100], { seed: 22 }));
    const run = async (compileAt: number) => {
      kiln.setCompilePolicy({ compileAt });
      const net = new kiln.nn.Sequential(new kiln.nn.Linear(6, 16, { seed: 31 }), new kiln.nn.ReLU(), new kiln.nn.Linear(16, 3, { seed: 33 }));
      const opt = new kiln.optim.Adam(net.parameters(), { lr: 0.01 });
      const loader = new kiln.utils.data.DataLoader(data, { batchSize: 32, shuffle: true, seed: 5 }); // 32, 32, 32, 4
      const losses: number[] = [];
      const before = kiln.cacheStats();
      const t0 = performance.now();
      let iterations = 0;
      while (iterations < 100) {
        for (const [xb, yb] of loader) {
          if (iterations++ === 100) break;
          opt.zeroGrad();
          const out = net.forward(xb!);
          const loss = F.crossEntropy(out, yb!);
          loss.backward();
          opt.step();
          losses.push(await loss.item());
        }
      }
      const after = kiln.cacheStats();
      return { losses, compiles: after.compiles - before.compiles, plans: after.plansBuilt - before.plansBuilt, compiled: after.compiledRuns - before.compiledRuns, ms: performance.now() - t0, weight: net.parameters()[0]!.dataSync() };
    };
    const interpreted = await run(Infinity);
    const compiled = await run(2);
    expect(compiled.compiles).toBe(2); // batch 32 and the last batch of 4
    expect(interpreted.plans).toBe(2); // the graph is lowered once per shape, then found by its structural key
    expect(compiled.plans).toBe(0); // … by any loop of the same structure
    expect(compiled.compiled).toBeGreaterThanOrEqual(95);
    close(compiled.losses, interpreted.losses, 1e-4);
    close(compiled.weight, interpreted.weight, 1e-4);
    // steady state: run again with everything cached
    const warm = await run(2);
    expect(warm.compiles).toBe(0);
    expect(warm.plans).toBe(0);
    console.log(`100-iteration MLP loop: ${(warm.ms / 100).toFixed(3)} ms per iteration when cached (interpreted: ${(interpreted.ms / 100).toFixed(3)} ms)`);
  });
});

describe('OneCycleLR cycling the momentum in a compiled loop', () => {
  // the rule of each step with the rate μ and momentum (or β₁) the scheduler set for it
  type CycledRule = (w: Float64Array, g: Float64Array, state: Record<string, Float64Array>, t: number, lr: number, momentum: number) => void;
  const cycled: [string, (p: kiln.Tensor[]) => kiln.optim.Optimizer, CycledRule][] = [
    ['Adam\'s β₁', (p) => new kiln.optim.Adam(p), (w, g, s, t, lr, beta1) => {
      const [m, v] = [slot(s, 'm'), slot(s, 'v')];
      map(m, (i) => beta1 * m[i]! + (1 - beta1) * g[i]!);
      map(v, (i) => 0.999 * v[i]! + 0.001 * g[i]! ** 2);
      map(w, (i) => w[i]! - (lr / (1 - beta1 ** t)) * m[i]! / (Math.sqrt(v[i]!) / Math.sqrt(1 - 0.999 ** t) + 1e-8));
    }],
    ['SGD\'s momentum, nesterov', (p) => new kiln.optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true }), (w, g, s, _t, lr, mu) => {
      const b = slot(s, 'b');
      map(b, (i) => mu * b[i]! + g[i]!);
      map(w, (i) => w[i]! - lr * (g[i]! + mu * b[i]!));
    }],
  ];
  test.each(cycled)('%s follows PyTorch\'s formulas, lowered and compiled once', async (_, make, rule) => {
    kiln.setCompilePolicy({ compileAt: 1 });
    const { x, y, w0 } = regression();
    const lin = new kiln.nn.Linear(3, 2, { bias: false });
    lin.loadStateDict({ weight: kiln.fromArray(w0, [2, 3]) });
    const opt = make(lin.parameters());
    const scheduler = new kiln.optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 6, divFactor: 5 });
    const w = Float64Array.from(w0);
    const state: Record<string, Float64Array> = {};
    const before = kiln.cacheStats();
    const momenta: number[] = [];
    for (let t = 1; t <= 6; t++) {
      const group = opt.paramGroups[0]!;
      const [lr, momentum] = [group.lr, group.betas ? (group.betas as number[])[0]! : (group.momentum as number)];
      momenta.push(momentum);
      opt.zeroGrad();
      F.mseLoss(lin.forward(x), y).backward();
      await opt.step();
      scheduler.step();
      rule(w, lossGrad(x.dataSync() as Float32Array, y.dataSync() as Float32Array, w).grad, state, t, lr, momentum);
      close(lin.weight.dataSync(), w, 2e-5);
    }
    expect(new Set(momenta).size).toBe(5); // 0.95 at the first and last step, four others between …
    const after = kiln.cacheStats();
    expect(after.plansBuilt - before.plansBuilt).toBeLessThanOrEqual(1); // … and one plan for all of them
    expect(after.compiles - before.compiles).toBeLessThanOrEqual(1);
    expect(after.compiledRuns - before.compiledRuns).toBe(6);
  });
});

describe('the compile policy', () => {
  test('a training step (light or heavy) and a read-only plan with a matmul compile at their first realization; a plan of exact ops waits for its second', async () => {
    kiln.setCompilePolicy({ compileAt: 2 });
    const step = async (width: number) => {
      const net = new kiln.nn.Linear(width, width, { seed: 1 });
      const opt = new kiln.optim.SGD(net.parameters(), { lr: 0.1 });
      const before = kiln.cacheStats().compiles;
      opt.zeroGrad();
      const loss = net.forward(kiln.randn([64, width], { seed: 2 })).square().mean();
      loss.backward();
      await opt.step();
      return kiln.cacheStats().compiles - before;
    };
    expect(await step(8)).toBe(1); // it updates parameters: compiled at once, so every step of a run runs the same code
    expect(await step(1024)).toBe(1);
    const read = async () => {
      const before = kiln.cacheStats().compiles;
      const net = new kiln.nn.Linear(8, 8, { seed: 4 });
      await net.forward(kiln.randn([2, 8], { seed: 5 })).sum().item();
      return kiln.cacheStats().compiles - before;
    };
    // the interpreter's matmul sums in another order than the GEMM kernel: compiled at once, so every read gives the same bits
    expect(await read()).toBe(1);
    expect(await read()).toBe(0); // built already
    const w = new kiln.nn.Linear(3, 5, { seed: 6 }).weight; // a parameter: ops on it are recorded lazily
    const exact = async () => {
      const before = kiln.cacheStats().compiles;
      await w.add(1).mul(2).sum().item();
      return kiln.cacheStats().compiles - before;
    };
    expect(await exact()).toBe(0); // a one-off read of float32 arithmetic and a sum: the interpreter's bits are the module's
    expect(await exact()).toBe(1); // the same plan again: compiled
  }, 60_000);

  test('a read-only forward pass gives the same bits at its first realization (sync or async) as at later ones', async () => {
    kiln.setCompilePolicy({ compileAt: 2 });
    const net = new kiln.nn.Sequential(new kiln.nn.Linear(6, 5, { seed: 7 }), new kiln.nn.Tanh(), new kiln.nn.Linear(5, 3, { seed: 8 }));
    const x = kiln.randn([4, 6], { seed: 9 });
    const first = Array.from(net.forward(x).dataSync()); // sync read: built now, blocking
    const second = Array.from(await net.forward(x).data());
    const third = Array.from(net.forward(x).dataSync());
    expect(second).toEqual(first);
    expect(third).toEqual(first);
  }, 60_000);
});

describe('nn modules', () => {
  test('parameters, state dicts and modes', () => {
    class Net extends kiln.nn.Module {
      conv = new kiln.nn.Conv2d(1, 2, 3, { padding: 1, seed: 1 });
      bn = new kiln.nn.BatchNorm2d(2);
      head = new kiln.nn.Sequential(new kiln.nn.Flatten(), new kiln.nn.Linear(2 * 4 * 4, 3, { seed: 2 }));
      forward(x: kiln.Tensor) { return this.head.forward(F.relu(this.bn.forward(this.conv.forward(x)))); }
    }
    const net = new Net();
    expect(net.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`)).toEqual(['conv.weight:2x1x3x3', 'conv.bias:2', 'bn.weight:2', 'bn.bias:2', 'head.1.weight:3x32', 'head.1.bias:3']);
    expect(Object.keys(net.stateDict())).toContain('bn.running_mean');
    const x = kiln.randn([2, 1, 4, 4], { seed: 3 });
    expect(net.forward(x).shape).toEqual([2, 3]);
    expect(Array.from(net.bn.runningMean!.dataSync()).some((v) => v !== 0)).toBe(true); // updated by the training forward
    net.eval();
    expect(net.bn.training).toBe(false);
    const again = new Net();
    again.loadStateDict(net.stateDict());
    again.eval();
    close(again.forward(x).dataSync(), net.forward(x).dataSync(), 1e-6);
  });

  test('NCHW conv and pool modules agree with the NHWC ops', () => {
    const conv = new kiln.nn.Conv2d(2, 3, [3, 2], { stride: 1, padding: [1, 0], seed: 4 });
    const x = kiln.randn([1, 2, 5, 4], { seed: 5 });
    const y = kiln.nn.functional.maxPool2d(conv.forward(x), 2);
    const nhwc = kiln.maxPool2d(kiln.add(kiln.conv2d(kiln.transpose(x, [0, 2, 3, 1]), kiln.transpose(conv.weight.value ? kiln.tensor(conv.weight.arraySync() as number[][][][]) : conv.weight, [2, 3, 1, 0]), { padding: [[1, 1], [0, 0]] }), kiln.tensor(conv.bias!.arraySync() as number[])), { poolSize: 2 });
    close(y.dataSync(), kiln.transpose(nhwc, [0, 3, 1, 2]).dataSync(), 1e-6);
  });

  test('a shape error inside forward names the module, the op and the line', () => {
    const net = new kiln.nn.Sequential(new kiln.nn.Linear(4, 3), new kiln.nn.Linear(5, 2));
    net.namedModules();
    expect(() => net.forward(kiln.randn([2, 4], { seed: 1 }))).toThrow(/^Linear "1": linear: expected input features 5 .* got input f32\[2,3\]/);
  });

  test('crossEntropy follows PyTorch: labelSmoothing, ignoreIndex, reduction', () => {
    const logits = kiln.tensor([[1, 2, 0.5], [0, -1, 3], [2, 2, 2]]);
    const labels = kiln.tensor([1, -100, 0], { dtype: 'int32' });
    const logp = kiln.logSoftmax(logits).arraySync() as number[][];
    const per = (r: number, y: number, ls: number) => -((1 - ls) * logp[r]![y]! + (ls / 3) * logp[r]!.reduce((a, b) => a + b, 0));
    close([F.crossEntropy(logits, labels).itemSync()], [(per(0, 1, 0) + per(2, 0, 0)) / 2]);
    close([F.crossEntropy(logits, labels, { labelSmoothing: 0.2, reduction: 'sum' }).itemSync()], [per(0, 1, 0.2) + per(2, 0, 0.2)]);
    close(F.crossEntropy(logits, kiln.tensor([1, 2, 0], { dtype: 'int32' }), { reduction: 'none' }).dataSync(), [per(0, 1, 0), per(1, 2, 0), per(2, 0, 0)]);
  });

  test('clipGradNorm_ scales all gradients to the norm', () => {
    const w = new kiln.nn.Parameter(kiln.tensor([3, 4]));
    w.mul(w).sum().div(2).backward();
    const norm = kiln.nn.utils.clipGradNorm_([w], 1);
    close([norm.itemSync()], [5]);
    close(w.grad!.dataSync(), [0.6, 0.8], 1e-5);
  });

  test('schedulers set the groups\' rates', () => {
    const opt = new kiln.optim.SGD([new kiln.nn.Parameter(kiln.zeros([1]))], { lr: 1 });
    const s = new kiln.optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.5 });
    const lrs = [1, 2, 3, 4].map(() => { s.step(); return opt.paramGroups[0]!.lr; });
    expect(lrs).toEqual([1, 0.5, 0.5, 0.25]);
    const c = new kiln.optim.lrScheduler.CosineAnnealingLR(new kiln.optim.SGD([new kiln.nn.Parameter(kiln.zeros([1]))], { lr: 1 }), { tMax: 2 });
    c.step();
    close(c.getLastLr(), [0.5]);
  });
});

describe('data', () => {
  test('DataLoader batches, shuffles with a seed and drops the last batch', () => {
    const ds = new kiln.utils.data.TensorDataset(kiln.arange(10).reshape([10, 1]), kiln.arange(10));
    const order = (seed: number) => [...new kiln.utils.data.DataLoader(ds, { batchSize: 4, shuffle: true, seed, dropLast: true })].map(([, y]) => Array.from(y!.dataSync()));
    const a = order(1);
    expect(a.length).toBe(2);
    expect(a).toEqual(order(1));
    expect(new Set(a.flat()).size).toBe(8);
    const plain = [...new kiln.utils.data.DataLoader(ds, { batchSize: 4 })];
    expect(plain.map(([x]) => x!.shape[0])).toEqual([4, 4, 2]);
  });
});
