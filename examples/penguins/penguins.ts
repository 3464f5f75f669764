/**
 * The Palmer penguins table (vega-datasets' penguins.json, BSD-3-Clause) → a
 * species classifier, the structured-data recipe: a table as a dataset of
 * records, rows with missing measurements dropped, text columns through
 * StringLookup (a missing Sex becomes the OOV index), the measurements through
 * an adapted Normalization, islands and sexes one-hot in the model, a seeded
 * 80/20 split, and fit / evaluate on record batches fed to named inputs.
 */
import * as kiln from '../../src/index.js';

type Row = { xs: Record<string, number | string>; ys: string };
const measures = ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'];

/** Trains on `penguins` (rows of penguins.json) and returns the test accuracy with the pieces it built. */
export async function trainPenguins(penguins: readonly Record<string, unknown>[], options: { epochs?: number; seed?: number; verbose?: 0 | 1 } = {}) {
  const { epochs = 60, seed = 0, verbose = 0 } = options;
  const complete = kiln.data.fromTable(penguins, { label: 'Species' })
    .filter((r) => measures.every((m) => Number.isFinite((r as Row).xs[m]))) as kiln.data.Dataset<Row>;
  const rows = await complete.shuffle(1000, { seed, reshuffleEachIteration: false }).toArray();
  const cut = Math.round(rows.length * 0.8);
  const train = kiln.data.fromArray(rows.slice(0, cut));
  const test = kiln.data.fromArray(rows.slice(cut));

  // vocabularies and statistics come from the training rows only
  const species = kiln.layers.stringLookup({ numOovIndices: 0 });
  const island = kiln.layers.stringLookup();
  const sex = kiln.layers.stringLookup();
  await species.adapt(train.map((r) => r.ys));
  await island.adapt(train.map((r) => r.xs.Island as string));
  await sex.adapt(train.map((r) => r.xs.Sex as string).filter((s) => s !== ''));
  const norm = kiln.layers.normalization();
  await norm.adapt(train.map((r) => kiln.tensor(measures.map((m) => r.xs[m] as number))).batch(64));

  /** A record row as the model's named inputs and an int32 label. */
  const encode = (r: Row) => ({
    xs: { measures: kiln.tensor(measures.map((m) => r.xs[m] as number)), island: island.call(r.xs.Island as string), sex: sex.call(r.xs.Sex as string) },
    ys: species.call(r.ys),
  });

  const inputs = { measures: kiln.input({ shape: [4], name: 'measures' }), island: kiln.input({ shape: [1], dtype: 'int32', name: 'island' }), sex: kiln.input({ shape: [1], dtype: 'int32', name: 'sex' }) };
  const features = kiln.layers.concatenate().apply([
    norm.apply(inputs.measures),
    kiln.layers.categoryEncoding({ numTokens: island.vocabularySize(), outputMode: 'one_hot' }).apply(inputs.island),
    kiln.layers.categoryEncoding({ numTokens: sex.vocabularySize(), outputMode: 'one_hot' }).apply(inputs.sex),
  ]) as kiln.SymbolicTensor;
  const hidden = kiln.layers.dense({ units: 16, activation: 'relu' }).apply(features) as kiln.SymbolicTensor;
  const logits = kiln.layers.dense({ units: species.vocabularySize() }).apply(hidden) as kiln.SymbolicTensor;
  const model = kiln.model({ inputs: [inputs.measures, inputs.island, inputs.sex], outputs: logits });
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.01 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });

  const batches = (ds: kiln.data.Dataset<Row>) => ds.map(encode).batch(32);
  const history = await model.fit(batches(train.shuffle(300, { seed })).prefetch(2), { epochs, verbose, validationData: batches(test) });
  const [, accuracy] = (await model.evaluate(batches(test))) as kiln.Tensor[];
  return { accuracy: accuracy!.itemSync(), history, model, species, island, sex, trainRows: cut, testRows: rows.length - cut };
}
