/**
 * Prepacked weights: a module keeps the packed copy of a large weight that an
 * entry without updates multiplies by (predict), and never serves a stale copy —
 * not after the host writes the parameter (module.set, a run's inputs, Keras
 * setWeights), not after a training entry of the same module updates it, and not
 * in an exported artifact. Results equal those of a module that packs per call.
 */
import { afterAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadArtifactFile } from '../../src/runtime/node.js';
import { PREPACK_MIN } from '../../compiler/plan.js';

const initial = kiln.getThreads();
afterAll(() => kiln.setThreads(initial));

const [K, N] = [96, 200]; // 19,200 floats of weight: above PREPACK_MIN
const random = (count: number, seed: number) => kiln.randomNormal([count], { seed }).dataSync() as Float32Array;

/** y = x·w (+ b), and w ← w − 0.01·xᵀ·(x·w): two entries, one with an update. */
function graphs() {
  const specs = { x: kiln.spec([null, K]), w: kiln.spec([K, N], 'float32', { kind: 'parameter' }), b: kiln.spec([N], 'float32', { kind: 'parameter' }) };
  const predict = kiln.trace(({ x, w, b }: Record<string, kiln.Tensor>) => kiln.add(kiln.matmul(x!, w!), b!), specs);
  const step = kiln.trace(({ x, w }: Record<string, kiln.Tensor>) => {
    const y = kiln.matmul(x!, w!);
    kiln.assign(w!, kiln.sub(w!, kiln.mul(kiln.matmul(kiln.transpose(x!), y), 0.01)));
    return { loss: kiln.sum(y) };
  }, { x: specs.x, w: specs.w });
  return { predict, step };
}

/** float64 x·w + b, rows of the result. */
function reference(x: Float32Array, w: Float32Array, b: Float32Array, rows: number): Float64Array {
  const out = new Float64Array(rows * N);
  for (let i = 0; i < rows; i++) for (let j = 0; j < N; j++) {
    let s = b[j]!;
    for (let p = 0; p < K; p++) s += x[i * K + p]! * w[p * N + j]!;
    out[i * N + j] = s;
  }
  return out;
}

const close = (got: ArrayLike<number>, want: Float64Array) => {
  expect(got.length).toBe(want.length);
  for (let q = 0; q < want.length; q++) if (!(Math.abs(got[q]! - want[q]!) <= 1e-4 * (1 + Math.abs(want[q]!)))) expect.fail(`value ${q}: ${got[q]}, reference ${want[q]}`);
};

describe('prepacked weights', () => {
  test('a predict entry keeps its weight packed; writing the weight or training it makes the copy stale', async () => {
    expect(K * N).toBeGreaterThanOrEqual(PREPACK_MIN);
    kiln.setThreads(1);
    const { module, manifest, source } = await kiln.compileModule(graphs(), { maxBatch: 16 });
    expect(manifest.version).toBe(2);
    expect(source).toContain('f32_gemm_prepacked__simd128(');
    expect(source.match(/packs_stale\(\);/g)).toHaveLength(1); // called by the training entry alone
    expect(source).toMatch(/function step(__body)?\(batch: i32\): void \{\n\s*const base = arena_base\(\);\n(\s*if \(thread_index\(\) == 0\) \{\n)?\s*\/\/ the weights change: prepacked copies are stale\n\s*packs_stale\(\);/);
    const x = random(16 * K, 1), w1 = random(K * N, 2), w2 = random(K * N, 3), b = random(N, 4);
    module.set('w', w1);
    module.set('b', b);
    close(module.run('predict', { x }).output!.data, reference(x, w1, b, 16));
    close(module.run('predict', { x }).output!.data, reference(x, w1, b, 16)); // from the packed copy
    module.set('w', w2);
    close(module.run('predict', { x }).output!.data, reference(x, w2, b, 16));
    module.run('predict', { x, w: w1 }); // a parameter given with the run's inputs
    close(module.run('predict', { x }).output!.data, reference(x, w1, b, 16));
    module.run('step', { x });
    const trained = module.get('w').data as Float32Array;
    expect(Array.from(trained)).not.toEqual(Array.from(w1));
    close(module.run('predict', { x }).output!.data, reference(x, trained, b, 16));
    // a batch small enough for the few-rows path, then a large one again
    close(module.run('predict', { x: x.subarray(0, 3 * K) }).output!.data, reference(x, trained, b, 3));
    close(module.run('predict', { x }).output!.data, reference(x, trained, b, 16));
  }, 120_000);

  test('the loader reads manifest versions 1 and 2 and refuses others by name', async () => {
    kiln.setThreads(1);
    const { binary, manifest } = await kiln.compileModule({ predict: graphs().predict }, { maxBatch: 16 });
    const { load } = await import('../../src/runtime/index.js');
    await expect(load(binary, { ...manifest, version: 3 })).rejects.toThrow('kiln runtime: expected a kiln-module manifest of version 1 to 2, got kiln-module version 3.');
    const small = await kiln.compileModule({ predict: kiln.trace((x: kiln.Tensor) => kiln.relu(x), [kiln.spec([null, 4])]) });
    expect(small.manifest.version).toBe(1); // no prepacked weights: version 1, as before
    expect((await load(small.binary, small.manifest)).run('predict', { input: new Float32Array([-1, 2, -3, 4]) }).output!.data).toEqual(new Float32Array([0, 2, 0, 4]));
  }, 120_000);

  test('2 threads (columns shared from one packed copy) give the bits of 1 thread', async () => {
    const out: string[] = [];
    for (const t of [1, 2]) {
      kiln.setThreads(t);
      const { module, source } = await kiln.compileModule({ predict: graphs().predict }, { maxBatch: 16 });
      if (t === 2) {
        expect(await module.threaded()).toBe(2);
        expect(source).toMatch(/f32_gemm_prepacked__simd128\(batch, hi - lo,/); // the column split
      }
      const x = random(16 * K, 5);
      module.set('b', random(N, 6));
      for (const seed of [7, 8]) { // a second weight: the packed copy is redone under threads too
        module.set('w', random(K * N, seed));
        module.run('predict', { x });
        out.push(Buffer.from((module.run('predict', { x }).output!.data as Float32Array).buffer).toString('base64'));
      }
    }
    expect(out[2]).toBe(out[0]);
    expect(out[3]).toBe(out[1]);
    expect(out[1]).not.toBe(out[0]);
  }, 120_000);

  test('Keras predict after setWeights, after training, and in the exported artifact', async () => {
    kiln.setThreads(1);
    kiln.utils.setRandomSeed(5);
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [K], units: N, activation: 'relu' }), kiln.layers.dense({ units: 3 })] });
    model.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.05 }), loss: 'meanSquaredError' });
    const x = kiln.randomNormal([20, K], { seed: 9 });
    const y = kiln.randomNormal([20, 3], { seed: 10 });
    /** The same model's predict computed by a fresh model holding the same weights. */
    const fresh = (weights: kiln.Tensor[]) => {
      const m = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [K], units: N, activation: 'relu' }), kiln.layers.dense({ units: 3 })] });
      m.setWeights(weights);
      return Array.from(m.predict(x).dataSync());
    };
    const before = Array.from(model.predict(x).dataSync());
    expect(Array.from(model.predict(x).dataSync())).toEqual(before);
    const replaced = model.getWeights().map((w, i) => (i === 0 ? kiln.mul(w, 0.5) : w));
    model.setWeights(replaced);
    const halved = Array.from(model.predict(x).dataSync());
    expect(halved).not.toEqual(before);
    expect(halved).toEqual(fresh(replaced));
    await model.fit(x, y, { epochs: 2, batchSize: 10, verbose: 0 });
    const trained = Array.from(model.predict(x).dataSync());
    expect(trained).not.toEqual(halved);
    expect(trained).toEqual(fresh(model.getWeights()));
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-prepacked-')), 'model.kiln');
    await model.export(file);
    const artifact = await loadArtifactFile(file);
    expect(Array.from(artifact.predict(x.dataSync() as Float32Array).data)).toEqual(trained);
  }, 120_000);
});
