/**
 * Music-PAW's clip sets: signals → log-mel frames on the GPU front end (`ops.AudioFrontEnd`,
 * torchaudio MelSpectrogram settings, natural log), normalised per mel band, with style labels
 * and a stratified split, for the seeded part-whole generator (`data.ts`) here and for a folder
 * of WAV files in `wav_folder.ts` (Deno only).
 * @module
 */

import { AudioFrontEnd } from "../../ops/audio/frontend.ts";
import { type FrontEndSettings, melSpectrogram } from "../../ops/audio/settings.ts";
import { Rng } from "../../random.ts";
import { tensor, tidy } from "../../tensor.ts";
import type { MelClips } from "./crops.ts";
import { generateMusic, type MusicOptions } from "./data.ts";

/** Clips ready for Music-PAW: mel frames, labels (or none), and a split. */
export interface MusicSet {
  /** Name for reports. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** Normalised log-mel frames. */
  mel: MelClips;
  /** Class per clip, or null when unlabelled. */
  labels: Int32Array | null;
  /** Class names. */
  classes: string[];
  /** Clip indices of each split (stratified by label when labelled). */
  split: { train: Int32Array; valid: Int32Array; test: Int32Array };
}

/** Front-end settings of both sources. */
export interface MelOptions {
  /** Hz (default 8000). */
  sampleRate?: number;
  /** FFT size (default 512). */
  nFft?: number;
  /** Hop (default 256). */
  hop?: number;
  /** Mel bands (default 40). */
  nMels?: number;
}

/** The front end's settings: torchaudio MelSpectrogram, ln(max(x, 1e-6)). */
export function melSettings(o: MelOptions = {}): FrontEndSettings {
  return melSpectrogram({
    sampleRate: o.sampleRate ?? 8000,
    nFft: o.nFft ?? 512,
    hopLength: o.hop ?? 256,
    nMels: o.nMels ?? 40,
    log: "log",
    floor: 1e-6,
  });
}

/**
 * Log-mel frames of `clips` signals of `length` samples (row-major in `audio`), on the GPU a
 * few clips at a time, then normalised per mel band over every frame of every clip (no labels
 * involved). A clip shorter than one frame is refused by the front end, naming the lengths.
 */
export async function melClips(
  audio: Float32Array,
  clips: number,
  length: number,
  settings: FrontEndSettings,
): Promise<MelClips> {
  const fe = new AudioFrontEnd(settings);
  try {
    const T = fe.frameCount(length), F = settings.nMels;
    const data = new Float32Array(clips * T * F);
    const per = Math.max(1, Math.floor(2 ** 22 / length)); // ~16 MiB of signal per pass
    for (let c0 = 0; c0 < clips; c0 += per) {
      const b = Math.min(per, clips - c0);
      const y = tidy(() =>
        fe.forward(tensor(audio.subarray(c0 * length, (c0 + b) * length), [b, length]))
      );
      data.set(await y.read(), c0 * T * F);
      y.dispose();
    }
    const mu = new Float64Array(F), sq = new Float64Array(F);
    for (let i = 0; i < data.length; i++) {
      mu[i % F] += data[i];
      sq[i % F] += data[i] * data[i];
    }
    const rows = clips * T;
    for (let f = 0; f < F; f++) {
      mu[f] /= rows;
      sq[f] = 1 / Math.sqrt(Math.max(1e-8, sq[f] / rows - mu[f] * mu[f]));
    }
    for (let i = 0; i < data.length; i++) data[i] = (data[i] - mu[i % F]) * sq[i % F];
    return { frames: T, nMels: F, data };
  } finally {
    fe.dispose();
  }
}

/** Clip indices split train/valid/test by `fractions`, per class, by a seeded shuffle. */
export function stratifiedSplit(
  labels: Int32Array | null,
  n: number,
  seed: number,
  fractions: [number, number] = [0.6, 0.2],
): MusicSet["split"] {
  const rng = new Rng(seed);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const y = labels ? labels[i] : 0;
    if (!groups.has(y)) groups.set(y, []);
    groups.get(y)!.push(i);
  }
  const out = { train: [] as number[], valid: [] as number[], test: [] as number[] };
  for (const idx of groups.values()) {
    const p = Array.from(rng.shuffle(Int32Array.from(idx)) as Int32Array);
    const a = Math.round(fractions[0] * p.length);
    const b = a + Math.round(fractions[1] * p.length);
    out.train.push(...p.slice(0, a));
    out.valid.push(...p.slice(a, b));
    out.test.push(...p.slice(b));
  }
  return {
    train: Int32Array.from(out.train),
    valid: Int32Array.from(out.valid),
    test: Int32Array.from(out.test),
  };
}

/** The generator's clips (`generateMusic`) as a labelled set. */
export async function generatedSet(
  opts: MusicOptions,
  mel: MelOptions = {},
): Promise<MusicSet> {
  const s = melSettings(mel);
  const g = generateMusic({ ...opts, sampleRate: s.sampleRate });
  const m = await melClips(g.audio, opts.clips, g.length, s);
  return {
    name: "musicgen",
    description: `seeded part-whole music generator (seed ${opts.seed}): ${opts.clips} clips ` +
      `of ${(g.length / g.sampleRate).toFixed(1)} s, ${g.styles.length} styles; ` +
      `${m.frames} frames × ${m.nMels} mels`,
    mel: m,
    labels: g.style,
    classes: g.styles.map((x) => x.name),
    split: stratifiedSplit(g.style, opts.clips, opts.seed + 1),
  };
}
