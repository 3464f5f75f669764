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
