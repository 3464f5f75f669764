// The page's script: load the penguins artifact with kiln/runtime and predict
// the raw test rows. Results are published on window.kilnPenguins so that a test
// (test/browser/penguins.test.ts) can compare them with Node's.
import { loadArtifact } from './runtime/index.js';

const $ = (id) => document.getElementById(id);
const published = { ready: false, error: undefined };
window.kilnPenguins = published;

/** Float32 values as their bit patterns, so a comparison can be exact. */
const bits = (f32) => Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));

try {
  const [artifact, rows] = await Promise.all([
    loadArtifact(await fetch('penguins.kiln')),
    fetch('rows.json').then((r) => r.json()),
  ]);
  const classNames = artifact.metadata.classNames;
  const out = artifact.predictRows(rows); // raw rows in, logits out: the encoder travelled in the manifest
  const predicted = rows.map((_, r) => {
    const row = out.data.subarray(r * classNames.length, (r + 1) * classNames.length);
    return classNames[row.indexOf(Math.max(...row))];
  });
  const columns = Object.keys(rows[0]).filter((c) => c !== 'Species');
  $('head').append(...[...columns, 'Species', 'predicted'].map((c) => Object.assign(document.createElement('th'), { textContent: c })));
  rows.forEach((row, r) => {
    const tr = document.createElement('tr');
    const cells = [...columns.map((c) => String(row[c])), row.Species, predicted[r]];
    tr.append(...cells.map((text) => Object.assign(document.createElement('td'), { textContent: text })));
    tr.lastChild.className = predicted[r] === row.Species ? 'right' : 'wrong';
    $('rows').append(tr);
  });
  const right = predicted.filter((p, r) => p === rows[r].Species).length;
  $('status').textContent = `${right} of ${rows.length} test rows right (${(100 * right / rows.length).toFixed(1)}%).`;
  // a row a deployment might get: an unknown island goes to the OOV index, never a crash
  const unknown = artifact.predictRows([{ ...rows[0], Island: 'Atlantis', Sex: null }]);
  Object.assign(published, { ready: true, classNames, predicted, logitsBits: bits(out.data), unknownBits: bits(unknown.data) });
  try {
    artifact.predictRows([{ ...rows[0], 'Body Mass (g)': 'heavy' }]);
  } catch (e) {
    published.badRowError = `${e.name}: ${e.message}`;
  }
} catch (e) {
  published.error = String(e?.stack ?? e);
  $('status').textContent = `Error: ${e?.message ?? e}`;
}
