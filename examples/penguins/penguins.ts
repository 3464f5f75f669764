/**
 * The Palmer penguins table (vega-datasets' penguins.json, BSD-3-Clause) → a
 * species classifier, the structured-data recipe on raw rows: the rows as they
 * come (objects of column → value, a missing Sex as null), rows without
 * measurements dropped, a seeded 80/20 split, StringLookups adapted on the
 * training rows, and ONE row encoder (kiln.preprocessing.rowEncoder) that turns a
 * raw row into the model's three named inputs — for fit (dataset.map), for
 * predict, and, attached with model.setRowEncoder, inside the saved model and the
 * exported artifact, whose runtime predicts raw rows too (artifact.predictRows).
 * The measurements go through an adapted Normalization and the island and sex
 * indices through one-hot CategoryEncoding, both inside the model.
 */
import * as kiln from '../../src/index.js';

/** A raw row of penguins.json. */
export type Penguin = Readonly<Record<string, string | number | null>>;
export const measures = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];

/** Trains on `penguins` (rows of penguins.json) and returns the test accuracy with the pieces it built. */
export async function trainPenguins(penguins: readonly Penguin[], options: { epochs?: number; seed?: number; verbose?: 0 | 1 } = {}) {
  const { epochs = 60, seed = 0, verbose = 0 } = options;
  const complete = penguins.filter((r) => measures.every((m) => Number.isFinite(r[m])));
  const rows = await kiln.data.fromArray(complete).shuffle(1000, { seed, reshuffleEachIteration: false }).toArray();
  const cut = Math.round(rows.length * 0.8);
  const trainRows = rows.slice(0, cut);
  const testRows = rows.slice(cut);

  // vocabularies and statistics come from the training rows only
  const species = kiln.layers.stringLookup({ numOovIndices: 0 });
  const island = kiln.layers.stringLookup();
  const sex = kiln.layers.stringLookup();
  await species.adapt(trainRows.map((r) => r.Species as string));
  const encoder = kiln.preprocessing.rowEncoder({
    measures: { columns: measures },
    island: { column: 'Island', lookup: island },
    sex: { column: 'Sex', lookup: sex, fill: '' }, // a missing sex: '' is no vocabulary token, so the OOV index
  });
  await encoder.adapt(trainRows); // the lookups' vocabularies, from the values present
  const norm = kiln.layers.normalization();
  await norm.adapt(encoder.encode(trainRows).measures!);

  const inputs = { measures: kiln.input({ shape: [4], name: 'measures' }), island: kiln.input({ shape: [1], dtype: 'int32', name: 'island' }), sex: kiln.input({ shape: [1], dtype: 'int32', name: 'sex' }) };
  const features = kiln.layers.concatenate().apply([
    norm.apply(inputs.measures),
    kiln.layers.categoryEncoding({ numTokens: island.vocabularySize(), outputMode: 'one_hot' }).apply(inputs.island),
    kiln.layers.categoryEncoding({ numTokens: sex.vocabularySize(), outputMode: 'one_hot' }).apply(inputs.sex),
  ]) as kiln.SymbolicTensor;
  const hidden = kiln.layers.dense({ units: 16, activation: 'relu' }).apply(features) as kiln.SymbolicTensor;
  const logits = kiln.layers.dense({ units: species.vocabularySize() }).apply(hidden) as kiln.SymbolicTensor;
  const model = kiln.model({ inputs: [inputs.measures, inputs.island, inputs.sex], outputs: logits });
  model.setRowEncoder(encoder); // travels with model.save and model.export
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.01 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });

  /** Raw rows → { xs: the named inputs, ys: the species index }, batched. */
  const batches = (ds: kiln.data.Dataset<Penguin>) => ds.map((r) => ({ xs: encoder.encodeRow(r), ys: species.call(r.Species as string) })).batch(32);
  const history = await model.fit(batches(kiln.data.fromArray(trainRows).shuffle(300, { seed })).prefetch(2), { epochs, verbose, validationData: batches(kiln.data.fromArray(testRows)) });
  const [, accuracy] = (await model.evaluate(batches(kiln.data.fromArray(testRows)))) as kiln.Tensor[];
  return { accuracy: accuracy!.itemSync(), history, model, encoder, species, island, sex, trainRows, testRows };
}

/** The model as a portable artifact file that takes raw rows, the species names in its metadata. */
export async function exportPenguins(model: kiln.LayersModel, species: kiln.layers.StringLookup, path: string): Promise<void> {
  await model.export(path, { maxBatch: 64, metadata: { classNames: species.getVocabulary(), dataset: 'vega-datasets penguins.json' } });
}

/** Each row's class: the argmax of its logits. */
export function argmaxRows(logits: ArrayLike<number>, classes: number): number[] {
  return Array.from({ length: logits.length / classes }, (_, r) => {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[r * classes + k]! > logits[r * classes + best]!) best = k;
    return best;
  });
}
