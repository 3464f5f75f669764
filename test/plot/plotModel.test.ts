/**
 * kiln.utils.plotModel: the layer graph of Sequential and functional models as
 * Graphviz dot text (snapshots) and as SVG (well-formed, every layer drawn,
 * every arrow pointing down from its source to its target), and its errors.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { KilnError } from '../../compiler/errors.js';
import * as kiln from '../../src/index.js';
import { layerGraph } from '../../src/plot/plotModel.js';
import { layeredLayout } from '../../src/plot/layeredLayout.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-plot-'));

const mlp = () => kiln.sequential({ name: 'mlp', layers: [
  kiln.layers.dense({ units: 16, activation: 'relu', inputShape: [8], name: 'hidden' }),
  kiln.layers.dropout({ rate: 0.1, name: 'drop' }),
  kiln.layers.dense({ units: 3, name: 'logits' }),
] });

/** Two inputs, a shared layer applied twice, two branches joined, two outputs. */
function branched() {
  const a = kiln.input({ shape: [4], name: 'a' });
  const b = kiln.input({ shape: [6], name: 'b' });
  const shared = kiln.layers.dense({ units: 5, name: 'shared' });
  const left = shared.apply(a);
  const right = kiln.layers.dense({ units: 5, activation: 'tanh', name: 'right' }).apply(b);
  const joined = kiln.layers.concatenate({ name: 'join' }).apply([left, right, shared.apply(a)]);
  const head = kiln.layers.dense({ units: 2, name: 'head' }).apply(joined);
  const aux = kiln.layers.dense({ units: 1, name: 'aux' }).apply(right);
  return kiln.model({ inputs: [a, b], outputs: [head, aux], name: 'branched' });
}

/** Parses the SVG's boxes (centre of each rect, by layer name) and arrows (first and last point). */
function svgParts(svg: string) {
  const boxes = new Map<string, { x: number; y: number; w: number; h: number }>();
  for (const m of svg.matchAll(/<g class="layer" data-name="([^"]+)">\n<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"/g)) {
    boxes.set(m[1]!, { x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) });
  }
  const arrows = [...svg.matchAll(/<path d="M([\d.-]+),([\d.-]+)(?:L[\d.,-]+)*L([\d.-]+),([\d.-]+)"/g)].map((m) => m.slice(1, 5).map(Number));
  return { boxes, arrows };
}

/** The box whose top or bottom edge a point lies on. */
const boxAt = (boxes: Map<string, { x: number; y: number; w: number; h: number }>, x: number, y: number) =>
  [...boxes].find(([, b]) => x >= b.x - 0.2 && x <= b.x + b.w + 0.2 && (Math.abs(y - b.y) < 0.2 || Math.abs(y - b.y - b.h) < 0.2))?.[0];

describe('plotModel', () => {
  test('a Sequential model: an input box then its layers in a chain (dot snapshot)', async () => {
    const dot = await kiln.utils.plotModel(mlp(), join(dir, 'mlp.dot'));
    expect(readFileSync(join(dir, 'mlp.dot'), 'utf8')).toBe(dot);
    expect(dot).toBe(`digraph "mlp" {
  rankdir=TB;
  node [shape=record, fontname="monospace", fontsize=11];
  "hidden_input" [label="hidden_input: InputLayer"];
  "hidden" [label="hidden: Dense"];
  "drop" [label="drop: Dropout"];
  "logits" [label="logits: Dense"];
  "hidden_input" -> "hidden";
  "hidden" -> "drop";
  "drop" -> "logits";
}
`);
  });

  test('a functional model with branches, a shared layer and two outputs (dot snapshot with shapes)', () => {
    const dot = kiln.utils.modelToDot(branched(), { showShapes: true });
    expect(dot).toBe(`digraph "branched" {
  rankdir=TB;
  node [shape=record, fontname="monospace", fontsize=11];
  "a" [label="{a: InputLayer|{{input:|output:}|{[null,4]|[null,4]}}}"];
  "b" [label="{b: InputLayer|{{input:|output:}|{[null,6]|[null,6]}}}"];
  "shared" [label="{shared: Dense|{{input:|output:}|{[null,4]|[null,5]}}}"];
  "right" [label="{right: Dense|{{input:|output:}|{[null,6]|[null,5]}}}"];
  "join" [label="{join: Concatenate|{{input:|output:}|{[[null,5], [null,5], [null,5]]|[null,15]}}}"];
  "head" [label="{head: Dense|{{input:|output:}|{[null,15]|[null,2]}}}"];
  "aux" [label="{aux: Dense|{{input:|output:}|{[null,5]|[null,1]}}}"];
  "a" -> "shared";
  "b" -> "right";
  "shared" -> "join";
  "right" -> "join";
  "join" -> "head";
  "right" -> "aux";
}
`);
  });

  test('the SVG is well-formed, draws every layer once and every arrow from its source down to its target', async () => {
    const model = branched();
    const svg = await kiln.utils.plotModel(model, join(dir, 'branched.svg'), { showShapes: true });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // well-formed: every opened element is closed in order
    const stack: string[] = [];
    for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      if (m[3]) continue;
      if (m[1]) expect(stack.pop()).toBe(m[2]);
      else stack.push(m[2]!);
    }
    expect(stack).toEqual([]);
    const { boxes, arrows } = svgParts(svg);
    expect([...boxes.keys()].sort()).toEqual(['a', 'aux', 'b', 'head', 'join', 'right', 'shared']);
    for (const name of boxes.keys()) expect(svg).toContain(`>${name}: `);
    expect(svg).toContain('>output: [null,15]</text>');
    const drawn = arrows.map(([x0, y0, x1, y1]) => [boxAt(boxes, x0!, y0!), boxAt(boxes, x1!, y1!), y1! > y0!]);
    expect(drawn.map(([a, b]) => `${a}->${b}`).sort()).toEqual(layerGraph(model).edges.map(([a, b]) => `${a}->${b}`).sort());
    expect(drawn.every(([, , down]) => down)).toBe(true);
    // no two boxes overlap, and the drawing starts at the margin
    const list = [...boxes.values()];
    expect(Math.min(...list.map((b) => b.x))).toBeCloseTo(16, 1);
    expect(Number(/width="(\d+)"/.exec(svg)![1])).toBe(Math.ceil(Math.max(...list.map((b) => b.x + b.w)) + 16));
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) {
      const [p, r] = [list[i]!, list[j]!];
      expect(p.x + p.w <= r.x || r.x + r.w <= p.x || p.y + p.h <= r.y || r.y + r.h <= p.y).toBe(true);
    }
  });

  test('left to right puts each layer to the right of its inputs', () => {
    const svg = kiln.utils.modelToSvg(mlp(), { rankdir: 'LR', showLayerNames: false });
    const { boxes } = svgParts(svg);
    const xs = ['hidden_input', 'hidden', 'drop', 'logits'].map((n) => boxes.get(n)!.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(new Set(xs).size).toBe(4);
    expect(svg).toContain('>Dropout</text>');
    expect(svg).not.toContain('drop: Dropout');
  });

  test('the layout places long edges through the layers they cross and keeps a layer in one row', () => {
    const l = layeredLayout(['a', 'b', 'c', 'd'].map((id) => ({ id, width: 40, height: 20 })), [['a', 'b'], ['b', 'c'], ['a', 'c'], ['c', 'd'], ['d', 'a']]);
    expect(['a', 'b', 'c', 'd'].map((n) => l.nodes.get(n)!.layer)).toEqual([0, 1, 2, 3]); // d → a closes a cycle: drawn upward
    const ac = l.edges.find((e) => e.from === 'a' && e.to === 'c')!;
    expect(ac.points.length).toBe(3);
    const da = l.edges.find((e) => e.from === 'd' && e.to === 'a')!;
    expect(da.points[0]![1]).toBeGreaterThan(da.points[da.points.length - 1]![1]);
  });

  test('bad input: a subclassed model, an unknown format, a missing path', async () => {
    class Custom extends kiln.Model { call(x: kiln.Tensor) { return x; } }
    await expect(kiln.utils.plotModel(new Custom() as never, join(dir, 'c.svg'))).rejects.toThrow(/plotModel: expected a Sequential or functional model .*got Custom/);
    await expect(kiln.utils.plotModel(mlp(), join(dir, 'm.png'))).rejects.toThrow(new KilnError(`plotModel: cannot write "${join(dir, 'm.png')}": expected a .svg, .dot or .gv path or { format: 'svg' | 'dot' }, got extension .png (PNG needs Graphviz: write .dot and run dot -Tpng).`));
    await expect(kiln.utils.plotModel(mlp(), '')).rejects.toThrow('plotModel: expected a file path (.svg or .dot), got "".');
    expect(kiln.utils.modelToDot(mlp(), { format: 'dot' }).length).toBeGreaterThan(0);
  });
});
