/**
 * Adagrad, as Keras 3's `Adagrad` (default learning rate 0.001).
 *
 *   a ← a + g²                         (slot `accumulator`, starts at initialAccumulatorValue = 0.1)
 *   w ← w − lr · g / sqrt(a + ε)       (ε = 1e-7, inside the square root)
 *
 * PyTorch's `Adagrad` starts the accumulator at 0, puts ε outside the root,
 * lr · g / (sqrt(a) + ε) with ε = 1e-10, and has an `lr_decay`
 * (lr / (1 + (t − 1) · lr_decay)) that Keras leaves to a schedule.
 * `convention: 'pytorch'` gives that form (with `lrDecay`; pass
 * initialAccumulatorValue 0 and epsilon 1e-10 for PyTorch's defaults).
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { checkOption, Optimizer, OPTIMIZER_KEYS, type OptimizerOptions, type Slot, type StepScalars, type Updated, type Keep } from './optimizer.js';

export interface AdagradOptions extends OptimizerOptions {
  initialAccumulatorValue?: number;
  epsilon?: number;
  /** PyTorch's lr_decay: the step's rate is lr / (1 + steps taken · lrDecay) (convention 'pytorch' only). */
  lrDecay?: number;
}

/** Adagrad; made by `kiln.optimizers.adagrad`. */
export class Adagrad extends Optimizer<AdagradOptions> {
  static override readonly optionKeys = optionKeys<AdagradOptions>({ initialAccumulatorValue: true, epsilon: true, lrDecay: true, ...OPTIMIZER_KEYS });
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
  readonly lrDecay: number;

  constructor(options: AdagradOptions = {}) {
    super('adagrad', 'Adagrad', options, 0.001);
    this.initialAccumulatorValue = options.initialAccumulatorValue ?? 0.1;
    this.epsilon = options.epsilon ?? 1e-7;
    checkOption('adagrad', 'initialAccumulatorValue', this.initialAccumulatorValue, (x) => x >= 0, '>= 0');
    this.lrDecay = options.lrDecay ?? 0;
    checkOption('adagrad', 'epsilon', this.epsilon, (x) => x >= 0, '>= 0');
    checkOption('adagrad', 'lrDecay', this.lrDecay, (x) => x >= 0, '>= 0');
  }

  protected slots(): Slot[] {
    return [{ name: 'accumulator', initial: this.initialAccumulatorValue }];
  }

  protected update(g: Tensor, w: Tensor, slots: Readonly<Record<string, Tensor>>, { lr, step }: StepScalars, keep: Keep): Updated {
    const accumulator = keep(F.add(slots.accumulator!, F.square(g)), slots.accumulator!);
    if (this.pytorch) {
      const rate = this.lrDecay === 0 ? lr : F.div(lr, F.add(F.mul(step, this.lrDecay), 1));
      return { w: F.sub(w, F.div(F.mul(g, rate), F.add(F.sqrt(accumulator), this.epsilon))), slots: { accumulator } };
    }
    return { w: F.sub(w, F.div(F.mul(g, lr), F.sqrt(F.add(accumulator, this.epsilon)))), slots: { accumulator } };
  }

  protected ownConfig() {
    return { initialAccumulatorValue: this.initialAccumulatorValue, epsilon: this.epsilon };
  }
}

/**
 * Keras-style Adagrad; its whole update runs inside the compiled training step.
 * @example const opt = kiln.optimizers.adagrad({ learningRate: 0.01 });
 */
export function adagrad(options: AdagradOptions = {}): Adagrad {
  return new Adagrad(options);
}
