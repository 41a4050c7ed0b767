/**
 * Cross-modal generalisation (../shared/specs/dcid-toc.md §1.1, §1.6–1.7): freeze the
 * pretrained encoder, train the code's `Semantic_Decoder` head (Linear(d, d) → max over T →
 * Linear(d, C)) on modality A's quantized features, and test it on modality B's (V→A, A→V),
 * optionally after TOC's channel selection; plus cross-modal retrieval (R@k of the same clip).
 * Also the pretraining loop of a {@link Dcid} over generated clips.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { backward } from "../../autograd/backward.ts";
import { mul, neg } from "../../ops/core/elementwise.ts";
import { max } from "../../ops/core/minmax.ts";
import { mean, sum } from "../../ops/core/reduce.ts";
import { logSoftmax } from "../../ops/core/softmax.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { concat } from "../../ops/core/shape.ts";
import { keep, readAll, type Tensor, tensor, tidy } from "../../tensor.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { Adam } from "../../nn/optim.ts";
import { Rng } from "../../random.ts";
import type { AvtData } from "./data.ts";
import type { AvtBatch, CmgModel } from "./model.ts";
import { tocScores, tocSelect } from "./toc.ts";

/** A modality, in the model's a, v, t order. */
export type Modality = "audio" | "video" | "text";
const INDEX: Record<Modality, number> = { audio: 0, video: 1, text: 2 };

/** Uploads clips `rows` of generated data as a batch. */
export function batchOf(d: AvtData, rows: ArrayLike<number>): AvtBatch {
  const { seqLen: T, audioDim: A, videoDim: V, textDim: W } = d.opts;
  const take = (src: Float32Array, per: number) => {
    const out = new Float32Array(rows.length * per);
    for (let i = 0; i < rows.length; i++) {
      out.set(src.subarray(rows[i] * per, (rows[i] + 1) * per), i * per);
    }
    return out;
  };
  const n = rows.length;
  return {
    audio: tensor(take(d.audio, T * A), [n, T, A]),
    video: tensor(take(d.video, T * 49 * V), [n, T, 7, 7, V]),
    text: tensor(take(d.text, T * W), [n, T, W]),
  };
}

/** Options of {@link pretrain}. */
export interface PretrainOptions {
  /** Epochs over the clips. */
  epochs: number;
  /** Clips per batch (80). */
  batch: number;
  /** Main learning rate (4e-4). */
  lr: number;
  /** Seed of the batch order and of the step draws. */
  seed: number;
  /** Called after each epoch with the mean losses. */
  onEpoch?: (epoch: number, losses: Record<string, number>) => void;
}

/** Pretrains `model` (DCID or H-DCID) on every clip of `d` (labels unused), as `train_epoch`. */
export async function pretrain(model: CmgModel, d: AvtData, o: PretrainOptions): Promise<void> {
  const opt = new Adam(model.parameters(), { lr: o.lr });
  const rng = new Rng(o.seed);
  const n = d.labels.length;
  model.train();
  for (let e = 0; e < o.epochs; e++) {
    const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
    const sums: Record<string, Tensor<"f32">[]> = {};
    for (let lo = 0; lo + 1 < n; lo += o.batch) {
      const rows = order.subarray(lo, Math.min(n, lo + o.batch));
      if (rows.length < 2) break;
      tidy(() => {
        const parts = model.stepLoss(batchOf(d, rows), rng, e);
        backward(parts.loss);
        model.afterBackward();
        opt.step();
        model.zeroGrad();
        for (const [k, v] of Object.entries(parts)) {
          (sums[k] ??= []).push(keep(noGrad(() => mul(v, tensor([1], [])))));
        }
      });
    }
    const names = Object.keys(sums);
    const vals = await readAll(names.flatMap((k) => sums[k]));
    const out: Record<string, number> = {};
    let i = 0;
    for (const k of names) {
      out[k] = sums[k].reduce((a) => a + vals[i++][0], 0) / sums[k].length;
      sums[k].forEach((t) => t.dispose());
    }
    o.onEpoch?.(e, out);
  }
  opt.dispose?.();
  model.eval();
}

/** Which features the head reads. */
export interface FeatureOptions {
  /** Quantized ẑ (true, DCID) or the continuous semantic z (false: no codebook). */
  quantized: boolean;
  /** TOC channels to keep per level (from {@link tocChannels}); all when absent. */
  channels?: Int32Array[];
}

/**
 * Frozen features [n, T, D'] of one modality for clips `rows` (kept: the caller disposes):
 * each level's ẑ (or z), TOC-sliced per level when `channels` is given, concatenated.
 */
export function features(
  model: CmgModel,
  d: AvtData,
  rows: ArrayLike<number>,
  m: Modality,
  o: FeatureOptions,
): Tensor<"f32"> {
  return noGrad(() =>
    tidy(() => {
      const fs = model.levels(batchOf(d, rows), INDEX[m], o.quantized).map((f, l) => {
        const ch = o.channels?.[l];
        if (!ch) return f;
        // Channel selection as a product with a one-hot [D, K] matrix (slice of ẑ[:, :, idx]).
        const D = f.shape[2];
        const k = ch.length;
        const sel = new Float32Array(D * k);
        ch.forEach((c, j) => (sel[c * k + j] = 1));
        return matmul(f, tensor(sel, [D, k]));
      });
      return keep(fs.length === 1 ? fs[0] : concat(fs, 2));
    })
  );
}

/** TOC channels of each level's codebook: (K, a, b) as in `cal_criterion`. */
export async function tocChannels(
  model: CmgModel,
  k: number,
  a = 1,
  b = 0,
): Promise<Int32Array[]> {
  const sels = tidy(() =>
    model.quantizers().map((q) => keep(tocSelect(tocScores(q.codebook).score, k, a, b)))
  );
  const v = await readAll(sels);
  sels.forEach((t) => t.dispose());
  return v as Int32Array[];
}

/** The code's `Semantic_Decoder`: `linear` (d → d), max over T, `event_classifier` (d → C). */
export class SemanticHead extends Module {
  /** `linear`. */
  readonly linear: Linear;
  /** `event_classifier`. */
  readonly classifier: Linear;
  /** d-wide features, C classes. */
  constructor(d: number, classes: number, seed: number) {
    super();
    this.linear = this.child("linear", new Linear(d, d, { seed }));
    this.classifier = this.child("event_classifier", new Linear(d, classes, { seed: seed + 1 }));
  }
  /** [B, T, d] → logits [B, C]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return this.classifier.forward(max(this.linear.forward(x), 1));
  }
}

/** Options of {@link transfer}. */
export interface TransferOptions {
  /** Head training epochs (50 for AVE in the code). */
  epochs: number;
  /** Batch (80). */
  batch: number;
  /** Head learning rate (4e-4). */
  lr: number;
  /** Seed of the head and the batch order. */
  seed: number;
}

/**
 * Trains a head on `train` features (modality A) with cross-entropy and returns the accuracy
 * of each `tests` entry (features of other modalities or clips) against their labels.
 */
export async function transfer(
  train: Tensor<"f32">,
  trainLabels: Int32Array,
  tests: { x: Tensor<"f32">; labels: Int32Array }[],
  classes: number,
  o: TransferOptions,
): Promise<number[]> {
  const head = new SemanticHead(train.shape[2], classes, o.seed);
  const opt = new Adam(head.parameters(), { lr: o.lr });
  const rng = new Rng(o.seed);
  const n = trainLabels.length;
  const [, T, D] = train.shape;
  const host = await train.read() as Float32Array;
  for (let e = 0; e < o.epochs; e++) {
    const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
    for (let lo = 0; lo < n; lo += o.batch) {
      const rows = order.subarray(lo, Math.min(n, lo + o.batch));
      tidy(() => {
        const xb = new Float32Array(rows.length * T * D);
        const yb = new Float32Array(rows.length * classes);
        rows.forEach((r, i) => {
          xb.set(host.subarray(r * T * D, (r + 1) * T * D), i * T * D);
          yb[i * classes + trainLabels[r]] = 1;
        });
        const lp = logSoftmax(head.forward(tensor(xb, [rows.length, T, D])), -1);
        backward(neg(mean(sum(mul(lp, tensor(yb, [rows.length, classes])), 1))));
        opt.step();
        head.zeroGrad();
      });
    }
  }
  const logits = noGrad(() => tidy(() => tests.map((t) => keep(head.forward(t.x)))));
  const vals = await readAll(logits);
  logits.forEach((l) => l.dispose());
  head.dispose();
  return tests.map((t, i) => {
    let hit = 0;
    for (let r = 0; r < t.labels.length; r++) {
      const row = vals[i].subarray(r * classes, (r + 1) * classes);
      let best = 0;
      for (let c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
      if (best === t.labels[r]) hit++;
    }
    return hit / t.labels.length;
  });
}

/**
 * Cross-modal retrieval: queries [n, T, D] and gallery [n, T, D] of the same clips, each clip
 * pooled over T and L2-normalised; R@k = share of queries whose own clip is among the k most
 * cosine-similar gallery clips.
 */
export async function retrievalRecall(
  queries: Tensor<"f32">,
  gallery: Tensor<"f32">,
  ks: readonly number[],
): Promise<number[]> {
  const [q, g] = await readAll([queries, gallery]) as Float32Array[];
  const [n, T, D] = queries.shape;
  const pool = (a: Float32Array) => {
    const out = new Float64Array(n * D);
    for (let i = 0; i < n; i++) {
      let norm = 0;
      for (let c = 0; c < D; c++) {
        let s = 0;
        for (let t = 0; t < T; t++) s += a[(i * T + t) * D + c];
        out[i * D + c] = s;
        norm += s * s;
      }
      const inv = 1 / Math.max(1e-12, Math.sqrt(norm));
      for (let c = 0; c < D; c++) out[i * D + c] *= inv;
    }
    return out;
  };
  const pq = pool(q);
  const pg = pool(g);
  const hits = ks.map(() => 0);
  for (let i = 0; i < n; i++) {
    const sims: number[] = [];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += pq[i * D + c] * pg[j * D + c];
      sims.push(s);
    }
    const rank = sims.filter((s) => s > sims[i]).length;
    ks.forEach((k, m) => (hits[m] += rank < k ? 1 : 0));
  }
  return hits.map((h) => h / n);
}
