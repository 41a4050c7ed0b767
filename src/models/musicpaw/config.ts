/**
 * Music-PAW hyper-parameters with defaults. The paper's values (τ, level weights, number of
 * levels, backbone) are UNKNOWN in the spec (../shared/specs/music-paw.md §2.2 (4), §2.3), so
 * these are ours, sized for short clips on a software adapter: a small conv backbone over
 * log-mel frames instead of HTS-AT/AST (spec §2.3: "replace it with a small CNN").
 * @module
 */

/** The objective: part-whole hierarchy or the no-hierarchy baseline. */
export type MusicObjective = "paw" | "clip";

/** Music-PAW model settings. */
export interface MusicPawConfig {
  /** Mel bands F of the input frames. Default 40. */
  nMels?: number;
  /** Backbone conv channels C. Default 48. */
  channels?: number;
  /** Embedding width D (the probe's features). Default 64. */
  dim?: number;
  /** Projection-head output width (the contrastive space). Default 64. */
  projDim?: number;
  /** Levels H (level ℓ cuts the clip into 2^ℓ parts). Default 3. */
  levels?: number;
  /** Heads of each part-whole cross-attention. Default 4. */
  heads?: number;
  /** FFN width of each part-whole block. Default 128. */
  ffn?: number;
  /** InfoNCE temperature τ. Default 0.1. */
  tau?: number;
  /** Weight w_ℓ of each adjacent pair (ℓ, ℓ+1); default all 1/(H−1). */
  levelWeights?: readonly number[];
  /** "paw" (hierarchical InfoNCE) or "clip" (two-view clip InfoNCE, the baseline). */
  objective?: MusicObjective;
  /** Seed of the initialisation. Default 0. */
  seed?: number;
}

/** Every field resolved. */
export type ResolvedMusicPaw = Required<MusicPawConfig>;

/** Defaults (ours; see the module doc). */
export const MUSICPAW_DEFAULTS: Omit<ResolvedMusicPaw, "levelWeights"> = {
  nMels: 40,
  channels: 48,
  dim: 64,
  projDim: 64,
  levels: 3,
  heads: 4,
  ffn: 128,
  tau: 0.1,
  objective: "paw",
  seed: 0,
};

/** Fills the defaults and checks the values; errors name the setting. */
export function resolveMusicPaw(c: MusicPawConfig = {}): ResolvedMusicPaw {
  const r = { ...MUSICPAW_DEFAULTS, ...c } as ResolvedMusicPaw;
  const bad = (what: string) => new Error(`wgrec MusicPaw: ${what}`);
  for (const k of ["nMels", "channels", "dim", "projDim", "heads", "ffn"] as const) {
    if (!(Number.isInteger(r[k]) && r[k] >= 1)) throw bad(`${k} ${r[k]} must be an integer ≥ 1`);
  }
  if (!(Number.isInteger(r.levels) && r.levels >= 2 && r.levels <= 6)) {
    throw bad(`levels ${r.levels} must be an integer in 2..6 (level ℓ has 2^ℓ parts)`);
  }
  if (r.dim % r.heads !== 0) throw bad(`dim ${r.dim} is not divisible by heads ${r.heads}`);
  if (!(r.tau > 0)) throw bad(`tau ${r.tau} must be > 0`);
  if (r.objective !== "paw" && r.objective !== "clip") {
    throw bad(`objective '${r.objective}' must be 'paw' or 'clip'`);
  }
  const w = c.levelWeights ?? Array(r.levels - 1).fill(1 / (r.levels - 1));
  if (w.length !== r.levels - 1) {
    throw bad(`levelWeights has ${w.length} values, expected levels − 1 = ${r.levels - 1}`);
  }
  return { ...r, levelWeights: [...w] };
}
