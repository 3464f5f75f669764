/**
 * @file Lazy tensors (the PyTorch-style front end's engine). An op on a tensor
 * that is lazy or requires grad does not run: `apply` records it as a node of a
 * JS-object DAG (`LazyNode`). Leaves are concrete tensors (data) and `Storage`s:
 * persistent values (parameters, buffers, optimizer state, gradients) that may
 * live on the host or in a compiled module's memory. `backward()` records a
 * `GradRequest`; an optimizer's step adds an `Updater` (its update rule) and
 * storage assignments.
 *
 * Realization (reading a value, or a step) lowers the needed part of the DAG
 * into a `Graph` — leaves become named inputs, gradient requests run the
 * autodiff pass, updaters add `assign`s — and runs it. Two caches keep the
 * steady state cheap: a structural key built while walking the DAG maps to the
 * lowered plan (no graph is rebuilt for a DAG seen before), and the plan's
 * `hashGraph` maps to a compiled program.
 *
 * Policy: a plan of ops the interpreter computes bit for bit as the compiled
 * module does (float32 arithmetic, data movement, float64-accumulated sums:
 * `EXACT`) runs in the reference interpreter until its hash has been realized
 * `compileAt` times (default 2: one-off reads never compile); from then on it
 * runs compiled. Any other plan — a training step, one with a matmul, a
 * convolution or a transcendental op, or a heavy one — compiles at its first
 * realization, so a value never comes from both (a seeded run repeats bit for
 * bit however it is run), unless compileAt is Infinity (always interpret).
 * Compiling is asynchronous, so a step that needs a program still being built
 * is queued: async reads (`await t.item()`) wait for the queue; sync reads
 * (`itemSync`, `.value`) build it now with the backend's blocking compile.
 * The compiled back end is plugged in by `src/torch` (`setBackend`); without one
 * everything runs in the interpreter.
 */
import { backward as reverse } from './autodiff.js';
import { Builder, withBuilder } from './builder.js';
import { checkOptions, describe } from './check.js';
import { KilnError, userError } from './errors.js';
import { hashGraph, type Graph } from './ir.js';
import { interpret } from './interpret.js';
import type { Value } from './ops/op.js';
import type { OpName } from './ops/index.js';
import { captureOrigin } from './source.js';
import { apply, Tensor } from './tensor.js';
import { formatType, sameType, type TensorType } from './types.js';

export interface OpNode {
  readonly kind: 'op';
  readonly op: OpName;
  readonly inputs: readonly Tensor[];
  readonly params: object;
  /** The mutation counter when recorded: storages written later make this node stale. */
  readonly epoch: number;
}
export interface StorageNode { readonly kind: 'storage'; readonly storage: Storage }
/** Gradient `index` of a backward call (of its root with respect to its leaves). */
export interface GradNode { readonly kind: 'grad'; readonly request: GradRequest; readonly index: number }
export type LazyNode = OpNode | StorageNode | GradNode;

/** One `backward()` call: d root / d leaves, seeded with `seed` (ones when undefined). */
export class GradRequest {
  constructor(readonly root: Tensor, readonly seed: Tensor | undefined, readonly leaves: readonly Tensor[]) {}
}

/** Where a storage's latest value lives when it is not on the host (a compiled module's slot). */
export interface Holder { fetch(): Value }

let mutations = 0;
let storageCount = 0;

/**
 * A persistent value: a parameter, buffer, optimizer state or gradient. Its
 * latest value is on the host, or in a compiled module (`holder`) until read.
 */
export class Storage {
  /** Bumped whenever the value changes (compiled modules compare it before uploading). */
  version = 0;
  /** The mutation counter when a write was last scheduled (staleness checks). */
  writtenAt = 0;
  readonly id = storageCount++;
  /** A lazy assignment recorded but not yet realized (batch norm's running statistics). */
  pending: Tensor | undefined;
  readonly leaf: Tensor;
  private host: Value | undefined;
  private holder: Holder | undefined;

  constructor(initial: Value, public label: string, readonly kind: 'parameter' | 'state', requiresGrad = false) {
    this.host = initial;
    this.leaf = Tensor.lazyOf({ dtype: initial.dtype, shape: initial.shape }, { kind: 'storage', storage: this }, requiresGrad);
  }

  get type(): TensorType { return this.leaf.type; }

  /** The current value, after every queued step and pending assignment. */
  read(): Value {
    drainSync();
    if (this.pending) realizeSync([], [[this, this.pending]]);
    return this.peek();
  }

  /** The value as of now, without running anything (for runners). */
  peek(): Value {
    if (!this.host) this.host = this.holder!.fetch();
    return this.host;
  }

  /** The tensor that reads this storage from now on (its pending assignment if any). */
  current(): Tensor { return this.pending ?? this.leaf; }

  /** Replaces the value from the host. */
  write(v: Value): void {
    if (!sameType(v, this.type)) throw userError(this.label, `expected a value of type ${formatType(this.type)}, got ${formatType(v)}`);
    drainSync();
    this.pending = undefined;
    pendingStorages.delete(this);
    this.touch();
    this.settle(v, undefined);
  }

  /** Records `value` as this storage's next value, realized with the next step or read. */
  assign(value: Tensor): void {
    if (!sameType(value.type, this.type)) throw userError(this.label, `expected a value of type ${formatType(this.type)}, got ${formatType(value.type)}`);
    this.pending = value;
    pendingStorages.add(this);
  }

  /** A run has written the value: it is `host`, or lives in `holder`. */
  settle(host: Value | undefined, holder: Holder | undefined): void {
    this.host = host;
    this.holder = holder;
    this.version++;
  }

  /** Moves the value to the host if it lives in `holder` (before the holder's memory is reused). */
  evict(holder: Holder): void {
    if (this.holder === holder && !this.host) this.host = holder.fetch();
    if (this.holder === holder) this.holder = undefined;
  }

  touch(): void { this.writtenAt = ++mutations; }
}

const pendingStorages = new Set<Storage>();

// ---- grad mode ------------------------------------------------------------------------

let gradEnabled = true;

/** Whether new ops record gradients (false inside `noGrad`). */
export function isGradEnabled(): boolean { return gradEnabled; }

/**
 * Runs `fn` without recording gradients: its results do not require grad.
 * @example const logits = kiln.noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw userError('noGrad', `expected a function to run without gradients, got ${describe(fn)}`, captureOrigin());
  const saved = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = saved;
  }
}

/** `apply`'s lazy branch: a node of the pending DAG. */
export function recordLazy(op: OpName, inputs: readonly Tensor[], params: object, type: TensorType): Tensor {
  const requiresGrad = gradEnabled && inputs.some((t) => t.requiresGrad);
  return Tensor.lazyOf(type, { kind: 'op', op, inputs, params, epoch: mutations }, requiresGrad);
}

/** `t.backward(gradient)`: records d t / d every leaf that requires grad, accumulated into `.grad`. */
export function backward(t: Tensor, gradient: Tensor | undefined): void {
  if (!t.requiresGrad) throw userError('backward', `expected a tensor that requires grad, got ${formatType(t.type)} that does not (its inputs do not require grad, or it was made under noGrad or by detach())`, captureOrigin());
  if (gradient === undefined && t.size !== 1) throw userError('backward', `expected a scalar (one element) or a gradient argument, got ${formatType(t.type)}; pass the upstream gradient, e.g. y.backward(kiln.onesLike(y))`, captureOrigin());
  if (gradient !== undefined && (!(gradient instanceof Tensor) || !sameType(gradient.type, t.type))) {
    throw userError('backward', `expected a gradient of type ${formatType(t.type)}, got ${gradient instanceof Tensor ? formatType(gradient.type) : typeof gradient}`, captureOrigin());
  }
  if (t.backwardCalls > 0 && !t.retainGraph) {
    throw userError('backward', `tried to backward through the graph of ${formatType(t.type)} a second time; pass { retainGraph: true } to the first backward() to do that`, captureOrigin());
  }
  t.backwardCalls++;
  const leaves: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack = [t];
  while (stack.length) {
    const x = stack.pop()!;
    if (seen.has(x) || !x.requiresGrad) continue;
    seen.add(x);
    if (x.lazy?.kind === 'op') stack.push(...x.lazy.inputs);
    else leaves.push(x); // a parameter or a concrete tensor that requires grad
  }
  const request = new GradRequest(t, gradient, leaves);
  noGrad(() => leaves.forEach((leaf, index) => {
    const g = Tensor.lazyOf(leaf.type, { kind: 'grad', request, index }, false);
    leaf.grad = leaf.grad ? leaf.grad.add(g) : g;
  }));
}

// ---- lowering ---------------------------------------------------------------------------

/** What an optimizer's step adds to a realization. */
export interface Updater {
  /** The update's configuration, as part of the structural key. */
  readonly key: string;
  /** Tensors the update reads: they become nodes or inputs of the graph. */
  readonly reads: readonly Tensor[];
  /** Inside the builder: records the updates (`assign`); `sym` gives a read tensor's node. */
  emit(sym: (t: Tensor) => Tensor): void;
  /** The storage (state) or value (a runtime scalar) of an input `emit` made, by name. */
  bind(name: string, leafByName: (name: string) => Tensor | undefined): Storage | Value;
}

export type Binding = Storage | Value;

interface Plan {
  readonly graph: Graph;
  readonly hash: string;
  /** Every op of the graph runs the same in the interpreter (see EXACT). */
  readonly exact: boolean;
  /** Estimated multiply-adds and element operations of one run: what the interpreter would grind through. */
  readonly work: number;
}

/**
 * Above this much work (≈ a second or more in the reference interpreter, more
 * than a compile costs) a plan compiles at its first realization.
 */
const HEAVY_WORK = 5e7;

/**
 * Ops whose reference semantics the compiled code reproduces bit for bit:
 * float32 arithmetic rounded per op, comparisons, data movement, and sums
 * accumulated in float64 in row-major order as the interpreter does. A plan of
 * these alone may run in the interpreter; any other op (GEMM and convolution
 * kernels with their own summation order, polynomial exp/log/tanh…) makes the
 * plan compile at its first realization, so one value never comes from both.
 */
const EXACT = new Set<string>([
  'input', 'constant', 'add', 'sub', 'mul', 'div', 'neg', 'abs', 'sign', 'square', 'sqrt', 'maximum', 'minimum', 'relu',
  'floor', 'ceil', 'round', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalNot', 'where', 'cast',
  'reshape', 'transpose', 'slice', 'concat', 'pad', 'gather', 'broadcastTo', 'stopGradient', 'dimSize', 'sum', 'max', 'min', 'argmax', 'argmin',
]);

const exactOnly = (g: Graph): boolean => g.nodes.every((n) => EXACT.has(n.op));

/** The work of one run of `g`: products for matmuls and convolutions, elements for the rest. */
function workOf(g: Graph): number {
  const size = (shape: readonly unknown[]) => shape.reduce<number>((a, d) => a * (typeof d === 'number' ? d : 64), 1);
  let work = 0;
  for (const n of g.nodes) {
    const out = size(n.type.shape);
    if (n.op === 'matmul') {
      const a = g.nodes[n.inputs[0]!]!.type.shape;
      const p = n.params as { transposeA?: boolean; contract?: boolean };
      work += out * (p.contract ? size(a.slice(0, -1)) : ((p.transposeA ? a[a.length - 2] : a[a.length - 1]) as number));
    } else if (n.op === 'conv2d' || n.op === 'conv2dBackpropInput' || n.op === 'conv2dBackpropFilter') {
      // every output element of the op takes a window of the filter: its size over the output channels
      const filter = n.op === 'conv2dBackpropFilter' ? n.type.shape : g.nodes[n.inputs[1]!]!.type.shape;
      const window = size(filter) / (filter[filter.length - 1] as number);
      work += (n.op === 'conv2dBackpropFilter' ? size(g.nodes[n.inputs[1]!]!.type.shape) * window : out * window);
    } else if (n.op === 'scan') {
      const { body, length } = n.params as { body: Graph; length: number };
      work += length * workOf(body); // the body runs once a step
    } else {
      work += out;
    }
  }
  return work;
}

/** A realization, ready to run: a plan and what its inputs bind to. */
export interface Job {
  readonly plan: Plan;
  readonly bindings: readonly (readonly [string, Binding])[];
  readonly targets: readonly Tensor[];
  /** Updated inputs and their storages. */
  readonly updates: readonly (readonly [string, Storage])[];
  done: boolean;
  promise?: Promise<void>;
}

/** Runs a job's graph: the interpreter, or a compiled program. */
export interface Runner {
  run(job: Job): Record<string, Value>;
}

export interface Backend {
  compile(graph: Graph, hash: string): Promise<Runner>;
  /** The same, blocking until built: what a synchronous read uses instead of the interpreter. */
  compileSync?(graph: Graph, hash: string): Runner;
}

const typeKey = (t: TensorType) => formatType(t);
const paramKeys = new WeakMap<object, string>();
/** An op's params as text, once per params object: params are not changed after an op is recorded, and a reused one (a scan's, which holds its body graph) is long. */
function paramKey(p: object): string {
  let key = paramKeys.get(p);
  if (key === undefined) paramKeys.set(p, (key = JSON.stringify(p, (_, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v))));
  return key;
}

/** Walks the DAG from the targets: the structural key, the nodes in order and the leaves. */
class Lowering {
  readonly order: Tensor[] = [];
  readonly parts: string[] = [];
  readonly names = new Map<Tensor, string>();
  readonly index = new Map<Tensor, number>();
  readonly requests: GradRequest[] = [];
  private leafCount = 0;

  constructor(private readonly differentiating: boolean) {}

  visit(t: Tensor): number {
    const known = this.index.get(t);
    if (known !== undefined) return known;
    const node = t.lazy;
    let part: string;
    if (node?.kind === 'op' && !(t.realized && !(this.differentiating && t.requiresGrad))) {
      for (const x of node.inputs) if (x.lazy?.kind === 'storage') checkFresh(x.lazy.storage, node);
      const ins = node.inputs.map((x) => this.visit(x));
      const cut = !t.requiresGrad && node.inputs.some((x) => x.requiresGrad) ? '!' : '';
      part = `${node.op}(${ins.join(',')})${cut} ${paramKey(node.params)} ${typeKey(t.type)}`;
    } else if (node?.kind === 'grad') {
      part = `grad r${this.request(node.request)}.${node.index}`;
    } else if (node?.kind === 'storage') {
      this.names.set(t, `${node.storage.kind === 'parameter' ? 'p' : 's'}${this.leafCount++}`);
      part = `${node.storage.kind} ${typeKey(t.type)}${t.requiresGrad ? ' g' : ''}`;
    } else if (!node && t.rank === 0 && !t.requiresGrad) {
      part = `const ${typeKey(t.type)} ${t.realized!.data[0]}`;
    } else {
      this.names.set(t, `x${this.leafCount++}`);
      part = `data ${typeKey(t.type)}${t.requiresGrad ? ' g' : ''}`;
    }
    const i = this.order.length;
    this.order.push(t);
    this.parts.push(part);
    this.index.set(t, i);
    return i;
  }

  private request(r: GradRequest): number {
    const known = this.requests.indexOf(r);
    if (known >= 0) return known;
    const root = this.visit(r.root);
    const seed = r.seed ? this.visit(r.seed) : -1;
    const leaves = r.leaves.map((l) => this.visit(l));
    this.requests.push(r);
    this.parts.push(`request ${root} ${seed} [${leaves.join(',')}]`);
    return this.requests.length - 1;
  }

  /** Builds the graph: leaves as inputs, ops re-applied, gradients by the autodiff pass. */
  build(targets: readonly Tensor[], assigns: readonly (readonly [Storage, Tensor])[], updater: Updater | undefined): Graph {
    const b = new Builder();
    b.originOverride = ''; // no stack capture per node: lazy nodes carry no origin
    const sym = new Map<Tensor, Tensor>();
    const grads = new Map<GradRequest, Tensor[]>();
    const get = (t: Tensor) => sym.get(t) ?? t; // constants stay concrete: the builder lifts them
    return withBuilder(b, () => {
      for (const t of this.order) {
        const node = t.lazy;
        const name = this.names.get(t);
        if (name !== undefined) {
          const kind = name[0] === 'p' ? 'parameter' : name[0] === 's' ? 'state' : 'data';
          sym.set(t, b.input(name, kind, t.type));
        } else if (node?.kind === 'op') {
          const y = apply(node.op, node.inputs.map(get), node.params as never);
          const cut = !t.requiresGrad && node.inputs.some((x) => x.requiresGrad);
          sym.set(t, cut ? apply('stopGradient', [y], {}) : y);
        } else if (node?.kind === 'grad') {
          const r = node.request;
          let gs = grads.get(r);
          if (!gs) {
            const root = get(r.root);
            gs = reverse(b, root, r.leaves.map(get), r.seed ? get(r.seed) : apply('broadcastTo', [Tensor.scalarOf(1)], { shape: root.type.shape }), 'backward');
            grads.set(r, gs);
          }
          sym.set(t, gs[node.index]!);
        }
      }
      for (const [storage, value] of assigns) b.update(get(storage.leaf), get(value));
      updater?.emit(get);
      return b.finish(targets.map((t, i) => ({ name: `o${i}`, tensor: get(t) })));
    });
  }
}

/** ' (at file.ts:12)' for the user's line that asked for the value, if known. */
function atOrigin(): string {
  const origin = captureOrigin();
  return origin ? ` (at ${origin})` : '';
}

function checkFresh(storage: Storage, node: OpNode): void {
  if (storage.writtenAt > node.epoch) {
    throw new KilnError(`${node.op}: this tensor was computed from "${storage.label}" before an update changed it (optimizer.step(), an in-place copy or loadStateDict); read it before the update (await t.item()) or compute it again. To backward through a graph twice, call backward once and read .grad before stepping${atOrigin()}.`);
  }
}

// ---- caches and the queue -------------------------------------------------------------------

interface Program {
  count: number;
  runner?: Runner;
  building?: Promise<Runner>;
}

const plans = new Map<string, Plan>();
const programs = new Map<string, Program>();
const queue: Job[] = [];
let pump: Promise<void> | undefined;
let backendImpl: Backend | undefined;
let compileAt = 2;
let failure: unknown;

const stats = { realizations: 0, plansBuilt: 0, planHits: 0, compiles: 0, compiledRuns: 0, interpretedRuns: 0, runMs: 0 };

/**
 * Counters of the lazy engine: realizations, plans built (graphs lowered) and
 * reused, programs compiled, runs compiled and interpreted, and the time spent
 * inside runs (`runMs`; the rest of a loop's time is host overhead).
 * @example kiln.cacheStats().compiles
 */
export function cacheStats(): Readonly<typeof stats> {
  return { ...stats };
}

/** Clears the counters (not the caches). */
export function resetCacheStats(): void {
  for (const k of Object.keys(stats) as (keyof typeof stats)[]) stats[k] = 0;
}

/**
 * When lazy graphs compile: after `compileAt` realizations of the same
 * structural hash (1: at once; Infinity: never, always interpret).
 */
export function setCompilePolicy(options: { compileAt?: number }): void {
  checkOptions('setCompilePolicy', options, ['compileAt']);
  if (options === undefined) return;
  if (options.compileAt !== undefined) {
    if (!(options.compileAt >= 1)) throw userError('setCompilePolicy', `expected compileAt >= 1, got ${options.compileAt}`);
    compileAt = options.compileAt;
  }
}

/** Installs the compiled back end (done by src/torch). */
export function setBackend(b: Backend | undefined): void {
  backendImpl = b;
}

const interpreter: Runner = {
  run(job) {
    const inputs = Object.fromEntries(job.bindings.map(([name, b]) => [name, b instanceof Storage ? b.peek() : b]));
    const { outputs, updates } = interpret(job.plan.graph, inputs);
    for (const [name, storage] of job.updates) storage.settle(updates[name]!, undefined);
    return outputs;
  },
};

/** Lowers targets (and a step's assignments and update) into a job. */
export function prepare(targets: readonly Tensor[], assigns: readonly (readonly [Storage, Tensor])[] = [], updater?: Updater): Job {
  const differentiating = targets.some((t) => t.lazy?.kind === 'grad') || assigns.length > 0 || updater !== undefined;
  const lowering = new Lowering(differentiating);
  for (const t of targets) lowering.visit(t);
  for (const [s, v] of assigns) {
    lowering.visit(s.leaf);
    lowering.visit(v);
  }
  for (const t of updater?.reads ?? []) lowering.visit(t);
  const key = [...lowering.parts, `out ${targets.map((t) => lowering.index.get(t)).join(',')}`, `assign ${assigns.map(([s, v]) => `${lowering.index.get(s.leaf)}<-${lowering.index.get(v)}`).join(',')}`, updater?.key ?? ''].join('\n');
  let plan = plans.get(key);
  if (plan) stats.planHits++;
  else {
    const graph = lowering.build(targets, assigns, updater);
    plan = { graph, hash: hashGraph(graph), exact: exactOnly(graph), work: workOf(graph) };
    plans.set(key, plan);
    stats.plansBuilt++;
  }
  const leafByName = new Map<string, Tensor>([...lowering.names].map(([t, n]) => [n, t]));
  const bindings = plan.graph.inputs.map((input): [string, Binding] => {
    const leaf = leafByName.get(input.name);
    if (leaf) return [input.name, leaf.lazy?.kind === 'storage' ? leaf.lazy.storage : leaf.realized!];
    return [input.name, updater!.bind(input.name, (n) => leafByName.get(n))];
  });
  const byName = new Map(bindings);
  const updates = plan.graph.updates.map((u): [string, Storage] => [u.target, byName.get(u.target) as Storage]);
  for (const [, s] of updates) s.touch();
  for (const [s] of assigns) {
    if (s.pending) pendingStorages.delete(s);
    s.pending = undefined;
  }
  return { plan, bindings, targets, updates, done: false };
}

function program(hash: string): Program {
  let p = programs.get(hash);
  if (!p) programs.set(hash, (p = { count: 0 }));
  return p;
}

/** Starts compiling when the policy says so; the program's runner once built. */
function wantCompile(p: Program, job: Job): void {
  // a training step (a plan that updates parameters or state) compiles at once: every step of a run then runs
  // the same compiled code, so a seeded run repeats bit for bit (the interpreter's float32 sums differ in order)
  // and so does any plan the interpreter would not compute bit for bit as the module does
  if (!shouldCompile(p, job)) return;
  stats.compiles++;
  p.building = backendImpl!.compile(job.plan.graph, job.plan.hash);
  p.building.then((r) => { p.runner = r; }, () => { /* reported by whoever awaits it */ });
}

function shouldCompile(p: Program, job: Job): boolean {
  const urgent = job.updates.length > 0 || job.plan.work >= HEAVY_WORK || !job.plan.exact;
  return !p.runner && !p.building && backendImpl !== undefined && compileAt !== Infinity && (p.count >= compileAt || urgent);
}

/**
 * The runner a synchronous read uses: the program when built; else, when the
 * policy wants it compiled (or it is being built), built now by the backend's
 * blocking compile; else none (the interpreter).
 */
function syncRunner(job: Job): Runner | undefined {
  const p = program(job.plan.hash);
  if (p.runner) return p.runner;
  if (!backendImpl?.compileSync || !(p.building || shouldCompile(p, job))) return undefined;
  if (!p.building) stats.compiles++;
  p.runner = backendImpl.compileSync(job.plan.graph, job.plan.hash);
  return p.runner;
}

function runNow(job: Job, runner: Runner | undefined): void {
  stats.realizations++;
  if (runner) stats.compiledRuns++;
  else stats.interpretedRuns++;
  const t0 = performance.now();
  const outputs = (runner ?? interpreter).run(job);
  stats.runMs += performance.now() - t0;
  job.targets.forEach((t, i) => t.setRealized(outputs[`o${i}`]!));
  job.done = true;
}

function rethrow(): void {
  if (failure !== undefined) {
    const e = failure;
    failure = undefined;
    throw e;
  }
}

/** Runs every queued job now: compiled (built now, blocking, where the policy wants it), else in the interpreter. */
export function drainSync(): void {
  rethrow();
  while (queue.length) {
    const job = queue.shift()!;
    if (!job.done) runNow(job, syncRunner(job));
  }
}

/** Waits for every queued job. */
export async function flush(): Promise<void> {
  while (pump) await pump.catch(() => undefined);
  rethrow();
}

async function runQueue(): Promise<void> {
  try {
    while (queue.length) {
      const job = queue[0]!;
      const p = program(job.plan.hash);
      const runner = p.runner ?? (p.building ? await p.building : undefined);
      if (!job.done) runNow(job, runner);
      if (queue[0] === job) queue.shift();
    }
  } catch (e) {
    failure = e;
    queue.length = 0;
  } finally {
    pump = undefined;
  }
}

/**
 * Runs a job in program order: at once when nothing is queued and no compile
 * is awaited, else behind the queue. The promise settles when it has run.
 */
export function submit(job: Job): Promise<void> {
  rethrow();
  const p = program(job.plan.hash);
  p.count++;
  wantCompile(p, job);
  if (queue.length === 0 && (p.runner || !p.building)) {
    runNow(job, p.runner);
    return Promise.resolve();
  }
  queue.push(job);
  pump ??= runQueue();
  const mine = pump.then(() => {
    if (!job.done) rethrow();
  });
  mine.catch(() => undefined);
  return mine;
}

/** Realizes `targets` (and pending assignments) now: queued work is drained, nothing is awaited. */
export function realizeSync(targets: readonly Tensor[], assigns: readonly (readonly [Storage, Tensor])[] = []): void {
  drainSync();
  const job = prepare(targets.filter((t) => !t.realized), assigns);
  if (job.targets.length === 0 && job.updates.length === 0) return;
  program(job.plan.hash).count++;
  runNow(job, syncRunner(job));
}

/** Realizes `targets` after the queue, compiling first where the policy says so. */
export async function realizeAsync(targets: readonly Tensor[]): Promise<void> {
  await flush();
  const pending = targets.filter((t) => !t.realized);
  if (pending.length === 0) return;
  await submit(prepare(pending));
  await flush();
}

/** The storages with a pending assignment (a step realizes them with its update). */
export function pendingAssignments(): [Storage, Tensor][] {
  return [...pendingStorages].map((s) => [s, s.pending!]);
}
