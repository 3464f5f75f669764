/**
 * The build stage's disk cache: where it goes (KILN_CACHE_DIR, XDG_CACHE_HOME,
 * ~/.cache), what it writes there, and that a folder which cannot be created
 * falls back to the temp folder.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { buildWasm, defaultCacheDir } from '../../compiler/build.js';

const saved = { ...process.env };
let dir = '';
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'kiln-cache-test-')); });
afterEach(() => {
  for (const k of ['KILN_CACHE_DIR', 'XDG_CACHE_HOME', 'TMPDIR', 'TEMP']) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  rmSync(dir, { recursive: true, force: true });
});

// a distinct source per test, so the in-memory cache never answers first
const source = (tag: string) => ({ 'm.ts': `export function f(x: f32): f32 { return x * 2 + ${tag}; }` });

describe('defaultCacheDir', () => {
  test('KILN_CACHE_DIR, then $XDG_CACHE_HOME/kiln, then ~/.cache/kiln', () => {
    process.env.KILN_CACHE_DIR = '/somewhere/kiln-cache';
    process.env.XDG_CACHE_HOME = '/xdg';
    expect(defaultCacheDir()).toBe('/somewhere/kiln-cache');
    delete process.env.KILN_CACHE_DIR;
    expect(defaultCacheDir()).toBe(join('/xdg', 'kiln'));
    delete process.env.XDG_CACHE_HOME;
    expect(defaultCacheDir()).toBe(process.platform === 'win32' && process.env.LOCALAPPDATA ? join(process.env.LOCALAPPDATA, 'kiln', 'cache') : join(homedir(), '.cache', 'kiln'));
  });
});

describe('buildWasm disk cache', () => {
  test('writes the compiled binary to the cache folder, named by its hash', async () => {
    const cache = join(dir, 'cache');
    const first = await buildWasm(source('1.5'), { cacheDir: cache, optimizeLevel: 0 });
    expect(first.source).toBe('compiled');
    expect(readdirSync(cache)).toEqual([`${first.hash}.wasm`]);
    expect([...first.binary.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]); // "\0asm"
  });

  test('a folder that cannot be created falls back to <tmp>/kiln-cache', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    process.env.TMPDIR = join(dir, 'tmp'); // os.tmpdir() reads it
    process.env.TEMP = process.env.TMPDIR;
    const built = await buildWasm(source('2.5'), { cacheDir: join(blocker, 'cache'), optimizeLevel: 0 });
    expect(built.source).toBe('compiled');
    expect(readdirSync(join(dir, 'tmp', 'kiln-cache'))).toEqual([`${built.hash}.wasm`]);
  });
});
