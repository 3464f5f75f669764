/**
 * @file Build stage: AssemblyScript sources → `.wasm`, with asc in-process (SIMD
 * on, optimised, stub runtime: no GC). asc re-parses its standard library on every
 * compile (0.3–2 s), so binaries are cached by a content hash of the sources, the
 * options and the compiler version: in memory, and on disk in the cache folder
 * (`defaultCacheDir()`; delete it to clear). assemblyscript is one of kiln's
 * dependencies and is found by Node's module resolution from this file, so it is
 * found wherever npm put it (hoisted or nested).
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { internal, KilnError } from './errors.js';
import { packagePath } from './packageFiles.js';

/**
 * kiln's default build runs asc at optimisation level 0 followed by only these
 * binaryen passes, instead of a level's whole pipeline: the kernels are
 * hand-written SIMD, AssemblyScript inlines what is marked `@inline` itself, and
 * V8 optimises the rest, so the full pipeline bought no speed. Measured on this
 * machine, side by side in one process with empty caches (README CNN train step
 * and predict, MLP 784-256-128-10 step, LSTM 16→64 T=50 step, GEMM 512): every
 * step within 1.5% of level 1's time, while the 30-op graph's cold compile
 * in a fresh process went from 1.0–1.1 s to 0.6–0.7 s (binaryen's optimiser was
 * 307 of asc's 572 ms). `memory-packing` drops the zeroed scratch from the
 * data (level 0 alone writes 650 KB of zeros); the other passes shrink locals
 * and drop what nothing uses, so modules are as small as level 1's (the 30-op
 * graph: 9.3 vs 9.2 KB).
 */
const DEFAULT_PASSES = ['memory-packing', 'simplify-locals', 'coalesce-locals', 'vacuum', 'remove-unused-module-elements'];

export interface BuildOptions {
  /** binaryen optimisation level, 0–3, run as asc runs it; by default kiln runs level 0 and a few chosen passes (see DEFAULT_PASSES). */
  optimizeLevel?: number;
  /** Files whose exports become the module's (default: every file); others are compiled only as far as entries import them. */
  entries?: readonly string[];
  /** Build with relaxed SIMD (`f32x4.relaxed_madd` in the GEMM and convolution kernels): only for engines that validate it, and never where results must be deterministic. */
  relaxedSimd?: boolean;
  /** Cache folder, or false for no disk cache. */
  cacheDir?: string | false;
}

export interface BuildResult {
  binary: Uint8Array;
  hash: string;
  /** Where the binary came from. */
  source: 'memory' | 'disk' | 'compiled';
}

/**
 * The compile cache folder: `KILN_CACHE_DIR` if set, else `$XDG_CACHE_HOME/kiln`,
 * else `%LOCALAPPDATA%\kiln\cache` on Windows, else `~/.cache/kiln`. When it
 * cannot be written, builds fall back to `<os.tmpdir()>/kiln-cache`, then to the
 * memory cache alone.
 */
export function defaultCacheDir(): string {
  const env = process.env;
  if (env.KILN_CACHE_DIR) return env.KILN_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'kiln');
  if (process.platform === 'win32' && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'kiln', 'cache');
  let home = '';
  try {
    home = homedir();
  } catch { /* no home folder: use the temp folder */ }
  return home ? join(home, '.cache', 'kiln') : join(tmpdir(), 'kiln-cache');
}

const writable = new Map<string, string | false>();
/** `dir` if it can be created and written, else the temp-folder cache, else false (memory only). */
function writableCacheDir(dir: string): string | false {
  let found = writable.get(dir);
  if (found === undefined) {
    found = false;
    for (const candidate of [dir, join(tmpdir(), 'kiln-cache')]) {
      try {
        mkdirSync(candidate, { recursive: true });
        accessSync(candidate, constants.W_OK);
        found = candidate;
        break;
      } catch { /* read-only or not creatable: try the next */ }
    }
    writable.set(dir, found);
  }
  return found;
}

let runtimeSources: Record<string, string> | undefined;
/** The runtime-as kernels as text, keyed `runtime-as/<file>.ts` as generated code imports them. */
export function runtimeAsSources(): Record<string, string> {
  if (!runtimeSources) {
    const dir = packagePath('runtime-as');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
    } catch {
      throw new KilnError(`kiln: the AssemblyScript kernels (runtime-as/) are missing from the kiln package at ${dir}; reinstall kiln.`);
    }
    runtimeSources = Object.fromEntries(files.map((f) => [`runtime-as/${f}`, readFileSync(join(dir, f), 'utf8')]));
  }
  return runtimeSources;
}

const toolchainHint = 'it is a dependency of kiln: reinstall kiln (npm install kiln)';
const reasonOf = (e: unknown): string => (e instanceof Error ? e.message.split('\n')[0]! : String(e));

let ascVersion: string | undefined;
/** The installed AssemblyScript compiler's version, found by module resolution from this file. */
function assemblyScriptVersion(): string {
  if (ascVersion === undefined) {
    let version: unknown;
    try {
      const file = createRequire(import.meta.url).resolve('assemblyscript/package.json');
      version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    } catch (e) {
      throw new KilnError(`kiln: the AssemblyScript compiler (assemblyscript) cannot be found (${reasonOf(e)}); ${toolchainHint}.`);
    }
    if (typeof version !== 'string') throw new KilnError(`kiln: the installed assemblyscript package has no version; ${toolchainHint}.`);
    ascVersion = version;
  }
  return ascVersion;
}

type Asc = typeof import('assemblyscript/asc').default;
let ascModule: Promise<Asc> | undefined;
function loadAsc(): Promise<Asc> {
  ascModule ??= import('assemblyscript/asc').then(
    (m) => m.default,
    (e: unknown) => {
      ascModule = undefined;
      throw new KilnError(`kiln: the AssemblyScript compiler (assemblyscript ${assemblyScriptVersion()}) failed to load (${reasonOf(e)}); ${toolchainHint}.`);
    },
  );
  return ascModule;
}

const memoryCache = new Map<string, Uint8Array>();

/**
 * No initialMemory: asc sizes it to the static data (the GEMM packing scratch is
 * ~640 KB). The memory is imported, declared shared (threads need one memory
 * that every worker's instance uses) and assumed zeroed, so zero-filled scratch
 * is not a data segment; the loader clears the shared flag in the binary when a
 * module runs on one thread (atomics are valid on unshared memory).
 */
function ascArguments(optimizeLevel: number | undefined, relaxedSimd: boolean): string[] {
  const optimize = optimizeLevel === undefined ? ['--optimizeLevel', '0', '--runPasses', DEFAULT_PASSES.join(',')] : ['--optimizeLevel', String(optimizeLevel)];
  return [...optimize, '--shrinkLevel', '0', '--runtime', 'stub', '--enable', 'simd', '--enable', 'threads', ...(relaxedSimd ? ['--enable', 'relaxed-simd'] : []),
    '--importMemory', '--sharedMemory', '--maximumMemory', '65536', '--zeroFilledMemory', '--noAssert', '--noColors'];
}

/**
 * asc over an in-memory file system: only entry files' exports are exported, so
 * unused kernels are left out. Self-contained (it uses only its arguments), so
 * that `buildWasmSync` can run the same function in a worker thread.
 */
async function ascCompile(asc: Asc, sources: Readonly<Record<string, string>>, argv: readonly string[]): Promise<{ binary?: Uint8Array; error?: string; stderr: string }> {
  const written: Record<string, Uint8Array | string> = {};
  const stderr = asc.createMemoryStream();
  const result = await asc.main([...argv], {
    readFile: (name: string) => (Object.hasOwn(sources, name) ? sources[name]! : null),
    writeFile: (name: string, contents: Uint8Array | string) => { written[name] = contents; },
    listFiles: () => [],
    stdout: asc.createMemoryStream(),
    stderr,
  });
  const compiled = written['module.wasm'];
  return result.error || !(compiled instanceof Uint8Array) ? { error: String(result.error ?? 'no module written'), stderr: stderr.toString() } : { binary: compiled, stderr: '' };
}

/** What a build needs to know before compiling: the cache key and where a cached binary would be. */
function plan(sources: Readonly<Record<string, string>>, options: BuildOptions) {
  const optimizeLevel = options.optimizeLevel;
  if (optimizeLevel !== undefined && !(Number.isInteger(optimizeLevel) && optimizeLevel >= 0 && optimizeLevel <= 3)) throw new KilnError(`buildWasm: optimizeLevel must be an integer from 0 to 3; got ${String(optimizeLevel)}.`);
  const entries = [...(options.entries ?? Object.keys(sources))].sort();
  const hasher = createHash('sha256').update(`asc ${assemblyScriptVersion()}\n${ascArguments(optimizeLevel, options.relaxedSimd === true).join(' ')}\nentries ${entries.join(' ')}\n`);
  for (const name of Object.keys(sources).sort()) hasher.update(`${name}\n${sources[name]}\n`);
  const hash = hasher.digest('hex').slice(0, 32);
  const cacheDir = options.cacheDir === false ? false : writableCacheDir(options.cacheDir ?? defaultCacheDir());
  const file = cacheDir ? join(cacheDir, `${hash}.wasm`) : undefined;
  return { hash, cacheDir, file, argv: [...entries, '--outFile', 'module.wasm', ...ascArguments(optimizeLevel, options.relaxedSimd === true)] };
}

/** A binary from the memory or disk cache, if there is one. */
function cached(hash: string, file: string | undefined): BuildResult | undefined {
  const inMemory = memoryCache.get(hash);
  if (inMemory) return { binary: inMemory, hash, source: 'memory' };
  if (file && existsSync(file)) {
    const binary = new Uint8Array(readFileSync(file));
    if (WebAssembly.validate(binary)) {
      memoryCache.set(hash, binary);
      return { binary, hash, source: 'disk' };
    }
  }
  return undefined;
}

/** Keeps a fresh binary in both caches; a failed compile keeps its sources and errors for the report (generated code that does not compile is kiln's bug). */
function settle(sources: Readonly<Record<string, string>>, planned: ReturnType<typeof plan>, out: { binary?: Uint8Array; error?: string; stderr: string }): BuildResult {
  const { hash, cacheDir, file } = planned;
  if (!out.binary) {
    const dir = join(cacheDir || join(tmpdir(), 'kiln-failed'), `failed-${hash}`);
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(sources)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    writeFileSync(join(dir, 'asc-errors.txt'), out.stderr);
    throw internal(`AssemblyScript could not compile generated code (${out.error}); sources and errors saved in ${dir}`);
  }
  const binary = out.binary;
  memoryCache.set(hash, binary);
  if (file) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, binary);
      renameSync(tmp, file); // atomic: a reader never sees half a module
    } catch { /* the disk cache is an optimisation: a failed write leaves the memory cache */ }
  }
  return { binary, hash, source: 'compiled' };
}

/** Compiles `sources` (file name → AssemblyScript) into one wasm module; every file is an entry. */
export async function buildWasm(sources: Readonly<Record<string, string>>, options: BuildOptions = {}): Promise<BuildResult> {
  const planned = plan(sources, options);
  const hit = cached(planned.hash, planned.file);
  if (hit) return hit;
  return settle(sources, planned, await ascCompile(await loadAsc(), sources, planned.argv));
}

// The worker of buildWasmSync (CommonJS, as eval workers are): loads asc by its
// resolved URL, runs ascCompile's own source, posts the result and wakes the
// caller, which waits on a shared flag.
const syncWorker = `
const { workerData } = require('node:worker_threads');
const { ascUrl, sources, argv, port, flag, compile } = workerData;
const done = (message) => { port.postMessage(message); Atomics.store(flag, 0, 1); Atomics.notify(flag, 0); };
import(ascUrl)
  .then((m) => new Function('return (' + compile + ')')()(m.default, sources, argv))
  .then(done, (e) => done({ error: String(e && e.message || e), stderr: '' }));
`;

/**
 * `buildWasm` that blocks until the binary is there (Node only): a cached binary
 * is read at once; otherwise asc runs in a worker thread while this thread waits
 * (Atomics.wait), so a synchronous API (Keras' predict) can run compiled code
 * from its first call.
 */
export function buildWasmSync(sources: Readonly<Record<string, string>>, options: BuildOptions = {}): BuildResult {
  const planned = plan(sources, options);
  const hit = cached(planned.hash, planned.file);
  if (hit) return hit;
  let ascUrl: string;
  try {
    // './asc' is exported for import only: find it through the package's own exports map
    const manifest = createRequire(import.meta.url).resolve('assemblyscript/package.json');
    const target = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: string }> }).exports['./asc']!.import;
    ascUrl = pathToFileURL(join(dirname(manifest), target)).href;
  } catch (e) {
    throw new KilnError(`kiln: the AssemblyScript compiler (assemblyscript) cannot be found (${reasonOf(e)}); ${toolchainHint}.`);
  }
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(syncWorker, { eval: true, workerData: { ascUrl, sources, argv: planned.argv, port: port2, flag, compile: ascCompile.toString() }, transferList: [port2] });
  try {
    // ten minutes: far beyond any compile, short of hanging forever if the worker dies
    for (let waited = 0; Atomics.load(flag, 0) === 0 && waited < 600; waited++) Atomics.wait(flag, 0, 0, 1000);
    const reply = receiveMessageOnPort(port1)?.message as { binary?: Uint8Array; error?: string; stderr: string } | undefined;
    if (!reply) throw new KilnError(`kiln: the AssemblyScript compiler (assemblyscript ${assemblyScriptVersion()}) did not answer; ${toolchainHint}.`);
    if (reply.error && !reply.stderr && /Cannot find|ERR_MODULE_NOT_FOUND/.test(reply.error)) throw new KilnError(`kiln: the AssemblyScript compiler (assemblyscript ${assemblyScriptVersion()}) failed to load (${reply.error.split('\n')[0]}); ${toolchainHint}.`);
    return settle(sources, planned, reply);
  } finally {
    port1.close();
    void worker.terminate();
  }
}
