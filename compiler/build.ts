/**
 * @file Build stage: AssemblyScript sources → `.wasm`, with asc in-process (SIMD
 * on, optimised, stub runtime: no GC). asc re-parses its standard library on every
 * compile (0.3–2 s), so binaries are cached by a content hash of the sources, the
 * options and the compiler version: in memory, and on disk in the cache folder
 * (`KILN_CACHE_DIR`, else `node_modules/.cache/kiln`; delete it to clear).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { internal } from './errors.js';

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

const packageRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4 && !existsSync(join(dir, 'runtime-as')); i++) dir = dirname(dir);
  return dir;
})();

export function defaultCacheDir(): string {
  return process.env.KILN_CACHE_DIR ?? join(packageRoot, 'node_modules', '.cache', 'kiln');
}

let runtimeSources: Record<string, string> | undefined;
/** The runtime-as kernels as text, keyed `runtime-as/<file>.ts` as generated code imports them. */
export function runtimeAsSources(): Record<string, string> {
  if (!runtimeSources) {
    const dir = join(packageRoot, 'runtime-as');
    runtimeSources = Object.fromEntries(
      readdirSync(dir).filter((f) => f.endsWith('.ts')).sort().map((f) => [`runtime-as/${f}`, readFileSync(join(dir, f), 'utf8')]),
    );
  }
  return runtimeSources;
}

const memoryCache = new Map<string, Uint8Array>();
let ascVersion: string | undefined;

// no initialMemory: asc sizes it to the static data (the GEMM packing scratch is ~640 KB)
function ascArguments(optimizeLevel: number): string[] {
  return ['--optimizeLevel', String(optimizeLevel), '--shrinkLevel', '0', '--runtime', 'stub', '--enable', 'simd', '--noAssert', '--noColors'];
}

/** Compiles `sources` (file name → AssemblyScript) into one wasm module; every file is an entry. */
export async function buildWasm(sources: Readonly<Record<string, string>>, options: BuildOptions = {}): Promise<BuildResult> {
  const optimizeLevel = options.optimizeLevel ?? 3;
  ascVersion ??= JSON.parse(readFileSync(join(packageRoot, 'node_modules', 'assemblyscript', 'package.json'), 'utf8')).version as string;
  const entries = [...(options.entries ?? Object.keys(sources))].sort();
  const hasher = createHash('sha256').update(`asc ${ascVersion}\n${ascArguments(optimizeLevel).join(' ')}\nentries ${entries.join(' ')}\n`);
  for (const name of Object.keys(sources).sort()) hasher.update(`${name}\n${sources[name]}\n`);
  const hash = hasher.digest('hex').slice(0, 32);

  const inMemory = memoryCache.get(hash);
  if (inMemory) return { binary: inMemory, hash, source: 'memory' };
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : options.cacheDir;
  const file = cacheDir ? join(cacheDir, `${hash}.wasm`) : undefined;
  if (file && existsSync(file)) {
    const binary = new Uint8Array(readFileSync(file));
    if (WebAssembly.validate(binary)) {
      memoryCache.set(hash, binary);
      return { binary, hash, source: 'disk' };
    }
  }

  const { default: asc } = await import('assemblyscript/asc');
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
    const dir = join(cacheDir || join(packageRoot, '.kiln-failed'), `failed-${hash}`);
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
    mkdirSync(cacheDir as string, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, binary);
    renameSync(tmp, file); // atomic: a reader never sees half a module
  }
  return { binary, hash, source: 'compiled' };
}
