/**
 * `kiln.nn.functional`: PyTorch's functional API with its names, argument
 * order (input first, target second) and layouts (NCHW images, [out, in, kh, kw]
 * conv weights). Images are converted at trace time: the graph stays NHWC, the
 * layout kiln's kernels use. A layout transpose is cancelled when the next
 * conv/pool takes the tensor back, and activations commute with it, so a
 * conv → relu → pool → conv chain has no transposes between its layers.
 * @example const loss = kiln.nn.functional.crossEntropy(logits, labels, { labelSmoothing: 0.1 });
 */
import { userError } from '../../../compiler/errors.js';
import * as F from '../../../compiler/functions/index.js';
import { uniforms, nextSeed } from '../../../compiler/random.js';
import { captureOrigin } from '../../../compiler/source.js';
import { Tensor } from '../../../compiler/tensor.js';
import { formatType } from '../../../compiler/types.js';
import { checkTensor } from '../../../compiler/functions/util.js';
import { remember } from '../tensors.js';

type Pair = number | readonly [number, number];
export type Reduction = 'mean' | 'sum' | 'none';

const fail = (op: string, message: string): never => { throw userError(op, message, captureOrigin()); };
const pair = (x: Pair): [number, number] => (typeof x === 'number' ? [x, x] : [x[0], x[1]]);
const isPerm = (t: Tensor, perm: readonly number[]) => t.lazy?.kind === 'op' && t.lazy.op === 'transpose' && (t.lazy.params as { perm: number[] }).perm.every((p, i) => p === perm[i]);

/** NCHW → NHWC, cancelling a preceding NHWC → NCHW transpose. */
export function toNhwc(x: Tensor, op: string): Tensor {
  checkTensor(op, x);
  if (x.rank !== 4) fail(op, `expected an NCHW input of rank 4, got ${formatType(x.type)}`);
  return isPerm(x, [0, 3, 1, 2]) && x.lazy?.kind === 'op' ? x.lazy.inputs[0]! : F.transpose(x, [0, 2, 3, 1]);
}
export const toNchw = (y: Tensor): Tensor => F.transpose(y, [0, 3, 1, 2]);

/** An elementwise function applied below a layout transpose, so the transpose can cancel later. */
function elementwise(f: (x: Tensor) => Tensor, op: string): (x: Tensor) => Tensor {
  return (x) => (checkTensor(op, x), isPerm(x, [0, 3, 1, 2]) && x.lazy?.kind === 'op' ? toNchw(f(x.lazy.inputs[0]!)) : f(x));
}

export const relu = elementwise(F.relu, 'relu');
export const relu6 = elementwise(F.relu6, 'relu6');
export const sigmoid = elementwise(F.sigmoid, 'sigmoid');
export const tanh = elementwise(F.tanh, 'tanh');
export const silu = elementwise(F.silu, 'silu');
export const selu = elementwise(F.selu, 'selu');
export const softplus = elementwise(F.softplus, 'softplus');
export const gelu = (x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}) => elementwise((v) => F.gelu(v, options), 'gelu')(x);
export const leakyRelu = (x: Tensor, negativeSlope = 0.01) => elementwise((v) => F.leakyRelu(v, negativeSlope), 'leakyRelu')(x);
export const elu = (x: Tensor, alpha = 1) => elementwise((v) => F.elu(v, alpha), 'elu')(x);
export const softmax = (x: Tensor, dim = -1) => F.softmax(x, dim);
export const logSoftmax = (x: Tensor, dim = -1) => F.logSoftmax(x, dim);

/** y = x · Wᵀ + b with W [out, in]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  checkTensor('linear', x);
  checkTensor('linear', weight, 'weight');
  if (bias !== undefined) checkTensor('linear', bias, 'bias');
  if (x.shape[x.rank - 1] !== weight.shape[1]) fail('linear', `expected input features ${weight.shape[1]} (weight ${formatType(weight.type)}), got input ${formatType(x.type)}`);
  const y = F.matmul(x, F.transpose(weight, [1, 0]));
  return bias ? F.add(y, bias) : y;
}

export interface ConvOptions { stride?: Pair; padding?: Pair | 'same' | 'valid'; dilation?: Pair; groups?: number }

const convPadding = (p: Pair | 'same' | 'valid'): 'same' | 'valid' | readonly [readonly [number, number], readonly [number, number]] => {
  if (p === 'same' || p === 'valid') return p;
  const [h, w] = pair(p);
  return [[h, h], [w, w]];
};

/** Refuses a non-Tensor input, weight or (given) bias. */
function weights(op: string, x: unknown, weight: unknown, bias: unknown): void {
  checkTensor(op, x);
  checkTensor(op, weight, 'weight');
  if (bias !== undefined && bias !== null) checkTensor(op, bias, 'bias');
}

/** 2-D convolution of NCHW input with weight [out, in/groups, kh, kw]; result NCHW. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor, options: ConvOptions = {}): Tensor {
  weights('conv2d', x, weight, bias);
  if (weight.rank !== 4) fail('conv2d', `expected a weight [out, in, kh, kw], got ${formatType(weight.type)}`);
  const inner = toNhwc(x, 'conv2d');
  if (inner.shape[3] !== (weight.shape[1] as number) * (options.groups ?? 1)) fail('conv2d', `expected ${(weight.shape[1] as number) * (options.groups ?? 1)} input channels (weight ${formatType(weight.type)}), got input ${formatType(x.type)}`);
  let y = F.conv2d(inner, F.transpose(weight, [2, 3, 1, 0]), { strides: pair(options.stride ?? 1), padding: convPadding(options.padding ?? 0), dilations: pair(options.dilation ?? 1), groups: options.groups ?? 1 });
  if (bias) y = F.add(y, bias);
  return toNchw(y);
}

/** 1-D convolution of [N, C, L] with weight [out, in/groups, k]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor, options: { stride?: number; padding?: number | 'same' | 'valid'; dilation?: number; groups?: number } = {}): Tensor {
  weights('conv1d', x, weight, bias);
  if (x.rank !== 3) fail('conv1d', `expected an input [N, C, L], got ${formatType(x.type)}`);
  const p = options.padding ?? 0;
  let y = F.conv1d(F.transpose(x, [0, 2, 1]), F.transpose(weight, [2, 1, 0]), { stride: options.stride ?? 1, padding: typeof p === 'number' ? [p, p] : p, dilation: options.dilation ?? 1, groups: options.groups ?? 1 });
  if (bias) y = F.add(y, bias);
  return F.transpose(y, [0, 2, 1]);
}

/** Transposed convolution of NCHW input with weight [in, out, kh, kw] (PyTorch's conv_transpose2d). */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor, options: { stride?: Pair; padding?: Pair; outputPadding?: Pair; dilation?: Pair } = {}): Tensor {
  weights('convTranspose2d', x, weight, bias);
  const inner = toNhwc(x, 'convTranspose2d');
  const [sh, sw] = pair(options.stride ?? 1);
  const [ph, pw] = pair(options.padding ?? 0);
  const [oh, ow] = pair(options.outputPadding ?? 0);
  const [dh, dw] = pair(options.dilation ?? 1);
  const [kh, kw] = [weight.shape[2] as number, weight.shape[3] as number];
  const h = ((inner.shape[1] as number) - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1;
  const w = ((inner.shape[2] as number) - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1;
  // the adjoint of a conv with symmetric padding; the outputPadding rows are those that conv's floor drops
  let y = F.conv2dTranspose(inner, F.transpose(weight, [2, 3, 1, 0]), [h, w], { strides: [sh, sw], padding: [[ph, ph], [pw, pw]], dilations: [dh, dw] });
  if (bias) y = F.add(y, bias);
  return toNchw(y);
}

export interface PoolOptions { stride?: Pair; padding?: Pair }

function pool(op: 'maxPool2d' | 'avgPool2d', x: Tensor, kernelSize: Pair, options: PoolOptions): Tensor {
  const [ph, pw] = pair(options.padding ?? 0);
  const f = op === 'maxPool2d' ? F.maxPool2d : F.avgPool2d;
  return toNchw(f(toNhwc(x, op), { poolSize: pair(kernelSize), strides: pair(options.stride ?? kernelSize), padding: [[ph, ph], [pw, pw]] }));
}
export const maxPool2d = (x: Tensor, kernelSize: Pair, options: PoolOptions = {}) => pool('maxPool2d', x, kernelSize, options);
export const avgPool2d = (x: Tensor, kernelSize: Pair, options: PoolOptions = {}) => pool('avgPool2d', x, kernelSize, options);

/** Average pooling to a fixed output size (the input size must be a multiple of it). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  const inner = toNhwc(x, 'adaptiveAvgPool2d');
  const [oh, ow] = pair(outputSize);
  const [h, w] = [inner.shape[1] as number, inner.shape[2] as number];
  if (oh === 1 && ow === 1) return toNchw(F.mean(inner, [1, 2], true));
  if (h % oh !== 0 || w % ow !== 0) fail('adaptiveAvgPool2d', `expected an input size divisible by the output size ${oh}x${ow}, got ${h}x${w}`);
  return toNchw(F.avgPool2d(inner, { poolSize: [h / oh, w / ow], strides: [h / oh, w / ow] }));
}

/** Flattens dims startDim..endDim into one (default: all but the batch). */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  checkTensor('flatten', x);
  const r = x.rank;
  const [s, e] = [startDim < 0 ? startDim + r : startDim, endDim < 0 ? endDim + r : endDim];
  const shape = x.shape as number[];
  return F.reshape(x, [...shape.slice(0, s), shape.slice(s, e + 1).reduce((a, b) => a * b, 1), ...shape.slice(e + 1)]);
}

/** Zeroes elements with probability p while training and scales the rest by 1/(1 − p); the mask is drawn on the host. */
export function dropout(x: Tensor, p = 0.5, training = true, seed?: number): Tensor {
  checkTensor('dropout', x);
  if (!(p >= 0 && p < 1)) fail('dropout', `expected p in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const u = uniforms(x.size, seed ?? nextSeed());
  const mask = Float32Array.from(u, (v) => (v >= p ? 1 / (1 - p) : 0));
  return F.mul(x, Tensor.concrete({ dtype: 'float32', shape: x.shape as number[], data: mask }));
}

/** Normalises over the trailing `normalizedShape` dims, then scales and shifts. */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor, bias?: Tensor, eps = 1e-5): Tensor {
  checkTensor('layerNorm', x);
  if (!Array.isArray(normalizedShape) || normalizedShape.length > x.rank || normalizedShape.some((d, i) => d !== x.shape[x.rank - normalizedShape.length + i])) {
    fail('layerNorm', `expected normalizedShape to be the input's trailing dimensions, got ${JSON.stringify(normalizedShape)} for input ${formatType(x.type)}`);
  }
  if (weight !== undefined) checkTensor('layerNorm', weight, 'weight');
  if (bias !== undefined) checkTensor('layerNorm', bias, 'bias');
  const axes = normalizedShape.map((_, i) => x.rank - normalizedShape.length + i);
  const mean = F.mean(x, axes, true);
  const centered = F.sub(x, mean);
  let y = F.mul(centered, F.rsqrt(F.add(F.mean(F.square(centered), axes, true), eps)));
  if (weight) y = F.mul(y, weight);
  if (bias) y = F.add(y, bias);
  return y;
}

/** Rows of `weight` at int32 `indices`. */
export function embedding(indices: Tensor, weight: Tensor): Tensor {
  checkTensor('embedding', indices, 'indices');
  checkTensor('embedding', weight, 'weight');
  if (indices.dtype !== 'int32') fail('embedding', `expected int32 indices, got ${formatType(indices.type)}`);
  return F.gather(weight, indices, 0);
}

export const oneHot = (indices: Tensor, numClasses: number) => F.oneHot(indices, numClasses);

function reduce(op: string, perElement: Tensor, reduction: Reduction, count?: Tensor): Tensor {
  if (reduction === 'none') return perElement;
  if (reduction === 'sum') return F.sum(perElement);
  if (reduction === 'mean') return count ? F.div(F.sum(perElement), count) : F.mean(perElement);
  return fail(op, `expected reduction 'mean', 'sum' or 'none', got '${String(reduction)}'`);
}

export interface CrossEntropyOptions { reduction?: Reduction; ignoreIndex?: number; labelSmoothing?: number; weight?: Tensor }

/**
 * Cross-entropy of logits [N, C] (or [N, C, d…]) and int32 class labels [N]
 * (or [N, d…]), as PyTorch's cross_entropy: the mean over labels ≠ ignoreIndex
 * of −((1 − ls)·log p[y] + ls/C·Σ_c log p_c), weighted per class with `weight`.
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) return fail(op, 'expected input and target Tensors');
  if (input.dtype !== 'float32') fail(op, `expected float32 logits, got ${formatType(input.type)}`);
  if (target.dtype !== 'int32') fail(op, `expected int32 class labels, got ${formatType(target.type)}; for probabilities use a soft-label loss`);
  const logits = input.rank > 2 ? F.transpose(input, [0, ...Array.from({ length: input.rank - 2 }, (_, i) => i + 2), 1]) : input;
  const lead = logits.shape.slice(0, -1);
  if (target.rank !== lead.length || target.shape.some((d, i) => d !== lead[i])) fail(op, `expected labels of shape [${lead.join(',')}] for logits ${formatType(input.type)}, got ${formatType(target.type)}`);
  const classes = logits.shape[logits.rank - 1] as number;
  const ls = options.labelSmoothing ?? 0;
  if (!(ls >= 0 && ls <= 1)) fail(op, `expected labelSmoothing in [0, 1], got ${ls}`);
  const ignore = options.ignoreIndex ?? -100;
  const host = target.isLazy ? undefined : hostLabels(target, classes, ignore); // concrete labels (a DataLoader's) are encoded on the host
  const valid = host ? host.valid : F.cast(F.ne(target, ignore), 'float32');
  const safe = host ? host.safe : F.where(F.ne(target, ignore), target, 0);
  const logp = F.logSoftmax(logits, -1);
  let dist = host ? host.oneHot : F.oneHot(safe, classes);
  if (ls > 0) dist = F.add(F.mul(dist, 1 - ls), ls / classes);
  let per = F.neg(F.sum(F.mul(dist, options.weight ? F.mul(logp, options.weight) : logp), -1));
  let count: Tensor | undefined;
  const w = options.weight ? F.gather(options.weight, safe, 0) : undefined;
  if (valid) per = F.mul(per, valid);
  if (w || valid) count = F.sum(w && valid ? F.mul(w, valid) : (w ?? valid)!);
  return remember(reduce(op, per, options.reduction ?? 'mean', count), input);
}

/** One-hot rows, the validity mask (when some label is ignored) and safe indices of concrete labels, built in plain loops. */
function hostLabels(target: Tensor, classes: number, ignore: number): { oneHot: Tensor; valid: Tensor | undefined; safe: Tensor } {
  const labels = target.dataSync();
  const oneHot = new Float32Array(labels.length * classes);
  const ignored = labels.some((v) => v === ignore);
  const valid = ignored ? new Float32Array(labels.length) : undefined;
  const safe = ignored ? new Int32Array(labels.length) : undefined;
  labels.forEach((v, i) => {
    if (v === ignore) return;
    if (!(v >= 0 && v < classes)) fail('crossEntropy', `expected class labels in [0, ${classes}) or ignoreIndex ${ignore}, got ${v} at index ${i}`);
    oneHot[i * classes + v] = 1;
    if (valid) valid[i] = 1;
    if (safe) safe[i] = v;
  });
  const shape = target.shape as number[];
  return {
    oneHot: Tensor.concrete({ dtype: 'float32', shape: [...shape, classes], data: oneHot }),
    valid: valid && Tensor.concrete({ dtype: 'float32', shape, data: valid }),
    safe: safe ? Tensor.concrete({ dtype: 'int32', shape, data: safe }) : target,
  };
}

/** Negative log-likelihood of log-probabilities [N, C] at int32 labels. */
export function nllLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  checkTensor('nllLoss', input);
  checkTensor('nllLoss', target, 'target');
  if (target.dtype !== 'int32') fail('nllLoss', `expected int32 class labels, got ${formatType(target.type)}`);
  const per = F.neg(F.sum(F.mul(F.oneHot(target, input.shape[input.rank - 1] as number), input), -1));
  return remember(reduce('nllLoss', per, options.reduction ?? 'mean'), input);
}

function sameShape(op: string, input: Tensor, target: Tensor): void {
  checkTensor(op, input);
  checkTensor(op, target, 'target');
  if (input.rank !== target.rank || input.shape.some((d, i) => d !== target.shape[i])) fail(op, `expected input and target of one shape, got ${formatType(input.type)} and ${formatType(target.type)}`);
  if (input.dtype !== 'float32' || target.dtype !== 'float32') fail(op, `expected float32 input and target, got ${formatType(input.type)} and ${formatType(target.type)}`);
}

/** Mean squared error over all elements (PyTorch's mse_loss). */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  sameShape('mseLoss', input, target);
  return remember(reduce('mseLoss', F.square(F.sub(input, target)), options.reduction ?? 'mean'), input);
}

export function l1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  sameShape('l1Loss', input, target);
  return remember(reduce('l1Loss', F.abs(F.sub(input, target)), options.reduction ?? 'mean'), input);
}

/** Quadratic below `beta`, linear above (PyTorch's smooth_l1_loss). */
export function smoothL1Loss(input: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor {
  sameShape('smoothL1Loss', input, target);
  const beta = options.beta ?? 1;
  const d = F.abs(F.sub(input, target));
  const per = F.where(F.lt(d, beta), F.div(F.mul(F.square(d), 0.5), beta), F.sub(d, 0.5 * beta));
  return remember(reduce('smoothL1Loss', per, options.reduction ?? 'mean'), input);
}

/** Binary cross-entropy of probabilities (log clamped at −100, as PyTorch). */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  sameShape('binaryCrossEntropy', input, target);
  const logp = F.maximum(F.log(input), -100);
  const log1mp = F.maximum(F.log(F.sub(1, input)), -100);
  const per = F.neg(F.add(F.mul(target, logp), F.mul(F.sub(1, target), log1mp)));
  return remember(reduce('binaryCrossEntropy', per, options.reduction ?? 'mean'), input);
}

/** Binary cross-entropy of logits, in the stable form max(x, 0) − x·z + log(1 + e^−|x|). */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  sameShape('binaryCrossEntropyWithLogits', input, target);
  const per = F.add(F.sub(F.relu(input), F.mul(input, target)), F.log1p(F.exp(F.neg(F.abs(input)))));
  return remember(reduce('binaryCrossEntropyWithLogits', per, options.reduction ?? 'mean'), input);
}
