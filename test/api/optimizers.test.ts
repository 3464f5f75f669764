/**
 * Keras-style optimizers: every optimizer and notable option runs five steps of
 * a small least-squares problem in the reference interpreter and compiled (all
 * cases as entries of one module), and both trajectories are compared with a
 * float64 implementation of the published update formulas written here.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { compileModule, type Compiled } from '../../src/compile.js';

const opt = kiln.optimizers;
const sched = kiln.optimizers.schedules;
const steps = 5;

// the problem: pred = x·w + b, loss = mean((pred − y)²), w f32[3,2], b f32[2]
const X = [[1, 2, -1], [0.5, -1, 2], [-1.5, 0.5, 1], [2, 1, 0.5]];
const Y = [[1, -1], [0.5, 2], [-1, 0.5], [2, 1]];
const W0 = [[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]];
const B0 = [0.1, -0.2];
const f32 = (rows: number[][] | number[]) => new Float32Array(rows.flat());
const data = { x: { data: f32(X), shape: [4, 3] }, y: { data: f32(Y), shape: [4, 2] } };
const shapes = { w: [3, 2], b: [2] };

/** Float64 gradients of the loss at (w, b), flat. */
function gradients(w: number[], b: number[]): [number[], number[]] {
  const dw = new Array(6).fill(0);
  const db = [0, 0];
  X.forEach((row, n) => {
    for (let j = 0; j < 2; j++) {
      const r = row[0]! * w[j]! + row[1]! * w[2 + j]! + row[2]! * w[4 + j]! + b[j]! - Y[n]![j]!;
      const d = (2 * r) / 8;
      for (let i = 0; i < 3; i++) dw[i * 2 + j] += row[i]! * d;
      db[j]! += d;
    }
  });
  return [dw, db];
}

// ---- the published update rules, elementwise in float64 -------------------------------------
type Rule = { slots: Record<string, number>; apply: (g: number, w: number, s: Record<string, number>, lr: number, t: number) => number };

const sgdRule = (mu = 0, nesterov = false): Rule => ({
  slots: mu > 0 ? { m: 0 } : {},
  apply: (g, w, s, lr) => {
    if (mu === 0) return w - lr * g;
    s.m = mu * s.m! - lr * g; // Keras keeps lr inside the velocity
    return nesterov ? w + mu * s.m - lr * g : w + s.m;
  },
});
const adagradRule = (initial = 0.1, eps = 1e-7): Rule => ({
  slots: { accumulator: initial },
  apply: (g, w, s, lr) => {
    s.accumulator = s.accumulator! + g * g;
    return w - (lr * g) / Math.sqrt(s.accumulator + eps);
  },
});
const rmspropRule = ({ rho = 0.9, mu = 0, eps = 1e-7, centered = false } = {}): Rule => ({
  slots: { v: 0, ...(mu > 0 ? { m: 0 } : {}), ...(centered ? { mg: 0 } : {}) },
  apply: (g, w, s, lr) => {
    s.v = rho * s.v! + (1 - rho) * g * g;
    let variance = s.v;
    if (centered) (s.mg = rho * s.mg! + (1 - rho) * g), (variance -= s.mg * s.mg);
    const delta = (lr * g) / Math.sqrt(variance + eps);
    if (mu === 0) return w - delta;
    s.m = mu * s.m! + delta;
    return w - s.m;
  },
});
const adamRule = ({ beta1 = 0.9, beta2 = 0.999, eps = 1e-7, amsgrad = false } = {}): Rule => ({
  slots: { m: 0, v: 0, ...(amsgrad ? { vhat: 0 } : {}) },
  apply: (g, w, s, lr, t) => {
    s.m = beta1 * s.m! + (1 - beta1) * g;
    s.v = beta2 * s.v! + (1 - beta2) * g * g;
    const v = amsgrad ? (s.vhat = Math.max(s.vhat!, s.v)) : s.v;
    const mHat = s.m / (1 - beta1 ** t); // Keras' form: ε after the bias correction of √v, times √(1 − β₂ᵗ)
    return w - (lr * mHat * Math.sqrt(1 - beta2 ** t)) / (Math.sqrt(v) + eps);
  },
});

interface Reference {
  rule: Rule;
  lr: (t: number) => number;
  clipnorm?: number;
  clipvalue?: number;
  globalClipnorm?: number;
  weightDecay?: number;
}

const norm = (gs: number[][]) => Math.sqrt(gs.flat().reduce((a, g) => a + g * g, 0));

/** Parameters after each of `steps` steps, and whether clipping changed any gradient. */
function reference(ref: Reference): { trajectory: [number[], number[]][]; clipped: boolean } {
  let params: number[][] = [W0.flat(), [...B0]];
  const states = params.map((p) => Object.fromEntries(Object.entries(ref.rule.slots).map(([k, v]) => [k, p.map(() => v)])));
  const trajectory: [number[], number[]][] = [];
  let clipped = false;
  for (let t = 0; t < steps; t++) {
    const lr = ref.lr(t);
    let grads: number[][] = gradients(params[0]!, params[1]!);
    const before = norm(grads);
    if (ref.clipnorm) grads = grads.map((g) => (norm([g]) > ref.clipnorm! ? g.map((x) => (x * ref.clipnorm!) / norm([g])) : g));
    if (ref.globalClipnorm && before > ref.globalClipnorm) grads = grads.map((g) => g.map((x) => (x * ref.globalClipnorm!) / before));
    if (ref.clipvalue) grads = grads.map((g) => g.map((x) => Math.min(ref.clipvalue!, Math.max(-ref.clipvalue!, x))));
    clipped ||= norm(grads) < before;
    params = params.map((p, k) => p.map((w0, i) => {
      const w = ref.weightDecay ? w0 - lr * ref.weightDecay * w0 : w0; // decoupled, before the update
      const s = Object.fromEntries(Object.entries(states[k]!).map(([name, values]) => [name, values[i]!]));
      const next = ref.rule.apply(grads[k]![i]!, w, s, lr, t + 1);
      for (const [name, value] of Object.entries(s)) states[k]![name]![i] = value;
      return next;
    }));
    trajectory.push([params[0]!, params[1]!]);
  }
  return { trajectory, clipped };
}

// ---- the cases ------------------------------------------------------------------------------
interface Case {
  make: (name: string) => kiln.optimizers.Optimizer;
  ref: Reference;
  /** Learning rate set before each step (a number-valued learning rate can change without recompiling). */
  lrs?: number[];
}
const constant = (lr: number) => () => lr;
const changing = [0.1, 0.1, 0.05, 0.05, 0.02];

const cases: Record<string, Case> = {
  sgd: { make: () => opt.sgd({ learningRate: 0.1 }), ref: { rule: sgdRule(), lr: constant(0.1) } }, // the default name: optimizer/step
  sgd_momentum: { make: (name) => opt.sgd({ learningRate: 0.1, momentum: 0.9, name }), ref: { rule: sgdRule(0.9), lr: (t) => changing[t]! }, lrs: changing },
  sgd_nesterov: { make: (name) => opt.sgd({ learningRate: 0.1, momentum: 0.8, nesterov: true, name }), ref: { rule: sgdRule(0.8, true), lr: constant(0.1) } },
  sgd_weight_decay: { make: (name) => opt.sgd({ learningRate: 0.1, momentum: 0.5, weightDecay: 0.3, name }), ref: { rule: sgdRule(0.5), lr: constant(0.1), weightDecay: 0.3 } },
  adagrad: { make: (name) => opt.adagrad({ learningRate: 0.1, name }), ref: { rule: adagradRule(), lr: constant(0.1) } },
  adagrad_options: { make: (name) => opt.adagrad({ learningRate: 0.2, initialAccumulatorValue: 0.5, epsilon: 1e-3, name }), ref: { rule: adagradRule(0.5, 1e-3), lr: constant(0.2) } },
  rmsprop: { make: (name) => opt.rmsprop({ learningRate: 0.01, name }), ref: { rule: rmspropRule(), lr: constant(0.01) } },
  rmsprop_centered: { make: (name) => opt.rmsprop({ learningRate: 0.01, centered: true, rho: 0.8, name }), ref: { rule: rmspropRule({ centered: true, rho: 0.8 }), lr: constant(0.01) } },
  rmsprop_momentum: { make: (name) => opt.rmsprop({ learningRate: 0.01, momentum: 0.9, name }), ref: { rule: rmspropRule({ mu: 0.9 }), lr: constant(0.01) } },
  rmsprop_centered_momentum: { make: (name) => opt.rmsprop({ learningRate: 0.01, momentum: 0.5, centered: true, name }), ref: { rule: rmspropRule({ mu: 0.5, centered: true }), lr: constant(0.01) } },
  adam: { make: (name) => opt.adam({ learningRate: 0.05, name }), ref: { rule: adamRule(), lr: constant(0.05) } },
  adam_options: { make: (name) => opt.adam({ learningRate: 0.05, beta1: 0.5, beta2: 0.9, epsilon: 1e-3, name }), ref: { rule: adamRule({ beta1: 0.5, beta2: 0.9, eps: 1e-3 }), lr: constant(0.05) } },
  adam_amsgrad: { make: (name) => opt.adam({ learningRate: 0.05, amsgrad: true, beta2: 0.5, name }), ref: { rule: adamRule({ amsgrad: true, beta2: 0.5 }), lr: constant(0.05) } },
  adamw: { make: (name) => opt.adamw({ learningRate: 0.05, name }), ref: { rule: adamRule(), lr: constant(0.05), weightDecay: 0.004 } },
  adamw_strong: { make: (name) => opt.adamw({ learningRate: 0.05, weightDecay: 0.5, name }), ref: { rule: adamRule(), lr: constant(0.05), weightDecay: 0.5 } },
  clipnorm: { make: (name) => opt.sgd({ learningRate: 0.1, clipnorm: 0.5, name }), ref: { rule: sgdRule(), lr: constant(0.1), clipnorm: 0.5 } },
  clipvalue: { make: (name) => opt.adam({ learningRate: 0.05, clipvalue: 0.2, name }), ref: { rule: adamRule(), lr: constant(0.05), clipvalue: 0.2 } },
  global_clipnorm: { make: (name) => opt.rmsprop({ learningRate: 0.01, globalClipnorm: 0.6, momentum: 0.5, name }), ref: { rule: rmspropRule({ mu: 0.5 }), lr: constant(0.01), globalClipnorm: 0.6 } },
  exponential_decay: {
    make: (name) => opt.sgd({ learningRate: sched.exponentialDecay({ initialLearningRate: 0.2, decaySteps: 2, decayRate: 0.5, staircase: true }), name }),
    ref: { rule: sgdRule(), lr: (t) => 0.2 * 0.5 ** Math.floor(t / 2) },
  },
  inverse_time_decay: {
    make: (name) => opt.sgd({ learningRate: sched.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 }), momentum: 0.9, name }),
    ref: { rule: sgdRule(0.9), lr: (t) => 0.1 / (1 + (0.5 * t) / 2) },
  },
  piecewise_constant_decay: {
    make: (name) => opt.rmsprop({ learningRate: sched.piecewiseConstantDecay({ boundaries: [1, 3], values: [0.02, 0.01, 0.005] }), name }),
    ref: { rule: rmspropRule(), lr: (t) => (t <= 1 ? 0.02 : t <= 3 ? 0.01 : 0.005) },
  },
  cosine_decay: {
    make: (name) => opt.adamw({ learningRate: sched.cosineDecay({ initialLearningRate: 0.01, decaySteps: 3, alpha: 0.1, warmupTarget: 0.05, warmupSteps: 2 }), weightDecay: 0.1, name }),
    ref: { rule: adamRule(), lr: (t) => (t < 2 ? 0.01 + (0.04 * t) / 2 : 0.05 * (0.9 * 0.5 * (1 + Math.cos((Math.PI * Math.min(t - 2, 3)) / 3)) + 0.1)), weightDecay: 0.1 },
  },
};

interface Traced {
  graph: kiln.Graph;
  optimizer: kiln.optimizers.Optimizer;
  params: { w: string; b: string };
}

/** A training step whose parameters are named `<id>_w` and `<id>_b`. */
function traceStep(id: string, optimizer: kiln.optimizers.Optimizer): Traced {
  const params = { w: `${id}_w`, b: `${id}_b` };
  const graph = kiln.trace(({ x, y, w, b }: Record<string, kiln.Tensor>) => {
    const loss = (w: kiln.Tensor, b: kiln.Tensor) => kiln.mean(kiln.square(kiln.sub(kiln.add(kiln.matmul(x!, w), b), y!)));
    const { value, grad } = kiln.valueAndGrad(loss, [0, 1])(w!, b!);
    optimizer.applyGradients([[grad[0]!, w!], [grad[1]!, b!]]);
    return { loss: value };
  }, {
    x: kiln.spec([null, 3]), y: kiln.spec([null, 2]),
    w: kiln.spec(shapes.w, 'float32', { kind: 'parameter', name: params.w }),
    b: kiln.spec(shapes.b, 'float32', { kind: 'parameter', name: params.b }),
  });
  return { graph, optimizer, params };
}

const traced = Object.fromEntries(Object.entries(cases).map(([id, c]) => [id, traceStep(id, c.make(id))]));
const scheduleList = {
  exponential: sched.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 }),
  exponentialStaircase: sched.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true }),
  inverseTime: sched.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 }),
  inverseTimeStaircase: sched.inverseTimeDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5, staircase: true }),
  piecewise: sched.piecewiseConstantDecay({ boundaries: [2, 5], values: [1, 0.5, 0.1] }),
  cosine: sched.cosineDecay({ initialLearningRate: 1, decaySteps: 10, alpha: 0.1 }),
  cosineWarmup: sched.cosineDecay({ initialLearningRate: 0, decaySteps: 10, warmupTarget: 1, warmupSteps: 4 }),
};
const scheduleGraphs = Object.fromEntries(Object.entries(scheduleList).map(([name, s]) => [`schedule_${name}`, kiln.trace((step: kiln.Tensor) => s(step), [kiln.spec([], 'float32', { kind: 'scalar', name: 'step' })])]));

let compiled: Compiled;
beforeAll(async () => {
  compiled = await compileModule({ ...Object.fromEntries(Object.entries(traced).map(([id, t]) => [id, t.graph])), ...scheduleGraphs }, { maxBatch: 4 });
}, 120_000);

const initialParams = (p: Traced['params']) => ({ [p.w]: f32(W0), [p.b]: f32(B0) });
const stateShapes = (p: Traced['params']) => ({ [p.w]: { shape: shapes.w }, [p.b]: { shape: shapes.b } });
const toValue = (data: Float32Array, shape: number[]): kiln.Value => ({ dtype: 'float32', shape, data });

/** The largest |got − want| / max(|want|, 0.1) over a trajectory. */
function worst(got: ArrayLike<number>[][], want: number[][][]): number {
  let err = 0;
  got.forEach((step, t) => step.forEach((values, k) => Array.from(values).forEach((v, i) => {
    const w = want[t]![k]![i]!;
    err = Math.max(err, Math.abs(v - w) / Math.max(Math.abs(w), 0.1));
  })));
  return err;
}

describe('optimizers: interpreter and compiled steps follow the published formulas', () => {
  test.each(Object.keys(cases))('%s', (id) => {
    const c = cases[id]!;
    const { graph, optimizer, params } = traced[id]!;
    const { trajectory: want, clipped } = reference(c.ref);
    if (c.ref.clipnorm || c.ref.clipvalue || c.ref.globalClipnorm) expect(clipped, 'the clipping is active').toBe(true);

    // the interpreter, feeding updates back
    let inputs: Record<string, kiln.Value> = {
      x: toValue(data.x.data, data.x.shape), y: toValue(data.y.data, data.y.shape),
      ...Object.fromEntries(Object.entries({ ...initialParams(params), ...optimizer.initialState(stateShapes(params)) }).map(([k, v]) => [k, toValue(v, [...graph.nodes[graph.inputs.find((i) => i.name === k)!.id]!.type.shape] as number[])])),
    };
    const interpreted: Float32Array[][] = [];
    for (let t = 0; t < steps; t++) {
      if (c.lrs) optimizer.learningRate = c.lrs[t]!;
      const scalars = Object.fromEntries(Object.entries(optimizer.inputs()).map(([k, v]) => [k, toValue(v, [])]));
      const { updates } = kiln.interpret(graph, { ...inputs, ...scalars });
      inputs = { ...inputs, ...updates };
      interpreted.push([updates[params.w]!.data as Float32Array, updates[params.b]!.data as Float32Array]);
    }
    expect(Array.from(inputs[optimizer.stepName]!.data)).toEqual([steps]);

    // compiled: parameters and states stay in the module's memory after the first run binds them
    const m = compiled.module;
    const ran: Float32Array[][] = [];
    for (let t = 0; t < steps; t++) {
      if (c.lrs) optimizer.learningRate = c.lrs[t]!;
      const first = t === 0 ? { ...initialParams(params), ...optimizer.initialState(stateShapes(params)) } : {};
      m.run(id, { ...data, ...first, ...optimizer.inputs() });
      ran.push([m.get(params.w).data as Float32Array, m.get(params.b).data as Float32Array]);
    }
    expect(Array.from(m.get(optimizer.stepName).data)).toEqual([steps]);

    expect(worst(interpreted, want)).toBeLessThan(1e-5);
    expect(worst(ran, want)).toBeLessThan(1e-5);
    // and the step moved the parameters: the test would notice a missing update
    expect(Math.abs(want[steps - 1]![0]![0]! - W0[0]![0]!)).toBeGreaterThan(1e-3);
  });
});

describe('the traced step', () => {
  test('creates each slot for all parameters consecutively, the step and the learning rate as inputs', () => {
    const { graph } = traceStep('p', opt.adam({ amsgrad: true }));
    expect(graph.inputs.map((i) => `${i.name}:${i.kind}`)).toEqual([
      'x:data', 'y:data', 'p_w:parameter', 'p_b:parameter',
      'optimizer/step:state', 'optimizer/learning_rate:scalar',
      'p_w/m:state', 'p_b/m:state', 'p_w/v:state', 'p_b/v:state', 'p_w/vhat:state', 'p_b/vhat:state',
    ]);
    expect(graph.updates.map((u) => u.target).sort()).toEqual(['optimizer/step', 'p_b', 'p_b/m', 'p_b/v', 'p_b/vhat', 'p_w', 'p_w/m', 'p_w/v', 'p_w/vhat']);
    expect(opt.adam().stateSpecs({ w: { shape: [3, 2] }, b: { shape: [2] } }).map((s) => s.name)).toEqual(['w/m', 'b/m', 'w/v', 'b/v', 'optimizer/step']);
  });

  test('a schedule replaces the learning-rate input', () => {
    const { graph } = traced.exponential_decay!;
    expect(graph.inputs.some((i) => i.kind === 'scalar')).toBe(false);
    expect(traced.exponential_decay!.optimizer.inputs()).toEqual({});
  });

  test('initialState gives zeros, Adagrad its initial accumulator, and step 0', () => {
    const state = opt.adagrad({ initialAccumulatorValue: 0.25 }).initialState({ w: { shape: [2, 2] } });
    expect(Object.fromEntries(Object.entries(state).map(([k, v]) => [k, Array.from(v)]))).toEqual({ 'w/accumulator': [0.25, 0.25, 0.25, 0.25], 'optimizer/step': [0] });
    expect(Object.keys(opt.sgd().initialState({ w: { shape: [2] } }))).toEqual(['optimizer/step']);
    expect(Object.keys(opt.rmsprop({ momentum: 0.9, centered: true }).initialState({ w: { shape: [2] } }))).toEqual(['w/v', 'w/m', 'w/mg', 'optimizer/step']);
  });

  test('Adam\'s updates of m, of v and of the weights run as one loop over both parameters each', () => {
    const entry = compiled.entries.find((e) => e.name === 'adam')!;
    const target = new Map(entry.graph.updates.map((u) => [u.id, u.target]));
    const groups = entry.plan.groups.map((g) => g.members.map((m) => target.get(m)));
    // v reads the same gradients as m: they sit in one block laid out like the parameters, shared by both groups
    expect(groups.sort()).toEqual([['adam_w', 'adam_b'], ['adam_w/m', 'adam_b/m'], ['adam_w/v', 'adam_b/v']]);
  });

  test('getConfig returns the options with defaults, a schedule by class name', () => {
    expect(opt.adamw({ learningRate: 0.01 }).getConfig()).toEqual({
      name: 'optimizer', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, amsgrad: false,
      weightDecay: 0.004, clipnorm: undefined, clipvalue: undefined, globalClipnorm: undefined,
    });
    expect(opt.adamw().className).toBe('AdamW');
    expect(traced.cosine_decay!.optimizer.getConfig().learningRate).toEqual({
      className: 'CosineDecay', config: { initialLearningRate: 0.01, decaySteps: 3, alpha: 0.1, warmupTarget: 0.05, warmupSteps: 2 },
    });
    expect(opt.sgd({ momentum: 0.9 }).getConfig()).toMatchObject({ learningRate: 0.01, momentum: 0.9, nesterov: false });
  });
});

describe('schedules', () => {
  const expected: Record<keyof typeof scheduleList, [number, number][]> = {
    exponential: [[0, 0.1], [5, 0.07071067811865475], [10, 0.05], [25, 0.01767766952966369]],
    exponentialStaircase: [[0, 0.1], [5, 0.1], [10, 0.05], [25, 0.025]],
    inverseTime: [[0, 0.1], [1, 0.08], [3, 0.1 / 1.75], [4, 0.05]],
    inverseTimeStaircase: [[0, 0.1], [1, 0.1], [3, 0.1 / 1.5], [4, 0.05]],
    piecewise: [[0, 1], [2, 1], [3, 0.5], [5, 0.5], [6, 0.1], [100, 0.1]],
    cosine: [[0, 1], [2.5, 0.8681980515339464], [5, 0.55], [10, 0.1], [20, 0.1]],
    cosineWarmup: [[0, 0], [2, 0.5], [4, 1], [9, 0.5], [14, 0], [30, 0]],
  };

  test.each(Object.keys(expected) as (keyof typeof scheduleList)[])('%s: valueAt, the interpreter and the compiled graph agree with hand-computed values', (name) => {
    const s = scheduleList[name];
    const graph = scheduleGraphs[`schedule_${name}`]!;
    for (const [step, want] of expected[name]) {
      const close = (x: number) => Math.abs(x - want) <= 1e-6 * Math.max(Math.abs(want), 1e-2);
      expect(Math.abs(s.valueAt(step) - want), `valueAt(${step})`).toBeLessThan(1e-12);
      const interpreted = kiln.interpret(graph, { step: kiln.tensor(step).value! }).outputs.output!.data[0]!;
      const ran = compiled.module.run(`schedule_${name}`, { step: new Float32Array([step]) }).output!.data[0]!;
      expect(close(interpreted), `interpreted at ${step}: ${interpreted}`).toBe(true);
      expect(close(ran), `compiled at ${step}: ${ran}`).toBe(true);
    }
  });

  test('reject bad arguments', () => {
    expect(() => sched.piecewiseConstantDecay({ boundaries: [1, 2], values: [1, 2] })).toThrow('piecewiseConstantDecay: expected 3 finite values (one more than boundaries), got [1,2]');
    expect(() => sched.exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 })).toThrow('exponentialDecay: expected decaySteps > 0, got 0');
  });
});

describe('errors', () => {
  const here = 'test/api/optimizers.test.ts';
  const messageOf = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(kiln.KilnError);
      return (e as Error).message.replaceAll(new RegExp(`${here}:\\d+`, 'g'), `${here}:L`);
    }
    throw new Error('expected an error');
  };
  const at = ` (at ${here}:L).`;
  const specs = { x: kiln.spec([null, 3]), w: kiln.spec([3], 'float32', { kind: 'parameter' }) };

  test('applyGradients on a data input names the optimizer, the pair and the input', () => {
    expect(messageOf(() => kiln.trace(({ x, w }: Record<string, kiln.Tensor>) => {
      opt.adam().applyGradients([[kiln.sum(x!, 0), x!]]);
      return kiln.sum(w!);
    }, specs))).toBe(`adam.applyGradients: expected the parameter of pair 0 to be a parameter input of the current trace (kiln.spec(shape, 'float32', { kind: 'parameter' })), got data input "x" f32[B,3]${at}`);
  });

  test('applyGradients on a computed tensor, with a gradient of another type, or outside a trace', () => {
    expect(messageOf(() => kiln.trace(({ w }: Record<string, kiln.Tensor>) => {
      const doubled = kiln.mul(w!, 2);
      opt.sgd().applyGradients([[w!, doubled]]);
      return doubled;
    }, { w: specs.w }))).toBe(`sgd.applyGradients: expected the parameter of pair 0 to be a parameter input of the current trace (kiln.spec(shape, 'float32', { kind: 'parameter' })), got a computed tensor f32[3]${at}`);
    expect(messageOf(() => kiln.trace(({ x, w }: Record<string, kiln.Tensor>) => {
      opt.rmsprop().applyGradients([[x!, w!]]);
      return w!;
    }, specs))).toBe(`rmsprop.applyGradients: expected the gradient of "w" to be f32[3], got f32[B,3]${at}`);
    expect(messageOf(() => opt.adagrad().applyGradients([[kiln.zeros([3]), kiln.zeros([3])]]))).toBe(`adagrad.applyGradients: outside kiln.compile, expected [gradient, variable] pairs (kiln.variable, model.trainableWeights) so the update has somewhere to go, got a Tensor at 0${at}`);
  });

  test('two optimizers of one name in one trace, bad options, setting a scheduled learning rate', () => {
    expect(messageOf(() => kiln.trace(({ w }: Record<string, kiln.Tensor>) => {
      opt.sgd().applyGradients([[w!, w!]]);
      opt.adam().applyGradients([[w!, w!]]);
      return w!;
    }, { w: specs.w }))).toBe(`adam.applyGradients: the trace already has an input named "optimizer/step"; call applyGradients once per trace, or give each optimizer its own name${at}`);
    expect(messageOf(() => opt.adam({ clipnorm: 1, clipvalue: 0.5 }))).toBe(`adam: expected at most one of clipnorm, clipvalue and globalClipnorm, got clipnorm=1, clipvalue=0.5${at}`);
    expect(messageOf(() => opt.sgd({ momentum: 1.5 }))).toBe(`sgd: expected momentum in [0, 1], got 1.5${at}`);
    expect(messageOf(() => (traced.cosine_decay!.optimizer.learningRate = 0.1))).toBe(`adamw.learningRate: a schedule is traced into the step, so it can neither be set nor replaced; trace a new step with a new optimizer instead${at}`);
  });
});
