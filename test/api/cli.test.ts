/** The kiln command line, in process: compile, info, run, train; one-line reasons and exit codes on bad input. */
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { exitCodeOf, main, reasonOf } from '../../src/cli.js';
import * as kiln from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-cli-'));
let out: string[] = [];
afterEach(() => vi.restoreAllMocks());
const capture = () => {
  out = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
};

/** The exit code and one-line reason of a failing command line. */
async function failure(argv: string[]): Promise<[number, string]> {
  try {
    await main(argv);
  } catch (e) {
    return [exitCodeOf(e), String(reasonOf(e))];
  }
  throw new Error(`kiln ${argv.join(' ')} did not fail`);
}

describe('kiln compile / info / run', () => {
  let model: kiln.Sequential;
  const modelPath = join(dir, 'mlp.kiln');
  const artifact = join(dir, 'mlp.kiln-artifact');
  beforeAll(async () => {
    model = kiln.sequential({ layers: [kiln.layers.flatten({ inputShape: [2, 3] }), kiln.layers.dense({ units: 4, activation: 'relu' }), kiln.layers.dense({ units: 3 })] });
    await model.save(modelPath, { metadata: { classNames: JSON.stringify(['cat', 'dog', 'owl']) } });
  });

  test('compile a saved model, show it, run it on .npy and .json inputs', async () => {
    capture();
    expect(await main(['compile', modelPath, '-o', artifact, '--max-batch', '8', '--meta', 'author=kiln tests'])).toBe(0);
    expect(out[0]).toMatch(/^wrote .*mlp\.kiln-artifact: entries predict; wasm \d+\.\d KB, weights \d+\.\d KB$/);
    const [, wasmKb, weightsKb] = /wasm (\S+ KB), weights (\S+ KB)$/.exec(out[0]!)!;
    capture();
    await main(['info', artifact]);
    expect(out.find((l) => l.startsWith('sizes:'))).toMatch(new RegExp(`^sizes: wasm ${wasmKb!.replace('.', '\\.')}, weights ${weightsKb!.replace('.', '\\.')}, `)); // one figure for one artifact
    expect(out).toEqual(expect.arrayContaining([
      'entries: predict (batches of 1 to 8)',
      'inputs:  x float32[n,2,3]',
      'outputs: output float32[n,3]',
      'parameters: 43 (43 trainable) in 4 tensors',
      'metadata author: kiln tests',
    ]));
    capture();
    await main(['info', modelPath]);
    expect(out[0]).toMatch(/mlp\.kiln: kiln model "sequential(_\d+)?" \(Sequential\)$/);
    expect(out).toEqual(expect.arrayContaining(['Total params: 43', 'not compiled (saved without a training configuration)', 'metadata classNames: ["cat","dog","owl"]']));
    const x = kiln.randomUniform([11, 2, 3], { seed: 2 });
    const want = (model.predict(x) as kiln.Tensor).dataSync();
    const npy = join(dir, 'x.npy');
    writeFileSync(npy, kiln.io.encodeNpy({ dtype: 'float64', shape: [11, 2, 3], data: Float64Array.from(x.dataSync()) }));
    capture();
    await main(['run', artifact, npy, '-o', join(dir, 'y.npy')]);
    const y = kiln.io.decodeNpy(readFileSync(join(dir, 'y.npy')));
    expect(y.shape).toEqual([11, 3]);
    Array.from(y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    const json = join(dir, 'x.json');
    writeFileSync(json, JSON.stringify(kiln.slice(x, [0, 0, 0], [2, -1, -1]).arraySync()));
    capture();
    await main(['run', artifact, json]);
    expect(out[0]).toBe('output: float32[2,3]');
    expect(out[1]).toMatch(/^ {2}\[0\] (-?\d\.\d{4} ){2}-?\d\.\d{4} {2}→ (cat|dog|owl)$/);
  }, 60_000);

  test('class names given on the command line (comma-separated) print; malformed ones are reported, not a crash', async () => {
    const json = join(dir, 'x1.json');
    writeFileSync(json, JSON.stringify([[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]]));
    const named = join(dir, 'named.kiln-artifact');
    expect(await main(['compile', modelPath, '-o', named, '--meta', 'classNames=shirt,shoe,bag'])).toBe(0);
    capture();
    await main(['run', named, json]);
    expect(out[1]).toMatch(/ {2}→ (shirt|shoe|bag)$/);
    const broken = join(dir, 'broken.kiln-artifact');
    expect(await main(['compile', modelPath, '-o', broken, '--meta', 'classNames=[shirt'])).toBe(0);
    const errors: string[] = [];
    const error = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      capture();
      await main(['run', broken, json]);
    } finally {
      console.error = error;
    }
    expect(out[1]).toMatch(/^ {2}\[0\] (-?\d\.\d{4} ){2}-?\d\.\d{4}$/);
    expect(errors).toEqual(["kiln run: the artifact's metadata classNames is malformed (expected a list of strings, or comma-separated names); printing without class names."]);
  }, 60_000);

  test('bad input: a one-line reason, exit 1; bad usage: exit 2', async () => {
    expect(await failure(['compile', modelPath])).toEqual([2, 'kiln compile: -o <artifact> is required.']);
    expect(await failure(['compile', join(dir, 'nope.kiln'), '-o', join(dir, 'x')])).toEqual([1, `kiln compile: cannot read "${join(dir, 'nope.kiln')}": no such file.`]);
    expect(await failure(['compile', dir, '-o', join(dir, 'x')])).toEqual([1, `kiln compile: "${dir}" is a directory; expected a model file (a saved .kiln model, or a .js module exporting a model).`]);
    expect(await failure(['run', artifact, dir])).toEqual([1, expect.stringMatching(/^kiln run: cannot read ".*": EISDIR/)]);
    expect((await failure(['compile', modelPath, '-o', join(dir, 'x'), '--bogus']))[0]).toBe(2);
    expect(await failure(['frobnicate'])).toEqual([2, 'kiln: unknown command "frobnicate"; commands are demo, compile, run, info, train, board (kiln --help).']);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([[1, 2, 3]]));
    expect(await failure(['run', artifact, bad])).toEqual([1, `kiln run: input "x" from "${bad}" has shape [1,3]; expected [n,2,3].`]);
    writeFileSync(bad, '[[1, 2], [3]]');
    expect((await failure(['run', artifact, bad]))[1]).toMatch(/is ragged/);
    expect((await failure(['run', artifact, join(dir, 'x.npy'), join(dir, 'x.npy')]))[1]).toMatch(/takes 1 input \(x \[n,2,3\]\), got 2 files/);
    const corrupt = join(dir, 'corrupt.kiln-artifact');
    const bytes = readFileSync(artifact);
    bytes[bytes.length - 3]! ^= 0xff;
    writeFileSync(corrupt, bytes);
    expect((await failure(['info', corrupt]))).toEqual([1, expect.stringMatching(/^kiln runtime: the artifact's (weights|wasm) is corrupted|^kiln runtime: the artifact's weights are corrupted/)]);
    expect((await failure(['run', artifact, join(dir, 'x.npy'), '-o', join(dir, 'missing-folder', 'y.npy')]))[0]).toBe(1);
    expect(existsSync(join(dir, 'missing-folder'))).toBe(false);
    capture();
    expect(await main(['run', '--help'])).toBe(0);
    expect(out[0]).toMatch(/^Usage: kiln run <artifact>/);
  }, 60_000);
});

describe('kiln train', () => {
  test('trains a saved model on the shipped Fashion-MNIST and saves it', async () => {
    const start = join(dir, 'fm.kiln');
    await kiln.sequential({ layers: [kiln.layers.flatten({ inputShape: [28, 28, 1] }), kiln.layers.dense({ units: 10 })] }).save(start);
    const trained = join(dir, 'fm-trained.kiln');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // the progress bar
    capture();
    await main(['train', start, '--data', 'fashion-mnist', '--epochs', '1', '--batch-size', '128', '-o', trained]);
    const accuracy = Number(/accuracy (\d+\.\d+)%/.exec(out.find((l) => l.startsWith('test:'))!)![1]);
    expect(accuracy).toBeGreaterThan(60);
    const loaded = await kiln.loadModel(trained);
    expect(JSON.parse(loaded.metadata.classNames!)[0]).toBe('T-shirt/top');
    expect(await failure(['train', start, '--data', 'cifar'])).toEqual([2, 'kiln train: --data expects fashion-mnist (the built-in data set), got cifar.']);
  }, 120_000);
});
