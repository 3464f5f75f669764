// The same artifact in a Web Worker: kiln/runtime needs no DOM, so a worker can
// predict (and train) off the main thread. Posts the logits of the sample images.
import { loadArtifact } from './runtime/index.js';

const bits = (f32) => Array.from(new Uint32Array(f32.buffer, f32.byteOffset, f32.length));

try {
  const [bytes, samples] = await Promise.all([
    fetch('fashion-cnn.kiln').then((r) => r.arrayBuffer()),
    fetch('samples.json').then((r) => r.json()),
  ]);
  const artifact = await loadArtifact(new Uint8Array(bytes));
  const pixels = Uint8Array.from(atob(samples.classify.pixels), (c) => c.charCodeAt(0));
  const logits = artifact.predict(Float32Array.from(pixels, (v) => v / 255)).data;
  postMessage({ logits: bits(logits) });
} catch (e) {
  postMessage({ error: String(e?.stack ?? e) });
}
