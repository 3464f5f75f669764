/**
 * @file Keras's Bidirectional wrapper around a simpleRNN, lstm or gru: the
 * wrapped layer reads the sequence forwards and a copy of it (own weights,
 * `goBackwards` flipped) backwards, each with recurrent.ts's loop; the two
 * outputs are merged by `mergeMode`, or returned both with mergeMode null.
 * With the wrapped layer's returnState, the states follow: the forward
 * layer's, then the backward layer's (Keras's order); initial states are
 * given in that order too. A mask reaches both directions; with
 * returnSequences masked steps output zeros (Keras sets zero_output_for_mask
 * on its two layers).
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { Layer, LAYER_KEYS, type CallContext, type LayerArgs, type Shape, type WeightSpec } from './layer.js';
import { GRU, LSTM, RecurrentLayer, SimpleRNN } from './recurrent.js';

type Weights = Readonly<Record<string, Tensor>>;

/** How the two directions' outputs combine; null: not at all (apply gives both). */
export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;
const MERGE_MODES: readonly MergeMode[] = ['concat', 'sum', 'mul', 'ave', null];

export interface BidirectionalArgs extends LayerArgs {
  /** The forward layer: a simpleRNN, lstm or gru (or its saved `{ className, config }`). */
  layer: RecurrentLayer | { className: string; config: object };
  /** How the two directions' outputs combine; default 'concat' (2·units features); null gives both, [forward, backward]. */
  mergeMode?: MergeMode;
}

const recurrentClasses: Record<string, new (args: never) => RecurrentLayer> = { SimpleRNN, LSTM, GRU } as unknown as Record<string, new (args: never) => RecurrentLayer>;

/**
 * Keras's Bidirectional: the wrapped layer reads the sequence forwards and a
 * copy of it (own weights, `goBackwards` flipped) backwards; with
 * returnSequences the backward outputs are put back in input order; the two
 * are merged by `mergeMode`. Weights: the forward layer's as `forward/<name>`,
 * then the backward copy's as `backward/<name>`.
 * @example
 * const y = kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: 64 }) }).apply(embedded); // [batch, 128]
 * const [out, hf, cf, hb, cb] = kiln.layers.bidirectional({ layer: kiln.layers.lstm({ units: 8, returnState: true }) }).applyAll(x);
 */
export class Bidirectional extends Layer {
  static override readonly optionKeys = optionKeys<BidirectionalArgs>({ layer: true, mergeMode: true, ...LAYER_KEYS });
  readonly className = 'Bidirectional';
  readonly forwardLayer: RecurrentLayer;
  readonly backwardLayer: RecurrentLayer;
  readonly mergeMode: MergeMode;

  constructor(args: BidirectionalArgs) {
    // the wrapped layer's inputShape is the wrapper's (Keras takes it on either)
    const inner0 = args?.layer instanceof Layer ? args.layer : undefined;
    const innerShape = inner0?.inputShape;
    const own = innerShape && args.inputShape === undefined && args.batchInputShape === undefined ? { ...args, inputShape: [...innerShape] } : args;
    super('Bidirectional', inner0?.batchSize !== undefined && own.batchSize === undefined && own.batchInputShape === undefined ? { ...own, batchSize: inner0.batchSize } : own);
    let inner = args.layer;
    if (!(inner instanceof RecurrentLayer)) {
      const saved = inner as { className?: unknown; config?: unknown } | undefined;
      const Class = saved && typeof saved.className === 'string' && Object.hasOwn(recurrentClasses, saved.className) ? recurrentClasses[saved.className] : undefined;
      if (!Class || typeof saved!.config !== 'object' || saved!.config === null) this.fail(`expected layer to be a simpleRNN, lstm or gru layer, got ${inner instanceof Layer ? `${inner.className} "${inner.name}"` : JSON.stringify(inner)?.slice(0, 80) ?? String(inner)}`);
      const { batchInputShape: _, ...config } = saved!.config as { batchInputShape?: unknown }; // the wrapper keeps the input shape
      inner = new Class!(config as never);
    }
    const mode = args.mergeMode === undefined ? 'concat' : args.mergeMode;
    if (!MERGE_MODES.includes(mode)) this.fail(`expected mergeMode to be one of ${MERGE_MODES.map((m) => (m === null ? 'null' : `'${m}'`)).join(', ')}, got ${JSON.stringify(mode)}`);
    this.mergeMode = mode;
    this.forwardLayer = inner;
    const { name, batchInputShape: _, ...config } = inner.getConfig() as { name: string; batchInputShape?: unknown; goBackwards: boolean; seed: number };
    const Class = inner.constructor as new (args: object) => RecurrentLayer;
    // its own dropout masks: another seed, derived from the forward layer's
    this.backwardLayer = new Class({ ...config, name: `backward_${name}`, goBackwards: !config.goBackwards, seed: (config.seed ^ 0x5bd1e995) >>> 0 });
    const batch = this.batchSize ?? inner.fixedBatchSize;
    if (batch !== undefined) this.adoptBatchSize(batch);
  }

  /** A stateful wrapped layer fixes the batch size (both directions keep states). */
  override get fixedBatchSize(): number | undefined {
    return this.forwardLayer.fixedBatchSize;
  }

  override adoptBatchSize(batch: number): void {
    this.forwardLayer.adoptBatchSize(batch);
    this.backwardLayer.adoptBatchSize(batch);
  }

  /** Bumped by resetStates (both directions' states are zeroed before the next run). */
  get statesVersion(): number {
    return this.forwardLayer.statesVersion + this.backwardLayer.statesVersion;
  }

  /**
   * Zeroes both directions' states before the next batch (stateful wrapped layer).
   * @example bi.resetStates();
   */
  resetStates(): void {
    this.forwardLayer.resetStates();
  }

  weights(inputShape: Shape): WeightSpec[] {
    return [
      ...this.forwardLayer.weights(inputShape).map((s) => ({ ...s, name: `forward/${s.name}`, trainable: s.trainable && this.trainable })),
      ...this.backwardLayer.weights(inputShape).map((s) => ({ ...s, name: `backward/${s.name}`, trainable: s.trainable && this.trainable })),
    ];
  }

  /** The outputs (one merged, or two with mergeMode null), then with returnState each direction's states. */
  override get outputCount(): number {
    return (this.mergeMode === null ? 2 : 1) + (this.forwardLayer.returnState ? 2 * this.forwardLayer.stateCount() : 0);
  }

  computeOutputShape(inputShape: Shape): Shape {
    const out = this.forwardLayer.computeOutputShape(inputShape);
    return this.mergeMode === 'concat' ? [...out.slice(0, -1), 2 * out[out.length - 1]!] : out;
  }

  override computeOutputShapes(inputShape: Shape): Shape[] {
    const [, ...states] = this.forwardLayer.computeOutputShapes(inputShape);
    const outputs = this.mergeMode === null ? [this.computeOutputShape(inputShape), this.computeOutputShape(inputShape)] : [this.computeOutputShape(inputShape)];
    return [...outputs, ...states, ...states];
  }

  /** With returnSequences the input's mask passes on (to the first output). */
  override computeMask(_x: Tensor, mask: Tensor | undefined): Tensor | undefined {
    return this.forwardLayer.returnSequences ? mask : undefined;
  }

  override checkInitialState(inputShape: Shape, stateShapes: readonly Shape[]): void {
    const half = stateShapes.length / 2;
    const n = this.forwardLayer.stateCount();
    if (stateShapes.length !== 2 * n) this.fail(`expected initialState to be ${2 * n} tensors (the forward layer's ${n}, then the backward layer's), got ${stateShapes.length}`);
    this.forwardLayer.checkInitialState(inputShape, stateShapes.slice(0, half));
    this.backwardLayer.checkInitialState(inputShape, stateShapes.slice(half));
  }

  call(x: Tensor, weights: Weights, ctx?: CallContext): Tensor {
    return this.callOutputs(x, weights, ctx)[0]!;
  }

  override callOutputs(x: Tensor, weights: Weights, ctx?: CallContext): Tensor[] {
    const part = (prefix: string) => Object.fromEntries(Object.entries(weights).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
    const n = this.forwardLayer.stateCount();
    const given = ctx?.initialState;
    if (given && given.length !== 2 * n) this.fail(`expected initialState to be ${2 * n} tensors (the forward layer's ${n}, then the backward layer's), got ${given.length}`);
    const options = { training: ctx?.training ?? false, mask: ctx?.mask, aligned: true, zeroMaskedOutputs: this.forwardLayer.returnSequences };
    const fw = this.forwardLayer.run(x, part('forward/'), { ...options, initialState: given?.slice(0, n) });
    const bw = this.backwardLayer.run(x, part('backward/'), { ...options, initialState: given?.slice(n) });
    const states = this.forwardLayer.returnState ? [...fw.states, ...bw.states] : [];
    return [...this.merge(fw.output, bw.output), ...states];
  }

  private merge(fw: Tensor, bw: Tensor): Tensor[] {
    switch (this.mergeMode) {
      case 'concat': return [F.concat([fw, bw], -1)];
      case 'sum': return [F.add(fw, bw)];
      case 'mul': return [F.mul(fw, bw)];
      case 'ave': return [F.mul(F.add(fw, bw), 0.5)];
      case null: return [fw, bw];
    }
  }

  override getConfig(): object {
    return { ...super.getConfig(), layer: { className: this.forwardLayer.className, config: this.forwardLayer.getConfig() }, mergeMode: this.mergeMode };
  }
}

/** @example kiln.layers.bidirectional({ layer: kiln.layers.gru({ units: 16 }), mergeMode: 'sum' }) */
export const bidirectional = (args: BidirectionalArgs): Bidirectional => new Bidirectional(args);
