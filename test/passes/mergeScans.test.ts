/**
 * mergeScans: a scan that repeats another's loop with more per-step outputs (and
 * saved carries) takes its place; readers of the smaller scan read the same
 * results out of the larger one, saved carries included; values are unchanged.
 */
import { expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { currentBuilder } from '../../compiler/builder.js';
import { scanParts } from '../../compiler/functions/scan.js';
import { mergeScans } from '../../compiler/passes/mergeScans.js';
import { Rng } from '../util/random.js';

type Tensor = kiln.Tensor;

/** h' = tanh(h·W + x): a scan, then a second scan over the same inputs whose body also stacks h·W (and that does or does not save carries). */
function traced(bigSaves: boolean, smallSaves: boolean): kiln.Graph {
  return kiln.trace((h0: Tensor, xs: Tensor, w: Tensor) => {
    kiln.scan((h: Tensor, x: Tensor) => { const n = kiln.tanh(kiln.add(kiln.matmul(h, w), x)); return [n, n]; }, h0, xs);
    const b = currentBuilder()!;
    const node = b.nodes.filter((n) => n.op === 'scan').pop()!;
    const p = node.params as kiln.OpParams['scan'];
    const inputs = node.inputs.map((id) => kiln.Tensor.symbolic(b.nodes[id]!.type, b, id));
    const small = { ...p, save: smallSaves };
    const s = scanParts(kiln.apply('scan', inputs, small), small);
    const matmul = p.body.nodes.find((n) => n.op === 'matmul')!;
    const big = { ...p, save: bigSaves, body: { ...p.body, outputs: [...p.body.outputs, { name: 'extra', id: matmul.id }] } };
    const l = scanParts(kiln.apply('scan', inputs, big), big);
    // the smaller scan's final carry, stacked outputs and (when it saves) saved carries, then the larger one's extra output
    return { final: s[0]!, ys: s[1]!, ...(smallSaves ? { saved: s[2]! } : {}), extra: l[2]! };
  }, [kiln.spec([2, 3]), kiln.spec([5, 2, 3]), kiln.spec([3, 3])]);
}

const rng = new Rng(3);
const inputs = Object.fromEntries(([['h0', [2, 3]], ['xs', [5, 2, 3]], ['w', [3, 3]]] as const).map(([name, shape]) => [name, rng.normal([...shape]).value!]));

test.each([[true, true], [true, false]])('the larger scan (saves %s) replaces the smaller (saves %s) and every result keeps its value', (bigSaves, smallSaves) => {
  const g = traced(bigSaves, smallSaves);
  expect(g.nodes.filter((n) => n.op === 'scan')).toHaveLength(3); // kiln.scan's own, the smaller copy, the larger
  const merged = kiln.verify(mergeScans(g));
  const scans = merged.nodes.filter((n) => n.op === 'scan');
  // kiln.scan's own scan (saves, 1 output) merges too when the larger one saves
  expect(scans).toHaveLength(1);
  expect((scans[0]!.params as kiln.OpParams['scan']).body.outputs).toHaveLength(3);
  const names = Object.keys(inputs);
  const bound = Object.fromEntries(g.inputs.map((input, i) => [input.name, inputs[names[i]!]!]));
  const want = kiln.interpret(g, bound).outputs;
  const got = kiln.interpret(merged, bound).outputs;
  for (const [name, v] of Object.entries(want)) expect(Array.from(got[name]!.data), name).toEqual(Array.from(v.data));
});

test('scans that differ in their loop or body stay apart', () => {
  const g = kiln.trace((h0: Tensor, xs: Tensor, w: Tensor) => {
    const a = kiln.scan((h: Tensor, x: Tensor) => { const n = kiln.tanh(kiln.add(kiln.matmul(h, w), x)); return [n, n]; }, h0, xs);
    const b = kiln.scan((h: Tensor, x: Tensor) => { const n = kiln.sigmoid(kiln.add(kiln.matmul(h, w), x)); return [n, n]; }, h0, xs);
    const c = kiln.scan((h: Tensor, x: Tensor) => { const n = kiln.tanh(kiln.add(kiln.matmul(h, w), x)); return [n, n]; }, h0, xs, { reverse: true });
    return { a: a[0] as Tensor, b: b[0] as Tensor, c: c[0] as Tensor };
  }, [kiln.spec([2, 3]), kiln.spec([5, 2, 3]), kiln.spec([3, 3])]);
  expect(mergeScans(g)).toBe(g);
});
