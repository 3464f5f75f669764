/**
 * `kiln.optim`: PyTorch's optimizers (SGD, Adagrad, RMSprop, Adam, AdamW) with
 * param groups, `zeroGrad` and `stateDict`, as a thin surface over the Keras
 * optimizers' update rules (src/optimizers, `convention: 'pytorch'`): one
 * implementation, two surfaces. `step()` adds the update of every parameter
 * with a gradient to the pending graph and realizes the whole training step —
 * forward, loss, gradients, updates — as one run; parameters, gradients and
 * optimizer state stay where the run left them (a compiled module's memory)
 * until read.
 * @example
 * const opt = new kiln.optim.Adam(model.parameters(), { lr: 1e-3 });
 * opt.zeroGrad(); const loss = lossFn(model.forward(x), y); loss.backward(); opt.step();
 */
import { checkOptions, describe } from '../../compiler/check.js';
import { userError } from '../../compiler/errors.js';
import * as F from '../../compiler/functions/index.js';
import { GradRequest, noGrad, pendingAssignments, prepare, Storage, submit, type Updater } from '../../compiler/lazy.js';
import type { Value } from '../../compiler/ops/op.js';
import { captureOrigin } from '../../compiler/source.js';
import { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import * as keras from '../optimizers/index.js';
import { companionsOf, gradStorage, storageOf } from './tensors.js';

/** A group of parameters and its hyperparameters (PyTorch's param_groups entry). */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  [option: string]: unknown;
}

export type Params = Iterable<Tensor> | readonly ({ params: Iterable<Tensor> } & Record<string, unknown>)[];

/** Keras slot names → PyTorch state names, for stateDict. */
const torchSlotNames: Record<string, string> = { m: 'momentum_buffer', v: 'square_avg', vhat: 'max_exp_avg_sq', mg: 'grad_avg', accumulator: 'sum' };

export abstract class Optimizer {
  readonly paramGroups: ParamGroup[] = [];
  /** Per parameter storage: its optimizer states by Keras slot name. */
  private readonly slots = new Map<Storage, Map<string, Storage>>();
  private readonly steps: Storage[] = [];
  readonly defaults: Readonly<Record<string, unknown>>;

  /** `defaults` lists every option the optimizer takes (with its default); `options` may set only those. */
  constructor(params: Params, defaults: Readonly<Record<string, unknown>>, private readonly subject: string, options: object = {}) {
    if (typeof defaults !== 'object' || defaults === null || typeof subject !== 'string') throw userError('optim.Optimizer', 'is abstract: use optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop or optim.Adagrad', captureOrigin());
    checkOptions(subject, options, Object.keys(defaults));
    this.defaults = { ...defaults, ...options };
    if (params === null || typeof (params as { [Symbol.iterator]?: unknown })?.[Symbol.iterator] !== 'function') throw userError(subject, `expected the parameters to optimize (model.parameters()) or a list of param groups, got ${describe(params)}`, captureOrigin());
    const list = [...(params as Iterable<unknown>)];
    if (list.length === 0) throw userError(subject, 'expected a non-empty list of parameters (model.parameters()) or param groups', captureOrigin());
    if (list.every((p) => p instanceof Tensor)) this.addParamGroup({ params: list as Tensor[] });
    else for (const g of list as { params: Iterable<Tensor> }[]) this.addParamGroup(g);
  }

  /** Adds a group; options it leaves out take the optimizer's defaults. */
  addParamGroup(group: { params: Iterable<Tensor> } & Record<string, unknown>): void {
    checkOptions(`${this.subject} param group`, group, ['params', ...Object.keys(this.defaults)]);
    const params = [...group.params];
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw userError(this.subject, `expected parameter ${i} to be a Tensor, got ${typeof p}`, captureOrigin());
      storageOf(p, this.subject);
      if (this.paramGroups.some((g) => g.params.includes(p))) throw userError(this.subject, `parameter ${i} (${formatType(p.type)}) is in more than one param group`, captureOrigin());
    });
    this.paramGroups.push({ ...this.defaults, ...group, params } as ParamGroup);
  }

  /**
   * Clears every parameter's gradient: to undefined (default, PyTorch's
   * set_to_none) or to zeros.
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = options.setToNone === false && p.grad ? F.zerosLike(p) : undefined;
  }

  /** The Keras rule for a group, with PyTorch's formulas. */
  protected abstract rule(group: ParamGroup, name: string): keras.Optimizer;

  /** The hyperparameters that shape the graph: everything but params, lr and the runtime scalars `structural` masks. */
  private groupKey(group: ParamGroup): string {
    const { params: _p, lr: _lr, ...rest } = group;
    return JSON.stringify(this.structural(rest));
  }

  /** A group's options with the runtime scalars (momentum, β₁) reduced to what shapes the graph. */
  protected structural(options: Record<string, unknown>): Record<string, unknown> {
    return options;
  }

  private stepStorage(k: number): Storage {
    return (this.steps[k] ??= new Storage({ dtype: 'float32', shape: [], data: new Float32Array(1) }, `${this.subject} step`, 'state'));
  }

  private slot(param: Storage, name: string, initial: number): Storage {
    let byName = this.slots.get(param);
    if (!byName) this.slots.set(param, (byName = new Map()));
    let s = byName.get(name);
    if (!s) {
      const size = param.type.shape.reduce<number>((a, d) => a * (d as number), 1);
      byName.set(name, (s = new Storage({ dtype: 'float32', shape: param.type.shape as number[], data: new Float32Array(size).fill(initial) }, `${param.label}/${name}`, 'state')));
    }
    return s;
  }

  /**
   * Updates every parameter that has a gradient, then realizes the step. The
   * promise settles when it has run (the first steps may wait for the compile;
   * later ones run at once); reads (`await loss.item()`) wait for it anyway.
   */
  step(): Promise<void> {
    const groups = this.paramGroups.map((g, k) => ({ k, group: g, params: g.params.filter((p) => p.grad !== undefined) })).filter((g) => g.params.length > 0);
    if (groups.length === 0) return Promise.resolve();
    const targets = new Set<Tensor>();
    const assigns: [Storage, Tensor][] = [];
    const grads = new Map<Tensor, Tensor>();
    const stored: [Tensor, Storage][] = [];
    for (const { params } of groups) {
      for (const p of params) {
        const g = p.grad!;
        if (g.dtype !== 'float32' || g.rank !== p.rank || g.shape.some((d, i) => d !== p.shape[i])) throw userError(`${this.subject}.step`, `expected the gradient of ${storageOf(p, this.subject).label} to be ${formatType(p.type)}, got ${formatType(g.type)}`, captureOrigin());
        grads.set(p, g);
        for (const r of requestsOf(g)) for (const t of [r.root, ...companionsOf(r.root)]) if (t.isLazy && !t.realized && t.lazy!.kind !== 'storage') targets.add(t);
        const gs = gradStorage(p);
        if (g !== gs.leaf) {
          assigns.push([gs, g]);
          stored.push([p, gs]);
        }
      }
    }
    assigns.push(...pendingAssignments().filter(([s]) => !assigns.some(([t]) => t === s)));
    // the rules check their options, and give the runtime scalars (lr, momentum, β₁), at every step, even when the plan is cached
    const rules = new Map(groups.map(({ k, group }) => [k, this.rule(group, `g${k}`)]));
    const updater: Updater = {
      key: `${this.subject} ${groups.map(({ k, group, params }) => `g${k}:${params.length}:${this.groupKey(group)}`).join(';')}`,
      reads: groups.flatMap(({ params }) => params.flatMap((p) => [p, grads.get(p)!])),
      emit: (sym) => {
        for (const { k, params } of groups) rules.get(k)!.applyGradients(params.map((p) => [sym(grads.get(p)!), sym(p)] as const));
      },
      bind: (name, leafByName): Storage | Value => {
        const [owner, slot] = name.split('/') as [string, string];
        if (owner[0] === 'g') {
          const k = Number(owner.slice(1));
          if (slot === 'step') return this.stepStorage(k);
          const data = rules.get(k)?.inputs()[name];
          if (!data) throw new Error(`internal: ${this.subject} has no runtime scalar ${name}`);
          return { dtype: 'float32', shape: [], data };
        }
        const param = storageOf(leafByName(owner)!, this.subject);
        const group = this.paramGroups.find((g) => g.params.includes(param.leaf))!;
        return this.slot(param, slot, this.initialSlotValue(group, slot));
      },
    };
    const job = prepare([...targets], assigns, updater);
    for (const [p, gs] of stored) p.grad = gs.leaf; // .grad now reads the gradient the step stored
    return submit(job);
  }

  /** A slot's value at the first step (zeros, or Adagrad's initial accumulator). */
  protected initialSlotValue(_group: ParamGroup, _slot: string): number {
    return 0;
  }

  /** PyTorch's state_dict: per parameter index its state tensors and step, and the param groups with indices. */
  stateDict(): { state: Record<number, Record<string, Tensor | number>>; paramGroups: Record<string, unknown>[] } {
    const index = new Map<Tensor, number>();
    this.paramGroups.forEach((g) => g.params.forEach((p) => index.set(p, index.size)));
    const state: Record<number, Record<string, Tensor | number>> = {};
    this.paramGroups.forEach((g, k) => {
      for (const p of g.params) {
        const slots = this.slots.get(storageOf(p, this.subject));
        if (!slots) continue;
        const entry: Record<string, Tensor | number> = { step: this.stepStorage(k).read().data[0]! };
        for (const [name, s] of slots) entry[this.torchSlotName(name)] = Tensor.concrete(s.read());
        state[index.get(p)!] = entry;
      }
    });
    return { state, paramGroups: this.paramGroups.map(({ params, ...rest }) => ({ ...rest, params: params.map((p) => index.get(p)!) })) };
  }

  /** Restores what `stateDict` gave (same parameters, same order). */
  loadStateDict(dict: ReturnType<Optimizer['stateDict']>): void {
    const all = this.paramGroups.flatMap((g) => g.params);
    dict.paramGroups.forEach((saved, k) => {
      const group = this.paramGroups[k];
      if (!group) throw userError(`${this.subject}.loadStateDict`, `the state has ${dict.paramGroups.length} param groups, this optimizer ${this.paramGroups.length}`, captureOrigin());
      Object.assign(group, { ...saved, params: group.params });
    });
    for (const [i, entry] of Object.entries(dict.state)) {
      const p = all[Number(i)];
      if (!p) throw userError(`${this.subject}.loadStateDict`, `the state names parameter ${i}, this optimizer has ${all.length}`, captureOrigin());
      const k = this.paramGroups.findIndex((g) => g.params.includes(p));
      for (const [name, v] of Object.entries(entry)) {
        if (name === 'step') this.stepStorage(k).write({ dtype: 'float32', shape: [], data: new Float32Array([v as number]) });
        else {
          const slot = Object.keys(torchSlotNames).find((s) => this.torchSlotName(s) === name) ?? name;
          this.slot(storageOf(p, this.subject), slot, 0).write((v as Tensor).value!);
        }
      }
    }
  }

  protected torchSlotName(slot: string): string {
    return torchSlotNames[slot] ?? slot;
  }
}

function requestsOf(g: Tensor): GradRequest[] {
  const out: GradRequest[] = [];
  const stack = [g];
  while (stack.length) {
    const t = stack.pop()!;
    if (t.lazy?.kind === 'grad') out.push(t.lazy.request);
    else if (t.lazy?.kind === 'op' && !t.realized) stack.push(...t.lazy.inputs);
  }
  return out;
}

const number = (subject: string, key: string, x: unknown, ok: (v: number) => boolean, expected: string): number => {
  if (typeof x !== 'number' || !ok(x)) throw userError(subject, `expected ${key} ${expected}, got ${String(x)}`, captureOrigin());
  return x;
};
const wdOf = (g: ParamGroup) => ((g.weightDecay as number) > 0 ? (g.weightDecay as number) : undefined);
/** The momentum is a runtime scalar: only whether there is one shapes the step. */
const withMomentumFlag = (options: Record<string, unknown>) => ({ ...options, momentum: (options.momentum as number) > 0 });
/** β₁ is a runtime scalar: only β₂ shapes the step. */
const withoutBeta1 = (options: Record<string, unknown>) => ({ ...options, betas: (options.betas as readonly number[] | undefined)?.slice(1) });

export interface SgdOptions { lr?: number; momentum?: number; dampening?: number; weightDecay?: number; nesterov?: boolean }
/**
 * PyTorch's SGD: velocity b ← μ·b + (1 − dampening)·g, w ← w − lr·b (nesterov: g + μ·b); weightDecay adds wd·w to g.
 * @example new kiln.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })
 */
export class SGD extends Optimizer {
  constructor(params: Params, options: SgdOptions = {}) {
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, 'optim.SGD', options);
  }
  protected rule(g: ParamGroup, name: string): keras.Optimizer {
    if (g.nesterov && (!((g.momentum as number) > 0) || g.dampening !== 0)) throw userError('optim.SGD', 'nesterov momentum requires a momentum and zero dampening', captureOrigin());
    return new keras.SGD({ learningRate: number('optim.SGD', 'lr', g.lr, (x) => x >= 0, '>= 0'), momentum: g.momentum as number, dampening: g.dampening as number, nesterov: g.nesterov as boolean, weightDecay: wdOf(g), convention: 'pytorch', name });
  }
  protected override structural(options: Record<string, unknown>): Record<string, unknown> { return withMomentumFlag(options); }
}

export interface AdamOptions { lr?: number; betas?: readonly [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean }
const adamRule = (g: ParamGroup, name: string, Kind: typeof keras.Adam | typeof keras.AdamW, subject: string) => {
  if (!Array.isArray(g.betas) || g.betas.length !== 2) throw userError(subject, `expected betas to be a pair [beta1, beta2], got ${describe(g.betas)}`, captureOrigin());
  const [beta1, beta2] = g.betas as [number, number];
  return new Kind({ learningRate: number(subject, 'lr', g.lr, (x) => x >= 0, '>= 0'), beta1, beta2, epsilon: g.eps as number, amsgrad: g.amsgrad as boolean, weightDecay: wdOf(g) ?? 0, convention: 'pytorch', name });
};
const adamSlots: Record<string, string> = { m: 'exp_avg', v: 'exp_avg_sq', vhat: 'max_exp_avg_sq' };

/**
 * PyTorch's Adam (ε after the bias-corrected root; weightDecay as L2 on g).
 * @example new kiln.optim.Adam(model.parameters(), { lr: 1e-3 })
 */
export class Adam extends Optimizer {
  constructor(params: Params, options: AdamOptions = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false }, 'optim.Adam', options);
  }
  protected rule(g: ParamGroup, name: string): keras.Optimizer { return adamRule(g, name, keras.Adam, 'optim.Adam'); }
  protected override structural(options: Record<string, unknown>): Record<string, unknown> { return withoutBeta1(options); }
  protected override torchSlotName(slot: string): string { return adamSlots[slot] ?? slot; }
}

/**
 * PyTorch's AdamW: decoupled weight decay w ← w − lr·wd·w (default 0.01), then Adam.
 * @example new kiln.optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 })
 */
export class AdamW extends Optimizer {
  constructor(params: Params, options: AdamOptions = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, amsgrad: false }, 'optim.AdamW', options);
  }
  protected rule(g: ParamGroup, name: string): keras.Optimizer { return adamRule(g, name, keras.AdamW, 'optim.AdamW'); }
  protected override structural(options: Record<string, unknown>): Record<string, unknown> { return withoutBeta1(options); }
  protected override torchSlotName(slot: string): string { return adamSlots[slot] ?? slot; }
}

export interface RmspropOptions { lr?: number; alpha?: number; eps?: number; weightDecay?: number; momentum?: number; centered?: boolean }
/**
 * PyTorch's RMSprop: v ← α·v + (1 − α)·g², w ← w − lr·g / (sqrt(v) + ε), optionally centered and with momentum.
 * @example new kiln.optim.RMSprop(model.parameters(), { lr: 1e-2 })
 */
export class RMSprop extends Optimizer {
  constructor(params: Params, options: RmspropOptions = {}) {
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }, 'optim.RMSprop', options);
  }
  protected rule(g: ParamGroup, name: string): keras.Optimizer {
    return new keras.RMSprop({ learningRate: number('optim.RMSprop', 'lr', g.lr, (x) => x >= 0, '>= 0'), rho: g.alpha as number, epsilon: g.eps as number, momentum: g.momentum as number, centered: g.centered as boolean, weightDecay: wdOf(g), convention: 'pytorch', name });
  }
  protected override structural(options: Record<string, unknown>): Record<string, unknown> { return withMomentumFlag(options); }
}

export interface AdagradOptions { lr?: number; lrDecay?: number; weightDecay?: number; initialAccumulatorValue?: number; eps?: number }
/**
 * PyTorch's Adagrad: a ← a + g², w ← w − lr/(1 + (t − 1)·lrDecay) · g / (sqrt(a) + ε).
 * @example new kiln.optim.Adagrad(model.parameters(), { lr: 0.01 })
 */
export class Adagrad extends Optimizer {
  constructor(params: Params, options: AdagradOptions = {}) {
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10 }, 'optim.Adagrad', options);
  }
  protected rule(g: ParamGroup, name: string): keras.Optimizer {
    return new keras.Adagrad({ learningRate: number('optim.Adagrad', 'lr', g.lr, (x) => x >= 0, '>= 0'), lrDecay: g.lrDecay as number, epsilon: g.eps as number, initialAccumulatorValue: g.initialAccumulatorValue as number, weightDecay: wdOf(g), convention: 'pytorch', name });
  }
  protected override initialSlotValue(group: ParamGroup): number { return group.initialAccumulatorValue as number; }
}

/**
 * Scales all gradients together so their joint L2 norm is at most maxNorm
 * (PyTorch's clip_grad_norm_); returns the norm before clipping (lazy).
 * @example kiln.nn.utils.clipGradNorm_(model.parameters(), 1.0)
 */
export function clipGradNorm_(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  const withGrad = [...params].filter((p) => p.grad !== undefined);
  if (!(maxNorm > 0)) throw userError('clipGradNorm_', `expected maxNorm > 0, got ${maxNorm}`, captureOrigin());
  if (normType !== 2) throw userError('clipGradNorm_', `only the L2 norm (normType 2) is supported, got ${normType}`, captureOrigin());
  return noGrad(() => {
    if (withGrad.length === 0) return F.scalar(0);
    const total = F.sqrt(withGrad.map((p) => F.sum(F.square(p.grad!))).reduce((a, b) => F.add(a, b)));
    const scale = F.minimum(F.div(maxNorm, F.add(total, 1e-6)), 1);
    for (const p of withGrad) p.grad = F.mul(p.grad!, scale);
    return total;
  });
}

/** Clamps every gradient element to [−clipValue, clipValue] (PyTorch's clip_grad_value_). */
export function clipGradValue_(params: Iterable<Tensor>, clipValue: number): void {
  noGrad(() => { for (const p of params) if (p.grad) p.grad = F.clip(p.grad, -clipValue, clipValue); });
}
