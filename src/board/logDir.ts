/**
 * `LogDir`: what `kiln board` knows about a log folder. Every folder below it
 * holding `events.out.tfevents.*` files is a run; `refresh()` finds new runs and
 * files and reads only the bytes appended since the last complete record, so a
 * folder that training is still writing is followed cheaply. A damaged file
 * keeps what was read before the damage and is reported by name; a file that
 * ends inside a record is read again from that record on the next refresh.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { KilnError } from '../../compiler/errors.js';
import { decodeEvent, readRecords, type DecodedValue } from '../summary/reader.js';
import { decodeGraph, decodeHparams, type GraphNode, type HparamsRecord } from './decode.js';
import { RunData } from './runData.js';

/** One event file and how far it has been read. */
interface FileState {
  readonly path: string;
  /** Bytes read as whole records. */
  offset: number;
  /** Set when a checksum or an Event failed: nothing after it is read. */
  damage?: string;
  /** Bytes after the last whole record (a record still being written, or a cut-off file). */
  pending: number;
}

/** A problem with one file, as the board shows it. */
export interface FileProblem {
  readonly file: string;
  readonly message: string;
  /** 'damaged': nothing after `offset` is read; 'incomplete': the file ends inside a record. */
  readonly kind: 'damaged' | 'incomplete';
}

const isEventFile = (name: string) => name.includes('tfevents');

/** Reads at most this many bytes of one file per read call. */
const chunkBytes = 16 << 20;

/**
 * A log folder's runs, read incrementally.
 * @example
 * const logs = new LogDir('logs');
 * await logs.refresh();
 * for (const [name, run] of logs.runs) console.log(name, [...run.scalars.keys()]);
 */
export class LogDir {
  readonly root: string;
  readonly runs = new Map<string, RunData>();
  private readonly files = new Map<string, FileState>();
  /** Grows each time a refresh reads something new (the page polls it). */
  version = 0;

  constructor(root: string) {
    this.root = root;
  }

  /** Checks that the folder exists and is a folder. @example await new LogDir('logs').check() */
  async check(): Promise<void> {
    const s = await stat(this.root).catch(() => undefined);
    if (!s) throw new KilnError(`kiln board: log folder ${this.root} does not exist (pass --logdir with the folder a tensorBoard callback or SummaryWriter writes to).`);
    if (!s.isDirectory()) throw new KilnError(`kiln board: --logdir ${this.root} is a file, expected a folder.`);
  }

  /** Finds new runs and files and reads what was appended; resolves to whether anything changed. @example if (await logs.refresh()) redraw(); */
  async refresh(): Promise<boolean> {
    const before = this.version;
    for (const path of await this.eventFiles(this.root)) {
      let f = this.files.get(path);
      if (!f) this.files.set(path, (f = { path, offset: 0, pending: 0 }));
      await this.readFile(f);
    }
    return this.version !== before;
  }

  /** Damaged and incomplete files, by their path relative to the log folder. @example logs.problems() // [{ file: 'run1/events…', kind: 'damaged', … }] */
  problems(): FileProblem[] {
    const out: FileProblem[] = [];
    for (const f of this.files.values()) {
      const file = relative(this.root, f.path).split(sep).join('/');
      if (f.damage) out.push({ file, kind: 'damaged', message: f.damage });
      else if (f.pending) out.push({ file, kind: 'incomplete', message: `ends inside a record: ${f.pending} bytes after byte ${f.offset} are not a whole record yet (still being written, or cut off)` });
    }
    return out;
  }

  private async eventFiles(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const out: string[] = [];
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) out.push(...(await this.eventFiles(path)));
      else if (e.isFile() && isEventFile(e.name)) out.push(path);
    }
    return out;
  }

  private runOf(path: string): RunData {
    const name = relative(this.root, join(path, '..')).split(sep).join('/') || '.';
    let run = this.runs.get(name);
    if (!run) this.runs.set(name, (run = new RunData(name)));
    return run;
  }

  private async readFile(f: FileState): Promise<void> {
    if (f.damage) return;
    const size = (await stat(f.path).catch(() => undefined))?.size ?? 0;
    if (size < f.offset) this.rereadRun(f.path); // replaced by a shorter file: read the run again from the start
    if (size === f.offset + f.pending && size > 0) return; // nothing appended
    let handle;
    try {
      handle = await open(f.path, 'r');
    } catch (e) { // deleted since the folder was listed: gone; unreadable: say so
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') f.damage = `cannot be read (${code ?? (e as Error).message})`;
      return;
    }
    try {
      let want = chunkBytes;
      while (f.offset < size && !f.damage) {
        const length = Math.min(size - f.offset, want);
        const bytes = new Uint8Array(length);
        const { bytesRead } = await handle.read(bytes, 0, length, f.offset);
        const chunk = bytes.subarray(0, bytesRead);
        const { records, damage, bytesRead: whole } = readRecords(chunk);
        this.addRecords(f, records);
        f.offset += whole;
        f.pending = 0;
        if (!damage) continue;
        if (!damage.reason.startsWith('truncated')) {
          f.damage = `${damage.reason} at byte ${f.offset}; the ${f.offset} bytes before it were read`;
        } else if (f.offset + (chunk.length - whole) >= size) {
          f.pending = chunk.length - whole; // the file ends inside this record: read it again next time
          break;
        } else if (whole === 0) { // one record longer than a chunk: read exactly it
          const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          want = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32 + 16;
        } else want = chunkBytes;
      }
    } finally {
      await handle.close();
    }
  }

  private rereadRun(path: string): void {
    const run = this.runOf(path);
    run.clear();
    for (const other of this.files.values()) if (this.runOf(other.path) === run) (other.offset = 0), (other.pending = 0), (other.damage = undefined);
  }

  private addRecords(f: FileState, records: Uint8Array[]): void {
    if (records.length === 0) return;
    const run = this.runOf(f.path);
    for (const record of records) {
      try {
        const event = decodeEvent(record);
        if (event.graphDef) run.graph = decodeGraph(event.graphDef);
        for (const value of event.summary ?? []) this.addValue(run, value, event.step, event.wallTime);
      } catch (e) {
        f.damage = `a record is not an Event (${(e as Error).message}); what came before it was read`;
        break;
      }
    }
    this.version++;
  }

  private addValue(run: RunData, v: DecodedValue, step: number, wallTime: number): void {
    const t = v.tensor;
    switch (v.pluginName) {
      case 'scalars':
        if (t && t.values.length === 1) run.addScalar(v.tag, step, wallTime, t.values[0]!);
        return;
      case 'histograms':
        if (t && t.shape.length === 2 && t.shape[1] === 3) run.addHistogram(v.tag, step, wallTime, Float64Array.from(t.values));
        return;
      case 'images':
        if (t && t.strings.length >= 3) run.addImage(v.tag, step, wallTime, t.strings);
        return;
      case 'text':
        if (t) run.addText(v.tag, step, wallTime, t.strings, t.shape);
        return;
      case 'hparams':
        if (v.pluginContent) run.addHparams(decodeHparams(v.pluginContent));
        return;
      case 'graph_keras_model': case 'graph_run_metadata': case 'graph_run_metadata_graph': case 'graph_tagged_run_metadata':
        return;
      default:
        return;
    }
  }
}

export type { GraphNode, HparamsRecord };
