/**
 * RMSprop, as Keras 3's `RMSprop` (default learning rate 0.001).
 *
 *   v ← ρ · v + (1 − ρ) · g²                  (slot `v`, zeros at first)
 *   centered:  a ← ρ · a + (1 − ρ) · g         (slot `mg`, zeros)
 *              d = v − a² + ε,  else d = v + ε (ε = 1e-7, inside the root)
 *   Δ = lr · g / sqrt(d)
 *   momentum μ > 0:  m ← μ · m + Δ;  w ← w − m  (slot `m`, zeros)
 *   else:            w ← w − Δ
 *
 * PyTorch's `RMSprop` defaults to ρ (`alpha`) = 0.99 and ε = 1e-8, puts ε
 * outside the root, g / (sqrt(d) + ε), and keeps lr out of the momentum buffer
 * (b ← μ · b + g / (sqrt(d) + ε); w ← w − lr · b); `convention: 'pytorch'`
 * gives that form (its centered d is v − a², ε added after the root).
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { checkOption, Optimizer, OPTIMIZER_KEYS, type OptimizerOptions, type Slot, type StepScalars, type Updated, type Keep } from './optimizer.js';

export interface RmspropOptions extends OptimizerOptions {
  /** Decay of the squared-gradient average (default 0.9). */
  rho?: number;
  momentum?: number;
  epsilon?: number;
  /** Normalise by the variance estimate rather than the second moment. */
  centered?: boolean;
}

/** RMSprop, optionally centered and with momentum; made by `kiln.optimizers.rmsprop`. */
export class RMSprop extends Optimizer<RmspropOptions> {
  static override readonly optionKeys = optionKeys<RmspropOptions>({ rho: true, momentum: true, epsilon: true, centered: true, ...OPTIMIZER_KEYS });
  readonly rho: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly centered: boolean;

  constructor(options: RmspropOptions = {}) {
    super('rmsprop', 'RMSprop', options, 0.001);
    this.rho = options.rho ?? 0.9;
    this.momentum = options.momentum ?? 0;
    this.epsilon = options.epsilon ?? 1e-7;
    this.centered = options.centered ?? false;
    checkOption('rmsprop', 'rho', this.rho, (x) => x >= 0 && x <= 1, 'in [0, 1]');
    checkOption('rmsprop', 'momentum', this.momentum, (x) => x >= 0 && x <= 1, 'in [0, 1]');
    checkOption('rmsprop', 'epsilon', this.epsilon, (x) => x >= 0, '>= 0');
  }

  protected slots(): Slot[] {
    return [
      { name: 'v', initial: 0 },
      ...(this.momentum > 0 ? [{ name: 'm', initial: 0 }] : []),
      ...(this.centered ? [{ name: 'mg', initial: 0 }] : []),
    ];
  }

  /** PyTorch's momentum is a runtime scalar (OneCycleLR cycles it); whether there is one shapes the step. */
  protected override runtimeHyperparameters(): Readonly<Record<string, number>> {
    return this.pytorch && this.momentum > 0 ? { momentum: this.momentum } : {};
  }

  protected update(g: Tensor, w: Tensor, slots: Readonly<Record<string, Tensor>>, { lr, momentum }: StepScalars, keep: Keep): Updated {
    const next: Record<string, Tensor> = {};
    const v = (next.v = keep(F.add(F.mul(slots.v!, this.rho), F.mul(F.square(g), 1 - this.rho)), slots.v!));
    if (this.pytorch) {
      const mg = this.centered ? (next.mg = keep(F.add(F.mul(slots.mg!, this.rho), F.mul(g, 1 - this.rho)), slots.mg!)) : undefined;
      const scaled = F.div(g, F.add(F.sqrt(mg ? F.sub(v, F.square(mg)) : v), this.epsilon));
      if (this.momentum === 0) return { w: F.sub(w, F.mul(scaled, lr)), slots: next };
      const b = (next.m = keep(F.add(F.mul(slots.m!, momentum!), scaled), slots.m!));
      return { w: F.sub(w, F.mul(b, lr)), slots: next };
    }
    let denominator: Tensor;
    if (this.centered) {
      const mg = (next.mg = keep(F.add(F.mul(slots.mg!, this.rho), F.mul(g, 1 - this.rho)), slots.mg!));
      denominator = F.add(F.sub(v, F.square(mg)), this.epsilon);
    } else {
      denominator = F.add(v, this.epsilon);
    }
    const increment = F.div(F.mul(g, lr), F.sqrt(denominator));
    if (this.momentum === 0) return { w: F.sub(w, increment), slots: next };
    const m = (next.m = keep(F.add(F.mul(slots.m!, this.momentum), increment), slots.m!));
    return { w: F.sub(w, m), slots: next };
  }

  protected ownConfig() {
    return { rho: this.rho, momentum: this.momentum, epsilon: this.epsilon, centered: this.centered };
  }
}

/**
 * Keras-style RMSprop; its whole update runs inside the compiled training step.
 * @example const opt = kiln.optimizers.rmsprop({ learningRate: 1e-3, centered: true });
 */
export function rmsprop(options: RmspropOptions = {}): RMSprop {
  return new RMSprop(options);
}
