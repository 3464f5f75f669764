/**
 * @file Merging scans.
 * Changes: when two scans run over the same inputs with the same loop (length,
 * carries, sequences, direction, step count) and one's body is the other's with
 * more per-step outputs appended (and it saves its starting carries if the other
 * does), the larger scan takes the smaller one's place and readers of the
 * smaller one read the same results out of it; the smaller scan goes.
 * Invariant: every result keeps its value (the larger body computes the same
 * carries and outputs, then more).
 * Why: a scan's VJP rebuilds the forward scan so it also stacks the residuals
 * its reverse scan reads (compiler/scanGrad.ts); without merging, the forward
 * loop would run twice in a training step.
 */
import type { Graph, Node } from '../ir.js';
import { hashGraph, withNodes } from '../ir.js';
import type { OpParams } from '../ops/index.js';
import { scanPacking, scanResultTypes } from '../ops/scan.js';

type Scan = OpParams['scan'];

const loopKey = (n: Node): string => {
  const p = n.params as Scan;
  return `${n.inputs.join(',')}|${p.length}|${p.carries}|${p.xs}|${p.reverse}|${p.counted ?? false}`;
};

/** Whether scan `big` computes everything scan `small` does (and is not the same scan). */
function extends_(big: Scan, small: Scan, hashes: Map<Graph, string>): boolean {
  if (big === small || big.body.outputs.length < small.body.outputs.length || (small.save && !big.save)) return false;
  if (big.body.outputs.length === small.body.outputs.length && big.save === small.save) return false;
  const hash = (g: Graph) => {
    let h = hashes.get(g);
    if (h === undefined) hashes.set(g, (h = hashGraph(g)));
    return h;
  };
  const prefix = Object.freeze({ ...big.body, outputs: big.body.outputs.slice(0, small.body.outputs.length) });
  return hash(prefix) === hash(small.body);
}

export function mergeScans(g: Graph): Graph {
  const groups = new Map<string, Node[]>();
  for (const n of g.nodes) if (n.op === 'scan') groups.set(loopKey(n), [...(groups.get(loopKey(n)) ?? []), n]);
  const target = new Map<number, Node>(); // scan id → the larger scan that replaces it
  const hashes = new Map<Graph, string>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    // the one with the most results that extends the others
    const largest = [...group].sort((a, b) => scanResultTypes(b.params as Scan).length - scanResultTypes(a.params as Scan).length)[0]!;
    for (const n of group) if (extends_(largest.params as Scan, n.params as Scan, hashes)) target.set(n.id, largest);
  }
  if (target.size === 0) return g;

  const map = new Int32Array(g.nodes.length).fill(-1);
  const nodes: Node[] = [];
  const push = (n: Node, params: unknown, inputs: readonly number[]) => {
    nodes.push(Object.freeze({ ...n, id: nodes.length, params: params as never, inputs: Object.freeze([...inputs]) }));
    return nodes.length - 1;
  };
  for (const n of g.nodes) {
    if (map[n.id]! >= 0) continue; // a larger scan already placed earlier
    const big = target.get(n.id);
    if (big) {
      // the larger scan's inputs are this one's, so it can stand here
      map[n.id] = map[big.id] = map[big.id]! >= 0 ? map[big.id]! : push(big, big.params, big.inputs.map((i) => map[i]!));
      continue;
    }
    const source = n.op === 'scanPart' ? target.get(n.inputs[0]!) : undefined;
    if (source) {
      // a result of the merged scan: the same result of the larger one (its saved carries come after the extra outputs)
      const small = g.nodes[n.inputs[0]!]!.params as Scan;
      const p = n.params as OpParams['scanPart'];
      const bp = source.params as Scan;
      const stackedEnd = small.body.outputs.length;
      const index = p.index < stackedEnd ? p.index : p.index + bp.body.outputs.length - stackedEnd;
      const packing = scanPacking(scanResultTypes(bp));
      map[n.id] = push(n, { ...p, index, offset: packing.offsets[index]!, batched: packing.batched }, [map[n.inputs[0]!]!]);
      continue;
    }
    map[n.id] = push(n, n.params, n.inputs.map((i) => map[i]!));
  }
  return withNodes(g, nodes, (old) => map[old]!);
}
