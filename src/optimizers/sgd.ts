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
 * With `convention: 'pytorch'` this rule is PyTorch's, with its `dampening` d:
 *   b ← g at the first step, then b ← μ · b + (1 − d) · g   (slot `m`)
 *   w ← w − lr · b        nesterov: w ← w − lr · (g + μ · b)
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { checkOption, Optimizer, OPTIMIZER_KEYS, type OptimizerOptions, type Slot, type StepScalars, type Updated, type Keep } from './optimizer.js';

export interface SgdOptions extends OptimizerOptions {
  /** In [0, 1]; 0 (default) is plain gradient descent. */
  momentum?: number;
  nesterov?: boolean;
  /** PyTorch's dampening of the gradient in the velocity (convention 'pytorch' only; default 0). */
  dampening?: number;
}

/** SGD with optional (Nesterov) momentum; made by `kiln.optimizers.sgd`. */
export class SGD extends Optimizer<SgdOptions> {
  static override readonly optionKeys = optionKeys<SgdOptions>({ momentum: true, nesterov: true, dampening: true, ...OPTIMIZER_KEYS });
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly dampening: number;

  constructor(options: SgdOptions = {}) {
    super('sgd', 'SGD', options, 0.01);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.dampening = options.dampening ?? 0;
    checkOption('sgd', 'momentum', this.momentum, (x) => x >= 0 && x <= 1, 'in [0, 1]');
    checkOption('sgd', 'dampening', this.dampening, (x) => x >= 0 && x <= 1, 'in [0, 1]');
  }

  protected slots(): Slot[] {
    return this.momentum > 0 ? [{ name: 'm', initial: 0 }] : [];
  }

  /** PyTorch's momentum is a runtime scalar (OneCycleLR cycles it); whether there is one shapes the step. */
  protected override runtimeHyperparameters(): Readonly<Record<string, number>> {
    return this.pytorch && this.momentum > 0 ? { momentum: this.momentum } : {};
  }

  protected update(g: Tensor, w: Tensor, slots: Readonly<Record<string, Tensor>>, { lr, step: taken, momentum }: StepScalars, keep: Keep): Updated {
    if (this.momentum === 0) return { w: F.sub(w, F.mul(g, lr)), slots: {} };
    if (this.pytorch) {
      // the first step takes b = g undamped: the factor is 1 − d · [step > 0]
      const scale = this.dampening === 0 ? g : F.mul(g, F.sub(1, F.mul(F.cast(F.gt(taken, 0), 'float32'), this.dampening)));
      const b = keep(F.add(F.mul(slots.m!, momentum!), scale), slots.m!);
      return { w: F.sub(w, F.mul(this.nesterov ? F.add(g, F.mul(b, momentum!)) : b, lr)), slots: { m: b } };
    }
    const step = F.neg(F.mul(g, lr));
    const m = keep(F.add(step, F.mul(slots.m!, this.momentum)), slots.m!);
    return { w: F.add(w, this.nesterov ? F.add(step, F.mul(m, this.momentum)) : m), slots: { m } };
  }

  protected ownConfig() {
    return { momentum: this.momentum, nesterov: this.nesterov, ...(this.pytorch ? { dampening: this.dampening } : {}) };
  }
}

/**
 * Keras-style SGD; its whole update runs inside the compiled training step.
 * @example const opt = kiln.optimizers.sgd({ learningRate: 0.1, momentum: 0.9, nesterov: true });
 */
export function sgd(options: SgdOptions = {}): SGD {
  return new SGD(options);
}
