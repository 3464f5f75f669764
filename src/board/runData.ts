/**
 * One run's data as `kiln board` keeps it: scalar series in growable columns
 * (step, wall time, value), histogram buckets, images, text, the last graph and
 * the hparams records, by tag. Filled by `LogDir` as records are read.
 */
import type { GraphNode, HparamsRecord } from './decode.js';

/** A scalar tag's points in the order they were logged, in growable float64 columns. @example const s = new ScalarSeries(); s.push(0, 1.7e9, 0.5); s.values.subarray(0, s.length) */
export class ScalarSeries {
  steps = new Float64Array(64);
  wallTimes = new Float64Array(64);
  values = new Float64Array(64);
  length = 0;

  push(step: number, wallTime: number, value: number): void {
    if (this.length === this.steps.length) {
      const grow = (a: Float64Array) => { const b = new Float64Array(a.length * 2); b.set(a); return b; };
      this.steps = grow(this.steps);
      this.wallTimes = grow(this.wallTimes);
      this.values = grow(this.values);
    }
    this.steps[this.length] = step;
    this.wallTimes[this.length] = wallTime;
    this.values[this.length++] = value;
  }
}

export interface HistogramPoint { readonly step: number; readonly wallTime: number; /** [k, 3]: left edge, right edge, count. */ readonly buckets: Float64Array }
export interface ImagePoint { readonly step: number; readonly wallTime: number; readonly width: number; readonly height: number; readonly images: readonly Uint8Array[] }
export interface TextPoint { readonly step: number; readonly wallTime: number; readonly strings: readonly string[]; readonly shape: readonly number[] }

const utf8 = new TextDecoder();

const add = <T>(map: Map<string, T[]>, tag: string, point: T) => {
  let list = map.get(tag);
  if (!list) map.set(tag, (list = []));
  list.push(point);
};

/**
 * What one run holds, by plugin and tag.
 * @example const run = new RunData('train'); run.addScalar('epoch_loss', 0, Date.now() / 1000, 0.7);
 */
export class RunData {
  readonly name: string;
  readonly scalars = new Map<string, ScalarSeries>();
  readonly histograms = new Map<string, HistogramPoint[]>();
  readonly images = new Map<string, ImagePoint[]>();
  readonly text = new Map<string, TextPoint[]>();
  graph?: GraphNode[];
  hparams: HparamsRecord = {};
  /** Latest wall time seen (seconds). */
  lastWallTime = 0;

  constructor(name: string) {
    this.name = name;
  }

  clear(): void {
    for (const m of [this.scalars, this.histograms, this.images, this.text]) m.clear();
    this.graph = undefined;
    this.hparams = {};
    this.lastWallTime = 0;
  }

  addScalar(tag: string, step: number, wallTime: number, value: number): void {
    let s = this.scalars.get(tag);
    if (!s) this.scalars.set(tag, (s = new ScalarSeries()));
    s.push(step, wallTime, value);
    if (wallTime > this.lastWallTime) this.lastWallTime = wallTime;
  }

  addHistogram(tag: string, step: number, wallTime: number, buckets: Float64Array): void {
    add(this.histograms, tag, { step, wallTime, buckets });
  }

  /** `strings` is the images plugin's tensor: width, height, then PNG files (copied: the read buffer is not kept). */
  addImage(tag: string, step: number, wallTime: number, strings: readonly Uint8Array[]): void {
    const width = Number(utf8.decode(strings[0]));
    const height = Number(utf8.decode(strings[1]));
    add(this.images, tag, { step, wallTime, width, height, images: strings.slice(2).map((b) => b.slice()) });
  }

  addText(tag: string, step: number, wallTime: number, strings: readonly Uint8Array[], shape: readonly number[]): void {
    add(this.text, tag, { step, wallTime, strings: strings.map((b) => utf8.decode(b)), shape });
  }

  addHparams(record: HparamsRecord): void {
    this.hparams = { ...this.hparams, ...record };
  }
}
