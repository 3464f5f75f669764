/**
 * @file The graph IR: immutable typed nodes in topological order (a node's id is
 * its index), named inputs by kind, named outputs, and updates (`state ← node`).
 * `print` gives one line a node; `hashGraph` is the structural hash caches key on.
 */
import type { OpName, OpParams } from './ops/index.js';
import { KilnError } from './errors.js';
import { formatType, type TensorType } from './types.js';

export type InputKind = 'data' | 'parameter' | 'state' | 'scalar';
export const inputKinds: readonly InputKind[] = ['data', 'parameter', 'state', 'scalar'];

export interface Node<K extends OpName = OpName> {
  readonly id: number;
  readonly op: K;
  readonly inputs: readonly number[];
  readonly params: OpParams[K];
  readonly type: TensorType;
  /** The user's `file:line` that made this node. */
  readonly origin?: string | undefined;
}

export interface GraphInput {
  readonly name: string;
  readonly kind: InputKind;
  readonly id: number;
}

export interface GraphOutput {
  readonly name: string;
  readonly id: number;
}

/** After a training step, input `target` (a parameter or state) takes the value of node `id`. */
export interface Update {
  readonly target: string;
  readonly id: number;
}

export interface Graph {
  readonly nodes: readonly Node[];
  readonly inputs: readonly GraphInput[];
  readonly outputs: readonly GraphOutput[];
  readonly updates: readonly Update[];
}

/**
 * A graph with new `nodes` (already in order, ids = positions) whose inputs,
 * outputs and updates are `g`'s, moved to the new ids by `id(old)`.
 */
export function withNodes(g: Graph, nodes: readonly Node[], id: (old: number) => number): Graph {
  checkGraph('withNodes', g);
  return Object.freeze({
    nodes: Object.freeze([...nodes]),
    inputs: Object.freeze(g.inputs.map((i) => Object.freeze({ ...i, id: id(i.id) }))),
    outputs: Object.freeze(g.outputs.map((o) => Object.freeze({ ...o, id: id(o.id) }))),
    updates: Object.freeze(g.updates.map((u) => Object.freeze({ ...u, id: id(u.id) }))),
  });
}

export function isGraph(x: unknown): x is Graph {
  return typeof x === 'object' && x !== null && 'nodes' in x && 'outputs' in x && 'updates' in x;
}

/** `g` as a Graph, or a KilnError naming `subject`: what graph functions take first. */
export function checkGraph(subject: string, g: unknown): Graph {
  if (!isGraph(g)) throw new KilnError(`${subject}: expected a graph (from kiln.trace), got ${g === null ? 'null' : Array.isArray(g) ? 'an array' : typeof g}.`);
  return g;
}

function formatNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Math.fround(x) === x ? x : x.toPrecision(8));
}

/** Params as `key=value`, with arrays inline and nested graphs by hash. */
export function formatParams(params: object): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    parts.push(`${key}=${formatParam(value)}`);
  }
  return parts.join(' ');
}

function formatParam(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (ArrayBuffer.isView(value)) {
    const arr = Array.from(value as unknown as ArrayLike<number>);
    return arr.length <= 8 ? `[${arr.map(formatNumber).join(',')}]` : `<${arr.length} values #${hashValues(arr)}>`;
  }
  if (Array.isArray(value)) return `[${value.map(formatParam).join(',')}]`;
  if (isGraph(value)) return `graph#${hashGraph(value)}`;
  if (typeof value === 'object' && value !== null) return `{${formatParams(value)}}`;
  return String(value);
}

/** One line a node: `%7: f32[32,10] = matmul %5, %6 transposeB=true`. */
export function printNode(node: Node): string {
  if (typeof node !== 'object' || node === null || !('op' in node)) throw new KilnError(`printNode: expected a graph node, got ${node === null ? 'null' : typeof node}.`);
  const args = node.inputs.map((i) => `%${i}`).join(', ');
  const params = formatParams(node.params as object);
  const rhs = [node.op, args, params].filter((s) => s.length > 0).join(' ');
  return `%${node.id}: ${formatType(node.type)} = ${rhs}`;
}

export function print(g: Graph, options: { origins?: boolean } = {}): string {
  checkGraph('print', g);
  const lines = g.nodes.map((n) => (options.origins && n.origin ? `${printNode(n)}  # ${n.origin}` : printNode(n)));
  for (const o of g.outputs) lines.push(`output ${o.name} = %${o.id}`);
  for (const u of g.updates) lines.push(`update ${u.target} <- %${u.id}`);
  return lines.join('\n');
}

// FNV-1a over a canonical text; collisions are harmless for printing and rare enough for caching.
function fnv(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 13);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

function hashValues(values: readonly number[]): string {
  return fnv(values.map((v) => v.toString(36)).join(',')).slice(0, 8);
}

/** Structural hash: equal for graphs that print the same (origins excluded). */
export function hashGraph(g: Graph): string {
  checkGraph('hashGraph', g);
  const constants = g.nodes
    .filter((n) => n.op === 'constant')
    .map((n) => Array.from((n.params as OpParams['constant']).value).join(','));
  return fnv(print(g) + '\n' + constants.join(';'));
}
