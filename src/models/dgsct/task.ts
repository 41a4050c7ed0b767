/**
 * DG-SCT on the seeded audio-visual generator (`data.ts`; AVE is not here) as a runner model:
 * train/valid/test videos drawn with different seeds, log-mel "images" made once on the GPU by
 * the audio front end (standardised per mel band with train statistics: a fixed `bn0`), the
 * AVE loss per batch of videos and AVE segment accuracy (§3.4) as the probe.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { reshape, slice } from "../../ops/core/shape.ts";
import { AudioFrontEnd } from "../../ops/audio/frontend.ts";
import { melSpectrogram } from "../../ops/audio/settings.ts";
import { keep, readAll, type Tensor, tensor, tidy } from "../../tensor.ts";
import { trainableParameters } from "../../nn/adapt.ts";
import { Module } from "../../nn/module.ts";
import type { Rng } from "../../random.ts";
import type { LossOutput } from "../../train/loop.ts";
import type { PretrainModel } from "../../train/pretrain.ts";
import type { DgsctConfig } from "./config.ts";
import { type AudioVisualData, aveAccuracy, generateAudioVisual } from "./data.ts";
import { type AveBatch, Dgsct } from "./model.ts";

/** Sizes of the generated splits. */
export interface AveSplitSizes {
  /** Training videos. */
  trainVideos: number;
  /** Validation and test videos (each). */
  evalVideos: number;
  /** Seed of the data (train: seed, valid: seed + 1, test: seed + 2). */
  dataSeed: number;
  /** Audio samples per segment (1 s). */
  samples: number;
}

/** One split on the GPU: images [V, T·3·side²] and standardised log-mels [V, T·F·M]. */
export interface AveSplit {
  /** The generated videos. */
  data: AudioVisualData;
  /** Images, one row per video. */
  images: Tensor<"f32">;
  /** Log-mel images, one row per video. */
  mels: Tensor<"f32">;
}

/** Log-mel images [V·T, F, M] of a split's audio (GPU front end, first F frames). */
async function logMels(d: AudioVisualData, frames: number, mels: number): Promise<Float32Array> {
  const hop = Math.floor(d.samples / frames);
  let nFft = 2;
  while (nFft < 2 * hop) nFft *= 2;
  const fe = new AudioFrontEnd(
    melSpectrogram({ sampleRate: d.samples, nFft, hopLength: hop, nMels: mels, log: "log" }),
  );
  const n = d.videos * d.segments;
  const out = new Float32Array(n * frames * mels);
  const chunk = 256;
  for (let lo = 0; lo < n; lo += chunk) {
    const c = Math.min(chunk, n - lo);
    const t = tidy(() =>
      noGrad(() => {
        const x = tensor(d.audio.subarray(lo * d.samples, (lo + c) * d.samples), [c, d.samples]);
        const m = fe.forward(x);
        return slice(m, [0, 0, 0], [c, frames, mels]);
      })
    );
    out.set(await t.read(), lo * frames * mels);
    t.dispose();
  }
  fe.dispose();
  return out;
}

/** Generates the three splits and uploads them (log-mels standardised by train statistics). */
export async function makeAveSplits(
  c: DgsctConfig,
  s: AveSplitSizes,
): Promise<Record<"train" | "valid" | "test", AveSplit>> {
  const gen = (videos: number, seed: number) =>
    generateAudioVisual({
      videos,
      seed,
      classes: c.classes,
      segments: c.segments,
      samples: s.samples,
      side: c.side,
    });
  const data = {
    train: gen(s.trainVideos, s.dataSeed),
    valid: gen(s.evalVideos, s.dataSeed + 1),
    test: gen(s.evalVideos, s.dataSeed + 2),
  };
  const F = c.melFrames, M = c.mels;
  const raw = {
    train: await logMels(data.train, F, M),
    valid: await logMels(data.valid, F, M),
    test: await logMels(data.test, F, M),
  };
  // Per-band mean and std over the training frames.
  const mu = new Float64Array(M), sd = new Float64Array(M);
  const rows = raw.train.length / M;
  for (let r = 0; r < rows; r++) for (let m = 0; m < M; m++) mu[m] += raw.train[r * M + m] / rows;
  for (let r = 0; r < rows; r++) {
    for (let m = 0; m < M; m++) sd[m] += (raw.train[r * M + m] - mu[m]) ** 2 / rows;
  }
  const up = (k: "train" | "valid" | "test"): AveSplit => {
    const d = data[k], x = raw[k];
    for (let i = 0; i < x.length; i++) {
      const m = i % M;
      x[i] = (x[i] - mu[m]) / Math.sqrt(sd[m] + 1e-5);
    }
    const T = d.segments;
    return {
      data: d,
      images: keep(tensor(d.images, [d.videos, T * 3 * d.side * d.side])),
      mels: keep(tensor(x, [d.videos, T * F * M])),
    };
  };
  return { train: up("train"), valid: up("valid"), test: up("test") };
}

/** A batch of videos `rows` of a split, on the GPU. */
export function aveBatch(c: DgsctConfig, split: AveSplit, rows: Int32Array): AveBatch {
  const B = rows.length, T = c.segments, d = split.data, K = c.classes;
  const idx = tensor(rows, [B], "i32");
  const fg = new Float32Array(B * T), onehot = new Float32Array(B * K);
  rows.forEach((v, i) => {
    for (let t = 0; t < T; t++) fg[i * T + t] = d.fg[v * T + t];
    onehot[i * K + d.cls[v]] = 1;
  });
  return {
    videos: B,
    images: reshape(gather(split.images, idx), [B * T, 3, c.side, c.side]),
    mels: reshape(gather(split.mels, idx), [B * T, 1, c.melFrames, c.mels]),
    fg: tensor(fg, [B, T]),
    onehot: tensor(onehot, [B, K]),
  };
}

/** AVE segment accuracy of `model` on a split, in batches of `batch` videos (eval mode). */
export async function aveEvaluate(model: Dgsct, split: AveSplit, batch = 16): Promise<number> {
  const c = model.cfg, d = split.data, T = c.segments, K = c.classes;
  const isEvent = new Float32Array(d.videos * T), event = new Float32Array(d.videos * K);
  model.eval();
  try {
    for (let lo = 0; lo < d.videos; lo += batch) {
      const rows = Int32Array.from({ length: Math.min(batch, d.videos - lo) }, (_, i) => lo + i);
      const [ie, ev] = tidy(() =>
        noGrad(() => {
          const h = model.forward(aveBatch(c, split, rows));
          return [h.isEvent, h.event];
        })
      );
      const [a, b] = await readAll([ie, ev]);
      ie.dispose();
      ev.dispose();
      isEvent.set(a, lo * T);
      event.set(b, lo * K);
    }
  } finally {
    model.train();
  }
  return aveAccuracy(isEvent, event, d.labels, d.videos, T, K);
}

/** DG-SCT as a runner model: the AVE loss on generated videos, AVE accuracy as the probe. */
export class DgsctTask extends Module implements PretrainModel {
  /** Display name. */
  readonly name = "DG-SCT";
  /** Training videos. */
  readonly numSamples: number;
  /** AVE segment accuracy, larger is better. */
  readonly probeMetric = { name: "acc", mode: "max" as const };
  /** The model. */
  readonly model: Dgsct;

  /** Over generated splits. */
  constructor(readonly splits: Record<"train" | "valid" | "test", AveSplit>, cfg: DgsctConfig) {
    super();
    this.model = this.child("model", new Dgsct(cfg));
    this.numSamples = splits.train.data.videos;
  }

  /** Trainable and total parameter counts. */
  counts(): { trainable: number; total: number } {
    return trainableParameters(this.model);
  }

  /** The AVE loss of a batch of training videos. */
  loss(rows: Int32Array, _rng: Rng): LossOutput {
    return this.model.loss(aveBatch(this.model.cfg, this.splits.train, rows));
  }

  /** AVE accuracy (and the trainable parameter count) on a split. */
  async probe(split: "valid" | "test"): Promise<Record<string, number>> {
    const acc = await aveEvaluate(this.model, this.splits[split]);
    return { acc, trainable: this.counts().trainable };
  }

  /** Frees the model and the splits' tensors. */
  override dispose(): void {
    super.dispose();
    for (const s of Object.values(this.splits)) {
      s.images.dispose();
      s.mels.dispose();
    }
  }
}
