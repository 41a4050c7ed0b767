/**
 * DCID / H-DCID sizes and hyper-parameters (../shared/specs/dcid-toc.md §1.2–1.6). The defaults
 * are the official code's (`CMG/code/src/pretrain.py`, `main_model_2.py`); {@link smallDcid}
 * keeps every structure and shrinks the widths for CPU adapters and tests.
 * @module
 */

/** Sizes and hyper-parameters of DCID. */
export interface DcidConfig {
  /** Steps per clip T (10: one per second). */
  seqLen: number;
  /** Audio feature width (VGGish: 128). */
  audioDim: number;
  /** Video channels (VGG-19 pool5: 512). */
  videoDim: number;
  /** Video grid side (7: a 7×7 map; the specific encoder's two valid 3×3 convs need ≥ 5). */
  videoSize: number;
  /** Text token width (BERT: 768). */
  textDim: number;
  /** Hidden size of the text BiLSTM `Text_ar_lstm` (128 → 256 features). */
  textLstmHidden: number;
  /** Width D of the semantic features and codes (256). */
  hidden: number;
  /** Width of the audio/text specific encoders (256). */
  specificDim: number;
  /** Channels of the video specific encoder (2048; its first conv has half). */
  videoHidden: number;
  /** Codes M of the shared codebook (400). */
  numCodes: number;
  /** Attention heads of the temporal transformers (4). */
  heads: number;
  /** Feed-forward width of the temporal transformers (1024). */
  ffn: number;
  /** Transformer layers per modality (2). */
  layers: number;
  /** Dropout of the transformers (0.1; 0 makes a step deterministic). */
  dropout: number;
  /** Layers of each CPC context LSTM (2). */
  cpcLayers: number;
  /** Hidden width of the CLUB nets (hidden_size/2 = 128). */
  clubHidden: number;
  /** Commitment β (0.25). */
  beta: number;
  /** EMA decay γ (0.99). */
  decay: number;
  /** Laplace ε (1e-5). */
  eps: number;
  /** Initial codes U(−initBound, initBound) (the code: 1/400 whatever M is). */
  initBound: number;
  /** Inner CLUB iterations per batch, each with a full encoder pass (5). */
  miIters: number;
  /** Learning rate of the CLUB nets' Adam (1e-3). */
  miLr: number;
  /** A code unused for more than this many forwards is re-initialised (300). */
  resetAfter: number;
  /** Codes used within this many forwards count as activated (100). */
  activeWithin: number;
  /** Weight of the three self pairs of Cross-CPC (0.1; the six cross pairs weigh 1). */
  cpcSelfWeight: number;
  /** Gradient clipping per sub-model, L2 norm (0.5; 0 = off). */
  clip: number;
  /** H-DCID: first epoch (from 0) whose loss adds level 2 (3: `epoch<=2` is level 1 alone). */
  level2From: number;
  /** H-DCID: weight of the level-2 loss (0.3). */
  level2Weight: number;
}

/** The official sizes. */
export const DCID_DEFAULTS: DcidConfig = {
  seqLen: 10,
  audioDim: 128,
  videoDim: 512,
  videoSize: 7,
  textDim: 768,
  textLstmHidden: 128,
  hidden: 256,
  specificDim: 256,
  videoHidden: 2048,
  numCodes: 400,
  heads: 4,
  ffn: 1024,
  layers: 2,
  dropout: 0.1,
  cpcLayers: 2,
  clubHidden: 128,
  beta: 0.25,
  decay: 0.99,
  eps: 1e-5,
  initBound: 1 / 400,
  miIters: 5,
  miLr: 1e-3,
  resetAfter: 300,
  activeWithin: 100,
  cpcSelfWeight: 0.1,
  clip: 0.5,
  level2From: 3,
  level2Weight: 0.3,
};

/** Every structure of DCID at widths a CPU adapter trains in seconds (tests, small runs). */
export function smallDcid(over: Partial<DcidConfig> = {}): DcidConfig {
  return {
    ...DCID_DEFAULTS,
    audioDim: 16,
    videoDim: 16,
    textDim: 24,
    textLstmHidden: 8,
    hidden: 32,
    specificDim: 32,
    videoHidden: 32,
    numCodes: 64,
    ffn: 64,
    clubHidden: 16,
    ...over,
  };
}
