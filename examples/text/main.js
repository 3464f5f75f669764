// The page's script: load the spam artifact with kiln/runtime, classify the raw
// test messages and whatever is typed into the box. Results are published on
// window.kilnSpam so that a test (test/browser/spam.test.ts) can compare them with Node's.
import { loadArtifact } from './runtime/index.js';

const $ = (id) => document.getElementById(id);
const published = { ready: false, error: undefined };
window.kilnSpam = published;

/** Float32 values as their bit patterns, so a comparison can be exact. */
const bits = (f32) => Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));

try {
  const [artifact, messages] = await Promise.all([
    loadArtifact(await fetch('spam.kiln')),
    fetch('messages.json').then((r) => r.json()),
  ]);
  const classNames = artifact.metadata.classNames;
  const classify = (texts) => {
    const out = artifact.predictRows(texts.map((text) => ({ text }))); // raw text in: the vectorizer travelled in the manifest
    return { out, labels: texts.map((_, r) => (out.data[2 * r + 1] > out.data[2 * r] ? 1 : 0)) };
  };
  const { out, labels } = classify(messages.map((m) => m.text));
  messages.forEach((m, r) => {
    const tr = document.createElement('tr');
    const first = m.text.split('\n').find((l) => l.trim()) ?? '';
    tr.append(...[first.slice(0, 80), classNames[m.spam], classNames[labels[r]]].map((text) => Object.assign(document.createElement('td'), { textContent: text })));
    tr.lastChild.className = labels[r] === m.spam ? 'right' : 'wrong';
    $('rows').append(tr);
  });
  const right = labels.filter((l, r) => l === messages[r].spam).length;
  $('status').textContent = `${right} of ${messages.length} test messages right (${(100 * right / messages.length).toFixed(1)}%).`;
  $('classify').addEventListener('click', () => {
    const { labels: [label] } = classify([$('text').value]);
    $('verdict').textContent = classNames[label];
  });
  Object.assign(published, { ready: true, labels, logitsBits: bits(out.data) });
} catch (e) {
  published.error = String(e?.stack ?? e);
  $('status').textContent = `Error: ${e?.message ?? e}`;
}
