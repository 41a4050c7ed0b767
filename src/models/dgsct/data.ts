/**
 * DG-SCT's data where AVE is not here: a seeded audio-visual generator with events in time, and
 * AVE's segment-level accuracy (spec §3.4, `compute_accuracy_supervised`).
 *
 * A video has `segments` one-second segments and one event class; the event is audible and
 * visible over a contiguous span of segments (foreground) and absent elsewhere (background).
 * Class c sounds as two harmonic tones at class-specific pitches and shows as a bright square
 * at a class-specific place in a class-specific colour channel; background segments carry noise
 * and, half of the time, the event's own class in one modality only (heard but not seen, or
 * seen but silent: not an audio-visual event under AVE's definition), so neither modality
 * alone tells the event apart from background.
 * @module
 */

import { Rng } from "../../random.ts";

/** Options of {@link generateAudioVisual}. */
export interface AudioVisualOptions {
  /** Number of videos. */
  videos: number;
  /** Seed of every draw. */
  seed: number;
  /** Event classes (default 8; background is the extra label `classes`). */
  classes?: number;
  /** Segments per video (default 10, as AVE). */
  segments?: number;
  /** Audio samples per segment (default 4000: 1 s at 4 kHz). */
  samples?: number;
  /** Image side (default 16); images are [3, side, side]. */
  side?: number;
}

/** Generated videos. */
export interface AudioVisualData {
  /** Number of videos. */
  videos: number;
  /** Segments per video. */
  segments: number;
  /** Event classes (background is label `classes`). */
  classes: number;
  /** Audio samples per segment. */
  samples: number;
  /** Image side. */
  side: number;
  /** [videos, segments, samples] audio. */
  audio: Float32Array;
  /** [videos, segments, 3, side, side] images. */
  images: Float32Array;
  /** Event class per video. */
  cls: Int32Array;
  /** [videos, segments] 1 where the event is on (foreground). */
  fg: Int32Array;
  /** [videos, segments] label per segment: the class, or `classes` for background. */
  labels: Int32Array;
}

/** Frequency (cycles per segment) of tone k ∈ {0, 1} of class c. */
const toneOf = (c: number, k: number, samples: number) =>
  Math.round(samples * (0.02 + 0.035 * c + 0.013 * k));

/** Generates `videos` videos with one event span each. */
export function generateAudioVisual(opts: AudioVisualOptions): AudioVisualData {
  const C = opts.classes ?? 8, S = opts.segments ?? 10;
  const N = opts.samples ?? 4000, side = opts.side ?? 16, V = opts.videos;
  if (!(V >= 1 && C >= 2 && S >= 2 && side >= 8 && N >= 64)) {
    throw new Error(
      `wgrec generateAudioVisual: videos ${V} (≥ 1), classes ${C} (≥ 2), segments ${S} (≥ 2), ` +
        `side ${side} (≥ 8), samples ${N} (≥ 64)`,
    );
  }
  if (toneOf(C - 1, 1, N) >= N / 2) {
    throw new Error(`wgrec generateAudioVisual: ${C} classes' tones do not fit below Nyquist`);
  }
  const rng = new Rng(opts.seed);
  const audio = new Float32Array(V * S * N);
  const images = new Float32Array(V * S * 3 * side * side);
  const cls = new Int32Array(V), fg = new Int32Array(V * S), labels = new Int32Array(V * S);
  const tone = (out: Float32Array, c: number, amp: number) => {
    const ph = rng.uniform() * 2 * Math.PI;
    for (let k = 0; k < 2; k++) {
      const f = toneOf(c, k, N);
      for (let i = 0; i < N; i++) out[i] += amp * Math.sin((2 * Math.PI * f * i) / N + ph);
    }
  };
  const square = (img: Float32Array, c: number, amp: number) => {
    const q = Math.floor(side / 4), cells = 4; // a 4×4 grid of places
    const cell = c % (cells * cells), ch = c % 3;
    const y0 = Math.floor(cell / cells) * q, x0 = (cell % cells) * q;
    for (let y = y0; y < y0 + q; y++) {
      for (let x = x0; x < x0 + q; x++) img[(ch * side + y) * side + x] += amp;
    }
  };
  for (let v = 0; v < V; v++) {
    const c = rng.int(C);
    cls[v] = c;
    const len = 2 + rng.int(S - 1); // 2..S segments
    const start = rng.int(S - len + 1);
    for (let s = 0; s < S; s++) {
      const on = s >= start && s < start + len;
      const i = v * S + s;
      fg[i] = on ? 1 : 0;
      labels[i] = on ? c : C;
      const a = audio.subarray(i * N, (i + 1) * N);
      const img = images.subarray(i * 3 * side * side, (i + 1) * 3 * side * side);
      for (let j = 0; j < N; j++) a[j] = 0.1 * rng.normal();
      for (let j = 0; j < img.length; j++) img[j] = 0.1 * rng.normal();
      if (on) {
        tone(a, c, 0.3);
        square(img, c, 1);
      } else if (rng.uniform() < 0.5) { // the class in one modality only
        if (rng.uniform() < 0.5) tone(a, c, 0.3);
        else square(img, c, 1);
      }
    }
  }
  return { videos: V, segments: S, classes: C, samples: N, side, audio, images, cls, fg, labels };
}

/**
 * AVE segment-level accuracy: each segment is predicted as the video's argmax event class when
 * σ(isEvent) > 0.5 (`isEvent` are logits [videos, segments]), else background (`classes`);
 * the fraction of segments equal to `labels` [videos, segments].
 */
export function aveAccuracy(
  isEvent: ArrayLike<number>,
  event: ArrayLike<number>,
  labels: ArrayLike<number>,
  videos: number,
  segments: number,
  classes: number,
): number {
  if (isEvent.length !== videos * segments || labels.length !== videos * segments) {
    throw new Error(
      `wgrec aveAccuracy: isEvent (${isEvent.length}) and labels (${labels.length}) must hold ` +
        `videos × segments = ${videos * segments} values`,
    );
  }
  if (event.length !== videos * classes) {
    throw new Error(
      `wgrec aveAccuracy: event holds ${event.length} logits, expected videos × classes = ` +
        `${videos * classes}`,
    );
  }
  let right = 0;
  for (let v = 0; v < videos; v++) {
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (event[v * classes + c] > event[v * classes + best]) best = c;
    }
    for (let s = 0; s < segments; s++) {
      const pred = isEvent[v * segments + s] > 0 ? best : classes; // σ(x) > 0.5 ⇔ x > 0
      if (pred === labels[v * segments + s]) right++;
    }
  }
  return right / (videos * segments);
}
