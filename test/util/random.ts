/** Seeded test data: shapes with 1, primes and sizes that are not multiples of 4. */
import * as kiln from '../../compiler/index.js';

export class Rng {
  private state: number;
  constructor(seed: number) { this.state = seed >>> 0 || 1; }
  next(): number {
    // xorshift32: plenty for picking shapes
    let x = this.state;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.next() * xs.length)]!; }
  dim(): number { return this.pick([1, 2, 3, 5, 6, 7]); }
  shape(rank: number): number[] { return Array.from({ length: rank }, () => this.dim()); }
  seed(): number { return this.int(1, 1 << 30); }
  normal(shape: readonly number[]): kiln.Tensor { return kiln.randomNormal(shape, { seed: this.seed() }); }
  uniform(shape: readonly number[], minval: number, maxval: number): kiln.Tensor { return kiln.randomUniform(shape, { seed: this.seed(), minval, maxval }); }
  ints(shape: readonly number[], lo: number, hi: number): kiln.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return kiln.tensor(Int32Array.from({ length: n }, () => this.int(lo, hi)), shape, 'int32');
  }
  bools(shape: readonly number[]): kiln.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    return kiln.tensor(Uint8Array.from({ length: n }, () => (this.next() < 0.5 ? 1 : 0)), shape, 'bool');
  }
  /** Values at least `gap` away from the integers: keeps floor/round/mod off their jumps. */
  offGrid(shape: readonly number[], gap = 0.15): kiln.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, () => this.int(-3, 3) + gap + this.next() * (1 - 2 * gap));
    return kiln.tensor(values, shape);
  }
}

/** Broadcast-compatible partner of `shape`: some axes set to 1, maybe fewer leading axes. */
export function broadcastPartner(rng: Rng, shape: readonly number[]): number[] {
  const drop = rng.int(0, shape.length);
  return shape.slice(drop).map((d) => (rng.next() < 0.3 ? 1 : d));
}
