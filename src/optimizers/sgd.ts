/**
 * Stochastic gradient descent with optional momentum and Nesterov momentum,
 * as Keras 3's `SGD` (default learning rate 0.01).
 *
 *   momentum = 0:  w ← w − lr · g
 *   momentum μ:    m ← μ · m − lr · g               (slot `m`, zeros at first)
 *                  w ← w + m
 *   nesterov:      w ← w + μ · m − lr · g            (with the new m)
 *
 * PyTorch's `SGD` keeps the velocity without the learning rate, b ← μ · b + g
 * (times 1 − dampening) and w ← w − lr · b (nesterov: w ← w − lr · (g + μ · b)):
 * the same trajectory while lr is constant, different once lr changes (Keras'
 * velocity remembers the old rates). Its `weight_decay` is an L2 term added to g.
 */
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { checkOption, Optimizer, type OptimizerOptions, type Slot, type StepScalars, type Updated } from './optimizer.js';

export interface SgdOptions extends OptimizerOptions {
  /** In [0, 1]; 0 (default) is plain gradient descent. */
  momentum?: number;
  nesterov?: boolean;
}

/** SGD with optional (Nesterov) momentum; made by `kiln.optimizers.sgd`. */
export class SGD extends Optimizer<SgdOptions> {
  readonly momentum: number;
  readonly nesterov: boolean;

  constructor(options: SgdOptions = {}) {
    super('sgd', 'SGD', options, 0.01);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    checkOption('sgd', 'momentum', this.momentum, (x) => x >= 0 && x <= 1, 'in [0, 1]');
  }

  protected slots(): Slot[] {
    return this.momentum > 0 ? [{ name: 'm', initial: 0 }] : [];
  }

  protected update(g: Tensor, w: Tensor, slots: Readonly<Record<string, Tensor>>, { lr }: StepScalars): Updated {
    if (this.momentum === 0) return { w: F.sub(w, F.mul(g, lr)), slots: {} };
    const step = F.neg(F.mul(g, lr));
    const m = F.add(step, F.mul(slots.m!, this.momentum));
    return { w: F.add(w, this.nesterov ? F.add(step, F.mul(m, this.momentum)) : m), slots: { m } };
  }

  protected ownConfig() {
    return { momentum: this.momentum, nesterov: this.nesterov };
  }
}

/**
 * Keras-style SGD; its whole update runs inside the compiled training step.
 * @example const opt = kiln.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true });
 */
export function sgd(options: SgdOptions = {}): SGD {
  return new SGD(options);
}
