/**
 * The model-level benchmarks' two models, their cases and their data, and the
 * interface a model engine offers. Each engine builds the models from the
 * `architectures` table with its own Keras-style (or ONNX) layers and returns
 * prepared closures, as the kernel engines do; weights are each engine's own
 * initial ones (the timings do not depend on their values), the data is the same
 * seeded batch everywhere (NHWC here; an engine converts while preparing).
 */
import type { Run } from './harness.js';
import { randomData } from './engines/engine.js';

export type ModelName = 'mlp' | 'cnn';

/** One layer of a benchmark model, in the terms every engine has. */
export type LayerSpec =
  | { readonly kind: 'dense'; readonly units: number; readonly relu: boolean }
  | { readonly kind: 'conv'; readonly filters: number; readonly kernel: number } // 'same', stride 1, relu
  | { readonly kind: 'maxPool'; readonly size: number } // stride = size
  | { readonly kind: 'flatten' };

export interface Architecture {
  readonly title: string;
  /** One example's shape, NHWC for images. */
  readonly input: readonly number[];
  readonly layers: readonly LayerSpec[];
  readonly classes: number;
  /** The training step's batch size. */
  readonly trainBatch: number;
}

export const architectures: Record<ModelName, Architecture> = {
  mlp: {
    title: 'MLP 784-256-128-10',
    input: [784],
    layers: [{ kind: 'dense', units: 256, relu: true }, { kind: 'dense', units: 128, relu: true }, { kind: 'dense', units: 10, relu: false }],
    classes: 10,
    trainBatch: 128,
  },
  cnn: {
    title: 'CNN 2×(conv 5×5, pool), 1024, 10',
    input: [28, 28, 1],
    layers: [
      { kind: 'conv', filters: 32, kernel: 5 }, { kind: 'maxPool', size: 2 },
      { kind: 'conv', filters: 64, kernel: 5 }, { kind: 'maxPool', size: 2 },
      { kind: 'flatten' }, { kind: 'dense', units: 1024, relu: true }, { kind: 'dense', units: 10, relu: false },
    ],
    classes: 10,
    trainBatch: 64,
  },
};

export const predictBatches = [1, 64] as const;

/** One batch: x (NHWC, seeded values in [-0.5, 0.5)) and class labels k mod classes, as bench/torch_models.py makes them. */
export function batchData(a: Architecture, batch: number): { x: Float32Array; xShape: number[]; labels: Int32Array } {
  const xShape = [batch, ...a.input];
  return { x: randomData(xShape.reduce((p, d) => p * d, 1), 11), xShape, labels: Int32Array.from({ length: batch }, (_, k) => k % a.classes) };
}

export type ModelKind = 'train' | 'predict';

export interface ModelEngine {
  readonly name: string;
  /** Version and settings, for the results' header. */
  readonly info?: string;
  /** Called before each prepare and each sample; engines sharing global state (TF.js backends) switch it here. */
  activate?(): Promise<void>;
  /** One training step on a fixed batch (`Architecture.trainBatch`), or a prediction at `batch`; throws NotApplicable when it cannot. */
  prepare(model: ModelName, kind: ModelKind, batch: number): Promise<Run>;
  /** Cases too slow to sample (a step of minutes): timed by one call, no warm-up; under --quick skipped with this reason. */
  slow?(model: ModelName, kind: ModelKind): string | undefined;
}

export interface ModelEngineFactory {
  readonly name: string;
  load(): Promise<ModelEngine>;
}
