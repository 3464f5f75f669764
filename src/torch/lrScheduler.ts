/**
 * `kiln.optim.lrScheduler`: PyTorch's learning-rate schedulers. Each sets
 * `optimizer.paramGroups[i].lr` on `step()` (call it once per epoch, or per
 * batch for OneCycleLR); the rate is a runtime input of the compiled step, so
 * changing it never recompiles — nor does OneCycleLR's cycling of the momentum
 * or β₁, runtime inputs too.
 * @example const sched = new kiln.optim.lrScheduler.StepLR(opt, { stepSize: 10, gamma: 0.1 }); sched.step();
 */
import { checkOptions, optionKeys } from '../../compiler/check.js';
import { userError } from '../../compiler/errors.js';
import { captureOrigin } from '../../compiler/source.js';
import type { Optimizer } from './optim.js';

export abstract class LRScheduler {
  /** Epochs (steps of the scheduler) so far. */
  lastEpoch = 0;
  readonly baseLrs: number[];
  constructor(readonly optimizer: Optimizer) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
  }
  /** The rate of group `i` at epoch `t`. */
  protected abstract rate(base: number, t: number, i: number): number;
  step(): void {
    this.lastEpoch++;
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = this.rate(this.baseLrs[i]!, this.lastEpoch, i); });
  }
  getLastLr(): number[] { return this.optimizer.paramGroups.map((g) => g.lr); }
}

/** lr · gamma^floor(t / stepSize). */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: { stepSize: number; gamma?: number }) {
    checkOptions('optim.lrScheduler.StepLR', options, ['stepSize', 'gamma']);
    super(optimizer);
  }
  protected rate(base: number, t: number): number { return base * (this.options.gamma ?? 0.1) ** Math.floor(t / this.options.stepSize); }
}

/** lr · gamma^t. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: { gamma: number }) {
    checkOptions('optim.lrScheduler.ExponentialLR', options, ['gamma']);
    super(optimizer);
  }
  protected rate(base: number, t: number): number { return base * this.options.gamma ** t; }
}

/** etaMin + (lr − etaMin)·(1 + cos(π·t/tMax))/2. */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: { tMax: number; etaMin?: number }) {
    checkOptions('optim.lrScheduler.CosineAnnealingLR', options, ['tMax', 'etaMin']);
    super(optimizer);
  }
  protected rate(base: number, t: number): number {
    const min = this.options.etaMin ?? 0;
    return min + ((base - min) * (1 + Math.cos((Math.PI * t) / this.options.tMax))) / 2;
  }
}

export interface OneCycleOptions {
  maxLr: number;
  totalSteps: number;
  /** The share of steps spent raising the rate (default 0.3). */
  pctStart?: number;
  /** Initial rate maxLr / divFactor (default 25). */
  divFactor?: number;
  /** Final rate initial / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** PyTorch's three_phase: back down to the initial rate symmetrically, then annihilate (default false). */
  threePhase?: boolean;
  /** Cycle the momentum inversely to the rate: SGD's and RMSprop's momentum, Adam's and AdamW's β₁ (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
}

/** One phase of the cycle: it ends at step `end`, annealing rate and momentum from the first value to the second. */
interface Phase { end: number; lr: readonly [number, number]; momentum: readonly [number, number] }

/**
 * The 1cycle policy with cosine annealing, stepped once per batch: the rate
 * rises from maxLr/divFactor to maxLr and falls to far below the start, while
 * the momentum (or β₁) falls from maxMomentum to baseMomentum and rises back.
 * Momentum and β₁ are runtime inputs of the compiled step as the rate is.
 * @example const sched = new kiln.optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.1, totalSteps: 1000 });
 */
export class OneCycleLR extends LRScheduler {
  private readonly phases: readonly Phase[];
  private readonly momentumKey: 'betas' | 'momentum' | undefined;

  constructor(optimizer: Optimizer, readonly options: OneCycleOptions) {
    super(optimizer);
    if (options === null || typeof options !== 'object') throw userError('optim.lrScheduler.OneCycleLR', `expected options { maxLr, totalSteps, … }, got ${options === null ? 'null' : typeof options}`, captureOrigin());
    const { maxLr, totalSteps, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4, threePhase = false, cycleMomentum = true, baseMomentum = 0.85, maxMomentum = 0.95 } = options;
    const subject = 'optim.lrScheduler.OneCycleLR';
    checkOptions(subject, options, optionKeys<OneCycleOptions>({ maxLr: true, totalSteps: true, pctStart: true, divFactor: true, finalDivFactor: true, threePhase: true, cycleMomentum: true, baseMomentum: true, maxMomentum: true }));
    if (!(Number.isInteger(totalSteps) && totalSteps > 0)) throw userError(subject, `expected totalSteps a positive integer, got ${totalSteps}`, captureOrigin());
    if (!(pctStart >= 0 && pctStart <= 1)) throw userError(subject, `expected pctStart in [0, 1], got ${pctStart}`, captureOrigin());
    const [initial, top, low] = [maxLr / divFactor, maxLr, maxLr / divFactor / finalDivFactor];
    const [mTop, mLow] = [maxMomentum, baseMomentum];
    const up = pctStart * totalSteps - 1;
    this.phases = threePhase
      ? [{ end: up, lr: [initial, top], momentum: [mTop, mLow] }, { end: 2 * pctStart * totalSteps - 2, lr: [top, initial], momentum: [mLow, mTop] }, { end: totalSteps - 1, lr: [initial, low], momentum: [mTop, mTop] }]
      : [{ end: up, lr: [initial, top], momentum: [mTop, mLow] }, { end: totalSteps - 1, lr: [top, low], momentum: [mLow, mTop] }];
    this.momentumKey = !cycleMomentum ? undefined : 'betas' in optimizer.defaults ? 'betas' : 'momentum' in optimizer.defaults ? 'momentum' : undefined;
    if (cycleMomentum && !this.momentumKey) throw userError(subject, `expected an optimizer with a momentum or betas to cycle (SGD, RMSprop, Adam, AdamW), got ${optimizer.constructor.name}; pass cycleMomentum: false`, captureOrigin());
    this.apply(0);
  }

  override step(): void {
    if (this.lastEpoch + 1 > this.options.totalSteps) throw userError('optim.lrScheduler.OneCycleLR.step', `stepped ${this.lastEpoch + 1} times, beyond totalSteps ${this.options.totalSteps}`, captureOrigin());
    this.lastEpoch++;
    this.apply(this.lastEpoch);
  }

  protected rate(_base: number, t: number): number { return this.at(t).lr; }

  /** Rate and momentum at step `t`: the phase it falls in (the last one past the end), annealed by cosine. */
  private at(t: number): { lr: number; momentum: number } {
    const cos = ([from, to]: readonly [number, number], p: number) => to + ((from - to) * (1 + Math.cos(Math.PI * p))) / 2;
    let start = 0;
    for (const [i, phase] of this.phases.entries()) {
      if (t <= phase.end || i === this.phases.length - 1) {
        const p = (t - start) / (phase.end - start);
        return { lr: cos(phase.lr, p), momentum: cos(phase.momentum, p) };
      }
      start = phase.end;
    }
    throw new Error('internal: OneCycleLR has no phases');
  }

  private apply(t: number): void {
    const { lr, momentum } = this.at(t);
    for (const g of this.optimizer.paramGroups) {
      g.lr = lr;
      if (this.momentumKey === 'betas') g.betas = [momentum, ...(g.betas as number[]).slice(1)];
      else if (this.momentumKey === 'momentum') g.momentum = momentum;
    }
  }
}

/** Multiplies the rate by `factor` when a metric stopped improving for `patience` epochs. */
export class ReduceLROnPlateau {
  private best = Infinity;
  private bad = 0;
  private cooldown = 0;
  constructor(readonly optimizer: Optimizer, readonly options: { mode?: 'min' | 'max'; factor?: number; patience?: number; threshold?: number; cooldown?: number; minLr?: number } = {}) {
    checkOptions('optim.lrScheduler.ReduceLROnPlateau', options, ['mode', 'factor', 'patience', 'threshold', 'cooldown', 'minLr']);
  }
  step(metric: number): void {
    const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, minLr = 0 } = this.options;
    const value = mode === 'min' ? metric : -metric;
    if (value < this.best * (1 - Math.sign(this.best) * threshold) || this.best === Infinity) {
      this.best = value;
      this.bad = 0;
    } else this.bad++;
    if (this.cooldown > 0) {
      this.cooldown--;
      this.bad = 0;
    }
    if (this.bad > patience) {
      for (const g of this.optimizer.paramGroups) g.lr = Math.max(g.lr * factor, minLr);
      this.cooldown = this.options.cooldown ?? 0;
      this.bad = 0;
    }
  }
}
