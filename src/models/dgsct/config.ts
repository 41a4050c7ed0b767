/**
 * DG-SCT's configuration (../shared/specs/dg-sct.md §3.4 flags, at small widths): the two
 * small backbones, the adapter flags and the AVE head's widths.
 * @module
 */

/** How the model adapts its frozen backbones (§3.4 "Trainable"). */
export type AdaptMode = "dgsct" | "frozen" | "finetune";

/** DG-SCT settings. */
export interface DgsctConfig {
  /** dgsct: frozen backbones + adapters + head; frozen: head only; finetune: all, no adapters. */
  adapt: AdaptMode;
  /** Event classes (AVE: 28; background is the extra label). */
  classes: number;
  /** Segments per video (AVE: 10). */
  segments: number;
  /** Image side and visual patch size (tokens: (side/patch)² at stage 0). */
  side: number;
  /** Visual patch size. */
  visualPatch: number;
  /** Visual stage widths (Swin-V2-L: 192/384/768/1536); each stage halves the grid. */
  visualDims: number[];
  /** Log-mel frames and mel bands of the audio "image" (HTS-AT: 256 × 256 after reshaping). */
  melFrames: number;
  /** Mel bands. */
  mels: number;
  /** Audio patch size. */
  audioPatch: number;
  /** Audio stage widths (HTS-AT: 96/192/384/768). */
  audioDims: number[];
  /** Blocks per stage, both backbones (one adapter pair per block). */
  depths: number[];
  /** Attention heads per stage. */
  heads: number[];
  /** Prompt tokens per adapter (`num_tokens` 32). */
  numTokens: number;
  /** Bottleneck reduction (`Adapter_downsample` 8). */
  adapterDownsample: number;
  /** Groups of the bottleneck's 1×1 convs (`num_conv_group` 2). */
  convGroups: number;
  /** Head: visual and audio FC widths (512, 128), temporal width d (256), FFN (1024), heads (4). */
  videoFc: number;
  /** Audio FC width. */
  audioFc: number;
  /** Temporal model width d. */
  dModel: number;
  /** Transformer FFN width. */
  ffn: number;
  /** Temporal attention heads. */
  temporalHeads: number;
  /** Dropout in the temporal transformers (0.1) and after the visual FC (0.2). */
  dropout: number;
  /** Visual FC dropout. */
  fcDropout: number;
  /** Seed of the initialisation (backbones included: they are random and frozen here). */
  seed: number;
}

/** Defaults: small widths for a software adapter; the paper's flags where they are flags. */
export function dgsctConfig(over: Partial<DgsctConfig> = {}): DgsctConfig {
  return {
    adapt: "dgsct",
    classes: 8,
    segments: 10,
    side: 16,
    visualPatch: 4,
    visualDims: [32, 64],
    melFrames: 32,
    mels: 32,
    audioPatch: 8,
    audioDims: [16, 32],
    depths: [1, 1],
    heads: [2, 4],
    numTokens: 32,
    adapterDownsample: 8,
    convGroups: 2,
    videoFc: 64,
    audioFc: 32,
    dModel: 32,
    ffn: 64,
    temporalHeads: 4,
    dropout: 0.1,
    fcDropout: 0.2,
    seed: 0,
    ...over,
  };
}
