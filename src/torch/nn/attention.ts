/**
 * @file `nn.MultiheadAttention`, PyTorch's: one packed input projection
 * (`in_proj_weight` [3·E, E] and `in_proj_bias` for query, key and value, head
 * after head), scaled dot products per head, a softmax with an optional mask
 * (boolean: true is masked; float: added) or `isCausal`, dropout on the
 * probabilities while training, and `out_proj`. State dicts use PyTorch's names,
 * so a torch module's weights load as they are. Key and value of the query's
 * size only (PyTorch's kdim = vdim = embed_dim).
 */
import { checkOptions, checkPositiveInt, optionKeys } from '../../../compiler/check.js';
import { userError } from '../../../compiler/errors.js';
import * as F from '../../../compiler/functions/index.js';
import { nextSeed } from '../../../compiler/random.js';
import { captureOrigin } from '../../../compiler/source.js';
import { Tensor } from '../../../compiler/tensor.js';
import { formatType } from '../../../compiler/types.js';
import { Parameter } from '../tensors.js';
import * as Fn from './functional.js';
import { xavierUniform_, zeros_ } from './init.js';
import { Linear } from './layers.js';
import { Module } from './module.js';

export interface MultiheadAttentionOptions {
  /** Dropout on the attention probabilities while training (default 0). */
  dropout?: number;
  bias?: boolean;
  /** Inputs [batch, sequence, embed] (true) or [sequence, batch, embed] (false, PyTorch's default). */
  batchFirst?: boolean;
  seed?: number;
}

export interface AttentionForwardOptions {
  /** [target, source]: boolean (true: not attended) or float (added to the scores). */
  attnMask?: Tensor;
  /** Return the attention weights averaged over the heads (default true, as PyTorch). */
  needWeights?: boolean;
  /** Mask the future: target step i attends to source steps ≤ i. */
  isCausal?: boolean;
}

const keys = optionKeys<MultiheadAttentionOptions>({ dropout: true, bias: true, batchFirst: true, seed: true });
const forwardKeys = optionKeys<AttentionForwardOptions>({ attnMask: true, needWeights: true, isCausal: true });

/**
 * PyTorch's MultiheadAttention (embed_dim, num_heads).
 * @example
 * const mha = new kiln.nn.MultiheadAttention(64, 4, { batchFirst: true });
 * const [y, weights] = mha.forward(x, x, x, { isCausal: true });
 */
export class MultiheadAttention extends Module {
  inProjWeight: Tensor;
  inProjBias: Tensor | undefined;
  outProj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  private readonly seed: number;

  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    checkOptions('nn.MultiheadAttention', options, keys);
    checkPositiveInt('nn.MultiheadAttention', 'embedDim', embedDim);
    checkPositiveInt('nn.MultiheadAttention', 'numHeads', numHeads);
    if (embedDim % numHeads !== 0) throw userError('nn.MultiheadAttention', `expected embedDim (${embedDim}) to be divisible by numHeads (${numHeads})`, captureOrigin());
    const { dropout = 0, bias = true, batchFirst = false } = options;
    if (!(dropout >= 0 && dropout < 1)) throw userError('nn.MultiheadAttention', `expected dropout in [0, 1), got ${dropout}`, captureOrigin());
    this.seed = options.seed ?? nextSeed();
    this.headDim = embedDim / numHeads;
    this.dropout = dropout;
    this.batchFirst = batchFirst;
    // PyTorch's init: xavier_uniform_ for the packed projection, zeros for its bias and out_proj's
    this.inProjWeight = new Parameter(F.zeros([3 * embedDim, embedDim]));
    xavierUniform_(this.inProjWeight, { seed: this.seed });
    this.inProjBias = bias ? new Parameter(F.zeros([3 * embedDim])) : undefined;
    this.outProj = new Linear(embedDim, embedDim, { bias, seed: this.seed + 1 });
    if (this.outProj.bias) zeros_(this.outProj.bias);
  }

  /** [batch, length, E] → [batch, heads, length, headDim] through rows `part` (0 query, 1 key, 2 value) of the packed projection. */
  private project(x: Tensor, part: number): Tensor {
    const e = this.embedDim;
    const w = F.slice(this.inProjWeight, [part * e, 0], [e, e]);
    const b = this.inProjBias ? F.slice(this.inProjBias, [part * e], [e]) : undefined;
    const length = x.shape[1] as number;
    return F.transpose(F.reshape(Fn.linear(x, w, b), [-1, length, this.numHeads, this.headDim]), [0, 2, 1, 3]);
  }

  /**
   * Attention of `query` over `key`/`value`: [output, weights averaged over the
   * heads (undefined with needWeights: false)], in the module's layout.
   */
  forward(query: Tensor, key: Tensor, value: Tensor, options: AttentionForwardOptions = {}): [Tensor, Tensor | undefined] {
    checkOptions('nn.MultiheadAttention.forward', options, forwardKeys);
    const fail = (m: string): never => { throw userError('nn.MultiheadAttention.forward', m, captureOrigin()); };
    for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) {
      if (!(t instanceof Tensor) || t.rank !== 3 || t.shape[2] !== this.embedDim) fail(`expected ${name} of shape ${this.batchFirst ? '[batch, length, ' : '[length, batch, '}${this.embedDim}], got ${t instanceof Tensor ? formatType(t.type) : typeof t}`);
    }
    const batchMajor = (t: Tensor) => (this.batchFirst ? t : F.transpose(t, [1, 0, 2]));
    const [q0, k0, v0] = [batchMajor(query), batchMajor(key), batchMajor(value)];
    if (k0.shape[1] !== v0.shape[1]) fail(`expected key and value of one length, got ${formatType(key.type)} and ${formatType(value.type)}`);
    const [tq, tk] = [q0.shape[1] as number, k0.shape[1] as number];
    const q = F.mul(this.project(q0, 0), 1 / Math.sqrt(this.headDim));
    const k = this.project(k0, 1);
    const v = this.project(v0, 2);
    let scores = F.matmul(q, k, { transposeB: true }); // [batch, heads, tq, tk]
    const { attnMask, needWeights = true, isCausal = false } = options;
    if (attnMask !== undefined) {
      if (!(attnMask instanceof Tensor) || attnMask.rank !== 2 || attnMask.shape[0] !== tq || attnMask.shape[1] !== tk) fail(`expected attnMask of shape [${tq}, ${tk}], got ${attnMask instanceof Tensor ? formatType(attnMask.type) : typeof attnMask}`);
      scores = attnMask.dtype === 'bool' ? F.where(attnMask, -Infinity, scores) : F.add(scores, attnMask);
    }
    if (isCausal) {
      const future = Tensor.concrete({ dtype: 'bool', shape: [tq, tk], data: Uint8Array.from({ length: tq * tk }, (_, n) => (n % tk > Math.floor(n / tk) ? 1 : 0)) });
      scores = F.where(future, -Infinity, scores);
    }
    let probs = F.softmax(scores, -1);
    const averaged = needWeights ? F.mean(probs, 1) : undefined;
    probs = Fn.dropout(probs, this.dropout, this.training, this.seed + 2);
    const heads = F.matmul(probs, v); // [batch, heads, tq, headDim]
    const merged = F.reshape(F.transpose(heads, [0, 2, 1, 3]), [-1, tq, this.embedDim]);
    const out = this.outProj.forward(merged);
    return [this.batchFirst ? out : F.transpose(out, [1, 0, 2]), averaged];
  }
}
