/**
 * Adam and AdamW, as Keras 3's `Adam` and `AdamW` (default learning rate 0.001).
 *
 *   t = step + 1
 *   α = lr · sqrt(1 − β₂ᵗ) / (1 − β₁ᵗ)         (once per step, shared by all parameters;
 *                                              1 − βᵗ as −expm1(t · ln β), see oneMinusPower)
 *   m ← m + (g − m) · (1 − β₁)                (slot `m`, zeros at first)
 *   v ← v + (g² − v) · (1 − β₂)               (slot `v`, zeros)
 *   amsgrad: v̂ ← max(v̂, v), used for v       (slot `vhat`, zeros)
 *   w ← w − m · α / (sqrt(v) + ε)             (ε = 1e-7)
 *
 * AdamW is Adam with weightDecay defaulting to 0.004, applied as every Keras 3
 * optimizer applies it: w ← w − lr · wd · w before the update (decoupled).
 *
 * PyTorch's `Adam` puts ε next to the bias-corrected second moment,
 * w ← w − lr/(1 − β₁ᵗ) · m / (sqrt(v)/sqrt(1 − β₂ᵗ) + ε), with ε = 1e-8: the
 * Keras form is that with ε scaled by sqrt(1 − β₂ᵗ), so the two differ most in
 * the first steps and where v is tiny. Its `weight_decay` on Adam is an L2 term
 * added to g; `AdamW` decays like Keras (w ← w − lr · wd · w) with default 0.01.
 * Its amsgrad keeps the maximum of the raw v, as Keras does. `convention:
 * 'pytorch'` gives that form (prepare computes lr/(1 − β₁ᵗ) and sqrt(1 − β₂ᵗ)).
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { checkOption, Optimizer, OPTIMIZER_KEYS, type OptimizerOptions, type Slot, type StepScalars, type Updated, type Keep } from './optimizer.js';

/**
 * 1 − βᵗ as −expm1(t · ln β), with ln β taken in float64: β = 0.999 rounded to
 * float32 would put a 1.3e-5 relative error into 1 − β (Keras' pow form has it).
 */
function oneMinusPower(beta: number | Tensor, t: Tensor): Tensor {
  if (typeof beta !== 'number') return F.neg(F.expm1(F.mul(t, F.log(beta)))); // a runtime β: ln 0 = −∞ still gives 1
  return beta === 0 ? F.onesLike(t) : F.neg(F.expm1(F.mul(t, Math.log(beta))));
}

export interface AdamOptions extends OptimizerOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Use the maximum of all second moments so far (Reddi et al., 2018). */
  amsgrad?: boolean;
}

/** Adam, optionally AMSGrad; made by `kiln.optimizers.adam`. */
export class Adam extends Optimizer<AdamOptions> {
  static override readonly optionKeys = optionKeys<AdamOptions>({ beta1: true, beta2: true, epsilon: true, amsgrad: true, ...OPTIMIZER_KEYS });
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly amsgrad: boolean;

  constructor(options: AdamOptions = {}, subject = 'adam', className = 'Adam') {
    super(subject, className, options, 0.001);
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-7;
    this.amsgrad = options.amsgrad ?? false;
    checkOption(subject, 'beta1', this.beta1, (x) => x >= 0 && x < 1, 'in [0, 1)');
    checkOption(subject, 'beta2', this.beta2, (x) => x >= 0 && x < 1, 'in [0, 1)');
    checkOption(subject, 'epsilon', this.epsilon, (x) => x >= 0, '>= 0');
  }

  protected slots(): Slot[] {
    return [{ name: 'm', initial: 0 }, { name: 'v', initial: 0 }, ...(this.amsgrad ? [{ name: 'vhat', initial: 0 }] : [])];
  }

  protected override get decoupledDecay(): boolean {
    return !this.pytorch || this.className === 'AdamW';
  }

  /** PyTorch's β₁ is a runtime scalar, so OneCycleLR can cycle it without recompiling. */
  protected override runtimeHyperparameters(): Readonly<Record<string, number>> {
    return this.pytorch ? { beta1: this.beta1 } : {};
  }

  protected override prepare(scalars: StepScalars): StepScalars {
    const t = F.add(scalars.step, 1);
    if (this.pytorch) return { ...scalars, stepSize: F.div(scalars.lr, oneMinusPower(scalars.beta1!, t)), root2: F.sqrt(oneMinusPower(this.beta2, t)) };
    const alpha = F.div(F.mul(scalars.lr, F.sqrt(oneMinusPower(this.beta2, t))), oneMinusPower(this.beta1, t));
    return { ...scalars, alpha };
  }

  protected update(g: Tensor, w: Tensor, slots: Readonly<Record<string, Tensor>>, { alpha, stepSize, root2, beta1 }: StepScalars, keep: Keep): Updated {
    const m = keep(F.add(slots.m!, F.mul(F.sub(g, slots.m!), this.pytorch ? F.sub(1, beta1!) : 1 - this.beta1)), slots.m!);
    const v = keep(F.add(slots.v!, F.mul(F.sub(F.square(g), slots.v!), 1 - this.beta2)), slots.v!);
    const vhat = this.amsgrad ? keep(F.maximum(slots.vhat!, v), slots.vhat!) : undefined;
    const next = this.pytorch
      ? F.sub(w, F.div(F.mul(m, stepSize!), F.add(F.div(F.sqrt(vhat ?? v), root2!), this.epsilon)))
      : F.sub(w, F.div(F.mul(m, alpha!), F.add(F.sqrt(vhat ?? v), this.epsilon)));
    return { w: next, slots: vhat ? { m, v, vhat } : { m, v } };
  }

  protected ownConfig() {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, amsgrad: this.amsgrad };
  }
}

/** Adam with decoupled weight decay (default 0.004); made by `kiln.optimizers.adamw`. */
export class AdamW extends Adam {
  constructor(options: AdamOptions = {}) {
    // null or another non-object goes to Adam's option check as it is, which names it
    super(typeof options === 'object' && options !== null && !Array.isArray(options) ? { ...options, weightDecay: options.weightDecay ?? 0.004 } : options, 'adamw', 'AdamW');
  }
}

/**
 * Keras-style Adam; its whole update runs inside the compiled training step.
 * @example const opt = kiln.optimizers.adam({ learningRate: 1e-3 });
 */
export function adam(options: AdamOptions = {}): Adam {
  return new Adam(options);
}

/**
 * Keras-style AdamW: Adam with decoupled weight decay w ← w − lr · wd · w.
 * @example const opt = kiln.optimizers.adamw({ learningRate: 1e-3, weightDecay: 0.01 });
 */
export function adamw(options: AdamOptions = {}): AdamW {
  return new AdamW(options);
}
