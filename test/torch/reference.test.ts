/**
 * kiln.nn and kiln.optim against PyTorch: the same small models (PyTorch
 * layouts and state-dict names, loaded with loadStateDict), weights and batches
 * give torch's forward output, the loss at every step of the literal loop
 * (zeroGrad, forward, loss, backward, step) and the final state dict, for every
 * optimizer configuration; the recurrent layers give torch's outputs, final
 * states and gradients. The fixtures are committed JSON from
 * scripts/torch-fixtures-nn.py (torch in float64); nothing foreign runs here.
 * Most runs use the interpreter; two run compiled, as a training loop does.
 */
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { closeness, fixture, i32, type Stored } from '../util/torchFixtures.js';

const { nn } = kiln;
const F = nn.functional;

type StateDict = Record<string, Stored>;
interface Run { optimizer: 'SGD' | 'Adam' | 'AdamW' | 'RMSprop' | 'Adagrad'; options: Record<string, unknown>; losses: number[]; final: StateDict }
interface TrainingFixture { inputs: { x: Stored; y: Stored }; initial: StateDict; output?: Stored; runs: Record<string, Run> }

const f32 = (s: Stored, requiresGrad = false): kiln.Tensor => kiln.fromArray(Float32Array.from(s.data), s.shape, { requiresGrad });
const stateDict = (d: StateDict) => Object.fromEntries(Object.entries(d).map(([k, v]) => [k, f32(v)]));

// float32 against float64: |kiln − torch| ≤ rtol·|torch| + atol, elementwise
const { expectClose, report } = closeness(1e-4, 1e-5);

afterEach(() => kiln.setCompilePolicy({ compileAt: 2 }));
afterAll(() => console.log(report('torch nn reference')));

class Cnn extends nn.Module {
  conv = new nn.Conv2d(1, 4, 3, { padding: 1 });
  pool = new nn.MaxPool2d(2);
  fc = new nn.Linear(36, 3);
  forward(x: kiln.Tensor): kiln.Tensor { return this.fc.forward(F.flatten(this.pool.forward(F.relu(this.conv.forward(x))))); }
}

class Bag extends nn.Module {
  emb = new nn.Embedding(10, 4);
  fc = new nn.Linear(4, 3);
  forward(idx: kiln.Tensor): kiln.Tensor { return this.fc.forward(this.emb.forward(idx).mean(1)); }
}

class Tagger extends nn.Module {
  lstm = new nn.LSTM(3, 5, { batchFirst: true });
  head = new nn.Linear(5, 2);
  forward(x: kiln.Tensor): kiln.Tensor {
    const [out] = this.lstm.forward(x);
    const [n, t] = out.shape as number[];
    return this.head.forward(out.slice([0, t! - 1, 0], [n!, 1, 5]).reshape([n!, 5]));
  }
}

const makeOptimizer = (run: Run, params: kiln.Tensor[]): kiln.optim.Optimizer => {
  const Kind = kiln.optim[run.optimizer] as new (p: kiln.Tensor[], o: Record<string, unknown>) => kiln.optim.Optimizer;
  return new Kind(params, run.options);
};

interface Model { name: string; make: () => kiln.nn.Module; labels: 'int32' | 'float32'; loss: (out: kiln.Tensor, y: kiln.Tensor) => kiln.Tensor; compiled: string[] }
const models: Model[] = [
  { name: 'nn-mlp', make: () => new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3)), labels: 'int32', loss: F.crossEntropy, compiled: [] },
  { name: 'nn-cnn', make: () => new Cnn(), labels: 'int32', loss: F.crossEntropy, compiled: ['adam'] },
  { name: 'nn-batchnorm', make: () => new nn.Sequential(new nn.Linear(4, 6, { bias: false }), new nn.BatchNorm1d(6), new nn.ReLU(), new nn.Linear(6, 3)), labels: 'int32', loss: F.crossEntropy, compiled: ['sgdMomentum'] },
  { name: 'nn-embedding', make: () => new Bag(), labels: 'int32', loss: F.crossEntropy, compiled: [] },
];

/** The literal loop, `steps` times on one batch; the loss of each step. */
async function train(model: kiln.nn.Module, opt: kiln.optim.Optimizer, x: kiln.Tensor, y: kiln.Tensor, lossFn: Model['loss'], steps: number): Promise<number[]> {
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    opt.zeroGrad();
    const out = model.forward(x as never) as kiln.Tensor;
    const loss = lossFn(out, y);
    loss.backward();
    await opt.step();
    losses.push(await loss.item());
  }
  return losses;
}

function expectState(what: string, model: kiln.nn.Module, want: StateDict): void {
  const got = model.stateDict();
  for (const [k, v] of Object.entries(want)) {
    const kilnName = Object.keys(got).find((g) => g === k || g.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) === k);
    expect(kilnName, `${what}: ${k} in the state dict`).toBeDefined();
    expectClose(`${what} ${k}`, got[kilnName!]!, v);
  }
}

for (const m of models) {
  describe(`${m.name}: the literal training loop against torch`, () => {
    const d = fixture<TrainingFixture>(m.name);
    const x = d.inputs.x.data.every(Number.isInteger) && m.name === 'nn-embedding' ? i32(d.inputs.x) : f32(d.inputs.x);
    const y = m.labels === 'int32' ? i32(d.inputs.y) : f32(d.inputs.y);

    test('loads torch\'s state dict and gives its output', () => {
      kiln.setCompilePolicy({ compileAt: Infinity });
      const model = m.make();
      model.loadStateDict(stateDict(d.initial));
      expectClose('output', model.forward(x as never) as kiln.Tensor, d.output!);
    });

    for (const [key, run] of Object.entries(d.runs)) {
      const compiled = m.compiled.includes(key);
      test(`${run.optimizer} ${JSON.stringify(run.options)}${compiled ? ' (compiled)' : ''}: every step's loss and the final weights`, async () => {
        kiln.setCompilePolicy({ compileAt: compiled ? 1 : Infinity });
        const before = kiln.cacheStats();
        const model = m.make();
        model.loadStateDict(stateDict(d.initial));
        const losses = await train(model, makeOptimizer(run, model.parameters()), x, y, m.loss, run.losses.length);
        losses.forEach((l, t) => expectClose(`loss at step ${t + 1}`, l, run.losses[t]!));
        expectState('after the last step', model, run.final);
        if (compiled) expect(kiln.cacheStats().compiledRuns - before.compiledRuns).toBe(run.losses.length);
      });
    }
  });
}

// ---- recurrent layers ------------------------------------------------------------------------

interface RecurrentCase {
  kind: 'RNN' | 'LSTM' | 'GRU';
  options: { numLayers: number; batchFirst: boolean; nonlinearity: 'tanh' | 'relu'; bidirectional?: boolean };
  inputSize: number;
  hiddenSize: number;
  x: Stored;
  h0?: Stored;
  c0?: Stored;
  state: StateDict;
  output: Stored;
  hN: Stored;
  cN?: Stored;
  projection: { output: Stored; hN: Stored; cN?: Stored };
  loss: number;
  gradients: StateDict;
  inputGradient: Stored;
}
const recurrentFixture = fixture<{ cases: Record<string, RecurrentCase>; training: TrainingFixture }>('nn-recurrent');
const bidirectionalFixture = fixture<{ cases: Record<string, RecurrentCase> }>('nn-recurrent-bidirectional');

describe('RNN, LSTM and GRU against torch', () => {
  for (const [name, c] of Object.entries({ ...recurrentFixture.cases, ...bidirectionalFixture.cases })) {
    test(`${name}: ${c.kind}(${c.inputSize}, ${c.hiddenSize}, ${JSON.stringify(c.options)}) gives torch's output, final state and gradients`, () => {
      kiln.setCompilePolicy({ compileAt: Infinity });
      const { nonlinearity: _nl, ...gated } = c.options; // the fixture records torch's RNN default for every kind; LSTM and GRU take no nonlinearity
      const layer = c.kind === 'LSTM' ? new nn.LSTM(c.inputSize, c.hiddenSize, gated) : c.kind === 'GRU' ? new nn.GRU(c.inputSize, c.hiddenSize, gated) : new nn.RNN(c.inputSize, c.hiddenSize, c.options);
      expect(Object.keys(layer.stateDict()).sort()).toEqual(Object.keys(c.state).sort());
      layer.loadStateDict(stateDict(c.state));
      const x = f32(c.x, true);
      let loss: kiln.Tensor;
      if (layer instanceof nn.LSTM) {
        const [out, [h, cell]] = layer.forward(x, c.h0 ? [f32(c.h0), f32(c.c0!)] : undefined);
        expectClose('output', out, c.output);
        expectClose('h_n', h, c.hN);
        expectClose('c_n', cell, c.cN!);
        loss = kiln.add(kiln.add(out.mul(f32(c.projection.output)).sum(), h.mul(f32(c.projection.hN)).sum()), cell.mul(f32(c.projection.cN!)).sum());
      } else {
        const [out, h] = (layer as kiln.nn.GRU).forward(x, c.h0 ? f32(c.h0) : undefined);
        expectClose('output', out, c.output);
        expectClose('h_n', h, c.hN);
        loss = kiln.add(out.mul(f32(c.projection.output)).sum(), h.mul(f32(c.projection.hN)).sum());
      }
      loss.backward();
      expectClose('loss', loss.itemSync(), c.loss);
      for (const [k, p] of layer.namedParameters()) expectClose(`d loss / d ${k}`, p.grad!, c.gradients[k]!);
      expectClose('d loss / d x', x.grad!, c.inputGradient);
    });
  }

  test('the recurrences agree with finite differences (kiln.checkGrads, float64)', () => {
    const h = 3;
    const x = kiln.randn([2, 3, 2], { seed: 61 });
    const weights = (gates: number, seed: number) => [kiln.randn([gates * h, 2], { seed }).mul(0.5), kiln.randn([gates * h, h], { seed: seed + 1 }).mul(0.5), kiln.randn([gates * h], { seed: seed + 2 }).mul(0.5), kiln.randn([gates * h], { seed: seed + 3 }).mul(0.5)];
    const h0 = kiln.randn([1, 2, h], { seed: 62 }).mul(0.5);
    for (const [kind, gates] of [['lstm', 4], ['gru', 3], ['rnnTanh', 1]] as const) {
      kiln.checkGrads((xs, wIh, wHh, bIh, bHh, s) => {
        const r = nn.recurrent(kind, xs, [{ wIh, wHh, bIh, bHh }], s, kind === 'lstm' ? s.mul(-1) : undefined, { batchFirst: true });
        return kiln.concat([r.output.reshape([-1]), r.h.reshape([-1]), ...(r.c ? [r.c.reshape([-1])] : [])]);
      }, [x, ...weights(gates, 70 + 10 * gates), h0]);
    }
  });

  test('a bidirectional LSTM agrees with finite differences (kiln.checkGrads, float64)', () => {
    const h = 2;
    const x = kiln.randn([2, 3, 2], { seed: 63 });
    const w = (shape: number[], seed: number) => kiln.randn(shape, { seed }).mul(0.5);
    const h0 = w([2, 2, h], 64);
    kiln.checkGrads((xs, wIh, wHh, b, wIhReverse, wHhReverse, bReverse, s) => {
      const r = nn.recurrent('lstm', xs, [{ wIh, wHh, bIh: b }, { wIh: wIhReverse, wHh: wHhReverse, bHh: bReverse }], s, s.mul(-1), { batchFirst: true, bidirectional: true });
      return kiln.concat([r.output.reshape([-1]), r.h.reshape([-1]), r.c!.reshape([-1])]);
    }, [x, w([4 * h, 2], 80), w([4 * h, h], 81), w([4 * h], 82), w([4 * h, 2], 83), w([4 * h, h], 84), w([4 * h], 85), h0]);
  });

  test('an LSTM tagger trains as torch\'s does (Adam, the literal loop, compiled)', async () => {
    const d = recurrentFixture.training;
    const run = d.runs.adam!;
    kiln.setCompilePolicy({ compileAt: 1 });
    const model = new Tagger();
    model.loadStateDict(stateDict(d.initial));
    const losses = await train(model, makeOptimizer(run, model.parameters()), f32(d.inputs.x), f32(d.inputs.y), F.mseLoss, run.losses.length);
    losses.forEach((l, t) => expectClose(`loss at step ${t + 1}`, l, run.losses[t]!));
    expectState('after the last step', model, run.final);
  });
});
