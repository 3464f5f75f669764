/**
 * Decoders for what the board shows beyond scalars: a `GraphDef`'s nodes
 * (graph.proto, node_def.proto, attr_value.proto) and the hparams plugin's data
 * (plugin_data.proto, api.proto), on the event reader's `Cursor`. Field numbers
 * are the formats'; unknown fields are skipped, so TensorFlow's and PyTorch's
 * files read too.
 */
import { cursorOf, type Cursor } from '../summary/reader.js';

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

/** Calls `on(field, wire, cursor)` for each field of the message; `on` reads the field or returns false to skip it. */
function fields(c: Cursor, on: (field: number, wire: number) => boolean | void): void {
  while (c.more()) {
    const key = c.varint();
    const [field, wire] = [Math.floor(key / 8), key & 7];
    if (on(field, wire) !== true) c.skip(wire);
  }
}

/** TensorShapeProto { dim = 2 { size = 1 }, unknown_rank = 3 } as text. */
function shapeText(c: Cursor): string {
  const dims: number[] = [];
  let unknown = false;
  fields(c, (field, wire) => {
    if (field === 3 && wire === 0) return (unknown = c.varint() !== 0), true;
    if (field !== 2 || wire !== 2) return false;
    const d = c.sub();
    let size = 0;
    fields(d, (f, w) => (f === 1 && w === 0 ? ((size = d.varint()), true) : false));
    dims.push(size);
    return true;
  });
  return unknown ? '<unknown>' : `[${dims.map((d) => (d < 0 ? '?' : String(d))).join(',')}]`;
}

/** NodeDef.attr's map entry { key = 1, value = 2: AttrValue { list = 1 { shape = 7 }, s = 2 } }: the shape or params it gives. */
function attr(c: Cursor, node: { shape?: string; params?: string }): void {
  let key = '';
  fields(c, (field, wire) => {
    if (field === 1 && wire === 2) return (key = c.string()), true;
    if (field !== 2 || wire !== 2) return false;
    const value = c.sub();
    fields(value, (f, w) => {
      if (key === 'params' && f === 2 && w === 2) return (node.params = value.string()), true;
      if (key !== '_output_shapes' || f !== 1 || w !== 2 || node.shape !== undefined) return false;
      const list = value.sub();
      fields(list, (lf, lw) => (lf === 7 && lw === 2 && node.shape === undefined ? ((node.shape = shapeText(list.sub())), true) : false));
      return true;
    });
    return true;
  });
}

/**
 * A GraphDef's nodes (`GraphDef { node = 1 }`).
 * @example decodeGraph(event.graphDef).map((n) => `${n.name}: ${n.op}`)
 */
export function decodeGraph(graphDef: Uint8Array): GraphNode[] {
  const nodes: GraphNode[] = [];
  const g = cursorOf(graphDef);
  fields(g, (field, wire) => {
    if (field !== 1 || wire !== 2) return false;
    const c = g.sub();
    const node: { name: string; op: string; inputs: string[]; shape?: string; params?: string } = { name: '', op: '', inputs: [] };
    fields(c, (f, w) => {
      if (w !== 2) return false;
      if (f === 1) node.name = c.string();
      else if (f === 2) node.op = c.string();
      else if (f === 3) node.inputs.push(c.string().replace(/^\^/, '').replace(/:\d+$/, ''));
      else if (f === 5) attr(c.sub(), node);
      else return false;
      return true;
    });
    nodes.push(node);
    return true;
  });
  return nodes;
}

/** google.protobuf.Value { number_value = 2, string_value = 3, bool_value = 4 }. */
function protoValue(c: Cursor): HparamValue {
  let value: HparamValue = '';
  fields(c, (field, wire) => {
    if (field === 2 && wire === 1) value = c.double();
    else if (field === 3 && wire === 2) value = c.string();
    else if (field === 4 && wire === 0) value = c.varint() !== 0;
    else return false;
    return true;
  });
  return value;
}

/** Experiment { hparam_infos = 4 { name = 1, type = 4 }, metric_infos = 5 { name = 1 { group = 1, tag = 2 } } }. */
function experiment(c: Cursor): NonNullable<HparamsRecord['experiment']> {
  const hparams: { name: string; type: number }[] = [];
  const metrics: { tag: string; group: string }[] = [];
  fields(c, (field, wire) => {
    if (wire !== 2 || (field !== 4 && field !== 5)) return false;
    const info = c.sub();
    if (field === 4) {
      const h = { name: '', type: 0 };
      fields(info, (f, w) => (f === 1 && w === 2 ? ((h.name = info.string()), true) : f === 4 && w === 0 ? ((h.type = info.varint()), true) : false));
      hparams.push(h);
    } else {
      const m = { group: '', tag: '' };
      fields(info, (f, w) => {
        if (f !== 1 || w !== 2) return false;
        const name = info.sub();
        fields(name, (nf, nw) => (nw === 2 && (nf === 1 || nf === 2) ? ((m[nf === 1 ? 'group' : 'tag'] = name.string()), true) : false));
        return true;
      });
      metrics.push(m);
    }
    return true;
  });
  return { hparams, metrics };
}

/** SessionStartInfo { hparams = 1 (map<string, Value>), group_name = 4, start_time_secs = 5 }. */
function sessionStart(c: Cursor): NonNullable<HparamsRecord['sessionStart']> {
  const hparams: Record<string, HparamValue> = {};
  let groupName = '', startTime = 0;
  fields(c, (field, wire) => {
    if (field === 1 && wire === 2) {
      const entry = c.sub();
      let key = '', value: HparamValue = '';
      fields(entry, (f, w) => (f === 1 && w === 2 ? ((key = entry.string()), true) : f === 2 && w === 2 ? ((value = protoValue(entry.sub())), true) : false));
      hparams[key] = value;
    } else if (field === 4 && wire === 2) groupName = c.string();
    else if (field === 5 && wire === 1) startTime = c.double();
    else return false;
    return true;
  });
  return { hparams, groupName, startTime };
}

/**
 * The hparams plugin's content: `HParamsPluginData { experiment = 2, session_start_info = 3, session_end_info = 4 { status = 1, end_time_secs = 2 } }`.
 * @example run.addHparams(decodeHparams(value.pluginContent))
 */
export function decodeHparams(content: Uint8Array): HparamsRecord {
  const out: HparamsRecord = {};
  const c = cursorOf(content);
  fields(c, (field, wire) => {
    if (wire !== 2) return false;
    if (field === 2) out.experiment = experiment(c.sub());
    else if (field === 3) out.sessionStart = sessionStart(c.sub());
    else if (field === 4) {
      const end = c.sub();
      const e = { status: 0, endTime: 0 };
      fields(end, (f, w) => (f === 1 && w === 0 ? ((e.status = end.varint()), true) : f === 2 && w === 1 ? ((e.endTime = end.double()), true) : false));
      out.sessionEnd = e;
    } else return false;
    return true;
  });
  return out;
}
