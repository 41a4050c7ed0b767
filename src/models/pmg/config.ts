/**
 * PMG's settings and defaults (small widths that train on a software adapter; the paper's
 * LLaMA-2-7B / Stable Diffusion sizes are out of reach here, spec §5.2).
 * @module
 */

/** Model settings. */
export interface PmgConfig {
  /** Width d of every Transformer and of the word table. */
  dim: number;
  /** Attention heads. */
  heads: number;
  /** Layers of each generator. */
  layers: number;
  /** Layers of the preference encoder. */
  encoderLayers: number;
  /** Soft embedding width c (the official 768, small here). */
  condDim: number;
  /** Channels of the image decoder's 4×4 latent grid. */
  channels: number;
  /** Weight λ of the image MSE in the training loss. */
  imageWeight: number;
  /** Probability of dropping the soft prefix for a batch (trains the unpersonalised mode). */
  dropPrefix: number;
  /** Held-out pairs the probe scores. */
  probeSamples: number;
  /** Seed of the initialisation. */
  seed: number;
}

/** Defaults. */
export const PMG_DEFAULTS: PmgConfig = {
  dim: 32,
  heads: 2,
  layers: 2,
  encoderLayers: 1,
  condDim: 32,
  channels: 32,
  imageWeight: 10,
  dropPrefix: 0.25,
  probeSamples: 256,
  seed: 999,
};

/** Layout defaults (see `Layout` in data.ts). */
export const LAYOUT_DEFAULTS = {
  keywords: 8,
  maxStyleWeight: 2,
  history: 8,
  titleWords: 5,
  descSlots: 5,
  itemSlots: 9,
  posterSize: 16,
} as const;
