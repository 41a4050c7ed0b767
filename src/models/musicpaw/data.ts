/**
 * A seeded generator of music-like clips with a part-whole hierarchy (Music-PAW's data where
 * GTZAN/MagnaTagATune are not here): a clip is `phrases` phrases, a phrase `bars` bars, a bar
 * `beats` note slots. Each style fixes a scale, a timbre (harmonic amplitudes), a tempo range
 * and a rhythm density; each phrase draws a motif (scale degrees per beat) that every bar of
 * the phrase repeats, transposed by a per-bar step, so parts at adjacent levels share
 * structure and the whole is labelled by its style. Additive synthesis with attack/decay
 * envelopes and a little noise; every draw comes from the seed.
 * @module
 */

import { Rng } from "../../random.ts";

/** One style: what the label means in sound. */
export interface MusicStyle {
  /** Name, for tables. */
  name: string;
  /** Scale as semitones above the tonic, within an octave. */
  scale: readonly number[];
  /** Amplitude of harmonics 1, 2, 3, ... */
  harmonics: readonly number[];
  /** Beats per second, [low, high). */
  tempo: readonly [number, number];
  /** Probability that a beat sounds a note (else a rest). */
  density: number;
}

/** The default styles: distinct scales, timbres, tempi and densities. */
export const MUSIC_STYLES: readonly MusicStyle[] = [
  {
    name: "major",
    scale: [0, 2, 4, 5, 7, 9, 11],
    harmonics: [1, 0.5, 0.25],
    tempo: [4, 5],
    density: 0.9,
  },
  {
    name: "pentatonic",
    scale: [0, 3, 5, 7, 10],
    harmonics: [1, 0, 0.4, 0, 0.2],
    tempo: [2.5, 3.5],
    density: 0.7,
  },
  {
    name: "wholetone",
    scale: [0, 2, 4, 6, 8, 10],
    harmonics: [1, 0.8, 0.6, 0.4],
    tempo: [5, 6.5],
    density: 0.95,
  },
  { name: "drone", scale: [0, 7], harmonics: [1, 0.1], tempo: [1.5, 2], density: 0.5 },
];

/**
 * Harder styles: one timbre, one tempo range, one density; only the scale (mode) differs, so
 * telling them apart needs pitch structure rather than timbre or loudness.
 */
export const MODAL_STYLES: readonly MusicStyle[] = [
  [0, 2, 4, 5, 7, 9, 11], // major
  [0, 2, 3, 5, 7, 8, 10], // natural minor
  [0, 2, 4, 7, 9], // major pentatonic
  [0, 2, 4, 6, 8, 10], // whole tone
].map((scale, i) => ({
  name: ["major", "minor", "pentatonic", "wholetone"][i],
  scale,
  harmonics: [1, 0.5, 0.25],
  tempo: [3, 4.5] as const,
  density: 0.8,
}));

/** Options of {@link generateMusic}. */
export interface MusicOptions {
  /** Number of clips. */
  clips: number;
  /** Seed of every draw. */
  seed: number;
  /** Hz (default 16000). */
  sampleRate?: number;
  /** Phrases per clip (default 2). */
  phrases?: number;
  /** Bars per phrase (default 2). */
  bars?: number;
  /** Beats per bar (default 4). */
  beats?: number;
  /** Styles (default {@link MUSIC_STYLES}). */
  styles?: readonly MusicStyle[];
  /** Noise standard deviation (default 0.01). */
  noise?: number;
}

/** A note of a clip: where it sits in the hierarchy and what it sounds. */
export interface MusicNote {
  /** Phrase within the clip. */
  phrase: number;
  /** Bar within the phrase. */
  bar: number;
  /** Beat within the bar. */
  beat: number;
  /** MIDI pitch. */
  pitch: number;
  /** First sample. */
  start: number;
  /** One past the last sample. */
  end: number;
}

/** Generated clips, all `length` samples. */
export interface MusicData {
  /** Hz. */
  sampleRate: number;
  /** Samples per clip. */
  length: number;
  /** clips × length, row-major. */
  audio: Float32Array;
  /** Style index per clip. */
  style: Int32Array;
  /** Notes per clip. */
  notes: MusicNote[][];
  /** Styles the labels index. */
  styles: readonly MusicStyle[];
}

/**
 * Generates `clips` clips. Every clip has the same length: the slowest tempo's duration, the
 * faster styles' notes ending earlier and the rest silent, so crops at a level are contiguous
 * equal parts (part k of 2^ℓ) as Music-PAW cuts them.
 */
export function generateMusic(opts: MusicOptions): MusicData {
  const sr = opts.sampleRate ?? 16000;
  const phrases = opts.phrases ?? 2, bars = opts.bars ?? 2, beats = opts.beats ?? 4;
  const styles = opts.styles ?? MUSIC_STYLES;
  const noise = opts.noise ?? 0.01;
  if (!(opts.clips >= 1) || styles.length < 1 || phrases < 1 || bars < 1 || beats < 1) {
    throw new Error(
      `wgrec generateMusic: clips ${opts.clips}, ${styles.length} styles, ` +
        `${phrases}×${bars}×${beats} phrases×bars×beats: each must be ≥ 1`,
    );
  }
  const slots = phrases * bars * beats;
  const slowest = Math.min(...styles.map((s) => s.tempo[0]));
  const length = Math.ceil((slots / slowest) * sr);
  const rng = new Rng(opts.seed);
  const audio = new Float32Array(opts.clips * length);
  const style = new Int32Array(opts.clips);
  const notes: MusicNote[][] = [];
  for (let c = 0; c < opts.clips; c++) {
    const s = styles[c % styles.length]; // balanced labels
    style[c] = c % styles.length;
    const tempo = s.tempo[0] + rng.uniform() * (s.tempo[1] - s.tempo[0]);
    const beatLen = Math.floor(sr / tempo);
    const tonic = 57 + Math.floor(rng.uniform() * 5); // MIDI A3..C#4
    const out = audio.subarray(c * length, (c + 1) * length);
    const list: MusicNote[] = [];
    for (let p = 0; p < phrases; p++) {
      // The phrase's motif: scale degrees per beat (−1 = rest), repeated in each bar.
      const motif = Array.from(
        { length: beats },
        () => rng.uniform() < s.density ? Math.floor(rng.uniform() * s.scale.length) : -1,
      );
      for (let b = 0; b < bars; b++) {
        const step = b === 0 ? 0 : Math.floor(rng.uniform() * 3) - 1; // bar transposition
        for (let k = 0; k < beats; k++) {
          if (motif[k] < 0) continue;
          const deg = motif[k] + step;
          const oct = Math.floor(deg / s.scale.length);
          const within = deg - oct * s.scale.length;
          const pitch = tonic + 12 * oct + s.scale[within];
          const start = ((p * bars + b) * beats + k) * beatLen;
          const end = Math.min(length, start + beatLen);
          list.push({ phrase: p, bar: b, beat: k, pitch, start, end });
          const f0 = 440 * Math.pow(2, (pitch - 69) / 12);
          for (let i = start; i < end; i++) {
            const t = (i - start) / sr;
            const env = Math.min(1, t / 0.01) * Math.exp(-3 * t * tempo);
            let v = 0;
            s.harmonics.forEach((a, h) => {
              if (a && f0 * (h + 1) < sr / 2) v += a * Math.sin(2 * Math.PI * f0 * (h + 1) * t);
            });
            out[i] += 0.3 * env * v;
          }
        }
      }
    }
    for (let i = 0; i < length; i++) out[i] += noise * rng.normal();
    notes.push(list);
  }
  return { sampleRate: sr, length, audio, style, notes, styles };
}
