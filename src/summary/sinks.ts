/**
 * Where event files go: a `LogSink` makes folders and appends bytes to files.
 * Node writes the file system synchronously (so a folder that cannot be made
 * fails at once, and the exit hook can flush); a browser keeps the logs in a
 * `MemoryLogs` store, mirrored to the origin-private file system (OPFS) where
 * the browser has one, and downloads them as a zip.
 */
import { zipSync, type Zippable } from 'fflate';
import { KilnError } from '../../compiler/errors.js';

export interface LogSink {
  /** Host and process id for file names. */
  readonly host: string;
  readonly pid: number;
  /** Makes `dir` and its parents; throws a KilnError naming the folder when it cannot. */
  makeDir(dir: string): void | Promise<void>;
  /** Appends whole records to `path` (created when missing). */
  append(path: string, bytes: Uint8Array): void | Promise<void>;
  /** Releases what `path` holds open. */
  close(path: string): void | Promise<void>;
}

type NodeFs = typeof import('node:fs');
type NodeOs = typeof import('node:os');

interface NodeProcess { versions?: { node?: string }; pid: number; getBuiltinModule?: (name: string) => unknown }

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

/** True in Node.js (where the default sink is the file system). @example isNode() // true under node */
export function isNode(): boolean {
  return nodeProcess() !== undefined;
}

/** The Node file system sink: one append-mode descriptor per file, each flush one write. @example new EventFileWriter('logs/run', { sink: new NodeFileSink() }) */
export class NodeFileSink implements LogSink {
  readonly host: string;
  readonly pid: number;
  private readonly fs: NodeFs;
  private readonly fds = new Map<string, number>();

  constructor() {
    const p = nodeProcess();
    const fs = p?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
    const os = p?.getBuiltinModule?.('node:os') as NodeOs | undefined;
    if (!p || !fs || !os) throw new KilnError('summary: writing event files to disk needs Node.js 20.16 or later (process.getBuiltinModule); in a browser the logs go to memory.');
    this.fs = fs;
    this.host = os.hostname();
    this.pid = p.pid;
  }

  makeDir(dir: string): void {
    try {
      this.fs.mkdirSync(dir, { recursive: true });
      this.fs.accessSync(dir, this.fs.constants.W_OK);
    } catch (e) {
      throw new KilnError(`summary: cannot write the log folder "${dir}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); choose a folder you can write to.`);
    }
  }

  append(path: string, bytes: Uint8Array): void {
    let fd = this.fds.get(path);
    try {
      if (fd === undefined) this.fds.set(path, (fd = this.fs.openSync(path, 'a')));
      let done = 0;
      while (done < bytes.length) done += this.fs.writeSync(fd, bytes, done, bytes.length - done);
    } catch (e) {
      throw new KilnError(`summary: cannot write the event file "${path}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
    }
  }

  close(path: string): void {
    const fd = this.fds.get(path);
    if (fd === undefined) return;
    this.fds.delete(path);
    this.fs.closeSync(fd);
  }
}

/**
 * Logs kept in memory (the browser's default): files by path, readable while
 * training runs, downloadable as a zip of the log folder.
 * @example const logs = kiln.summary.memoryLogs(); logs.download('logs.zip');
 */
export class MemoryLogs implements LogSink {
  readonly host = 'browser';
  readonly pid = 0;
  private readonly files = new Map<string, Uint8Array[]>();
  private readonly listeners = new Set<(path: string) => void>();
  /** Mirrors every append to the origin-private file system when the browser has one. */
  private opfs?: Promise<OpfsMirror | undefined>;

  constructor(options: { opfs?: boolean } = {}) {
    if (options.opfs ?? true) this.opfs = OpfsMirror.open();
  }

  makeDir(_dir: string): void {}

  append(path: string, bytes: Uint8Array): void | Promise<void> {
    const chunks = this.files.get(path) ?? [];
    chunks.push(bytes);
    this.files.set(path, chunks);
    for (const l of this.listeners) l(path);
    if (this.opfs) return this.opfs.then((m) => m?.append(path, bytes));
  }

  close(_path: string): void {}

  /** The file paths, in the order they were made. */
  paths(): string[] {
    return [...this.files.keys()];
  }

  /** One file's bytes so far. */
  read(path: string): Uint8Array {
    const chunks = this.files.get(path);
    if (!chunks) throw new KilnError(`memoryLogs: no file "${path}" (files: ${this.paths().join(', ') || 'none'}).`);
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) (out.set(c, at), (at += c.length));
    return out;
  }

  /** Calls `listener(path)` after each append (a live view); returns a function that stops it. */
  watch(listener: (path: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A zip of every file below `dir` (all files when empty), paths kept. */
  zip(dir = ''): Uint8Array {
    const prefix = dir.replace(/\/+$/, '');
    const tree: Zippable = {};
    for (const path of this.paths()) if (!prefix || path === prefix || path.startsWith(`${prefix}/`)) tree[path.replace(/^\/+/, '')] = [this.read(path), { level: 0 }];
    return zipSync(tree);
  }

  /** In a browser page: saves `zip(dir)` as a download named `filename`. */
  download(filename = 'logs.zip', dir = ''): void {
    const doc = (globalThis as { document?: Document }).document;
    if (!doc) throw new KilnError('memoryLogs.download: needs a browser page (document); use zip() elsewhere.');
    const url = URL.createObjectURL(new Blob([this.zip(dir) as BlobPart], { type: 'application/zip' }));
    const a = doc.createElement('a');
    a.href = url;
    a.download = filename;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

interface OpfsDirectory {
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<OpfsDirectory>;
  getFileHandle(name: string, options?: { create?: boolean }): Promise<{ getFile(): Promise<{ size: number }>; createWritable(options?: { keepExistingData?: boolean }): Promise<{ seek(at: number): Promise<void>; write(data: Uint8Array): Promise<void>; close(): Promise<void> }> }>;
}

/** Appends to files in the origin-private file system, one append after the other. */
class OpfsMirror {
  private queue: Promise<void> = Promise.resolve();
  private constructor(private readonly root: OpfsDirectory) {}

  static async open(): Promise<OpfsMirror | undefined> {
    const storage = (globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<OpfsDirectory> } } }).navigator?.storage;
    if (!storage?.getDirectory) return undefined;
    try {
      return new OpfsMirror(await storage.getDirectory());
    } catch {
      return undefined; // OPFS refused (private window): memory alone
    }
  }

  append(path: string, bytes: Uint8Array): Promise<void> {
    const run = async () => {
      const parts = path.split('/').filter((p) => p && p !== '.');
      let dir = this.root;
      for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create: true });
      const file = await dir.getFileHandle(parts[parts.length - 1]!, { create: true });
      const size = (await file.getFile()).size;
      const w = await file.createWritable({ keepExistingData: true });
      await w.seek(size);
      await w.write(bytes);
      await w.close();
    };
    return (this.queue = this.queue.then(run, run));
  }
}

let browserLogs: MemoryLogs | undefined;

/**
 * The store browser runs log to by default (one per page).
 * @example kiln.summary.memoryLogs().download('logs.zip', 'logs');
 */
export function memoryLogs(): MemoryLogs {
  return (browserLogs ??= new MemoryLogs());
}

/** The default sink: the file system in Node, `memoryLogs()` elsewhere. @example const sink = defaultSink(); */
export function defaultSink(): LogSink {
  return isNode() ? new NodeFileSink() : memoryLogs();
}
