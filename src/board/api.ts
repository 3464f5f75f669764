/**
 * What the board's page asks the server for, computed from a `LogDir`: the run
 * and tag index, scalar series as one binary buffer (sampled to a few thousand
 * points per run so a million-point folder draws at once), histograms, image
 * lists, text, a run's graph laid out, and the hparams table.
 */
import { layeredLayout } from '../plot/layeredLayout.js';
import type { GraphNode } from './decode.js';
import type { LogDir } from './logDir.js';
import type { ScalarSeries } from './runData.js';

type Plugin = 'scalars' | 'histograms' | 'images' | 'text';

/** The index the page starts from: runs, tags by plugin (each with its runs), graphs, problems. @example index(logs).tags.scalars['epoch_loss'] // ['train', 'validation'] */
export function index(logs: LogDir) {
  const tags: Record<Plugin, Record<string, string[]>> = { scalars: {}, histograms: {}, images: {}, text: {} };
  const runs = [...logs.runs.keys()].sort();
  for (const name of runs) {
    const run = logs.runs.get(name)!;
    for (const plugin of Object.keys(tags) as Plugin[]) for (const tag of run[plugin].keys()) (tags[plugin][tag] ??= []).push(name);
  }
  return {
    version: logs.version,
    logDir: logs.root,
    runs,
    tags,
    graphs: runs.filter((r) => logs.runs.get(r)!.graph),
    hparams: runs.some((r) => logs.runs.get(r)!.hparams.sessionStart),
    problems: logs.problems(),
  };
}

/** Indices of at most `max` evenly spaced points of `n`, the first and last always in. @example sampleIndices(10, 4) // [0, 3, 6, 9] */
export function sampleIndices(n: number, max: number): Int32Array {
  if (n <= max) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from({ length: max }, (_, i) => Math.round((i * (n - 1)) / (max - 1)));
}

/**
 * The scalar tag's series of every run holding it, as one buffer: a uint32 header
 * length, the JSON header `{ runs: [{ run, length, total }] }` padded to 8 bytes,
 * then per run `length` float64 steps, wall times and values.
 * @example const body = scalarsBuffer(logs, 'epoch_loss', 2000);
 */
export function scalarsBuffer(logs: LogDir, tag: string, maxPoints: number): Uint8Array {
  const series: { run: string; s: ScalarSeries; pick: Int32Array }[] = [];
  for (const [run, data] of [...logs.runs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const s = data.scalars.get(tag);
    if (s) series.push({ run, s, pick: sampleIndices(s.length, maxPoints) });
  }
  const header = new TextEncoder().encode(JSON.stringify({ runs: series.map(({ run, s, pick }) => ({ run, length: pick.length, total: s.length })) }));
  const start = Math.ceil((4 + header.length) / 8) * 8;
  const floats = series.reduce((a, { pick }) => a + 3 * pick.length, 0);
  const out = new Uint8Array(start + floats * 8);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  const f = new Float64Array(out.buffer, start, floats);
  let at = 0;
  for (const { s, pick } of series) {
    for (const column of [s.steps, s.wallTimes, s.values]) for (let i = 0; i < pick.length; i++) f[at++] = column[pick[i]!]!;
  }
  return out;
}

/** A run's histograms of `tag` (at most `max` steps, evenly spaced), buckets as [left, right, count] rows. @example histograms(logs, 'train', 'hidden/kernel/histogram')[0].buckets */
export function histograms(logs: LogDir, run: string, tag: string, max = 100) {
  const list = logs.runs.get(run)?.histograms.get(tag) ?? [];
  return [...sampleIndices(list.length, max)].map((i) => {
    const h = list[i]!;
    return { step: h.step, wallTime: h.wallTime, buckets: Array.from(h.buckets) };
  });
}

/** A run's image steps for `tag`: step, wall time, size and how many images each holds. @example imageSteps(logs, 'train', 'hidden/kernel/image').length */
export function imageSteps(logs: LogDir, run: string, tag: string) {
  return (logs.runs.get(run)?.images.get(tag) ?? []).map((p) => ({ step: p.step, wallTime: p.wallTime, width: p.width, height: p.height, count: p.images.length }));
}

/** One PNG: the `sample`th image of the `index`th step. @example imageBytes(logs, 'train', 'hidden/kernel/image', 0, 0) */
export function imageBytes(logs: LogDir, run: string, tag: string, index: number, sample: number): Uint8Array | undefined {
  return logs.runs.get(run)?.images.get(tag)?.[index]?.images[sample];
}

/** A run's text of `tag`, by step. @example texts(logs, 'exp1', 'notes/text_summary')[0].strings */
export function texts(logs: LogDir, run: string, tag: string) {
  return logs.runs.get(run)?.text.get(tag) ?? [];
}

/** The part of a node name that groups it at the 'layers' level: its first scope ('dense_1/matmul' → 'dense_1'). */
const groupOf = (name: string) => name.split('/')[0]!;

/**
 * A run's graph laid out in layers: every node ('ops'), or one box a name scope
 * ('layers', as TensorBoard folds scopes), with edges between boxes.
 * @example graphLayout(logs, 'train', 'layers').nodes.map((n) => n.label)
 */
export function graphLayout(logs: LogDir, run: string, level: 'layers' | 'ops') {
  const graph: readonly GraphNode[] = logs.runs.get(run)?.graph ?? [];
  const key = level === 'ops' ? (n: string) => n : groupOf;
  const boxes = new Map<string, { ops: GraphNode[] }>();
  for (const n of graph) (boxes.get(key(n.name)) ?? boxes.set(key(n.name), { ops: [] }).get(key(n.name))!).ops.push(n);
  const edgeSet = new Set<string>();
  for (const n of graph) for (const i of n.inputs) if (boxes.has(key(i)) && key(i) !== key(n.name)) edgeSet.add(`${key(i)}\u0000${key(n.name)}`);
  const edges = [...edgeSet].map((e) => e.split('\u0000') as [string, string]);
  const label = (id: string, ops: GraphNode[]) => (ops.length === 1 && ops[0]!.name === id ? `${id}: ${ops[0]!.op}` : `${id} (${ops.length} ops)`);
  const detail = (ops: GraphNode[]) => ops.map((o) => `${o.name}: ${o.op}${o.shape ? ` ${o.shape}` : ''}${o.params ? ` ${o.params}` : ''}`).join('\n');
  const nodes = [...boxes].map(([id, { ops }]) => ({ id, label: label(id, ops), detail: detail(ops), shape: ops[ops.length - 1]!.shape ?? '' }));
  const layout = layeredLayout(nodes.map((n) => ({ id: n.id, width: Math.max(n.label.length, n.shape.length) * 7 + 20, height: n.shape ? 38 : 26 })), edges);
  return {
    width: layout.width,
    height: layout.height,
    nodes: nodes.map((n) => ({ ...n, ...layout.nodes.get(n.id)!, width: Math.max(n.label.length, n.shape.length) * 7 + 20, height: n.shape ? 38 : 26 })),
    edges: layout.edges,
  };
}

/**
 * The hparams table: one row a session (a run with session_start_info), its
 * hparams, and the last value of each metric the experiment names, looked up
 * in the session's run and the runs below it (Keras's train/ and validation/).
 * @example hparamsTable(logs).sessions[0] // { run: 'hp/trial_a', hparams: { lr: 0.05 }, status: 1, metrics: { 'hparam/accuracy': 0.9 } }
 */
export function hparamsTable(logs: LogDir) {
  const names = new Set<string>();
  const metricTags = new Map<string, { tag: string; group: string }>();
  for (const run of logs.runs.values()) {
    for (const h of run.hparams.experiment?.hparams ?? []) names.add(h.name);
    for (const m of run.hparams.experiment?.metrics ?? []) metricTags.set(`${m.group}\u0000${m.tag}`, m);
    for (const n of Object.keys(run.hparams.sessionStart?.hparams ?? {})) names.add(n);
  }
  const sessions = [...logs.runs.values()].filter((r) => r.hparams.sessionStart).map((r) => {
    const prefix = r.name === '.' ? '' : `${r.name}/`;
    const metrics: Record<string, number> = {};
    for (const m of metricTags.values()) {
      const runName = m.group ? `${prefix}${m.group}` : r.name;
      const candidates = [logs.runs.get(runName), ...[...logs.runs.values()].filter((o) => !m.group && o.name.startsWith(prefix) && o !== r)];
      const series = candidates.map((c) => c?.scalars.get(m.tag)).find((s) => s && s.length);
      if (series) metrics[m.group ? `${m.group}/${m.tag}` : m.tag] = series.values[series.length - 1]!;
    }
    return { run: r.name, hparams: r.hparams.sessionStart!.hparams, status: r.hparams.sessionEnd?.status ?? 0, metrics };
  });
  return { hparams: [...names], metrics: [...metricTags.values()].map((m) => (m.group ? `${m.group}/${m.tag}` : m.tag)), sessions };
}
