/**
 * @file Update groups: the parameter updates of a step that can run as ONE loop
 * over the flat parameter arena. Members are in-place update loops with the same
 * body (shapes aside) that read their parameter, per-parameter tensors of its
 * shape (gradients, optimizer state) and shared scalars (the learning rate). The
 * plan lays each per-parameter role out like the parameters themselves (same
 * relative offsets), so one loop over the parameters' byte range covers them all;
 * the padding between parameters is computed and never read.
 */
import type { Graph, Node } from './ir.js';
import { formatParams } from './ir.js';
import type { OpParams } from './ops/index.js';
import { isStatic, sameShape, sizeOf } from './types.js';

export type Role = 'target' | 'tensor' | 'shared';

export interface UpdateGroup {
  /** Update source nodes, in the order of their parameters' offsets once planned. */
  members: number[];
  /** The parameter (input node) each member updates. */
  targets: number[];
  /** What each body input of a member is. */
  roles: Role[];
}

const bodyOf = (n: Node) => (n.params as OpParams['fused']).body;

/** The body's computation without shapes: members with equal keys compute the same thing per element. */
function structure(body: Graph): string {
  return body.nodes.map((n) => {
    const value = n.op === 'constant' ? Array.from((n.params as OpParams['constant']).value).join(',') : '';
    const params = n.op === 'input' || n.op === 'constant' ? '' : formatParams(n.params as object);
    return `${n.op}(${n.inputs.join(',')})${params}:${n.type.dtype}${value}`;
  }).join(';');
}

/** Groups of two or more in-place update loops that share a body and their scalar operands. */
export function updateGroupCandidates(g: Graph, inPlace: ReadonlyMap<number, number>): UpdateGroup[] {
  const byKey = new Map<string, UpdateGroup>();
  for (const [source, target] of inPlace) {
    const n = g.nodes[source]!;
    if (n.op !== 'fused' || n.type.dtype !== 'float32') continue;
    const roles: Role[] = [];
    const shared: number[] = [];
    let ok = true;
    for (const i of n.inputs) {
      const t = g.nodes[i]!.type;
      if (i === target) roles.push('target');
      else if (t.dtype === 'float32' && sameShape(t.shape, n.type.shape)) roles.push('tensor');
      else if (isStatic(t.shape) && sizeOf(t.shape) === 1) (roles.push('shared'), shared.push(i));
      else ok = false;
    }
    if (!ok || !isStatic(n.type.shape)) continue;
    const key = `${structure(bodyOf(n))}|${roles.join(',')}|${shared.join(',')}`;
    const group = byKey.get(key) ?? { members: [], targets: [], roles };
    group.members.push(source);
    group.targets.push(target);
    byKey.set(key, group);
  }
  return [...byKey.values()].filter((gr) => gr.members.length > 1);
}
