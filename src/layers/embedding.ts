/**
 * @file The embedding layer, as TensorFlow.js': row lookups in an
 * `embeddings` matrix [inputDim, outputDim].
 *
 * The input holds integer indices in [0, inputDim): int32, or float32 holding
 * whole numbers, which is cast (truncated) to int32 as TensorFlow.js does — a
 * Sequential model feeds its input as float32, so an embedding used there must
 * be the first layer and be given integer-valued data. Out-of-range indices are
 * not clamped (the reference interpreter rejects them).
 */
import { optionKeys } from '../../compiler/check.js';
import * as F from '../../compiler/functions/index.js';
import type { Tensor } from '../../compiler/tensor.js';
import { formatType } from '../../compiler/types.js';
import * as constraints from './constraints.js';
import { checkInputShape, constraintOf, initializerConfig, penaltyConfig, positiveInt, regularizerOf, weightSpec, type InitializerIdentifier } from './core.js';
import * as initializers from './initializers.js';
import * as regularizers from './regularizers.js';
import { Layer, type CallContext, type Initializer, type LayerArgs, type Shape, type WeightSpec, LAYER_KEYS } from './layer.js';

export interface EmbeddingArgs extends LayerArgs {
  /** The vocabulary size: indices are in [0, inputDim). */
  inputDim: number;
  outputDim: number;
  /** Default 'randomUniform' (±0.05). */
  embeddingsInitializer?: InitializerIdentifier;
  /** Adds its penalty of the embeddings matrix to the training loss. */
  embeddingsRegularizer?: regularizers.RegularizerIdentifier;
  /** Projects the embeddings matrix after each optimizer step. */
  embeddingsConstraint?: constraints.ConstraintIdentifier;
  /**
   * Index 0 is padding (Keras's mask_zero; default false): the layer's output
   * carries a mask, false where the index is 0, which the recurrent layers and
   * the 1-D global poolings after it read. Index 0 still has a row, so inputDim
   * counts it (vocabulary size + 1).
   */
  maskZero?: boolean;
}

/** [batch, ...] integer indices to [batch, ..., outputDim] rows of `embeddings`. */
export class Embedding extends Layer {
  static override readonly optionKeys = optionKeys<EmbeddingArgs>({ inputDim: true, outputDim: true, embeddingsInitializer: true, embeddingsRegularizer: true, embeddingsConstraint: true, maskZero: true, ...LAYER_KEYS });
  readonly className = 'Embedding';
  /** The dtype the layer wants its input in (float32 input is cast to it). */
  readonly inputDtype = 'int32' as const;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly embeddingsInitializer: Initializer;
  readonly embeddingsRegularizer?: regularizers.Regularizer;
  readonly embeddingsConstraint?: constraints.Constraint;
  readonly maskZero: boolean;

  constructor(args: EmbeddingArgs) {
    super('Embedding', args);
    const s = this.subject;
    this.inputDim = positiveInt(s, 'inputDim', args?.inputDim);
    this.outputDim = positiveInt(s, 'outputDim', args.outputDim);
    this.embeddingsInitializer = initializers.get(args.embeddingsInitializer ?? 'randomUniform', s);
    this.embeddingsRegularizer = regularizerOf(args.embeddingsRegularizer, s);
    this.embeddingsConstraint = constraintOf(args.embeddingsConstraint, s);
    if (args.maskZero !== undefined && typeof args.maskZero !== 'boolean') this.fail(`expected maskZero to be a boolean, got ${JSON.stringify(args.maskZero)}`);
    this.maskZero = args.maskZero ?? false;
  }

  weights(inputShape: Shape): WeightSpec[] {
    checkInputShape(this.subject, inputShape);
    return [weightSpec('embeddings', [this.inputDim, this.outputDim], this.trainable, this.embeddingsInitializer, this.embeddingsRegularizer, this.embeddingsConstraint)];
  }

  computeOutputShape(inputShape: Shape): Shape {
    checkInputShape(this.subject, inputShape);
    return [...inputShape, this.outputDim];
  }

  /** With maskZero: true where the index is not 0 (computed in the graph from the ids). */
  override computeMask(x: Tensor): Tensor | undefined {
    return this.maskZero ? F.ne(x, 0) : undefined;
  }

  call(x: Tensor, weights: Readonly<Record<string, Tensor>>, _ctx?: CallContext): Tensor {
    const embeddings = this.weight(weights, 'embeddings');
    if (x.rank < 1 || (x.dtype !== 'int32' && x.dtype !== 'float32')) this.fail(`expected int32 (or integer-valued float32) indices [batch, ...], got ${formatType(x.type)}`);
    const indices = x.dtype === 'int32' ? x : F.cast(x, 'int32');
    return F.gather(embeddings, indices, 0);
  }

  override getConfig(): object {
    return {
      ...super.getConfig(),
      inputDim: this.inputDim,
      outputDim: this.outputDim,
      embeddingsInitializer: initializerConfig(this.embeddingsInitializer),
      embeddingsRegularizer: penaltyConfig(this.embeddingsRegularizer),
      embeddingsConstraint: penaltyConfig(this.embeddingsConstraint),
      maskZero: this.maskZero,
    };
  }
}

export const embedding = (args: EmbeddingArgs): Embedding => new Embedding(args);
