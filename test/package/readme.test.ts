/**
 * The README cannot drift: every block of README.md and examples/<name>/README.md
 * marked `runnable` (see test/package/readme.ts for the markers) runs, with its
 * hidden setup's small data, as a program in a project that installed the packed
 * kiln. The type check of the same programs is in pack.test.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, packedConsumer, repoRoot, run } from './consumer.js';
import { readmeSnippets } from './readme.js';

const snippets = readmeSnippets(repoRoot);
const runnable = snippets.filter((s) => s.run);

describe('README snippets run against the installed package', () => {
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join((await packedConsumer()).dir, 'readme-'));
  }, 300_000);
  afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  test('README.md marks runnable snippets', () => {
    expect(runnable.filter((s) => s.where.startsWith('README.md:')).length).toBeGreaterThan(0);
  });

  test.each(runnable.map((s, i) => [s.where, s, i] as const))('%s', async (_, snippet, i) => {
    const folder = join(dir, `snippet-${i}`);
    mkdirSync(folder);
    const { code } = await transform(snippet.code, { loader: 'ts', format: 'esm', target: 'node20', sourcefile: snippet.where });
    writeFileSync(join(folder, 'snippet.mjs'), code);
    const result = run(process.execPath, ['snippet.mjs'], folder, cleanEnv(), 100_000);
    if (result.status !== 0) throw new Error(`${snippet.where} failed (exit ${result.status}):\n${result.stderr.trim()}\n--- program ---\n${snippet.code}`);
    expect(result.status).toBe(0);
  }, 120_000);
});
