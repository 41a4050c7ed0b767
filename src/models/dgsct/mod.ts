/**
 * DG-SCT (../shared/specs/dg-sct.md): audio- and visual-guided spatial-channel adapters with
 * cross-modal prompts in small frozen backbones, the AVE head and loss, the seeded
 * audio-visual generator and AVE accuracy.
 * @module
 */

export { type AdaptMode, type DgsctConfig, dgsctConfig } from "./config.ts";
export { type AdapterDims, type AdapterOutput, ALPHA, BETA, DgsctAdapter } from "./adapter.ts";
export { type AveBatch, Dgsct } from "./model.ts";
export {
  Backbone,
  type BackboneOptions,
  Mlp,
  ModuleList,
  PatchEmbed,
  PatchMerging,
  Stage,
  SwinBlock,
} from "./backbone.ts";
export {
  aveLoss,
  Cmbs,
  crossEntropy,
  type HeadOutput,
  TemporalAttention,
  topKMean,
} from "./head.ts";
export {
  aveBatch,
  aveEvaluate,
  type AveSplit,
  type AveSplitSizes,
  DgsctTask,
  makeAveSplits,
} from "./task.ts";
export {
  type AudioVisualData,
  type AudioVisualOptions,
  aveAccuracy,
  generateAudioVisual,
} from "./data.ts";
