/**
 * Reproducible by construction: after kiln.utils.setRandomSeed (kiln.manualSeed)
 * every unseeded draw — initializers, dropout, random layers, shuffles, random
 * tensors, PyTorch-style init — repeats, so one process can repeat a run bit for bit.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
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

  test('a non-integer seed is refused', () => {
    expect(() => kiln.utils.setRandomSeed(1.5)).toThrow('setRandomSeed: expected an integer seed, got 1.5.');
    expect(() => kiln.manualSeed('1' as never)).toThrow('setRandomSeed: expected an integer seed, got string.');
  });
});
