/**
 * Arguments are checked at the edge of the public API (issue 10 item 6, issue 11
 * item 6): every constructor and function that takes options refuses unknown
 * keys, naming itself and the keys it takes; creation functions and layer
 * constructors refuse bad shapes, sizes, dtypes and integer ranges with exact
 * KilnError messages; ops refuse operands that are neither tensors nor numbers.
 */
import { inspect } from 'node:util';
import { describe, expect, test } from 'vitest';
import { MAX_TENSOR_BYTES } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import * as kiln from '../../src/index.js';
import { messageOf as messageIn } from '../util/errors.js';

const here = 'test/reliability/arguments.test.ts';
const messageOf = (f: () => unknown): string => messageIn(f, here);
const at = ` (at ${here}:L).`;
const bogus = { bogus: 1 } as never;

/** The message of a KilnError `f` throws or rejects with. */
async function messageOfAsync(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return (e as Error).message.replaceAll(new RegExp(`${here}:\\d+`, 'g'), `${here}:L`);
  }
  throw new Error('expected an error');
}

const tiny = () => {
  const m = kiln.sequential({ layers: [kiln.layers.dense({ units: 2, inputShape: [3] })] });
  m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  return m;
};

describe('unknown option keys are refused, naming the function and the keys it takes', () => {
  test('exact messages for a few, as a Keras user meets them', () => {
    expect(messageOf(() => kiln.layers.dense({ units: 3, unit: 4 } as never))).toBe(
      `dense: unknown option 'unit'; expected one of units, activation, useBias, kernelInitializer, biasInitializer, kernelRegularizer, biasRegularizer, kernelConstraint, biasConstraint, name, inputShape, batchSize, batchInputShape, trainable${at}`,
    );
    expect(messageOf(() => kiln.optimizers.adam({ lr: 0.1 } as never))).toBe(
      `adam: unknown option 'lr'; expected one of beta1, beta2, epsilon, amsgrad, learningRate, clipnorm, clipvalue, globalClipnorm, weightDecay, name, convention${at}`,
    );
    expect(messageOf(() => kiln.losses.sparseCategoricalCrossentropy({ from_logits: true } as never))).toBe(
      `losses.sparseCategoricalCrossentropy: unknown option 'from_logits'; expected one of fromLogits, labelSmoothing${at}`,
    );
    expect(messageOf(() => (kiln.losses.meanSquaredError as (o: unknown) => unknown)(bogus))).toBe(`losses.meanSquaredError: unknown option 'bogus'; it takes no options${at}`);
    expect(messageOf(() => tiny().predict(kiln.zeros([1, 3]), { batch_size: 2, verbose: 0 } as never))).toBe(
      `predict: unknown options 'batch_size', 'verbose'; expected one of batchSize${at}`,
    );
    expect(messageOf(() => new kiln.nn.Linear(4, 2, { bias: false, biass: true } as never))).toBe(`nn.Linear: unknown option 'biass'; expected one of bias, seed${at}`);
    expect(messageOf(() => new kiln.optim.SGD(new kiln.nn.Linear(2, 2).parameters(), { learningRate: 0.1 } as never))).toBe(
      `optim.SGD: unknown option 'learningRate'; expected one of lr, momentum, dampening, weightDecay, nesterov${at}`,
    );
    expect(messageOf(() => kiln.tensor([1, 2], { shap: [2] } as never))).toBe(`tensor: unknown option 'shap'; expected one of shape, dtype, requiresGrad${at}`);
  });

  /** Every layer factory kiln.layers exports: each class lists its keys once (`optionKeys`). The lookups, hashing, hashedCrossing and textVectorization run on the host, take no input shape, and check their options in test/api/lookup.test.ts, test/api/rows.test.ts and test/api/text-vectorization.test.ts. */
  const hostLayers = ['stringLookup', 'integerLookup', 'textVectorization', 'hashing', 'hashedCrossing'];
  const layerFactories = Object.entries(kiln.layers).filter(([name, f]) => typeof f === 'function' && /^[a-z]/.test(name) && name !== 'resetLayerNames' && !hostLayers.includes(name)) as [string, (o: unknown) => kiln.layers.Layer][];
  test('the layer table covers every factory', () => expect(layerFactories.length).toBeGreaterThanOrEqual(25));
  test.each(layerFactories)('kiln.layers.%s', (name, make) => {
    // the class of the same name, whatever its capitals (dense → Dense, conv2d → Conv2D, lstm → LSTM)
    const Class = Object.entries(kiln.layers as unknown as Record<string, { optionKeys?: readonly string[] }>).find(([k, v]) => typeof v === 'function' && k !== name && k.toLowerCase() === name.toLowerCase())?.[1];
    const keys = Class?.optionKeys;
    expect(keys, `kiln.layers.${name}'s class lists its option keys`).toBeDefined();
    expect(keys).toEqual(expect.arrayContaining(['name', 'inputShape', 'trainable']));
    expect(messageOf(() => make(bogus))).toBe(`${name}: unknown option 'bogus'; expected one of ${keys!.join(', ')}${at}`);
  });

  // [the subject the message names, a call with { bogus: 1 } as its options]
  const functions: [string, () => unknown][] = [
    // creation functions
    ['tensor', () => kiln.tensor([1], bogus)],
    ['fromArray', () => kiln.fromArray([1], [1], bogus)],
    ['full', () => kiln.full([1], 0, bogus)],
    ['arange', () => kiln.arange(3, undefined, 1, bogus)],
    ['linspace', () => kiln.linspace(0, 1, 3, bogus)],
    ['eye', () => kiln.eye(2, 2, bogus)],
    ['rand', () => kiln.rand([2], bogus)],
    ['randn', () => kiln.randn([2], bogus)],
    ['randint', () => kiln.randint(0, 3, [2], bogus)],
    ['randomNormal', () => kiln.randomNormal([2], bogus)],
    ['randomUniform', () => kiln.randomUniform([2], bogus)],
    // models
    ['input', () => kiln.input({ shape: [2], bogus: 1 } as never)],
    ['sequential', () => kiln.sequential(bogus)],
    ['model', () => kiln.model({ inputs: kiln.input({ shape: [2] }), outputs: kiln.input({ shape: [2] }), bogus: 1 } as never)],
    ['compile', () => kiln.sequential().compile({ optimizer: 'sgd', loss: 'mse', bogus: 1 } as never)],
    ['predict', () => tiny().predict(kiln.zeros([1, 3]), bogus)],
    ['compile', () => kiln.compile((x: kiln.Tensor) => x, bogus)],
    // optimizers and schedules
    ...(['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const).map((n): [string, () => unknown] => [n, () => kiln.optimizers[n](bogus)]),
    ...(['exponentialDecay', 'inverseTimeDecay', 'piecewiseConstantDecay', 'cosineDecay'] as const).map((n): [string, () => unknown] => [n, () => kiln.optimizers.schedules[n](bogus)]),
    // losses, metrics, initializers, regularizers, constraints
    ...Object.keys(kiln.losses).map((n): [string, () => unknown] => [`losses.${n}`, () => (kiln.losses as Record<string, (o: unknown) => unknown>)[n]!(bogus)]),
    ...Object.keys(kiln.metrics).map((n): [string, () => unknown] => [`metrics.${n}`, () => (kiln.metrics as Record<string, (o: unknown) => unknown>)[n]!(bogus)]),
    ...kiln.layers.initializers.initializerNames.map((n): [string, () => unknown] => [`initializers.${n}`, () => (kiln.layers.initializers as unknown as Record<string, (o: unknown) => unknown>)[n]!(bogus)]),
    ['initializers.constant', () => kiln.layers.initializers.constant({ value: 1, bogus: 1 } as never)],
    ...(['l1', 'l2', 'l1l2'] as const).map((n): [string, () => unknown] => [`regularizers.${n}`, () => kiln.layers.regularizers[n](bogus)]),
    ...(['maxNorm', 'nonNeg', 'unitNorm', 'minMaxNorm'] as const).map((n): [string, () => unknown] => [`constraints.${n}`, () => kiln.layers.constraints[n](bogus)]),
    // callbacks
    ['earlyStopping', () => kiln.callbacks.earlyStopping(bogus)],
    ['reduceLROnPlateau', () => kiln.callbacks.reduceLROnPlateau(bogus)],
    ['learningRateScheduler', () => kiln.callbacks.learningRateScheduler((_e, lr) => lr, bogus)],
    ['csvLogger', () => kiln.callbacks.csvLogger({ path: 'x.csv', bogus: 1 } as never)],
    ['modelCheckpoint', () => kiln.callbacks.modelCheckpoint({ filepath: 'x.kiln', bogus: 1 } as never)],
    ['ProgbarLogger', () => new kiln.callbacks.ProgbarLogger(bogus)],
    // data
    ['Dataset.shuffle', () => kiln.data.fromArray([1, 2]).shuffle(2, bogus)],
    ['Dataset.batch', () => kiln.data.fromArray([1, 2]).batch(2, bogus)],
    ['DataLoader', () => new kiln.utils.data.DataLoader(new kiln.utils.data.TensorDataset(kiln.zeros([2, 1])), bogus)],
    // PyTorch style
    ['nn.Linear', () => new kiln.nn.Linear(2, 2, bogus)],
    ['nn.Conv2d', () => new kiln.nn.Conv2d(1, 1, 1, bogus)],
    ['nn.Conv1d', () => new kiln.nn.Conv1d(1, 1, 1, bogus)],
    ['nn.ConvTranspose2d', () => new kiln.nn.ConvTranspose2d(1, 1, 1, bogus)],
    ['nn.MaxPool2d', () => new kiln.nn.MaxPool2d(2, bogus)],
    ['nn.AvgPool2d', () => new kiln.nn.AvgPool2d(2, bogus)],
    ['nn.Dropout', () => new kiln.nn.Dropout(0.5, bogus)],
    ['nn.BatchNorm1d', () => new kiln.nn.BatchNorm1d(2, bogus)],
    ['nn.BatchNorm2d', () => new kiln.nn.BatchNorm2d(2, bogus)],
    ['nn.LayerNorm', () => new kiln.nn.LayerNorm(2, bogus)],
    ['nn.Embedding', () => new kiln.nn.Embedding(2, 2, bogus)],
    ['nn.RNN', () => new kiln.nn.RNN(2, 2, bogus)],
    ['nn.LSTM', () => new kiln.nn.LSTM(2, 2, bogus)],
    ['nn.GRU', () => new kiln.nn.GRU(2, 2, bogus)],
    ...(['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad'] as const).map((n): [string, () => unknown] => [`optim.${n}`, () => new kiln.optim[n](new kiln.nn.Linear(2, 2).parameters(), bogus)]),
    ['optim.lrScheduler.StepLR', () => new kiln.optim.lrScheduler.StepLR(new kiln.optim.SGD(new kiln.nn.Linear(2, 2).parameters()), { stepSize: 1, bogus: 1 } as never)],
    ['optim.lrScheduler.OneCycleLR', () => new kiln.optim.lrScheduler.OneCycleLR(new kiln.optim.SGD(new kiln.nn.Linear(2, 2).parameters()), { maxLr: 1, totalSteps: 4, bogus: 1 } as never)],
  ];
  test.each(functions)('%s', (subject, call) => {
    expect(messageOf(call)).toMatch(new RegExp(`^${subject.replaceAll('.', '\\.')}: unknown option 'bogus'; (expected one of [A-Za-z0-9, ]+|it takes no options) \\(at ${here}:L\\)\\.$`));
  });

  test('model methods: fit, evaluate, save and export', async () => {
    const m = tiny();
    const [x, y] = [kiln.zeros([2, 3]), kiln.zeros([2, 2])];
    expect(await messageOfAsync(() => m.fit(x, y, { epochs: 1, verbose: 0, batch_size: 2 } as never))).toMatch(/^fit: unknown option 'batch_size'; expected one of epochs, batchSize, shuffle, validationSplit, validationData, verbose, seed, callbacks, initialEpoch, stepsPerEpoch, classWeight/);
    expect(await messageOfAsync(() => m.evaluate(x, y, bogus))).toMatch(/^evaluate: unknown option 'bogus'; expected one of batchSize/);
    expect(await messageOfAsync(() => m.save('unused.kiln', { include_optimizer: false } as never))).toMatch(/^save: unknown option 'include_optimizer'; expected one of includeOptimizer, metadata/);
    expect(await messageOfAsync(() => m.export('unused.kiln', { max_batch: 8 } as never))).toMatch(/^export: unknown option 'max_batch'; expected one of entries, maxBatch, folder, metadata/);
  });

  test('model methods and loadModel refuse a path that is not a non-empty string, naming the caller\'s line', async () => {
    const m = tiny();
    const calls: [string, () => Promise<unknown>][] = [
      ['export', () => m.export(undefined as never)], ['save', () => m.save('' as never)],
      ['saveWeights', () => m.saveWeights(42 as never)], ['loadWeights', () => m.loadWeights({} as never)],
      ['loadModel', () => kiln.loadModel(undefined as never)],
    ];
    for (const [name, call] of calls) {
      expect(await messageOfAsync(call)).toMatch(new RegExp(`^${name}: expected a file path \\(a non-empty string\\), got (undefined|""|42|\\{\\}) \\(at test/reliability/arguments\\.test\\.ts:L\\)\\.$`));
    }
  });
});

describe('creation functions check shapes, sizes, dtypes and integer ranges', () => {
  const bytes = 2 ** 31 * 4;
  // [case, call, exact message]
  const cases: [string, () => unknown, string][] = [
    ['zeros([-2, 3])', () => kiln.zeros([-2, 3]), `zeros: expected shape to be an array of non-negative integers, got [-2,3]${at}`],
    ['ones([-1])', () => kiln.ones([-1]), `ones: expected shape to be an array of non-negative integers, got [-1]${at}`],
    ['randomNormal([3, -2])', () => kiln.randomNormal([3, -2]), `randomNormal: expected shape to be an array of non-negative integers, got [3,-2]${at}`],
    ['randomUniform([2.5])', () => kiln.randomUniform([2.5]), `randomUniform: expected shape to be an array of non-negative integers, got [2.5]${at}`],
    ['zeros([2**31]): refused before allocating', () => kiln.zeros([2 ** 31]), `zeros: expected a shape of at most ${MAX_TENSOR_BYTES} bytes (2 GiB, the engine's limit for one tensor), got [2147483648] = ${bytes} bytes${at}`],
    ['full of a string shape', () => kiln.full('3' as never, 1), `full: expected shape to be an array of non-negative integers, got "3"${at}`],
    ['randn huge', () => kiln.randn([65536, 65536]), `randomNormal: expected a shape of at most ${MAX_TENSOR_BYTES} bytes (2 GiB, the engine's limit for one tensor), got [65536,65536] = 17179869184 bytes${at}`],
    ['tensor([3e9], [1], int32): out of range, never wrapped', () => kiln.tensor([3e9], [1], 'int32'), `tensor: expected int32 values in [-2147483648, 2147483647], got 3000000000 at index 0${at}`],
    ['tensor NaN as int32', () => kiln.tensor([1, NaN], [2], 'int32'), `tensor: expected integers for dtype int32, got NaN at index 1${at}`],
    ['tensor of an unknown dtype', () => kiln.tensor([1], [1], 'int8' as never), `tensor: expected dtype to be one of float32, int32, bool (float64 converts to float32), got "int8"${at}`],
    ['tensor with a shape that does not hold the values', () => kiln.tensor([1, 2, 3], { shape: [2, 2] }), `tensor: expected 4 values for shape [2,2], got 3${at}`],
    ['tensor with a fractional shape', () => kiln.tensor([1, 2], [2.5]), `tensor: expected shape to be an array of non-negative integers, got [2.5]${at}`],
    ['tensor of a string', () => kiln.tensor('abc' as never), `tensor: expected values as a number, a boolean, a nested array or a typed array, got "abc"${at}`],
    ['zeros of a bad dtype', () => kiln.zeros([2], 'float16' as never), `zeros: expected dtype to be one of float32, int32, bool (float64 converts to float32), got "float16"${at}`],
    ['randint beyond int32', () => kiln.randint(0, 2 ** 32, [2]), `randint: expected int32 values in [-2147483648, 2147483647], got 4294967295 at index 1${at}`],
    ['eye(-1)', () => kiln.eye(-1), `eye: expected size [n, m] to be an array of non-negative integers, got [-1,-1]${at}`],
  ];
  test.each(cases)('%s', (_name, call, message) => expect(messageOf(call)).toBe(message));

  test('float64 converts to float32 (labelled and stored as float32); { shape } and a shape argument are honoured', () => {
    const t = kiln.tensor([0.1, 0.2], undefined, 'float64' as never);
    expect(t.dtype).toBe('float32');
    expect(t.dataSync()).toBeInstanceOf(Float32Array);
    expect(t.dataSync()[0]).toBe(Math.fround(0.1));
    const fromTyped = kiln.tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    expect([fromTyped.shape, fromTyped.dtype, fromTyped.arraySync()]).toEqual([[2, 3], 'float32', [[1, 2, 3], [4, 5, 6]]]);
    expect(kiln.tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2], dtype: 'int32' }).arraySync()).toEqual([[1, 2], [3, 4], [5, 6]]);
    expect(kiln.tensor([1, 2, 3, 4], [2, 2]).shape).toEqual([2, 2]);
    expect(kiln.tensor([-(2 ** 31), 2 ** 31 - 1], [2], 'int32').dataSync()).toEqual(Int32Array.from([-(2 ** 31), 2 ** 31 - 1]));
    expect(kiln.zeros([0, 3]).shape).toEqual([0, 3]); // empty is allowed
    expect(kiln.ones([2], 'bool').arraySync()).toEqual([true, true]);
  });
});

describe('layer and module constructors check units, filters, kernel sizes and weight sizes', () => {
  const cases: [string, () => unknown, string][] = [
    ['nn.Linear(784, -3)', () => new kiln.nn.Linear(784, -3), `nn.Linear: expected outFeatures to be a positive integer, got -3${at}`],
    ['nn.Linear(784, 2.5)', () => new kiln.nn.Linear(784, 2.5), `nn.Linear: expected outFeatures to be a positive integer, got 2.5${at}`],
    ['nn.Linear(NaN, 2)', () => new kiln.nn.Linear(NaN, 2), `nn.Linear: expected inFeatures to be a positive integer, got NaN${at}`],
    ['nn.Linear too big', () => new kiln.nn.Linear(100_000, 100_000), `nn.Linear: expected a weight of at most ${MAX_TENSOR_BYTES} bytes (2 GiB, the engine's limit for one tensor), got [100000,100000] = 40000000000 bytes${at}`],
    ['nn.Conv2d kernel 0', () => new kiln.nn.Conv2d(3, 8, 0), `nn.Conv2d: expected kernelSize to be a positive integer, got 0${at}`],
    ['nn.Conv2d channels 1.5', () => new kiln.nn.Conv2d(1.5, 8, 3), `nn.Conv2d: expected inChannels to be a positive integer, got 1.5${at}`],
    ['nn.Embedding(-1, 4)', () => new kiln.nn.Embedding(-1, 4), `nn.Embedding: expected numEmbeddings to be a positive integer, got -1${at}`],
    ['nn.LSTM(4, 0)', () => new kiln.nn.LSTM(4, 0), `nn.LSTM: expected hiddenSize to be a positive integer, got 0${at}`],
    ['nn.BatchNorm2d(0)', () => new kiln.nn.BatchNorm2d(0), `nn.BatchNorm2d: expected numFeatures to be a positive integer, got 0${at}`],
    ['nn.LayerNorm([4, -1])', () => new kiln.nn.LayerNorm([4, -1]), `nn.LayerNorm: expected normalizedShape to be a positive integer, got -1${at}`],
    ['nn.Dropout(1.5)', () => new kiln.nn.Dropout(1.5), `nn.Dropout: expected p in [0, 1], got 1.5${at}`],
    ['dense({ units: 2.5 })', () => kiln.layers.dense({ units: 2.5, name: 'd' }), `Dense "d": expected units to be a positive integer, got 2.5${at}`],
    ['dense({ units: -1 })', () => kiln.layers.dense({ units: -1, name: 'd' }), `Dense "d": expected units to be a positive integer, got -1${at}`],
    ['conv2d({ filters: 0 })', () => kiln.layers.conv2d({ filters: 0, kernelSize: 3, name: 'c' }), `Conv2D "c": expected filters to be a positive integer, got 0${at}`],
    ['embedding({ inputDim: NaN })', () => kiln.layers.embedding({ inputDim: NaN, outputDim: 2, name: 'e' }), `Embedding "e": expected inputDim to be a positive integer, got null${at}`],
    ['dense({ units: 1e7 }) on 784 inputs: refused before allocating', () => kiln.sequential({ layers: [kiln.layers.dense({ units: 1e7, inputShape: [784], name: 'big' })] }).predict(kiln.zeros([1, 784])),
      `Dense "big": expected weight 'kernel' of at most ${MAX_TENSOR_BYTES} bytes (2 GiB, the engine's limit for one tensor), got [784,10000000] = 31360000000 bytes${at}`],
  ];
  test.each(cases)('%s', (_name, call, message) => expect(messageOf(call)).toBe(message));

  test('the functional API refuses a too-big layer when it is applied', () => {
    const x = kiln.input({ shape: [784] });
    expect(messageOf(() => kiln.layers.dense({ units: 1e7, name: 'wide' }).apply(x))).toBe(
      `Dense "wide": expected weight 'kernel' of at most ${MAX_TENSOR_BYTES} bytes (2 GiB, the engine's limit for one tensor), got [784,10000000] = 31360000000 bytes${at}`,
    );
  });
});

describe('ops refuse operands that are neither tensors nor numbers', () => {
  test('a functional-API tensor in a raw op becomes a layer (test/api/op-layer.test.ts), never a NaN scalar', () => {
    const x = kiln.input({ shape: [4], name: 'features' });
    const y = kiln.mul(x, 2);
    expect([y.shape, y.dtype, y.layer.className]).toEqual([[4], 'float32', 'OpLambda']);
  });
  const cases: [string, () => unknown, string][] = [
    ['an object', () => kiln.add(kiln.ones([2]), {} as never), `add: expected a Tensor or a number as the second operand, got {}${at}`],
    ['a string', () => kiln.mul('2' as never, kiln.ones([2])), `mul: expected a Tensor or a number as the first operand, got "2"${at}`],
    ['undefined', () => kiln.sub(kiln.ones([2]), undefined as never), `sub: expected a Tensor or a number as the second operand, got undefined${at}`],
    ['null to a unary op', () => kiln.exp(null as never), `exp: expected a Tensor as input, got null${at}`],
    ['an array', () => kiln.maximum(kiln.ones([2]), [1, 2] as never), `maximum: expected a Tensor or a number as the second operand, got [1,2]${at}`],
  ];
  test.each(cases)('%s', (_name, call, message) => expect(messageOf(call)).toBe(message));
  test('numbers still broadcast as scalars of the tensor’s dtype', () => {
    expect(kiln.mul(kiln.tensor([1, 2]), 2).arraySync()).toEqual([2, 4]);
    expect(kiln.add(3, kiln.tensor([1, 2], [2], 'int32')).arraySync()).toEqual([4, 5]);
  });
});

describe('a tensor prints as String(t) does', () => {
  test('util.inspect and console.log show the dtype, shape and values, not internals', () => {
    const t = kiln.tensor([[1, 2], [3, 4]]);
    expect(inspect(t)).toBe('Tensor f32[2,2] [[1,2],[3,4]]');
    expect(inspect({ weights: t })).toBe('{ weights: Tensor f32[2,2] [[1,2],[3,4]] }');
    expect(inspect(kiln.input({ shape: [3], name: 'pixels' }))).toBe('SymbolicTensor [null,3] from InputLayer "pixels"');
  });
});
