/**
 * @file Convolution layers, as TensorFlow.js': conv2d on NHWC inputs with an
 * HWIO kernel [kernelH, kernelW, inChannels, filters].
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { fail } from '../../compiler/functions/util.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import { checkInputShape, KERNEL_KEYS, kernelConfig, KernelLayer, kernelWeights, parseKernelArgs, positiveInt, type KernelArgs } from './core.js';
import { type CallContext, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';

export type Pair = readonly [number, number];
export type PaddingMode = 'valid' | 'same';

/** A number or [h, w] as a pair of positive integers, or a KilnError naming the layer. */
export function toPair(subject: string, what: string, v: unknown): Pair {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d > 0)) {
    fail(subject, `expected ${what} to be a positive integer or [height, width], got ${JSON.stringify(v) ?? String(v)}`);
  }
  return [p[0], p[1]];
}

export function checkPadding(subject: string, padding: unknown): PaddingMode {
  if (padding === 'valid' || padding === 'same') return padding;
  return fail(subject, `expected padding 'valid' or 'same', got ${JSON.stringify(padding) ?? String(padding)}`);
}

export function checkDataFormat(subject: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'channelsLast') fail(subject, `expected dataFormat 'channelsLast' (NHWC, the only layout kiln supports), got ${JSON.stringify(dataFormat)}`);
}

/** Keras' `conv_output_length`: 'same' gives ceil(n / stride); 'valid' floor((n − span) / stride) + 1. */
export function convOutputLength(n: number, kernel: number, padding: PaddingMode, stride: number, dilation = 1): number {
  const span = (kernel - 1) * dilation + 1;
  return padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - span) / stride) + 1;
}

/** The window options every convolution layer takes (sizes: a number, or one per spatial axis), as given: `parseWindow` checks them. */
export interface WindowArgs {
  kernelSize?: unknown;
  strides?: unknown;
  padding?: unknown;
  dataFormat?: unknown;
  dilationRate?: unknown;
}

/** The parsed window of a convolution layer: `D` is a number (1-D) or a Pair (2-D). */
export interface Window<D> {
  readonly kernelSize: D;
  readonly strides: D;
  readonly padding: PaddingMode;
  readonly dilationRate: D;
}

/** Checks and fills a convolution layer's window options (strides and dilation default to 1, padding to 'valid'); `dims` reads one option. */
export function parseWindow<D>(subject: string, args: WindowArgs | undefined, dims: (subject: string, what: string, v: unknown) => D): Window<D> {
  const window = {
    kernelSize: dims(subject, 'kernelSize', args?.kernelSize),
    strides: dims(subject, 'strides', args?.strides ?? 1),
    padding: checkPadding(subject, args?.padding ?? 'valid'),
    dilationRate: dims(subject, 'dilationRate', args?.dilationRate ?? 1),
  };
  checkDataFormat(subject, args?.dataFormat);
  return window;
}

/** The window as getConfig writes it (Keras: each size a list, one entry per spatial axis). */
export function windowConfig(w: Window<number | Pair>): object {
  const list = (d: number | Pair) => (typeof d === 'number' ? [d] : [...d]);
  return { kernelSize: list(w.kernelSize), strides: list(w.strides), padding: w.padding, dataFormat: 'channelsLast', dilationRate: list(w.dilationRate) };
}

/** [height, width] of a 2-D window's output, or a KilnError naming the layer when the input is smaller than the dilated kernel. */
export function windowOutput2d(subject: string, inputShape: Shape, w: Window<Pair>): [number, number] {
  const [h, wd] = [0, 1].map((a) => convOutputLength(inputShape[a]!, w.kernelSize[a]!, w.padding, w.strides[a]!, w.dilationRate[a]!)) as [number, number];
  if (h <= 0 || wd <= 0) {
    fail(subject, `expected an input of at least the dilated kernel's ${[0, 1].map((a) => (w.kernelSize[a]! - 1) * w.dilationRate[a]! + 1).join('x')} with padding 'valid', got ${inputShape[0]}x${inputShape[1]}`);
  }
  return [h, wd];
}

export interface Conv2DArgs extends LayerArgs, KernelArgs {
  filters: number;
  kernelSize: number | Pair;
  strides?: number | Pair;
  padding?: PaddingMode;
  dataFormat?: 'channelsLast';
  dilationRate?: number | Pair;
}

/** `activation(conv2d(x, kernel) + bias)`: x [batch, H, W, C], kernel [kh, kw, C, filters], bias [filters]. */
export class Conv2D extends KernelLayer {
  static override readonly optionKeys = optionKeys<Conv2DArgs>({ filters: true, kernelSize: true, strides: true, padding: true, dataFormat: true, dilationRate: true, ...KERNEL_KEYS, ...LAYER_KEYS });
  readonly className = 'Conv2D';
  readonly filters: number;
  readonly kernelSize: Pair;
  readonly strides: Pair;
  readonly padding: PaddingMode;
  readonly dilationRate: Pair;

  constructor(args: Conv2DArgs) {
    super('Conv2D', args);
    const s = this.subject;
    this.filters = positiveInt(s, 'filters', args?.filters);
    ({ kernelSize: this.kernelSize, strides: this.strides, padding: this.padding, dilationRate: this.dilationRate } = parseWindow(s, args, toPair));
    this.kernelOptions = parseKernelArgs(args, s);
  }

  weights(inputShape: Shape): WeightSpec[] {
    this.computeOutputShape(inputShape);
    return kernelWeights(this.kernelOptions, [...this.kernelSize, inputShape[2]!, this.filters], [this.filters], this.trainable);
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape, 3, '[batch, height, width, channels] ');
    return [...windowOutput2d(this.subject, inputShape, this), this.filters];
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    const kernel = this.weight(weights, 'kernel');
    if (x.rank !== 4 || x.type.shape[3] !== kernel.type.shape[2]) this.fail(`expected an input [batch, height, width, ${kernel.type.shape[2]}], got ${formatType(x.type)}`);
    return this.finish(F.conv2d(x, kernel, { strides: this.strides, padding: this.padding, dilations: this.dilationRate }), weights);
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      filters: this.filters,
      ...windowConfig(this),
      ...kernelConfig(this.kernelOptions),
    };
  }
}

export const conv2d = (args: Conv2DArgs): Conv2D => new Conv2D(args);
