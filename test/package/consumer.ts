/**
 * The kiln package as a user gets it: `npm pack` (its prepack build included) on a
 * copy of the repository's package sources, then `npm install <tarball>` into a new
 * consumer project. Packing and installing take ~15 s, so the result is made once
 * per version of the sources and shared by the test files (and runs) that need it:
 * it lives in `<tmp>/kiln-package-<hash of the sources>`, and a lock folder makes
 * the other test processes wait for the first instead of packing again. Making a
 * new one removes those of other sources unused for 10 minutes.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** What the prepack build reads, and the top-level files and folders package.json's "files" names (dist/ is built). */
function packageSources(): { folders: string[]; files: string[] } {
  const listed = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files: string[] }).files.map((f) => f.split('/')[0]!);
  const top = [...new Set(['compiler', 'src', ...listed])].filter((f) => f !== 'dist' && existsSync(join(repoRoot, f)));
  const folders = top.filter((f) => statSync(join(repoRoot, f)).isDirectory());
  const files = [...new Set(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', ...top.filter((f) => !folders.includes(f))])];
  return { folders, files };
}

export interface PackedConsumer {
  /** The consumer project: kiln installed from the tarball in its node_modules. */
  dir: string;
  /** The tarball npm pack wrote. */
  tarball: string;
  /** The tarball's file list (paths inside the package). */
  files: string[];
  /** Its size in bytes. */
  size: number;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function sourcesHash(): string {
  const hash = createHash('sha256');
  const { folders, files: top } = packageSources();
  const files = [...top.map((f) => join(repoRoot, f)), ...folders.flatMap((d) => listFiles(join(repoRoot, d)))];
  for (const file of files) hash.update(`${relative(repoRoot, file)}\n`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/** The environment for a nested npm: none of the outer `npm test`'s npm_* settings. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export function run(command: string, args: string[], cwd: string, env = cleanEnv(), timeout = 120_000): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout });
  if (result.error) throw result.error;
  return result;
}

function runOk(command: string, args: string[], cwd: string): string {
  const result = run(command, args, cwd);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} in ${cwd} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function pack(base: string): PackedConsumer {
  // a copy of the package sources, so the prepack build (which empties dist/) never touches the repository's
  const copy = join(base, 'sources');
  mkdirSync(copy, { recursive: true });
  const { folders, files } = packageSources();
  for (const f of files) cpSync(join(repoRoot, f), join(copy, f));
  for (const d of folders) cpSync(join(repoRoot, d), join(copy, d), { recursive: true });
  symlinkSync(join(repoRoot, 'node_modules'), join(copy, 'node_modules'), 'dir'); // tsc for the prepack build

  const packed = JSON.parse(runOk('npm', ['pack', '--json', '--pack-destination', base], copy)) as { filename: string; size: number; files: { path: string }[] }[];
  const tarball = join(base, packed[0]!.filename);

  const dir = join(base, 'consumer');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'kiln-consumer', private: true, type: 'module' }, null, 2));
  runOk('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], dir);
  return { dir, tarball, files: packed[0]!.files.map((f) => f.path).sort(), size: packed[0]!.size };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Packs and installs kiln once for these sources (or waits for the process that is doing it). */
export async function packedConsumer(): Promise<PackedConsumer> {
  const base = join(tmpdir(), `kiln-package-${sourcesHash()}`);
  const ready = join(base, 'ready.json');
  const lock = `${base}.lock`;
  for (const started = Date.now(); !existsSync(ready);) {
    try {
      mkdirSync(lock);
    } catch {
      // another process packs; a lock older than 5 minutes was left by a process that died
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 300_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() - started > 300_000) throw new Error(`waited 5 minutes for ${lock}`);
      await sleep(500);
      continue;
    }
    try {
      if (existsSync(ready)) break;
      rmSync(base, { recursive: true, force: true });
      mkdirSync(base, { recursive: true });
      writeFileSync(ready, JSON.stringify(pack(base)));
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
    removeStale(base);
  }
  const now = new Date();
  utimesSync(base, now, now); // in use: not stale for another checkout's removeStale
  return JSON.parse(readFileSync(ready, 'utf8')) as PackedConsumer;
}

/** Other sources' packages (~120 MB each) not used for 10 minutes (other checkouts may be using theirs). */
function removeStale(current: string): void {
  for (const name of readdirSync(tmpdir())) {
    const path = join(tmpdir(), name);
    if (!name.startsWith('kiln-package-') || path === current || name.endsWith('.lock')) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > 600_000) rmSync(path, { recursive: true, force: true });
    } catch { /* removed by another process */ }
  }
}
