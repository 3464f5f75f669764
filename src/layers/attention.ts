/**
 * @file Attention layers, as Keras's: `multiHeadAttention` (query, value and key
 * projected per head, scaled dot products, softmax, the heads' values projected
 * back; weights laid out as Keras's EinsumDense kernels, so they move to and
 * from Keras) and `attention` (Luong-style dot-product attention without
 * weights but an optional learned scale). Inputs are [batch, steps, features];
 * `useCausalMask` lets step i attend to steps ≤ i only. Applied to a list:
 * `layer.apply([query, value])` or `[query, value, key]`.
 *
 * Masks, as Keras's: each input's mask [batch, steps] — propagated from an
 * `embedding({ maskZero: true })` or a `masking` layer, or given as
 * `apply([q, v], { mask: [queryMask, valueMask] })` — is read. MultiHeadAttention
 * attends where query mask × value mask (× key mask) × causal mask × an explicit
 * `attentionMask` [batch, tq, tv] allow (Keras's _compute_attention_mask);
 * Attention masks the scores by the value mask (× causal) and zeroes the
 * outputs of masked query steps. Masked scores get −1e9 before the softmax. The
 * output carries the query's mask on.
 */
import { optionKeys } from '../../compiler/check.js';
import { KilnError } from '../../compiler/errors.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { checkInputShape, positiveInt, type InitializerIdentifier } from './core.js';
import { readMask } from './masking.js';
import { formatType } from '../../compiler/types.js';
import { assign } from '../../compiler/trace.js';
import { get as getInitializer } from './initializers.js';
import { formatShape, Layer, type CallContext, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';
import type { MultiInputLayer } from './symbolic.js';

/** Keras's additive mask value for float32: masked scores become −1e9 before the softmax. */
const MASKED = -1e9;

/** [query, value, key] shapes, checked: rank-2 per example ([steps, features]), value and key of one length. */
function attentionShapes(subject: string, shapes: readonly Shape[]): [Shape, Shape, Shape] {
  const fail = (message: string): never => { throw new KilnError(`${subject}: ${message}.`); };
  if (!Array.isArray(shapes) || shapes.length < 2 || shapes.length > 3) fail(`expected [query, value] or [query, value, key], got ${Array.isArray(shapes) ? `${shapes.length} inputs` : 'one input'}`);
  shapes.forEach((s) => checkInputShape(subject, s));
  const [q, v, k = v] = shapes as [Shape, Shape, Shape?];
  for (const [name, s] of [['query', q], ['value', v], ['key', k]] as const) {
    if (s.length !== 2) fail(`expected ${name} of shape [batch, steps, features], got ${formatShape([null, ...s])}`);
  }
  if (k[0] !== v[0]) fail(`expected key and value of one length, got ${formatShape([null, ...k])} and ${formatShape([null, ...v])}`);
  return [q, v, k];
}

const INPUT_NAMES = ['query', 'value', 'key'] as const;
const and = (a: Tensor | undefined, b: Tensor): Tensor => (a ? F.logicalAnd(a, b) : b);

/** What both attention layers share: a list of 2 or 3 inputs, never one; the inputs' masks. */
abstract class AttentionLayer extends Layer implements MultiInputLayer {
  /** Whether `apply` takes an explicit attentionMask (MultiHeadAttention's). */
  protected abstract readonly takesAttentionMask: boolean;

  computeOutputShape(_inputShape: Shape): Shape {
    return this.fail('expected [query, value] or [query, value, key] (apply([q, v])), got one input');
  }

  /** Masks given to apply: one per input, [steps] each, and an attention mask [tq, tv] (shapes without the batch). */
  checkCallMasks(shapes: readonly Shape[], masks: readonly (Shape | undefined)[], attentionMask: Shape | undefined): void {
    const inputs = attentionShapes(this.subject, shapes);
    masks.forEach((m, i) => {
      if (m && (m.length !== 1 || m[0] !== inputs[i]![0])) this.fail(`expected the ${INPUT_NAMES[i]}'s mask of shape [null,${inputs[i]![0]}] (one per step of the ${INPUT_NAMES[i]} ${formatShape([null, ...inputs[i]!])}), got ${formatShape([null, ...m])}`);
    });
    if (!attentionMask) return;
    if (!this.takesAttentionMask) this.fail(`expected no attentionMask (Keras's Attention takes masks: [queryMask, valueMask]), got ${formatShape([null, ...attentionMask])}`);
    const want = [inputs[0][0]!, inputs[1][0]!];
    if (attentionMask.length !== 2 || attentionMask.some((d, i) => d !== want[i])) this.fail(`expected an attentionMask of shape [null,${want.join(',')}] ([batch, query steps, value steps]), got ${formatShape([null, ...attentionMask])}`);
  }

  /** The query's mask passes on (Keras's). */
  computeMaskMany(_xs: readonly Tensor[], masks: readonly (Tensor | undefined)[]): Tensor | undefined {
    return masks[0];
  }

  /** Each input's mask from the call (given or propagated), checked and made bool [batch, steps]; the key's only when a key was given. */
  protected inputMasks(xs: readonly Tensor[], ctx: CallContext): (Tensor | undefined)[] {
    if (ctx.masks && ctx.masks.length !== xs.length) this.fail(`expected ${xs.length} masks (one per input, undefined for none), got ${ctx.masks.length}`);
    return xs.map((x, i) => {
      try {
        return readMask(this.subject, ctx.masks?.[i], x);
      } catch (e) {
        if (e instanceof KilnError) this.fail(`expected the ${INPUT_NAMES[i]}'s mask [${x.type.shape.slice(0, 2).join(',')}] (bool, or 0/1 numbers: one per step of the ${INPUT_NAMES[i]} ${formatType(x.type)}), got ${formatType(ctx.masks![i]!.type)}`);
        throw e;
      }
    });
  }

  /** The explicit attention mask, checked ([batch, tq, tv]) and made bool. */
  protected explicitMask(query: Tensor, value: Tensor, ctx: CallContext): Tensor | undefined {
    const m = ctx.attentionMask;
    if (!m) return undefined;
    if (!this.takesAttentionMask) this.fail(`expected no attentionMask (Keras's Attention takes masks: [queryMask, valueMask]), got ${formatType(m.type)}`);
    const want = [query.type.shape[0], query.type.shape[1], value.type.shape[1]];
    if (m.rank !== 3 || m.type.shape.some((d, i) => d !== want[i]) || !['bool', 'float32', 'int32'].includes(m.dtype)) {
      this.fail(`expected an attentionMask [${want.join(',')}] ([batch, query steps, value steps]; bool, or 0/1 numbers), got ${formatType(m.type)}`);
    }
    return m.dtype === 'bool' ? m : F.ne(m, 0);
  }

  call(_x: Tensor): Tensor {
    return this.fail('expected [query, value] or [query, value, key], got one input');
  }

  abstract computeOutputShapeMany(shapes: readonly Shape[]): Shape;
  abstract callMany(xs: readonly Tensor[], weights: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor;
}

/** A lower-triangular [tq, tv] bool mask: query step i may see value steps j ≤ i. */
function causalMask(tq: number, tv: number): Tensor {
  return F.gt(F.tensor(Float32Array.from({ length: tq * tv }, (_, n) => (n % tv <= Math.floor(n / tv) ? 1 : 0)), [tq, tv]), 0);
}

/**
 * softmax(scores, masked to −1e9 where `mask` is false) · value, with dropout on
 * the probabilities in training (drawn as the dropout layer draws: the seed and
 * a step counter weight). `mask` broadcasts against the scores.
 */
function attend(scores: Tensor, mask: Tensor | undefined, dropout: { rate: number; seed: number; step?: Tensor; training: boolean }, value: Tensor): Tensor {
  const masked = mask ? F.add(scores, F.where(mask, 0, MASKED)) : scores;
  let probs = F.softmax(masked, -1);
  if (dropout.rate > 0 && dropout.training && dropout.step) {
    if (dropout.step.isSymbolic) assign(dropout.step, F.add(dropout.step, 1));
    const u = F.randomUniformOp([...probs.type.shape], dropout.seed, dropout.step);
    probs = F.where(F.lt(u, dropout.rate), 0, F.div(probs, 1 - dropout.rate));
  }
  return F.matmul(probs, value);
}

export interface MultiHeadAttentionArgs extends LayerArgs {
  numHeads: number;
  /** Size of each head's query and key. */
  keyDim: number;
  /** Size of each head's value (default keyDim). */
  valueDim?: number;
  /** Dropout on the attention probabilities in training. */
  dropout?: number;
  useBias?: boolean;
  /** The output's last dimension (default the query's). */
  outputShape?: number;
  /** Step i attends to steps ≤ i only (Keras passes use_causal_mask to call; here it is the layer's). */
  useCausalMask?: boolean;
  kernelInitializer?: InitializerIdentifier;
  biasInitializer?: InitializerIdentifier;
  seed?: number;
}

/**
 * Keras's MultiHeadAttention over [batch, steps, features] inputs.
 * @example
 * const x = kiln.input({ shape: [16, 32] });
 * const y = kiln.layers.multiHeadAttention({ numHeads: 4, keyDim: 8, useCausalMask: true }).apply([x, x]);
 */
export class MultiHeadAttention extends AttentionLayer {
  static override readonly optionKeys = optionKeys<MultiHeadAttentionArgs>({ numHeads: true, keyDim: true, valueDim: true, dropout: true, useBias: true, outputShape: true, useCausalMask: true, kernelInitializer: true, biasInitializer: true, seed: true, ...LAYER_KEYS });
  readonly className = 'MultiHeadAttention';
  protected readonly takesAttentionMask = true;
  readonly numHeads: number;
  readonly keyDim: number;
  readonly valueDim: number;
  readonly dropout: number;
  readonly useBias: boolean;
  readonly outputShape?: number;
  readonly useCausalMask: boolean;
  private readonly kernelInitializer: InitializerIdentifier;
  private readonly biasInitializer: InitializerIdentifier;
  private readonly seed: number;
  /** The value's and key's feature sizes, learnt when the layer is applied (self-attention: the query's). */
  private otherDims?: { value: number; key: number };

  constructor(args: MultiHeadAttentionArgs) {
    super('MultiHeadAttention', args);
    const { numHeads, keyDim, valueDim = keyDim, dropout = 0, useBias = true, outputShape, useCausalMask = false, kernelInitializer = 'glorotUniform', biasInitializer = 'zeros', seed = 0 } = args;
    this.numHeads = positiveInt(this.subject, 'numHeads', numHeads);
    this.keyDim = positiveInt(this.subject, 'keyDim', keyDim);
    this.valueDim = positiveInt(this.subject, 'valueDim', valueDim);
    if (outputShape !== undefined) positiveInt(this.subject, 'outputShape', outputShape);
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) this.fail(`expected dropout in [0, 1), got ${JSON.stringify(dropout)}`);
    this.dropout = dropout;
    this.useBias = useBias;
    this.outputShape = outputShape;
    this.useCausalMask = useCausalMask;
    this.kernelInitializer = kernelInitializer;
    this.biasInitializer = biasInitializer;
    this.seed = seed;
  }

  weights(inputShape: Shape): WeightSpec[] {
    const dq = inputShape[inputShape.length - 1]!;
    const { value: dv, key: dk } = this.otherDims ?? { value: dq, key: dq };
    const out = this.outputShape ?? dq;
    const [h, k, v] = [this.numHeads, this.keyDim, this.valueDim];
    const kernel = (name: string, shape: number[]): WeightSpec => ({ name, shape, initializer: getInitializer(this.kernelInitializer, this.subject), trainable: true });
    const bias = (name: string, shape: number[]): WeightSpec[] => (this.useBias ? [{ name, shape, initializer: getInitializer(this.biasInitializer, this.subject), trainable: true }] : []);
    return [
      kernel('query/kernel', [dq, h, k]), ...bias('query/bias', [h, k]),
      kernel('key/kernel', [dk, h, k]), ...bias('key/bias', [h, k]),
      kernel('value/kernel', [dv, h, v]), ...bias('value/bias', [h, v]),
      kernel('attention_output/kernel', [h, v, out]), ...bias('attention_output/bias', [out]),
      ...(this.dropout > 0 ? [{ name: 'step', shape: [], initializer: getInitializer('zeros', this.subject), trainable: false, internal: true } as WeightSpec] : []),
    ];
  }

  computeOutputShapeMany(shapes: readonly Shape[]): Shape {
    const [q, v, k] = attentionShapes(this.subject, shapes);
    this.otherDims = { value: v[1]!, key: k[1]! };
    return [q[0]!, this.outputShape ?? q[1]!];
  }

  /** [batch, steps, features] → [batch, heads, steps, size] through a kernel [features, heads, size]. */
  private project(x: Tensor, w: Readonly<Record<string, Tensor>>, name: string, size: number): Tensor {
    const [steps, features] = x.shape.slice(1) as [number, number];
    let y = F.matmul(x, F.reshape(this.weight(w, `${name}/kernel`), [features, this.numHeads * size]));
    if (this.useBias) y = F.add(y, F.reshape(this.weight(w, `${name}/bias`), [this.numHeads * size]));
    return F.transpose(F.reshape(y, [-1, steps, this.numHeads, size]), [0, 2, 1, 3]);
  }

  callMany(xs: readonly Tensor[], w: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor {
    const [qs] = attentionShapes(this.subject, xs.map((x) => x.shape.slice(1) as number[]));
    const [query, value, key = value] = xs as [Tensor, Tensor, Tensor?];
    const mask = this.attentionMaskOf(xs, ctx); // [batch, tq, tv] or a part of it; checked before anything else
    const q = F.mul(this.project(query, w, 'query', this.keyDim), 1 / Math.sqrt(this.keyDim));
    const k = this.project(key, w, 'key', this.keyDim);
    const v = this.project(value, w, 'value', this.valueDim);
    const scores = F.matmul(q, k, { transposeB: true }); // [batch, heads, tq, tv]
    const heads = attend(scores, mask && F.expandDims(mask, -3), { rate: this.dropout, seed: this.seed, step: this.dropout > 0 ? this.weight(w, 'step') : undefined, training: ctx.training }, v); // [batch, heads, tq, valueDim]
    const merged = F.reshape(F.transpose(heads, [0, 2, 1, 3]), [-1, qs[0]!, this.numHeads * this.valueDim]);
    const out = this.outputShape ?? qs[1]!;
    const y = F.matmul(merged, F.reshape(this.weight(w, 'attention_output/kernel'), [this.numHeads * this.valueDim, out]));
    return this.useBias ? F.add(y, this.weight(w, 'attention_output/bias')) : y;
  }

  /**
   * Keras's _compute_attention_mask: query mask [b, tq, 1] × value mask [b, 1, tv]
   * (× key mask) × causal [tq, tv] × the explicit attentionMask [b, tq, tv].
   */
  private attentionMaskOf(xs: readonly Tensor[], ctx: CallContext): Tensor | undefined {
    const [queryMask, valueMask, keyMask] = this.inputMasks(xs, ctx);
    const [query, value] = xs as [Tensor, Tensor];
    let mask = queryMask && F.expandDims(queryMask, -1);
    if (valueMask) mask = and(mask, F.expandDims(valueMask, -2));
    if (keyMask) mask = and(mask, F.expandDims(keyMask, -2));
    if (this.useCausalMask) mask = and(mask, causalMask(query.shape[1] as number, value.shape[1] as number));
    const explicit = this.explicitMask(query, value, ctx);
    return explicit ? and(mask, explicit) : mask;
  }

  override getConfig(): object {
    return { ...super.getConfig(), numHeads: this.numHeads, keyDim: this.keyDim, valueDim: this.valueDim, dropout: this.dropout, useBias: this.useBias, outputShape: this.outputShape, useCausalMask: this.useCausalMask, seed: this.seed };
  }
}

export interface AttentionArgs extends LayerArgs {
  /** Multiply the scores by a learned scalar (weight 'scale', initially 1). */
  useScale?: boolean;
  /** Dropout on the attention probabilities in training. */
  dropout?: number;
  useCausalMask?: boolean;
  seed?: number;
}

/**
 * Keras's Attention (Luong-style dot-product): softmax(query · keyᵀ) · value,
 * with key = value unless given; query and key of one feature size.
 * @example const context = kiln.layers.attention({ useCausalMask: true }).apply([q, v]);
 */
export class Attention extends AttentionLayer {
  static override readonly optionKeys = optionKeys<AttentionArgs>({ useScale: true, dropout: true, useCausalMask: true, seed: true, ...LAYER_KEYS });
  readonly className = 'Attention';
  protected readonly takesAttentionMask = false;
  readonly useScale: boolean;
  readonly dropout: number;
  readonly useCausalMask: boolean;
  private readonly seed: number;

  constructor(args: AttentionArgs = {}) {
    super('Attention', args);
    const { useScale = false, dropout = 0, useCausalMask = false, seed = 0 } = args;
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) this.fail(`expected dropout in [0, 1), got ${JSON.stringify(dropout)}`);
    this.useScale = useScale;
    this.dropout = dropout;
    this.useCausalMask = useCausalMask;
    this.seed = seed;
  }

  weights(_inputShape: Shape): WeightSpec[] {
    return [
      ...(this.useScale ? [{ name: 'scale', shape: [], initializer: getInitializer('ones', this.subject), trainable: true }] : []),
      ...(this.dropout > 0 ? [{ name: 'step', shape: [], initializer: getInitializer('zeros', this.subject), trainable: false, internal: true } as WeightSpec] : []),
    ];
  }

  computeOutputShapeMany(shapes: readonly Shape[]): Shape {
    const [q, v, k] = attentionShapes(this.subject, shapes);
    if (q[1] !== k[1]) this.fail(`expected query and key of one feature size, got ${formatShape([null, ...q])} and ${formatShape([null, ...k])}`);
    return [q[0]!, v[1]!];
  }

  callMany(xs: readonly Tensor[], w: Readonly<Record<string, Tensor>>, ctx: CallContext): Tensor {
    this.computeOutputShapeMany(xs.map((x) => x.shape.slice(1) as number[]));
    const [query, value, key = value] = xs as [Tensor, Tensor, Tensor?];
    let scores = F.matmul(query, key, { transposeB: true });
    if (this.useScale) scores = F.mul(scores, this.weight(w, 'scale'));
    // Keras's Attention: the value's (and key's) mask and the causal mask on the scores; masked query steps output zeros
    const [queryMask, valueMask, keyMask] = this.inputMasks(xs, ctx);
    this.explicitMask(query, value, ctx);
    let mask = valueMask && F.expandDims(valueMask, -2);
    if (keyMask) mask = and(mask, F.expandDims(keyMask, -2));
    if (this.useCausalMask) mask = and(mask, causalMask(query.shape[1] as number, value.shape[1] as number));
    const out = attend(scores, mask, { rate: this.dropout, seed: this.seed, step: this.dropout > 0 ? this.weight(w, 'step') : undefined, training: ctx.training }, value);
    return queryMask ? F.mul(out, F.expandDims(F.cast(queryMask, 'float32'), -1)) : out;
  }

  override getConfig(): object {
    return { ...super.getConfig(), useScale: this.useScale, dropout: this.dropout, useCausalMask: this.useCausalMask, seed: this.seed };
  }
}

/** @example kiln.layers.multiHeadAttention({ numHeads: 2, keyDim: 16 }).apply([x, x]) */
export const multiHeadAttention = (args: MultiHeadAttentionArgs): MultiHeadAttention => new MultiHeadAttention(args);
/** @example kiln.layers.attention().apply([query, value]) */
export const attention = (args?: AttentionArgs): Attention => new Attention(args);
