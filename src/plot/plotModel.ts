/**
 * `kiln.utils.plotModel`: a model's layer graph as SVG or Graphviz dot text, as
 * Keras's `plot_model` draws it — one box a layer with its name and class (and
 * optionally its input and output shapes), an arrow a connection — laid out by
 * `layeredLayout` (no Graphviz needed). Sequential and functional models.
 */
import { KilnError } from '../../compiler/errors.js';
import { writeFileAtomic } from '../io/files.js';
import type { Shape } from '../layers/layer.js';
import { Functional } from '../models/functional.js';
import type { LayersModel } from '../models/model.js';
import { Sequential } from '../models/sequential.js';
import type { SymbolicTensor } from '../layers/symbolic.js';
import { layeredLayout } from './layeredLayout.js';

export interface PlotModelOptions {
  /** 'svg' (default) or 'dot'; by default taken from the path's extension. */
  format?: 'svg' | 'dot';
  /** Show each layer's input and output shapes (default false, as Keras). */
  showShapes?: boolean;
  /** Show layer names next to class names (default true). */
  showLayerNames?: boolean;
  /** 'TB' top to bottom (default) or 'LR' left to right. */
  rankdir?: 'TB' | 'LR';
}

/** One box of the plot: a layer. */
interface PlotNode { readonly name: string; readonly className: string; readonly input: string; readonly output: string }

/** The layer graph: boxes and arrows (from → to layer names). */
export interface LayerGraph { readonly nodes: readonly PlotNode[]; readonly edges: readonly (readonly [string, string])[] }

const shapeText = (shape: Shape) => `[null,${shape.join(',')}]`;

/**
 * The layers and their connections: a Sequential model's chain (behind an input
 * box, as Keras shows it), or a functional model's calls (a shared layer is one
 * box with several inputs; its shapes are its first call's).
 * @example layerGraph(model).edges // [['dense_input', 'dense'], ['dense', 'dense_1']]
 */
export function layerGraph(model: LayersModel): LayerGraph {
  if (model instanceof Sequential) {
    if (model.layers.length === 0) throw new KilnError(`plotModel: Sequential "${model.name}" has no layers.`);
    const first = model.layers[0]!;
    let shape = model.inputShape;
    const nodes: PlotNode[] = [{ name: `${first.name}_input`, className: 'InputLayer', input: shapeText(shape), output: shapeText(shape) }];
    for (const layer of model.layers) {
      const output = layer.computeOutputShape(shape);
      nodes.push({ name: layer.name, className: layer.className, input: shapeText(shape), output: shapeText(output) });
      shape = output;
    }
    return { nodes, edges: nodes.slice(1).map((n, i) => [nodes[i]!.name, n.name] as const) };
  }
  if (model instanceof Functional) {
    const calls: SymbolicTensor[] = [];
    const seen = new Set<SymbolicTensor>();
    const visit = (t: SymbolicTensor) => {
      if (seen.has(t)) return;
      seen.add(t);
      t.inputs.forEach(visit);
      calls.push(t);
    };
    model.inputs.forEach(visit);
    model.outputs.forEach(visit);
    const nodes = new Map<string, PlotNode>();
    const edges = new Map<string, readonly [string, string]>();
    for (const t of calls) {
      const input = t.inputs.length === 0 ? shapeText(t.shape) : t.inputs.length === 1 ? shapeText(t.inputs[0]!.shape) : `[${t.inputs.map((i) => shapeText(i.shape)).join(', ')}]`;
      if (!nodes.has(t.layer.name)) nodes.set(t.layer.name, { name: t.layer.name, className: t.layer.className, input, output: shapeText(t.shape) });
      for (const i of t.inputs) edges.set(`${i.layer.name}\u0000${t.layer.name}`, [i.layer.name, t.layer.name]);
    }
    return { nodes: model.layers.map((l) => nodes.get(l.name)!).filter(Boolean), edges: [...edges.values()] };
  }
  throw new KilnError(`plotModel: expected a Sequential or functional model (kiln.sequential, kiln.model), got ${(model as { constructor?: { name?: string } })?.constructor?.name ?? typeof model}; a subclassed Model has no recorded layer graph.`);
}

const label = (n: PlotNode, names: boolean) => (names ? `${n.name}: ${n.className}` : n.className);
const dotEscape = (s: string) => s.replace(/[\\{}|<>"]/g, (c) => `\\${c}`);

/**
 * Graphviz dot text of the layer graph (record boxes; dot lays it out).
 * @example modelToDot(model, { showShapes: true }).startsWith('digraph') // true
 */
export function modelToDot(model: LayersModel, options: PlotModelOptions = {}): string {
  const { nodes, edges } = layerGraph(model);
  const names = options.showLayerNames ?? true;
  const lines = [`digraph "${dotEscape(model.name)}" {`, `  rankdir=${options.rankdir ?? 'TB'};`, '  node [shape=record, fontname="monospace", fontsize=11];'];
  for (const n of nodes) {
    const text = dotEscape(label(n, names));
    // a record's fields run across in TB and down in LR: one brace level flips them so the table reads the same
    const shapes = `{input:|output:}|{${dotEscape(n.input)}|${dotEscape(n.output)}}`;
    const body = !options.showShapes ? text : options.rankdir === 'LR' ? `${text}|{${shapes}}` : `{${text}|{${shapes}}}`;
    lines.push(`  "${dotEscape(n.name)}" [label="${body}"];`);
  }
  for (const [a, b] of edges) lines.push(`  "${dotEscape(a)}" -> "${dotEscape(b)}";`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

const xmlEscape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const charWidth = 7.2; // 12px monospace
const lineHeight = 16;

/**
 * The layer graph as a standalone SVG document.
 * @example writeFileSync('model.svg', modelToSvg(model, { showShapes: true }));
 */
export function modelToSvg(model: LayersModel, options: PlotModelOptions = {}): string {
  const { nodes, edges } = layerGraph(model);
  const names = options.showLayerNames ?? true;
  const lr = options.rankdir === 'LR';
  const linesOf = (n: PlotNode) => [label(n, names), ...(options.showShapes ? [`input: ${n.input}`, `output: ${n.output}`] : [])];
  const size = (n: PlotNode) => {
    const lines = linesOf(n);
    return { width: Math.max(...lines.map((l) => l.length)) * charWidth + 20, height: lines.length * lineHeight + 12 };
  };
  // left to right: lay out with width and height swapped, then swap the coordinates back
  const layout = layeredLayout(nodes.map((n) => { const s = size(n); return { id: n.name, width: lr ? s.height : s.width, height: lr ? s.width : s.height }; }), edges);
  const at = (x: number, y: number): [number, number] => (lr ? [y, x] : [x, y]);
  const [width, height] = at(layout.width, layout.height);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="monospace" font-size="12">`,
    `<title>${xmlEscape(model.name)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0L10,5L0,10z" fill="#555"/></marker></defs>',
  ];
  for (const e of layout.edges) {
    const d = e.points.map(([x, y], i) => { const [px, py] = at(x, y); return `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`; }).join('');
    out.push(`<path d="${d}" fill="none" stroke="#555" marker-end="url(#arrow)"/>`);
  }
  for (const n of nodes) {
    const p = layout.nodes.get(n.name)!;
    const s = size(n);
    const [cx, cy] = at(p.x, p.y);
    out.push(`<g class="layer" data-name="${xmlEscape(n.name)}">`);
    out.push(`<rect x="${(cx - s.width / 2).toFixed(1)}" y="${(cy - s.height / 2).toFixed(1)}" width="${s.width.toFixed(1)}" height="${s.height}" rx="3" fill="#fff1e6" stroke="#e86a1f"/>`);
    linesOf(n).forEach((line, i, all) => {
      out.push(`<text x="${cx.toFixed(1)}" y="${(cy + (i - (all.length - 1) / 2) * lineHeight + 4).toFixed(1)}" text-anchor="middle">${xmlEscape(line)}</text>`);
    });
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * Writes the model's layer graph to `path`: SVG, or Graphviz dot text for a
 * `.dot`/`.gv` path or `{ format: 'dot' }`. Resolves to the text written.
 * @example await kiln.utils.plotModel(model, 'model.svg', { showShapes: true });
 */
export async function plotModel(model: LayersModel, path: string, options: PlotModelOptions = {}): Promise<string> {
  if (typeof path !== 'string' || path === '') throw new KilnError(`plotModel: expected a file path (.svg or .dot), got ${JSON.stringify(path)}.`);
  const extension = /\.([^./\\]+)$/.exec(path)?.[1]?.toLowerCase();
  const format = options.format ?? (extension === 'dot' || extension === 'gv' ? 'dot' : extension === 'svg' ? 'svg' : undefined);
  if (format !== 'svg' && format !== 'dot') {
    throw new KilnError(`plotModel: cannot write "${path}": expected a .svg, .dot or .gv path or { format: 'svg' | 'dot' }, got ${options.format !== undefined ? `format ${JSON.stringify(options.format)}` : `extension ${extension ? `.${extension}` : '(none)'}`} (PNG needs Graphviz: write .dot and run dot -Tpng).`);
  }
  const text = format === 'dot' ? modelToDot(model, options) : modelToSvg(model, options);
  await writeFileAtomic(path, new TextEncoder().encode(text));
  return text;
}
