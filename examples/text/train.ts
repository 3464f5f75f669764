/**
 * Trains the spam classifiers on the SpamAssassin corpus, prints their test
 * accuracy, exports the bag-of-words model with its vectorizer and classifies
 * raw messages with kiln/runtime alone.
 *
 *   npx tsc -p examples/text && node dist/examples/text/train.js [--sequence] [--out spam.kiln]
 */
import { loadArtifactFile } from '../../src/runtime/node.js';
import { bagOfWords, loadMessages, sequenceModel, splitMessages } from './spam.js';

const args = process.argv.slice(2);
const out = args.includes('--out') ? args[args.indexOf('--out') + 1]! : 'spam.kiln';
const messages = loadMessages();
const { train, test } = await splitMessages(messages, 0);
console.log(`${messages.length} messages (${messages.filter((m) => m.spam).length} spam); ${train.length} to train, ${test.length} to test`);
let t0 = performance.now();
const bow = await bagOfWords(train, test);
console.log(`bag of words (10,000 words, multi-hot → dense): test accuracy ${(bow.accuracy * 100).toFixed(1)}% (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
if (args.includes('--sequence')) {
  t0 = performance.now();
  const seq = await sequenceModel(train, test);
  console.log(`embedding → bidirectional GRU (200 words): test accuracy ${(seq.accuracy * 100).toFixed(1)}% (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
await bow.model.export(out);
const artifact = await loadArtifactFile(out);
const raw = ['Meeting moved to 3pm\nHi all, the design review is now at 3pm in room 2. Bring the slides.', 'FREE!!! Claim your prize now\nYou have been selected to receive $1,000,000. Click here to claim your FREE money!!!'];
const scores = artifact.predictRows(raw.map((text) => ({ text })));
raw.forEach((text, i) => {
  const [ham, spam] = [scores.data[2 * i]!, scores.data[2 * i + 1]!];
  console.log(`${out} classifies ${JSON.stringify(text.split('\n')[0])} as ${spam > ham ? 'spam' : 'not spam'}`);
});
