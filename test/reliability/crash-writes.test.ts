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
beforeAll(async () => {
  await build({ entryPoints: [new URL('./fixtures/folderWriter.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: child, logLevel: 'silent' });
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
