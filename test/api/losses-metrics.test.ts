/** New losses (KLD, cosine similarity, label smoothing) and metrics (top-k, precision, recall): values by hand, gradients, names. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { getLoss, losses } from '../../src/models/losses.js';
import { getMetric, metrics, type Metric } from '../../src/models/metrics.js';

const t = (values: number[][]) => kiln.tensor(values);
const ints = (values: number[]) => kiln.tensor(Int32Array.from(values), [values.length], 'int32');
const value = (x: kiln.Tensor) => x.itemSync();
const values = (x: kiln.Tensor) => Array.from(x.dataSync());
const ln = Math.log;

describe('label smoothing', () => {
  const y = t([[0, 1, 0], [1, 0, 0]]);
  const p = t([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]]);
  // ls = 0.3, 3 classes: y' = y·0.7 + 0.1 → [0.1, 0.8, 0.1] and [0.8, 0.1, 0.1]
  const row0 = -(0.1 * ln(0.2) + 0.8 * ln(0.7) + 0.1 * ln(0.1));
  const row1 = -(0.8 * ln(0.6) + 0.1 * ln(0.3) + 0.1 * ln(0.1));

  test('categoricalCrossentropy: y·(1 − ls) + ls/numClasses', () => {
    const loss = losses.categoricalCrossentropy({ labelSmoothing: 0.3 });
    expect(value(loss.fn(y, p))).toBeCloseTo((row0 + row1) / 2, 5);
    expect(values(loss.perExample!(y, p))).toEqual([expect.closeTo(row0, 5), expect.closeTo(row1, 5)]);
    // ls = 0 is the plain cross-entropy
    expect(value(losses.categoricalCrossentropy().fn(y, p))).toBeCloseTo(-(ln(0.7) + ln(0.6)) / 2, 5);
  });

  test('categoricalCrossentropy from logits smooths the same', () => {
    const logits = t([[1, 2, 0]]);
    const z = Math.exp(1) + Math.exp(2) + 1;
    const logp = [1 - ln(z), 2 - ln(z), -ln(z)];
    const expected = -(0.1 * logp[0]! + 0.8 * logp[1]! + 0.1 * logp[2]!);
    expect(value(losses.categoricalCrossentropy({ fromLogits: true, labelSmoothing: 0.3 }).fn(t([[0, 1, 0]]), logits))).toBeCloseTo(expected, 5);
  });

  test('sparseCategoricalCrossentropy: one-hot, then smoothed', () => {
    const loss = losses.sparseCategoricalCrossentropy({ labelSmoothing: 0.3 });
    expect(value(loss.fn(ints([1, 0]), p))).toBeCloseTo((row0 + row1) / 2, 5);
    expect(values(loss.perExample!(ints([1, 0]), p))).toEqual([expect.closeTo(row0, 5), expect.closeTo(row1, 5)]);
  });

  test('binaryCrossentropy: y·(1 − ls) + 0.5·ls', () => {
    // ls = 0.2: labels 1 → 0.9, 0 → 0.1
    const yb = t([[1, 0], [0, 1]]);
    const pb = t([[0.9, 0.2], [0.3, 0.6]]);
    const bce = (yy: number, pp: number) => -(yy * ln(pp) + (1 - yy) * ln(1 - pp));
    const r0 = (bce(0.9, 0.9) + bce(0.1, 0.2)) / 2;
    const r1 = (bce(0.1, 0.3) + bce(0.9, 0.6)) / 2;
    const loss = losses.binaryCrossentropy({ labelSmoothing: 0.2 });
    expect(value(loss.fn(yb, pb))).toBeCloseTo((r0 + r1) / 2, 5);
    expect(values(loss.perExample!(yb, pb))).toEqual([expect.closeTo(r0, 5), expect.closeTo(r1, 5)]);
    // from logits: the same with p = sigmoid(logit)
    const logit = (q: number) => ln(q / (1 - q));
    const lb = t([[logit(0.9), logit(0.2)], [logit(0.3), logit(0.6)]]);
    expect(value(losses.binaryCrossentropy({ fromLogits: true, labelSmoothing: 0.2 }).fn(yb, lb))).toBeCloseTo((r0 + r1) / 2, 5);
  });

  test('rejects a smoothing factor outside [0, 1]', () => {
    expect(() => losses.categoricalCrossentropy({ labelSmoothing: 1.5 }).fn(y, p)).toThrow(/labelSmoothing in \[0, 1\]/);
    expect(() => losses.binaryCrossentropy({ labelSmoothing: -0.1 }).fn(y, p)).toThrow(/labelSmoothing/);
    expect(() => losses.sparseCategoricalCrossentropy({ labelSmoothing: NaN }).fn(ints([1, 0]), p)).toThrow(/labelSmoothing/);
  });
});

describe('kullbackLeiblerDivergence', () => {
  test('Σ y·log(y/p) with y, p clipped to [1e-7, 1]', () => {
    const y = t([[0.5, 0.5, 0], [0.1, 0.2, 0.7]]);
    const p = t([[0.25, 0.5, 0.25], [0.3, 0.3, 0.4]]);
    const e = 1e-7;
    const r0 = 0.5 * ln(2) + 0.5 * ln(1) + e * ln(e / 0.25); // the zero label contributes ~0, not NaN
    const r1 = 0.1 * ln(0.1 / 0.3) + 0.2 * ln(0.2 / 0.3) + 0.7 * ln(0.7 / 0.4);
    const loss = losses.kullbackLeiblerDivergence();
    expect(value(loss.fn(y, p))).toBeCloseTo((r0 + r1) / 2, 5);
    expect(values(loss.perExample!(y, p))).toEqual([expect.closeTo(r0, 5), expect.closeTo(r1, 5)]);
    expect(value(kiln.kullbackLeiblerDivergence(y, y))).toBeCloseTo(0, 6);
    expect(value(kiln.kullbackLeiblerDivergence(y, p, { reduction: 'sum' }))).toBeCloseTo(r0 + r1, 5);
  });

  test('gradients', () => {
    const y = t([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]);
    const p = t([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25]]);
    kiln.checkGrads((a, b) => kiln.kullbackLeiblerDivergence(a, b, { reduction: 'none' }), [y, p]);
    kiln.checkGrads((a, b) => kiln.kullbackLeiblerDivergence(a, b), [y, p]);
  });
});

describe('cosineSimilarity (the loss is the NEGATIVE cosine)', () => {
  test('−1 aligned, 0 orthogonal, +1 opposite', () => {
    const y = t([[1, 0], [1, 2], [1, 0], [3, 4]]);
    const p = t([[2, 0], [-1, -2], [0, 3], [1, 1]]);
    const r3 = -(3 + 4) / (5 * Math.SQRT2);
    const loss = losses.cosineSimilarity();
    expect(values(loss.perExample!(y, p))).toEqual([expect.closeTo(-1, 6), expect.closeTo(1, 6), expect.closeTo(0, 6), expect.closeTo(r3, 6)]);
    expect(value(loss.fn(y, p))).toBeCloseTo((-1 + 1 + 0 + r3) / 4, 6);
    // a zero vector gives 0 (the norm is floored at sqrt(1e-12)), not NaN
    expect(value(kiln.cosineSimilarity(t([[0, 0]]), t([[1, 1]])))).toBeCloseTo(0, 6);
  });

  test('axis option', () => {
    const y = t([[1, 0], [0, 1]]);
    const p = t([[1, 1], [1, 1]]);
    // along axis 0: columns (1,0)·(1,1)/√2 and (0,1)·(1,1)/√2
    expect(values(losses.cosineSimilarity({ axis: 0 }).perExample!(y, p))).toEqual([expect.closeTo(-Math.SQRT1_2, 6), expect.closeTo(-Math.SQRT1_2, 6)]);
    const p2 = t([[1, 0], [1, 0]]);
    expect(values(kiln.cosineSimilarity(y, p2, { axis: 0, reduction: 'none' }))).toEqual([expect.closeTo(-Math.SQRT1_2, 6), expect.closeTo(0, 6)]);
    expect(() => kiln.cosineSimilarity(y, p, { axis: 2 })).toThrow(/axis/);
  });

  test('gradients', () => {
    const y = kiln.randomNormal([3, 4], { seed: 3 });
    const p = kiln.randomNormal([3, 4], { seed: 4 });
    kiln.checkGrads((a, b) => kiln.cosineSimilarity(a, b, { reduction: 'none' }), [y, p]);
    kiln.checkGrads((a, b) => kiln.cosineSimilarity(a, b, { axis: 0 }), [y, p]);
  });
});

describe('loss names', () => {
  test.each([
    ['kld', 'kullbackLeiblerDivergence'], ['KLD', 'kullbackLeiblerDivergence'], ['KLDivergence', 'kullbackLeiblerDivergence'],
    ['kullbackLeiblerDivergence', 'kullbackLeiblerDivergence'], ['kl_divergence', 'kullbackLeiblerDivergence'],
    ['cosineSimilarity', 'cosineSimilarity'], ['cosineProximity', 'cosineSimilarity'], ['cosine_similarity', 'cosineSimilarity'],
    ['MSE', 'meanSquaredError'], ['MAE', 'meanAbsoluteError'], ['huber', 'huber'],
  ])('%s → %s', (alias, name) => {
    const loss = getLoss(alias);
    expect(loss.name).toBe(name);
    expect(loss.perExample).toBeDefined();
  });

  test('unknown names throw, listing the known ones', () => {
    expect(() => getLoss('kullback')).toThrow(/unknown loss "kullback".*kld/);
    expect(() => getLoss('toString')).toThrow(/unknown loss/);
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 2 })] });
    expect(() => model.compile({ optimizer: 'sgd', loss: 'cosine' })).toThrow(/unknown loss "cosine"/);
  });
});

describe('top-k accuracy', () => {
  const p = t([[0.1, 0.5, 0.3, 0.1], [0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [0, 0.1, 0.2, 0.7]]);
  const sparse = ints([2, 3, 0, 0]);
  const dense = t([[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [1, 0, 0, 0]]);
  // scores strictly above the label's: row 0 → 1, row 1 → 3, row 2 → 0 (ties count as hits), row 3 → 3
  test.each([[1, 1], [2, 2], [3, 2], [4, 4], [5, 4]])('k = %i: %i hits', (k, hits) => {
    expect(value(metrics.sparseTopKCategoricalAccuracy({ k }).sum(sparse, p))).toBe(hits);
    expect(value(metrics.topKCategoricalAccuracy({ k }).sum(dense, p))).toBe(hits);
  });

  test('by name: k = 5, and the sparse one needs a sparse loss', () => {
    const sparseLoss = losses.sparseCategoricalCrossentropy();
    const denseLoss = losses.categoricalCrossentropy();
    expect(value(getMetric('sparseTopKCategoricalAccuracy', sparseLoss).sum(sparse, p))).toBe(4);
    expect(value(getMetric('sparse_top_k_categorical_accuracy', sparseLoss).sum(sparse, p))).toBe(4);
    expect(value(getMetric('topKCategoricalAccuracy', denseLoss).sum(dense, p))).toBe(4);
    expect(value(getMetric('top_k_categorical_accuracy', denseLoss).sum(dense, p))).toBe(4);
    const big = t([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]]);
    expect(value(getMetric('sparseTopKCategoricalAccuracy', sparseLoss).sum(ints([0, 0]), big))).toBe(1); // 5 above label 0 in row 0
    expect(() => getMetric('sparseTopKCategoricalAccuracy', denseLoss)).toThrow(/int32 class labels/);
    expect(() => metrics.topKCategoricalAccuracy({ k: 0 })).toThrow(/positive integer/);
    expect(() => metrics.sparseTopKCategoricalAccuracy({ k: 1.5 })).toThrow(/positive integer/);
  });

  test('through compile and evaluate: the epoch value is hits / examples', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 4, useBias: false })] });
    model.setWeights([kiln.tensor([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])]); // the identity: logits = x
    model.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['sparseTopKCategoricalAccuracy', 'accuracy'] });
    const [, top5, top1] = (await model.evaluate(p, sparse, { batchSize: 3 })) as kiln.Tensor[];
    expect(value(top5!)).toBeCloseTo(1, 6); // 4 classes: every label is in the top 5
    expect(value(top1!)).toBeCloseTo(1 / 4, 6); // argmax hits row 2 only (first index of the tie)
  }, 120_000);
});

describe('precision and recall', () => {
  // predicted positive iff p > 0.5 (0.5 itself is negative); positive iff label ≠ 0
  const y = t([[1], [0], [1], [1], [0], [1]]);
  const p = t([[0.9], [0.6], [0.4], [0.5], [0.2], [0.8]]);
  // TP: rows 0, 5 → 2; FP: row 1 → 1; FN: rows 2, 3 → 2
  const bce = losses.binaryCrossentropy();
  /** combine over totals given as plain numbers (one-element parts) */
  const combineOf = (m: Metric, totals: Record<string, number>) => m.combine!(Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, Float64Array.of(v)])));
  const partSums = (m: Metric, yy: kiln.Tensor, pp: kiln.Tensor) => Object.fromEntries(m.parts!.map((part) => [part.name, value(part.sum(yy, pp))]));

  test('counts and ratios on one batch', () => {
    const precision = getMetric('precision', bce);
    const recall = getMetric('recall', bce);
    expect(partSums(precision, y, p)).toEqual({ truePositives: 2, falsePositives: 1 });
    expect(partSums(recall, y, p)).toEqual({ truePositives: 2, falseNegatives: 2 });
    expect(combineOf(precision, partSums(precision, y, p))).toBeCloseTo(2 / 3, 6);
    expect(combineOf(recall, partSums(recall, y, p))).toBeCloseTo(1 / 2, 6);
    expect(precision.name).toBe('precision');
    expect(getMetric('Recall', bce).name).toBe('recall');
  });

  test('epoch value: counts summed over batches, then divided (not a mean of batch ratios)', () => {
    const precision = metrics.precision();
    const a = partSums(precision, t([[1], [0]]), t([[0.9], [0.6]])); // TP 1, FP 1 → 1/2
    const b = partSums(precision, t([[1], [1], [0], [1]]), t([[0.4], [0.5], [0.2], [0.8]])); // TP 1, FP 0 → 1
    const totals = { truePositives: a.truePositives! + b.truePositives!, falsePositives: a.falsePositives! + b.falsePositives! };
    expect(combineOf(precision, totals)).toBeCloseTo(2 / 3, 6); // the mean of the batch ratios would be 3/4
    expect(combineOf(precision, { truePositives: 0, falsePositives: 0 })).toBe(0); // no predicted positives: 0, not NaN
    expect(combineOf(metrics.recall(), { truePositives: 0, falseNegatives: 0 })).toBe(0);
  });

  test('threshold: 0 on logits when the loss takes logits; options; errors', () => {
    const logits = t([[2], [0.3], [-0.5], [0], [-3], [1]]); // the same signs as p − 0.5
    const precision = getMetric('precision', losses.binaryCrossentropy({ fromLogits: true }));
    expect(combineOf(precision, partSums(precision, y, logits))).toBeCloseTo(2 / 3, 6);
    const recall = metrics.recall({ threshold: 0.45 }); // row 3 (0.5) is now predicted positive
    expect(combineOf(recall, partSums(recall, y, p))).toBeCloseTo(3 / 4, 6);
    expect(() => getMetric('precision', losses.sparseCategoricalCrossentropy())).toThrow(/needs labels shaped like the predictions/);
    expect(() => metrics.precision({ threshold: NaN })).toThrow(/finite threshold/);
    // no per-example form: a loop that only knows `sum` gets a clear error, never a wrong number
    expect(() => metrics.precision().sum(y, p)).toThrow(/ratio of counts.*parts/);
  });
});

describe('metric names', () => {
  test('unknown names throw, listing the known ones', () => {
    const loss = losses.categoricalCrossentropy();
    expect(() => getMetric('topK', loss)).toThrow(/unknown metric "topK".*topKCategoricalAccuracy.*precision/);
    expect(() => getMetric('constructor', loss)).toThrow(/unknown metric/);
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 2 })] });
    expect(() => model.compile({ optimizer: 'sgd', loss: 'kld', metrics: ['roc'] })).toThrow(/unknown metric "roc"/);
  });
});

test('precision and recall total their counts over all batches in evaluate and fit', async () => {
  const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [1], units: 1, useBias: false })] });
  model.setWeights([kiln.tensor([[1]])]);
  model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['precision', 'recall'] });
  const x = kiln.tensor([[0.9], [0.6], [0.4], [0.5], [0.2], [0.8]]);
  const y = kiln.tensor([[1], [0], [1], [1], [0], [1]]);
  const r = (await model.evaluate(x, y, { batchSize: 4 })) as kiln.Tensor[];
  const [, precision, recall] = r.map((t) => t.itemSync());
  expect(precision).toBeCloseTo(2 / 3, 6);
  expect(recall).toBeCloseTo(1 / 2, 6);
  const h = await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0 });
  expect(Object.keys(h.history)).toEqual(['loss', 'precision', 'recall']);
  expect(h.history.precision![0]).toBeGreaterThan(0); // weights move during the epoch
}, 120_000);
