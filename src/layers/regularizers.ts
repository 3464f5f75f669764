/**
 * @file Weight regularizers, as Keras': a penalty of a weight added to the
 * training loss (`l1 · Σ|w| + l2 · Σw²`). A layer takes them as
 * `kernelRegularizer`, `biasRegularizer` (`embeddingsRegularizer`), by name
 * ('l1', 'l2', 'l1l2', with Keras' default factor 0.01) or as an object.
 */
import { checkOptions } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import { fail } from '../../compiler/functions/util.js';
import type { Tensor } from '../../compiler/tensor.js';

export interface Regularizer {
  readonly className: string;
  readonly config: object;
  /** The scalar penalty of weight `w`, added to the training loss. */
  penalty(w: Tensor): Tensor;
}

export type RegularizerName = 'l1' | 'l2' | 'l1l2' | 'l1_l2' | 'L1' | 'L2' | 'L1L2';
/** A regularizer by name or object, as the layers' `…Regularizer` options. */
export type RegularizerIdentifier = RegularizerName | Regularizer;

function factor(subject: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(subject, `expected ${key} to be a finite number >= 0, got ${JSON.stringify(v) ?? String(v)}`);
  return v as number;
}

class L1L2 implements Regularizer {
  constructor(readonly className: string, readonly l1: number, readonly l2: number) {}
  get config(): object {
    return this.className === 'L1' ? { l1: this.l1 } : this.className === 'L2' ? { l2: this.l2 } : { l1: this.l1, l2: this.l2 };
  }
  penalty(w: Tensor): Tensor {
    const terms: Tensor[] = [];
    if (this.l1) terms.push(F.mul(F.sum(F.abs(w)), this.l1));
    if (this.l2) terms.push(F.mul(F.sum(F.square(w)), this.l2));
    // both factors 0: a zero of w's graph, so the penalty still traces
    return terms.length ? terms.reduce((a, b) => F.add(a, b)) : F.mul(F.sum(w), 0);
  }
}

/** `l1 · Σ|w|`. */
export const l1 = (options: { l1?: number } = {}): Regularizer => {
  checkOptions('regularizers.l1', options, ['l1']);
  return new L1L2('L1', factor('regularizers.l1', 'l1', options.l1 ?? 0.01), 0);
};
/** `l2 · Σw²`. */
export const l2 = (options: { l2?: number } = {}): Regularizer => {
  checkOptions('regularizers.l2', options, ['l2']);
  return new L1L2('L2', 0, factor('regularizers.l2', 'l2', options.l2 ?? 0.01));
};
/** `l1 · Σ|w| + l2 · Σw²`. */
export const l1l2 = (options: { l1?: number; l2?: number } = {}): Regularizer => {
  checkOptions('regularizers.l1l2', options, ['l1', 'l2']);
  return new L1L2('L1L2', factor('regularizers.l1l2', 'l1', options.l1 ?? 0.01), factor('regularizers.l1l2', 'l2', options.l2 ?? 0.01));
};

const byName: Record<string, () => Regularizer> = { l1: () => l1(), l2: () => l2(), l1l2: () => l1l2(), l1_l2: () => l1l2() };

/** The regularizer names `get` accepts. */
export const regularizerNames: readonly string[] = ['l1', 'l2', 'l1l2'];

/**
 * A regularizer from a name ('l1', 'l2', 'l1l2'), a `{ className, config }`
 * (as getConfig reports it) or a Regularizer, returned as is.
 */
export function get(identifier: RegularizerIdentifier | { className: string; config?: object }, subject = 'regularizers.get'): Regularizer {
  if (typeof identifier === 'object' && identifier !== null) {
    if (typeof (identifier as Regularizer).penalty === 'function') return identifier as Regularizer;
    const { className, config = {} } = identifier as { className: string; config?: Record<string, number> };
    const make = ({ L1: l1, L2: l2, L1L2: l1l2 } as Record<string, (c: object) => Regularizer>)[className];
    if (make) return make(config);
  }
  if (typeof identifier === 'string') {
    const make = byName[identifier.toLowerCase()];
    if (make) return make();
  }
  return fail(subject, `unknown regularizer ${typeof identifier === 'string' ? `'${identifier}'` : JSON.stringify(identifier)}; expected a Regularizer or one of ${regularizerNames.map((n) => `'${n}'`).join(', ')}`);
}

/** `{ className, config }` of a regularizer (undefined stays undefined), for getConfig. */
export const serialize = (r: Regularizer | undefined): object | undefined => (r ? { className: r.className, config: r.config } : undefined);
