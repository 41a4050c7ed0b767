/**
 * Layers with PyTorch's parameter names (so weights interchange as is): dense layers, tables,
 * initialisers, normalisation, graph propagation, attention layers, vector quantisers, and
 * saving and loading modules and checkpoints.
 * @module
 */

export { Module } from "./module.ts";
export { activate, Gate, Linear, MLP } from "./linear.ts";
export type { Activation } from "./linear.ts";
export { Embedding, ParameterDict } from "./embedding.ts";
export { xavierNormal, xavierUniform } from "./init.ts";
export { LayerNorm } from "./norm.ts";
export {
  ctrBatch,
  ctrRows,
  FeatureEmbedding,
  featureSpecs,
  FieldTable,
  MAX_TABLE_BYTES,
} from "./features.ts";
export type { CtrBatch, FeatureEmbeddingOptions, FeatureSpec } from "./features.ts";
export { BatchNorm1d, CrossNetV2, DNN, FeatureLinear, fmInteraction } from "./ctr.ts";
export type { DnnOptions } from "./ctr.ts";
export { AvgPool2d, BatchNorm, Conv2d, ConvTranspose2d, MaxPool2d } from "./conv.ts";
export type { ConvLayerOptions } from "./conv.ts";
export { LSTM } from "./rnn.ts";
export type { LstmOptions } from "./rnn.ts";
export { lightGcnBatch, lightGcnPropagate } from "./graph_conv.ts";
export {
  AdditiveAttentionPooling,
  MultiHeadAttention,
  TargetAttention,
  TransformerEncoderLayer,
} from "./attention.ts";
export type { AttentionCallOptions, TransformerEncoderLayerOptions } from "./attention.ts";
export {
  codeUsage,
  kmeansPlusPlus,
  MultiModalQuantizer,
  ProductQuantizer,
  ResidualQuantizer,
  VectorQuantizer,
} from "./vq.ts";
export type {
  CodebookUpdate,
  CodeUsage,
  KMeansOptions,
  MultiModalQuantizerOptions,
  MultiModalResult,
  ProductQuantizerOptions,
  QuantizeResult,
  ResidualQuantizerOptions,
  VectorQuantizerOptions,
} from "./vq.ts";
export { loadCheckpoint, loadModule, saveCheckpoint, saveModule } from "./serialize.ts";
export type { LoadOptions } from "./serialize.ts";
export { GRU } from "./rnn.ts";
export type { RnnOutput } from "./rnn.ts";
export {
  Adapted,
  addAdapters,
  addLoRA,
  BottleneckAdapter,
  CrossModalAdapter,
  freeze,
  FrozenFeatures,
  LoRA,
  mergeLoRA,
  paramGroups,
  PrefixTuning,
  PromptTokens,
  trainableParameters,
  unfreeze,
  unmergeLoRA,
} from "./adapt.ts";
export type { AdapterOptions, LoRAOptions, NamePattern, ParamGroup } from "./adapt.ts";
export { ADAPT_STRATEGIES, adaptEncoder } from "./adapt_strategy.ts";
export type { AdaptEncoderOptions, AdaptStrategy, EncoderAdaptation } from "./adapt_strategy.ts";
export { Dropout, dropout } from "./dropout.ts";
export { ClipObjective, MaskedFeatureModel, semanticIds } from "./objectives.ts";
export type { MaskedFeatureOptions } from "./objectives.ts";
export { maskTokens, MlmHead } from "./mlm.ts";
export type { MaskedBatch, MaskOptions } from "./mlm.ts";
