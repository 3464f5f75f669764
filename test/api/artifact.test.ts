/**
 * Portable artifacts: model.export → kiln/runtime's loadArtifact, as one file and
 * as a folder; predict equals the model's, trainStep equals trainOnBatch, updated
 * weights read back; every corruption is refused before anything runs.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import * as runtime from '../../src/runtime/index.js';
import { blobs } from '../util/blobs.js';
import { sealManifest } from '../../src/runtime/artifact.js';

const seal = (m: unknown) => sealManifest(m as runtime.ArtifactManifest);

const dir = mkdtempSync(join(tmpdir(), 'kiln-artifact-'));

function classifier() {
  const m = kiln.sequential({ layers: [
    kiln.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }),
    kiln.layers.dense({ units: 3 }),
  ] });
  m.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.02 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  return m;
}

describe('export and load', () => {
  const { x, y } = blobs(100, 21);
  let model: ReturnType<typeof classifier>;
  let file: string;
  beforeAll(async () => {
    model = classifier();
    await model.fit(x, y, { epochs: 1, batchSize: 20, verbose: 0 });
    file = join(dir, 'train.kiln-artifact');
    await model.export(file, { entries: ['predict', 'trainStep', 'evaluate'], maxBatch: 32, metadata: { classes: 'a,b,c' } });
  }, 120_000);

  test('predict over more rows than maxBatch equals the model; metadata, entries, weights', async () => {
    const art = await runtime.loadArtifact(readFileSync(file));
    expect(art.entries.sort()).toEqual(['evaluate', 'predict', 'trainStep']);
    expect(art.metadata).toEqual({ classes: 'a,b,c' });
    const out = art.predict(x.dataSync() as Float32Array) as runtime.TensorData;
    expect(out.shape).toEqual([100, 3]);
    const want = (model.predict(x) as kiln.Tensor).dataSync();
    out.data.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    expect(Object.keys(art.getWeights())).toEqual(expect.arrayContaining([`${model.layers[0]!.name}/kernel`, `${model.layers[1]!.name}/bias`, 'optimizer/step']));
  });

  test('trainStep in the runtime equals trainOnBatch in the front end; weights read back and save', async () => {
    const art = await runtime.loadArtifact(readFileSync(file));
    const batch = { x: kiln.slice(x, [0, 0], [32, -1]), y: kiln.slice(y, [0], [32]) };
    const logs = art.trainStep(batch.x.dataSync() as Float32Array, batch.y.dataSync() as Int32Array);
    const [loss, accuracy] = (await model.trainOnBatch(batch.x, batch.y)) as number[];
    expect(logs.loss).toBeCloseTo(loss!, 6);
    expect(logs.accuracy).toBeCloseTo(accuracy!, 6);
    const after = art.getWeights();
    const names = model.layers.flatMap((l) => [`${l.name}/kernel`, `${l.name}/bias`]);
    model.getWeights().forEach((t, i) => t.dataSync().forEach((v, k) => expect(after[names[i]!]!.data[k]).toBeCloseTo(v, 6)));
    const evaluated = art.evaluate(x.dataSync() as Float32Array, y.dataSync() as Int32Array);
    const [l, a] = ((await model.evaluate(x, y)) as kiln.Tensor[]).map((t) => t.itemSync());
    expect(evaluated.loss).toBeCloseTo(l!, 5);
    expect(evaluated.accuracy).toBeCloseTo(a!, 6);
    // the trained weights go back to the front end; the whole artifact re-encodes with fresh checksums
    const weightsPath = join(dir, 'from-runtime.safetensors');
    writeFileSync(weightsPath, art.saveWeights());
    const copy = classifier();
    await copy.loadWeights(weightsPath);
    copy.getWeights().forEach((t, i) => expect(Array.from(t.dataSync())).toEqual(Array.from(after[names[i]!]!.data)));
    const again = await runtime.loadArtifact(art.toBytes());
    expect((again.predict(x.dataSync() as Float32Array) as runtime.TensorData).data).toEqual((art.predict(x.dataSync() as Float32Array) as runtime.TensorData).data);
  });

  test('a folder artifact; bad input names the entry and the input', async () => {
    const folder = join(dir, 'predict-folder');
    await model.export(folder, { folder: true });
    expect(readdirSync(folder).sort()).toEqual(['manifest.json', 'model.wasm', 'weights.safetensors']);
    const art = await kiln.loadArtifactFile(folder);
    expect(art.entries).toEqual(['predict']);
    expect(() => art.predict(new Float32Array(10))).toThrow('kiln runtime: predict: input "x" has 10 values, not a whole number of rows of 4.');
    expect(() => art.predict({ data: new Float32Array(8), shape: [4, 2] })).toThrow('kiln runtime: predict: input "x" expected shape [n,4], got [4,2].');
    expect(() => art.trainStep(new Float32Array(4), new Int32Array(1))).toThrow(/trainStep: this artifact was exported without trainStep/);
  });

  test('truncated, bit-flipped, wrong-version and mismatched artifacts are refused with KilnRuntimeErrors', async () => {
    const bytes = new Uint8Array(readFileSync(file));
    const refuse = async (b: Uint8Array, what: string) => {
      let error: unknown;
      try {
        await runtime.loadArtifact(b);
      } catch (e) {
        error = e;
      }
      expect(error, what).toBeInstanceOf(runtime.KilnRuntimeError);
      return (error as Error).message;
    };
    for (const length of [0, 5, 8, 100, bytes.length >> 1, bytes.length - 1]) await refuse(bytes.subarray(0, length), `truncated to ${length}`);
    // a flipped bit anywhere: 64 positions spread over the file
    for (let k = 0; k < 64; k++) {
      const at = Math.floor((k * (bytes.length - 1)) / 63);
      const bad = bytes.slice();
      bad[at]! ^= 1 << (k % 8);
      await refuse(bad, `bit ${k % 8} of byte ${at}`);
    }
    const parts = { manifest: JSON.parse(readFileSync(join(dir, 'predict-folder', 'manifest.json'), 'utf8')), wasm: readFileSync(join(dir, 'predict-folder', 'model.wasm')), weights: readFileSync(join(dir, 'predict-folder', 'weights.safetensors')) };
    expect(await refuse(new Uint8Array(0), 'empty')).toMatch(/not a valid safetensors file/);
    await expect(runtime.loadArtifact({ ...parts, manifest: seal({ ...parts.manifest, version: 99 }) })).rejects.toThrow(/format version 99; this runtime reads version 1/);
    await expect(runtime.loadArtifact({ ...parts, manifest: seal({ ...parts.manifest, format: 'onnx' }) })).rejects.toThrow(/not a kiln artifact/);
    const wrongShape = { ...parts.manifest, module: { ...parts.manifest.module, inputs: parts.manifest.module.inputs.map((s: runtime.Slot) => (s.name === `${model.layers[0]!.name}/kernel` ? { ...s, shape: [4, 9] } : s)) } };
    await expect(runtime.loadArtifact({ ...parts, manifest: seal(wrongShape) })).rejects.toThrow(`kiln runtime: weight "${model.layers[0]!.name}/kernel" has shape [4,8]; the module expects [4,9].`);
    await expect(runtime.loadArtifact({ ...parts, manifest: { ...parts.manifest, name: 'renamed' } })).rejects.toThrow(/the artifact's manifest is corrupted/);
    const otherWasm = new Uint8Array(parts.wasm);
    otherWasm[otherWasm.length - 1]! ^= 1;
    await expect(runtime.loadArtifact({ ...parts, wasm: otherWasm })).rejects.toThrow(/the artifact's wasm is corrupted/);
  });
});

describe('crc32', () => {
  test('the standard check value, and any split of the input gives the same CRC', () => {
    const bytes = new TextEncoder().encode('123456789');
    expect(runtime.crc32(bytes)).toBe('cbf43926');
    const long = Uint8Array.from({ length: 1001 }, (_, i) => (i * 2654435761) >>> 24);
    for (const cut of [0, 1, 7, 8, 9, 500, 1001]) expect(runtime.crc32(long.subarray(0, cut), long.subarray(cut))).toBe(runtime.crc32(long));
  });
});

describe('the runtime stays self-contained', () => {
  test('src/runtime imports nothing outside its folder (node.ts, the Node-only entry, Node built-ins too; nothing imports node.ts)', () => {
    const folder = join(__dirname, '../../src/runtime');
    for (const name of readdirSync(folder)) {
      const source = readFileSync(join(folder, name), 'utf8');
      for (const [, spec] of source.matchAll(/^(?:import|export)[^;]*? from '([^']+)'/gm)) {
        expect(spec, `${name} imports ${spec}`).toMatch(name === 'node.ts' ? /^(\.\/[\w.-]+\.js|node:[\w/]+)$/ : /^\.\/[\w.-]+\.js$/);
        expect(spec, `${name} imports the Node-only entry`).not.toBe('./node.js');
      }
    }
  });
});

describe('what the runtime loaders are given', () => {
  test('loadArtifact names what it takes when given a path, nothing or junk; takes a fetch Response', async () => {
    const message = 'kiln runtime: loadArtifact: expected the artifact\'s bytes (a Uint8Array or ArrayBuffer), a fetch Response, or a folder\'s { manifest, wasm, weights }, got';
    await expect(runtime.loadArtifact('model.kiln-artifact' as never)).rejects.toThrow(`${message} the string "model.kiln-artifact" (a path? in Node, loadArtifactFile from 'kiln/runtime/node' reads a file or folder; in a browser, pass await fetch(url)).`);
    await expect(runtime.loadArtifact(undefined as never)).rejects.toThrow(`${message} undefined.`);
    await expect(runtime.loadArtifact({ manifest: '{}' } as never)).rejects.toThrow(`${message} an object with keys manifest.`);
    await expect(runtime.loadArtifact(new Response('nope', { status: 404, statusText: 'Not Found' }))).rejects.toThrow('kiln runtime: loadArtifact: the response for the artifact is 404 Not Found.');
  });

  test('kiln/runtime/node loads a file and a folder; predict gives the one output, predictAll the list', async () => {
    const { loadArtifactFile } = await import('../../src/runtime/node.js');
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 3 })] });
    await model.ready();
    const dir = mkdtempSync(join(tmpdir(), 'kiln-rt-node-'));
    await model.export(join(dir, 'one.kiln-artifact'));
    await model.export(join(dir, 'folder'), { folder: true });
    const x = Float32Array.from({ length: 8 }, (_, i) => i / 8);
    const want = Array.from((model.predict(kiln.tensor(x, [2, 4])) as kiln.Tensor).dataSync());
    for (const path of [join(dir, 'one.kiln-artifact'), join(dir, 'folder')]) {
      const art = await loadArtifactFile(path);
      const out = art.predict(x);
      expect(out.shape).toEqual([2, 3]);
      expect(Array.from(out.data)).toEqual(want);
      expect(art.predictAll(x).map((o) => Array.from(o.data))).toEqual([want]);
      // the Response path, as a browser would fetch it
      if (path.endsWith('artifact')) expect(Array.from((await runtime.loadArtifact(new Response(readFileSync(path)))).predict(x).data)).toEqual(want);
    }
    await expect(loadArtifactFile(join(dir, 'missing'))).rejects.toThrow(`kiln runtime: loadArtifactFile: cannot read "${join(dir, 'missing')}": ENOENT.`);
  });
});

describe('export metadata', () => {
  test('takes JSON values and gives them back from the runtime; refuses what JSON cannot hold', async () => {
    const { loadArtifactFile } = await import('../../src/runtime/node.js');
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 3 })] });
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-meta-')), 'm.kiln-artifact');
    const metadata = { classNames: ['cat', 'dog', 'owl'], version: 3, notes: { trained: true, by: null } };
    await model.export(path, { metadata });
    expect((await loadArtifactFile(path)).metadata).toEqual(metadata);
    await expect(model.export(path, { metadata: { when: new Date(0) as never } })).rejects.toThrow('export: expected metadata values that JSON can hold (strings, numbers, booleans, null, lists, plain objects), got Date for "when".');
    await expect(model.export(path, { metadata: { bad: NaN } })).rejects.toThrow('got number for "bad"');
  });
});
