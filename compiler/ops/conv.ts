/**
 * @file Convolution family, NHWC with HWIO filters: conv2d and its two gradients
 * (input and filter), max and average pooling with their gradients.
 */
import type { OpDef } from './op.js';

export interface ConvParams {}

export const convOps: { readonly [K in keyof ConvParams]: OpDef<ConvParams[K]> } = {};
