/**
 * @file Weight initializers with TensorFlow.js names and Keras defaults, drawn
 * from kiln's counter-based generator (`compiler/random.ts`): the same seed and
 * shape always give the same values.
 *
 * Fans are computed as Keras' `compute_fans`: a [in, out] dense kernel has
 * fanIn = in, fanOut = out; a convolution kernel [...receptive, in, out] (HWIO)
 * has fanIn = in · prod(receptive), fanOut = out · prod(receptive).
 *
 * Truncated normals (glorotNormal, heNormal, lecunNormal, truncatedNormal) are
 * drawn as TensorFlow's `truncated_normal`: a draw beyond 2 standard deviations
 * is *resampled* (never clipped). As in Keras, the variance-scaling forms divide
 * the standard deviation by 0.87962566103423978 (the std of a standard normal
 * truncated to [-2, 2]) so the values have the intended variance.
 */
import { checkOptions, optionKeys } from '../../compiler/check.js';
import { fail } from '../../compiler/functions/util.js';
import { uniformAt } from '../../compiler/random.js';
import type { Initializer, Shape } from './layer.js';

export type { Initializer } from './layer.js';

export interface SeedOptions {
  /** Overrides the seed the model passes to `init`. */
  seed?: number;
}

const size = (shape: Shape): number => shape.reduce((a, b) => a * b, 1);

/** Keras' fans of a weight shape. */
export function computeFans(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0]!, fanOut: shape[0]! };
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! };
  const receptive = size(shape.slice(0, -2));
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}

/** Standard normal draw `i` of stream `seed` (Box–Muller, as `compiler/random.ts`'s `normals`). */
function normalAt(seed: number, i: number): number {
  const u = 1 - uniformAt(seed, 2 * i);
  const v = uniformAt(seed, 2 * i + 1);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function uniformValues(n: number, seed: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * uniformAt(seed, i);
  return out;
}

function normalValues(n: number, seed: number, mean: number, stddev: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + stddev * normalAt(seed, i);
  return out;
}

/** Normal draws truncated to mean ± 2·stddev by resampling: draws outside are skipped, in stream order. */
function truncatedNormalValues(n: number, seed: number, mean: number, stddev: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; j++) {
    const z = normalAt(seed, j);
    if (Math.abs(z) <= 2) out[i++] = mean + stddev * z;
  }
  return out;
}

function checkSeed(subject: string, seed: unknown): void {
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) fail(subject, `expected seed to be a finite number, got ${JSON.stringify(seed)}`);
}

function checkPositive(subject: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(subject, `expected ${name} > 0, got ${v}`);
}

function checkShape(subject: string, shape: Shape): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) fail(subject, `expected a shape of non-negative integers, got ${JSON.stringify(shape)}`);
}

/** Base of the initializers: the shape check and the seed choice (`options.seed`, else the one passed to `init`). */
abstract class BaseInitializer implements Initializer {
  abstract readonly className: string;
  readonly seed: number | undefined;
  constructor(options: SeedOptions = {}) {
    checkSeed('initializer', options.seed);
    this.seed = options.seed;
  }
  get config(): object {
    return this.seed === undefined ? {} : { seed: this.seed };
  }
  init(shape: Shape, seed: number): Float32Array {
    checkShape(this.className, shape);
    return this.draw(shape, (this.seed ?? seed) >>> 0);
  }
  protected abstract draw(shape: Shape, seed: number): Float32Array;
}

export class Constant extends BaseInitializer {
  readonly className = 'Constant';
  readonly value: number;
  constructor(options: { value: number }) {
    super();
    if (typeof options?.value !== 'number' || Number.isNaN(options.value)) fail('constant', `expected { value: number }, got ${JSON.stringify(options)}`);
    this.value = options.value;
  }
  override get config(): object {
    return { value: this.value };
  }
  protected draw(shape: Shape): Float32Array {
    return new Float32Array(size(shape)).fill(this.value);
  }
}

export class Zeros extends BaseInitializer {
  readonly className = 'Zeros';
  protected draw(shape: Shape): Float32Array {
    return new Float32Array(size(shape));
  }
}

export class Ones extends BaseInitializer {
  readonly className = 'Ones';
  protected draw(shape: Shape): Float32Array {
    return new Float32Array(size(shape)).fill(1);
  }
}

export interface RandomUniformOptions extends SeedOptions {
  minval?: number;
  maxval?: number;
}
/** Uniform in [minval, maxval), defaults ±0.05 as Keras. */
export class RandomUniform extends BaseInitializer {
  readonly className = 'RandomUniform';
  readonly minval: number;
  readonly maxval: number;
  constructor(options: RandomUniformOptions = {}) {
    super(options);
    this.minval = options.minval ?? -0.05;
    this.maxval = options.maxval ?? 0.05;
    if (!(this.minval <= this.maxval)) fail('randomUniform', `expected minval <= maxval, got minval=${this.minval} maxval=${this.maxval}`);
  }
  override get config(): object {
    return { minval: this.minval, maxval: this.maxval, ...super.config };
  }
  protected draw(shape: Shape, seed: number): Float32Array {
    return uniformValues(size(shape), seed, this.minval, this.maxval);
  }
}

export interface RandomNormalOptions extends SeedOptions {
  mean?: number;
  stddev?: number;
}
/** Normal(mean, stddev), defaults 0 and 0.05 as Keras. */
export class RandomNormal extends BaseInitializer {
  readonly className: string = 'RandomNormal';
  readonly mean: number;
  readonly stddev: number;
  constructor(options: RandomNormalOptions = {}) {
    super(options);
    this.mean = options.mean ?? 0;
    this.stddev = options.stddev ?? 0.05;
    checkPositive('randomNormal', 'stddev', this.stddev);
  }
  override get config(): object {
    return { mean: this.mean, stddev: this.stddev, ...super.config };
  }
  protected draw(shape: Shape, seed: number): Float32Array {
    return normalValues(size(shape), seed, this.mean, this.stddev);
  }
}

/** Normal(mean, stddev) resampled to within 2 stddev (no variance correction, as Keras' `TruncatedNormal`). */
export class TruncatedNormal extends RandomNormal {
  override readonly className = 'TruncatedNormal';
  protected override draw(shape: Shape, seed: number): Float32Array {
    return truncatedNormalValues(size(shape), seed, this.mean, this.stddev);
  }
}

export type FanMode = 'fanIn' | 'fanOut' | 'fanAvg';
export type Distribution = 'normal' | 'truncatedNormal' | 'untruncatedNormal' | 'uniform';
export interface VarianceScalingOptions extends SeedOptions {
  scale?: number;
  mode?: FanMode;
  /** 'normal' is the truncated normal, as in TensorFlow.js and Keras 2. */
  distribution?: Distribution;
}

const modes: readonly FanMode[] = ['fanIn', 'fanOut', 'fanAvg'];
const distributions: readonly Distribution[] = ['normal', 'truncatedNormal', 'untruncatedNormal', 'uniform'];

/**
 * Variance scaling: n = fanIn, fanOut or their mean; uniform in ±sqrt(3·scale/n),
 * or a normal of std sqrt(scale/n) (truncated: resampled beyond 2 std, with the
 * std divided by 0.8796… so the variance is still scale/n).
 */
export class VarianceScaling extends BaseInitializer {
  readonly className: string = 'VarianceScaling';
  readonly scale: number;
  readonly mode: FanMode;
  readonly distribution: Distribution;
  constructor(options: VarianceScalingOptions = {}) {
    super(options);
    this.scale = options.scale ?? 1;
    this.mode = options.mode ?? 'fanIn';
    this.distribution = options.distribution ?? 'normal';
    checkPositive('varianceScaling', 'scale', this.scale);
    if (!modes.includes(this.mode)) fail('varianceScaling', `expected mode ${modes.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(this.mode)}`);
    if (!distributions.includes(this.distribution)) fail('varianceScaling', `expected distribution ${distributions.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(this.distribution)}`);
  }
  override get config(): object {
    return { scale: this.scale, mode: this.mode, distribution: this.distribution, ...super.config };
  }
  protected draw(shape: Shape, seed: number): Float32Array {
    const { fanIn, fanOut } = computeFans(shape);
    const n = Math.max(1, this.mode === 'fanIn' ? fanIn : this.mode === 'fanOut' ? fanOut : (fanIn + fanOut) / 2);
    const variance = this.scale / n;
    if (this.distribution === 'uniform') {
      const limit = Math.sqrt(3 * variance);
      return uniformValues(size(shape), seed, -limit, limit);
    }
    if (this.distribution === 'untruncatedNormal') return normalValues(size(shape), seed, 0, Math.sqrt(variance));
    return truncatedNormalValues(size(shape), seed, 0, Math.sqrt(variance) / 0.87962566103423978);
  }
}

/** Uniform in ±sqrt(6 / (fanIn + fanOut)). */
export class GlorotUniform extends VarianceScaling {
  override readonly className = 'GlorotUniform';
  constructor(options: SeedOptions = {}) {
    super({ scale: 1, mode: 'fanAvg', distribution: 'uniform', seed: options.seed });
  }
}
/** Truncated normal, std sqrt(2 / (fanIn + fanOut)). */
export class GlorotNormal extends VarianceScaling {
  override readonly className = 'GlorotNormal';
  constructor(options: SeedOptions = {}) {
    super({ scale: 1, mode: 'fanAvg', distribution: 'normal', seed: options.seed });
  }
}
/** Uniform in ±sqrt(6 / fanIn). */
export class HeUniform extends VarianceScaling {
  override readonly className = 'HeUniform';
  constructor(options: SeedOptions = {}) {
    super({ scale: 2, mode: 'fanIn', distribution: 'uniform', seed: options.seed });
  }
}
/** Truncated normal, std sqrt(2 / fanIn). */
export class HeNormal extends VarianceScaling {
  override readonly className = 'HeNormal';
  constructor(options: SeedOptions = {}) {
    super({ scale: 2, mode: 'fanIn', distribution: 'normal', seed: options.seed });
  }
}
/** Uniform in ±sqrt(3 / fanIn). */
export class LeCunUniform extends VarianceScaling {
  override readonly className = 'LeCunUniform';
  constructor(options: SeedOptions = {}) {
    super({ scale: 1, mode: 'fanIn', distribution: 'uniform', seed: options.seed });
  }
}
/** Truncated normal, std sqrt(1 / fanIn). */
export class LeCunNormal extends VarianceScaling {
  override readonly className = 'LeCunNormal';
  constructor(options: SeedOptions = {}) {
    super({ scale: 1, mode: 'fanIn', distribution: 'normal', seed: options.seed });
  }
}

export interface OrthogonalOptions extends SeedOptions {
  gain?: number;
}

/**
 * A (semi-)orthogonal matrix, as Keras: the weight is viewed as [prod(shape[:-1]), shape[-1]];
 * the Q of a QR decomposition (modified Gram–Schmidt, so diag(R) > 0, Keras' sign fix)
 * of a normal [max(rows, cols), min(rows, cols)] matrix, transposed when rows < cols,
 * times `gain`. Rows (or columns, whichever are fewer) are orthonormal.
 */
export class Orthogonal extends BaseInitializer {
  readonly className = 'Orthogonal';
  readonly gain: number;
  constructor(options: OrthogonalOptions = {}) {
    super(options);
    this.gain = options.gain ?? 1;
    if (typeof this.gain !== 'number' || !Number.isFinite(this.gain)) fail('orthogonal', `expected a finite gain, got ${this.gain}`);
  }
  override get config(): object {
    return { gain: this.gain, ...super.config };
  }
  protected draw(shape: Shape, seed: number): Float32Array {
    if (shape.length < 2) fail('orthogonal', `expected a shape of rank >= 2, got [${shape.join(',')}]`);
    const cols = shape[shape.length - 1]!;
    const rows = size(shape) / Math.max(cols, 1);
    const [m, k] = [Math.max(rows, cols), Math.min(rows, cols)];
    // a: m x k, row-major, in float64; orthonormalise its columns in place
    const a = new Float64Array(m * k);
    for (let i = 0; i < a.length; i++) a[i] = normalAt(seed, i);
    for (let j = 0; j < k; j++) {
      for (let p = 0; p < j; p++) {
        let dot = 0;
        for (let i = 0; i < m; i++) dot += a[i * k + p]! * a[i * k + j]!;
        for (let i = 0; i < m; i++) a[i * k + j]! -= dot * a[i * k + p]!;
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += a[i * k + j]! ** 2;
      norm = Math.sqrt(norm);
      for (let i = 0; i < m; i++) a[i * k + j]! /= norm;
    }
    const out = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) out[r * cols + c] = this.gain * (rows >= cols ? a[r * k + c]! : a[c * k + r]!);
    }
    return out;
  }
}

// ---- factories, as `tf.initializers.*` ---------------------------------------

const seedKeys = optionKeys<SeedOptions>({ seed: true });
const normalKeys = optionKeys<RandomNormalOptions>({ mean: true, stddev: true, seed: true });
/** A factory that refuses options other than `keys` (errors name `initializers.<name>`). */
const checked = <O extends object>(name: string, keys: readonly string[], make: (options: O) => Initializer) => (options: O = {} as O): Initializer => {
  checkOptions(`initializers.${name}`, options, keys);
  return make(options);
};

export const zeros = checked<Record<never, never>>('zeros', [], () => new Zeros());
export const ones = checked<Record<never, never>>('ones', [], () => new Ones());
export const constant = checked<{ value: number }>('constant', ['value'], (o) => new Constant(o));
export const randomUniform = checked<RandomUniformOptions>('randomUniform', optionKeys<RandomUniformOptions>({ minval: true, maxval: true, seed: true }), (o) => new RandomUniform(o));
export const randomNormal = checked<RandomNormalOptions>('randomNormal', normalKeys, (o) => new RandomNormal(o));
export const truncatedNormal = checked<RandomNormalOptions>('truncatedNormal', normalKeys, (o) => new TruncatedNormal(o));
export const varianceScaling = checked<VarianceScalingOptions>('varianceScaling', optionKeys<VarianceScalingOptions>({ scale: true, mode: true, distribution: true, seed: true }), (o) => new VarianceScaling(o));
export const glorotUniform = checked<SeedOptions>('glorotUniform', seedKeys, (o) => new GlorotUniform(o));
export const glorotNormal = checked<SeedOptions>('glorotNormal', seedKeys, (o) => new GlorotNormal(o));
export const heUniform = checked<SeedOptions>('heUniform', seedKeys, (o) => new HeUniform(o));
export const heNormal = checked<SeedOptions>('heNormal', seedKeys, (o) => new HeNormal(o));
export const lecunUniform = checked<SeedOptions>('lecunUniform', seedKeys, (o) => new LeCunUniform(o));
export const lecunNormal = checked<SeedOptions>('lecunNormal', seedKeys, (o) => new LeCunNormal(o));
export const orthogonal = checked<OrthogonalOptions>('orthogonal', optionKeys<OrthogonalOptions>({ gain: true, seed: true }), (o) => new Orthogonal(o));

const byName: Readonly<Record<string, () => Initializer>> = {
  zeros, ones, randomUniform, randomNormal, truncatedNormal, varianceScaling,
  glorotUniform, glorotNormal, heUniform, heNormal, lecunUniform, lecunNormal, orthogonal,
};

/** The initializer names `get` accepts (TensorFlow.js' identifiers; Keras' snake_case forms also work). */
export const initializerNames: readonly string[] = Object.keys(byName);

export type InitializerName = keyof typeof byName | string;

const camel = (name: string): string => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

const byClass: Readonly<Record<string, (config: never) => Initializer>> = {
  Zeros, Ones, Constant, RandomUniform, RandomNormal, TruncatedNormal, VarianceScaling,
  GlorotUniform, GlorotNormal, HeUniform, HeNormal, LeCunUniform, LeCunNormal, Orthogonal,
} as unknown as Record<string, (config: never) => Initializer>;

/**
 * An initializer from a name ('glorotUniform', 'he_normal', …), from
 * `{ className, config }` (as `getConfig` writes it), or an Initializer, which is
 * returned as is.
 */
export function get(identifier: string | Initializer | { className: string; config?: object }, subject = 'initializers.get'): Initializer {
  if (typeof identifier === 'object' && identifier !== null && 'init' in identifier && typeof identifier.init === 'function') return identifier;
  if (typeof identifier === 'object' && identifier !== null && typeof identifier.className === 'string' && Object.hasOwn(byClass, identifier.className)) {
    const Class = byClass[identifier.className] as unknown as new (config: object) => Initializer;
    return new Class(identifier.config ?? {});
  }
  if (typeof identifier === 'string') {
    const key = camel(identifier);
    const make = byName[key] ?? byName[key.replace(/^leCun/, 'lecun')];
    if (make) return make();
  }
  return fail(subject, `unknown initializer ${typeof identifier === 'string' ? `'${identifier}'` : JSON.stringify(identifier)}; expected an Initializer or one of ${initializerNames.map((n) => `'${n}'`).join(', ')}`);
}
