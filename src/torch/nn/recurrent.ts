/**
 * PyTorch's recurrent layers (`kiln.nn.RNN`, `LSTM`, `GRU`) with its parameter
 * names (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, … per
 * layer, `…_l0_reverse` for a bidirectional layer's reverse direction), gate order (LSTM i, f, g, o; GRU r, z, n), initialisation
 * (uniform ±1/sqrt(hiddenSize)) and results (`[output, h_n]`, LSTM
 * `[output, [h_n, c_n]]`), so a torch state dict loads as is. The loop over
 * time is a `kiln.scan` over one copy of the cell (compiled as one wasm loop, so
 * compile time does not grow with the sequence length), and each layer's input
 * projection runs as one matmul over all steps. A bidirectional
 * layer concatenates its forward and reverse outputs (2·H features); h_n and
 * c_n then hold [l0 forward, l0 reverse, l1 forward, …].
 * @example
 * const lstm = new kiln.nn.LSTM(8, 16, { batchFirst: true });
 * const [out, [h, c]] = lstm.forward(x); // x [N, T, 8] → out [N, T, 16], h and c [1, N, 16]
 */
import { checkOptions, checkPositiveInt, checkSize, optionKeys } from '../../../compiler/check.js';
import { userError } from '../../../compiler/errors.js';
import * as F from '../../../compiler/functions/index.js';
import { scanReusing } from '../../../compiler/functions/scan.js';
import { nextSeed } from '../../../compiler/random.js';
import { captureOrigin } from '../../../compiler/source.js';
import type { Tensor } from '../../../compiler/tensor.js';
import { formatType } from '../../../compiler/types.js';
import { Parameter } from '../tensors.js';
import * as Fn from './functional.js';
import { fanUniform } from './init.js';
import { Module } from './module.js';

export type RecurrentKind = 'rnnTanh' | 'rnnRelu' | 'lstm' | 'gru';

/** One layer's weights: wIh [G·H, in], wHh [G·H, H], biases [G·H] (G = 1, 4 or 3 gates). */
export interface RecurrentWeights { wIh: Tensor; wHh: Tensor; bIh?: Tensor; bHh?: Tensor }

export interface RecurrentOptions {
  /** Input and output are [N, T, ·] (true) or [T, N, ·] (false, PyTorch's default). */
  batchFirst?: boolean;
  /** Dropout on every layer's output but the last, while training. */
  dropout?: number;
  training?: boolean;
  seed?: number;
  /** Two weight sets per layer, forward and reverse; outputs concatenate both (2·H features). */
  bidirectional?: boolean;
}

const gateCount: Record<RecurrentKind, number> = { rnnTanh: 1, rnnRelu: 1, lstm: 4, gru: 3 };

/** h·W_hhᵀ + b_hh (`Fn.linear`), with W_hhᵀ made once outside the loop and handed to the body. */
function hiddenLinear(h: Tensor, wT: Tensor, b: Tensor | undefined): Tensor {
  const y = F.matmul(h, wT);
  return b ? F.add(y, b) : y;
}

/** One time step of one layer: `xw` is x·W_ihᵀ + b_ih for this step, `wT` W_hhᵀ, `b` b_hh; the new h (and c). */
const cells: Record<RecurrentKind, (xw: Tensor, h: Tensor, c: Tensor | undefined, wT: Tensor, b: Tensor | undefined) => [Tensor, Tensor | undefined]> = {
  rnnTanh: (xw, h, _c, wT, b) => [F.tanh(F.add(xw, hiddenLinear(h, wT, b))), undefined],
  rnnRelu: (xw, h, _c, wT, b) => [F.relu(F.add(xw, hiddenLinear(h, wT, b))), undefined],
  lstm: (xw, h, c, wT, b) => {
    const [i, f, g, o] = F.split(F.add(xw, hiddenLinear(h, wT, b)), 4, -1) as [Tensor, Tensor, Tensor, Tensor];
    const next = F.add(F.mul(F.sigmoid(f), c!), F.mul(F.sigmoid(i), F.tanh(g)));
    return [F.mul(F.sigmoid(o), F.tanh(next)), next];
  },
  gru: (xw, h, _c, wT, b) => {
    const [xr, xz, xn] = F.split(xw, 3, -1) as [Tensor, Tensor, Tensor];
    const [hr, hz, hn] = F.split(hiddenLinear(h, wT, b), 3, -1) as [Tensor, Tensor, Tensor];
    const r = F.sigmoid(F.add(xr, hr));
    const z = F.sigmoid(F.add(xz, hz));
    const n = F.tanh(F.add(xn, F.mul(r, hn)));
    return [F.add(n, F.mul(z, F.sub(h, n))), undefined]; // (1 − z)·n + z·h
  },
};

/**
 * The cells' traced loop bodies, by kind and the types of what they read: a
 * PyTorch-style loop calls forward every step, and tracing the cell again each
 * time cost about a third of the step's host time. The weights reach the body
 * as its consts (inputs), so one trace serves every module and every call.
 */
const traces = new Map<string, unknown>();

/**
 * One direction of one layer over the whole sequence `seq` [T, N, in]: every
 * step's h stacked in time order [T, N, H] (a reverse direction runs from the
 * last step to the first), and the final h (and c). The input projection runs as
 * one matmul over all steps; the recurrence is one `scan` whose body is the cell,
 * so the compiled loop holds one copy of it. (An unrolled loop measured no
 * faster even at T = 2 and 5, and far slower to compile and run beyond:
 * bench/results-sequences.md.)
 */
function direction(kind: RecurrentKind, seq: Tensor, w: RecurrentWeights, h: Tensor, c: Tensor | undefined, reverse: boolean, batchFirst = false): { outs: Tensor; h: Tensor; c: Tensor | undefined } {
  const [a, b, features] = seq.shape as number[];
  const width = gateCount[kind] * (w.wHh.shape[1] as number);
  const projected = F.reshape(Fn.linear(F.reshape(seq, [a! * b!, features!]), w.wIh, w.bIh), [a!, b!, width]); // all steps at once
  // a batch-first input is projected as it is and the projection moved to [T, N, ·] inside the graph: the input
  // itself (often plain data, which an eager transpose would copy on the host every step) is never transposed
  const xw = batchFirst ? F.transpose(projected, [1, 0, 2]) : projected;
  const cell = cells[kind];
  const consts = [F.transpose(w.wHh, [1, 0]), ...(w.bHh ? [w.bHh] : [])];
  if (c) {
    const [[hT, cT], outs] = scanReusing(traces, kind, ([hs, cs]: Tensor[], x: Tensor, [wT, bias]) => {
      const [h2, c2] = cell(x, hs!, cs, wT!, bias);
      return [[h2, c2!], h2] as const;
    }, [h, c], xw, consts, { reverse });
    return { outs, h: hT!, c: cT };
  }
  const [hT, outs] = scanReusing(traces, kind, (hs: Tensor, x: Tensor, [wT, bias]) => {
    const [h2] = cell(x, hs, undefined, wT!, bias);
    return [h2, h2] as const;
  }, h, xw, consts, { reverse });
  return { outs, h: hT, c: undefined };
}

/**
 * The recurrence over a whole sequence, layer by layer, as a function of its
 * weights (the modules call it; gradient checks can too). `layers` holds one
 * entry per layer, or with `bidirectional` two — [l0 forward, l0 reverse, l1
 * forward, …], PyTorch's order of h_n — and a layer's output is then both
 * directions' features concatenated (2·H). `h0`/`c0` are [layers.length, N, H]
 * (zeros when undefined). Returns the last layer's outputs and the final
 * states, in the input's layout.
 */
export function recurrent(kind: RecurrentKind, x: Tensor, layers: readonly RecurrentWeights[], h0?: Tensor, c0?: Tensor, options: RecurrentOptions = {}): { output: Tensor; h: Tensor; c: Tensor | undefined } {
  const op = kind === 'lstm' ? 'lstm' : kind === 'gru' ? 'gru' : 'rnn';
  const directions = options.bidirectional ? 2 : 1;
  if (layers.length === 0 || layers.length % directions !== 0) throw userError(op, `expected ${directions === 2 ? 'two weight sets (forward, reverse) per layer' : 'at least one layer of weights'}, got ${layers.length}`, captureOrigin());
  const hidden = layers[0]!.wHh.shape[1] as number;
  const inputSize = layers[0]!.wIh.shape[1] as number;
  const layout = options.batchFirst ? '[N, T, features]' : '[T, N, features]';
  if (x.rank !== 3 || x.shape[2] !== inputSize || x.dtype !== 'float32') throw userError(op, `expected a float32 input ${layout} with ${inputSize} features, got ${formatType(x.type)}`, captureOrigin());
  let seq = x; // [T, N, ·] after the first layer (scan loops over the leading axis); the first reads x as given
  const n = x.shape[options.batchFirst ? 0 : 1] as number;
  for (const [what, s] of [['h0', h0], ['c0', c0]] as const) {
    if (s && (s.rank !== 3 || s.shape[0] !== layers.length || s.shape[1] !== n || s.shape[2] !== hidden)) throw userError(op, `expected ${what} of shape [${layers.length},${n},${hidden}], got ${formatType(s.type)}`, captureOrigin());
  }
  const zeros = F.zeros([n, hidden]);
  const initial = (s: Tensor | undefined, k: number) => (s ? F.reshape(F.slice(s, [k, 0, 0], [1, n, hidden]), [n, hidden]) : zeros);
  const hs: Tensor[] = [];
  const cs: Tensor[] = [];
  const depth = layers.length / directions;
  for (let l = 0; l < depth; l++) {
    const outs: Tensor[] = [];
    for (let d = 0; d < directions; d++) {
      const k = l * directions + d;
      const r = direction(kind, seq, layers[k]!, initial(h0, k), kind === 'lstm' ? initial(c0, k) : undefined, d === 1, l === 0 && options.batchFirst);
      outs.push(r.outs);
      hs.push(r.h);
      if (r.c) cs.push(r.c);
    }
    seq = directions === 1 ? outs[0]! : F.concat(outs, 2);
    if (options.dropout && options.training && l < depth - 1) seq = Fn.dropout(seq, options.dropout, true, options.seed === undefined ? undefined : options.seed + l);
  }
  return { output: options.batchFirst ? F.transpose(seq, [1, 0, 2]) : seq, h: F.stack(hs, 0), c: cs.length ? F.stack(cs, 0) : undefined };
}

export interface RecurrentModuleOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  dropout?: number;
  /** A reverse direction per layer too (`…_reverse` parameters); the output has 2·hiddenSize features. */
  bidirectional?: boolean;
  seed?: number;
}

const recurrentKeys = optionKeys<RecurrentModuleOptions>({ numLayers: true, bias: true, batchFirst: true, dropout: true, bidirectional: true, seed: true });

/** The shared module: parameters named as PyTorch names them, registered layer by layer. */
abstract class RecurrentBase extends Module {
  [parameter: string]: unknown;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  private calls = 0;
  private readonly seed: number;

  constructor(protected readonly kind: RecurrentKind, readonly inputSize: number, readonly hiddenSize: number, options: RecurrentModuleOptions) {
    super();
    const subject = `nn.${kind === 'lstm' ? 'LSTM' : kind === 'gru' ? 'GRU' : 'RNN'}`;
    checkOptions(subject, options, kind === 'rnnTanh' || kind === 'rnnRelu' ? [...recurrentKeys, 'nonlinearity'] : recurrentKeys);
    checkPositiveInt(subject, 'inputSize', inputSize);
    checkPositiveInt(subject, 'hiddenSize', hiddenSize);
    checkSize(subject, 'a weight', [gateCount[kind] * hiddenSize, Math.max(inputSize, 2 * hiddenSize)]);
    this.numLayers = options.numLayers ?? 1;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = options.dropout ?? 0;
    this.bidirectional = options.bidirectional ?? false;
    if (!Number.isInteger(this.numLayers) || this.numLayers < 1) throw userError(subject, `expected numLayers >= 1, got ${options.numLayers}`, captureOrigin());
    if (!(this.dropout >= 0 && this.dropout < 1)) throw userError(subject, `expected dropout in [0, 1), got ${this.dropout}`, captureOrigin());
    this.seed = options.seed ?? nextSeed();
    const width = gateCount[kind] * hiddenSize;
    let seed = this.seed;
    for (const suffix of this.suffixes()) {
      const inner = suffix.startsWith('l0') ? inputSize : hiddenSize * (this.bidirectional ? 2 : 1); // later layers read both directions
      const shapes: [string, number[]][] = [[`weight_ih_${suffix}`, [width, inner]], [`weight_hh_${suffix}`, [width, hiddenSize]]];
      if (options.bias !== false) shapes.push([`bias_ih_${suffix}`, [width]], [`bias_hh_${suffix}`, [width]]);
      for (const [name, shape] of shapes) this[name] = new Parameter(fanUniform(shape, hiddenSize, seed++));
    }
  }

  /** PyTorch's name suffixes in its order: `l0`, `l0_reverse`, `l1`, … */
  private suffixes(): string[] {
    return Array.from({ length: this.numLayers }, (_, l) => (this.bidirectional ? [`l${l}`, `l${l}_reverse`] : [`l${l}`])).flat();
  }

  /** Each layer's weights (forward, then reverse when bidirectional), as `recurrent` takes them. */
  layerWeights(): RecurrentWeights[] {
    return this.suffixes().map((s) => ({
      wIh: this[`weight_ih_${s}`] as Tensor, wHh: this[`weight_hh_${s}`] as Tensor,
      bIh: this[`bias_ih_${s}`] as Tensor | undefined, bHh: this[`bias_hh_${s}`] as Tensor | undefined,
    }));
  }

  protected run(x: Tensor, h0?: Tensor, c0?: Tensor): { output: Tensor; h: Tensor; c: Tensor | undefined } {
    return recurrent(this.kind, x, this.layerWeights(), h0, c0, { batchFirst: this.batchFirst, bidirectional: this.bidirectional, dropout: this.dropout, training: this.training, seed: (this.seed + 0x9e3779b9 * ++this.calls) >>> 0 });
  }
}

/**
 * Elman RNN: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu).
 * @example const [out, h] = new kiln.nn.RNN(3, 8, { batchFirst: true }).forward(x);
 */
export class RNN extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentModuleOptions & { nonlinearity?: 'tanh' | 'relu' } = {}) {
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw userError('nn.RNN', `expected nonlinearity 'tanh' or 'relu', got '${String(nl)}'`, captureOrigin());
    super(nl === 'tanh' ? 'rnnTanh' : 'rnnRelu', inputSize, hiddenSize, options);
  }
  /** x [N, T, in] (batchFirst) or [T, N, in]; h0 [layers·directions, N, H]. Returns [output, h_n]. */
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const { output, h } = this.run(x, h0);
    return [output, h];
  }
}

/**
 * LSTM with gates i, f, g, o: c' = σ(f)·c + σ(i)·tanh(g), h' = σ(o)·tanh(c').
 * @example const [out, [h, c]] = new kiln.nn.LSTM(3, 8).forward(x, [h0, c0]);
 */
export class LSTM extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentModuleOptions = {}) { super('lstm', inputSize, hiddenSize, options); }
  /** Returns [output, [h_n, c_n]]. */
  forward(x: Tensor, state?: readonly [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const { output, h, c } = this.run(x, state?.[0], state?.[1]);
    return [output, [h, c!]];
  }
}

/**
 * GRU with gates r, z, n: n = tanh(x·W_inᵀ + b_in + r·(h·W_hnᵀ + b_hn)), h' = (1 − z)·n + z·h.
 * @example const [out, h] = new kiln.nn.GRU(3, 8, { numLayers: 2 }).forward(x);
 */
export class GRU extends RecurrentBase {
  constructor(inputSize: number, hiddenSize: number, options: RecurrentModuleOptions = {}) { super('gru', inputSize, hiddenSize, options); }
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const { output, h } = this.run(x, h0);
    return [output, h];
  }
}
