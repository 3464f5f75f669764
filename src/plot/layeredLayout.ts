/**
 * A layered (Sugiyama-style) layout of a directed graph, small enough to read:
 * layers by longest path from the sources, a dummy point where an edge crosses
 * a layer, the order in each layer by a few barycenter sweeps (fewer
 * crossings), x by pulling each node toward its neighbours without overlap.
 * Used by `plotModel` (SVG and the board's graph view). Top to bottom; a
 * caller wanting left to right swaps the axes.
 */

/** A box to place: its id and size. */
export interface LayoutNode { readonly id: string; readonly width: number; readonly height: number }

/** The layout: each node's centre and each edge's polyline (from the source's bottom to the target's top). */
export interface Layout {
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, { x: number; y: number; layer: number }>;
  readonly edges: readonly { from: string; to: string; points: readonly [number, number][] }[];
}

export interface LayoutOptions { readonly nodeGap?: number; readonly layerGap?: number; readonly margin?: number }

interface Slot { readonly id: string; readonly width: number; readonly height: number; readonly layer: number; x: number; order: number; readonly dummy: boolean }

/** Each node's layer: the longest path to it from a source (edges closing a cycle are ignored). */
function assignLayers(ids: readonly string[], edges: readonly (readonly [string, string])[]): Map<string, number> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const [a, b] of edges) out.get(a)?.push(b);
  const order: string[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (id: string) => { // iterative-enough DFS: graphs here are model-sized
    if (state.get(id)) return;
    state.set(id, 1);
    for (const next of out.get(id) ?? []) visit(next);
    state.set(id, 2);
    order.push(id);
  };
  ids.forEach(visit);
  order.reverse(); // a topological order (a back edge points to an earlier node)
  const rank = new Map(order.map((id, i) => [id, i]));
  const layer = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const id of order) for (const next of out.get(id)!) if (rank.get(next)! > rank.get(id)!) layer.set(next, Math.max(layer.get(next)!, layer.get(id)! + 1));
  return layer;
}

/**
 * Places `nodes` in layers so every edge points down.
 * @example const l = layeredLayout([{ id: 'a', width: 80, height: 30 }, { id: 'b', width: 80, height: 30 }], [['a', 'b']]); l.nodes.get('b')!.y > l.nodes.get('a')!.y // true
 */
export function layeredLayout(nodes: readonly LayoutNode[], edges: readonly (readonly [string, string])[], options: LayoutOptions = {}): Layout {
  const { nodeGap = 24, layerGap = 48, margin = 16 } = options;
  const known = new Set(nodes.map((n) => n.id));
  const valid = edges.filter(([a, b]) => known.has(a) && known.has(b) && a !== b);
  const layerOf = assignLayers(nodes.map((n) => n.id), valid);
  const layerCount = Math.max(0, ...layerOf.values()) + 1;
  const layers: Slot[][] = Array.from({ length: layerCount }, () => []);
  const slot = new Map<string, Slot>();
  for (const n of nodes) {
    const s: Slot = { id: n.id, width: n.width, height: n.height, layer: layerOf.get(n.id)!, x: 0, order: 0, dummy: false };
    layers[layerOf.get(n.id)!]!.push(s);
    slot.set(n.id, s);
  }
  // edges as chains of slots through one dummy per crossed layer (up-going edges are drawn reversed)
  const chains: { from: string; to: string; slots: Slot[] }[] = [];
  const down = new Map<Slot, Slot[]>(), up = new Map<Slot, Slot[]>();
  const link = (a: Slot, b: Slot) => (down.get(a) ?? down.set(a, []).get(a)!).push(b) && (up.get(b) ?? up.set(b, []).get(b)!).push(a);
  valid.forEach(([from, to], k) => {
    let [a, b] = [slot.get(from)!, slot.get(to)!];
    const reversed = layerOf.get(from)! > layerOf.get(to)!;
    if (reversed) [a, b] = [b, a];
    const chain = [a];
    for (let l = layerOf.get(a.id)! + 1; l < layerOf.get(b.id)!; l++) {
      const d: Slot = { id: `edge ${k} ${l}`, width: 0, height: 0, layer: l, x: 0, order: 0, dummy: true };
      layers[l]!.push(d);
      chain.push(d);
    }
    chain.push(b);
    for (let i = 1; i < chain.length; i++) link(chain[i - 1]!, chain[i]!);
    chains.push({ from, to, slots: reversed ? chain.reverse() : chain });
  });
  layers.forEach((layer) => layer.forEach((s, i) => (s.order = i)));
  // barycenter sweeps: down (by parents' order), then up (by children's)
  const mean = (xs: Slot[] | undefined, f: (s: Slot) => number) => (xs && xs.length ? xs.reduce((a, s) => a + f(s), 0) / xs.length : undefined);
  const sortBy = (layer: Slot[], key: (s: Slot) => number | undefined) => {
    const keyed = layer.map((s) => ({ s, k: key(s) ?? s.order }));
    keyed.sort((p, q) => p.k - q.k || p.s.order - q.s.order);
    keyed.forEach(({ s }, i) => ((layer[i] = s), (s.order = i)));
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let l = 1; l < layerCount; l++) sortBy(layers[l]!, (s) => mean(up.get(s), (p) => p.order));
    for (let l = layerCount - 2; l >= 0; l--) sortBy(layers[l]!, (s) => mean(down.get(s), (c) => c.order));
  }
  // x: packed left to right, then pulled toward neighbours' centres, keeping order and gaps
  const gap = (s: Slot) => (s.dummy ? nodeGap / 2 : nodeGap);
  for (const layer of layers) layer.reduce((x, s) => ((s.x = x + s.width / 2), x + s.width + gap(s)), 0);
  const settle = (layer: Slot[], want: (s: Slot) => number | undefined) => {
    for (const s of layer) s.x = want(s) ?? s.x;
    for (let i = 1; i < layer.length; i++) { // push right to remove overlaps
      const p = layer[i - 1]!, s = layer[i]!;
      s.x = Math.max(s.x, p.x + p.width / 2 + gap(p) + s.width / 2);
    }
  };
  for (let pass = 0; pass < 6; pass++) {
    for (let l = 1; l < layerCount; l++) settle(layers[l]!, (s) => mean(up.get(s), (p) => p.x));
    for (let l = layerCount - 2; l >= 0; l--) settle(layers[l]!, (s) => mean(down.get(s), (c) => c.x));
  }
  const left = layers.flat().reduce((m, s) => Math.min(m, s.x - s.width / 2), Infinity); // the leftmost edge goes to the margin
  const layerHeight = layers.map((layer) => Math.max(0, ...layer.map((s) => s.height)));
  const top: number[] = [];
  layerHeight.reduce((y, h, l) => ((top[l] = y), y + h + layerGap), margin);
  const placed = new Map<string, { x: number; y: number; layer: number }>();
  let width = 0;
  layers.forEach((layer, l) => layer.forEach((s) => {
    s.x += margin - left;
    width = Math.max(width, s.x + s.width / 2 + margin);
    if (!s.dummy) placed.set(s.id, { x: s.x, y: top[l]! + layerHeight[l]! / 2, layer: l });
  }));
  const yOf = (s: Slot) => top[s.layer]! + layerHeight[s.layer]! / 2;
  const edgesOut = chains.map(({ from, to, slots }) => {
    const points = slots.map((s): [number, number] => [s.x, yOf(s)]);
    const a = slot.get(from)!, b = slot.get(to)!;
    const down = points[0]![1] <= points[points.length - 1]![1];
    points[0] = [points[0]![0], points[0]![1] + (down ? a.height / 2 : -a.height / 2)];
    const last = points.length - 1;
    points[last] = [points[last]![0], points[last]![1] + (down ? -b.height / 2 : b.height / 2)];
    return { from, to, points };
  });
  const height = layerCount ? top[layerCount - 1]! + layerHeight[layerCount - 1]! + margin : 2 * margin;
  return { width, height, nodes: placed, edges: edgesOut };
}
