/**
 * The op records every table-driven test loops over: one record per op function
 * (primitive or composite), each making random arguments of random shapes.
 * `covers` lists the primitives a record exercises, so a primitive without a
 * record fails the coverage test.
 */
import * as kiln from '../../compiler/index.js';
import type { OpName, Tensor } from '../../compiler/index.js';
import { broadcastPartner, Rng } from '../util/random.js';

export interface Case {
  fn: (...args: Tensor[]) => Tensor;
  args: Tensor[];
  /** Arguments whose leading axis may be the dynamic batch dimension (true: the first). */
  batch?: boolean | readonly number[];
}

export interface OpRecord {
  name: string;
  covers: readonly OpName[];
  make: (rng: Rng) => Case;
  /** Has a gradient to check (false for comparisons, integer outputs). */
  grad: boolean;
  /** Loosen the finite-difference tolerance (ops with steep curvature). */
  rtol?: number;
}

const unaryRecord = (name: keyof typeof kiln & string, covers: OpName[], domain: (rng: Rng, shape: number[]) => Tensor = (r, s) => r.normal(s), grad = true): OpRecord => ({
  name,
  covers,
  grad,
  make: (rng) => {
    const f = kiln[name] as (x: Tensor) => Tensor;
    return { fn: (x) => f(x), args: [domain(rng, rng.shape(rng.int(0, 3)))], batch: true };
  },
});

const positive = (rng: Rng, s: number[]) => rng.uniform(s, 0.2, 3);
const offGrid = (rng: Rng, s: number[]) => rng.offGrid(s);

const binaryRecord = (name: keyof typeof kiln & string, covers: OpName[], options: { left?: (rng: Rng, s: number[]) => Tensor; right?: (rng: Rng, s: number[]) => Tensor; grad?: boolean } = {}): OpRecord => ({
  name,
  covers,
  grad: options.grad ?? true,
  make: (rng) => {
    const f = kiln[name] as (a: Tensor, b: Tensor) => Tensor;
    const shape = rng.shape(rng.int(1, 3));
    const other = broadcastPartner(rng, shape);
    const [sa, sb] = rng.next() < 0.5 ? [shape, other] : [other, shape];
    const make = (g: ((rng: Rng, s: number[]) => Tensor) | undefined, s: number[]) => (g ? g(rng, s) : rng.normal(s));
    const carries = (s: number[]) => s.length === shape.length && s[0] === shape[0];
    return { fn: (a, b) => f(a, b), args: [make(options.left, sa), make(options.right, sb)], batch: [0, 1].filter((i) => carries([sa, sb][i]!)) };
  },
});

const reduceRecord = (name: 'sum' | 'prod' | 'max' | 'min' | 'mean' | 'logSumExp' | 'variance', covers: OpName[]): OpRecord => ({
  name,
  covers,
  grad: true,
  make: (rng) => {
    const rank = rng.int(1, 3);
    const shape = rng.shape(rank);
    const axes = [...new Set(Array.from({ length: rng.int(1, rank) }, () => rng.int(0, rank - 1)))];
    const keepDims = rng.next() < 0.5;
    const f = kiln[name] as (x: Tensor, axis?: number[], keep?: boolean) => Tensor;
    // prod: keep values away from 0 so the finite differences stay well-conditioned
    const x = name === 'prod' ? rng.uniform(shape, 0.5, 1.5) : rng.normal(shape);
    return { fn: (t) => f(t, axes, keepDims), args: [x], batch: true };
  },
});

export const records: OpRecord[] = [
  unaryRecord('neg', ['neg']),
  unaryRecord('abs', ['abs']),
  unaryRecord('sign', ['sign'], offGrid),
  unaryRecord('exp', ['exp']),
  unaryRecord('expm1', ['expm1']),
  unaryRecord('log', ['log'], positive),
  unaryRecord('log1p', ['log1p'], positive),
  unaryRecord('sqrt', ['sqrt'], positive),
  unaryRecord('rsqrt', ['rsqrt'], positive),
  unaryRecord('square', ['square']),
  unaryRecord('reciprocal', ['reciprocal'], positive),
  unaryRecord('sin', ['sin']),
  unaryRecord('cos', ['cos']),
  unaryRecord('tanh', ['tanh']),
  unaryRecord('sigmoid', ['sigmoid']),
  unaryRecord('erf', ['erf']),
  unaryRecord('relu', ['relu']),
  unaryRecord('relu6', ['clip'], (r, s) => r.uniform(s, -3, 9)),
  unaryRecord('leakyRelu', ['where', 'gt']),
  unaryRecord('elu', ['expm1', 'minimum', 'where']),
  unaryRecord('selu', ['expm1', 'where']),
  unaryRecord('gelu', ['erf']),
  { name: 'gelu (tanh)', covers: ['tanh'], grad: true, make: (rng) => ({ fn: (x) => kiln.gelu(x, { approximate: 'tanh' }), args: [rng.normal(rng.shape(2))], batch: true }) },
  unaryRecord('softplus', ['log1p', 'exp', 'abs', 'relu']),
  unaryRecord('silu', ['sigmoid']),
  unaryRecord('floor', ['floor'], offGrid),
  unaryRecord('ceil', ['ceil'], offGrid),
  unaryRecord('round', ['round'], (r, s) => r.offGrid(s, 0).add(0.5)),
  { name: 'clip', covers: ['clip'], grad: true, make: (rng) => ({ fn: (x) => kiln.clip(x, -0.5, 0.7), args: [rng.offGrid(rng.shape(2), 0.05).mul(0.25)], batch: true }) },
  { name: 'logicalNot', covers: ['logicalNot'], grad: false, make: (rng) => ({ fn: (x) => kiln.logicalNot(x), args: [rng.bools(rng.shape(2))], batch: true }) },
  { name: 'cast', covers: ['cast'], grad: true, make: (rng) => ({ fn: (x) => kiln.cast(kiln.cast(kiln.cast(x, 'int32'), 'float32'), 'float32').add(x), args: [rng.offGrid(rng.shape(2))], batch: true }) },
  { name: 'cast to bool', covers: ['cast'], grad: false, make: (rng) => ({ fn: (x) => kiln.cast(x, 'bool'), args: [rng.ints(rng.shape(2), -1, 1)], batch: true }) },
  { name: 'stopGradient', covers: ['stopGradient'], grad: false, make: (rng) => ({ fn: (x) => kiln.mul(x, kiln.stopGradient(x)), args: [rng.normal(rng.shape(2))], batch: true }) },

  binaryRecord('add', ['add']),
  binaryRecord('sub', ['sub']),
  binaryRecord('mul', ['mul']),
  binaryRecord('div', ['div'], { right: positive }),
  binaryRecord('pow', ['pow'], { left: positive }),
  binaryRecord('maximum', ['maximum']),
  binaryRecord('minimum', ['minimum']),
  binaryRecord('mod', ['mod'], { left: (r, s) => r.offGrid(s).mul(3), right: (_, s) => kiln.fill(s, 3) }),
  binaryRecord('eq', ['eq'], { grad: false, left: (r, s) => r.ints(s, 0, 2).cast('float32'), right: (r, s) => r.ints(s, 0, 2).cast('float32') }),
  binaryRecord('ne', ['ne'], { grad: false, left: (r, s) => r.ints(s, 0, 2).cast('float32'), right: (r, s) => r.ints(s, 0, 2).cast('float32') }),
  binaryRecord('lt', ['lt'], { grad: false }),
  binaryRecord('le', ['le'], { grad: false }),
  binaryRecord('gt', ['gt'], { grad: false }),
  binaryRecord('ge', ['ge'], { grad: false }),
  binaryRecord('logicalAnd', ['logicalAnd'], { grad: false, left: (r, s) => r.bools(s), right: (r, s) => r.bools(s) }),
  binaryRecord('logicalOr', ['logicalOr'], { grad: false, left: (r, s) => r.bools(s), right: (r, s) => r.bools(s) }),
  {
    name: 'where',
    covers: ['where'],
    grad: true,
    make: (rng) => {
      const shape = rng.shape(2);
      const other = broadcastPartner(rng, shape);
      return { fn: (a, b) => kiln.where(kiln.gt(a, 0), a, b), args: [rng.normal(shape), rng.normal(other)], batch: other.length === 2 && other[0] === shape[0] ? [0, 1] : [0] };
    },
  },

  reduceRecord('sum', ['sum']),
  reduceRecord('prod', ['prod']),
  reduceRecord('max', ['max']),
  reduceRecord('min', ['min']),
  reduceRecord('mean', ['sum', 'dimSize']),
  reduceRecord('logSumExp', ['sum', 'max']),
  reduceRecord('variance', ['sum']),
  { name: 'argmax', covers: ['argmax'], grad: false, make: (rng) => { const axis = rng.int(0, 1); return { fn: (x) => kiln.argmax(x, axis), args: [rng.normal(rng.shape(2))], batch: false }; } },
  {
    name: 'nonFinite',
    covers: ['nonFinite'],
    grad: false,
    make: (rng) => {
      // sizes around the four-lane loop's tail
      const n = rng.int(1, 23);
      const data = Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
      // half the cases hide one NaN, ±Infinity or a value past the limit (a third of the cases have one: 0.75)
      const limit = rng.pick([undefined, undefined, 0.75]);
      if (rng.next() < 0.5) data[rng.int(0, n - 1)] = rng.pick([NaN, Infinity, -Infinity, ...(limit ? [-0.8, 0.75] : [])]);
      return { fn: (x) => kiln.nonFinite(x, limit === undefined ? {} : { limit }), args: [kiln.tensor(data, [n])], batch: true };
    },
  },
  { name: 'argmin', covers: ['argmin'], grad: false, make: (rng) => ({ fn: (x) => kiln.argmin(x, -1), args: [rng.normal(rng.shape(2))], batch: true }) },

  {
    name: 'matmul',
    covers: ['matmul'],
    grad: true,
    make: (rng) => {
      const [m, k, n] = [rng.dim(), rng.dim(), rng.dim()];
      const transposeA = rng.next() < 0.5;
      const transposeB = rng.next() < 0.5;
      const batchA = rng.pick([[], [2], [3, 1]]);
      const batchB = batchA.length === 0 ? rng.pick([[], [2]]) : batchA.map((d) => (rng.next() < 0.5 ? 1 : d));
      const a = rng.normal([...batchA, ...(transposeA ? [k, m] : [m, k])]);
      const b = rng.normal([...batchB, ...(transposeB ? [n, k] : [k, n])]);
      return { fn: (x, y) => kiln.matmul(x, y, { transposeA, transposeB }), args: [a, b], batch: batchA.length === 0 && !transposeA ? [0] : [] };
    },
  },
  { name: 'matmul (vector)', covers: ['matmul', 'reshape'], grad: true, make: (rng) => { const k = rng.dim(); return { fn: (x, y) => kiln.matmul(x, y), args: [rng.normal([rng.dim(), k]), rng.normal([k])], batch: true }; } },

  { name: 'reshape', covers: ['reshape'], grad: true, make: (rng) => { const s = rng.shape(3); return { fn: (x) => kiln.reshape(x, [-1, s[1]! * s[2]!]).mul(2), args: [rng.normal(s)], batch: true }; } },
  { name: 'transpose', covers: ['transpose'], grad: true, make: (rng) => { const perm = rng.pick([[1, 2, 0], [2, 0, 1], [0, 2, 1]]); return { fn: (x) => kiln.transpose(x, perm), args: [rng.normal(rng.shape(3))], batch: true }; } },
  // the last axis kept with rows of at least 8 values (copied a row at a time), a dynamic batch moved inward
  { name: 'transposeRows', covers: ['transpose'], grad: true, make: (rng) => { const perm = rng.pick([[1, 0, 2], [2, 1, 0, 3], [0, 2, 1, 3]]); return { fn: (x) => kiln.transpose(x, perm), args: [rng.normal([...rng.shape(perm.length - 1), rng.pick([8, 9, 16])])], batch: true }; } },
  { name: 'broadcastTo', covers: ['broadcastTo'], grad: true, make: (rng) => { const s = rng.shape(3); const d = rng.dim(); return { fn: (x) => kiln.broadcastTo(x, [d, ...s.slice(1)]), args: [rng.normal([1, ...s.slice(1)])], batch: false }; } },
  { name: 'expandDims', covers: ['reshape'], grad: true, make: (rng) => ({ fn: (x) => kiln.expandDims(x, -1), args: [rng.normal(rng.shape(2))], batch: true }) },
  { name: 'squeeze', covers: ['reshape'], grad: true, make: (rng) => ({ fn: (x) => kiln.squeeze(x, 1), args: [rng.normal([rng.dim(), 1, rng.dim()])], batch: true }) },
  {
    name: 'stridedSlice',
    covers: ['slice', 'pad'],
    grad: true,
    make: (rng) => {
      const s = [rng.int(4, 9), rng.int(3, 7)];
      const [b1, e0, s0, s1] = [rng.int(0, 1), s[0]! - rng.int(0, 2), rng.int(1, 3), rng.int(1, 2)];
      return { fn: (x) => kiln.stridedSlice(x, [1, b1], [e0, s[1]!], [s0, s1]), args: [rng.normal(s)], batch: false };
    },
  },
  { name: 'slice (batch kept)', covers: ['slice'], grad: true, make: (rng) => ({ fn: (x) => kiln.slice(x, [0, 1], [-1, 2]), args: [rng.normal([rng.dim(), 5])], batch: true }) },
  {
    name: 'pad',
    covers: ['pad', 'slice'],
    grad: true,
    make: (rng) => {
      const [lo, hi, value] = [rng.int(0, 2), rng.int(0, 3), rng.pick([0, -1.5])];
      return { fn: (x) => kiln.pad(x, [[0, 0], [lo, hi], [1, 0]], value), args: [rng.normal(rng.shape(3))], batch: true };
    },
  },
  { name: 'concat', covers: ['concat', 'slice'], grad: true, make: (rng) => { const [a, b] = [rng.dim(), rng.dim()]; return { fn: (x, y, z) => kiln.concat([x, y, z], 1), args: [rng.normal([a, b]), rng.normal([a, rng.dim()]), rng.normal([a, 1])], batch: [0, 1, 2] }; } },
  // rows of 8 or more values: slices and concats along the last axis copy whole rows (memory.copy)
  {
    name: 'wideRows',
    covers: ['concat', 'slice'],
    grad: true,
    make: (rng) => {
      const n = rng.int(1, 4);
      const [w, extra, lead] = [rng.int(8, 11), rng.int(0, 3), rng.int(0, 3)];
      return { fn: (x, y) => kiln.mul(kiln.concat([kiln.slice(x, [0, lead], [-1, w]), y], 1), 1.5), args: [rng.normal([n, lead + w + extra]), rng.normal([n, rng.int(8, 12)])], batch: [0, 1] };
    },
  },
  { name: 'stack', covers: ['concat', 'reshape'], grad: true, make: (rng) => { const s = rng.shape(2); const axis = rng.int(0, 2); return { fn: (x, y) => kiln.stack([x, y], axis), args: [rng.normal(s), rng.normal(s)], batch: false }; } },
  { name: 'split', covers: ['slice'], grad: true, make: (rng) => ({ fn: (x) => { const [p, q] = kiln.split(x, [2, 3], 1); return kiln.mul(kiln.sum(p!), kiln.sum(kiln.square(q!))); }, args: [rng.normal([rng.dim(), 5])], batch: true }) },
  { name: 'tile', covers: ['reshape', 'broadcastTo'], grad: true, make: (rng) => { const reps = [rng.int(1, 3), rng.int(1, 3)]; return { fn: (x) => kiln.tile(x, reps), args: [rng.normal(rng.shape(2))], batch: false }; } },
  {
    name: 'gather',
    covers: ['gather', 'scatterAdd'],
    grad: true,
    make: (rng) => {
      const [v, d] = [rng.int(2, 7), rng.dim()];
      const axis = rng.int(0, 1);
      const idx = rng.ints([rng.dim(), rng.int(1, 3)], 0, (axis === 0 ? v : d) - 1);
      return { fn: (x, i) => kiln.gather(x, i, axis), args: [rng.normal([v, d]), idx], batch: false };
    },
  },
  {
    name: 'batchGather',
    covers: ['batchGather', 'batchScatterAdd'],
    grad: true,
    make: (rng) => {
      const [b, n, c] = [rng.dim(), rng.int(2, 6), rng.int(1, 3)];
      return { fn: (x, i) => kiln.batchGather(x, i), args: [rng.normal([b, n, c]), rng.ints([b, rng.int(1, 7)], 0, n - 1)], batch: [0, 1] };
    },
  },
  { name: 'oneHot', covers: ['eq', 'cast', 'reshape'], grad: false, make: (rng) => ({ fn: (i) => kiln.oneHot(i, 5), args: [rng.ints([rng.dim()], -1, 5)], batch: true }) },

  { name: 'softmax', covers: ['exp', 'sum', 'max', 'div'], grad: true, make: (rng) => { const axis = rng.pick([0, -1]); return { fn: (x) => kiln.softmax(x, axis), args: [rng.normal(rng.shape(2))], batch: false }; } },
  { name: 'logSoftmax', covers: ['exp', 'sum', 'log'], grad: true, make: (rng) => ({ fn: (x) => kiln.logSoftmax(x), args: [rng.normal(rng.shape(2))], batch: true }) },
  ...(['categoricalCrossentropy', 'binaryCrossentropy', 'meanSquaredError', 'meanAbsoluteError', 'huber'] as const).flatMap((name): OpRecord[] => [false, true].map((fromLogits) => ({
    name: `${name}${fromLogits ? ' (logits)' : ''}`,
    covers: ['sum'],
    grad: true,
    make: (rng) => {
      const shape = [rng.dim(), rng.int(2, 6)];
      const probs = name === 'categoricalCrossentropy' ? kiln.softmax(rng.normal(shape)) : rng.uniform(shape, 0, 1);
      const predictions = fromLogits ? rng.normal(shape) : rng.uniform(shape, 0.05, 0.95);
      const f = kiln[name] as (l: Tensor, p: Tensor, o: object) => Tensor;
      const reduction = rng.pick(['mean', 'sum', 'none']);
      return { fn: (l, p) => f(l, p, { fromLogits, reduction }), args: [probs, predictions], batch: [0, 1] };
    },
  }))).filter((r) => !(r.name.endsWith('(logits)') && !/Crossentropy/.test(r.name))),
  {
    name: 'sparseCategoricalCrossentropy',
    covers: ['eq', 'cast'],
    grad: true,
    make: (rng) => {
      const [n, c] = [rng.dim(), rng.int(2, 7)];
      const fromLogits = rng.next() < 0.5;
      const predictions = fromLogits ? rng.normal([n, c]) : kiln.softmax(rng.normal([n, c]));
      return { fn: (p, l) => kiln.sparseCategoricalCrossentropy(l, p, { fromLogits }), args: [predictions, rng.ints([n], 0, c - 1)], batch: [0, 1] };
    },
  },
  {
    // scaled by x so the draw's shape can carry the batch; steps include negative and fractional values
    name: 'randomUniformOp',
    covers: ['randomUniform', 'mul'],
    grad: false,
    make: (rng) => {
      const shape = rng.shape(rng.int(1, 3));
      const [seed, step] = [rng.int(0, 2 ** 31), rng.pick([0, 1, 7, -3, 2.5, rng.int(0, 1 << 20)])];
      return { fn: (x, s) => kiln.mul(x, kiln.randomUniformOp(x.type.shape, seed, s)), args: [rng.normal(shape), kiln.scalar(step)], batch: [0] };
    },
  },
  {
    // a small recurrence scanned along axis 1, so the sequence's leading axis can be the batch; every result used
    name: 'scan',
    covers: ['scan', 'scanPart'],
    grad: true,
    make: (rng) => {
      const [n, steps, f] = [rng.dim(), rng.int(1, 5), rng.int(1, 4)];
      const reverse = rng.next() < 0.5;
      const fn = (h0: Tensor, xs: Tensor, w: Tensor) => {
        const [h, ys] = kiln.scan((h: Tensor, x: Tensor) => {
          const next = kiln.tanh(kiln.add(kiln.mul(h, w), x));
          return [next, kiln.mul(next, next)];
        }, h0, xs, { axis: 1, reverse });
        return kiln.add(ys as Tensor, kiln.expandDims(h, 1));
      };
      return { fn, args: [rng.normal([n, f]), rng.normal([n, steps, f]), rng.normal([f])], batch: [0, 1] };
    },
  },
];
