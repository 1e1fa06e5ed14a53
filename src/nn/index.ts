/**
 * `ma.nn`: modules, layers, activations, initializers, losses and `valueAndGrad` for
 * training models (MLX's `mlx.nn`, camelCase). Guide: docs/nn.md.
 *
 * @module
 */
export { Module, type ParameterTree, type ParameterNode, type LoadWeightsOptions } from './module.js';
export {
  Linear,
  Embedding,
  LayerNorm,
  RMSNorm,
  Dropout,
  Sequential,
  type UnaryLayer,
  type LinearOptions,
  type EmbeddingOptions,
  type LayerNormOptions,
  type RMSNormOptions,
  type DropoutOptions,
} from './layers.js';
export { MultiHeadAttention, type MultiHeadAttentionOptions, type MultiHeadAttentionCallOptions } from './attention.js';
export { relu, gelu, geluApprox, silu, tanh, sigmoid, softplus, ReLU, GELU, SiLU, Tanh, Sigmoid, Softplus, type GELUOptions } from './activations.js';
export {
  crossEntropy,
  nllLoss,
  binaryCrossEntropy,
  mseLoss,
  l1Loss,
  klDiv,
  type Reduction,
  type LossOptions,
  type CrossEntropyOptions,
  type NllLossOptions,
  type BinaryCrossEntropyOptions,
  type KlDivOptions,
} from './losses.js';
export { valueAndGrad, type ModuleValueAndGradOptions } from './value-and-grad.js';
export { KeyStream, seed } from './keys.js';
export * as init from './init.js';
export { treeMap, treeFlatten, treeUnflatten } from '../transforms/tree.js';
/** Data-parallel gradient averaging, as MLX's `nn.average_gradients` (the same function as `ma.distributed.averageGradients`). */
export { averageGradients, type AverageGradientsOptions } from '../distributed/average-gradients.js';
export {
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  MaxPool2d,
  AvgPool2d,
  BatchNorm,
  type ConvLayerOptions,
  type ConvTransposeLayerOptions,
  type PoolLayerOptions,
  type BatchNormOptions,
} from './conv-layers.js';
