/**
 * The end-to-end example the README runs: a model on the shipped Fashion-MNIST
 * images, trained by a training step that is one traced graph (forward,
 * gradients from the autodiff pass, SGD updates of every parameter), compiled
 * with the prediction graph into one wasm module whose entries share the
 * parameters.
 */
import * as kiln from '../compiler/index.js';
import type { Graph, Value } from '../compiler/index.js';
import { compileModule } from './compile.js';
import * as fashionMnist from './datasets/fashionMnist.js';

export type DemoModel = 'mlp' | 'cnn';

export interface DemoOptions {
  model?: DemoModel;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface DemoResult {
  losses: number[];
  testAccuracy: number;
  trainStep: Graph;
  /** Seconds per epoch, compile excluded. */
  epochSeconds: number[];
  compileSeconds: number;
}

interface Architecture {
  /** Parameter shapes and their initialisation scale (fan-in, fan-out). */
  params: Record<string, { shape: number[]; fans?: [number, number] }>;
  inputShape: number[];
  forward: (x: kiln.Tensor, p: Record<string, kiln.Tensor>) => kiln.Tensor;
  learningRate: number;
  epochs: number;
}

const architectures: Record<DemoModel, Architecture> = {
  mlp: {
    params: { w1: { shape: [784, 128], fans: [784, 128] }, b1: { shape: [128] }, w2: { shape: [128, 10], fans: [128, 10] }, b2: { shape: [10] } },
    inputShape: [784],
    forward: (x, p) => kiln.add(kiln.matmul(kiln.relu(kiln.add(kiln.matmul(x, p.w1!), p.b1!)), p.w2!), p.b2!),
    learningRate: 0.1,
    epochs: 5,
  },
  // two 5×5 convolutions with pooling, as in the data set's own benchmark table
  cnn: {
    params: {
      k1: { shape: [5, 5, 1, 32], fans: [25, 800] }, c1: { shape: [32] },
      k2: { shape: [5, 5, 32, 64], fans: [800, 1600] }, c2: { shape: [64] },
      w: { shape: [3136, 10], fans: [3136, 10] }, b: { shape: [10] },
    },
    inputShape: [28, 28, 1],
    forward: (x, p) => {
      const block = (h: kiln.Tensor, k: kiln.Tensor, c: kiln.Tensor) => kiln.maxPool2d(kiln.relu(kiln.add(kiln.conv2d(h, k, { padding: 'same' }), c)), { poolSize: 2 });
      const h = block(block(x, p.k1!, p.c1!), p.k2!, p.c2!);
      return kiln.add(kiln.matmul(kiln.reshape(h, [-1, 3136]), p.w!), p.b!);
    },
    learningRate: 0.2,
    epochs: 1,
  },
};

/** Glorot-uniform weights, U(±sqrt(6 / (fanIn + fanOut))); zeros for biases. */
function initialise(shape: number[], fans: [number, number] | undefined, seed: number): Value {
  if (!fans) return kiln.zeros(shape).value!;
  const limit = Math.sqrt(6 / (fans[0] + fans[1]));
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

export async function demo(options: DemoOptions = {}): Promise<DemoResult> {
  const arch = architectures[options.model ?? 'mlp'];
  if (!arch) throw new kiln.KilnError(`demo: unknown model "${String(options.model)}"; expected mlp or cnn.`);
  const { batchSize = 64, seed = 1 } = options;
  const epochs = options.epochs ?? arch.epochs;
  const learningRate = options.learningRate ?? arch.learningRate;
  const log = options.log ?? ((line: string) => console.log(line));
  const data = await fashionMnist.load();
  const reshape = (s: fashionMnist.Split) => ({ x: { ...s.images.value!, shape: [s.images.shape[0] as number, ...arch.inputShape] }, y: s.labels.value! });
  const [train, test] = [reshape(data.train), reshape(data.test)];
  log(`Fashion-MNIST (shipped): ${train.y.shape[0]} training and ${test.y.shape[0]} test images; model: ${options.model ?? 'mlp'}`);

  const names = Object.keys(arch.params);
  const paramSpecs = Object.fromEntries(names.map((n) => [n, kiln.spec(arch.params[n]!.shape, 'float32', { kind: 'parameter' })]));
  const x = kiln.spec([null, ...arch.inputShape]);
  const trainStep = kiln.trace(({ x, y, lr, ...p }: Record<string, kiln.Tensor>) => {
    const params = names.map((n) => p[n]!);
    const loss = (...ps: kiln.Tensor[]) => kiln.sparseCategoricalCrossentropy(y!, arch.forward(x!, Object.fromEntries(names.map((n, i) => [n, ps[i]!]))), { fromLogits: true });
    const { value, grad } = kiln.valueAndGrad(loss, names.map((_, i) => i))(...params);
    params.forEach((w, i) => kiln.assign(w, kiln.sub(w, kiln.mul(grad[i]!, lr!))));
    return { loss: value };
  }, { x, y: kiln.spec([null], 'int32'), lr: kiln.spec([], 'float32', { kind: 'scalar' }), ...paramSpecs });
  const predict = kiln.trace(({ x, ...p }: Record<string, kiln.Tensor>) => kiln.argmax(arch.forward(x!, p), -1), { x, ...paramSpecs });

  const compileStart = performance.now();
  const { module, binary } = await compileModule({ trainStep, predict }, { maxBatch: Math.max(batchSize, 500) });
  const compileSeconds = (performance.now() - compileStart) / 1000;
  log(`compiled the training step (${trainStep.nodes.length} traced nodes: forward, gradients, SGD updates) and predict into one ${(binary.length / 1024).toFixed(1)} KB wasm module in ${compileSeconds.toFixed(1)} s`);

  // parameters live in the module's memory; the first step binds their initial values
  let initial: Record<string, Float32Array> | undefined = Object.fromEntries(names.map((n, i) => [n, initialise(arch.params[n]!.shape, arch.params[n]!.fans, seed + i).data as Float32Array]));
  const lr = new Float32Array([learningRate]);
  const accuracy = () => {
    let correct = 0;
    const n = test.y.shape[0]!;
    for (let start = 0; start < n; start += 500) {
      const index = Int32Array.from({ length: Math.min(500, n - start) }, (_, i) => start + i);
      const predicted = module.run('predict', { x: rows(test.x, index) }).output!.data;
      index.forEach((r, i) => (correct += predicted[i] === test.y.data[r] ? 1 : 0));
    }
    return correct / n;
  };

  const losses: number[] = [];
  const epochSeconds: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const started = performance.now();
    const order = shuffled(train.y.shape[0]!, seed + 100 + epoch);
    let total = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += batchSize) {
      const index = order.subarray(start, Math.min(start + batchSize, order.length)); // the last batch may be smaller: same module
      const batch = { x: rows(train.x, index), y: rows(train.y, index) };
      const { loss } = module.run('trainStep', { ...batch, lr, ...(initial ?? {}) });
      initial = undefined;
      total += loss!.data[0]!;
      batches++;
    }
    epochSeconds.push((performance.now() - started) / 1000);
    losses.push(total / batches);
    log(`epoch ${epoch + 1}/${epochs}: mean loss ${(total / batches).toFixed(4)}, test accuracy ${(accuracy() * 100).toFixed(1)}% (${epochSeconds[epoch]!.toFixed(1)} s)`);
  }

  const testAccuracy = accuracy();
  const sample = Int32Array.from([0, 1, 2, 3, 4, 5]);
  const predicted = module.run('predict', { x: rows(test.x, sample) }).output!.data;
  log('predictions on the first test images:');
  sample.forEach((r, i) => {
    const [p, t] = [predicted[i]!, test.y.data[r]!];
    log(`  ${p === t ? '✓' : '✗'} predicted ${data.classNames[p]}, label ${data.classNames[t]}`);
  });
  return { losses, testAccuracy, trainStep, epochSeconds, compileSeconds };
}
