/**
 * DCID / H-DCID / TOC (../shared/specs/dcid-toc.md): the unified discrete codebook of audio,
 * video and text (DCID), TOC's training-free channel selection, and their kernels' models.
 * @module
 */

export { DCID_DEFAULTS, smallDcid } from "./config.ts";
export type { DcidConfig } from "./config.ts";
export { clipGradNorm, Dcid, DcidDecoder, DcidEncoder, dcidQuantizer, drawStep } from "./model.ts";
export type { AvtBatch, CmgModel, DcidLosses, EncoderOutput, StepDraws } from "./model.ts";
export { Hdcid, HdcidDecoder, HdcidEncoder } from "./hdcid.ts";
export type { HdcidDraws, Level2Output } from "./hdcid.ts";
export { CmgPretrain, dcidAtScale, SCALES } from "./task.ts";
export type { ProbeOptions } from "./task.ts";
export { Club, cmcm, cmcmPair, CrossCpc, Mlp4, softCodes } from "./losses.ts";
export {
  LinearDecoder,
  Named,
  ResidualStack,
  SpecificEncoder,
  TemporalModule,
  VideoDecoder,
  VideoEncoder,
  VideoSemanticEncoder,
} from "./layers.ts";
export { generateAvt } from "./data.ts";
export type { AvtData, AvtOptions } from "./data.ts";
export {
  batchOf,
  features,
  pretrain,
  retrievalRecall,
  SemanticHead,
  tocChannels,
  transfer,
} from "./protocol.ts";
export type { FeatureOptions, Modality, PretrainOptions, TransferOptions } from "./protocol.ts";
export { tocScores, tocSelect } from "./toc.ts";
export type { TocScores } from "./toc.ts";
