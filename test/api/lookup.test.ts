/** StringLookup / IntegerLookup (Keras's index layout: mask, OOV buckets, vocabulary) and the penguins table end to end. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { argmaxRows, exportPenguins, measures, trainPenguins } from '../../examples/penguins/penguins.js';
import { loadArtifactFile } from '../../src/runtime/node.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

describe('stringLookup', () => {
  test('a given vocabulary: OOV at index 0, tokens from 1; invert maps back', () => {
    const lookup = kiln.layers.stringLookup({ vocabulary: ['a', 'b', 'c'] });
    expect(lookup.getVocabulary()).toEqual(['[UNK]', 'a', 'b', 'c']);
    const ids = lookup.call([['a', 'c'], ['d', 'b']]);
    expect(ids.dtype).toBe('int32');
    expect(ids.arraySync()).toEqual([[1, 3], [0, 2]]);
    expect(lookup.call('b').itemSync()).toBe(2);
    const back = kiln.layers.stringLookup({ vocabulary: ['a', 'b', 'c'], invert: true });
    expect(back.call([[1, 3], [0, 2]])).toEqual([['a', 'c'], ['[UNK]', 'b']]);
  });

  test('a mask token takes index 0, OOV buckets follow; an unknown token always hashes to the same bucket', () => {
    const lookup = kiln.layers.stringLookup({ vocabulary: ['x', 'y'], maskToken: '', numOovIndices: 2 });
    expect(lookup.getVocabulary()).toEqual(['', '[UNK]', '[UNK]', 'x', 'y']);
    const [mask, x, y, u1, u2] = lookup.call(['', 'x', 'y', 'zebra', 'zebra']).arraySync() as number[];
    expect([mask, x, y]).toEqual([0, 3, 4]);
    expect([1, 2]).toContain(u1);
    expect(u2).toBe(u1);
  });

  test('adapt orders tokens by count, ties alphabetically, and keeps at most maxTokens indices', async () => {
    const lookup = kiln.layers.stringLookup({ maxTokens: 4 });
    await lookup.adapt(kiln.data.fromArray(['b', 'a', 'c', 'b', 'd', 'c', 'b', 'a']));
    expect(lookup.getVocabulary()).toEqual(['[UNK]', 'b', 'a', 'c']);
    expect(lookup.vocabularySize()).toBe(4);
    expect(lookup.call(['d']).arraySync()).toEqual([0]);
  });

  test('multi_hot and count: one vector per row', () => {
    const counts = kiln.layers.stringLookup({ vocabulary: ['a', 'b'], outputMode: 'count' });
    expect(counts.call([['a', 'b', 'a'], ['q', 'q', 'b']]).arraySync()).toEqual([[0, 2, 1], [2, 0, 1]]);
    const hot = kiln.layers.stringLookup({ vocabulary: ['a', 'b'], outputMode: 'multi_hot' });
    expect(hot.call([['a', 'b', 'a'], ['q', 'q', 'b']]).arraySync()).toEqual([[0, 1, 1], [1, 0, 1]]);
  });

  test('bad input is named', async () => {
    expect(() => kiln.layers.stringLookup({ vocab: ['a'] } as never)).toThrow("stringLookup: unknown option 'vocab'; expected one of name, vocabulary, maxTokens, numOovIndices, maskToken, oovToken, invert, outputMode");
    expect(() => kiln.layers.stringLookup({ vocabulary: ['a', 'a'] })).toThrow(/^StringLookup "string_lookup(_\d+)?": the vocabulary holds "a" twice\.$/);
    expect(() => kiln.layers.stringLookup({ vocabulary: ['a', 'b', 'c'], maxTokens: 3 })).toThrow('expected at most maxTokens = 3 indices, got a vocabulary of 3 plus 1 reserved.');
    expect(() => kiln.layers.stringLookup({ vocabulary: ['a'] }).call([1 as never])).toThrow(/^StringLookup "string_lookup(_\d+)?": expected strings, got number at 0\.$/);
    expect(() => kiln.layers.stringLookup({ vocabulary: ['a'], numOovIndices: 0 }).call(['b'])).toThrow('"b" is not in the vocabulary and numOovIndices is 0.');
    expect(() => kiln.layers.stringLookup().call(['a'])).toThrow('expected adapt(data) or a vocabulary first.');
    await expect(kiln.layers.stringLookup().adapt([['a'], [3 as never]])).rejects.toThrow('adapt expected strings, got number at data[1][0].');
  });
});

describe('integerLookup', () => {
  test('integers to indices with Keras 3 defaults (no mask, OOV token -1)', () => {
    const lookup = kiln.layers.integerLookup({ vocabulary: [12, 36, 1138, 42] });
    expect(lookup.getVocabulary()).toEqual([-1, 12, 36, 1138, 42]);
    expect(lookup.call([[12, 1138, 42], [42, 1000, 36]]).arraySync()).toEqual([[1, 3, 4], [4, 0, 2]]);
  });
});

describe('the penguins table, end to end', () => {
  test('raw rows → row encoder (lookups), normalization, one-hot → above 97% test accuracy; the exported artifact predicts the raw rows as the model does', async () => {
    const root = dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets')));
    const penguins = JSON.parse(readFileSync(join(root, 'data', 'penguins.json'), 'utf8'));
    const { accuracy, trainRows, testRows, species, encoder, model } = await trainPenguins(penguins, { epochs: 60 });
    expect(trainRows.length + testRows.length).toBe(342); // 344 rows, 2 without measurements
    expect(species.getVocabulary().sort()).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(accuracy).toBeGreaterThanOrEqual(0.97);

    const path = join(mkdtempSync(join(tmpdir(), 'kiln-penguins-')), 'penguins.kiln');
    await exportPenguins(model, species, path);
    const artifact = await loadArtifactFile(path);
    const x = encoder.encodeList(testRows, ['measures', 'island', 'sex']);
    const want = (model.predict(x) as kiln.Tensor).dataSync();
    const got = artifact.predictRows(testRows);
    expect(got.shape).toEqual([testRows.length, 3]);
    expect(Array.from(got.data)).toEqual(Array.from(want));
    const names = artifact.metadata.classNames as string[];
    const right = argmaxRows(got.data, 3).filter((k, i) => names[k] === testRows[i]!.Species).length;
    expect(right / testRows.length).toBeCloseTo(accuracy, 6);
    // rows as a deployment gets them: a missing sex (null), an unknown island, the columns in any order, extra columns ignored
    const odd = [{ Sex: null, Island: 'Atlantis', Species: '?', ...Object.fromEntries(measures.map((m) => [m, testRows[0]![m]])) }];
    expect(artifact.predictRows(odd).shape).toEqual([1, 3]);
    expect(() => artifact.predictRows([{ ...testRows[0]!, 'Body Mass (g)': 'heavy' }])).toThrow('kiln runtime: predictRows: row 0, column "Body Mass (g)": got the string "heavy", expected a number (input "measures").');
  });
});
