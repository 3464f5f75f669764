/**
 * Per-output losses, loss weights and metrics; the AUC metric; classWeight with a
 * Dataset; the optimizer state kept when a larger batch recompiles the module;
 * bookkeeping state left out of the weights.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { aucFromCounts } from '../../src/models/metrics.js';
import { blobs } from '../util/blobs.js';

const value = (t: kiln.Tensor) => t.itemSync();

/** A functional model with a classification head 'classes' (3 logits) and a regression head 'score' (1 value). */
function twoHeads() {
  const x = kiln.input({ shape: [4] });
  const h = kiln.layers.dense({ units: 8, activation: 'tanh', name: 'hidden' }).apply(x);
  const classes = kiln.layers.dense({ units: 3, name: 'classes' }).apply(h);
  const score = kiln.layers.dense({ units: 1, name: 'score' }).apply(h);
  return kiln.model({ inputs: x, outputs: [classes, score] });
}

describe('several outputs', () => {
  test('a loss, a weight and metrics per output, by name; logs <output>_loss and <output>_<metric>', async () => {
    const model = twoHeads();
    model.compile({
      optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }),
      loss: { classes: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), score: 'mse' },
      lossWeights: { classes: 1, score: 0.5 },
      metrics: { classes: ['accuracy'], score: 'mae' },
    });
    const { x, y } = blobs(30, 3);
    const target = kiln.cast(y, 'float32').reshape([30, 1]);
    const [logits, score] = model.predict(x) as kiln.Tensor[];
    const ce = value(kiln.sparseCategoricalCrossentropy(y, logits!, { fromLogits: true }));
    const mse = value(kiln.meanSquaredError(target, score!));
    const mae = value(kiln.meanAbsoluteError(target, score!));
    const hits = Array.from(kiln.argmax(logits!, -1).dataSync()).filter((c, i) => c === y.dataSync()[i]).length;
    const [total, classesLoss, scoreLoss, accuracy, scoreMae] = ((await model.evaluate(x, [y, target], { batchSize: 7 })) as kiln.Tensor[]).map(value);
    expect(total).toBeCloseTo(ce + 0.5 * mse, 5);
    expect(classesLoss).toBeCloseTo(ce, 5);
    expect(scoreLoss).toBeCloseTo(mse, 5);
    expect(accuracy).toBeCloseTo(hits / 30, 6);
    expect(scoreMae).toBeCloseTo(mae, 5);
    const history = await model.fit(x, [y, target], { epochs: 2, batchSize: 10, verbose: 0 });
    expect(Object.keys(history.history)).toEqual(['loss', 'classes_loss', 'score_loss', 'classes_accuracy', 'score_mae']);
    const h = history.history;
    h.loss!.forEach((l, e) => expect(l).toBeCloseTo(h.classes_loss![e]! + 0.5 * h.score_loss![e]!, 4));
  }, 120_000);

  test('a list of losses in output order; a flat metric list applies to every output', async () => {
    const model = twoHeads();
    model.compile({ optimizer: 'sgd', loss: ['mse', 'mae'], metrics: ['mse'] });
    const { x } = blobs(12, 4);
    const logs = (await model.trainOnBatch(x, [kiln.zeros([12, 3]), kiln.zeros([12, 1])])) as number[];
    expect(logs).toHaveLength(5); // loss, classes_loss, score_loss, classes_mse, score_mse
    expect(logs[0]).toBeCloseTo(logs[1]! + logs[2]!, 5);
    expect(logs[3]).toBeCloseTo(logs[1]!, 5); // the mse metric of the mse output, before the step
    expect(() => model.compile({ optimizer: 'sgd', loss: [kiln.losses.sparseCategoricalCrossentropy(), 'mse'], metrics: ['mse'] })).toThrow(/metric "mse" needs labels shaped like the predictions/);
  }, 120_000);

  test('bad per-output arguments name the outputs', () => {
    const model = twoHeads();
    expect(() => model.compile({ optimizer: 'sgd', loss: { classes: 'mse', scores: 'mse' } })).toThrow('compile: loss names "scores", which is not an output; the outputs are "classes", "score".');
    expect(() => model.compile({ optimizer: 'sgd', loss: { classes: 'mse' } })).toThrow('compile: loss gives nothing for output "score"; expected one entry per output (classes, score).');
    expect(() => model.compile({ optimizer: 'sgd', loss: ['mse'] })).toThrow('compile: expected loss to be one for every output or a list of 2 (one per output: classes, score), got a list of 1.');
    expect(() => model.compile({ optimizer: 'sgd', loss: 'mse', metrics: { classes: ['nope'] } })).toThrow(/unknown metric "nope"/);
    expect(() => model.compile({ optimizer: 'sgd', loss: 'mse', lossWeights: [1, NaN] })).toThrow('compile: expected lossWeights for output "score" to be a finite number, got NaN.');
  });
});

describe('AUC', () => {
  /** The exact ROC AUC: the chance a positive scores above a negative (ties count one half). */
  function exactAuc(labels: number[], scores: number[]): number {
    let wins = 0;
    let pairs = 0;
    labels.forEach((l, i) => {
      if (!l) return;
      labels.forEach((m, j) => {
        if (m) return;
        pairs++;
        wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      });
    });
    return wins / pairs;
  }

  test('counts per threshold, and the area equals the exact AUC when scores lie between thresholds', () => {
    const labels = [1, 0, 1, 1, 0, 0, 1, 0, 1, 0];
    // off the grid of 11 thresholds (multiples of 0.1), distinct bins: the trapezoids are exact
    const scores = [0.95, 0.15, 0.65, 0.85, 0.45, 0.05, 0.35, 0.75, 0.55, 0.25];
    const auc = kiln.metrics.auc({ numThresholds: 11 });
    const y = kiln.tensor(labels, [10, 1]);
    const p = kiln.tensor(scores, [10, 1]);
    const totals = Object.fromEntries(auc.parts!.map((q) => [q.name, Float64Array.from(q.sum(y, p).dataSync())]));
    expect(Array.from(totals.truePositives!)).toEqual([5, 5, 5, 5, 4, 4, 3, 2, 2, 1, 0]);
    expect(Array.from(totals.falsePositives!)).toEqual([5, 4, 3, 2, 2, 1, 1, 1, 0, 0, 0]);
    expect([totals.positives![0], totals.negatives![0]]).toEqual([5, 5]);
    expect(auc.combine!(totals)).toBeCloseTo(exactAuc(labels, scores), 6);
    // hand values for the other summations: ROC points (fpr, tpr) from the counts above
    expect(aucFromCounts([2, 1, 0], [2, 1, 0], 2, 2, 'ROC', 'minoring')).toBeCloseTo(0.25, 6); // (1 − ½)·min(1, ½) + (½ − 0)·min(½, 0)
    expect(aucFromCounts([2, 2, 0], [2, 0, 0], 2, 2, 'ROC', 'majoring')).toBeCloseTo(1, 6);
    // PR: precision 1 everywhere (no false positives) gives area 1
    expect(aucFromCounts([2, 1, 0], [0, 0, 0], 2, 2, 'PR', 'interpolation')).toBeCloseTo(1, 6);
    expect(() => kiln.metrics.auc({ numThresholds: 1 })).toThrow(/numThresholds/);
  });

  test('through compile and evaluate, over several batches, as the counts of all examples', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 1, activation: 'sigmoid' })] });
    model.compile({ optimizer: 'sgd', loss: 'binaryCrossentropy', metrics: ['AUC'] });
    const { x, y } = blobs(40, 5);
    const labels = kiln.cast(kiln.eq(y, 0), 'float32').reshape([40, 1]);
    const [, auc] = ((await model.evaluate(x, labels, { batchSize: 16 })) as kiln.Tensor[]).map(value);
    const p = model.predict(x);
    const metric = kiln.metrics.auc();
    const totals = Object.fromEntries(metric.parts!.map((q) => [q.name, Float64Array.from(q.sum(labels, p).dataSync())]));
    expect(auc).toBeCloseTo(metric.combine!(totals), 6);
    expect(auc).toBeGreaterThan(0);
    expect(auc).toBeLessThanOrEqual(1);
  }, 120_000);
});

describe('fit details', () => {
  test('classWeight with a Dataset weights the same examples as with tensors', async () => {
    const make = () => {
      const m = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 3 })] });
      m.compile({ optimizer: kiln.optimizers.sgd({ learningRate: 0.1 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
      return m;
    };
    const { x, y } = blobs(24, 6);
    const classWeight = { 0: 3, 2: 0.5 };
    const a = make();
    const ha = await a.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, classWeight, verbose: 0 });
    const b = make();
    const hb = await b.fit(kiln.data.fromTensors([x, y]).batch(8), { epochs: 2, classWeight, verbose: 0 });
    expect(hb.history.loss).toEqual(ha.history.loss);
    expect(b.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(a.getWeights().map((t) => Array.from(t.dataSync())));
    await expect(b.fit(kiln.data.fromTensors([x, y]).batch(8), { classWeight: { 1: -1 }, verbose: 0 })).rejects.toThrow('fit: expected classWeight[1] to be a finite number >= 0, got -1.');
  }, 120_000);

  test('a batch larger than the module recompiles it and keeps the optimizer state', async () => {
    const make = () => {
      const m = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 3 })] });
      m.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
      return m;
    };
    const small = blobs(8, 7);
    const big = blobs(48, 8);
    const grown = make();
    await grown.trainOnBatch(small.x, small.y); // a module for batches up to 32
    await grown.trainOnBatch(big.x, big.y); // recompiled for 48
    const sized = make();
    await sized.evaluate(big.x, big.y, { batchSize: 48 }); // a module for 48 from the start (evaluate changes no weight)
    await sized.trainOnBatch(small.x, small.y);
    await sized.trainOnBatch(big.x, big.y);
    expect(grown.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(sized.getWeights().map((t) => Array.from(t.dataSync())));
  }, 120_000);

  test("dropout's step counter is not a weight: no parameters in the summary", () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [4], units: 2 }), kiln.layers.dropout({ rate: 0.5 })] });
    const lines: string[] = [];
    model.summary((l) => lines.push(l));
    expect(lines.find((l) => l.startsWith('dropout'))).toMatch(/ 0\s*$/);
    expect(model.countParams()).toBe(10);
    expect(model.getWeights()).toHaveLength(2);
  });

  test('bad data fails before training: labels out of range or fractional, NaN or infinity in x or y', async () => {
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 3 })] });
    model.compile({ optimizer: 'sgd', loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }) });
    const x = kiln.tensor([[1, 2], [3, 4]]);
    await expect(model.fit(x, kiln.tensor([0, 3], [2], 'int32'), { verbose: 0 })).rejects.toThrow('fit: loss sparseCategoricalCrossentropy expects class indices in 0…2, got 3 in y at example 1.');
    await expect(model.fit(x, kiln.tensor([0.5, 1]), { verbose: 0 })).rejects.toThrow('fit: loss sparseCategoricalCrossentropy expects class indices in 0…2, got 0.5 in y at example 0.');
    await expect(model.fit(kiln.tensor([[1, 2], [NaN, 4]]), kiln.tensor([0, 1], [2], 'int32'), { verbose: 0 })).rejects.toThrow('fit: x holds NaN at example 1 (flat index 2); clean or impute the data first.');
    const regression = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 1 })] });
    regression.compile({ optimizer: 'sgd', loss: 'mse' });
    await expect(regression.evaluate(x, kiln.tensor([[1], [Infinity]]))).rejects.toThrow('evaluate: y holds Infinity at example 1 (flat index 1); clean or impute the data first.');
  });
});
