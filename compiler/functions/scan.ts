/**
 * @file `kiln.scan(fn, init, xs)`: a loop over a leading axis whose body is
 * traced once into the `scan` primitive (jax.lax.scan's contract), and
 * `scanParts`, which reads a scan's results out of its packed value.
 */
import { Builder, currentBuilder, withBuilder } from '../builder.js';
import { userError } from '../errors.js';
import type { Graph } from '../ir.js';
import { scanPacking, scanResultTypes, type ScanParams } from '../ops/scan.js';
import { captureOrigin } from '../source.js';
import { apply, Tensor } from '../tensor.js';
import { BATCH, formatType } from '../types.js';
import { transpose } from './movement.js';
import { scalar } from './util.js';

/** A tensor, or arrays and records of them (nested): what a scan carries, slices and stacks. */
export type ScanTree = Tensor | readonly ScanTree[] | { readonly [key: string]: ScanTree };

export interface ScanOptions {
  /** Number of steps; required when `xs` is null, else it must equal the sliced axis's size. */
  length?: number;
  /** Run from the last step to the first (outputs stay in step order, as jax.lax.scan's `reverse`). */
  reverse?: boolean;
  /** The axis of every `xs` leaf to slice and of every output to stack along (default 0). */
  axis?: number;
  /**
   * Run only the first `steps` steps (an int32 scalar tensor, or a number), a
   * run-time count up to the length: a compiled function then serves every
   * sequence length up to it, padded to it. The outputs of the steps not run are
   * zeros; with `reverse` the loop starts at step `steps − 1`. A count outside
   * [0, length] is an error when the loop runs.
   */
  steps?: Tensor | number;
}

type Shape = { kind: 'leaf' } | { kind: 'array'; items: Shape[] } | { kind: 'record'; keys: string[]; items: Shape[] } | { kind: 'none' };

function flatten(tree: unknown, what: string, origin: string | undefined, leaves: Tensor[] = []): { shape: Shape; leaves: Tensor[] } {
  if (tree instanceof Tensor) return (leaves.push(tree), { shape: { kind: 'leaf' }, leaves });
  if (tree === undefined || tree === null) return { shape: { kind: 'none' }, leaves };
  if (Array.isArray(tree)) return { shape: { kind: 'array', items: tree.map((t, i) => flatten(t, `${what}[${i}]`, origin, leaves).shape) }, leaves };
  if (typeof tree === 'object' && Object.getPrototypeOf(tree) === Object.prototype) {
    const keys = Object.keys(tree);
    return { shape: { kind: 'record', keys, items: keys.map((k) => flatten((tree as Record<string, unknown>)[k], `${what}.${k}`, origin, leaves).shape) }, leaves };
  }
  throw userError('scan', `expected ${what} to be a Tensor or arrays/records of Tensors, got ${typeof tree}`, origin);
}

function unflatten(shape: Shape, leaves: readonly Tensor[], at = { i: 0 }): ScanTree | undefined {
  if (shape.kind === 'leaf') return leaves[at.i++]!;
  if (shape.kind === 'none') return undefined;
  if (shape.kind === 'array') return shape.items.map((s) => unflatten(s, leaves, at)!);
  return Object.fromEntries(shape.keys.map((k, i) => [k, unflatten(shape.items[i]!, leaves, at)])) as ScanTree;
}

const sameStructure = (a: Shape, b: Shape): boolean =>
  a.kind === b.kind && (a.kind === 'leaf' || a.kind === 'none' || (a.items.length === (b as typeof a).items.length && a.items.every((s, i) => sameStructure(s, (b as typeof a).items[i]!)) && (a.kind !== 'record' || a.keys.join() === (b as typeof a).keys.join())));

/** `options.steps` as an int32 scalar tensor. */
function stepCount(steps: Tensor | number, length: number, origin: string | undefined): Tensor {
  if (typeof steps === 'number') {
    if (!Number.isInteger(steps) || steps < 0 || steps > length) throw userError('scan', `expected options.steps to be an integer in [0, ${length}], got ${steps}`, origin);
    return scalar(steps, 'int32');
  }
  if (!(steps instanceof Tensor) || steps.dtype !== 'int32' || steps.rank !== 0) throw userError('scan', `expected options.steps to be an int32 scalar tensor or a number, got ${steps instanceof Tensor ? formatType(steps.type) : typeof steps}`, origin);
  return steps;
}

/** Moves axis `from` of `x` to `to`. */
function moveAxis(x: Tensor, from: number, to: number): Tensor {
  if (from === to) return x;
  const perm = x.shape.map((_, i) => i).filter((i) => i !== from);
  perm.splice(to, 0, from);
  return transpose(x, perm);
}

/** The params of a scan's `scanPart` nodes, in packing order (final carries, stacked outputs, saved carries). */
function partParams(p: ScanParams['scan']): ScanParams['scanPart'][] {
  const types = scanResultTypes(p);
  const { offsets, batched } = scanPacking(types);
  return types.map((type, index) => ({ index, offset: offsets[index]!, batched, type }));
}

/** The results of a scan node, in packing order (final carries, stacked outputs, saved carries). */
export function scanParts(packed: Tensor, p: ScanParams['scan']): Tensor[] {
  return partParams(p).map((q) => apply('scanPart', [packed], q));
}

/** A traced body and what a scan node needs besides its inputs: reusable for inputs of the same types (`scanReusing`). */
interface Traced {
  readonly params: ScanParams['scan'];
  readonly parts: readonly ScanParams['scanPart'][];
  readonly carry: Shape;
  readonly ys: Shape;
}

/** A scan's arguments, checked: the trees flattened, the sequences moved to axis 0, the step count. */
interface Args { carry: { shape: Shape; leaves: Tensor[] }; xTree: { shape: Shape; leaves: Tensor[] }; sequences: Tensor[]; length: number; steps: Tensor | undefined }

function checkArgs(fn: unknown, init: unknown, xs: unknown, options: ScanOptions, origin: string | undefined): Args {
  if (typeof fn !== 'function') throw userError('scan', `expected a function (carry, x) => [carry, y], got ${typeof fn}`, origin);
  const axis = options.axis ?? 0;
  const carry = flatten(init, 'init', origin);
  const xTree = flatten(xs, 'xs', origin);
  for (const [k, t] of carry.leaves.entries()) if (t.dtype !== 'float32') throw userError('scan', `expected float32 carries, got ${formatType(t.type)} for carry ${k}`, origin);
  for (const [k, t] of xTree.leaves.entries()) {
    if (t.dtype !== 'float32') throw userError('scan', `expected float32 xs, got ${formatType(t.type)} for xs leaf ${k}`, origin);
    if (!Number.isInteger(axis) || axis < 0 || axis >= t.rank) throw userError('scan', `expected an axis of xs leaf ${k} ${formatType(t.type)} (0…${t.rank - 1}), got ${axis}`, origin);
    if (t.shape[axis] === BATCH) throw userError('scan', `cannot loop over the dynamic batch axis ${axis} of xs leaf ${k} ${formatType(t.type)}`, origin);
  }
  const lengths = [...new Set(xTree.leaves.map((t) => t.shape[axis] as number))];
  if (lengths.length > 1) throw userError('scan', `expected every xs leaf to have the same size along axis ${axis}, got ${lengths.join(' and ')}`, origin);
  const length = lengths[0] ?? options.length;
  if (length === undefined) throw userError('scan', 'expected xs, or options.length when xs is null', origin);
  if (options.length !== undefined && options.length !== length) throw userError('scan', `options.length is ${options.length} but xs has ${length} steps along axis ${axis}`, origin);
  if (!Number.isInteger(length) || length < 1) throw userError('scan', `expected at least one step, got length ${length}`, origin);
  const sequences = xTree.leaves.map((t) => moveAxis(t, axis, 0));
  const steps = options.steps === undefined ? undefined : stepCount(options.steps, length, origin);
  return { carry, xTree, sequences, length, steps };
}

/** Traces `fn` (given `consts` as a third argument) into a body graph; the outer tensors it captured, in input order. */
function trace(fn: (carry: never, x: never, consts: never) => unknown, a: Args, consts: readonly Tensor[] | undefined, options: ScanOptions, origin: string | undefined): { traced: Traced; captured: Tensor[] } {
  const { carry, xTree, sequences } = a;
  const b = new Builder(currentBuilder(), true);
  // a PyTorch-style step traces the body on every call: its nodes take the scan's line rather than
  // capturing a stack per op (lazy nodes carry no origin either); shape errors still name the op's line
  if ([...carry.leaves, ...sequences].some((t) => t.isLazy || t.requiresGrad)) b.originOverride = origin;
  let yShape: Shape = { kind: 'none' };
  const body: Graph = withBuilder(b, () => {
    const c = carry.leaves.map((t, k) => b.input(`carry_${k}`, 'data', t.type, origin));
    const x = sequences.map((t, k) => b.input(`x_${k}`, 'data', { dtype: t.dtype, shape: t.type.shape.slice(1) }, origin));
    const result = fn(unflatten(carry.shape, c) as never, (unflatten(xTree.shape, x) ?? null) as never, consts as never);
    if (!Array.isArray(result) || result.length !== 2) throw userError('scan', `expected the body to return [newCarry, y], got ${Array.isArray(result) ? `an array of ${result.length}` : typeof result}`, origin);
    const next = flatten(result[0], 'the new carry', origin);
    if (!sameStructure(next.shape, carry.shape)) throw userError('scan', 'the body must return a new carry with the same structure as init', origin);
    next.leaves.forEach((t, k) => {
      if (t.dtype !== carry.leaves[k]!.dtype || t.shape.join() !== carry.leaves[k]!.shape.join()) {
        throw userError('scan', `the carried state must keep its shape and dtype: carry ${k} is ${formatType(carry.leaves[k]!.type)} in init but the body returns ${formatType(t.type)}`, origin);
      }
    });
    const ys = flatten(result[1], 'y', origin);
    ys.leaves.forEach((t, k) => {
      if (t.dtype !== 'float32') throw userError('scan', `expected float32 per-step outputs, got ${formatType(t.type)} for y leaf ${k}`, origin);
    });
    yShape = ys.shape;
    return b.finish([...next.leaves, ...ys.leaves].map((tensor, i) => ({ name: `out_${i}`, tensor })));
  });
  if (body.updates.length > 0) throw userError('scan', 'the body may not assign to parameters or state', origin);
  const plain: ScanParams['scan'] = { body, length: a.length, carries: carry.leaves.length, xs: sequences.length, reverse: options.reverse ?? false, save: true };
  const params = a.steps ? { ...plain, counted: true } : plain;
  return { traced: { params, parts: partParams(params), carry: carry.shape, ys: yShape }, captured: b.captured };
}

/** The scan node of a traced body over these inputs, and its results as the caller's trees. */
function record<C, Y>(t: Traced, a: Args, captured: readonly Tensor[], axis: number): [C, Y] {
  const packed = apply('scan', [...a.carry.leaves, ...a.sequences, ...captured, ...(a.steps ? [a.steps] : [])], t.params);
  const parts = t.parts.map((q) => apply('scanPart', [packed], q));
  const carries = a.carry.leaves.length;
  const finals = parts.slice(0, carries);
  const ys = parts.slice(carries, t.params.body.outputs.length).map((y) => moveAxis(y, 0, axis));
  return [unflatten(t.carry, finals) as C, unflatten(t.ys, ys) as Y];
}

/**
 * A loop whose body is traced once: `fn(carry, x)` returns `[newCarry, y]`; scan
 * runs it for every step along axis 0 of `xs` (each leaf sliced), threading the
 * carry, and returns `[finalCarry, ys]` with every `y` leaf stacked along axis 0.
 * Carries, xs and ys are Tensors or nested arrays/records of them (float32); a
 * carry must keep its shape and dtype. The loop stays a loop when compiled (the
 * body is emitted once) and differentiates as a reverse scan. Tensors the body
 * uses from outside (weights) are captured and get gradients.
 * @example
 * // a cumulative sum: carry the running total, emit it every step
 * const [total, sums] = kiln.scan((c, x) => { const s = kiln.add(c, x); return [s, s]; }, kiln.zeros([3]), xs); // xs [T, 3]
 */
export function scan<C extends ScanTree, X extends ScanTree | null, Y extends ScanTree | undefined>(
  fn: (carry: C, x: X) => readonly [C, Y], init: C, xs: X, options: ScanOptions = {},
): [C, Y] {
  const origin = captureOrigin();
  const a = checkArgs(fn, init, xs, options, origin);
  const { traced, captured } = trace(fn, a, undefined, options, origin);
  return record(traced, a, captured, options.axis ?? 0);
}

/** Traces kept by `scanReusing`, by caller key and argument types; the oldest goes beyond this many. */
const REUSED_TRACES = 64;

const typesKey = (ts: readonly Tensor[]): string => ts.map((t) => formatType(t.type)).join(' ');

/**
 * `scan` for a body that depends on nothing but its arguments (a recurrent
 * module's cell), so a PyTorch-style loop does not trace it again on every
 * call: `fn(carry, x, consts)` reads outer tensors (weights) only through
 * `consts`, and the trace is kept in `cache` under `key` (which names `fn`)
 * and the types of init, xs and consts, and reused for later calls with
 * tensors of those types. Traces are kept only outside a trace (lazy and
 * eager calls) and when every tensor the body captured is one of `consts`
 * and every const is lazy or requires grad (a plain tensor would be baked into
 * the body as a constant); otherwise this is `scan`.
 * @example
 * const [h, hs] = scanReusing(traces, 'rnnTanh', (h, x, [w]) => [kiln.tanh(kiln.add(x, kiln.matmul(h, w))), ...], h0, xs, [wT]);
 */
export function scanReusing<C extends ScanTree, X extends ScanTree | null, Y extends ScanTree | undefined>(
  cache: Map<string, unknown>, key: string, fn: (carry: C, x: X, consts: readonly Tensor[]) => readonly [C, Y], init: C, xs: X, consts: readonly Tensor[], options: ScanOptions = {},
): [C, Y] {
  let cheap: Args | undefined; // the arguments' structure and types name the trace; checking them needs no origin unless one is wrong
  if (currentBuilder() === undefined && consts.every((t) => t.isLazy || t.requiresGrad)) {
    try { cheap = checkArgs(fn, init, xs, options, undefined); } catch { cheap = undefined; } // checked again below, naming the line
  }
  const id = cheap && [key, JSON.stringify([cheap.carry.shape, cheap.xTree.shape]), typesKey(cheap.carry.leaves), typesKey(cheap.sequences), typesKey(consts),
    cheap.length, options.reverse ?? false, cheap.steps !== undefined, options.axis ?? 0].join('|');
  const hit = id === undefined ? undefined : (cache.get(id) as { traced: Traced; from: readonly number[] } | undefined);
  if (hit) return record(hit.traced, cheap!, hit.from.map((i) => consts[i]!), options.axis ?? 0);
  const origin = captureOrigin();
  const a = cheap ?? checkArgs(fn, init, xs, options, origin);
  const { traced, captured } = trace(fn, a, consts, options, origin);
  const from = captured.map((t) => consts.indexOf(t));
  if (id !== undefined && from.every((i) => i >= 0)) {
    if (cache.size >= REUSED_TRACES) cache.delete(cache.keys().next().value!);
    cache.set(id, { traced, from });
  }
  return record(traced, a, captured, options.axis ?? 0);
}
