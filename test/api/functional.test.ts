/** kiln.model (functional API, merge layers, shared layers, several inputs/outputs) and kiln.Model (subclassed). */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { blobs } from '../util/blobs.js';

/** Three Gaussian blobs in 4-D, split into a [n,4] view and a [n,2] view. */
/** The blobs, also split as two inputs: all four features, and the first two. */
function twoInputBlobs(n: number, seed: number): { x: kiln.Tensor; a: kiln.Tensor; b: kiln.Tensor; y: kiln.Tensor } {
  const { x, y } = blobs(n, seed);
  return { x, a: x, b: kiln.slice(x, [0, 0], [-1, 2]), y };
}

const close = (a: kiln.Tensor, b: kiln.Tensor) => {
  expect(a.shape).toEqual(b.shape);
  const bv = b.dataSync();
  a.dataSync().forEach((v, i) => expect(v).toBeCloseTo(bv[i]!, 4));
};

describe('functional models', () => {
  test('two inputs, two dense branches concatenated: trains and predicts', async () => {
    const a = kiln.input({ shape: [4] });
    const b = kiln.input({ shape: [2] });
    expect(a.shape).toEqual([4]);
    const ha = kiln.layers.dense({ units: 8, activation: 'relu' }).apply(a);
    const hb = kiln.layers.dense({ units: 4, activation: 'relu' }).apply(b);
    const joined = kiln.layers.concatenate().apply([ha, hb]);
    expect(joined.shape).toEqual([12]);
    expect(joined.inputs).toEqual([ha, hb]);
    const out = kiln.layers.dense({ units: 3 }).apply(joined);
    const model = kiln.model({ inputs: [a, b], outputs: out });
    expect(model.countParams()).toBe(4 * 8 + 8 + 2 * 4 + 4 + 12 * 3 + 3);
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const data = twoInputBlobs(120, 1);
    const history = await model.fit([data.a, data.b], data.y, { epochs: 6, batchSize: 16, verbose: 0 });
    const loss = history.history.loss!;
    expect(loss[loss.length - 1]).toBeLessThan(loss[0]!);
    expect(history.history.accuracy![5]).toBeGreaterThan(0.8);
    const logits = model.predict([data.a, data.b], { batchSize: 7 }) as kiln.Tensor;
    expect(logits.shape).toEqual([120, 3]);
    await expect(model.fit(data.a, data.y, { verbose: 0 })).rejects.toThrow('fit: expected x to be a list of 2 Tensors (one per input), got one Tensor.');
    expect(() => model.predict([data.a, data.a])).toThrow('predict: expected x[1] of shape [n,2], got f32[120,4].');
  }, 120_000);

  test('a shared layer is counted once and has one weight set', () => {
    const shared = kiln.layers.dense({ units: 5 });
    const a = kiln.input({ shape: [3] });
    const b = kiln.input({ shape: [3] });
    const sum = kiln.layers.add().apply([shared.apply(a), shared.apply(b)]);
    const model = kiln.model({ inputs: [a, b], outputs: sum });
    expect(model.countParams()).toBe(3 * 5 + 5);
    expect(model.getWeights().map((w) => w.shape)).toEqual([[3, 5], [5]]);
    expect(model.layers.filter((l) => l === shared)).toHaveLength(1);
    // both branches read the same kernel: equal inputs give twice one branch
    model.setWeights([kiln.ones([3, 5]), kiln.zeros([5])]);
    const x = kiln.tensor([[1, 2, 3]]);
    expect(Array.from((model.predict([x, x]) as kiln.Tensor).dataSync())).toEqual([12, 12, 12, 12, 12]);
  });

  test('two outputs: predict returns two tensors, fit sums the losses', async () => {
    const x = kiln.input({ shape: [4] });
    const h = kiln.layers.dense({ units: 6, activation: 'tanh' }).apply(x);
    const first = kiln.layers.dense({ units: 2 }).apply(h);
    const second = kiln.layers.multiply().apply([kiln.layers.dense({ units: 1 }).apply(h), kiln.layers.dense({ units: 1 }).apply(x)]);
    const model = kiln.model({ inputs: x, outputs: [first, second] });
    const data = twoInputBlobs(10, 2);
    const out = model.predict(data.x) as kiln.Tensor[];
    expect(out.map((t) => t.shape)).toEqual([[10, 2], [10, 1]]);
    model.compile({ optimizer: 'sgd', loss: 'mse' });
    const y0 = kiln.zeros([10, 2]);
    const y1 = kiln.ones([10, 1]);
    const [p0, p1] = model.predict(data.x) as kiln.Tensor[];
    const want = kiln.add(kiln.meanSquaredError(y0, p0!), kiln.meanSquaredError(y1, p1!)).itemSync();
    // the total, then each output's loss (named after the output layers)
    const [total, l0, l1] = (await model.evaluate(data.x, [y0, y1])) as kiln.Tensor[];
    expect(total!.itemSync()).toBeCloseTo(want, 4);
    expect(l0!.itemSync()).toBeCloseTo(kiln.meanSquaredError(y0, p0!).itemSync(), 5);
    expect(l1!.itemSync()).toBeCloseTo(kiln.meanSquaredError(y1, p1!).itemSync(), 5);
    const history = await model.fit(data.x, [y0, y1], { epochs: 3, verbose: 0 });
    expect(history.history.loss![2]).toBeLessThan(history.history.loss![0]!);
    await expect(model.fit(data.x, y0, { verbose: 0 })).rejects.toThrow('fit: expected y to be a list of 2 Tensors (one per output), got one Tensor.');
  }, 120_000);

  test('summary lists the inputs and every layer once', () => {
    const a = kiln.input({ shape: [4], name: 'features' });
    const shared = kiln.layers.dense({ units: 3, name: 'shared_dense' });
    const out = kiln.layers.concatenate({ name: 'join' }).apply([shared.apply(a), shared.apply(a)]);
    const lines: string[] = [];
    kiln.model({ inputs: a, outputs: out, name: 'two_heads' }).summary((l) => lines.push(l));
    const text = lines.join('\n');
    expect(text).toMatch(/features \(InputLayer\)\s+\[null,4\]\s+0/);
    expect(text).toMatch(/shared_dense \(Dense\)\s+\[null,3\]\s+15/);
    expect(text).toMatch(/join \(Concatenate\)\s+\[null,6\]\s+0/);
    expect(text.match(/shared_dense/g)).toHaveLength(1);
    expect(text).toContain('Total params: 15');
  });

  test('says what is wrong with the graph or a shape', () => {
    const a = kiln.input({ shape: [4], name: 'in_a' });
    const b = kiln.input({ shape: [5], name: 'in_b' });
    const fromB = kiln.layers.dense({ units: 2 }).apply(b);
    expect(() => kiln.model({ inputs: a, outputs: fromB, name: 'm' })).toThrow('Functional "m": output 0 is not reachable from the model\'s inputs: it depends on input "in_b" [null,5], which is not one of them ("in_a").');
    const fixed = kiln.layers.dense({ units: 2, inputShape: [4], name: 'fixed' });
    expect(() => fixed.apply(b)).toThrow('Dense "fixed": expected an input of shape [null,4] (its inputShape), got [null,5].');
    const shared = kiln.layers.dense({ units: 2, name: 'shared' });
    shared.apply(a);
    expect(() => shared.apply(b)).toThrow(/^Dense "shared": the layer was first applied to \[null,4\]/);
    expect(() => kiln.layers.add({ name: 'plus' }).apply([a, b])).toThrow('Add "plus": expected inputs of one shape, got [null,4] and [null,5]');
    expect(() => kiln.layers.concatenate({ name: 'cat' }).apply(a)).toThrow('Concatenate "cat": expected a list of inputs, got one.');
  });

  test('a layer applied to a tensor outside a model builds its weights once and runs, as calling a Keras layer does', () => {
    const dense = kiln.layers.dense({ units: 2, name: 'eager', kernelInitializer: 'ones', biasInitializer: 'zeros' } as never);
    const y = dense.apply(kiln.tensor([[1, 2, 3, 4], [0, 0, 0, 1]]));
    expect(y.arraySync()).toEqual([[10, 10], [1, 1]]);
    expect(dense.apply(kiln.ones([1, 4])).arraySync()).toEqual([[4, 4]]);
    const merged = kiln.layers.add().apply([kiln.ones([1, 3]), kiln.ones([1, 3])]);
    expect(merged.arraySync()).toEqual([[2, 2, 2]]);
    expect(() => dense.apply(kiln.ones([1, 5]))).toThrow('Dense "eager": its first call on a tensor built it for inputs of shape [n,4], got f32[1,5].');
  });
});

class Mlp extends kiln.Model {
  readonly dense1: kiln.layers.Dense;
  readonly dense2: kiln.layers.Dense;
  constructor() {
    super({ name: 'mlp' });
    this.dense1 = this.track(kiln.layers.dense({ units: 16, activation: 'relu' }));
    this.dense2 = this.track(kiln.layers.dense({ units: 3 }));
  }
  call(x: kiln.Tensor): kiln.Tensor {
    return this.dense2.apply(this.dense1.apply(x));
  }
}

describe('subclassed models', () => {
  test('trains, and matches a Sequential given the same weights', async () => {
    const model = new Mlp();
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const data = twoInputBlobs(150, 3);
    const history = await model.fit(data.x, data.y, { epochs: 6, batchSize: 16, verbose: 0 }); // builds from x: [4]
    expect(history.history.loss![5]).toBeLessThan(history.history.loss![0]!);
    expect(history.history.accuracy![5]).toBeGreaterThan(0.8);
    expect(model.countParams()).toBe(4 * 16 + 16 + 16 * 3 + 3);
    const seq = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 16, activation: 'relu' }), kiln.layers.dense({ units: 3 })] });
    seq.setWeights(model.getWeights());
    close(model.predict(data.x) as kiln.Tensor, seq.predict(data.x));
  }, 120_000);

  test('build fixes the shapes; untracked layers and unbuilt models are errors', () => {
    const unbuilt = new Mlp();
    expect(() => unbuilt.countParams()).toThrow('Model "mlp": the model is not built; call model.build(inputShape) or fit/predict first.');
    unbuilt.build([4]);
    expect(unbuilt.getWeights().map((w) => w.shape)).toEqual([[4, 16], [16], [16, 3], [3]]);
    const lines: string[] = [];
    unbuilt.summary((l) => lines.push(l));
    expect(lines.join('\n')).toContain('Total params: 131');
    // layers held in properties, or in a list in one, are tracked when call applies them (as Keras tracks attributes)
    class Held extends kiln.Model {
      private readonly hidden = kiln.layers.dense({ units: 2, name: 'held' });
      private readonly outs = [kiln.layers.dense({ units: 1, name: 'head0' })];
      call(x: kiln.Tensor) { return this.outs[0]!.apply(this.hidden.apply(x)); }
    }
    const held = new Held();
    held.build([3]);
    expect(held.getWeights().map((w) => w.shape)).toEqual([[3, 2], [2], [2, 1], [1]]);
    expect(held.layers.map((l) => l.name)).toEqual(['held', 'head0']);
    const elsewhere = kiln.layers.dense({ units: 2, name: 'elsewhere' });
    class Leaky extends kiln.Model {
      call(x: kiln.Tensor) { return elsewhere.apply(x); }
    }
    expect(() => new Leaky().build([3])).toThrow('Model "model": call applied Dense "elsewhere", which is neither a property of the model nor tracked; assign it to a property (this.dense = kiln.layers.dense(…)) or register it with this.track(layer).');
  });
});
