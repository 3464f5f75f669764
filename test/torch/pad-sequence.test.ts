/**
 * nn.utils.rnn.padSequence (torch.nn.utils.rnn.pad_sequence): sequences of
 * different lengths stacked with their ends padded, time-major or batch-first,
 * values as torch gives them (written out by hand here), and usable as an
 * nn.LSTM's input; bad lists are KilnErrors that name the function.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const { padSequence } = kiln.nn.utils.rnn;

describe('nn.utils.rnn.padSequence', () => {
  const a = kiln.tensor([[1, 2], [3, 4], [5, 6]], [3, 2]);
  const b = kiln.tensor([[7, 8]], [1, 2]);
  const c = kiln.tensor([[9, 10], [11, 12]], [2, 2]);

  test('time-major by default: [max L, batch, *], ends padded with 0', () => {
    const out = padSequence([a, b, c]);
    expect(out.shape).toEqual([3, 3, 2]);
    expect(out.arraySync()).toEqual([
      [[1, 2], [7, 8], [9, 10]],
      [[3, 4], [0, 0], [11, 12]],
      [[5, 6], [0, 0], [0, 0]],
    ]);
  });

  test('batchFirst and paddingValue', () => {
    const out = padSequence([b, c], { batchFirst: true, paddingValue: -1 });
    expect(out.shape).toEqual([2, 2, 2]);
    expect(out.arraySync()).toEqual([[[7, 8], [-1, -1]], [[9, 10], [11, 12]]]);
  });

  test('feeds an nn.LSTM: each sequence\'s real steps come out as the sequence alone gives them (padding only follows them)', () => {
    kiln.manualSeed(2);
    const lstm = new kiln.nn.LSTM(2, 3, { batchFirst: true });
    const [out] = lstm.forward(padSequence([a, b, c], { batchFirst: true }));
    expect(out!.shape).toEqual([3, 3, 3]);
    const padded = out!.arraySync() as number[][][];
    [a, b, c].forEach((s, i) => {
      const [alone] = lstm.forward(kiln.reshape(s, [1, ...s.shape] as number[]));
      const steps = (alone!.arraySync() as number[][][])[0]!;
      steps.forEach((step, t) => step.forEach((v, k) => expect(padded[i]![t]![k]).toBeCloseTo(v, 6)));
    });
  });

  test('bad lists name the function', () => {
    expect(() => padSequence([])).toThrow('padSequence: expected a non-empty list of Tensors, got an empty list.');
    expect(() => padSequence([a, kiln.ones([2, 3])])).toThrow('padSequence: expected every sequence to have trailing shape [2] as sequences[0], got f32[2,3] for sequences[1].');
    expect(() => padSequence([a, 5 as never])).toThrow('padSequence: expected sequences[1] to be a Tensor, got number.');
  });
});
