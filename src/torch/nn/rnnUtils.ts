/**
 * `nn.utils.rnn` with PyTorch's names, as far as it fits a compiler: `padSequence`.
 *
 * PyTorch packs variable-length sequences (`pack_padded_sequence`) so that its
 * eager RNN kernels skip the padded steps. kiln compiles one loop over the padded
 * length, so a packed form would buy nothing: pad the batch (`padSequence`, or
 * `kiln.utils.padSequences` for token lists) and either let the padded steps run
 * and read each sequence's output at its last real step (`kiln.gather` on the
 * outputs), or use the Keras layers, whose masks (`embedding({ maskZero: true })`,
 * `masking`) make padded steps keep the state and drop out of the loss.
 */
import { KilnError } from '../../../compiler/errors.js';
import * as F from '../../../compiler/functions/index.js';
import { Tensor } from '../../../compiler/tensor.js';
import { formatType } from '../../../compiler/types.js';

/**
 * Stacks sequences of different lengths ([L_i, *], the same trailing shape) into
 * [max L, batch, *], or [batch, max L, *] with `batchFirst`, padding the shorter
 * ones at the end with `paddingValue` (torch.nn.utils.rnn.pad_sequence).
 * @example kiln.nn.utils.rnn.padSequence([kiln.ones([3, 2]), kiln.ones([1, 2])], { batchFirst: true }) // [2, 3, 2]
 */
export function padSequence(sequences: readonly Tensor[], options: { batchFirst?: boolean; paddingValue?: number } = {}): Tensor {
  const { batchFirst = false, paddingValue = 0 } = options;
  if (!Array.isArray(sequences) || sequences.length === 0) throw new KilnError(`padSequence: expected a non-empty list of Tensors, got ${Array.isArray(sequences) ? 'an empty list' : typeof sequences}.`);
  sequences.forEach((s, i) => {
    if (!(s instanceof Tensor)) throw new KilnError(`padSequence: expected sequences[${i}] to be a Tensor, got ${typeof s}.`);
    if (s.rank < 1) throw new KilnError(`padSequence: expected sequences[${i}] to have a length axis, got ${formatType(s.type)}.`);
  });
  const rest = sequences[0]!.shape.slice(1);
  sequences.forEach((s, i) => {
    if (s.shape.length !== rest.length + 1 || s.shape.slice(1).some((d: unknown, k: number) => d !== rest[k])) {
      throw new KilnError(`padSequence: expected every sequence to have trailing shape [${rest.join(',')}] as sequences[0], got ${formatType(s.type)} for sequences[${i}].`);
    }
  });
  if (typeof paddingValue !== 'number') throw new KilnError(`padSequence: expected paddingValue to be a number, got ${typeof paddingValue}.`);
  const longest = Math.max(...sequences.map((s) => s.shape[0] as number));
  const padded = sequences.map((s) => (s.shape[0] === longest ? s : F.pad(s, [[0, longest - (s.shape[0] as number)], ...rest.map(() => [0, 0] as const)], paddingValue)));
  return F.stack(padded, batchFirst ? 0 : 1);
}
