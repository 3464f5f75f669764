/**
 * The end-to-end example the README runs until the compiled back end lands: a
 * two-layer MLP on the shipped Fashion-MNIST images, trained by a training step
 * that is one traced graph (forward, gradients from the autodiff pass, SGD
 * updates), run by the reference interpreter.
 */
import * as kiln from '../compiler/index.js';
import type { Graph, Value } from '../compiler/index.js';
import * as fashionMnist from './datasets/fashionMnist.js';

export interface DemoOptions {
  epochs?: number;
  batchSize?: number;
  hidden?: number;
  learningRate?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface DemoResult {
  losses: number[];
  testAccuracy: number;
  trainStep: Graph;
}

const paramNames = ['w1', 'b1', 'w2', 'b2'] as const;

/** Glorot-uniform weights: U(±sqrt(6 / (fanIn + fanOut))). */
function glorot(shape: [number, number], seed: number): Value {
  const limit = Math.sqrt(6 / (shape[0] + shape[1]));
  return kiln.randomUniform(shape, { seed, minval: -limit, maxval: limit }).value!;
}

function rows(v: Value, index: Int32Array): Value {
  const width = v.data.length / v.shape[0]!;
  const out = v.dtype === 'int32' ? new Int32Array(index.length * width) : new Float32Array(index.length * width);
  index.forEach((r, i) => out.set(v.data.subarray(r * width, (r + 1) * width), i * width));
  return { dtype: v.dtype, shape: [index.length, ...v.shape.slice(1)], data: out };
}

function shuffled(n: number, seed: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const u = kiln.randomUniform([n], { seed }).dataSync();
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i]! * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

const model = (x: kiln.Tensor, w1: kiln.Tensor, b1: kiln.Tensor, w2: kiln.Tensor, b2: kiln.Tensor) =>
  kiln.add(kiln.matmul(kiln.relu(kiln.add(kiln.matmul(x, w1), b1)), w2), b2);

export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const { epochs = 2, batchSize = 100, hidden = 64, learningRate = 0.1, seed = 1 } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const data = await fashionMnist.load();
  const flat = (s: fashionMnist.Split) => ({ x: { ...s.images.value!, shape: [s.images.shape[0] as number, 784] }, y: s.labels.value! });
  const [train, test] = [flat(data.train), flat(data.test)];
  log(`Fashion-MNIST (shipped): ${train.y.shape[0]} training and ${test.y.shape[0]} test images`);

  const specs = {
    x: kiln.spec([null, 784]),
    y: kiln.spec([null], 'int32'),
    lr: kiln.spec([], 'float32', { kind: 'scalar' }),
    w1: kiln.spec([784, hidden], 'float32', { kind: 'parameter' }),
    b1: kiln.spec([hidden], 'float32', { kind: 'parameter' }),
    w2: kiln.spec([hidden, 10], 'float32', { kind: 'parameter' }),
    b2: kiln.spec([10], 'float32', { kind: 'parameter' }),
  };
  const trainStep = kiln.verify(kiln.trace(({ x, y, lr, ...p }: Record<string, kiln.Tensor>) => {
    const params = paramNames.map((name) => p[name]!);
    const loss = (...ps: kiln.Tensor[]) => kiln.sparseCategoricalCrossentropy(y!, model(x!, ...(ps as [kiln.Tensor, kiln.Tensor, kiln.Tensor, kiln.Tensor])), { fromLogits: true });
    const { value, grad } = kiln.valueAndGrad(loss, [0, 1, 2, 3])(...params);
    params.forEach((w, i) => kiln.assign(w, kiln.sub(w, kiln.mul(grad[i]!, lr!))));
    return { loss: value };
  }, specs));
  const predict = kiln.trace(({ x, w1, b1, w2, b2 }: Record<string, kiln.Tensor>) => kiln.argmax(model(x!, w1!, b1!, w2!, b2!), -1), {
    x: specs.x, w1: specs.w1, b1: specs.b1, w2: specs.w2, b2: specs.b2,
  });
  log(`training step: one graph of ${trainStep.nodes.length} nodes (forward, gradients, SGD updates of ${paramNames.join(', ')})`);

  let params: Record<string, Value> = {
    w1: glorot([784, hidden], seed), b1: kiln.zeros([hidden]).value!,
    w2: glorot([hidden, 10], seed + 1), b2: kiln.zeros([10]).value!,
  };
  const lr = kiln.tensor(learningRate).value!;
  const accuracy = () => {
    let correct = 0;
    const n = test.y.shape[0]!;
    for (let start = 0; start < n; start += 500) {
      const index = Int32Array.from({ length: Math.min(500, n - start) }, (_, i) => start + i);
      const predicted = kiln.interpret(predict, { x: rows(test.x, index), ...params }).outputs.output!.data;
      index.forEach((r, i) => (correct += predicted[i] === test.y.data[r] ? 1 : 0));
    }
    return correct / n;
  };

  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const started = performance.now();
    const order = shuffled(train.y.shape[0]!, seed + 100 + epoch);
    let total = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const index = order.subarray(start, Math.min(start + batchSize, order.length)); // the last batch may be smaller
      const { outputs, updates } = kiln.interpret(trainStep, { x: rows(train.x, index), y: rows(train.y, index), lr, ...params });
      params = { ...params, ...updates };
      total += outputs.loss!.data[0]!;
      batches++;
    }
    losses.push(total / batches);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    log(`epoch ${epoch + 1}/${epochs}: mean loss ${(total / batches).toFixed(4)}, test accuracy ${(accuracy() * 100).toFixed(1)}% (${seconds} s)`);
  }

  const testAccuracy = accuracy();
  const sample = Int32Array.from([0, 1, 2, 3, 4, 5]);
  const predicted = kiln.interpret(predict, { x: rows(test.x, sample), ...params }).outputs.output!.data;
  log('predictions on the first test images:');
  sample.forEach((r, i) => {
    const [p, t] = [predicted[i]!, test.y.data[r]!];
    log(`  ${p === t ? '✓' : '✗'} predicted ${data.classNames[p]}, label ${data.classNames[t]}`);
  });
  return { losses, testAccuracy, trainStep };
}
