/**
 * examples/text end to end on the SpamAssassin corpus: both classifiers reach 95%
 * test accuracy, and the exported bag-of-words artifact classifies raw message
 * text exactly as the model does.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { bagOfWords, loadMessages, sequenceModel, splitMessages, type Message } from '../../examples/text/spam.js';
import { loadArtifactFile } from '../../src/runtime/node.js';
import type * as kiln from '../../src/index.js';

describe('examples/text', () => {
  const messages = loadMessages();
  let train: Message[] = [];
  let held: Message[] = [];
  beforeAll(async () => ({ train, test: held } = await splitMessages(messages, 0)));

  test('the corpus: 6,046 messages, 1,896 spam, split 80/20', () => {
    expect(messages).toHaveLength(6046);
    expect(messages.filter((m) => m.spam)).toHaveLength(1896);
    expect([train.length, held.length]).toEqual([4836, 1210]);
  });

  test('the bag of words reaches 95%, and its artifact classifies raw text as the model does', async () => {
    const { model, accuracy } = await bagOfWords(train, held);
    expect(accuracy).toBeGreaterThan(0.95);
    const rows = held.slice(0, 40).map((m) => ({ text: m.text }));
    const want = Array.from((model.predictRows(rows) as kiln.Tensor).dataSync());
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-spam-')), 'spam.kiln');
    await model.export(path);
    expect(Array.from((await loadArtifactFile(path)).predictRows(rows).data)).toEqual(want);
  }, 120_000);

  test('embedding → bidirectional GRU reaches 95%', async () => {
    const { accuracy } = await sequenceModel(train, held);
    expect(accuracy).toBeGreaterThan(0.95);
  }, 300_000);
});
