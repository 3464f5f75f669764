/**
 * model.save / kiln.loadModel, saveWeights / loadWeights and ModelCheckpoint:
 * configs revive every layer, a loaded model predicts and resumes training bit
 * for bit, corrupted files are refused, failed saves keep the previous file.
 */
import { mkdtempSync, readFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { layerFromConfig } from '../../src/models/save.js';
import { KilnError } from '../../compiler/errors.js';
import { blobs } from '../util/blobs.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-save-'));
const values = (m: kiln.LayersModel) => m.getWeights().map((t) => Array.from(t.dataSync()));

describe('layer configs', () => {
  const L = kiln.layers;
  const layers = [
    L.dense({ units: 3, activation: 'relu', useBias: false, kernelInitializer: 'heNormal', kernelRegularizer: kiln.layers.regularizers.l2({ l2: 0.01 }), inputShape: [4] }),
    L.conv2d({ filters: 4, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'tanh', kernelConstraint: kiln.layers.constraints.maxNorm({ maxValue: 2 }) }),
    L.conv1d({ filters: 2, kernelSize: 3, dilationRate: 2 }),
    L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2 }),
    L.conv2dTranspose({ filters: 3, kernelSize: 2, strides: 2 }),
    L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), L.averagePooling2d({ poolSize: 2 }),
    L.maxPooling1d({ poolSize: 2 }), L.averagePooling1d({ poolSize: 3 }),
    L.globalAveragePooling2d({}), L.globalAveragePooling1d({}), L.globalMaxPooling2d({}),
    L.flatten(), L.reshape({ targetShape: [2, -1] }), L.permute({ dims: [2, 1] }), L.zeroPadding2d({ padding: [1, 2] }),
    L.dropout({ rate: 0.3, seed: 4 }), L.spatialDropout2d({ rate: 0.2 }),
    L.batchNormalization({ momentum: 0.9, epsilon: 1e-3, center: false }), L.layerNormalization({ epsilon: 1e-5 }),
    L.embedding({ inputDim: 10, outputDim: 4, embeddingsInitializer: kiln.layers.initializers.randomUniform({ minval: -1, maxval: 1, seed: 3 }) }),
    L.activation({ activation: 'softmax' }), L.add(), L.multiply(), L.concatenate({ axis: -1 }),
    L.embedding({ inputDim: 5, outputDim: 2, maskZero: true }), L.masking({ maskValue: -1 }),
    L.bidirectional({ layer: L.lstm({ units: 2, returnState: true }), mergeMode: null }),
  ];
  test.each(layers.map((l) => [l.className, l] as const))('%s: getConfig → layerFromConfig → the same config', (_, layer) => {
    const config = layer.getConfig() as Record<string, unknown>;
    const revived = layerFromConfig({ className: layer.className, config: JSON.parse(JSON.stringify(config)) });
    expect(revived.className).toBe(layer.className);
    expect(revived.getConfig()).toEqual(config);
  });
  test('every layer class kiln.layers exports can be revived from a config', () => {
    const classes = Object.values(kiln.layers).filter((v): v is abstract new (...a: never[]) => kiln.layers.Layer => typeof v === 'function' && v.prototype instanceof kiln.layers.Layer && v.name !== 'Merge');
    expect(classes.length).toBeGreaterThan(20);
    for (const Class of classes) {
      let message = '';
      try {
        layerFromConfig({ className: Class.name, config: {} });
      } catch (e) {
        message = (e as Error).message; // missing options are fine; an unknown class is not
      }
      expect(message, Class.name).not.toMatch(/unknown layer class/);
    }
  });

  test('an unknown class is named', () => {
    expect(() => layerFromConfig({ className: 'Dense3D', config: {} })).toThrow(/unknown layer class "Dense3D"; kiln knows .*Conv2D.*Dense/);
  });
});

describe('save and load', () => {
  const build = () => {
    const m = kiln.sequential({ layers: [
      kiln.layers.dense({ inputShape: [4], units: 16, activation: 'relu' }),
      kiln.layers.dropout({ rate: 0.2, seed: 1 }),
      kiln.layers.batchNormalization({}),
      kiln.layers.dense({ units: 3 }),
    ] });
    m.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.01 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy', kiln.metrics.sparseTopKCategoricalAccuracy({ k: 2 })] });
    return m;
  };

  test('a loaded model predicts the same and resumes training bit for bit', async () => {
    const { x, y } = blobs(96, 11);
    const fitArgs = { batchSize: 16, verbose: 0 as const, seed: 5 };
    const uninterrupted = build();
    const whole = await uninterrupted.fit(x, y, { ...fitArgs, epochs: 3 });
    const first = build();
    await first.fit(x, y, { ...fitArgs, epochs: 1 });
    const path = join(dir, 'model.kiln');
    await first.save(path, { metadata: { classes: 'a,b,c' } });
    const loaded = await kiln.loadModel(path);
    expect(loaded).toBeInstanceOf(kiln.Sequential);
    expect(loaded.metadata).toEqual({ classes: 'a,b,c' });
    // the loaded model predicts in the interpreter until it compiles; the trained one in its module
    const want = (first.predict(x) as kiln.Tensor).dataSync();
    (loaded.predict(x) as kiln.Tensor).dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    const rest = await loaded.fit(x, y, { ...fitArgs, epochs: 3, initialEpoch: 1 });
    expect(rest.history.loss).toEqual(whole.history.loss!.slice(1));
    expect(rest.history.sparseTopKCategoricalAccuracy).toEqual(whole.history.sparseTopKCategoricalAccuracy!.slice(1));
    expect(values(loaded)).toEqual(values(uninterrupted));
  }, 120_000);

  test('a functional model with two inputs and a shared layer', async () => {
    const a = kiln.input({ shape: [4], name: 'a' });
    const b = kiln.input({ shape: [4], name: 'b' });
    const shared = kiln.layers.dense({ units: 5, activation: 'tanh', name: 'shared' });
    const joined = kiln.layers.concatenate({ name: 'joined' }).apply([shared.apply(a), shared.apply(b)]);
    const out = kiln.layers.dense({ units: 2, name: 'out' }).apply(joined);
    const model = kiln.model({ inputs: [a, b], outputs: out, name: 'siamese' });
    const path = join(dir, 'functional.kiln');
    await model.save(path); // never compiled: the architecture and the initial weights
    const loaded = await kiln.loadModel(path);
    expect(loaded).toBeInstanceOf(kiln.Functional);
    expect(loaded.toConfig()).toEqual(model.toConfig());
    const { x } = blobs(6, 2);
    expect(Array.from((loaded.predict([x, x]) as kiln.Tensor).dataSync())).toEqual(Array.from((model.predict([x, x]) as kiln.Tensor).dataSync()));
  });

  test('corrupted, truncated and foreign files are refused with a KilnError', async () => {
    const model = build();
    const bytes = kiln.encodeModel(model);
    expect(kiln.decodeModel(bytes).countParams()).toBe(model.countParams());
    const positions = [0, 3, 9, 40, Math.floor(bytes.length / 2), bytes.length - 100, bytes.length - 1];
    for (const at of positions) {
      const bad = bytes.slice();
      bad[at]! ^= 0x10;
      let error: unknown;
      try {
        kiln.decodeModel(bad);
      } catch (e) {
        error = e;
      }
      expect(error, `a flipped bit at byte ${at}`).toBeInstanceOf(KilnError);
    }
    for (const length of [0, 7, 100, bytes.length - 1]) expect(() => kiln.decodeModel(bytes.subarray(0, length))).toThrow(KilnError);
    const weightsPath = join(dir, 'weights.safetensors');
    await model.saveWeights(weightsPath);
    await expect(kiln.loadModel(weightsPath)).rejects.toThrow(/not a kiln model file.*model.loadWeights/);
    await expect(kiln.loadModel(join(dir, 'missing.kiln'))).rejects.toThrow(/cannot read ".*missing.kiln": ENOENT/);
  });

  test('weights: saveWeights / loadWeights, shape mismatches named; a failed save keeps the previous file', async () => {
    const model = build();
    const path = join(dir, 'w.safetensors');
    await model.saveWeights(path);
    const other = build();
    await other.loadWeights(path);
    expect(values(other)).toEqual(values(model));
    const wider = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 17 })] });
    await expect(wider.loadWeights(path)).rejects.toThrow(/the file has weights this Sequential "sequential(_\d+)?" does not: batch_normalization/);
    const renamed = kiln.sequential({ layers: [
      kiln.layers.dense({ inputShape: [4], units: 16, activation: 'relu' }), kiln.layers.dropout({ rate: 0.2, seed: 1 }),
      kiln.layers.batchNormalization({}), kiln.layers.dense({ units: 4 }),
    ] });
    await expect(renamed.loadWeights(path)).rejects.toThrow(/has shape \[16,3\] in the file, expected \[16,4\]/);

    class Custom extends kiln.Model {
      dense = this.track(kiln.layers.dense({ units: 2 }));
      call(x: kiln.Tensor) { return this.dense.apply(x); }
    }
    const custom = new Custom();
    custom.build([4]);
    const previous = join(dir, 'keep.kiln');
    await model.save(previous);
    const before = readFileSync(previous);
    await expect(custom.save(previous)).rejects.toThrow(/subclassed model's forward pass is code.*saveWeights/);
    expect(readFileSync(previous).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const customPath = join(dir, 'custom.safetensors');
    await custom.saveWeights(customPath);
    const again = new Custom();
    again.build([4]);
    await again.loadWeights(customPath);
    expect(values(again)).toEqual(values(custom));
  });
});

describe('ready', () => {
  test('builds a predict-only module for a model without a training config; predict then runs compiled and follows setWeights', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 3, activation: 'tanh' })] });
    const path = join(dir, 'plain.kiln');
    await model.save(path);
    const loaded = await kiln.loadModel(path);
    const { x } = blobs(70, 9);
    const interpreted = (loaded.predict(x) as kiln.Tensor).dataSync();
    await loaded.ready(32);
    const compiled = (loaded.predict(x) as kiln.Tensor).dataSync(); // 70 rows: three runs of the module
    compiled.forEach((v, i) => expect(v).toBeCloseTo(interpreted[i]!, 5));
    loaded.setWeights(loaded.getWeights().map((t) => kiln.mul(t, 0)));
    expect(Array.from((loaded.predict(x) as kiln.Tensor).dataSync()).every((v) => v === 0)).toBe(true);
    await expect(loaded.ready(0)).rejects.toThrow('ready: expected maxBatch to be a positive integer, got 0.');
  }, 60_000);
});

describe('ModelCheckpoint', () => {
  test('saveBestOnly writes when the monitored value improves, to a formatted path; the file loads', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 3 })] });
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const { x, y } = blobs(60, 3);
    const folder = mkdtempSync(join(dir, 'ckpt-'));
    const lossesSeen: number[] = [];
    const history = await model.fit(x, y, {
      epochs: 4, batchSize: 20, verbose: 0, validationSplit: 0.25,
      callbacks: [
        kiln.callbacks.modelCheckpoint({ filepath: join(folder, 'e{epoch:02d}-{val_loss:.3f}.kiln'), saveBestOnly: true }),
        { onEpochEnd: (_e, logs) => void lossesSeen.push(logs.val_loss!) },
      ],
    });
    const expected: string[] = [];
    let best = Infinity;
    history.history.val_loss!.forEach((v, e) => {
      if (v < best) (best = v, expected.push(`e${String(e + 1).padStart(2, '0')}-${v.toFixed(3)}.kiln`));
    });
    expect(readdirSync(folder).sort()).toEqual(expected.sort());
    const last = await kiln.loadModel(join(folder, expected[expected.length - 1]!));
    expect(last.countParams()).toBe(15);
    expect(() => kiln.callbacks.formatCheckpointPath('{nope}.kiln', 0, { loss: 1 })).toThrow(/names \{nope\}, which is not in the logs/);
    expect(kiln.callbacks.formatCheckpointPath('m-{epoch:03d}-{loss:.2f}-{loss}.kiln', 4, { loss: 0.125 })).toBe('m-005-0.13-0.125.kiln');
    expect(existsSync(join(folder, 'nothing'))).toBe(false);
    writeFileSync(join(dir, 'unused'), '');
  }, 120_000);
});
