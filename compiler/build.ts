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
import { internal, KilnError } from './errors.js';
import { packagePath } from './packageFiles.js';

export interface BuildOptions {
  /** binaryen optimisation level, 0–3 (default 3). */
  optimizeLevel?: number;
  /** Files whose exports become the module's (default: every file); others are compiled only as far as entries import them. */
  entries?: readonly string[];
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

// no initialMemory: asc sizes it to the static data (the GEMM packing scratch is ~640 KB)
function ascArguments(optimizeLevel: number): string[] {
  return ['--optimizeLevel', String(optimizeLevel), '--shrinkLevel', '0', '--runtime', 'stub', '--enable', 'simd', '--noAssert', '--noColors'];
}

/** Compiles `sources` (file name → AssemblyScript) into one wasm module; every file is an entry. */
export async function buildWasm(sources: Readonly<Record<string, string>>, options: BuildOptions = {}): Promise<BuildResult> {
  const optimizeLevel = options.optimizeLevel ?? 3;
  const entries = [...(options.entries ?? Object.keys(sources))].sort();
  const hasher = createHash('sha256').update(`asc ${assemblyScriptVersion()}\n${ascArguments(optimizeLevel).join(' ')}\nentries ${entries.join(' ')}\n`);
  for (const name of Object.keys(sources).sort()) hasher.update(`${name}\n${sources[name]}\n`);
  const hash = hasher.digest('hex').slice(0, 32);

  const inMemory = memoryCache.get(hash);
  if (inMemory) return { binary: inMemory, hash, source: 'memory' };
  const cacheDir = options.cacheDir === false ? false : writableCacheDir(options.cacheDir ?? defaultCacheDir());
  const file = cacheDir ? join(cacheDir, `${hash}.wasm`) : undefined;
  if (file && existsSync(file)) {
    const binary = new Uint8Array(readFileSync(file));
    if (WebAssembly.validate(binary)) {
      memoryCache.set(hash, binary);
      return { binary, hash, source: 'disk' };
    }
  }

  const asc = await loadAsc();
  // asc over an in-memory file system: only entry files' exports are exported, so unused kernels are left out
  const written: Record<string, Uint8Array | string> = {};
  const stderr = asc.createMemoryStream();
  const result = await asc.main([...entries, '--outFile', 'module.wasm', ...ascArguments(optimizeLevel)], {
    readFile: (name) => (Object.hasOwn(sources, name) ? sources[name]! : null),
    writeFile: (name, contents) => { written[name] = contents; },
    listFiles: () => [],
    stdout: asc.createMemoryStream(),
    stderr,
  });
  const compiled = written['module.wasm'];
  if (result.error || !(compiled instanceof Uint8Array)) {
    // generated code that does not compile is kiln's bug: keep the source for the report
    const dir = join(cacheDir || join(tmpdir(), 'kiln-failed'), `failed-${hash}`);
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(sources)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    writeFileSync(join(dir, 'asc-errors.txt'), stderr.toString());
    throw internal(`AssemblyScript could not compile generated code (${String(result.error)}); sources and errors saved in ${dir}`);
  }
  const binary = compiled;
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
