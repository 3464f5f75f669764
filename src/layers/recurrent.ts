/**
 * @file Keras's recurrent layers: `simpleRNN`, `lstm`, `gru` and the
 * `bidirectional` wrapper, with Keras 3's formulas, defaults, weight names and
 * layouts (kernel [inputDim, gates·units], recurrent_kernel [units,
 * gates·units], bias [gates·units], or [2, 3·units] for a reset-after GRU;
 * gate order LSTM i, f, c, o and GRU z, r, h), so weights move to and from
 * Keras as they are. Inputs are [batch, steps, features]. The input
 * projection runs as one matmul over all steps, and the recurrence is one
 * `scan` over the steps (compiled as one wasm loop whose body is one copy of
 * the cell).
 *
 * `dropout` and `recurrentDropout` draw one mask per sequence in training
 * (Keras's: the same dropped input features, and the same dropped state
 * units in the recurrent matmul, at every step), from the layer's seed and a
 * step counter kept as the internal weight `step`, as the dropout layer does.
 *
 * Masks (Keras's): a mask [batch, steps] — from an `embedding({ maskZero: true })`,
 * a `masking` layer, or `apply(x, { mask })` — is read in the loop: at a masked
 * step the states are carried unchanged (`where(mask_t, new, old)`) and the
 * step's output is the previous step's output (zeros before the first real
 * step), as Keras's RNN with its default zero_output_for_mask=False; inside
 * `bidirectional` with returnSequences, masked steps output zeros, as Keras's
 * Bidirectional sets for its two layers. The last output is the output at the
 * last real step; the final states are the states after it, so a padded
 * sequence gives what the unpadded one gives. With returnSequences the mask
 * passes on to the next layer.
 *
 * `returnState` gives `[output, ...states]` (LSTM: h and c) from `apply` in the
 * functional API or a kiln.Model's call; `apply(x, { initialState })` starts
 * the loop from given states.
 *
 * `stateful: true` (Keras's): the final states of a batch are the initial
 * states of the next, across trainOnBatch, fit, evaluate and predict calls.
 * They live in the model as non-trainable weights `state_h` (and `state_c`
 * for LSTM) of shape [batchSize, units], which every compiled entry updates
 * (`assign`), so the batch size is fixed: from `kiln.input({ shape, batchSize })`,
 * or `batchSize` / `batchInputShape` on the first layer. `resetStates()` (the
 * layer's or the model's) zeroes them before the next run.
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { nextSeed } from '../../compiler/random.js';
import { assign } from '../../compiler/trace.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType, type Dim } from '../../compiler/types.js';
import * as activations from './activations.js';
import type * as constraints from './constraints.js';
import { checkInputShape, constraintOf, initializerConfig, penaltyConfig, positiveInt, regularizerOf, type InitializerIdentifier, type WeightPenaltyArgs } from './core.js';
import type * as regularizers from './regularizers.js';
import * as initializers from './initializers.js';
import { Layer, LAYER_KEYS, type CallContext, type Initializer, type LayerArgs, type Shape, type WeightSpec } from './layer.js';
import { maskWeights, readMask } from './masking.js';

/** The options every recurrent layer takes (Keras's names). */
export interface RecurrentArgs extends LayerArgs, WeightPenaltyArgs {
  /** Size of the state (and the output's last dimension). */
  units: number;
  /** Default 'tanh'. */
  activation?: activations.ActivationName;
  useBias?: boolean;
  /** Return every step's output [batch, steps, units] (true) or the last one [batch, units] (false, default). */
  returnSequences?: boolean;
  /** `apply` gives `[output, ...states]` (LSTM: [output, h, c]; GRU and SimpleRNN: [output, h]), as Keras's; the functional API or a kiln.Model's call only. */
  returnState?: boolean;
  /** Process the sequence from the last step to the first (with returnSequences, outputs come in that order, as Keras's). */
  goBackwards?: boolean;
  /** Accepted for Keras compatibility and ignored: the scan loop measured faster than unrolled code even for short sequences. */
  unroll?: boolean;
  /**
   * Carry the final states of each batch into the next (sample i of a batch
   * continues sample i of the previous one), across fit, trainOnBatch, evaluate
   * and predict, until `resetStates()`. Needs a fixed batch size (the input's
   * `batchSize` or `batchInputShape`); fit it with `shuffle: false`.
   */
  stateful?: boolean;
  /** Default 'glorotUniform'. */
  kernelInitializer?: InitializerIdentifier;
  /** Default 'orthogonal'. */
  recurrentInitializer?: InitializerIdentifier;
  /** Default 'zeros'. */
  biasInitializer?: InitializerIdentifier;
  /** Fraction of the input features dropped in training (one mask per sequence), in [0, 1). */
  dropout?: number;
  /** Fraction of the state units dropped from the recurrent matmul in training (one mask per sequence), in [0, 1). */
  recurrentDropout?: number;
  /** Seed of the dropout masks (default: a fresh one per layer). */
  seed?: number;
  /** Adds its penalty of the recurrent kernel to the training loss. */
  recurrentRegularizer?: regularizers.RegularizerIdentifier;
  /** Projects the recurrent kernel after each optimizer step. */
  recurrentConstraint?: constraints.ConstraintIdentifier;
}

/** LSTM and GRU's extra option: the activation of their gates. */
export interface GatedArgs extends RecurrentArgs {
  /** Default 'sigmoid'. */
  recurrentActivation?: activations.ActivationName;
}

export interface LSTMArgs extends GatedArgs {
  /** Initialise the forget gate's bias to 1 (and the rest with biasInitializer); default true, as Keras. */
  unitForgetBias?: boolean;
}

export interface GRUArgs extends GatedArgs {
  /** Apply the reset gate after the recurrent matmul (Keras 3's default, and PyTorch's / cuDNN's form): bias [2, 3·units]. */
  resetAfter?: boolean;
}

const RECURRENT_KEYS = {
  units: true, activation: true, useBias: true, returnSequences: true, returnState: true, goBackwards: true, unroll: true, stateful: true,
  kernelInitializer: true, recurrentInitializer: true, biasInitializer: true, dropout: true, recurrentDropout: true, seed: true,
  kernelRegularizer: true, recurrentRegularizer: true, biasRegularizer: true, kernelConstraint: true, recurrentConstraint: true, biasConstraint: true, ...LAYER_KEYS,
} as const;

type Weights = Readonly<Record<string, Tensor>>;
/** One step: the step's input projection `xw` [batch, gates·units] and the carried state → the new state and the step's output. */
type Step = (xw: Tensor, state: Tensor[]) => [Tensor[], Tensor];
/** The state as the recurrent matmul reads it (times the recurrent dropout mask in training). */
type Recur = (h: Tensor) => Tensor;

/** How `run` is called: by the layer itself, or by Bidirectional for each direction. */
export interface RunOptions {
  readonly training: boolean;
  /** The input's mask, [batch, steps] (checked here). */
  readonly mask?: Tensor;
  readonly initialState?: readonly Tensor[];
  /** A goBackwards sequence in input order (Bidirectional). */
  readonly aligned?: boolean;
  /** Masked steps output zeros (Bidirectional with returnSequences) rather than the previous output. */
  readonly zeroMaskedOutputs?: boolean;
}

function rate(layer: RecurrentLayer, what: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) layer['fail'](`expected ${what} in [0, 1), got ${JSON.stringify(v) ?? String(v)}`);
  return v as number;
}

function flag(layer: RecurrentLayer, what: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') layer['fail'](`expected ${what} to be a boolean, got ${JSON.stringify(v)}`);
  return v as boolean;
}

/**
 * What the recurrent layers share: options, the three weights, shapes, config,
 * and the loop (input projection, then a scan of the cell over the steps).
 * @example
 * const layer: kiln.layers.RecurrentLayer = kiln.layers.gru({ units: 8 });
 * layer.weights([20, 3]).map((w) => w.name) // ['kernel', 'recurrent_kernel', 'bias']
 */
export abstract class RecurrentLayer extends Layer {
  readonly units: number;
  readonly activation: activations.ActivationName;
  readonly useBias: boolean;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
  readonly goBackwards: boolean;
  readonly unroll: boolean;
  readonly stateful: boolean;
  readonly kernelInitializer: Initializer;
  readonly recurrentInitializer: Initializer;
  readonly biasInitializer: Initializer;
  readonly dropout: number;
  readonly recurrentDropout: number;
  readonly seed: number;
  /** The kernel's, recurrent kernel's and bias's regularizers and constraints (Keras's options). */
  readonly penalties: Readonly<Record<'kernel' | 'recurrent' | 'bias', { regularizer?: regularizers.Regularizer; constraint?: constraints.Constraint }>>;
  /** The number of gate blocks in the kernels (1, 4 or 3). */
  protected abstract readonly gates: number;
  /** A stateful layer's batch size: its own, or its model input's (see adoptBatchSize). */
  private statefulBatch?: number;
  /** Bumped by resetStates; a model zeroes the layer's states before its next run when it changed. */
  statesVersion = 0;

  protected constructor(className: string, args: RecurrentArgs) {
    super(className, args);
    this.units = positiveInt(this.subject, 'units', args.units);
    this.activation = activations.checkName(args.activation ?? 'tanh', this.subject);
    this.useBias = flag(this, 'useBias', args.useBias, true);
    this.returnSequences = flag(this, 'returnSequences', args.returnSequences, false);
    this.returnState = flag(this, 'returnState', args.returnState, false);
    this.goBackwards = flag(this, 'goBackwards', args.goBackwards, false);
    this.unroll = flag(this, 'unroll', args.unroll, false);
    this.stateful = flag(this, 'stateful', args.stateful, false);
    this.statefulBatch = this.batchSize;
    this.kernelInitializer = initializers.get(args.kernelInitializer ?? 'glorotUniform', this.subject);
    this.recurrentInitializer = initializers.get(args.recurrentInitializer ?? 'orthogonal', this.subject);
    this.biasInitializer = initializers.get(args.biasInitializer ?? 'zeros', this.subject);
    this.dropout = rate(this, 'dropout', args.dropout);
    this.recurrentDropout = rate(this, 'recurrentDropout', args.recurrentDropout);
    if (args.seed !== undefined && !Number.isInteger(args.seed)) this.fail(`expected an integer seed, got ${JSON.stringify(args.seed)}`);
    this.seed = (args.seed ?? nextSeed()) >>> 0;
    this.penalties = {
      kernel: { regularizer: regularizerOf(args.kernelRegularizer, this.subject), constraint: constraintOf(args.kernelConstraint, this.subject) },
      recurrent: { regularizer: regularizerOf(args.recurrentRegularizer, this.subject), constraint: constraintOf(args.recurrentConstraint, this.subject) },
      bias: { regularizer: regularizerOf(args.biasRegularizer, this.subject), constraint: constraintOf(args.biasConstraint, this.subject) },
    };
  }

  /** [steps, features], checked. */
  private stepsAndFeatures(inputShape: Shape): [number, number] {
    checkInputShape(this.subject, inputShape, 2, '[batch, steps, features] ');
    return inputShape as [number, number];
  }

  /** The bias's shape and initializer (GRU with resetAfter and LSTM with unitForgetBias differ). */
  protected biasSpec(): { shape: Shape; initializer: Initializer } {
    return { shape: [this.gates * this.units], initializer: this.biasInitializer };
  }

  weights(inputShape: Shape): WeightSpec[] {
    const [, features] = this.stepsAndFeatures(inputShape);
    const width = this.gates * this.units;
    const specs: WeightSpec[] = [
      { name: 'kernel', shape: [features, width], initializer: this.kernelInitializer, trainable: this.trainable, ...this.penalties.kernel },
      { name: 'recurrent_kernel', shape: [this.units, width], initializer: this.recurrentInitializer, trainable: this.trainable, ...this.penalties.recurrent },
    ];
    if (this.useBias) specs.push({ name: 'bias', ...this.biasSpec(), trainable: this.trainable, ...this.penalties.bias });
    if (this.dropout > 0 || this.recurrentDropout > 0) specs.push({ name: 'step', shape: [], initializer: initializers.zeros(), trainable: false, internal: true });
    if (this.stateful) {
      const batch = this.requireBatch();
      for (const name of this.stateNames()) specs.push({ name, shape: [batch, this.units], initializer: initializers.zeros(), trainable: false, internal: true, state: true });
    }
    return specs;
  }

  /** The carried states' weight names: state_h (and state_c for LSTM). */
  private stateNames(): string[] {
    return ['state_h', 'state_c'].slice(0, this.stateCount());
  }

  /** A stateful layer's fixed batch size, or a KilnError saying where to give it. */
  private requireBatch(): number {
    if (this.statefulBatch === undefined) {
      this.fail('stateful needs a fixed batch size (its states are [batchSize, units] and carry from one batch to the next), got none; give it on the model\'s input: kiln.input({ shape, batchSize }), or batchSize / batchInputShape on the first layer (Keras\'s batch_input_shape)');
    }
    return this.statefulBatch!;
  }

  override get fixedBatchSize(): number | undefined {
    return this.stateful ? this.statefulBatch : undefined;
  }

  /** A stateful layer takes its model input's batch size when it has none of its own. */
  override adoptBatchSize(batch: number): void {
    if (!this.stateful) return;
    if (this.statefulBatch !== undefined && this.statefulBatch !== batch) this.fail(`stateful with batch size ${this.statefulBatch}, but its input has a fixed batch size of ${batch}; expected one batch size`);
    this.statefulBatch = batch;
  }

  /**
   * Keras's reset_states: a stateful layer's states become zeros before the
   * next batch of any model holding it (model.resetStates() does it for all).
   * @example model.predict(firstHalf); layer.resetStates(); model.predict(anotherSequence);
   */
  resetStates(): void {
    if (!this.stateful) this.fail('resetStates needs stateful: true (a layer that is not stateful starts every batch from zeros already)');
    this.statesVersion++;
  }

  computeOutputShape(inputShape: Shape): Shape {
    const [steps] = this.stepsAndFeatures(inputShape);
    return this.returnSequences ? [steps, this.units] : [this.units];
  }

  /** With returnState: the output, then each state. */
  override get outputCount(): number {
    return this.returnState ? 1 + this.stateCount() : 1;
  }

  override computeOutputShapes(inputShape: Shape): Shape[] {
    return [this.computeOutputShape(inputShape), ...Array.from({ length: this.returnState ? this.stateCount() : 0 }, () => [this.units])];
  }

  /** The input's mask passes on with returnSequences (one per output step), and stops otherwise. */
  override computeMask(_x: Tensor, mask: Tensor | undefined): Tensor | undefined {
    return this.returnSequences ? mask : undefined;
  }

  override checkInitialState(inputShape: Shape, stateShapes: readonly Shape[]): void {
    this.stepsAndFeatures(inputShape);
    const want = this.stateCount();
    const bad = stateShapes.findIndex((s) => s.length !== 1 || s[0] !== this.units);
    if (stateShapes.length !== want || bad >= 0) {
      this.fail(`expected initialState to be ${want} tensor${want > 1 ? 's' : ''} [null,${this.units}]${want > 1 ? ' (h, c)' : ''}, got ${stateShapes.length}${bad >= 0 ? ` (state ${bad} is [null,${stateShapes[bad]!.join(',')}])` : ''}`);
    }
  }

  /** x·kernel (+ the input bias) for every step at once: [batch, steps, gates·units]. */
  protected inputProjection(x: Tensor, w: Weights): Tensor {
    const xw = F.matmul(x, this.weight(w, 'kernel'));
    return this.useBias ? F.add(xw, this.weight(w, 'bias')) : xw;
  }

  /** The cell, closing over the bound weights; `recur` is applied to the state before each recurrent matmul. */
  protected abstract cell(w: Weights, recur: Recur): Step;
  /** How many state tensors the cell carries (LSTM: h and c). */
  stateCount(): number {
    return 1;
  }

  call(x: Tensor, weights: Weights, ctx?: CallContext): Tensor {
    return this.run(x, weights, { training: ctx?.training ?? false, mask: ctx?.mask, initialState: ctx?.initialState }).output;
  }

  override callOutputs(x: Tensor, weights: Weights, ctx?: CallContext): Tensor[] {
    const { output, states } = this.run(x, weights, { training: ctx?.training ?? false, mask: ctx?.mask, initialState: ctx?.initialState });
    return this.returnState ? [output, ...states] : [output];
  }

  /** A dropout mask of `shape` (0 or 1 / (1 − rate)), drawn with the seed plus `offset` at this training step. */
  private mask(shape: (number | null)[] | readonly Dim[], rate: number, step: Tensor, offset: number): Tensor {
    const u = F.randomUniformOp([...shape] as (number | null)[], (this.seed + offset) >>> 0, step);
    return F.where(F.lt(u, rate), 0, 1 / (1 - rate));
  }

  /** The given initial states, checked ([batch, units] float32 each), or zeros. */
  private initialStates(batch: Dim, given: readonly Tensor[] | undefined): Tensor[] {
    const want = this.stateCount();
    if (!given) {
      const zero = F.broadcastTo(F.zeros([1, this.units]), [batch, this.units]);
      return Array.from({ length: want }, () => zero);
    }
    const bad = given.findIndex((s) => s.rank !== 2 || s.dtype !== 'float32' || s.type.shape[0] !== batch || s.type.shape[1] !== this.units);
    if (given.length !== want || bad >= 0) {
      this.fail(`expected initialState to be ${want} float32 tensor${want > 1 ? 's' : ''} [${batch},${this.units}]${want > 1 ? ' (h, c)' : ''}, got ${given.length}${bad >= 0 ? ` (state ${bad} is ${formatType(given[bad]!.type)})` : ''}`);
    }
    return [...given];
  }

  /**
   * The layer's output and final states. With `aligned` (for Bidirectional), a
   * goBackwards layer's sequence comes in input order (step t holds the state
   * after reading steps T−1 … t) rather than Keras's processing order; with
   * `zeroMaskedOutputs` (Bidirectional with returnSequences) masked steps output
   * zeros rather than the previous output.
   */
  run(x: Tensor, w: Weights, options: RunOptions): { output: Tensor; states: Tensor[] } {
    const kernel = this.weight(w, 'kernel');
    const features = kernel.type.shape[0];
    if (x.rank !== 3 || x.dtype !== 'float32' || x.type.shape[2] !== features) this.fail(`expected a float32 input [batch, steps, ${features}], got ${formatType(x.type)}`);
    const steps = x.type.shape[1] as number;
    const batch = x.type.shape[0]!;
    if (this.stateful && batch !== this.requireBatch()) this.fail(`stateful needs batches of exactly ${this.statefulBatch} (its batch size), got input ${formatType(x.type)}`);
    const mask = readMask(this.subject, options.mask, x);
    let recur: Recur = (h) => h;
    if (options.training && (this.dropout > 0 || this.recurrentDropout > 0)) {
      const counter = this.weight(w, 'step');
      if (counter.isSymbolic) assign(counter, F.add(counter, 1));
      if (this.dropout > 0) x = F.mul(x, this.mask([batch, 1, features!], this.dropout, counter, 0));
      if (this.recurrentDropout > 0) {
        const m = this.mask([batch, this.units], this.recurrentDropout, counter, 1);
        recur = (h) => F.mul(h, m);
      }
    }
    const xw = this.inputProjection(x, w);
    const carried = this.stateful && !options.initialState ? this.stateNames().map((n) => this.weight(w, n)) : undefined;
    const init = carried ?? this.initialStates(batch, options.initialState);
    const step = this.cell(w, recur);
    const scanOptions = { axis: 1, reverse: this.goBackwards };
    let states: Tensor[], outs: Tensor, last: Tensor;
    if (!mask) {
      [states, outs] = F.scan((state: Tensor[], xt: Tensor) => step(xt, state), init, xw, scanOptions) as unknown as [Tensor[], Tensor];
      last = states[0]!;
    } else {
      // carries: the states and the last real step's output; a masked step keeps both
      const none = F.broadcastTo(F.zeros([1, this.units]), [batch, this.units]);
      const body = ([state, previous]: [Tensor[], Tensor], [xt, mt]: [Tensor, Tensor]) => {
        const keep = F.gt(mt, 0); // [batch, 1]
        const [next, out] = step(xt, state);
        const kept = next.map((s, i) => F.where(keep, s, state[i]!));
        const latest = F.where(keep, out, previous);
        return [[kept, latest], options.zeroMaskedOutputs ? F.where(keep, out, 0) : latest] as const;
      };
      const [[finals, latest], ys] = F.scan(body as never, [init, none], [xw, maskWeights(mask)], scanOptions) as unknown as [[Tensor[], Tensor], Tensor];
      [states, outs, last] = [finals, ys, latest];
    }
    // the next batch starts where this one ended (inside a trace; an eager call keeps the model's states)
    if (this.stateful) this.stateNames().forEach((n, i) => { const s = this.weight(w, n); if (s.isSymbolic) assign(s, states[i]!); });
    if (!this.returnSequences) return { output: last, states };
    if (!this.goBackwards || options.aligned) return { output: outs, states };
    return { output: F.gather(outs, F.tensor(Int32Array.from({ length: steps }, (_, i) => steps - 1 - i), [steps], 'int32'), 1), states };
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      units: this.units, activation: this.activation, useBias: this.useBias,
      returnSequences: this.returnSequences, returnState: this.returnState, goBackwards: this.goBackwards, unroll: this.unroll, stateful: this.stateful,
      kernelInitializer: initializerConfig(this.kernelInitializer), recurrentInitializer: initializerConfig(this.recurrentInitializer), biasInitializer: initializerConfig(this.biasInitializer),
      dropout: this.dropout, recurrentDropout: this.recurrentDropout, seed: this.seed,
      kernelRegularizer: penaltyConfig(this.penalties.kernel.regularizer), recurrentRegularizer: penaltyConfig(this.penalties.recurrent.regularizer), biasRegularizer: penaltyConfig(this.penalties.bias.regularizer),
      kernelConstraint: penaltyConfig(this.penalties.kernel.constraint), recurrentConstraint: penaltyConfig(this.penalties.recurrent.constraint), biasConstraint: penaltyConfig(this.penalties.bias.constraint),
    };
  }
}

/**
 * Keras's SimpleRNN: h' = activation(x·kernel + h·recurrent_kernel + bias).
 * @example
 * const model = kiln.sequential({ layers: [kiln.layers.simpleRNN({ units: 16, inputShape: [10, 3] }), kiln.layers.dense({ units: 1 })] });
 */
export class SimpleRNN extends RecurrentLayer {
  static override readonly optionKeys = optionKeys<RecurrentArgs>(RECURRENT_KEYS);
  /** A getter, so the shared constructor's errors can name the class. */
  get className(): string { return 'SimpleRNN'; }
  protected readonly gates = 1;

  constructor(args: RecurrentArgs) {
    super('SimpleRNN', args);
  }

  protected cell(w: Weights, recur: Recur): Step {
    const u = this.weight(w, 'recurrent_kernel');
    const act = activations.get(this.activation);
    return (xw, [h]) => {
      const next = act(F.add(xw, F.matmul(recur(h!), u)));
      return [[next], next];
    };
  }
}

/** A gated layer's recurrentActivation, checked and kept. */
abstract class GatedLayer extends RecurrentLayer {
  readonly recurrentActivation: activations.ActivationName;

  protected constructor(className: string, args: GatedArgs) {
    super(className, args);
    this.recurrentActivation = activations.checkName(args.recurrentActivation ?? 'sigmoid', this.subject);
  }

  override getConfig(): object {
    return { ...super.getConfig(), recurrentActivation: this.recurrentActivation };
  }
}

/** `base`'s values with the block [units, 2·units) (the LSTM forget gate) set to 1. */
function unitForgetBias(base: Initializer, units: number): Initializer {
  return {
    className: 'UnitForgetBias',
    config: { base: initializerConfig(base) },
    init(shape, seed) {
      const v = base.init(shape, seed);
      v.fill(1, units, 2 * units);
      return v;
    },
  };
}

/**
 * Keras's LSTM, gates i, f, c, o in the kernels' columns:
 * c' = σ(f)·c + σ(i)·tanh(c̃), h' = σ(o)·tanh(c') (σ = recurrentActivation, tanh = activation).
 * @example
 * const x = kiln.input({ shape: [48, 1] });
 * const y = kiln.layers.dense({ units: 1 }).apply(kiln.layers.lstm({ units: 32 }).apply(x) as kiln.SymbolicTensor);
 */
export class LSTM extends GatedLayer {
  static override readonly optionKeys = optionKeys<LSTMArgs>({ ...RECURRENT_KEYS, recurrentActivation: true, unitForgetBias: true });
  /** A getter, so the shared constructor's errors can name the class. */
  get className(): string { return 'LSTM'; }
  readonly unitForgetBias: boolean;
  protected readonly gates = 4;

  constructor(args: LSTMArgs) {
    super('LSTM', args);
    this.unitForgetBias = flag(this, 'unitForgetBias', args.unitForgetBias, true);
  }

  protected override biasSpec(): { shape: Shape; initializer: Initializer } {
    const spec = super.biasSpec();
    return this.unitForgetBias ? { ...spec, initializer: unitForgetBias(this.biasInitializer, this.units) } : spec;
  }

  override stateCount(): number {
    return 2;
  }

  protected cell(w: Weights, recur: Recur): Step {
    const u = this.weight(w, 'recurrent_kernel');
    const act = activations.get(this.activation);
    const gate = activations.get(this.recurrentActivation);
    return (xw, [h, c]) => {
      const [i, f, g, o] = F.split(F.add(xw, F.matmul(recur(h!), u)), 4, -1) as [Tensor, Tensor, Tensor, Tensor];
      const c2 = F.add(F.mul(gate(f), c!), F.mul(gate(i), act(g)));
      const h2 = F.mul(gate(o), act(c2));
      return [[h2, c2], h2];
    };
  }

  override getConfig(): object {
    return { ...super.getConfig(), unitForgetBias: this.unitForgetBias };
  }
}

/**
 * Keras's GRU, gates z, r, h in the kernels' columns; h' = z·h + (1 − z)·h̃ with
 * h̃ = tanh(x·W_h + b_h + r·(h·U_h + b'_h)) when resetAfter (the default; bias
 * [2, 3·units]: input bias, recurrent bias), else tanh(x·W_h + (r·h)·U_h + b_h).
 * @example
 * const layer = kiln.layers.gru({ units: 8, returnSequences: true }); // [batch, steps, f] → [batch, steps, 8]
 */
export class GRU extends GatedLayer {
  static override readonly optionKeys = optionKeys<GRUArgs>({ ...RECURRENT_KEYS, recurrentActivation: true, resetAfter: true });
  /** A getter, so the shared constructor's errors can name the class. */
  get className(): string { return 'GRU'; }
  readonly resetAfter: boolean;
  protected readonly gates = 3;

  constructor(args: GRUArgs) {
    super('GRU', args);
    this.resetAfter = flag(this, 'resetAfter', args.resetAfter, true);
  }

  protected override biasSpec(): { shape: Shape; initializer: Initializer } {
    return this.resetAfter ? { shape: [2, 3 * this.units], initializer: this.biasInitializer } : super.biasSpec();
  }

  protected override inputProjection(x: Tensor, w: Weights): Tensor {
    const xw = F.matmul(x, this.weight(w, 'kernel'));
    if (!this.useBias) return xw;
    const bias = this.weight(w, 'bias');
    return F.add(xw, this.resetAfter ? F.reshape(F.sliceAxis(bias, 0, 0, 1), [3 * this.units]) : bias);
  }

  protected cell(w: Weights, recur: Recur): Step {
    const u = this.weight(w, 'recurrent_kernel');
    const act = activations.get(this.activation);
    const gate = activations.get(this.recurrentActivation);
    const units = this.units;
    if (this.resetAfter) {
      const recurrentBias = this.useBias ? F.reshape(F.sliceAxis(this.weight(w, 'bias'), 0, 1, 2), [3 * units]) : undefined;
      return (xw, [h]) => {
        const [xz, xr, xh] = F.split(xw, 3, -1) as [Tensor, Tensor, Tensor];
        const hu = recurrentBias ? F.add(F.matmul(recur(h!), u), recurrentBias) : F.matmul(recur(h!), u);
        const [hz, hr, hh] = F.split(hu, 3, -1) as [Tensor, Tensor, Tensor];
        const z = gate(F.add(xz, hz));
        const r = gate(F.add(xr, hr));
        const candidate = act(F.add(xh, F.mul(r, hh)));
        const next = F.add(candidate, F.mul(z, F.sub(h!, candidate))); // z·h + (1 − z)·h̃
        return [[next], next];
      };
    }
    const [uzr, uh] = F.split(u, [2 * units, units], 1) as [Tensor, Tensor];
    return (xw, [h]) => {
      const [xzr, xh] = F.split(xw, [2 * units, units], -1) as [Tensor, Tensor];
      const hd = recur(h!);
      const [z, r] = F.split(gate(F.add(xzr, F.matmul(hd, uzr))), 2, -1) as [Tensor, Tensor];
      const candidate = act(F.add(xh, F.matmul(F.mul(r, hd), uh)));
      const next = F.add(candidate, F.mul(z, F.sub(h!, candidate)));
      return [[next], next];
    };
  }

  override getConfig(): object {
    return { ...super.getConfig(), resetAfter: this.resetAfter };
  }
}

/** @example kiln.layers.simpleRNN({ units: 16, returnSequences: true }) */
export const simpleRNN = (args: RecurrentArgs): SimpleRNN => new SimpleRNN(args);
/** @example kiln.layers.lstm({ units: 32 }) */
export const lstm = (args: LSTMArgs): LSTM => new LSTM(args);
/** @example kiln.layers.gru({ units: 32, resetAfter: true }) */
export const gru = (args: GRUArgs): GRU => new GRU(args);

