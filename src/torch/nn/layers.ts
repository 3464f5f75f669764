/**
 * PyTorch's layers as `kiln.nn` modules, with its constructor arguments,
 * default initialisations (kaiming-uniform weights, fan-in uniform biases) and
 * weight layouts ([out, in] linear, [out, in, kh, kw] conv weights), so a torch
 * state dict loads as is. Images are NCHW on this surface (see functional.ts).
 * @example const net = new kiln.nn.Sequential(new kiln.nn.Linear(4, 8), new kiln.nn.ReLU(), new kiln.nn.Linear(8, 2));
 */
import { checkOptions, checkPositiveInt, checkSize, describe, optionKeys } from '../../../compiler/check.js';
import { userError } from '../../../compiler/errors.js';
import * as F from '../../../compiler/functions/index.js';
import { nextSeed } from '../../../compiler/random.js';
import { captureOrigin } from '../../../compiler/source.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { formatType } from '../../../compiler/types.js';
import { buffer, Parameter, storageOf } from '../tensors.js';
import * as Fn from './functional.js';
import { fanUniform } from './init.js';
import { Module } from './module.js';

type Pair = number | readonly [number, number];

/** A kernel size of positive integers (one, or one per spatial axis). */
function kernelPair(subject: string, x: unknown): [number, number] {
  const list = typeof x === 'number' ? [x, x] : Array.isArray(x) && x.length === 2 ? x : undefined;
  if (!list) checkPositiveInt(subject, 'kernelSize', x);
  return [checkPositiveInt(subject, 'kernelSize', list![0]), checkPositiveInt(subject, 'kernelSize', list![1])];
}

/** Checks a module's channel or feature counts (positive integers) and the weight's size, before anything is allocated. */
function checkDims(subject: string, dims: Record<string, unknown>, weightShape: () => number[]): void {
  for (const [what, v] of Object.entries(dims)) checkPositiveInt(subject, what, v);
  checkSize(subject, 'a weight', weightShape());
}

/** nn.Linear's options. @example new kiln.nn.Linear(784, 10, { bias: false, seed: 1 }) */
export interface LinearOptions { bias?: boolean; seed?: number }
/** nn.Conv2d's options: F.conv2d's and bias, seed. @example new kiln.nn.Conv2d(1, 8, 3, { padding: 1 }) */
export type Conv2dOptions = Fn.ConvOptions & { bias?: boolean; seed?: number };
/** nn.Conv1d's options. @example new kiln.nn.Conv1d(4, 8, 3, { stride: 2 }) */
export interface Conv1dOptions { stride?: number; padding?: number | 'same' | 'valid'; dilation?: number; groups?: number; bias?: boolean; seed?: number }
/** nn.ConvTranspose2d's options. @example new kiln.nn.ConvTranspose2d(8, 4, 2, { stride: 2 }) */
export interface ConvTranspose2dOptions { stride?: Pair; padding?: Pair; outputPadding?: Pair; dilation?: Pair; bias?: boolean; seed?: number }
/** nn.BatchNorm1d / BatchNorm2d's options. @example new kiln.nn.BatchNorm2d(8, { momentum: 0.01 }) */
export interface BatchNormOptions { eps?: number; momentum?: number; affine?: boolean; trackRunningStats?: boolean }
/** nn.LayerNorm's options. @example new kiln.nn.LayerNorm(64, { eps: 1e-6 }) */
export interface LayerNormOptions { eps?: number; elementwiseAffine?: boolean }
/** nn.Dropout's and nn.Embedding's options. @example new kiln.nn.Dropout(0.1, { seed: 0 }) */
export interface SeedOption { seed?: number }

const keys = {
  linear: optionKeys<LinearOptions>({ bias: true, seed: true }),
  conv2d: optionKeys<Conv2dOptions>({ stride: true, padding: true, dilation: true, groups: true, bias: true, seed: true }),
  conv1d: optionKeys<Conv1dOptions>({ stride: true, padding: true, dilation: true, groups: true, bias: true, seed: true }),
  convTranspose2d: optionKeys<ConvTranspose2dOptions>({ stride: true, padding: true, outputPadding: true, dilation: true, bias: true, seed: true }),
  pool: optionKeys<Fn.PoolOptions>({ stride: true, padding: true }),
  batchNorm: optionKeys<BatchNormOptions>({ eps: true, momentum: true, affine: true, trackRunningStats: true }),
  layerNorm: optionKeys<LayerNormOptions>({ eps: true, elementwiseAffine: true }),
  seed: optionKeys<SeedOption>({ seed: true }),
};

/** y = x · Wᵀ + b, W [out, in]. */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | undefined;
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    checkOptions('nn.Linear', options, keys.linear);
    checkDims('nn.Linear', { inFeatures, outFeatures }, () => [outFeatures, inFeatures]);
    const seed = options.seed ?? nextSeed();
    this.weight = new Parameter(fanUniform([outFeatures, inFeatures], inFeatures, seed));
    this.bias = options.bias === false ? undefined : new Parameter(fanUniform([outFeatures], inFeatures, seed + 1));
  }
  forward(x: Tensor): Tensor { return Fn.linear(x, this.weight, this.bias); }
}

/** 2-D convolution on NCHW input; weight [out, in/groups, kh, kw]. */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | undefined;
  readonly options: Fn.ConvOptions;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, options: Conv2dOptions = {}) {
    super();
    checkOptions('nn.Conv2d', options, keys.conv2d);
    const [kh, kw] = kernelPair('nn.Conv2d', kernelSize);
    const groups = checkPositiveInt('nn.Conv2d', 'groups', options.groups ?? 1);
    checkDims('nn.Conv2d', { inChannels, outChannels }, () => [outChannels, inChannels, kh, kw]);
    const fanIn = (inChannels / groups) * kh * kw;
    const seed = options.seed ?? nextSeed();
    this.weight = new Parameter(fanUniform([outChannels, inChannels / groups, kh, kw], fanIn, seed));
    this.bias = options.bias === false ? undefined : new Parameter(fanUniform([outChannels], fanIn, seed + 1));
    this.options = { stride: options.stride ?? 1, padding: options.padding ?? 0, dilation: options.dilation ?? 1, groups };
  }
  forward(x: Tensor): Tensor { return Fn.conv2d(x, this.weight, this.bias, this.options); }
}

/** 1-D convolution on [N, C, L]; weight [out, in/groups, k]. */
export class Conv1d extends Module {
  weight: Tensor;
  bias: Tensor | undefined;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, readonly options: Conv1dOptions = {}) {
    super();
    checkOptions('nn.Conv1d', options, keys.conv1d);
    checkPositiveInt('nn.Conv1d', 'kernelSize', kernelSize);
    const groups = checkPositiveInt('nn.Conv1d', 'groups', options.groups ?? 1);
    checkDims('nn.Conv1d', { inChannels, outChannels }, () => [outChannels, inChannels, kernelSize]);
    const fanIn = (inChannels / groups) * kernelSize;
    const seed = options.seed ?? nextSeed();
    this.weight = new Parameter(fanUniform([outChannels, inChannels / groups, kernelSize], fanIn, seed));
    this.bias = options.bias === false ? undefined : new Parameter(fanUniform([outChannels], fanIn, seed + 1));
  }
  forward(x: Tensor): Tensor { return Fn.conv1d(x, this.weight, this.bias, this.options); }
}

/** Transposed 2-D convolution on NCHW input; weight [in, out, kh, kw]. */
export class ConvTranspose2d extends Module {
  weight: Tensor;
  bias: Tensor | undefined;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, readonly options: ConvTranspose2dOptions = {}) {
    super();
    checkOptions('nn.ConvTranspose2d', options, keys.convTranspose2d);
    const [kh, kw] = kernelPair('nn.ConvTranspose2d', kernelSize);
    checkDims('nn.ConvTranspose2d', { inChannels, outChannels }, () => [inChannels, outChannels, kh, kw]);
    const fanIn = outChannels * kh * kw; // PyTorch computes the fan from weight dim 1
    const seed = options.seed ?? nextSeed();
    this.weight = new Parameter(fanUniform([inChannels, outChannels, kh, kw], fanIn, seed));
    this.bias = options.bias === false ? undefined : new Parameter(fanUniform([outChannels], fanIn, seed + 1));
  }
  forward(x: Tensor): Tensor { return Fn.convTranspose2d(x, this.weight, this.bias, this.options); }
}

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: Fn.PoolOptions = {}) {
    super();
    checkOptions('nn.MaxPool2d', options, keys.pool);
    kernelPair('nn.MaxPool2d', kernelSize);
  }
  forward(x: Tensor): Tensor { return Fn.maxPool2d(x, this.kernelSize, this.options); }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: Fn.PoolOptions = {}) {
    super();
    checkOptions('nn.AvgPool2d', options, keys.pool);
    kernelPair('nn.AvgPool2d', kernelSize);
  }
  forward(x: Tensor): Tensor { return Fn.avgPool2d(x, this.kernelSize, this.options); }
}

export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) { super(); }
  forward(x: Tensor): Tensor { return Fn.adaptiveAvgPool2d(x, this.outputSize); }
}

export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return Fn.flatten(x, this.startDim, this.endDim); }
}

export class Dropout extends Module {
  private readonly seed: number;
  private calls = 0;
  constructor(readonly p = 0.5, options: SeedOption = {}) {
    super();
    checkOptions('nn.Dropout', options, keys.seed);
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw userError('nn.Dropout', `expected p in [0, 1], got ${String(p)}`, captureOrigin());
    this.seed = options.seed ?? nextSeed();
  }
  forward(x: Tensor): Tensor { return Fn.dropout(x, this.p, this.training, (this.seed + 0x9e3779b9 * ++this.calls) >>> 0); }
}

/** Batch normalisation over the channel axis (1) of [N, C] / [N, C, L] (1d) or NCHW (2d). */
class BatchNorm extends Module {
  weight: Tensor | undefined;
  bias: Tensor | undefined;
  runningMean: Tensor | undefined;
  runningVar: Tensor | undefined;
  constructor(readonly numFeatures: number, readonly options: BatchNormOptions, private readonly rank: readonly number[]) {
    super();
    const subject = rank.includes(4) ? 'nn.BatchNorm2d' : 'nn.BatchNorm1d';
    checkOptions(subject, options, keys.batchNorm);
    checkDims(subject, { numFeatures }, () => [numFeatures]);
    if (options.affine !== false) {
      this.weight = new Parameter(F.ones([numFeatures]));
      this.bias = new Parameter(F.zeros([numFeatures]));
    }
    if (options.trackRunningStats !== false) {
      this.runningMean = buffer(F.zeros([numFeatures]));
      this.runningVar = buffer(F.ones([numFeatures]));
    }
  }
  forward(x: Tensor): Tensor {
    if (!this.rank.includes(x.rank) || x.shape[1] !== this.numFeatures) {
      throw userError('batchNorm', `expected input of rank ${this.rank.join(' or ')} with ${this.numFeatures} channels in dim 1, got ${formatType(x.type)}`, captureOrigin());
    }
    const image = x.rank === 4;
    const inner = image ? Fn.toNhwc(x, 'batchNorm') : x.rank === 3 ? F.transpose(x, [0, 2, 1]) : x; // channels last
    const axes = Array.from({ length: inner.rank - 1 }, (_, i) => i);
    const eps = this.options.eps ?? 1e-5;
    const momentum = this.options.momentum ?? 0.1;
    let mean: Tensor;
    let variance: Tensor;
    if (this.training || !this.runningMean) {
      mean = F.mean(inner, axes);
      variance = F.mean(F.square(F.sub(inner, mean)), axes);
      if (this.training && this.runningMean && this.runningVar) {
        const n = axes.reduce((a, i) => a * (inner.shape[i] as number), 1);
        const rm = storageOf(this.runningMean, 'batchNorm');
        const rv = storageOf(this.runningVar, 'batchNorm');
        rm.assign(F.stopGradient( // running statistics carry no gradient
          F.add(F.mul(rm.current(), 1 - momentum), F.mul(mean, momentum))));
        rv.assign(F.stopGradient(F.add(F.mul(rv.current(), 1 - momentum), F.mul(variance, (momentum * n) / Math.max(n - 1, 1)))));
      }
    } else {
      mean = storageOf(this.runningMean, 'batchNorm').current();
      variance = storageOf(this.runningVar!, 'batchNorm').current();
    }
    let y = F.mul(F.sub(inner, mean), F.rsqrt(F.add(variance, eps)));
    if (this.weight) y = F.add(F.mul(y, this.weight), this.bias!);
    return image ? Fn.toNchw(y) : x.rank === 3 ? F.transpose(y, [0, 2, 1]) : y;
  }
}

export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) { super(numFeatures, options, [2, 3]); }
}
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) { super(numFeatures, options, [4]); }
}

export class LayerNorm extends Module {
  weight: Tensor | undefined;
  bias: Tensor | undefined;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | readonly number[], readonly options: LayerNormOptions = {}) {
    super();
    checkOptions('nn.LayerNorm', options, keys.layerNorm);
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : Array.isArray(normalizedShape) ? [...normalizedShape] : [];
    if (this.normalizedShape.length === 0) checkPositiveInt('nn.LayerNorm', 'normalizedShape', normalizedShape);
    this.normalizedShape.forEach((d) => checkPositiveInt('nn.LayerNorm', 'normalizedShape', d));
    if (options.elementwiseAffine !== false) {
      this.weight = new Parameter(F.ones(this.normalizedShape));
      this.bias = new Parameter(F.zeros(this.normalizedShape));
    }
  }
  forward(x: Tensor): Tensor { return Fn.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.options.eps ?? 1e-5); }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: SeedOption = {}) {
    super();
    checkOptions('nn.Embedding', options, keys.seed);
    checkDims('nn.Embedding', { numEmbeddings, embeddingDim }, () => [numEmbeddings, embeddingDim]);
    this.weight = new Parameter(F.randomNormal([numEmbeddings, embeddingDim], { seed: options.seed ?? nextSeed() }));
  }
  forward(indices: Tensor): Tensor { return Fn.embedding(indices, this.weight); }
}

/** Modules applied in order. */
export class Sequential extends Module {
  [index: number]: Module;
  readonly length: number;
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) throw userError('nn.Sequential', `expected modules, got ${typeof m} at position ${i}`, captureOrigin());
      this[i] = m;
    });
    this.length = modules.length;
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.children()) y = (m as unknown as { forward(t: Tensor): Tensor }).forward(y);
    return y;
  }
}

/** A list of modules whose parameters the parent sees. */
export class ModuleList extends Module {
  [index: number]: Module;
  length = 0;
  constructor(modules: Iterable<Module> = []) {
    super();
    if (modules === null || typeof (modules as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') throw userError('nn.ModuleList', `expected a list of modules, got ${describe(modules)}`, captureOrigin());
    for (const m of modules) this.append(m);
  }
  append(m: Module): this {
    this[this.length++] = m;
    return this;
  }
  [Symbol.iterator](): Iterator<Module> { return this.children()[Symbol.iterator](); }
  forward(): never { throw userError('nn.ModuleList', 'a ModuleList has no forward; iterate over it', captureOrigin()); }
}

// activations as modules
export class ReLU extends Module { forward(x: Tensor): Tensor { return Fn.relu(x); } }
export class ReLU6 extends Module { forward(x: Tensor): Tensor { return Fn.relu6(x); } }
export class Sigmoid extends Module { forward(x: Tensor): Tensor { return Fn.sigmoid(x); } }
export class Tanh extends Module { forward(x: Tensor): Tensor { return Fn.tanh(x); } }
export class SiLU extends Module { forward(x: Tensor): Tensor { return Fn.silu(x); } }
export class SELU extends Module { forward(x: Tensor): Tensor { return Fn.selu(x); } }
export class Softplus extends Module { forward(x: Tensor): Tensor { return Fn.softplus(x); } }
export class GELU extends Module { forward(x: Tensor): Tensor { return Fn.gelu(x); } }
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return Fn.leakyRelu(x, this.negativeSlope); }
}
export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); }
  forward(x: Tensor): Tensor { return Fn.elu(x, this.alpha); }
}
export class Softmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return Fn.softmax(x, this.dim); }
}
export class LogSoftmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return Fn.logSoftmax(x, this.dim); }
}
export class Identity extends Module {
  forward(x: Tensor): Tensor { return x; }
}

/** Loss modules: `new kiln.nn.CrossEntropyLoss()(…)` is `lossFn.forward(input, target)`. */
export class CrossEntropyLoss extends Module {
  constructor(readonly options: Fn.CrossEntropyOptions = {}) { super(); }
  forward(input: Tensor, target: Tensor): Tensor { return Fn.crossEntropy(input, target, this.options); }
}
export class MSELoss extends Module {
  constructor(readonly options: { reduction?: Fn.Reduction } = {}) { super(); }
  forward(input: Tensor, target: Tensor): Tensor { return Fn.mseLoss(input, target, this.options); }
}
export class L1Loss extends Module {
  constructor(readonly options: { reduction?: Fn.Reduction } = {}) { super(); }
  forward(input: Tensor, target: Tensor): Tensor { return Fn.l1Loss(input, target, this.options); }
}
export class BCEWithLogitsLoss extends Module {
  constructor(readonly options: { reduction?: Fn.Reduction } = {}) { super(); }
  forward(input: Tensor, target: Tensor): Tensor { return Fn.binaryCrossEntropyWithLogits(input, target, this.options); }
}
