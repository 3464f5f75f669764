/**
 * Reproducible by construction: after kiln.utils.setRandomSeed (kiln.manualSeed)
 * every unseeded draw — initializers, dropout, random layers, shuffles, random
 * tensors, PyTorch-style init — repeats, so one process can repeat a run bit for bit.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { kerasRun, torchRun, type RunResult } from './fixtures/seededRuns.js';

const exec = promisify(execFile);
afterAll(() => rmSync(script, { force: true }));
// inside node_modules/.cache so the bundle's external packages resolve from the project's node_modules
const script = join(fileURLToPath(new URL('../../node_modules/.cache/kiln-test/', import.meta.url)), `seeded-runs-${process.pid}.mjs`);

describe('setRandomSeed', () => {
  test('two Keras-style runs after the same seed give the same losses and weights, bit for bit; another seed differs', async () => {
    kiln.utils.setRandomSeed(123);
    const a = await kerasRun();
    kiln.utils.setRandomSeed(123);
    const b = await kerasRun();
    expect(b).toEqual(a);
    kiln.manualSeed(124);
    const c = await kerasRun();
    expect(c.losses).not.toEqual(a.losses);
  });

  test('PyTorch-style init and random tensors repeat after manualSeed', () => {
    const draw = () => {
      const layer = new kiln.nn.Linear(4, 3);
      return [Array.from(layer.weight.dataSync()), Array.from(kiln.randn([5]).dataSync())];
    };
    kiln.manualSeed(7);
    const a = draw();
    kiln.manualSeed(7);
    expect(draw()).toEqual(a);
  });

  test('a seeded PyTorch-style training run repeats bit for bit in one process (every step compiled, the first included)', async () => {
    const a = await torchRun();
    const b = await torchRun();
    expect(b).toEqual(a);
  });

  test('fresh processes give the bits of this one: the same seeded Keras and PyTorch runs, in two new processes', async () => {
    await build({ entryPoints: [new URL('./fixtures/seededRuns.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: script, logLevel: 'silent' });
    kiln.utils.setRandomSeed(123);
    const here = { keras: await kerasRun(), torch: await torchRun() };
    const fresh = async (): Promise<{ keras: RunResult; torch: RunResult }> => JSON.parse((await exec(process.execPath, [script, 'run'], { maxBuffer: 1 << 24 })).stdout);
    const [first, second] = [await fresh(), await fresh()];
    expect(first).toEqual(here);
    expect(second).toEqual(here);
  }, 120_000);

  test('predict gives the same bits before and after ready(), with the training module and after a reload: it always runs compiled', async () => {
    kiln.utils.setRandomSeed(5);
    const build = () => kiln.sequential({ layers: [
      kiln.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu' }),
      kiln.layers.flatten(),
      kiln.layers.dense({ units: 10, activation: 'softmax' }),
    ] });
    const model = build();
    const x = kiln.randomNormal([64, 8, 8, 1]);
    const first = Array.from(model.predict(x).dataSync()); // no module yet: built now, synchronously
    await model.ready();
    expect(Array.from(model.predict(x).dataSync())).toEqual(first);
    model.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    await model.ready(); // the training module
    expect(Array.from(model.predict(x).dataSync())).toEqual(first);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-predict-bits-'));
    await model.save(join(dir, 'm.kiln'));
    const loaded = await kiln.loadModel(join(dir, 'm.kiln'));
    expect(Array.from((loaded.predict(x) as kiln.Tensor).dataSync())).toEqual(first);
  });

  test('the first predict compiles synchronously when nothing is cached (asc in a worker, this thread waiting)', () => {
    const saved = process.env.KILN_CACHE_DIR;
    process.env.KILN_CACHE_DIR = mkdtempSync(join(tmpdir(), 'kiln-cold-'));
    try {
      // a shape no other test compiles: neither the memory nor the (empty) disk cache has it
      const m = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [11], units: 13, kernelInitializer: 'ones', biasInitializer: 'zeros' } as never)] });
      const row = Array.from({ length: 11 }, (_, i) => i + 1);
      const out = Array.from((m.predict(kiln.tensor([row])) as kiln.Tensor).dataSync());
      expect(out).toEqual(new Array(13).fill(66)); // 1 + 2 + … + 11
    } finally {
      if (saved === undefined) delete process.env.KILN_CACHE_DIR;
      else process.env.KILN_CACHE_DIR = saved;
    }
  }, 60_000);

  test('a non-integer seed is refused', () => {
    expect(() => kiln.utils.setRandomSeed(1.5)).toThrow('setRandomSeed: expected an integer seed, got 1.5.');
    expect(() => kiln.manualSeed('1' as never)).toThrow('setRandomSeed: expected an integer seed, got string.');
  });
});
