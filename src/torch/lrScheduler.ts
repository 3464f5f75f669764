/**
 * `kiln.optim.lrScheduler`: PyTorch's learning-rate schedulers. Each sets
 * `optimizer.paramGroups[i].lr` on `step()` (call it once per epoch, or per
 * batch for OneCycleLR); the rate is a runtime input of the compiled step, so
 * changing it never recompiles.
 * @example const sched = new kiln.optim.lrScheduler.StepLR(opt, { stepSize: 10, gamma: 0.1 }); sched.step();
 */
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
  constructor(optimizer: Optimizer, readonly options: { stepSize: number; gamma?: number }) { super(optimizer); }
  protected rate(base: number, t: number): number { return base * (this.options.gamma ?? 0.1) ** Math.floor(t / this.options.stepSize); }
}

/** lr · gamma^t. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: { gamma: number }) { super(optimizer); }
  protected rate(base: number, t: number): number { return base * this.options.gamma ** t; }
}

/** etaMin + (lr − etaMin)·(1 + cos(π·t/tMax))/2. */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: { tMax: number; etaMin?: number }) { super(optimizer); }
  protected rate(base: number, t: number): number {
    const min = this.options.etaMin ?? 0;
    return min + ((base - min) * (1 + Math.cos((Math.PI * t) / this.options.tMax))) / 2;
  }
}

/** The 1cycle policy (cosine annealing, two phases), stepped once per batch. */
export class OneCycleLR extends LRScheduler {
  constructor(optimizer: Optimizer, readonly options: { maxLr: number; totalSteps: number; pctStart?: number; divFactor?: number; finalDivFactor?: number }) {
    super(optimizer);
    optimizer.paramGroups.forEach((g) => { g.lr = options.maxLr / (options.divFactor ?? 25); });
  }
  protected rate(_base: number, t: number): number {
    const { maxLr, totalSteps, pctStart = 0.3, divFactor = 25, finalDivFactor = 1e4 } = this.options;
    const initial = maxLr / divFactor;
    const final = initial / finalDivFactor;
    const up = pctStart * totalSteps - 1;
    const cos = (from: number, to: number, p: number) => to + ((from - to) * (1 + Math.cos(Math.PI * p))) / 2;
    return t <= up ? cos(initial, maxLr, t / up) : cos(maxLr, final, (t - up) / (totalSteps - 1 - up));
  }
}

/** Multiplies the rate by `factor` when a metric stopped improving for `patience` epochs. */
export class ReduceLROnPlateau {
  private best = Infinity;
  private bad = 0;
  private cooldown = 0;
  constructor(readonly optimizer: Optimizer, readonly options: { mode?: 'min' | 'max'; factor?: number; patience?: number; threshold?: number; cooldown?: number; minLr?: number } = {}) {}
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
