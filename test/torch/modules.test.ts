/**
 * The rest of kiln.nn and kiln.optim with real values: single layers (Conv1d,
 * ConvTranspose2d, AdaptiveAvgPool2d, LayerNorm, Embedding, BatchNorm2d in eval
 * mode) and learning-rate schedules against torch fixtures
 * (scripts/torch-fixtures-nn.py); Dropout, ModuleList, module save/load on
 * disk, optimizer state dicts, several param groups and clipGradNorm_ against
 * values worked out by hand. Everything runs in the interpreter.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn, optim } = kiln;
const F = nn.functional;

interface Stored { shape: number[]; data: number[] }
const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../fixtures/torch/${name}.json`, import.meta.url), 'utf8')) as T;
const f32 = (s: Stored, requiresGrad = false): kiln.Tensor => kiln.fromArray(Float32Array.from(s.data), s.shape, { requiresGrad });

const close = (what: string, got: kiln.Tensor | ArrayLike<number>, want: Stored | ArrayLike<number>, tol = 1e-5) => {
  const g = got instanceof kiln.Tensor ? got.dataSync() : got;
  const w = 'data' in want ? want.data : want;
  if (got instanceof kiln.Tensor && 'shape' in want) expect(got.shape, `${what}: shape`).toEqual(want.shape);
  expect(g.length, `${what}: size`).toBe(w.length);
  for (let i = 0; i < w.length; i++) expect(Math.abs(g[i]! - w[i]!), `${what}[${i}]: ${g[i]} vs ${w[i]}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w[i]!)));
};

beforeEach(() => kiln.setCompilePolicy({ compileAt: Infinity }));
afterEach(() => kiln.setCompilePolicy({ compileAt: 2 }));

describe('single layers against torch', () => {
  interface LayerCase { x: Stored; state: Record<string, Stored>; output: Stored; projection: Stored; gradients: Record<string, Stored>; inputGradient?: Stored }
  const { cases } = fixture<{ cases: Record<string, LayerCase> }>('nn-layers');
  const layers: Record<string, () => kiln.nn.Module> = {
    conv1d: () => new nn.Conv1d(2, 3, 3, { stride: 2, padding: 1 }),
    convTranspose2d: () => new nn.ConvTranspose2d(2, 3, 3, { stride: 2, padding: 1, outputPadding: 1 }),
    adaptiveAvgPool2d: () => new nn.AdaptiveAvgPool2d([2, 3]),
    adaptiveAvgPool2dGlobal: () => new nn.AdaptiveAvgPool2d(1),
    layerNorm: () => new nn.LayerNorm(4),
    layerNorm2d: () => new nn.LayerNorm([3, 4], { eps: 1e-3 }),
    embedding: () => new nn.Embedding(6, 3),
    batchNorm2dEval: () => new nn.BatchNorm2d(3).eval(),
  };
  test.each(Object.keys(layers))('%s: output and gradients of every parameter and of the input', (name) => {
    const c = cases[name]!;
    const layer = layers[name]!();
    layer.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, f32(v)])));
    const x = c.inputGradient ? f32(c.x, true) : kiln.tensor(Int32Array.from(c.x.data), c.x.shape, 'int32');
    const y = (layer.forward as (t: kiln.Tensor) => kiln.Tensor)(x);
    close('output', y, c.output);
    y.mul(f32(c.projection)).sum().backward();
    for (const [k, p] of layer.namedParameters()) close(`d/d ${k}`, p.grad!, c.gradients[k]!);
    if (c.inputGradient) close('d/dx', x.grad!, c.inputGradient);
  });
});

describe('learning-rate schedulers against torch', () => {
  interface Schedule { options: Record<string, number>; rates: number[][]; metrics?: number[] }
  const { schedules } = fixture<{ schedules: Record<string, Schedule> }>('nn-schedulers');
  const S = optim.lrScheduler;
  const twoGroups = () => new optim.SGD([{ params: [new nn.Parameter(kiln.zeros([1]))] }, { params: [new nn.Parameter(kiln.zeros([1]))], lr: 0.05 }], { lr: 0.1 });
  const make: Record<string, (o: kiln.optim.Optimizer, options: never) => { step(metric?: number): void }> = {
    StepLR: (o, options) => new S.StepLR(o, options),
    ExponentialLR: (o, options) => new S.ExponentialLR(o, options),
    CosineAnnealingLR: (o, options) => new S.CosineAnnealingLR(o, options),
    OneCycleLR: (o, options) => new S.OneCycleLR(o, options),
    ReduceLROnPlateau: (o, options) => new S.ReduceLROnPlateau(o, options),
  };
  test.each(Object.keys(make))('%s sets every group\'s rate as torch does, epoch by epoch', (name) => {
    const s = schedules[name]!;
    const opt = twoGroups();
    const scheduler = make[name]!(opt, s.options as never);
    const rates = [opt.paramGroups.map((g) => g.lr)];
    for (let e = 0; e < s.rates.length - 1; e++) {
      scheduler.step(s.metrics?.[e]);
      rates.push(opt.paramGroups.map((g) => g.lr));
    }
    close(name, rates.flat(), s.rates.flat(), 1e-9);
  });

  interface Cycle { options: Record<string, number | boolean>; optimizer: 'SGD' | 'Adam'; rates: number[][]; momenta: number[][] }
  const { oneCycleMomentum } = fixture<{ oneCycleMomentum: Record<string, Cycle> }>('nn-schedulers');
  test.each(Object.keys(oneCycleMomentum))('OneCycleLR %s cycles every group\'s rate and momentum (β₁ for Adam) as torch does', (name) => {
    const c = oneCycleMomentum[name]!;
    const groups = [{ params: [new nn.Parameter(kiln.zeros([1]))] }, { params: [new nn.Parameter(kiln.zeros([1]))], lr: 0.05 }];
    const opt = c.optimizer === 'SGD' ? new optim.SGD(groups, { lr: 0.1, momentum: 0.9 }) : new optim.Adam(groups, { lr: 0.1 });
    const scheduler = new S.OneCycleLR(opt, c.options as never);
    const read = () => opt.paramGroups.map((g) => [g.lr, c.optimizer === 'Adam' ? (g.betas as number[])[0]! : (g.momentum as number)] as const);
    const seen = [read()];
    for (let e = 0; e < c.rates.length - 1; e++) {
      scheduler.step();
      seen.push(read());
    }
    close(`${name} rates`, seen.flatMap((s) => s.map(([lr]) => lr)), c.rates.flat(), 1e-9);
    close(`${name} momenta`, seen.flatMap((s) => s.map(([, m]) => m)), c.momenta.flat(), 1e-9);
    expect(opt.paramGroups.every((g) => c.optimizer === 'SGD' || (g.betas as number[])[1] === 0.999)).toBe(true); // β₂ untouched
    expect(() => scheduler.step()).toThrow(`optim.lrScheduler.OneCycleLR.step: stepped ${c.rates.length} times, beyond totalSteps ${c.options.totalSteps}`);
  });

  test('OneCycleLR refuses to cycle the momentum of an optimizer without one', () => {
    const opt = new optim.Adagrad([new nn.Parameter(kiln.zeros([1]))]);
    expect(() => new S.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 4 })).toThrow(/^optim\.lrScheduler\.OneCycleLR: expected an optimizer with a momentum or betas to cycle \(SGD, RMSprop, Adam, AdamW\), got Adagrad; pass cycleMomentum: false/);
    expect(() => new S.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 4, cycleMomentum: false })).not.toThrow();
  });
});

describe('modules', () => {
  test('Dropout zeroes about p of the elements and scales the rest while training, and is the identity in eval mode', () => {
    const drop = new nn.Dropout(0.25, { seed: 3 });
    const x = kiln.ones([40, 50]).requiresGrad_();
    const y = drop.forward(x);
    const values = y.dataSync();
    const kept = values.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    expect(Math.abs(1 - kept.length / values.length - 0.25)).toBeLessThan(0.03);
    y.sum().backward();
    close('d/dx is the mask', x.grad!, values);
    expect(Array.from(drop.forward(x).dataSync())).not.toEqual(Array.from(values)); // a new mask each call
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    expect(() => new nn.Dropout(1).train().forward(x)).toThrow(/^Dropout: dropout: expected p in \[0, 1\), got 1/);
  });

  test('ModuleList registers its modules\' parameters by index and iterates in order', () => {
    class Stack extends nn.Module {
      blocks = new nn.ModuleList([new nn.Linear(2, 3, { seed: 1 }), new nn.Linear(3, 2, { seed: 2 })]);
      forward(x: kiln.Tensor) {
        let y = x;
        for (const b of this.blocks) y = (b as kiln.nn.Linear).forward(y);
        return y;
      }
    }
    const net = new Stack();
    net.blocks.append(new nn.Linear(2, 1, { seed: 3 }));
    expect(net.namedParameters().map(([n]) => n)).toEqual(['blocks.0.weight', 'blocks.0.bias', 'blocks.1.weight', 'blocks.1.bias', 'blocks.2.weight', 'blocks.2.bias']);
    expect(net.blocks.length).toBe(3);
    const x = kiln.tensor([[1, -2]]);
    const by = (m: kiln.nn.Module) => (m as kiln.nn.Linear);
    const want = by(net.blocks[2]!).forward(by(net.blocks[1]!).forward(by(net.blocks[0]!).forward(x)));
    close('forward', net.forward(x), want.dataSync());
    expect(() => net.blocks.forward()).toThrow(/^ModuleList "blocks": nn.ModuleList: a ModuleList has no forward; iterate over it/);
  });

  describe('save and load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-torch-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('module.save writes the state dict as safetensors and module.load reads it back', async () => {
      const make = (seed: number) => new nn.Sequential(new nn.Conv2d(1, 2, 3, { seed }), new nn.BatchNorm2d(2), new nn.Flatten(), new nn.Linear(8, 2, { seed: seed + 1 }));
      const a = make(1);
      a.forward(kiln.randn([3, 1, 4, 4], { seed: 2 })); // moves the running statistics off zeros and ones
      const path = join(dir, 'net.safetensors');
      await a.save(path);
      const { tensors } = await kiln.io.loadSafetensors(path);
      expect(Object.keys(tensors).sort()).toEqual(['0.bias', '0.weight', '1.bias', '1.running_mean', '1.running_var', '1.weight', '3.bias', '3.weight']);
      const b = make(7);
      await b.load(path);
      for (const [k, v] of Object.entries(a.stateDict())) close(k, b.stateDict()[k]!, v.dataSync(), 0);
      const x = kiln.randn([2, 1, 4, 4], { seed: 3 });
      close('eval output', b.eval().forward(x), a.eval().forward(x).dataSync(), 0);
    });

    test('module.load reads torch\'s names (running_mean, num_batches_tracked) and strict load lists what is wrong', async () => {
      const bn = new nn.BatchNorm1d(2);
      const path = join(dir, 'torch-names.safetensors');
      await kiln.io.saveSafetensors(path, { weight: kiln.tensor([2, 3]), bias: kiln.tensor([0.5, -0.5]), running_mean: kiln.tensor([1, -1]), running_var: kiln.tensor([4, 0.25]), num_batches_tracked: kiln.tensor([3], { dtype: 'int32' }) });
      await bn.load(path);
      close('eval output', bn.eval().forward(kiln.tensor([[3, 0]])), [2 * (3 - 1) / Math.sqrt(4 + 1e-5) + 0.5, 3 * (0 + 1) / Math.sqrt(0.25 + 1e-5) - 0.5]);
      await kiln.io.saveSafetensors(path, { weight: kiln.tensor([2, 3]), extra: kiln.tensor([1]) });
      await expect(bn.load(path)).rejects.toThrow(/^BatchNorm1d.loadStateDict: expected the keys of this module; missing \["bias","runningMean","runningVar"\], unexpected \["extra"\]/);
      const r = new nn.BatchNorm1d(2);
      await r.load(path, { strict: false });
      close('non-strict load takes what it knows', r.weight!, [2, 3], 0);
    });
  });
});

describe('optimizers', () => {
  /** Linear(3, 2) and one batch whose mse loss has a non-trivial gradient. */
  const problem = () => {
    const model = new nn.Linear(3, 2, { seed: 5 });
    const x = kiln.randn([4, 3], { seed: 6 });
    const y = kiln.randn([4, 2], { seed: 7 });
    const step = async (opt: kiln.optim.Optimizer) => {
      opt.zeroGrad();
      const loss = F.mseLoss(model.forward(x), y);
      loss.backward();
      await opt.step();
      return loss.item();
    };
    return { model, step };
  };

  test('stateDict and loadStateDict carry Adam\'s state: a restored optimizer continues exactly', async () => {
    const a = problem();
    const optA = new optim.Adam(a.model.parameters(), { lr: 0.05, amsgrad: true });
    await a.step(optA);
    await a.step(optA);
    const saved = optA.stateDict();
    expect(Object.keys(saved.state)).toEqual(['0', '1']);
    expect(Object.keys(saved.state[0]!).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
    expect(saved.state[0]!.step).toBe(2);
    expect(saved.paramGroups).toEqual([{ lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, params: [0, 1] }]);
    const b = problem();
    b.model.loadStateDict(a.model.stateDict());
    const optB = new optim.Adam(b.model.parameters(), { lr: 0.5 });
    optB.loadStateDict(saved);
    expect(optB.paramGroups[0]!.lr).toBe(0.05);
    for (let i = 0; i < 2; i++) close(`loss after restoring, step ${i + 1}`, [await b.step(optB)], [await a.step(optA)], 0);
    close('weights', b.model.weight, a.model.weight.dataSync(), 0);
    expect(() => optB.loadStateDict({ state: {}, paramGroups: [...saved.paramGroups, ...saved.paramGroups] })).toThrow(/^optim.Adam.loadStateDict: the state has 2 param groups, this optimizer 1/);
  });

  test('param groups: each group steps with its own options', async () => {
    const { model, step } = problem();
    const [w0, b0] = [model.weight.dataSync(), model.bias!.dataSync()];
    const opt = new optim.SGD([{ params: [model.weight] }, { params: [model.bias!], lr: 0.5, momentum: 0.9 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([[0.1, 0], [0.5, 0.9]]);
    await step(opt);
    const [gw, gb] = [model.weight.grad!.dataSync(), model.bias!.grad!.dataSync()];
    close('weight: w − 0.1·g', model.weight, Array.from(w0, (w, i) => w - 0.1 * gw[i]!));
    close('bias: b − 0.5·g', model.bias!, Array.from(b0, (b, i) => b - 0.5 * gb[i]!));
    const [w1, b1] = [model.weight.dataSync(), model.bias!.dataSync()];
    await step(opt);
    const [gw2, gb2] = [model.weight.grad!.dataSync(), model.bias!.grad!.dataSync()];
    close('weight, no momentum', model.weight, Array.from(w1, (w, i) => w - 0.1 * gw2[i]!));
    close('bias with momentum: b − 0.5·(0.9·g₁ + g₂)', model.bias!, Array.from(b1, (b, i) => b - 0.5 * (0.9 * gb[i]! + gb2[i]!)));
    expect(() => new optim.SGD([{ params: [model.weight] }, { params: [model.weight] }])).toThrow(/^optim.SGD: parameter 0 \(f32\[2,3\]\) is in more than one param group/);
  });

  test('clipGradNorm_ scales every gradient by maxNorm / total norm, and the step uses the clipped gradients', async () => {
    const a = new nn.Parameter(kiln.tensor([1, 2]));
    const b = new nn.Parameter(kiln.tensor([[0.5]]));
    kiln.add(a.mul(kiln.tensor([3, 4])).sum(), b.mul(12).sum()).backward(); // grads [3, 4] and [[12]]: norm 13
    const opt = new optim.SGD([a, b], { lr: 1 });
    const norm = nn.utils.clipGradNorm_([a, b], 2.6);
    close('total norm before clipping', [norm.itemSync()], [13]);
    close('a.grad', a.grad!, [0.6, 0.8], 1e-6);
    close('b.grad', b.grad!, [2.4], 1e-6);
    await opt.step();
    close('a after the step', a, [0.4, 1.2], 1e-6);
    close('b after the step', b, [-1.9], 1e-6);
    a.grad = kiln.tensor([0.3, 0.4]);
    close('a norm below maxNorm leaves the gradient', [nn.utils.clipGradNorm_([a], 1).itemSync()], [0.5]);
    close('unchanged', a.grad, [0.3, 0.4], 1e-6);
  });
});
