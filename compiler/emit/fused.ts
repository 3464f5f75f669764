/**
 * @file One loop for a `fused` node: the body's elementwise ops inlined per
 * element. When every input is either the output's shape or a scalar and every op
 * has a SIMD form for float32 (bool as masks), the loop runs four lanes at a time
 * with a scalar tail; otherwise a scalar loop nest indexes broadcast inputs.
 */
import type { Graph, Node } from '../ir.js';
import { ops, type OpParams } from '../ops/index.js';
import { literal, type Emit } from '../ops/op.js';
import type { DType, Shape } from '../types.js';
import { asType, at, dimExpr, indent, linear, load, nest, sizeExpr, store, strideExprs } from './code.js';
import { reduceLoop, type ReductionOp } from './reduce.js';

export interface Operand {
  readonly ptr: string;
  readonly shape: Shape;
  readonly dtype: DType;
}

/**
 * How an input is read when the output is split into rows (the first `split`
 * dimensions) and columns (the rest): the same element as the output ('full'),
 * one element for all ('scalar'), the column's element in every row ('row', a
 * bias), or the row's element in every column ('column', a per-example scale).
 */
type Kind = 'full' | 'scalar' | 'row' | 'column';

function classify(input: Shape, out: Shape, split: number): Kind | undefined {
  const padded = [...new Array<number>(out.length - input.length).fill(1), ...input];
  if (padded.every((d) => d === 1)) return 'scalar';
  const match = (d: number) => padded[d] === out[d];
  const one = (d: number) => padded[d] === 1;
  const dims = out.map((_, d) => d);
  if (dims.every(match)) return 'full';
  if (dims.every((d) => (d < split ? one(d) : match(d)))) return 'row';
  if (dims.every((d) => (d < split ? match(d) : one(d)))) return 'column';
  return undefined;
}

/** The split with the most columns at which every input has a kind, if any. */
function chooseSplit(inputs: readonly Shape[], out: Shape): { split: number; kinds: Kind[] } | undefined {
  for (let split = 0; split <= out.length; split++) {
    const kinds = inputs.map((i) => classify(i, out, split));
    if (kinds.every((k) => k !== undefined)) return { split, kinds: kinds as Kind[] };
  }
  return undefined;
}

const emitOf = (n: Node) => (ops[n.op].backend as { emit: Emit<unknown> }).emit;
const firstDtype = (body: Graph, n: Node): DType => (n.inputs.length ? body.nodes[n.inputs[0]!]!.type.dtype : n.type.dtype);

function constantOf(n: Node, simd: boolean): string {
  const v = (n.params as OpParams['constant']).value[0]!;
  const t = n.type.dtype;
  if (!simd) return t === 'bool' ? (v ? 'true' : 'false') : literal(v, t);
  return t === 'bool' ? `i32x4.splat(${v ? -1 : 0})` : `f32x4.splat(${literal(v)})`;
}

/** Whether the body can run four lanes at a time. */
function simdable(body: Graph): boolean {
  for (const n of body.nodes) {
    if (n.type.dtype === 'int32') return false;
    if (n.op === 'input' || n.op === 'constant') continue;
    const e = emitOf(n);
    if (!e.simd || e.simd(n.inputs.map(() => 'x'), n.params, firstDtype(body, n)) === undefined) return false;
  }
  return true;
}

/** The body's expressions, one `const` a node; `read(k)` gives input k's value. */
function bodyCode(body: Graph, read: (k: number) => string, simd: boolean, v: string): { code: string; result: string } {
  const lines: string[] = [];
  const name = (id: number) => `${v}${id}`;
  for (const n of body.nodes) {
    let expr: string;
    if (n.op === 'input') expr = read(body.inputs.findIndex((i) => i.id === n.id));
    else if (n.op === 'constant') expr = constantOf(n, simd);
    else {
      const args = n.inputs.map(name);
      const e = emitOf(n);
      expr = simd ? e.simd!(args, n.params, firstDtype(body, n))! : e.scalar(args, n.params, firstDtype(body, n), n.type.dtype);
    }
    lines.push(`const ${name(n.id)}${simd ? '' : `: ${asType(n.type.dtype)}`} = ${expr};`);
  }
  return { code: lines.join('\n'), result: name(body.outputs[0]!.id) };
}

/** Elements a thread takes at least of a shared loop (runtime-as/threads.ts `share_lo`). */
const GRAIN = 8192;

/**
 * The loop of a fused node. With `share`, the loop covers only this thread's
 * range of the output (rows, or groups of four columns when there is one row) and
 * the result is undefined when the loop does not split (a reduction, or inputs
 * broadcast along interleaved axes).
 */
export function emitFused(body: Graph, inputs: readonly Operand[], out: Operand): string;
export function emitFused(body: Graph, inputs: readonly Operand[], out: Operand, options: { share: true }): string | undefined;
export function emitFused(body: Graph, inputs: readonly Operand[], out: Operand, options: { share?: boolean } = {}): string | undefined {
  const root = body.nodes[body.outputs[0]!.id]!;
  const reduction = root.op === 'sum' || root.op === 'prod' || root.op === 'max' || root.op === 'min';
  const chosen = reduction ? undefined : chooseSplit(inputs.map((i) => i.shape), out.shape);
  if (options.share && !chosen) return undefined;
  if (reduction) return fusedReduction(body, root, inputs, out);
  if (!chosen) return broadcastLoop(body, inputs, out);
  const { split, kinds } = chosen;
  const rows = sizeExpr(out.shape.slice(0, split));
  const byRows = options.share && rows !== '1';
  const byColumns = options.share && rows === '1';
  const cols = byColumns ? 'hi' : sizeExpr(out.shape.slice(split));
  const shared = byRows
    ? [`const lo: i32 = share_lo(${rows}, 1, max(1, ${GRAIN} / max(1, ${sizeExpr(out.shape.slice(split))})));`, `const hi: i32 = share_hi(${rows}, 1, max(1, ${GRAIN} / max(1, ${sizeExpr(out.shape.slice(split))})));`]
    : byColumns ? [`const lo: i32 = share_lo(${sizeExpr(out.shape)}, 4, ${GRAIN});`, `const hi: i32 = share_hi(${sizeExpr(out.shape)}, 4, ${GRAIN});`] : [];
  const hoisted = inputs.flatMap((input, k) => (kinds[k] === 'scalar' ? [`const s${k}: ${asType(input.dtype)} = ${load(input.dtype, input.ptr)};`] : []));
  const perRow = inputs.flatMap((input, k) => (kinds[k] === 'column' ? [`const s${k}: ${asType(input.dtype)} = ${load(input.dtype, at(input.ptr, 'r'))};`] : []));
  const index = (k: number, i: string) => (kinds[k] === 'full' ? `row + ${i}` : i);
  const scalarRead = (k: number) => (kinds[k] === 'scalar' || kinds[k] === 'column' ? `s${k}` : load(inputs[k]!.dtype, at(inputs[k]!.ptr, index(k, 'i'))));
  const tail = bodyCode(body, scalarRead, false, 'v');
  const scalarLoop = `for (; i < ${cols}; i++) {\n${indent(tail.code)}\n  ${store(out.dtype, at(out.ptr, 'row + i'), tail.result)}\n}`;
  let loops = scalarLoop;
  if (simdable(body)) {
    const splat = (k: number) => (inputs[k]!.dtype === 'bool' ? `i32x4.splat(s${k} ? -1 : 0)` : `f32x4.splat(s${k})`);
    const splats = inputs.flatMap((_, k) => (kinds[k] === 'scalar' || kinds[k] === 'column' ? [`const w${k} = ${splat(k)};`] : []));
    const vectorRead = (i: string) => (k: number) => {
      if (kinds[k] === 'scalar' || kinds[k] === 'column') return `w${k}`;
      const v = `v128.load(${at(inputs[k]!.ptr, index(k, i))})`;
      return inputs[k]!.dtype === 'bool' ? `i32x4.ne(${v}, i32x4.splat(0))` : v;
    };
    const lanes = (i: string, v: string) => {
      const vector = bodyCode(body, vectorRead(i), true, v);
      const result = out.dtype === 'bool' ? `v128.and(${vector.result}, i32x4.splat(1))` : vector.result;
      return `${vector.code}\nv128.store(${at(out.ptr, `row + ${i}`)}, ${result});`;
    };
    const vectorLoop = `for (; i + 4 <= ${cols}; i += 4) {\n${indent(lanes('i', 'u'))}\n}`;
    // a body that calls a vmath function is a long dependency chain: two vectors an iteration let the
    // CPU overlap them (measured: sigmoid over 2048 values about 25% faster); each element's value is unchanged
    const long = body.nodes.some((n) => n.op !== 'input' && n.op !== 'constant' && /\bf32x4_\w+\(/.test(emitOf(n).simd!(n.inputs.map(() => 'x'), n.params, firstDtype(body, n)) ?? ''));
    const pairLoop = long && !(/^\d+$/.test(cols) && Number(cols) < 8) ? [`for (; i + 8 <= ${cols}; i += 8) {\n  {\n${indent(lanes('i', 'u'), '    ')}\n  }\n  {\n${indent(lanes('(i + 4)', 'x'), '    ')}\n  }\n}`] : [];
    loops = [...splats, ...pairLoop, vectorLoop, '// tail: the last columns % 4, one at a time', scalarLoop].join('\n');
  }
  const rowWidth = sizeExpr(out.shape.slice(split));
  const row = `const row: i32 = r * ${rowWidth};\n${[...perRow, `let i: i32 = ${byColumns ? 'lo' : '0'};`, loops].join('\n')}`;
  return [...shared, ...hoisted, `for (let r: i32 = ${byRows ? 'lo' : '0'}; r < ${byRows ? 'hi' : rows}; r++) {\n${indent(row)}\n}`].join('\n');
}

/** Inputs broadcast along interleaved axes: a scalar loop nest with per-input strides. */
function broadcastLoop(body: Graph, inputs: readonly Operand[], out: Operand): string {
  const inputStrides = inputs.map((input) => {
    const own = strideExprs(input.shape);
    const offset = out.shape.length - input.shape.length;
    return out.shape.map((_, d) => (d < offset || input.shape[d - offset] === 1 ? '0' : own[d - offset]!));
  });
  const loop = nest(out.shape.map(dimExpr), 'j', (idx) => {
    const read = (k: number) => load(inputs[k]!.dtype, at(inputs[k]!.ptr, linear(idx, inputStrides[k]!)));
    const b = bodyCode(body, read, false, 'v');
    return `${b.code}\n${store(out.dtype, at(out.ptr, 'k'), b.result)}\nk++;`;
  });
  return `let k: i32 = 0;\n${loop}`;
}

/** A chain of elementwise ops ending in a reduction: each element is computed, then accumulated. */
function fusedReduction(body: Graph, root: Node, inputs: readonly Operand[], out: Operand): string {
  const source = body.nodes[root.inputs[0]!]!;
  const shape = source.type.shape;
  const chain: Graph = { ...body, nodes: body.nodes.filter((n) => n.id !== root.id), outputs: [{ name: 'output', id: source.id }] };
  const inputStrides = inputs.map((input) => {
    const own = strideExprs(input.shape);
    const offset = shape.length - input.shape.length;
    return shape.map((_, d) => (d < offset || input.shape[d - offset] === 1 ? '0' : own[d - offset]!));
  });
  const { axes } = root.params as OpParams['sum'];
  return reduceLoop(root.op as ReductionOp, shape, axes, out, (index) => {
    const read = (k: number) => load(inputs[k]!.dtype, at(inputs[k]!.ptr, linear(index, inputStrides[k]!)));
    const { code, result } = bodyCode(chain, read, false, 'v');
    return { code, value: result };
  });
}
