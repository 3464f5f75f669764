/**
 * Summary values in TensorBoard's current plugin formats (what TF2's
 * `tf.summary.*` ops write): the tensor each plugin expects and its metadata.
 * - scalars: a rank-0 DT_FLOAT tensor (NaN and ±Infinity stay as they are)
 * - histograms: DT_DOUBLE [k, 3], rows (left edge, right edge, count)
 * - images: DT_STRING [2 + n]: width and height as decimal text, then n PNG files
 * - text: DT_STRING, UTF-8 (markdown)
 * - hparams: no data, the plugin's own message in the metadata's content
 */
import { KilnError } from '../../compiler/errors.js';
import { DataClass, DataType, float32Bytes, float64Bytes, type SummaryValueSpec } from './events.js';
import { encodePng, type RawImage } from './png.js';
import { ProtoWriter } from './proto.js';

const utf8 = new TextEncoder();

/** TensorBoard's default bucket count for histograms. @example histogramBuckets(values, defaultBucketCount) */
export const defaultBucketCount = 30;

/**
 * A scalar summary value.
 * @example scalarValue('epoch_loss', 0.42)
 */
export function scalarValue(tag: string, value: number, description?: string): SummaryValueSpec {
  if (typeof value !== 'number') throw new KilnError(`scalar "${tag}": expected a number, got ${typeof value}.`);
  return {
    tag,
    metadata: { pluginName: 'scalars', dataClass: DataClass.SCALAR, description },
    tensor: { dtype: DataType.DT_FLOAT, shape: [], content: float32Bytes([value]) },
  };
}

/**
 * Histogram buckets as TensorBoard's summary_v2 makes them: `bucketCount` equal
 * buckets from the minimum to the maximum (the last one closed); one value
 * repeated gives buckets [v, v] with every count in the last; no values, all
 * zeros. Non-finite values are left out (they have no bucket).
 * @example histogramBuckets([1, 2, 2, 3], 2) // [[1, 2, 1], [2, 3, 3]] flattened
 */
export function histogramBuckets(values: ArrayLike<number>, bucketCount = defaultBucketCount): Float64Array {
  if (!Number.isInteger(bucketCount) || bucketCount < 1) throw new KilnError(`histogram: expected a positive integer bucket count, got ${bucketCount}.`);
  const k = bucketCount;
  const out = new Float64Array(k * 3);
  let min = Infinity;
  let max = -Infinity;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    n++;
  }
  if (n === 0) return out;
  if (min === max) {
    for (let b = 0; b < k; b++) (out[b * 3] = min), (out[b * 3 + 1] = min);
    out[(k - 1) * 3 + 2] = n;
    return out;
  }
  const range = max - min;
  const width = range / k;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    const b = Math.min(Math.floor((v - min) / width), k - 1);
    out[b * 3 + 2]!++;
  }
  for (let b = 0; b < k; b++) { // tf.linspace's edges, start + i·step, with the last one exactly max
    out[b * 3] = min + b * width;
    out[b * 3 + 1] = b === k - 1 ? max : min + (b + 1) * width;
  }
  return out;
}

/**
 * A histogram summary value of `values` (flattened).
 * @example histogramValue('dense_1/kernel/histogram', weights.data)
 */
export function histogramValue(tag: string, values: ArrayLike<number>, bucketCount = defaultBucketCount, description?: string): SummaryValueSpec {
  const buckets = histogramBuckets(values, bucketCount);
  return {
    tag,
    metadata: { pluginName: 'histograms', dataClass: DataClass.TENSOR, description },
    tensor: { dtype: DataType.DT_DOUBLE, shape: [bucketCount, 3], content: float64Bytes(buckets) },
  };
}

/**
 * An image summary value: images of one size, each written as PNG.
 * @example imageValue('samples', [{ width: 28, height: 28, channels: 1, data: pixels }])
 */
export function imageValue(tag: string, images: readonly RawImage[], description?: string): SummaryValueSpec {
  if (images.length === 0) throw new KilnError(`image "${tag}": expected at least one image, got none.`);
  const { width, height } = images[0]!;
  for (const im of images) if (im.width !== width || im.height !== height) throw new KilnError(`image "${tag}": expected images of one size (${width}×${height}), got ${im.width}×${im.height}.`);
  return {
    tag,
    metadata: { pluginName: 'images', dataClass: DataClass.BLOB_SEQUENCE, description },
    tensor: { dtype: DataType.DT_STRING, shape: [images.length + 2], strings: [utf8.encode(String(width)), utf8.encode(String(height)), ...images.map(encodePng)] },
  };
}

/**
 * A text summary value (markdown): one string (rank 0) or a list (rank 1, shown as a table).
 * @example textValue('notes', '**lr** 1e-3, batch 64')
 */
export function textValue(tag: string, text: string | readonly string[], description?: string): SummaryValueSpec {
  const list = typeof text === 'string' ? [text] : text;
  for (const t of list) if (typeof t !== 'string') throw new KilnError(`text "${tag}": expected a string or a list of strings, got ${typeof t}.`);
  return {
    tag,
    metadata: { pluginName: 'text', dataClass: DataClass.TENSOR, description },
    tensor: { dtype: DataType.DT_STRING, shape: typeof text === 'string' ? [] : [list.length], strings: list.map((t) => utf8.encode(t)) },
  };
}

// ---- images from numbers ------------------------------------------------------------

/**
 * Bytes of an [h, w, c] image from numbers: each value times `scale` (255 for
 * PyTorch's floats in [0, 1], 255.5 for TensorFlow's, 1 for 0–255 integers),
 * clipped to 0–255 and truncated, as both do. NaN becomes 0.
 * @example toRawImage('addImage', [0, 0.5, 1], 1, 3, 1, 255) // pixels 0, 127, 255
 */
export function toRawImage(who: string, values: ArrayLike<number>, height: number, width: number, channels: number, scale: number): RawImage {
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new KilnError(`${who}: expected 1, 3 or 4 channels, got ${channels}.`);
  const data = new Uint8Array(height * width * channels);
  for (let i = 0; i < data.length; i++) {
    const v = values[i]! * scale;
    data[i] = v >= 255 ? 255 : v > 0 ? Math.trunc(v) : 0;
  }
  return { width, height, channels, data };
}

// ---- hparams --------------------------------------------------------------------------

/** An hparam's value: what google.protobuf.Value holds for TensorBoard. */
export type HParamValue = number | string | boolean;

/** hparams plugin's DataType. */
const HParamType = { STRING: 1, BOOL: 2, FLOAT64: 3 } as const;
/** SessionEndInfo's Status. @example hparamsSessionEndValue(SessionStatus.SUCCESS, Date.now() / 1000) */
export const SessionStatus = { UNKNOWN: 0, SUCCESS: 1, FAILURE: 2, RUNNING: 3 } as const;

/** google.protobuf.Value { number_value = 2, string_value = 3, bool_value = 4 } (a oneof: zero is written). */
function protoValue(v: HParamValue): Uint8Array {
  const w = new ProtoWriter();
  if (typeof v === 'number') w.double(2, v);
  else if (typeof v === 'string') w.string(3, v);
  else w.bool(4, v);
  return w.finish();
}

function hparamType(who: string, name: string, v: unknown): number {
  if (typeof v === 'number') return HParamType.FLOAT64;
  if (typeof v === 'string') return HParamType.STRING;
  if (typeof v === 'boolean') return HParamType.BOOL;
  throw new KilnError(`${who}: hparam "${name}" must be a number, string or boolean, got ${v === null ? 'null' : typeof v}.`);
}

/** HParamsPluginData { version = 1, experiment = 2, session_start_info = 3, session_end_info = 4 } as a summary value. */
function hparamsValue(tag: string, field: 2 | 3 | 4, message: Uint8Array): SummaryValueSpec {
  const content = new ProtoWriter().message(field, message).finish();
  return {
    tag,
    metadata: { pluginName: 'hparams', content },
    // TensorBoard's own hparams summaries carry an empty float vector, so tensor-based readers keep the value
    tensor: { dtype: DataType.DT_FLOAT, shape: [0] },
  };
}

/**
 * The hparams experiment: the hyperparameters (with their types) and the metric tags to show as columns.
 * Experiment { hparam_infos = 4 { name = 1, type = 4, domain_discrete = 5 }, metric_infos = 5 { name = 1 { tag = 2 } }, time_created_secs = 3 }.
 * @example hparamsExperimentValue('addHparams', { lr: 0.1 }, ['accuracy'], Date.now() / 1000)
 */
export function hparamsExperimentValue(who: string, hparams: Readonly<Record<string, HParamValue>>, metricTags: readonly string[], timeCreated: number, domains: Readonly<Record<string, readonly HParamValue[]>> = {}): SummaryValueSpec {
  const w = new ProtoWriter();
  if (timeCreated) w.double(3, timeCreated);
  for (const [name, v] of Object.entries(hparams)) {
    const info = new ProtoWriter().string(1, name).varint(4, hparamType(who, name, v));
    const domain = domains[name];
    if (domain) { // domain_discrete = 5: a google.protobuf.ListValue { repeated Value values = 1 }
      const list = new ProtoWriter();
      for (const d of domain) (hparamType(who, name, d), list.message(1, protoValue(d)));
      info.message(5, list.finish());
    }
    w.message(4, info.finish());
  }
  for (const tag of metricTags) w.message(5, new ProtoWriter().message(1, new ProtoWriter().string(2, tag).finish()).finish());
  return hparamsValue('_hparams_/experiment', 2, w.finish());
}

/** SessionStartInfo { hparams = 1 (map<string, Value>), group_name = 4, start_time_secs = 5 }. @example hparamsSessionStartValue('addHparams', { lr: 0.1 }, Date.now() / 1000) */
export function hparamsSessionStartValue(who: string, hparams: Readonly<Record<string, HParamValue>>, startTime: number, groupName = ''): SummaryValueSpec {
  const w = new ProtoWriter();
  for (const [name, v] of Object.entries(hparams)) {
    hparamType(who, name, v);
    w.message(1, new ProtoWriter().string(1, name).message(2, protoValue(v)).finish());
  }
  if (groupName) w.string(4, groupName);
  if (startTime) w.double(5, startTime);
  return hparamsValue('_hparams_/session_start_info', 3, w.finish());
}

/** SessionEndInfo { status = 1, end_time_secs = 2 }. @example hparamsSessionEndValue(SessionStatus.SUCCESS, Date.now() / 1000) */
export function hparamsSessionEndValue(status: number, endTime: number): SummaryValueSpec {
  const w = new ProtoWriter();
  if (status) w.varint(1, status);
  if (endTime) w.double(2, endTime);
  return hparamsValue('_hparams_/session_end_info', 4, w.finish());
}
