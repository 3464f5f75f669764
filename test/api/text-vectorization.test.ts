/**
 * TextVectorization against outputs worked out by hand from Keras's rules:
 * standardization, splitting, n-grams, the vocabulary's reserved indices,
 * frequency order, maxTokens, the four output modes and tf-idf's formula.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const texts = ['The cat sat.', 'The dog sat!', 'the cat, the dog'];

describe('textVectorization', () => {
  test("'int': '' and '[UNK]' first, then tokens by count (ties in order), rows padded to the longest", async () => {
    const v = kiln.layers.textVectorization();
    await v.adapt(texts);
    // counts: the 4, cat 2, dog 2, sat 2
    expect(v.getVocabulary()).toEqual(['', '[UNK]', 'the', 'cat', 'dog', 'sat']);
    const x = v.call(['The cat sat on the mat', 'dog']);
    expect(x.dtype).toBe('int32');
    expect(x.arraySync()).toEqual([[2, 3, 5, 1, 2, 1], [4, 0, 0, 0, 0, 0]]);
    expect(v.call('the dog').arraySync()).toEqual([2, 4]);
  });

  test('outputSequenceLength pads and cuts at the end; maxTokens keeps the most frequent', async () => {
    const v = kiln.layers.textVectorization({ maxTokens: 4, outputSequenceLength: 3 });
    await v.adapt(texts);
    expect(v.getVocabulary()).toEqual(['', '[UNK]', 'the', 'cat']);
    expect(v.call(['the dog', 'cat cat cat cat']).arraySync()).toEqual([[2, 1, 0], [3, 3, 3]]);
  });

  test('Unicode-aware lowercasing and punctuation stripping; character split; custom functions', async () => {
    const v = kiln.layers.textVectorization({ vocabulary: ['élan', 'über', 'naïve'] });
    expect(v.call('ÉLAN — «Über» naïve!').arraySync()).toEqual([2, 3, 4]);
    const chars = kiln.layers.textVectorization({ split: 'character', standardize: 'lower', vocabulary: ['a', 'b'] });
    expect(chars.call('AbC').arraySync()).toEqual([2, 3, 1]);
    const custom = kiln.layers.textVectorization({ standardize: (t) => t.replaceAll('-', ' '), split: (t) => t.split(' '), vocabulary: ['x', 'y'] });
    expect(custom.call('x-y').arraySync()).toEqual([2, 3]);
  });

  test("n-grams: all 1-grams, then all 2-grams, joined by a space", async () => {
    const v = kiln.layers.textVectorization({ ngrams: 2 });
    expect(v.tokens('a b c')).toEqual(['a', 'b', 'c', 'a b', 'b c']);
    const only = kiln.layers.textVectorization({ ngrams: [2, 3] });
    expect(only.tokens('a b c')).toEqual(['a b', 'b c', 'a b c']);
    await v.adapt(['a b', 'a b', 'b a']);
    // a 3, b 3, 'a b' 2, 'b a' 1
    expect(v.getVocabulary()).toEqual(['', '[UNK]', 'a', 'b', 'a b', 'b a']);
  });

  test("'multi_hot' and 'count': '[UNK]' at index 0 and no padding; padToMaxTokens widens", async () => {
    const multi = kiln.layers.textVectorization({ outputMode: 'multi_hot' });
    await multi.adapt(texts);
    expect(multi.getVocabulary()).toEqual(['[UNK]', 'the', 'cat', 'dog', 'sat']);
    expect(multi.call(['the the cat owl', '']).arraySync()).toEqual([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]]);
    const count = kiln.layers.textVectorization({ outputMode: 'count', maxTokens: 7, padToMaxTokens: true });
    await count.adapt(texts);
    expect(count.call('the the cat owl').arraySync()).toEqual([1, 2, 1, 0, 0, 0, 0]);
  });

  test("'tf_idf': count × log(1 + documents / (1 + documents holding the token)); the OOV token's idf is the mean", async () => {
    const v = kiln.layers.textVectorization({ outputMode: 'tf_idf' });
    await v.adapt(texts);
    const idf = (df: number) => Math.log(1 + 3 / (1 + df));
    // the: in 3 documents; cat, dog, sat: in 2
    const weights = [idf(3), idf(2), idf(2), idf(2)];
    const mean = weights.reduce((a, b) => a + b) / 4;
    expect(v.getIdfWeights()!.map((w) => +w.toFixed(6))).toEqual([mean, ...weights].map((w) => +w.toFixed(6)));
    const row = Array.from(v.call('the the dog owl owl').dataSync());
    expect(row.map((w) => +w.toFixed(5))).toEqual([2 * mean, 2 * idf(3), 0, idf(2), 0].map((w) => +Math.fround(w).toFixed(5)));
    // a given vocabulary needs its weights
    expect(() => kiln.layers.textVectorization({ outputMode: 'tf_idf', vocabulary: ['a'] })).toThrow(/needs idfWeights: one finite number per vocabulary token \(1\), got undefined/);
  });

  test('feeds an embedding model in a dataset pipeline', async () => {
    const v = kiln.layers.textVectorization({ outputSequenceLength: 4 });
    const data = ['good film', 'great film', 'bad film', 'awful plot', 'good plot', 'bad acting'];
    const labels = [1, 1, 0, 0, 1, 0];
    await v.adapt(data);
    const ds = kiln.data.fromArray(data.map((t, i) => [t, labels[i]!] as const)).batch(3).map(([t, y]) => [v.call(t as unknown as string[]), y] as const);
    const model = kiln.sequential({ layers: [
      kiln.layers.embedding({ inputDim: v.vocabularySize(), outputDim: 4, inputShape: [4] } as never),
      kiln.layers.flatten(),
      kiln.layers.dense({ units: 2 }),
    ] });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const h = await model.fit(ds as never, { epochs: 30, verbose: 0 });
    expect(h.history.accuracy!.at(-1)).toBe(1);
  });

  test('bad arguments and input are named', () => {
    expect(() => kiln.layers.textVectorization({ outputMode: 'bag' as never })).toThrow(/TextVectorization "[^"]+": expected outputMode 'int', 'multi_hot', 'count' or 'tf_idf', got "bag"\./);
    expect(() => kiln.layers.textVectorization({ outputMode: 'count', outputSequenceLength: 5 })).toThrow(/outputSequenceLength works with outputMode 'int' only/);
    expect(() => kiln.layers.textVectorization({ maxToken: 5 } as never)).toThrow(/^textVectorization: unknown option 'maxToken'; expected one of name, maxTokens, standardize, split, ngrams, outputMode, outputSequenceLength, padToMaxTokens, vocabulary, idfWeights/);
    expect(() => kiln.layers.textVectorization({ ngrams: 0 })).toThrow(/expected ngrams to be a positive integer or a list of them, got 0/);
    const v = kiln.layers.textVectorization({ vocabulary: ['a'] });
    expect(() => v.call([1 as never])).toThrow(/expected texts \(strings\), got number at 0/);
    expect(() => kiln.layers.textVectorization().call('a')).toThrow(/expected adapt\(data\) or a vocabulary first/);
  });
});

describe('textDatasetFromDirectory', () => {
  test('class subfolders of .txt files → [texts, labels] batches, split by seed, maxLength, then vectorized into a model', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const root = mkdtempSync(join(tmpdir(), 'kiln-texts-'));
    const reviews = { neg: ['bad film', 'awful plot', 'bad acting', 'dull and bad'], pos: ['good film', 'great plot', 'good acting', 'fun and good'] };
    for (const [c, texts] of Object.entries(reviews)) {
      mkdirSync(join(root, c));
      texts.forEach((t, i) => writeFileSync(join(root, c, `${i}.txt`), t));
      writeFileSync(join(root, c, 'notes.md'), 'not a .txt file: skipped');
    }
    const [train, val] = (await kiln.utils.textDatasetFromDirectory(root, { batchSize: 3, validationSplit: 0.25, subset: 'both', seed: 7 })) as kiln.data.TextDataset[];
    expect(train!.classNames).toEqual(['neg', 'pos']);
    expect([train!.filePaths.length, val!.filePaths.length]).toEqual([6, 2]);
    const batches = (await train!.toArray()) as [string[], kiln.Tensor][];
    expect(batches.map(([t]) => t.length)).toEqual([3, 3]);
    for (const [texts, labels] of batches) {
      texts.forEach((t, i) => expect(reviews[(['neg', 'pos'] as const)[labels.dataSync()[i]!]!]).toContain(t));
    }
    const short = (await kiln.utils.textDatasetFromDirectory(root, { maxLength: 3, labelMode: null, shuffle: false })) as kiln.data.TextDataset;
    expect((await short.toArray())[0]).toEqual(['bad', 'awf', 'bad', 'dul', 'goo', 'gre', 'goo', 'fun'].slice(0, 8));
    await expect(kiln.utils.textDatasetFromDirectory(join(root, 'neg', '0.txt'))).rejects.toThrow(/^textDatasetFromDirectory: expected a folder of class subfolders, got the file /);
  });
});

describe('a text model takes raw strings after save and export (textVectorization in a row encoder)', () => {
  test('train on raw rows, then loadModel and the runtime predict raw strings as the model does', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { loadArtifactFile } = await import('../../src/runtime/node.js');
    const rows = [
      { review: 'A good film!', label: 1 }, { review: 'Great plot, good acting.', label: 1 }, { review: 'fun and GOOD', label: 1 },
      { review: 'A bad film.', label: 0 }, { review: 'awful plot; bad acting', label: 0 }, { review: 'dull and bad', label: 0 },
    ];
    const vectorize = kiln.layers.textVectorization({ outputSequenceLength: 5 });
    const encoder = kiln.preprocessing.rowEncoder({ review: { column: 'review', textVectorization: vectorize } });
    await encoder.adapt(rows);
    const review = kiln.input({ shape: [5], dtype: 'int32', name: 'review' });
    const embedded = kiln.layers.embedding({ inputDim: vectorize.vocabularySize(), outputDim: 4 }).apply(review) as kiln.SymbolicTensor;
    const pooled = kiln.layers.globalAveragePooling1d({}).apply(embedded) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: review, outputs: kiln.layers.dense({ units: 2 }).apply(pooled) as kiln.SymbolicTensor });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const x = encoder.encode(rows).review!;
    expect(Array.from(x.dataSync().slice(0, 5))).toEqual(Array.from(vectorize.call('A good film!').dataSync()));
    await model.fit(x, kiln.tensor(rows.map((r) => r.label), [6], 'int32'), { epochs: 30, verbose: 0 });
    model.setRowEncoder(encoder);
    const raw = [{ review: 'a GOOD film' }, { review: 'bad, bad plot' }, { review: 'never seen words' }];
    const want = Array.from((model.predictRows(raw) as kiln.Tensor).dataSync());
    expect(Array.from((model.predict(encoder.encode(raw).review!) as kiln.Tensor).dataSync())).toEqual(want);
    const dir = mkdtempSync(join(tmpdir(), 'kiln-text-rows-'));
    await model.save(join(dir, 'm.kiln'));
    expect(Array.from(((await kiln.loadModel(join(dir, 'm.kiln'))).predictRows(raw) as kiln.Tensor).dataSync())).toEqual(want);
    await model.export(join(dir, 'm.kiln-artifact'));
    const art = await loadArtifactFile(join(dir, 'm.kiln-artifact'));
    expect(art.manifest.rows!.features[0]).toMatchObject({ kind: 'text', column: 'review', outputMode: 'int', width: 5, standardize: 'lower_and_strip_punctuation', split: 'whitespace' });
    expect(Array.from(art.predictRows(raw).data)).toEqual(want);
    expect(() => art.predictRows([{ review: 42 }])).toThrow('kiln runtime: predictRows: row 0, column "review": got the number 42, expected a string (input "review").');
  });

  test("tf_idf and multi_hot rows encode as the layer's own call; custom functions and 'int' without a length cannot travel", async () => {
    const texts = ['the cat sat', 'the dog sat', 'the cat, the dog'];
    for (const outputMode of ['tf_idf', 'multi_hot', 'count'] as const) {
      const v = kiln.layers.textVectorization({ outputMode, ngrams: 2 });
      const encoder = kiln.preprocessing.rowEncoder({ t: { column: 'text', textVectorization: v } });
      await encoder.adapt(texts.map((text) => ({ text })));
      const again = kiln.preprocessing.rowEncoderFromJSON(encoder.toJSON());
      const probe = ['the cat and the owl', 'sat sat'];
      const want = Array.from(v.call(probe).dataSync());
      expect(Array.from(encoder.encode(probe.map((text) => ({ text }))).t!.dataSync()), outputMode).toEqual(want);
      expect(Array.from(again.encode(probe.map((text) => ({ text }))).t!.dataSync()), outputMode).toEqual(want);
    }
    expect(() => kiln.preprocessing.rowEncoder({ t: { column: 'text', textVectorization: kiln.layers.textVectorization({ split: (s) => s.split('-'), outputMode: 'count' }) } })).toThrow(/a row encoder's text feature uses the built-in standardize and split \(functions cannot travel in a saved model or an artifact\), got a custom split/);
    expect(() => kiln.preprocessing.rowEncoder({ t: { column: 'text', textVectorization: kiln.layers.textVectorization() } })).toThrow(/a row encoder's 'int' text feature needs outputSequenceLength/);
  });
});
