/**
 * stateful: true on kiln.layers.simpleRNN / lstm / gru / bidirectional (Keras's):
 * a sequence fed in two halves gives what the same weights give on the whole
 * sequence in one call; resetStates brings back the zero-state result; the
 * states are model weights every compiled entry updates (predict, evaluate, the
 * training step); the fixed batch size is required and checked.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import type { TensorData } from '../../src/runtime/index.js';

const BATCH = 3;
const STEPS = 8;
const FEATURES = 2;
const UNITS = 4;

const isKiln = async (f: () => unknown, message: RegExp) => {
  let err: unknown;
  try { await f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(kiln.KilnError);
  expect((err as Error).message).toMatch(message);
};

/** x [BATCH, STEPS, FEATURES] with distinct values, and its steps [from, to). */
const xs = kiln.randomNormal([BATCH, STEPS, FEATURES], { seed: 7 });
function steps(from: number, to: number): kiln.Tensor {
  const d = xs.dataSync();
  const out = new Float32Array(BATCH * (to - from) * FEATURES);
  for (let b = 0; b < BATCH; b++) out.set(d.subarray((b * STEPS + from) * FEATURES, (b * STEPS + to) * FEATURES), b * (to - from) * FEATURES);
  return kiln.tensor(out, [BATCH, to - from, FEATURES]);
}
/** Rows [from, to) of the step axis of a [BATCH, STEPS, UNITS] output. */
function outSteps(y: kiln.Tensor, from: number, to: number): number[] {
  const d = y.dataSync();
  const out: number[] = [];
  for (let b = 0; b < BATCH; b++) out.push(...d.subarray((b * STEPS + from) * UNITS, (b * STEPS + to) * UNITS));
  return out;
}
const close = (got: ArrayLike<number>, want: ArrayLike<number>) => {
  expect(got.length).toBe(want.length);
  const worst = Math.max(...Array.from(want, (w, i) => Math.abs(got[i]! - w)));
  expect(worst).toBeLessThan(1e-6);
};

type Kind = 'simpleRNN' | 'lstm' | 'gru';
function layerOf(kind: Kind, stateful: boolean, returnSequences: boolean): kiln.layers.RecurrentLayer {
  return kiln.layers[kind]({ units: UNITS, returnSequences, stateful, seed: 1 });
}

describe('stateful recurrent layers carry their states from batch to batch', () => {
  for (const kind of ['simpleRNN', 'lstm', 'gru'] as const) {
    test(`${kind}: two halves through a stateful model give the whole sequence's outputs; resetStates starts again from zeros`, () => {
      const whole = kiln.sequential({ layers: [kiln.layers.dense({ units: FEATURES, inputShape: [STEPS, FEATURES], useBias: false }), layerOf(kind, false, true)] });
      const layer = layerOf(kind, true, true);
      const halves = kiln.sequential({ layers: [kiln.layers.dense({ units: FEATURES, batchInputShape: [BATCH, STEPS / 2, FEATURES], useBias: false }), layer] });
      halves.setWeights(whole.getWeights());
      // the carried states are bookkeeping, not parameters; the summary shows the fixed batch
      expect(halves.countParams()).toBe(whole.countParams());
      const lines: string[] = [];
      halves.summary((l) => lines.push(l));
      expect(lines.some((l) => l.includes(`[${BATCH},${STEPS / 2},${UNITS}]`))).toBe(true);
      const full = whole.predict(xs);
      const first = halves.predict(steps(0, STEPS / 2));
      const second = halves.predict(steps(STEPS / 2, STEPS));
      expect(second.shape).toEqual([BATCH, STEPS / 2, UNITS]);
      close(first.dataSync(), outSteps(full, 0, STEPS / 2));
      close(second.dataSync(), outSteps(full, STEPS / 2, STEPS));
      // the second half from zeros differs from its carried result …
      layer.resetStates();
      const fresh = halves.predict(steps(STEPS / 2, STEPS)).dataSync();
      expect(Math.max(...Array.from(fresh, (v, i) => Math.abs(v - second.dataSync()[i]!)))).toBeGreaterThan(1e-3);
      // … and the first half after model.resetStates is the zero-state result again
      halves.resetStates();
      close(halves.predict(steps(0, STEPS / 2)).dataSync(), first.dataSync());
    });
  }

  test('bidirectional over a stateful lstm keeps both directions\' states (in a functional model with input batchSize)', () => {
    const x = kiln.input({ shape: [STEPS / 2, FEATURES], batchSize: BATCH });
    const bi = kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: UNITS, stateful: true }) });
    const model = kiln.model({ inputs: x, outputs: bi.apply(x) as kiln.SymbolicTensor });
    const names = model.trainableWeights.map((v) => v.name);
    expect(names).toEqual(['bidirectional/forward/kernel', 'bidirectional/forward/recurrent_kernel', 'bidirectional/forward/bias', 'bidirectional/backward/kernel', 'bidirectional/backward/recurrent_kernel', 'bidirectional/backward/bias']);
    const a = (model.predict(steps(0, STEPS / 2)) as kiln.Tensor).dataSync().slice();
    expect(Array.from(model.readWeight('bidirectional/backward/state_c')).some((v) => v !== 0)).toBe(true);
    const b = (model.predict(steps(0, STEPS / 2)) as kiln.Tensor).dataSync().slice();
    expect(Math.max(...Array.from(a, (v: number, i) => Math.abs(v - b[i]!)))).toBeGreaterThan(1e-3); // the states carried over
    bi.resetStates();
    close((model.predict(steps(0, STEPS / 2)) as kiln.Tensor).dataSync(), a);
  });

  test('the states follow training: trainOnBatch and fit update them, evaluate carries them, and they start at zero', async () => {
    const fixed = kiln.sequential({ layers: [kiln.layers.gru({ units: UNITS, stateful: true, seed: 2, batchInputShape: [BATCH, STEPS / 2, FEATURES] }), kiln.layers.dense({ units: 1 })] });
    fixed.compile({ optimizer: 'adam', loss: 'mse' });
    const name = `${fixed.layers[0]!.name}/state_h`;
    expect(Array.from(fixed.readWeight(name))).toEqual(new Array(BATCH * UNITS).fill(0));
    const y = kiln.tensor([[0.5], [-0.5], [1]]);
    // the state after one step is the GRU's final state on the first half, from zeros, with the weights before the step
    const x = kiln.input({ shape: [STEPS / 2, FEATURES] });
    const plain = kiln.layers.gru({ units: UNITS, returnState: true });
    const reference = kiln.model({ inputs: x, outputs: plain.applyAll(x)[1]! });
    reference.setWeights(fixed.getWeights().slice(0, 3));
    const want = (reference.predict(steps(0, STEPS / 2)) as kiln.Tensor).dataSync();
    await fixed.trainOnBatch(steps(0, STEPS / 2), y);
    const afterStep = fixed.readWeight(name).slice();
    expect(afterStep.some((v) => v !== 0)).toBe(true);
    close(afterStep, want);
    await fixed.evaluate(steps(STEPS / 2, STEPS), y);
    const afterEval = fixed.readWeight(name).slice();
    expect(Math.max(...Array.from(afterEval, (v, i) => Math.abs(v - afterStep[i]!)))).toBeGreaterThan(1e-4);
    fixed.resetStates();
    expect(Array.from(fixed.readWeight(name))).toEqual(new Array(BATCH * UNITS).fill(0));
    // fit keeps the order by default for a stateful model, and refuses shuffle: true
    const h = await fixed.fit(kiln.concat([steps(0, STEPS / 2), steps(STEPS / 2, STEPS)], 0), kiln.concat([y, y], 0), { epochs: 2, verbose: 0 });
    expect(h.history.loss).toHaveLength(2);
    await isKiln(() => fixed.fit(steps(0, STEPS / 2), y, { shuffle: true, verbose: 0 }), /GRU "gru_\d+" is stateful .* expected shuffle false/);
  });

  test('a subclassed model with a stateful layer (its own batchSize) carries its states too', () => {
    class Reader extends kiln.Model {
      rnn = kiln.layers.simpleRNN({ units: UNITS, returnSequences: true, stateful: true, batchSize: BATCH, seed: 4 });
      call(x: kiln.Tensor | kiln.Tensor[]) { return this.rnn.apply(x as kiln.Tensor); }
    }
    const reader = new Reader();
    const whole = kiln.sequential({ layers: [kiln.layers.simpleRNN({ units: UNITS, returnSequences: true, inputShape: [STEPS, FEATURES], seed: 4 })] });
    reader.build([STEPS / 2, FEATURES]);
    reader.setWeights(whole.getWeights());
    const full = whole.predict(xs);
    close((reader.predict(steps(0, STEPS / 2)) as kiln.Tensor).dataSync(), outSteps(full, 0, STEPS / 2));
    close((reader.predict(steps(STEPS / 2, STEPS)) as kiln.Tensor).dataSync(), outSteps(full, STEPS / 2, STEPS));
  });

  test('the state after a predict is what returnState gives on the same batch', () => {
    const x = kiln.input({ shape: [STEPS, FEATURES], batchSize: BATCH });
    const stateful = kiln.layers.lstm({ units: UNITS, stateful: true, returnState: true, seed: 3 });
    const [out, h, c] = stateful.applyAll(x);
    const model = kiln.model({ inputs: x, outputs: [out!, h!, c!] });
    const [, hOut, cOut] = model.predict(xs) as kiln.Tensor[];
    // the states carried are the ones returned (after the whole batch)
    close(model.readWeight(`${stateful.name}/state_h`), hOut!.dataSync());
    close(model.readWeight(`${stateful.name}/state_c`), cOut!.dataSync());
  });

  test('a batch of another size, or no fixed batch size, is a KilnError naming the layer', async () => {
    const layer = kiln.layers.simpleRNN({ units: UNITS, stateful: true });
    const model = kiln.sequential({ layers: [kiln.layers.dense({ units: FEATURES, batchInputShape: [BATCH, STEPS, FEATURES] }), layer] });
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    await isKiln(() => model.predict(kiln.zeros([BATCH + 1, STEPS, FEATURES])), new RegExp(`SimpleRNN "${layer.name}": stateful needs batches of exactly 3 examples .* got a last batch of 1 in predict`));
    await isKiln(() => model.predict(xs, { batchSize: 2 }), /stateful needs batches of exactly 3 .* got batchSize of 2 in predict/);
    await isKiln(() => model.trainOnBatch(kiln.zeros([2, STEPS, FEATURES]), kiln.zeros([2, UNITS])), /SimpleRNN "simple_rnn.*": stateful needs batches of exactly 3 examples .* got a batch of 2 in trainOnBatch/);
    await isKiln(() => model.evaluate(kiln.zeros([4, STEPS, FEATURES]), kiln.zeros([4, UNITS])), /got a batch of 1 in evaluate/);
    const x = kiln.input({ shape: [STEPS, FEATURES] });
    await isKiln(() => kiln.layers.gru({ units: 2, stateful: true }).apply(x), /GRU "gru.*": stateful needs a fixed batch size .*got none/);
    await isKiln(() => kiln.layers.gru({ units: 2, stateful: true, batchSize: 2 }).apply(kiln.input({ shape: [STEPS, FEATURES], batchSize: 5 })), /stateful with batch size 2, but its input has a fixed batch size of 5/);
    await isKiln(() => kiln.layers.lstm({ units: 2 }).resetStates(), /resetStates needs stateful: true/);
  });

  test('an exported artifact keeps carrying the states from one predict to the next', async () => {
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const runtime = await import('../../src/runtime/index.js');
    const whole = kiln.sequential({ layers: [kiln.layers.gru({ units: UNITS, returnSequences: true, inputShape: [STEPS, FEATURES], seed: 5 })] });
    const model = kiln.sequential({ layers: [kiln.layers.gru({ units: UNITS, returnSequences: true, stateful: true, batchInputShape: [BATCH, STEPS / 2, FEATURES], seed: 5 })] });
    model.setWeights(whole.getWeights());
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-stateful-art-')), 'm.kiln');
    await model.export(file);
    const art = await runtime.loadArtifact(readFileSync(file));
    const full = whole.predict(xs);
    const first = art.predict(steps(0, STEPS / 2).dataSync() as Float32Array) as TensorData;
    const second = art.predict(steps(STEPS / 2, STEPS).dataSync() as Float32Array) as TensorData;
    expect(second.shape).toEqual([BATCH, STEPS / 2, UNITS]);
    close(first.data, outSteps(full, 0, STEPS / 2));
    close(second.data, outSteps(full, STEPS / 2, STEPS));
  });

  test('save and load keep stateful, the batch size and the carried states', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const model = kiln.sequential({ layers: [kiln.layers.lstm({ units: UNITS, stateful: true, returnSequences: true, batchInputShape: [BATCH, STEPS / 2, FEATURES] })] });
    model.predict(steps(0, STEPS / 2));
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-stateful-')), 'm.kiln');
    await model.save(path);
    const again = await kiln.loadModel(path);
    expect(again.batch).toBe(BATCH);
    close((again.predict(steps(STEPS / 2, STEPS)) as kiln.Tensor).dataSync(), (model.predict(steps(STEPS / 2, STEPS)) as kiln.Tensor).dataSync());
  });
});
