/**
 * Crops of log-mel clips on the host, drawn per batch from a seeded generator: the multi-level
 * part-whole crops of Music-PAW (level ℓ: 2^ℓ contiguous parts, each jittered a little in time,
 * spec §2.2 (1) "contiguous (or randomly cropped) parts"), the baseline's two random views, and
 * the plain whole clips the probe embeds. Every crop is augmented independently (gain, noise,
 * one frequency and one time mask), so a whole and its parts are different views.
 * @module
 */

import type { Rng } from "../../random.ts";

/** Log-mel clips, all `frames` long, normalised per mel band. */
export interface MelClips {
  /** Frames per clip T. */
  frames: number;
  /** Mel bands F. */
  nMels: number;
  /** clips × T × F, row-major. */
  data: Float32Array;
}

/** Augmentation strengths (0 turns one off). */
export interface Augment {
  /** Time jitter of each crop, as a fraction of its length. */
  jitter: number;
  /** Random gain in the (normalised) log domain: U(−gain, gain) added to the crop. */
  gain: number;
  /** Gaussian noise standard deviation. */
  noise: number;
  /** Widest frequency mask, in mel bands. */
  freqMask: number;
  /** Widest time mask, as a fraction of the crop. */
  timeMask: number;
}

/** Default augmentation. */
export const DEFAULT_AUGMENT: Augment = {
  jitter: 0.25,
  gain: 0.3,
  noise: 0.2,
  freqMask: 6,
  timeMask: 0.15,
};

/** A batch of crops: data [n, t, F] for a tensor. */
export interface Crops {
  /** Values, row-major. */
  data: Float32Array;
  /** [n, t, F]. */
  shape: [number, number, number];
}

/** Frames used by the hierarchy: T rounded down to a multiple of 2^(H−1). */
export function usableFrames(frames: number, levels: number): number {
  return Math.floor(frames / 2 ** (levels - 1)) * 2 ** (levels - 1);
}

/** Copies frames [start, start + len) of clip `c` into `out` at row offset `o`, augmented. */
function cropInto(
  m: MelClips,
  c: number,
  start: number,
  len: number,
  out: Float32Array,
  o: number,
  rng: Rng | null,
  aug: Augment,
): void {
  const F = m.nMels;
  out.set(m.data.subarray((c * m.frames + start) * F, (c * m.frames + start + len) * F), o);
  if (!rng) return;
  const g = aug.gain * (2 * rng.uniform() - 1);
  for (let i = o; i < o + len * F; i++) out[i] += g + aug.noise * rng.normal();
  const fw = rng.int(aug.freqMask + 1), f0 = rng.int(F - fw + 1);
  const tw = rng.int(Math.floor(aug.timeMask * len) + 1), t0 = rng.int(len - tw + 1);
  for (let t = 0; t < len; t++) {
    for (let f = 0; f < F; f++) {
      if ((f >= f0 && f < f0 + fw) || (t >= t0 && t < t0 + tw)) out[o + t * F + f] = 0;
    }
  }
}

/** Start of a crop of `len` frames nominally at `start`, jittered and kept inside [0, T]. */
function jittered(start: number, len: number, T: number, rng: Rng, j: number): number {
  const s = start + Math.round(j * len * (2 * rng.uniform() - 1));
  return Math.max(0, Math.min(T - len, s));
}

/**
 * The H levels of crops of clips `rows`: level ℓ is [n·2^ℓ, T'/2^ℓ, F] (T' =
 * {@link usableFrames}), row r·2^ℓ + k part k of clip rows[r].
 */
export function levelCrops(
  m: MelClips,
  rows: ArrayLike<number>,
  levels: number,
  rng: Rng,
  aug: Augment = DEFAULT_AUGMENT,
): Crops[] {
  const T = usableFrames(m.frames, levels), F = m.nMels, n = rows.length;
  return Array.from({ length: levels }, (_, l) => {
    const parts = 2 ** l, len = T / parts;
    const data = new Float32Array(n * parts * len * F);
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < parts; k++) {
        const s = jittered(k * len, len, m.frames, rng, aug.jitter);
        cropInto(m, rows[r], s, len, data, (r * parts + k) * len * F, rng, aug);
      }
    }
    return { data, shape: [n * parts, len, F] as [number, number, number] };
  });
}

/** Two views of clips `rows`: random crops of `frac`·T frames each, augmented independently. */
export function twoViews(
  m: MelClips,
  rows: ArrayLike<number>,
  frac: number,
  rng: Rng,
  aug: Augment = DEFAULT_AUGMENT,
): [Crops, Crops] {
  const F = m.nMels, n = rows.length;
  const len = Math.max(2, Math.min(m.frames, Math.round(frac * m.frames)));
  const view = (): Crops => {
    const data = new Float32Array(n * len * F);
    for (let r = 0; r < n; r++) {
      const s = rng.int(m.frames - len + 1);
      cropInto(m, rows[r], s, len, data, r * len * F, rng, aug);
    }
    return { data, shape: [n, len, F] };
  };
  return [view(), view()];
}

/** The whole clips `rows` (first T' frames), not augmented: what the probe embeds. */
export function wholeClips(m: MelClips, rows: ArrayLike<number>, frames = m.frames): Crops {
  const F = m.nMels, n = rows.length;
  const data = new Float32Array(n * frames * F);
  for (let r = 0; r < n; r++) {
    cropInto(m, rows[r], 0, frames, data, r * frames * F, null, DEFAULT_AUGMENT);
  }
  return { data, shape: [n, frames, F] };
}
