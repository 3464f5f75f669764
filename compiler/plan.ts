/**
 * @file Memory planning: entry graphs → one static arena. Every value gets a byte
 * offset, planned at the compiled maximum batch: graph inputs (shared by name
 * across entries, so a parameter has one home) and constants in a fixed region
 * that persists between runs; each entry's intermediates first-fit by liveness
 * after it, so buffers whose lifetimes do not overlap share bytes, and entries
 * (which never run at once) share the same scratch region. Views (reshape and the
 * identity ops) share their source's buffer; a scan's results are views into its
 * packed value, and its loop's working memory is planned like an entry of its
 * own, live while the scan runs. Every element is 4 bytes (bool is stored as i32
 * 0/1, so SIMD masks load directly).
 */
import { internal } from './errors.js';
import type { Graph, Node } from './ir.js';
import type { OpParams } from './ops/index.js';
import { formatType, hasBatch, sameShape, sameType, sizeOf, type TensorType } from './types.js';
import { updateGroupCandidates, type Role } from './updateGroups.js';

export const elementBytes = 4;
const align = 64; // a cache line

export interface Slot {
  /** Byte offset from the arena base. */
  readonly offset: number;
  /** Bytes at the maximum batch. */
  readonly bytes: number;
}

/** Parameter updates that run as one loop over `bytes` bytes from the first member's parameter. */
export interface PlannedGroup {
  /** Update sources, ordered by their parameters' offsets. */
  readonly members: readonly number[];
  readonly roles: readonly Role[];
  /** The node after which the single loop runs (the last member). */
  readonly at: number;
  readonly bytes: number;
}

export interface MemoryPlan {
  readonly maxBatch: number;
  /** Slot of each node's value, by node id (views share their source's slot). */
  readonly slots: readonly Slot[];
  readonly groups: readonly PlannedGroup[];
  /** Peak bytes of this entry's intermediates at once. */
  readonly peakBytes: number;
  /** How each scan node's loop lays out its carries and its body's values, by node id. */
  readonly scans: ReadonlyMap<number, ScanLayout>;
  /** The prepacked op(B) buffer each matmul that reads one uses, by node id (see `prepackedWeights`). */
  readonly packs: ReadonlyMap<number, Slot>;
}

/**
 * A scan's working memory while it runs (freed after it): a buffer per carry
 * (the body reads the carry from it), as many staging buffers (for carries that
 * trade places), then the body's own plan, whose carry inputs are those buffers.
 */
export interface ScanLayout {
  readonly carries: readonly Slot[];
  readonly staging: readonly Slot[];
  /** The body's plan; inputs other than carries have no slot of their own (emission points them at the scan's operands). */
  readonly body: MemoryPlan;
}

export interface ModulePlan {
  readonly maxBatch: number;
  /** One plan per entry, in order. */
  readonly entries: readonly MemoryPlan[];
  /** Slots of the graph inputs by name. */
  readonly inputs: ReadonlyMap<string, Slot & { readonly type: TensorType }>;
  /** Prepacked op(B) buffers (persistent, like the inputs), by parameter and orientation. */
  readonly packs: ReadonlyMap<string, Slot>;
  /** Bytes of inputs, constants and prepacked buffers, which persist between runs. */
  readonly fixedBytes: number;
  readonly arenaBytes: number;
}

/** Ops whose result is their first input's bytes unchanged. */
export const viewOps: ReadonlySet<string> = new Set(['reshape', 'stopGradient', 'customVjp']);

const roundUp = (n: number) => Math.ceil(n / align) * align;

/** Bytes a scan's working memory needs, and its layout from byte `start` on. */
function scanLayout(n: Node, maxBatch: number, start: number): { bytes: number; layout: ScanLayout } {
  const { body, carries } = n.params as OpParams['scan'];
  let at = start;
  const next = (t: TensorType): Slot => {
    const slot = { offset: at, bytes: bytesOf(t, maxBatch) };
    at += roundUp(slot.bytes);
    return slot;
  };
  const carryTypes = body.inputs.slice(0, carries).map((i) => body.nodes[i.id]!.type);
  const carrySlots = carryTypes.map(next);
  const staging = carryTypes.map(next);
  const byId = new Map(body.inputs.map((i, k) => [i.id, k < carries ? carrySlots[k]! : { offset: 0, bytes: 0 }]));
  const plan = planEntry(body, maxBatch, (m) => (m.op === 'input' ? byId.get(m.id) : undefined), at);
  return { bytes: at - start + roundUp(plan.peakBytes), layout: { carries: carrySlots, staging, body: plan } };
}

/** Where result `scanPart` sits in its scan's packed value (offsets are planned at the maximum batch). */
function partSlot(scan: Slot, part: Node, maxBatch: number): Slot {
  const { offset, batched } = part.params as OpParams['scanPart'];
  return { offset: scan.offset + (batched ? maxBatch : 1) * offset * elementBytes, bytes: bytesOf(part.type, maxBatch) };
}

function bytesOf(type: TensorType, maxBatch: number): number {
  return Math.max(elementBytes, sizeOf(type.shape, hasBatch(type.shape) ? maxBatch : undefined) * elementBytes);
}

interface Live {
  start: number;
  end: number;
  until: number;
  node: number;
}

/** The live buffer a fused node can take over: an input of the same shape, last used here, read through no other input. */
function inPlaceDonor(g: Graph, n: Node, owner: Int32Array, lastUse: Float64Array, live: Live[], slots: Slot[]): Live | undefined {
  for (const i of n.inputs) {
    const o = owner[i]!;
    const input = g.nodes[i]!;
    if (lastUse[o] !== n.id || !sameShape(input.type.shape, n.type.shape) || !slots[o] || slots[i]!.offset !== slots[o]!.offset) continue;
    if (n.inputs.filter((j) => owner[j] === o).length > 1) continue;
    const entry = live.find((r) => r.node === o);
    if (entry) return entry;
  }
  return undefined;
}

/**
 * Update sources that can write over their target: a fused loop that reads the
 * parameter (or state) at its own shape as the parameter's last reader, when the
 * parameter is not also an output.
 */
function inPlaceUpdates(g: Graph, lastUse: Float64Array): Map<number, number> {
  const result = new Map<number, number>();
  for (const u of g.updates) {
    const target = g.inputs.find((i) => i.name === u.target)!.id;
    const source = g.nodes[u.id]!;
    const reads = source.inputs.filter((i) => i === target).length;
    const ok = source.op === 'fused' && reads === 1 && lastUse[target] === source.id && !g.outputs.some((o) => o.id === target) && sameShape(source.type.shape, g.nodes[target]!.type.shape);
    if (ok && !result.has(source.id)) result.set(source.id, target);
  }
  return result;
}

/** First-fit placement of one entry's intermediates, from byte `start` on. */
function planEntry(g: Graph, maxBatch: number, fixed: (n: Node) => Slot | undefined, start: number): MemoryPlan {
  const owner = new Int32Array(g.nodes.length);
  const lastUse = new Float64Array(g.nodes.length);
  for (const n of g.nodes) {
    owner[n.id] = viewOps.has(n.op) || n.op === 'scanPart' ? owner[n.inputs[0]!]! : n.id;
    lastUse[n.id] = n.id;
    for (const i of n.inputs) lastUse[owner[i]!] = Math.max(lastUse[owner[i]!]!, n.id);
  }
  for (const o of g.outputs) lastUse[owner[o.id]!] = Infinity;
  for (const u of g.updates) lastUse[owner[u.id]!] = Infinity;

  const slots: Slot[] = new Array(g.nodes.length);
  const scans = new Map<number, ScanLayout>();
  const updatesInPlace = inPlaceUpdates(g, lastUse);
  const known = (id: number): Slot | undefined => fixed(g.nodes[id]!) ?? (updatesInPlace.has(id) ? fixed(g.nodes[updatesInPlace.get(id)!]!) : undefined);
  const { groups, blocks } = layoutGroups(g, owner, updatesInPlace, known);
  // every operand of a group's members stays untouched until the group's loop runs
  for (const gr of groups) for (const m of gr.members) for (const i of g.nodes[m]!.inputs) lastUse[owner[i]!] = Math.max(lastUse[owner[i]!]!, gr.at);
  const blockStart = new Map<PlannedGroup, number>();
  let live: Live[] = [];
  let peak = 0;
  const place = (size: number, until: number, node: number): number => {
    let offset = 0;
    for (const r of [...live].sort((a, b) => a.start - b.start)) {
      if (r.start - offset >= size) break;
      offset = Math.max(offset, r.end);
    }
    live.push({ start: offset, end: offset + size, until, node });
    peak = Math.max(peak, offset + size);
    return offset;
  };
  for (const n of g.nodes) {
    const given = fixed(n);
    if (given) {
      slots[n.id] = given;
      continue;
    }
    // a buffer last read by an earlier node is free; one read by this node is not (no kernel works in place)
    live = live.filter((r) => r.until >= n.id);
    if (owner[n.id] !== n.id) {
      slots[n.id] = n.op === 'scanPart' ? partSlot(slots[n.inputs[0]!]!, n, maxBatch) : slots[n.inputs[0]!]!;
      continue;
    }
    const inBlock = blocks.get(n.id);
    if (inBlock) {
      // a gradient of a grouped update: at its parameter's relative offset in a block laid out like the parameters
      if (!blockStart.has(inBlock.group)) {
        const until = Math.max(inBlock.group.at, ...[...blocks].filter(([, b]) => b.group === inBlock.group).map(([o]) => lastUse[o]!));
        blockStart.set(inBlock.group, place(roundUp(inBlock.group.bytes), until, -1));
      }
      slots[n.id] = { offset: start + blockStart.get(inBlock.group)! + inBlock.relative, bytes: bytesOf(n.type, maxBatch) };
      continue;
    }
    const target = updatesInPlace.get(n.id);
    if (target !== undefined) {
      slots[n.id] = slots[target]!; // the new value of a parameter is written straight over the old one
      continue;
    }
    // an elementwise loop may write over an input of its own shape that dies here: each element is read before it is written
    const donor = n.op === 'fused' ? inPlaceDonor(g, n, owner, lastUse, live, slots) : undefined;
    if (donor) {
      donor.until = lastUse[n.id]!;
      slots[n.id] = slots[owner[donor.node]!]!;
      continue;
    }
    const offset = place(roundUp(bytesOf(n.type, maxBatch)), lastUse[n.id]!, n.id);
    slots[n.id] = { offset: start + offset, bytes: bytesOf(n.type, maxBatch) };
    if (n.op === 'scan') {
      // the loop's carries and body values live only while it runs
      const scratch = place(scanLayout(n, maxBatch, 0).bytes, n.id, -1);
      scans.set(n.id, scanLayout(n, maxBatch, start + scratch).layout);
    }
  }
  return { maxBatch, slots, groups, peakBytes: peak, scans, packs: new Map() };
}

/**
 * Which update groups can run as one loop, and where their gradients go: the
 * parameters must tile one byte range; every per-parameter operand must either
 * already sit at the parameters' relative offsets (optimizer state declared in
 * the same order) or be an intermediate that the plan can put there; and nothing
 * may read a member's result before the single loop runs.
 */
function layoutGroups(g: Graph, owner: Int32Array, inPlace: ReadonlyMap<number, number>, known: (id: number) => Slot | undefined) {
  const candidates = updateGroupCandidates(g, inPlace).map((c) => {
    const order = c.members.map((_, i) => i).sort((a, b) => known(c.targets[a]!)!.offset - known(c.targets[b]!)!.offset);
    return { ...c, members: order.map((i) => c.members[i]!), targets: order.map((i) => c.targets[i]!) };
  });
  const blocks = new Map<number, { group: PlannedGroup; relative: number }>();
  const claimed = new Set<number>();
  const planned: PlannedGroup[] = [];
  for (const c of candidates) {
    const t = c.targets.map((id) => known(id)!);
    const base = t[0]!.offset;
    const tiles = t.every((s, i) => i === 0 || s.offset === t[i - 1]!.offset + roundUp(t[i - 1]!.bytes));
    if (!tiles) continue;
    const bytes = t[t.length - 1]!.offset + t[t.length - 1]!.bytes - base;
    const group: PlannedGroup = { members: c.members, roles: c.roles, at: Math.max(...c.members), bytes };
    const pending: [number, number][] = [];
    let ok = true;
    c.roles.forEach((role, k) => {
      if (role !== 'tensor' || !ok) return;
      const owners = c.members.map((m) => owner[g.nodes[m]!.inputs[k]!]!);
      const slots = owners.map(known);
      const placed = owners.map((o) => blocks.get(o));
      if (slots.every((s) => s)) ok = slots.every((s, i) => s!.offset - slots[0]!.offset === t[i]!.offset - base);
      // already in an earlier group's block at the same relative offsets (Adam's m and v read the same gradients)
      else if (placed.every((p, i) => p && p.group === placed[0]!.group && p.relative === t[i]!.offset - base)) return;
      else if (slots.every((s) => !s) && new Set(owners).size === owners.length && owners.every((o) => !claimed.has(o) && g.nodes[o]!.op !== 'constant' && g.nodes[o]!.op !== 'scan')) {
        owners.forEach((o, i) => pending.push([o, t[i]!.offset - base]));
      } else ok = false;
    });
    if (!ok) continue;
    for (const [o, relative] of pending) (blocks.set(o, { group, relative }), claimed.add(o));
    planned.push(group);
  }
  // nothing but later groups may read a member before its group's loop has run
  const at = (id: number) => planned.find((p) => p.members.includes(id))?.at ?? id;
  const valid = planned.filter((p) => g.nodes.every((n) => !n.inputs.some((i) => p.members.includes(i)) || at(n.id) > p.at));
  if (valid.length !== planned.length) return { groups: [], blocks: new Map<number, { group: PlannedGroup; relative: number }>() }; // all or nothing keeps the check simple
  return { groups: valid, blocks };
}

/** Floats of op(B) from which a weight is worth a prepacked copy (smaller ones pack in microseconds). */
export const PREPACK_MIN = 1 << 14;
/** Bytes of prepacked copies a module keeps at most (the weights past it pack per call). */
export const PREPACK_MAX_BYTES = 256 * 2 ** 20;

/**
 * The matmuls of an entry that may read their B from a prepacked buffer
 * (runtime-as/gemm.ts, "a prepacked op(B)"), with each buffer's key and bytes: B
 * is a parameter that the entry does not update (an entry with updates trains, so
 * its weights change every run), the product is one GEMM with A's batch folded
 * into M, at least PREPACK_MIN floats of B, and more than 4 rows at the maximum
 * batch (fewer take the kernel's few-rows path, which packs nothing).
 */
export function prepackedWeights(g: Graph, maxBatch: number): Map<number, { key: string; bytes: number }> {
  const found = new Map<number, { key: string; bytes: number }>();
  if (g.updates.length) return found;
  const parameters = new Map(g.inputs.filter((i) => i.kind === 'parameter').map((i) => [i.id, i.name]));
  for (const n of g.nodes) {
    if (n.op !== 'matmul') continue;
    const { transposeA, transposeB, contract } = n.params as OpParams['matmul'];
    const name = parameters.get(n.inputs[1]!);
    const [a, b] = [g.nodes[n.inputs[0]!]!.type.shape, g.nodes[n.inputs[1]!]!.type.shape];
    if (name === undefined || contract || transposeA || b.length !== 2 || hasBatch(b)) continue;
    const [k, cols] = (transposeB ? [b[1], b[0]] : [b[0], b[1]]) as [number, number];
    const rows = sizeOf(a.slice(0, -1), maxBatch);
    if (k * cols < PREPACK_MIN || rows <= 4) continue;
    found.set(n.id, { key: `${name}${transposeB ? ' transposed' : ''}`, bytes: 64 + Math.ceil(cols / 8) * 8 * k * elementBytes });
  }
  return found;
}

export function planMemory(entries: readonly Graph[], options: { maxBatch?: number } = {}): ModulePlan {
  const maxBatch = options.maxBatch ?? 1;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw internal(`planMemory: maxBatch must be a positive integer, got ${maxBatch}`);
  let fixed = 0;
  const inputs = new Map<string, Slot & { type: TensorType }>();
  for (const g of entries) {
    for (const i of g.inputs) {
      const type = g.nodes[i.id]!.type;
      const known = inputs.get(i.name);
      if (known && !sameType(known.type, type)) throw internal(`planMemory: input "${i.name}" is ${formatType(known.type)} in one entry and ${formatType(type)} in another`);
      if (known) continue;
      inputs.set(i.name, { offset: fixed, bytes: bytesOf(type, maxBatch), type });
      fixed += roundUp(bytesOf(type, maxBatch));
    }
  }
  const constants = entries.map((g) => {
    const slots = new Map<number, Slot>();
    for (const n of g.nodes) {
      if (n.op !== 'constant') continue;
      slots.set(n.id, { offset: fixed, bytes: bytesOf(n.type, maxBatch) });
      fixed += roundUp(bytesOf(n.type, maxBatch));
    }
    return slots;
  });
  const packs = new Map<string, Slot>();
  let packBytes = 0;
  const packed = entries.map((g) => {
    const byNode = new Map<number, Slot>();
    for (const [id, { key, bytes }] of prepackedWeights(g, maxBatch)) {
      if (!packs.has(key)) {
        if (packBytes + bytes > PREPACK_MAX_BYTES) continue; // a huge model keeps packing per call rather than doubling its weights' memory
        packs.set(key, { offset: fixed, bytes });
        fixed += roundUp(bytes);
        packBytes += roundUp(bytes);
      }
      byNode.set(id, packs.get(key)!);
    }
    return byNode;
  });
  const plans = entries.map((g, e) => {
    const byId = new Map(g.inputs.map((i) => [i.id, inputs.get(i.name)!]));
    return { ...planEntry(g, maxBatch, (n) => (n.op === 'input' ? byId.get(n.id) : constants[e]!.get(n.id)), fixed), packs: packed[e]! };
  });
  const scratch = Math.max(0, ...plans.map((p) => p.peakBytes));
  return { maxBatch, entries: plans, inputs, packs, fixedBytes: fixed, arenaBytes: fixed + scratch };
}
