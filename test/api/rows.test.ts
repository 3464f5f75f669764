/**
 * Raw rows → a model's inputs (kiln.preprocessing.rowEncoder, kiln.layers.hashing
 * and hashedCrossing, src/runtime/rows.ts) and their journey: model.save /
 * loadModel, model.export / the runtime's predictRows. Expected bins come from an
 * independent Python implementation of the hashes (FNV-1a, fmix32), run once by
 * hand; the FNV-1a values are the published test vectors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import * as runtime from '../../src/runtime/index.js';
import { loadArtifactFile } from '../../src/runtime/node.js';
import { encodeArtifact, type ArtifactManifest } from '../../src/runtime/artifact.js';
import { encodeRows, fnv1a } from '../../src/runtime/rows.js';

describe('the hashes', () => {
  test('FNV-1a gives the published 32-bit test vectors', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  test('hashing: bins as computed independently, in range, stable, salted, masked', () => {
    const h = kiln.layers.hashing({ numBins: 8 });
    expect(h.call(['Biscoe', 'Dream', 'Torgersen', '42']).arraySync()).toEqual([7, 1, 3, 5]);
    expect(h.call(42).itemSync()).toBe(5); // a number hashes as its text
    expect(kiln.layers.hashing({ numBins: 8, salt: 7 }).call(['Biscoe', 'Dream', 'Torgersen', '42']).arraySync()).toEqual([1, 7, 4, 1]);
    expect(kiln.layers.hashing({ numBins: 16, maskValue: '' }).call([['a', ''], ['b', 'c']]).arraySync()).toEqual([[1, 0], [10, 4]]);
    const many = kiln.layers.hashing({ numBins: 1000 }).call(Array.from({ length: 500 }, (_, i) => `token ${i}`)).dataSync() as Int32Array;
    expect(Math.min(...many)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...many)).toBeLessThan(1000);
    expect(new Set(many).size).toBeGreaterThan(350); // 500 into 1000 bins: ~394 distinct expected
    const masked = kiln.layers.hashing({ numBins: 3, maskValue: -1 }).call(Array.from({ length: 50 }, (_, i) => i - 1)).dataSync() as Int32Array;
    expect(masked[0]).toBe(0);
    expect([...masked.subarray(1)].every((b) => b === 1 || b === 2)).toBe(true);
  });

  test('hashing one_hot, multi_hot and count', () => {
    expect(kiln.layers.hashing({ numBins: 8, outputMode: 'one_hot' }).call(['Biscoe', 'Dream']).arraySync()).toEqual([[0, 0, 0, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0, 0, 0]]);
    expect(kiln.layers.hashing({ numBins: 8, outputMode: 'count' }).call([['Dream', 'Dream', '42']]).arraySync()).toEqual([[0, 2, 0, 0, 0, 1, 0, 0]]);
    expect(kiln.layers.hashing({ numBins: 8, outputMode: 'multi_hot' }).call([['Dream', 'Dream', '42']]).arraySync()).toEqual([[0, 1, 0, 0, 0, 1, 0, 0]]);
  });

  test('hashedCrossing: bins of value pairs, order matters; one_hot', () => {
    const cross = kiln.layers.hashedCrossing({ numBins: 16 });
    expect(cross.call([['Biscoe', 'Dream', 'MALE'], ['MALE', 'FEMALE', 'Biscoe']]).arraySync()).toEqual([9, 6, 2]);
    expect(kiln.layers.hashedCrossing({ numBins: 8 }).call([['Biscoe', 3], [3, 'Biscoe']]).arraySync()).toEqual([0, 6]);
    expect(cross.call(['Biscoe', 'MALE']).itemSync()).toBe(9);
    const hot = kiln.layers.hashedCrossing({ numBins: 16, outputMode: 'one_hot' }).call([['Dream'], ['FEMALE']]).arraySync() as number[][];
    expect(hot[0]!.indexOf(1)).toBe(6);
    expect(hot[0]!.reduce((a, b) => a + b)).toBe(1);
  });

  test('bad options and values are named', () => {
    expect(() => kiln.layers.hashing({ numBins: 0 })).toThrow(/^Hashing "hashing(_\d+)?": expected numBins to be an integer >= 1, got 0\.$/);
    expect(() => kiln.layers.hashing({ numBins: 1, maskValue: '' })).toThrow('expected numBins to be an integer >= 2, got 1.');
    expect(() => kiln.layers.hashing({ numBins: 4, salt: -1 })).toThrow('expected salt to be an unsigned 32-bit integer, got -1.');
    expect(() => kiln.layers.hashing({ numBins: 4, bins: 3 } as never)).toThrow("hashing: unknown option 'bins'; expected one of name, numBins, maskValue, salt, outputMode");
    expect(() => kiln.layers.hashedCrossing({ numBins: 4, salt: 3 } as never)).toThrow("hashedCrossing: unknown option 'salt'; expected one of name, numBins, outputMode");
    expect(() => kiln.layers.hashing({ numBins: 4 }).call(['a', null as never])).toThrow('expected strings or finite numbers, got null at 1.');
    expect(() => kiln.layers.hashedCrossing({ numBins: 4 }).call([['a']])).toThrow('expected a list of two or more features to cross, got a list of 1.');
    expect(() => kiln.layers.hashedCrossing({ numBins: 4 }).call([['a', 'b'], ['c']])).toThrow('feature 1 has 1 values, feature 0 has 2 values; expected the same.');
    expect(() => kiln.layers.hashedCrossing({ numBins: 4, outputMode: 'count' as never })).toThrow('expected outputMode to be int or one_hot, got "count".');
  });
});

/** Rows with every kind of feature; and the encoder for them. */
const rows = [
  { a: 1.5, b: -2, city: 'Oslo', tags: ['x', 'z'], x: 'Biscoe', y: 3 },
  { a: null, b: 4, city: 'Lima', tags: [], x: 'Dream', y: 3 }, // a missing, an unknown city
  { a: 0.25, b: 8, city: '', tags: ['z', 'z', 'w'], x: 42, y: 'Biscoe' }, // the mask token; an unknown tag
];

function encoderFor() {
  return kiln.preprocessing.rowEncoder({
    num: { columns: ['a', 'b'], fill: -1 },
    city: { column: 'city', lookup: kiln.layers.stringLookup({ vocabulary: ['Oslo', 'Rome'], maskToken: '', numOovIndices: 2 }) },
    tags: { column: 'tags', lookup: kiln.layers.stringLookup({ vocabulary: ['x', 'y', 'z'], outputMode: 'multi_hot' }) },
    cell: { column: 'x', hashing: kiln.layers.hashing({ numBins: 8, outputMode: 'one_hot' }) },
    pair: { columns: ['x', 'y'], hashedCrossing: kiln.layers.hashedCrossing({ numBins: 16 }) },
  });
}

describe('rowEncoder', () => {
  test('encodes every kind of feature as worked out by hand', () => {
    const enc = encoderFor();
    const x = enc.encode(rows);
    expect(x.num!.dtype).toBe('float32');
    expect(x.num!.arraySync()).toEqual([[1.5, -2], [-1, 4], [0.25, 8]]);
    expect(x.city!.dtype).toBe('int32');
    // '' mask 0, OOV buckets 1-2 (FNV-1a('Lima') % 2 + 1), Oslo 3, Rome 4
    expect(x.city!.arraySync()).toEqual([[3], [1 + (fnv1a('Lima') % 2)], [0]]);
    expect(x.tags!.arraySync()).toEqual([[0, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 1]]);
    const cell = x.cell!.arraySync() as number[][];
    expect(cell.map((r) => r.indexOf(1))).toEqual([7, 1, 5]); // the hashing bins above; 42 as '42'
    expect(x.pair!.arraySync()).toEqual([[kiln.layers.hashedCrossing({ numBins: 16 }).bin(['Biscoe', 3])], [kiln.layers.hashedCrossing({ numBins: 16 }).bin(['Dream', 3])], [kiln.layers.hashedCrossing({ numBins: 16 }).bin([42, 'Biscoe'])]]);
    expect(enc.encodeRow(rows[0]!).city!.shape).toEqual([1]);
    expect(enc.shapes()).toEqual({ num: { dtype: 'float32', width: 2 }, city: { dtype: 'int32', width: 1 }, tags: { dtype: 'float32', width: 4 }, cell: { dtype: 'float32', width: 8 }, pair: { dtype: 'int32', width: 1 } });
    expect(enc.columns).toEqual(['a', 'b', 'city', 'tags', 'x', 'y']);
  });

  test('agrees with the lookup layers\' own call, and a count lookup adds', () => {
    const island = kiln.layers.stringLookup({ vocabulary: ['Biscoe', 'Dream'], numOovIndices: 3 });
    const enc = kiln.preprocessing.rowEncoder({ island: { column: 'i', lookup: island } });
    const islands = ['Biscoe', 'Atlantis', 'Dream', 'Mars', 'Torgersen', 'Atlantis'];
    expect(Array.from(enc.encode(islands.map((i) => ({ i }))).island!.dataSync())).toEqual(Array.from(island.call(islands).dataSync()));
    const years = kiln.layers.integerLookup({ vocabulary: [2007, 2008], outputMode: 'count' });
    const enc2 = kiln.preprocessing.rowEncoder({ years: { column: 'y', lookup: years } });
    expect(enc2.encode([{ y: [2008, 2008, 1999] }, { y: 2007 }]).years!.arraySync()).toEqual([[1, 0, 2], [0, 1, 0]]);
  });

  test('adapt: every lookup learns its column (lists flattened, missing values left out)', async () => {
    const city = kiln.layers.stringLookup();
    const tags = kiln.layers.stringLookup({ outputMode: 'multi_hot' });
    const enc = kiln.preprocessing.rowEncoder({ num: { column: 'a', fill: 0 }, city: { column: 'city', lookup: city, fill: '' }, tags: { column: 'tags', lookup: tags } });
    await enc.adapt([{ a: 1, city: 'Rome', tags: ['x', 'y'] }, { a: null, city: null, tags: ['y'] }, { a: 2, city: 'Oslo', tags: [] }, { a: 3, city: 'Rome', tags: ['z', 'y'] }]);
    expect(city.getVocabulary()).toEqual(['[UNK]', 'Rome', 'Oslo']);
    expect(tags.getVocabulary()).toEqual(['[UNK]', 'y', 'x', 'z']);
    expect(enc.encode([{ a: 5, city: null, tags: ['z', 'q'] }]).tags!.arraySync()).toEqual([[1, 0, 0, 1]]);
    await expect(enc.adapt([{ a: 1, tags: [] }])).rejects.toThrow('rowEncoder: adapt: row 0 has no column "city" (input "city" reads it).');
  });

  test('JSON round trip: the same encoding from the spec alone', () => {
    const enc = encoderFor();
    const json = JSON.parse(JSON.stringify(enc.toJSON()));
    const again = kiln.preprocessing.rowEncoderFromJSON(json);
    const a = enc.encode(rows);
    const b = again.encode(rows);
    for (const k of Object.keys(a)) expect(b[k]!.arraySync()).toEqual(a[k]!.arraySync());
    expect(json.features.map((f: { kind: string }) => f.kind)).toEqual(['numeric', 'lookup', 'lookup', 'hashing', 'hashedCrossing']);
    expect(json.features[1].vocabulary).toEqual(['Oslo', 'Rome']);
    // kiln/runtime/rows alone, from the JSON
    const plain = encodeRows(json, rows);
    expect(plain.map((e) => e.name)).toEqual(Object.keys(a));
    plain.forEach((e) => expect(Array.from(e.data)).toEqual(Array.from(a[e.name]!.dataSync())));
    expect(() => encodeRows({ ...json, version: 2 }, rows)).toThrow('kiln runtime: encodeRows: the spec is not a kiln-rows spec of version 1.');
    expect(() => encodeRows(json, [{}])).toThrow('kiln runtime: encodeRows: row 0 has no column "a" (input "num" reads it); its columns are none.');
  });

  test('bad rows and bad features name the row, the column, what came and what was expected', () => {
    const enc = encoderFor();
    expect(() => enc.encode([rows[0]!, { ...rows[0]!, city: undefined }])).toThrow('rowEncoder: row 1 has no column "city" (input "city" reads it); its columns are "a", "b", "city", "tags", "x", "y".');
    expect(() => enc.encode([{ ...rows[0]!, b: 'heavy' }])).toThrow('rowEncoder: row 0, column "b": got the string "heavy", expected a number (input "num").');
    expect(() => enc.encode([{ ...rows[0]!, city: 7 }])).toThrow('rowEncoder: row 0, column "city": got the number 7, expected a string (input "city").');
    expect(() => enc.encode([{ ...rows[0]!, city: null }])).toThrow('rowEncoder: row 0, column "city": got null (a missing value), expected a string; give input "city" a fill value to accept missing values.');
    expect(() => enc.encode([{ ...rows[0]!, x: ['a'] }])).toThrow('rowEncoder: row 0, column "x": got a list of 1, expected a string or a number (a list needs outputMode multi_hot or count) (input "cell").');
    expect(() => enc.encode([rows[0]!, 'row' as never])).toThrow('rowEncoder: row 1 is the string "row"; expected an object of column → value.');
    expect(() => kiln.preprocessing.rowEncoder({ a: { column: 'a', columns: ['b'] } })).toThrow('rowEncoder: input "a": expected either column (one) or columns (a list), got both.');
    expect(() => kiln.preprocessing.rowEncoder({ a: { column: 'a', lookup: kiln.layers.stringLookup({ numOovIndices: 0 }) } })).toThrow('a row encoder\'s lookup maps tokens to indices with at least one OOV index (unknown categories must not fail); got numOovIndices: 0.');
    expect(() => kiln.preprocessing.rowEncoder({ a: { columns: ['a'], hashedCrossing: kiln.layers.hashedCrossing({ numBins: 4 }) } })).toThrow('rowEncoder: input "a": hashedCrossing reads two or more columns (columns).');
    expect(() => kiln.preprocessing.rowEncoder({ a: { column: 'a', lookup: kiln.layers.stringLookup() } }).encode([{ a: 'x' }])).toThrow('rowEncoder: input "a": adapt its lookup (or give it a vocabulary) first.');
  });
});

/** A model with one input per feature of encoderFor. */
function modelFor() {
  const i = {
    num: kiln.input({ shape: [2], name: 'num' }), city: kiln.input({ shape: [1], dtype: 'int32', name: 'city' }), tags: kiln.input({ shape: [4], name: 'tags' }),
    cell: kiln.input({ shape: [8], name: 'cell' }), pair: kiln.input({ shape: [1], dtype: 'int32', name: 'pair' }),
  };
  const features = kiln.layers.concatenate().apply([
    i.num, kiln.layers.categoryEncoding({ numTokens: 5, outputMode: 'one_hot' }).apply(i.city) as kiln.SymbolicTensor, i.tags, i.cell,
    kiln.layers.categoryEncoding({ numTokens: 16, outputMode: 'one_hot' }).apply(i.pair) as kiln.SymbolicTensor,
  ]) as kiln.SymbolicTensor;
  const out = kiln.layers.dense({ units: 3, kernelInitializer: 'glorotUniform' }).apply(features) as kiln.SymbolicTensor;
  // inputs in another order than the encoder's: the encoder follows the model's
  const model = kiln.model({ inputs: [i.pair, i.num, i.city, i.tags, i.cell], outputs: out });
  model.setRowEncoder(encoderFor());
  return model;
}

const many = Array.from({ length: 70 }, (_, k) => ({ ...rows[k % 3]!, a: k % 5 === 0 ? null : k / 7, city: ['Oslo', 'Rome', 'Lima', ''][k % 4]!, x: `v${k % 11}` }));

describe('the encoder travels with the model', () => {
  test('setRowEncoder checks the inputs\' names, dtypes and widths', () => {
    const model = modelFor();
    const wrong = kiln.preprocessing.rowEncoder({ num: { columns: ['a'] }, city: { column: 'city', lookup: kiln.layers.stringLookup({ vocabulary: ['a'] }) }, tags: { columns: ['a', 'b', 'c', 'd'] }, cell: { columns: ['a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'] }, pair: { column: 'y', dtype: 'int32' } });
    expect(() => model.setRowEncoder(wrong)).toThrow(/^setRowEncoder: input "num" of Functional "model(_\d+)?" takes float32\[n,2\]; the row encoder gives float32\[n,1\]\.$/);
    expect(() => model.setRowEncoder(kiln.preprocessing.rowEncoder({ num: { columns: ['a', 'b'] } }))).toThrow('takes the inputs "pair", "num", "city", "tags", "cell"; the row encoder gives "num".');
    expect(() => kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 1 })] }).predictRows([{ a: 1 }])).toThrow('has no row encoder; give it one with model.setRowEncoder');
  });

  test('predictRows = predict on the encoded rows; save / loadModel keeps the encoder', async () => {
    const model = modelFor();
    const enc = model.rowEncoder!;
    const x = enc.encodeList(many, ['pair', 'num', 'city', 'tags', 'cell']);
    const want = Array.from((model.predict(x) as kiln.Tensor).dataSync());
    expect(Array.from((model.predictRows(many) as kiln.Tensor).dataSync())).toEqual(want);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-rows-'));
    await model.save(join(dir, 'm.kiln'));
    const again = await kiln.loadModel(join(dir, 'm.kiln'));
    expect(again.rowEncoder!.toJSON()).toEqual(enc.toJSON(['pair', 'num', 'city', 'tags', 'cell']));
    expect(Array.from((again.predictRows(many) as kiln.Tensor).dataSync())).toEqual(want);
    // the checksum covers the encoder: a changed vocabulary is a corrupted file
    const bytes = readFileSync(join(dir, 'm.kiln'));
    const text = bytes.toString('latin1');
    const at = text.indexOf('Oslo');
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(bytes);
    bad.write('Osla', at, 'latin1');
    writeFileSync(join(dir, 'bad.kiln'), bad);
    await expect(kiln.loadModel(join(dir, 'bad.kiln'))).rejects.toThrow(/the file is corrupted/);
  });

  test('export → the runtime predicts raw rows as the model does; bad rows and a tampered manifest are named', async () => {
    const model = modelFor();
    await model.ready();
    const want = (model.predictRows(many) as kiln.Tensor).dataSync();
    const dir = mkdtempSync(join(tmpdir(), 'kiln-rows-art-'));
    await model.export(join(dir, 'm.kiln-artifact'), { maxBatch: 32 });
    await model.export(join(dir, 'folder'), { folder: true, maxBatch: 32 });
    for (const path of [join(dir, 'm.kiln-artifact'), join(dir, 'folder')]) {
      const art = await loadArtifactFile(path);
      expect(art.manifest.rows!.features.map((f) => f.name)).toEqual(['pair', 'num', 'city', 'tags', 'cell']);
      expect(art.predictRows(many).data).toEqual(want); // 70 rows: three batches of up to 32
      const unknown = art.predictRows([{ ...rows[0]!, city: 'Atlantis', tags: ['never seen'], x: 'nowhere', y: 'anything' }]);
      expect(unknown.shape).toEqual([1, 3]);
      expect(() => art.predictRows([rows[0]!, { ...rows[0]!, b: '4' }])).toThrow(new runtime.KilnRuntimeError('kiln runtime: predictRows: row 1, column "b": got the string "4", expected a number (input "num").'));
      expect(() => art.predictRows([{ a: 1 }])).toThrow('kiln runtime: predictRows: row 0 has no column "x" (input "pair" reads it); its columns are "a".');
      expect(() => art.predictRows([{ ...rows[0]!, city: null }])).toThrow('kiln runtime: predictRows: row 0, column "city": got null (a missing value), expected a string');
      expect(() => art.predictRows('rows' as never)).toThrow('kiln runtime: predictRows: expected a list of row objects (column → value), got the string "rows".');
    }
    // the manifest's checksum covers the encoder
    const parts = await kiln.artifactOf(model, { maxBatch: 8 });
    const tampered = JSON.parse(JSON.stringify(parts.manifest)) as { rows: { features: { vocabulary?: string[] }[] } };
    tampered.rows.features[2]!.vocabulary![0] = 'Osla';
    await expect(runtime.loadArtifact({ ...parts, manifest: tampered as unknown as ArtifactManifest })).rejects.toThrow(/the artifact's manifest is corrupted/);
    const art = await runtime.loadArtifact(encodeArtifact(parts));
    expect(art.encodeRows(many.slice(0, 2)).map((t) => t.shape)).toEqual([[2, 1], [2, 2], [2, 1], [2, 4], [2, 8]]);
    // an artifact without an encoder says so
    const plain = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 1 })] });
    const bare = await runtime.loadArtifact(encodeArtifact(await kiln.artifactOf(plain)));
    expect(() => bare.predictRows([{ a: 1 }])).toThrow('kiln runtime: predictRows: this artifact has no row encoder; give the model one (model.setRowEncoder) before export.');
  });
});

describe('the runtime\'s size', () => {
  test('the predict-only runtime stays under 10 KB gzipped; the row encoder is a chunk of its own, loaded on demand', async () => {
    const root = join(__dirname, '../..');
    const result = await build({
      entryPoints: [join(root, 'src/runtime/index.ts')], bundle: true, splitting: true, minify: true, format: 'esm', platform: 'browser',
      target: 'es2022', write: false, outdir: join(tmpdir(), 'kiln-size'), logLevel: 'silent',
    });
    // the entry and the chunk it shares with rows.ts (errors.ts) load at once; rows.ts's chunk only when an artifact has an encoder
    const rowsChunk = result.outputFiles.filter((f) => f.text.includes('is not in the vocabulary'));
    expect(rowsChunk.length).toBe(1);
    expect(rowsChunk[0]!.path.endsWith('index.js')).toBe(false);
    const eager = result.outputFiles.filter((f) => f !== rowsChunk[0]);
    const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
    const eagerBytes = eager.reduce((a, f) => a + gz(f.contents), 0);
    expect(eagerBytes).toBeLessThanOrEqual(10 * 1024);
    console.log(`kiln/runtime min+gz: predict-only ${eagerBytes} B (${eager.length} files); row-encoder chunk ${gz(rowsChunk[0]!.contents)} B`);
  });
});

describe('a one-input model, integer lookups, kiln info', () => {
  test('a Sequential model takes a one-feature encoder; integer tokens survive the manifest; kiln info lists the encoder', async () => {
    const years = kiln.layers.integerLookup({ vocabulary: [2007, 2008, 2009], outputMode: 'multi_hot', numOovIndices: 2 });
    const enc = kiln.preprocessing.rowEncoder({ years: { column: 'years', lookup: years } });
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [5], units: 2 })] });
    model.setRowEncoder(enc);
    const data = [{ years: [2007, 2009] }, { years: [1999, 2008, 2008] }, { years: 2009 }];
    expect(enc.encode(data).years!.arraySync()).toEqual([[0, 0, 1, 0, 1], [fnv1a('1999') % 2 === 0 ? 1 : 0, fnv1a('1999') % 2 === 1 ? 1 : 0, 0, 1, 0], [0, 0, 0, 0, 1]]);
    const want = (model.predictRows(data) as kiln.Tensor).dataSync();
    const dir = mkdtempSync(join(tmpdir(), 'kiln-rows-seq-'));
    await model.export(join(dir, 'a.kiln-artifact'));
    await model.save(join(dir, 'm.kiln'));
    const art = await loadArtifactFile(join(dir, 'a.kiln-artifact'));
    expect(art.manifest.rows!.features[0]).toMatchObject({ kind: 'lookup', tokens: 'integer', vocabulary: [2007, 2008, 2009] });
    expect(art.predictRows(data).data).toEqual(want);
    expect(() => art.predictRows([{ years: ['2007'] }])).toThrow('kiln runtime: predictRows: row 0, column "years": got the string "2007", expected an integer (input "years").');
    const { main } = await import('../../src/cli.js');
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => void lines.push(a.join(' '));
    try {
      await main(['info', join(dir, 'a.kiln-artifact')]);
      await main(['info', join(dir, 'm.kiln')]);
    } finally {
      console.log = log;
    }
    expect(lines.filter((l) => l.startsWith('raw rows'))).toEqual(Array(2).fill('raw rows (predictRows): years ← "years" (integer lookup, 3 tokens, multi_hot)'));
  });
});
