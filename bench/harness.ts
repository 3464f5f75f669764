/**
 * Timing and tables for the side-by-side benchmarks. A prepared closure is warmed
 * up, then timed in samples of several calls each (so one sample lasts long enough
 * for the clock); tables report the median per-call time (the fastest sample is
 * kept too). Cells that did not run carry the reason instead of a number.
 */

/** One prepared unit of work; a promise is awaited (onnxruntime runs are async). */
export type Run = () => unknown;

/** The engine cannot run this case; `reason` says why (shown in the table's notes). */
export class NotApplicable extends Error {
  constructor(readonly label: string, reason: string) {
    super(reason);
  }
}

export interface TimingOptions {
  /** Samples to take (fewer when a call is slow, see budgetMs). */
  samples: number;
  /** Warm-up time before timing, at least two calls (V8 tiers wasm up to TurboFan meanwhile). */
  warmupMs: number;
  /** Calls are repeated until one sample lasts about this long. */
  sampleMs: number;
  /** Samples stop once this much time is spent (but at least 3 are taken). */
  budgetMs: number;
}

export interface Timing {
  /** Median milliseconds per call. */
  readonly median: number;
  /** Fastest sample's milliseconds per call. */
  readonly min: number;
  readonly samples: number;
  readonly callsPerSample: number;
  /** Process CPU time ÷ wall time while sampling: about 1 when the engine ran on one thread. */
  readonly threads: number;
}

const isPromise = (x: unknown): x is Promise<unknown> => typeof (x as Promise<unknown> | undefined)?.then === 'function';

async function call(run: Run): Promise<void> {
  const result = run();
  if (isPromise(result)) await result;
}

/** Time `calls` calls; synchronous closures run in a plain loop so no await is timed. */
async function timeCalls(run: Run, calls: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) {
    const result = run();
    if (isPromise(result)) await result;
  }
  return performance.now() - start;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** Warm-up: at least two calls and warmupMs, then on until a call is within 15% of the best so far, never past 4 × warmupMs. Returns the best call. */
async function warmUp(run: Run, options: TimingOptions): Promise<number> {
  const warmStart = performance.now();
  let best = Infinity;
  for (let calls = 1; ; calls++) {
    const start = performance.now();
    await call(run);
    const last = performance.now() - start;
    best = Math.min(best, last);
    const elapsed = performance.now() - warmStart;
    if (calls >= 2 && ((elapsed >= options.warmupMs && last <= best * 1.15) || elapsed >= 4 * options.warmupMs)) return best;
  }
}

/** A closure being sampled: its per-call times so far and the wall and CPU time spent on them. */
class Sampler {
  readonly perCall: number[] = [];
  private wallMs = 0;
  private cpuMs = 0;
  constructor(private readonly run: Run, private readonly callsPerSample: number) {}

  static async warm(run: Run, options: TimingOptions): Promise<Sampler> {
    const best = await warmUp(run, options);
    return new Sampler(run, Math.max(1, Math.round(options.sampleMs / Math.max(best, 1e-3))));
  }

  async sample(): Promise<void> {
    const cpu = process.cpuUsage();
    const ms = await timeCalls(this.run, this.callsPerSample);
    const used = process.cpuUsage(cpu);
    this.perCall.push(ms / this.callsPerSample);
    this.wallMs += ms;
    this.cpuMs += (used.user + used.system) / 1e3;
  }

  done(options: TimingOptions): boolean {
    return this.perCall.length >= options.samples || (this.perCall.length >= 3 && this.wallMs >= options.budgetMs);
  }

  timing(): Timing {
    const { perCall, callsPerSample } = this;
    return { median: median(perCall), min: Math.min(...perCall), samples: perCall.length, callsPerSample, threads: this.cpuMs / this.wallMs };
  }
}

export async function measure(run: Run, options: TimingOptions): Promise<Timing> {
  const sampler = await Sampler.warm(run, options);
  while (!sampler.done(options)) await sampler.sample();
  return sampler.timing();
}

// ---- results and tables ---------------------------------------------------------------

/** A measured cell, or why there is no number. */
export interface Measured { readonly timing: Timing }
export interface Missing { readonly missing: string; readonly note?: string | undefined }
export type Cell = Measured | Missing;

export function hasTiming(c: Cell | undefined): c is Measured {
  return c !== undefined && 'timing' in c;
}

function failure(e: unknown): Missing {
  if (e instanceof NotApplicable) return { missing: e.label, note: e.message };
  const message = e instanceof Error ? e.message : String(e);
  return { missing: 'error', note: message.split('\n')[0]!.slice(0, 200) };
}

/** One contender in a row: `activate` runs before its preparation and before each of its samples. */
export interface RowEntry {
  readonly name: string;
  readonly activate?: (() => Promise<void>) | undefined;
  readonly prepare: () => Promise<Run>;
}

/**
 * Measures one case on every engine: each is prepared and warmed up, then samples
 * are taken round-robin, one per engine a round, so that a change in the machine's
 * load (it is shared) falls on all engines alike and their ratios stay fair.
 * A failure in preparing or running becomes a cell that says so.
 */
export async function measureRow(entries: readonly RowEntry[], options: TimingOptions): Promise<Map<string, Cell>> {
  const cells = new Map<string, Cell>();
  const active = new Map<RowEntry, Sampler>();
  for (const entry of entries) {
    try {
      await entry.activate?.();
      active.set(entry, await Sampler.warm(await entry.prepare(), options));
    } catch (e) {
      cells.set(entry.name, failure(e));
    }
  }
  while (active.size) {
    for (const [entry, sampler] of active) {
      try {
        await entry.activate?.();
        await sampler.sample();
        if (!sampler.done(options)) continue;
        cells.set(entry.name, { timing: sampler.timing() });
      } catch (e) {
        cells.set(entry.name, failure(e));
      }
      active.delete(entry);
    }
  }
  return new Map(entries.map((e) => [e.name, cells.get(e.name)!]));
}

/** "×1.3": how many times as fast `ours` is as `theirs` (both as per-call times). */
export function ratio(ours: Cell | undefined, theirs: Cell | undefined): string {
  if (!hasTiming(ours) || !hasTiming(theirs)) return '—';
  const r = theirs.timing.median / ours.timing.median;
  return `×${r >= 10 ? r.toFixed(0) : r.toFixed(2)}`;
}

export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly notes?: readonly string[];
  /** Leading columns of labels, left-aligned (default 1); the rest are right-aligned values. */
  readonly labelColumns?: number;
}

/** A Markdown table, padded so it also reads well in a terminal. */
export function formatTable(t: Table): string {
  const labels = t.labelColumns ?? 1;
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i < labels ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => `${'-'.repeat(w + 1)}${i < labels ? '-' : ':'}`).join('|')}|`;
  const notes = (t.notes ?? []).map((n) => `- ${n}`);
  return [`### ${t.title}`, '', line(t.header), rule, ...t.rows.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** Collects each missing cell's note once, as "engine, case: note". */
export class Notes {
  private readonly seen = new Map<string, string[]>();
  add(cell: Cell | undefined, where: string): void {
    if (!cell || hasTiming(cell) || !cell.note) return;
    const list = this.seen.get(cell.note) ?? [];
    list.push(where);
    this.seen.set(cell.note, list);
  }
  lines(): string[] {
    return [...this.seen].map(([note, where]) => `${where.join(', ')}: ${note}`);
  }
}

/** One timed call, no warm-up: for a case that takes minutes a call (its first call's setup is then noise). */
export async function measureOnce(run: Run): Promise<Timing> {
  const cpu = process.cpuUsage();
  const ms = await timeCalls(run, 1);
  const used = process.cpuUsage(cpu);
  return { median: ms, min: ms, samples: 1, callsPerSample: 1, threads: (used.user + used.system) / 1e3 / ms };
}

/** Process CPU time ÷ wall time over the cells: about 1 on one thread, about 2 if an engine kept both cores busy. */
export function threadNote(rows: readonly { cells: ReadonlyMap<string, Cell> }[], label: (i: number) => string): string {
  const all = rows.flatMap(({ cells }, i) => [...cells].flatMap(([engine, c]) => (hasTiming(c) ? [{ where: `${engine} ${label(i)}`, threads: c.timing.threads }] : [])));
  const busiest = all.reduce((a, b) => (b.threads > a.threads ? b : a), { where: '', threads: 0 });
  return `Single-thread check: process CPU time ÷ wall time while sampling has median ${median(all.map((x) => x.threads)).toFixed(2)}, `
    + `at most ${busiest.threads.toFixed(2)} (${busiest.where}); V8's background GC and compiler threads count too, and a second busy engine thread would add about 1.`;
}
