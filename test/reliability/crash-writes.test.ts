/**
 * Crash-safe writes (issue: a kill between a folder export's renames left new
 * weights with the old manifest; interrupted saves left .tmp files forever). A
 * child replaces a folder in a loop and is killed (SIGKILL) at random moments;
 * after each kill the folder a reader finds is one whole version, and the next
 * write clears what the dead writer left.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, test } from 'vitest';
import { writeFileAtomic, writeFolderAtomic } from '../../src/io/files.js';
import { committedFolder } from '../../src/runtime/node.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-crash-'));
const child = join(dir, 'writer.mjs');
const stepKiller = join(dir, 'step-killer.mjs');
beforeAll(async () => {
  const bundle = (source: string, outfile: string) => build({ entryPoints: [new URL(source, import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'silent' });
  await Promise.all([bundle('./fixtures/folderWriter.ts', child), bundle('./fixtures/stepKiller.ts', stepKiller)]);
});

/** Runs the step killer: it writes version `n` and dies right after step `killAt`; the steps it passed. */
function killAtStep(path: string, n: number, killAt: number): Promise<string[]> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [stepKiller, path, String(n), String(killAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', () => resolve(out.split('\n').filter(Boolean)));
  });
}

/** The version a reader finds at `path`, checked whole (data and manifest of one version). */
async function versionAt(path: string, what: string): Promise<number> {
  const found = await committedFolder(path);
  expect(found, what).toBeDefined();
  const manifest = JSON.parse(readFileSync(join(found!, 'manifest.json'), 'utf8')) as { n: number; fill: number };
  const data = readFileSync(join(found!, 'data.bin'));
  expect(data.length, what).toBe(300_000);
  expect(data.every((b) => b === manifest.fill), `${what}: data and manifest of one version`).toBe(true);
  return manifest.n;
}

describe('a folder write killed right after each of its steps', () => {
  test('leaves the previous version or the new one, whole, at every step; the next write clears the leftovers', async () => {
    const path = join(dir, 'stepwise');
    await writeFolderAtomic(path, { 'manifest.json': new TextEncoder().encode('{"n":1,"fill":1}'), 'data.bin': new Uint8Array(300_000).fill(1) });
    let current = 1;
    const seen: string[] = [];
    for (let k = 0; ; k++) {
      const n = k + 2;
      const steps = await killAtStep(path, n, k);
      if (steps.length <= k) break; // the write finished before step k: every step has been tried
      seen.push(steps[k]!);
      const found = await versionAt(path, `killed after "${steps[k]}"`);
      expect([current, n], `killed after "${steps[k]}"`).toContain(found);
      // the new version is there exactly once the rename that brings it in has happened
      expect(found === n, `killed after "${steps[k]}"`).toBe(steps.slice(0, k + 1).includes('renamed the new version in'));
      current = found;
    }
    expect(seen).toEqual([
      'cleaned', 'made the temporary folder',
      'opened data.bin', 'wrote half of data.bin', 'wrote data.bin',
      'opened manifest.json', 'wrote half of manifest.json', 'wrote manifest.json',
      'synced the temporary folder', 'set the previous version aside', 'renamed the new version in',
      'synced the parent folder', 'removed the previous version',
    ]);
    await writeFolderAtomic(path, { 'manifest.json': new TextEncoder().encode('{"n":0,"fill":0}'), 'data.bin': new Uint8Array(300_000) });
    expect(readdirSync(dir).filter((e) => e.startsWith('.stepwise.'))).toEqual([]);
    expect(await versionAt(path, 'after the clean write')).toBe(0);
  }, 60_000);
});

/** Runs the writer until it is killed after `ms`; the versions it reported written. */
function runAndKill(path: string, start: number, ms: number): Promise<number[]> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [child, path, String(start)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), ms);
    p.on('exit', () => {
      clearTimeout(timer);
      resolve(out.split('\n').filter(Boolean).map(Number));
    });
  });
}

describe('a folder replaced in a loop and killed at random moments', () => {
  test('every kill leaves one whole version (the last reported, or the one after it), and the next write clears the leftovers', async () => {
    const path = join(dir, 'artifact');
    let next = 1;
    let lastWritten = 0;
    let rng = 12345;
    for (let round = 0; round < 24; round++) {
      rng = (rng * 1103515245 + 12345) % 2 ** 31;
      const written = await runAndKill(path, next, 40 + (rng % 120));
      if (written.length) lastWritten = written[written.length - 1]!;
      next = (written.length ? lastWritten : next) + 1000; // versions of the next child differ from every earlier one
      const found = await committedFolder(path);
      if (lastWritten === 0) continue; // killed before any version was complete
      expect(found, `round ${round}`).toBeDefined();
      const manifest = JSON.parse(readFileSync(join(found!, 'manifest.json'), 'utf8')) as { n: number; fill: number };
      const data = readFileSync(join(found!, 'data.bin'));
      expect(data.length).toBe(300_000);
      expect(data.every((b) => b === manifest.fill), `round ${round}: data and manifest of one version`).toBe(true);
      expect(manifest.n).toBeGreaterThanOrEqual(lastWritten); // never older than what was reported done
    }
    await writeFolderAtomic(path, { 'manifest.json': new TextEncoder().encode('{"n":0,"fill":0}'), 'data.bin': new Uint8Array(300_000) });
    expect(readdirSync(dir).filter((e) => e.startsWith('.artifact.'))).toEqual([]);
  }, 60_000);

  test('killed between the two renames: loadArtifactFile reads the version set aside, and the next export moves it back before replacing it', async () => {
    const kiln = await import('../../src/index.js');
    const { loadArtifactFile } = await import('../../src/runtime/node.js');
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [2], units: 2 })] });
    const path = join(dir, 'exported');
    await model.export(path, { folder: true });
    const want = Array.from((await loadArtifactFile(path)).predict([1, 2]).data);
    const { renameSync } = await import('node:fs');
    renameSync(path, join(dir, '.exported.999999.abcdefgh.old')); // the state a kill between the renames leaves
    expect(Array.from((await loadArtifactFile(path)).predict([1, 2]).data)).toEqual(want);
    await model.export(path, { folder: true });
    expect(readdirSync(dir).filter((e) => e.startsWith('.exported.'))).toEqual([]);
    expect(Array.from((await loadArtifactFile(path)).predict([1, 2]).data)).toEqual(want);
  });

  test('a single file: temporary files of dead writers are removed by the next write', async () => {
    const path = join(dir, 'model.kiln');
    writeFileSync(join(dir, '.model.kiln.999999.abc12345.tmp'), 'left by a writer killed mid-write');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir).filter((e) => e.startsWith('.model.kiln.'))).toEqual([]);
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
  });
});
