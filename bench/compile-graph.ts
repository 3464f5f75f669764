/**
 * The graph whose compile time the benchmark reports: a small MLP forward pass
 * with a hand-written softmax cross-entropy: 30 ops (inputs not counted),
 * built the same way in the parent and in the child processes that time it.
 */
import * as kiln from '../src/index.js';

const f32 = (shape: readonly (number | null)[], name: string, kind: 'data' | 'parameter' = 'parameter') => kiln.spec(shape, 'float32', { name, kind });

export function compileBenchGraph(): kiln.Graph {
  const specs = {
    x: f32([null, 784], 'x', 'data'), labels: f32([null, 10], 'labels', 'data'),
    w1: f32([784, 128], 'w1'), b1: f32([128], 'b1'), w2: f32([128, 64], 'w2'), b2: f32([64], 'b2'), w3: f32([64, 10], 'w3'), b3: f32([10], 'b3'),
  };
  return kiln.trace((t: Record<keyof typeof specs, kiln.Tensor>) => {
    const h1 = kiln.relu(kiln.add(kiln.matmul(t.x, t.w1), t.b1));
    const h2 = kiln.tanh(kiln.add(kiln.matmul(h1, t.w2), t.b2));
    const gate = kiln.sigmoid(h2);
    const h3 = kiln.add(kiln.mul(h2, gate), kiln.mul(kiln.sub(1, gate), kiln.square(h2)));
    const logits = kiln.add(kiln.matmul(h3, t.w3), t.b3);
    const shifted = kiln.sub(logits, kiln.max(logits, -1, true));
    const logProbs = kiln.sub(shifted, kiln.log(kiln.sum(kiln.exp(shifted), -1, true)));
    const loss = kiln.neg(kiln.mean(kiln.sum(kiln.mul(t.labels, logProbs), -1)));
    return { loss, probs: kiln.exp(logProbs) };
  }, specs);
}

/** Ops in the graph, not counting its inputs. */
export const opCount = (g: kiln.Graph) => g.nodes.filter((n) => n.op !== 'input').length;
