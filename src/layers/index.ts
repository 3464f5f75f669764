/**
 * @file `kiln.layers`: Keras/TensorFlow.js-style layers (factories with
 * camelCase names and the classes), plus the `initializers` and `activations`
 * namespaces.
 *
 * @example
 * kiln.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 5, padding: 'same', activation: 'relu' })
 */
export { Layer, resetLayerNames, type CallContext, type Initializer, type LayerArgs, type Shape, type WeightSpec } from './layer.js';
export { Activation, activation, Dense, dense, Flatten, flatten, Reshape, reshape, type ActivationArgs, type DenseArgs, type InitializerIdentifier, type ReshapeArgs } from './core.js';
export { Conv2D, conv2d, type Conv2DArgs, type PaddingMode } from './conv.js';
export {
  AveragePooling2D, averagePooling2d, GlobalAveragePooling2D, globalAveragePooling2d, MaxPooling2D, maxPooling2d,
  type GlobalPooling2DArgs, type Pooling2DArgs,
} from './pooling.js';
export * as initializers from './initializers.js';
export * as activations from './activations.js';
export { Conv1D, conv1d, Conv2DTranspose, conv2dTranspose, DepthwiseConv2D, depthwiseConv2d, type Conv1DArgs, type Conv2DTransposeArgs, type DepthwiseConv2DArgs } from './conv.js';
export {
  AveragePooling1D, averagePooling1d, GlobalAveragePooling1D, globalAveragePooling1d, GlobalMaxPooling1D, globalMaxPooling1d, GlobalMaxPooling2D, globalMaxPooling2d, MaxPooling1D, maxPooling1d,
  type GlobalPoolingArgs, type Pooling1DArgs,
} from './pooling.js';
export { Permute, permute, RepeatVector, repeatVector, TimeDistributed, timeDistributed, ZeroPadding2D, zeroPadding2d, type PermuteArgs, type RepeatVectorArgs, type TimeDistributedArgs, type ZeroPadding2DArgs } from './shape.js';
export { Embedding, embedding, type EmbeddingArgs } from './embedding.js';
export { LayerNormalization, layerNormalization, type LayerNormalizationArgs } from './layerNorm.js';
export { Dropout, dropout, SpatialDropout2D, spatialDropout2d, type DropoutArgs } from './dropout.js';
export { BatchNormalization, batchNormalization, type BatchNormalizationArgs } from './normalization.js';
export { Add, add, Concatenate, concatenate, Merge, Multiply, multiply, type ConcatenateArgs } from './merge.js';
export {
  CategoryEncoding, categoryEncoding, Discretization, discretization, Normalization, normalization, Rescaling, rescaling,
  type AdaptData, type CategoryEncodingArgs, type DiscretizationArgs, type NormalizationArgs, type RescalingArgs,
} from './preprocessing/numeric.js';
export {
  CenterCrop, centerCrop, RandomBrightness, randomBrightness, RandomContrast, randomContrast, RandomFlip, randomFlip, Resizing, resizing,
  type CenterCropArgs, type RandomBrightnessArgs, type RandomContrastArgs, type RandomFlipArgs, type ResizingArgs,
} from './preprocessing/image.js';
export {
  RandomCrop, randomCrop, RandomRotation, randomRotation, RandomTranslation, randomTranslation, RandomZoom, randomZoom,
  type RandomCropArgs, type RandomRotationArgs, type RandomTranslationArgs, type RandomZoomArgs, type SamplingArgs,
} from './preprocessing/augment.js';
export { IntegerLookup, integerLookup, StringLookup, stringLookup, type LookupArgs, type Tokens } from './preprocessing/lookup.js';
export { HashedCrossing, hashedCrossing, Hashing, hashing, type HashedCrossingArgs, type HashingArgs } from './preprocessing/hashing.js';
export { TextVectorization, textVectorization, type TextVectorizationArgs } from './preprocessing/text.js';
export { SymbolicTensor, type ApplyOptions } from './symbolic.js';
export { OpLambda, type OpLambdaArgs } from './opLayer.js';
export { Lambda, lambda, type LambdaArgs } from './lambda.js';
export { Attention, attention, MultiHeadAttention, multiHeadAttention, type AttentionArgs, type MultiHeadAttentionArgs } from './attention.js';
export { GRU, gru, LSTM, lstm, type RecurrentLayer, SimpleRNN, simpleRNN, type GatedArgs, type GRUArgs, type LSTMArgs, type RecurrentArgs } from './recurrent.js';
export { Bidirectional, bidirectional, type BidirectionalArgs, type MergeMode } from './bidirectional.js';
export { Masking, masking, type MaskingArgs } from './masking.js';
export * as regularizers from './regularizers.js';
export * as constraints from './constraints.js';
export type { Regularizer, RegularizerIdentifier } from './regularizers.js';
export type { Constraint, ConstraintIdentifier } from './constraints.js';
export type { WeightPenaltyArgs } from './core.js';
