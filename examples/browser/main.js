// The page's script: load the artifact with kiln/runtime, classify the sample
// images, and train on the device when asked. Results are published on
// window.kilnExample so that a test (test/browser/) can compare them with Node's.
import { loadArtifact } from './runtime/index.js';

const $ = (id) => document.getElementById(id);
const published = { ready: false, error: undefined, trained: [] };
window.kilnExample = published;

/** Float32 values as their bit patterns, so a comparison can be exact. */
const bits = (f32) => Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));

/** Images from samples.json: base64 bytes → float32 pixels in [0, 1], as the Node loader computes them. */
function decode({ labels, pixels }) {
  const bytes = Uint8Array.from(atob(pixels), (c) => c.charCodeAt(0));
  return { bytes, x: Float32Array.from(bytes, (v) => v / 255), y: Int32Array.from(labels), count: labels.length };
}

function argmax(row) {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

function drawSamples(images, classNames) {
  const figures = [];
  for (let i = 0; i < images.count; i++) {
    const canvas = Object.assign(document.createElement('canvas'), { width: 28, height: 28 });
    const picture = canvas.getContext('2d').createImageData(28, 28);
    for (let p = 0; p < 784; p++) {
      const v = images.bytes[i * 784 + p];
      picture.data.set([v, v, v, 255], p * 4);
    }
    canvas.getContext('2d').putImageData(picture, 0, 0);
    const caption = document.createElement('figcaption');
    const figure = document.createElement('figure');
    figure.append(canvas, caption);
    $('samples').append(figure);
    figures.push({ caption, label: classNames[images.y[i]] });
  }
  return figures;
}

/** Predicts the classes of the sample images and writes them under each picture; returns the logits. */
function classify(artifact, images, figures, classNames) {
  const started = performance.now();
  const logits = artifact.predict(images.x).data;
  const ms = performance.now() - started;
  let right = 0;
  figures.forEach((f, i) => {
    const predicted = classNames[argmax(logits.subarray(i * 10, i * 10 + 10))];
    right += predicted === f.label ? 1 : 0;
    f.caption.className = predicted === f.label ? 'right' : 'wrong';
    f.caption.textContent = `${predicted}${predicted === f.label ? '' : ` (is ${f.label})`}`;
  });
  return { logits, ms, right };
}

/**
 * The training loss as it comes, step by step: a uPlot chart of the raw loss and
 * its debiased moving average (TensorBoard's smoothing, weight 0.6).
 */
function lossCurve() {
  const steps = [], raw = [], smoothed = [];
  let last = 0;
  const chart = new uPlot({
    width: Math.min(640, document.body.clientWidth), height: 220, title: 'training loss on this device',
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, {}],
    series: [{ label: 'step' }, { label: 'loss', stroke: '#e8710a55' }, { label: 'smoothed', stroke: '#e8710a', width: 2 }],
  }, [steps, raw, smoothed], $('curve'));
  return (loss) => {
    last = last * 0.6 + loss * 0.4;
    steps.push(steps.length + 1);
    raw.push(loss);
    smoothed.push(last / (1 - 0.6 ** steps.length));
    chart.setData([steps, raw, smoothed]);
    published.curvePoints = steps.length;
  };
}

async function main() {
  const started = performance.now();
  const [bytes, samples] = await Promise.all([
    fetch('fashion-cnn.kiln').then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`fashion-cnn.kiln: HTTP ${r.status}`)))),
    fetch('samples.json').then((r) => (r.ok ? r.json() : Promise.reject(new Error(`samples.json: HTTP ${r.status}`)))),
  ]);
  const artifact = await loadArtifact(new Uint8Array(bytes));
  const loadMs = performance.now() - started;
  const classNames = JSON.parse(artifact.metadata.classNames);
  $('training').textContent = `The model was ${artifact.metadata.training}`;

  const images = decode(samples.classify);
  const batches = decode(samples.train);
  const figures = drawSamples(images, classNames);
  const first = classify(artifact, images, figures, classNames);
  $('status').textContent = `Loaded the ${(bytes.byteLength / 1024).toFixed(0)} KB artifact in ${loadMs.toFixed(0)} ms; `
    + `classified ${images.count} images in ${first.ms.toFixed(1)} ms: ${first.right} of ${images.count} right.`;
  // the same prediction in a Web Worker (kiln/runtime needs no DOM)
  const worker = new Worker('worker.js', { type: 'module' });
  const fromWorker = await new Promise((resolve) => worker.addEventListener('message', (e) => resolve(e.data), { once: true }));
  worker.terminate();
  if (fromWorker.error) throw new Error(`worker: ${fromWorker.error}`);
  Object.assign(published, { ready: true, classNames, predicted: figures.map((f) => f.caption.textContent), logits: bits(first.logits), workerLogits: fromWorker.logits });

  // kiln's runtime is single-threaded: a step runs on this (the main) thread and blocks the page
  // while it runs, so the loop yields to the browser between steps to keep it responsive
  const batchSize = samples.batchSize;
  const steps = batches.count / batchSize;
  $('train').textContent = `Train ${steps} steps on this device`;
  $('train').disabled = false;
  let plot;
  $('train').addEventListener('click', async () => {
    $('train').disabled = true;
    plot ??= lossCurve();
    const losses = [];
    const begun = performance.now();
    for (let s = 0; s < steps; s++) {
      const x = batches.x.subarray(s * batchSize * 784, (s + 1) * batchSize * 784);
      const y = batches.y.subarray(s * batchSize, (s + 1) * batchSize);
      const { loss } = artifact.trainStep(x, y);
      losses.push(loss);
      plot(loss);
      $('losses').textContent += `step ${published.trained.length * steps + s + 1}: loss ${loss.toFixed(4)}\n`;
      await new Promise((next) => setTimeout(next, 0));
    }
    const ms = (performance.now() - begun) / steps;
    const again = classify(artifact, images, figures, classNames);
    $('status').textContent = `Trained ${steps} steps of ${batchSize} images here (${ms.toFixed(0)} ms a step); `
      + `now ${again.right} of ${images.count} right (${first.right} before any training here).`;
    published.trained.push({ lossBits: bits(Float32Array.from(losses)), logits: bits(again.logits), predicted: figures.map((f) => f.caption.textContent) });
    $('train').disabled = false;
  });
}

main().catch((e) => {
  published.error = String(e?.stack ?? e);
  $('status').textContent = `Error: ${e?.message ?? e}`;
});
