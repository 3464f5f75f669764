/**
 * Decoders for what the board shows beyond scalars: a `GraphDef`'s nodes
 * (graph.proto, node_def.proto, attr_value.proto) and the hparams plugin's data
 * (plugin_data.proto, api.proto). Field numbers are the formats'; unknown fields
 * are skipped, so TensorFlow's and PyTorch's files read too.
 */
import { readFields, type ProtoField } from '../summary/proto.js';

/** One NodeDef: name, op, input names (without ':n' outputs and '^' control marks), output shape and params when written. */
export interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  /** The first `_output_shapes` entry, as `[?,128]` (-1 is '?'). */
  readonly shape?: string;
  /** kiln's `params` attribute (the op's parameters as text). */
  readonly params?: string;
}

/** An hparam's value. */
export type HparamValue = number | string | boolean;

/** What the hparams plugin's summaries of one run say. */
export interface HparamsRecord {
  experiment?: { readonly hparams: readonly { name: string; type: number }[]; readonly metrics: readonly { tag: string; group: string }[] };
  sessionStart?: { readonly hparams: Readonly<Record<string, HparamValue>>; readonly groupName: string; readonly startTime: number };
  sessionEnd?: { readonly status: number; readonly endTime: number };
}

const utf8 = new TextDecoder();
const text = (f: ProtoField) => utf8.decode(f.value as Uint8Array);
const bytes = (f: ProtoField) => f.value as Uint8Array;
const num = (f: ProtoField) => (typeof f.value === 'bigint' ? Number(BigInt.asIntN(64, f.value)) : (f.value as number));
const sub = (f: ProtoField) => readFields(bytes(f));

/** TensorShapeProto { dim = 2 { size = 1 }, unknown_rank = 3 } as text. */
function shapeText(b: Uint8Array): string {
  const fields = readFields(b);
  if (fields.some((f) => f.field === 3 && num(f) === 1)) return '<unknown>';
  const dims = fields.filter((f) => f.field === 2).map((d) => sub(d).find((x) => x.field === 1)).map((s) => (s === undefined ? 0 : num(s)));
  return `[${dims.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;
}

/**
 * A GraphDef's nodes (`GraphDef { node = 1 }`).
 * @example decodeGraph(event.graphDef).map((n) => `${n.name}: ${n.op}`)
 */
export function decodeGraph(graphDef: Uint8Array): GraphNode[] {
  const nodes: GraphNode[] = [];
  for (const f of readFields(graphDef)) {
    if (f.field !== 1) continue;
    let name = '', op = '', shape: string | undefined, params: string | undefined;
    const inputs: string[] = [];
    for (const g of sub(f)) {
      if (g.field === 1) name = text(g);
      else if (g.field === 2) op = text(g);
      else if (g.field === 3) inputs.push(text(g).replace(/^\^/, '').replace(/:\d+$/, ''));
      else if (g.field === 5) { // map entry { key = 1, value = 2: AttrValue }
        const entry = sub(g);
        const key = entry.find((x) => x.field === 1);
        const value = entry.find((x) => x.field === 2);
        if (!key || !value) continue;
        const attr = sub(value);
        if (text(key) === '_output_shapes') {
          const list = attr.find((x) => x.field === 1); // AttrValue.list { shape = 7 }
          const first = list && sub(list).find((x) => x.field === 7);
          if (first) shape = shapeText(bytes(first));
        } else if (text(key) === 'params') {
          const s = attr.find((x) => x.field === 2);
          if (s) params = text(s);
        }
      }
    }
    nodes.push({ name, op, inputs, ...(shape ? { shape } : {}), ...(params ? { params } : {}) });
  }
  return nodes;
}

/** google.protobuf.Value { number_value = 2, string_value = 3, bool_value = 4 }. */
function protoValue(b: Uint8Array): HparamValue {
  for (const f of readFields(b)) {
    if (f.field === 2) return f.value as number;
    if (f.field === 3) return text(f);
    if (f.field === 4) return num(f) !== 0;
  }
  return '';
}

/**
 * The hparams plugin's content: `HParamsPluginData { experiment = 2, session_start_info = 3, session_end_info = 4 }`.
 * @example run.addHparams(decodeHparams(value.pluginContent))
 */
export function decodeHparams(content: Uint8Array): HparamsRecord {
  const out: HparamsRecord = {};
  for (const f of readFields(content)) {
    if (f.field === 2) {
      const hparams: { name: string; type: number }[] = [];
      const metrics: { tag: string; group: string }[] = [];
      for (const e of sub(f)) {
        if (e.field === 4) {
          const info = sub(e);
          hparams.push({ name: text(info.find((x) => x.field === 1) ?? { field: 1, wire: 2, value: new Uint8Array() }), type: num(info.find((x) => x.field === 4) ?? { field: 4, wire: 0, value: 0 }) });
        } else if (e.field === 5) {
          const name = sub(e).find((x) => x.field === 1);
          const parts = name ? sub(name) : [];
          const part = (n: number) => { const p = parts.find((x) => x.field === n); return p ? text(p) : ''; };
          metrics.push({ group: part(1), tag: part(2) });
        }
      }
      out.experiment = { hparams, metrics };
    } else if (f.field === 3) {
      const hparams: Record<string, HparamValue> = {};
      let groupName = '', startTime = 0;
      for (const s of sub(f)) {
        if (s.field === 1) {
          const entry = sub(s);
          const key = entry.find((x) => x.field === 1);
          const value = entry.find((x) => x.field === 2);
          if (key) hparams[text(key)] = value ? protoValue(bytes(value)) : '';
        } else if (s.field === 4) groupName = text(s);
        else if (s.field === 5) startTime = s.value as number;
      }
      out.sessionStart = { hparams, groupName, startTime };
    } else if (f.field === 4) {
      let status = 0, endTime = 0;
      for (const s of sub(f)) {
        if (s.field === 1) status = num(s);
        else if (s.field === 2) endTime = s.value as number;
      }
      out.sessionEnd = { status, endTime };
    }
  }
  return out;
}
