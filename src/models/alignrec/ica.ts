/**
 * AlignRec stage 1 — inter-content alignment (ICA) — as a small trainable multimodal encoder.
 *
 * The official pipeline pre-trains a BEiT-3 encoder with masked image and language modelling
 * on item images and texts and releases only its output (`image_feat.npy`, one unified row per
 * item; spec §1.1: stage-1 code is not released). Here the inputs are per-item feature
 * vectors of two modalities (e.g. MMRec's `image_feat.npy` and `text_feat.npy`, or title and
 * genre vectors), and the encoder is:
 * ```
 * z_v = MLP_v(x_v ⊙ m_v)   z_t = MLP_t(x_t ⊙ m_t)      per-modality encoders (GELU MLPs)
 * u   = W_f [z_v ‖ z_t] + b_f                         fused, unified item feature
 * L   = InfoNCE_sym(z_v, z_t; τ)                      align the modalities of each item
 *     + λ · MSE over masked entries of (W_dv u, x_v) and (W_dt u, x_t)   mask-then-predict
 * ```
 * Inputs are standardised per dimension; the masks m drop a random fraction of each
 * modality's entries and, with probability `modalityDrop`, a whole modality of an item (so the
 * unified feature learns to stand in for a missing image or text — what the paper's
 * masked-modality evaluation probes). The exported features are u of the unmasked inputs;
 * {@link icaFeatures} can also mask one modality of chosen items, recomputing their features
 * from the masked input as the official BEiT-3 path does.
 *
 * Precomputed features (the official pipeline's stage-1 output) load with
 * {@link featuresFromNpy} (in Deno, `loadFeatureFile` of the `./files` entry reads the file).
 * @module
 */

import { backward } from "../../autograd/backward.ts";
import { noGrad } from "../../autograd/tape.ts";
import { readNpy } from "../../io/npy.ts";
import { Linear, MLP } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { Adam } from "../../nn/optim.ts";
import { add, mul, scale, square, sub } from "../../ops/core/elementwise.ts";
import { infoNce } from "../../ops/losses/infonce.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat } from "../../ops/core/shape.ts";
import { Rng } from "../../random.ts";
import { keep, readAll, type Tensor, tensor, tidy } from "../../tensor.ts";
import type { ProgressInfo } from "../../train/fit.ts";

/** A feature table: `rows × dim`, row-major. */
export interface FeatureTable {
  /** Values. */
  data: Float32Array;
  /** Columns per row. */
  dim: number;
}

/** ICA encoder and training options. */
export interface IcaConfig {
  /** Hidden width of each modality MLP. Default 128. */
  hidden?: number;
  /** Width of the unified feature. Default 64. */
  dim?: number;
  /** InfoNCE temperature between the modalities. Default 0.1. */
  tau?: number;
  /** Fraction of each modality's entries masked per item. Default 0.3. */
  maskRatio?: number;
  /** Probability that a whole modality of an item is masked (never both). Default 0.2. */
  modalityDrop?: number;
  /** Weight λ of the masked reconstruction. Default 1. */
  reconWeight?: number;
  /** Training epochs over the items. Default 30. */
  epochs?: number;
  /** Items per batch. Default 256. */
  batchSize?: number;
  /** Adam learning rate. Default 1e-3. */
  lr?: number;
  /** Seed of initialisation and masks. Default 0. */
  seed?: number;
}

const ICA_DEFAULTS: Required<IcaConfig> = {
  hidden: 128,
  dim: 64,
  tau: 0.1,
  maskRatio: 0.3,
  modalityDrop: 0.2,
  reconWeight: 1,
  epochs: 30,
  batchSize: 256,
  lr: 1e-3,
  seed: 0,
};

/** Per-column mean and 1/std of a table (std floored), for standardisation. */
function columnStats(t: FeatureTable): { mean: Float32Array; inv: Float32Array } {
  const n = t.data.length / t.dim;
  const mean = new Float64Array(t.dim);
  const sq = new Float64Array(t.dim);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < t.dim; c++) {
      const v = t.data[r * t.dim + c];
      mean[c] += v;
      sq[c] += v * v;
    }
  }
  const inv = new Float32Array(t.dim);
  for (let c = 0; c < t.dim; c++) {
    mean[c] /= n;
    const std = Math.sqrt(Math.max(0, sq[c] / n - mean[c] * mean[c]));
    inv[c] = std > 1e-6 ? 1 / std : 0; // a constant column carries nothing
  }
  return { mean: Float32Array.from(mean), inv };
}

/** The stage-1 encoder: two modality MLPs, a fusion layer and two reconstruction heads. */
export class IcaEncoder extends Module {
  /** Resolved options. */
  readonly cfg: Required<IcaConfig>;
  /** Modality-A ("image") encoder. */
  readonly image: MLP;
  /** Modality-B ("text") encoder. */
  readonly text: MLP;
  /** Fusion `[z_v ‖ z_t] → u`. */
  readonly fuse: Linear;
  /** Reconstruction head of modality A. */
  readonly decImage: Linear;
  /** Reconstruction head of modality B. */
  readonly decText: Linear;
  readonly #stats: { image: ReturnType<typeof columnStats>; text: ReturnType<typeof columnStats> };

  /** An encoder for the given tables (their column statistics standardise every input). */
  constructor(image: FeatureTable, text: FeatureTable, cfg: IcaConfig = {}) {
    super();
    this.cfg = { ...ICA_DEFAULTS, ...cfg };
    const { hidden: h, dim: d, seed } = this.cfg;
    if (image.data.length / image.dim !== text.data.length / text.dim) {
      throw new Error(
        `wgrec IcaEncoder: ${image.data.length / image.dim} image rows but ` +
          `${text.data.length / text.dim} text rows`,
      );
    }
    this.image = this.child("image", new MLP([image.dim, h, d], "gelu", seed + 1));
    this.text = this.child("text", new MLP([text.dim, h, d], "gelu", seed + 101));
    this.fuse = this.child("fuse", new Linear(2 * d, d, { seed: seed + 201 }));
    this.decImage = this.child("dec_image", new Linear(d, image.dim, { seed: seed + 301 }));
    this.decText = this.child("dec_text", new Linear(d, text.dim, { seed: seed + 401 }));
    this.#stats = { image: columnStats(image), text: columnStats(text) };
  }

  /** Standardised rows `rows` of a table, with entries zeroed where `keep` is 0. */
  #input(
    which: "image" | "text",
    t: FeatureTable,
    rows: ArrayLike<number>,
    keep?: Float32Array,
  ): Tensor<"f32"> {
    const { mean, inv } = this.#stats[which];
    const out = new Float32Array(rows.length * t.dim);
    for (let r = 0; r < rows.length; r++) {
      const src = rows[r] * t.dim;
      for (let c = 0; c < t.dim; c++) {
        const k = keep ? keep[r * t.dim + c] : 1;
        out[r * t.dim + c] = k * (t.data[src + c] - mean[c]) * inv[c];
      }
    }
    return tensor(out, [rows.length, t.dim]);
  }

  /** Modality embeddings and the unified feature of standardised (masked) inputs. */
  encode(
    xv: Tensor<"f32">,
    xt: Tensor<"f32">,
  ): { zv: Tensor<"f32">; zt: Tensor<"f32">; u: Tensor<"f32"> } {
    const zv = this.image.forward(xv);
    const zt = this.text.forward(xt);
    return { zv, zt, u: this.fuse.forward(concat([zv, zt], 1)) };
  }

  /**
   * The ICA loss of a batch of items: symmetric InfoNCE between the modality embeddings plus
   * λ × masked-entry reconstruction error of both modalities from the unified feature.
   */
  loss(
    image: FeatureTable,
    text: FeatureTable,
    rows: ArrayLike<number>,
    rng: Rng,
  ): { loss: Tensor<"f32">; parts: { nce: Tensor<"f32">; rec: Tensor<"f32"> } } {
    const c = this.cfg;
    const n = rows.length;
    const kv = new Float32Array(n * image.dim);
    const kt = new Float32Array(n * text.dim);
    for (let r = 0; r < n; r++) {
      const drop = rng.uniform();
      const dropV = drop < c.modalityDrop / 2;
      const dropT = !dropV && drop < c.modalityDrop;
      for (let j = 0; j < image.dim; j++) {
        kv[r * image.dim + j] = dropV || rng.uniform() < c.maskRatio ? 0 : 1;
      }
      for (let j = 0; j < text.dim; j++) {
        kt[r * text.dim + j] = dropT || rng.uniform() < c.maskRatio ? 0 : 1;
      }
    }
    const xv = this.#input("image", image, rows);
    const xt = this.#input("text", text, rows);
    const { zv, zt, u } = this.encode(mul(xv, tensor(kv, xv.shape)), mul(xt, tensor(kt, xt.shape)));
    const nce = infoNce(zv, zt, { temperature: c.tau, symmetric: true });
    const maskedMse = (pred: Tensor<"f32">, x: Tensor<"f32">, keepArr: Float32Array) => {
      const m = keepArr.map((k) => 1 - k);
      const count = m.reduce((a, b) => a + b, 0);
      return scale(sum(mul(square(sub(pred, x)), tensor(m, x.shape))), 1 / Math.max(1, count));
    };
    const rec = add(
      maskedMse(this.decImage.forward(u), xv, kv),
      maskedMse(this.decText.forward(u), xt, kt),
    );
    return { loss: add(nce, scale(rec, c.reconWeight)), parts: { nce, rec } };
  }

  /** Unified features of all items, optionally with one modality masked for flagged items. */
  async features(
    image: FeatureTable,
    text: FeatureTable,
    mask: { image?: Uint8Array; text?: Uint8Array } = {},
  ): Promise<FeatureTable> {
    const n = image.data.length / image.dim;
    const keepOf = (flags: Uint8Array | undefined, dim: number) => {
      if (!flags) return undefined;
      const k = new Float32Array(n * dim).fill(1);
      for (let i = 0; i < n; i++) if (flags[i]) k.fill(0, i * dim, (i + 1) * dim);
      return k;
    };
    const rows = Int32Array.from({ length: n }, (_, i) => i);
    const u = noGrad(() =>
      tidy(() => {
        const xv = this.#input("image", image, rows, keepOf(mask.image, image.dim));
        const xt = this.#input("text", text, rows, keepOf(mask.text, text.dim));
        return this.encode(xv, xt).u;
      })
    );
    const [data] = await readAll([u]);
    u.dispose();
    return { data, dim: this.cfg.dim };
  }
}

/** What {@link trainIca} returns. */
export interface IcaResult {
  /** The trained encoder. */
  encoder: IcaEncoder;
  /** Unified features of every item (unmasked inputs). */
  features: FeatureTable;
  /** Mean loss per epoch, with its parts. */
  history: { loss: number; nce: number; rec: number }[];
  /** Seconds spent. */
  seconds: number;
}

/** Trains the ICA encoder on every item's two modalities and exports unified features. */
export async function trainIca(
  image: FeatureTable,
  text: FeatureTable,
  cfg: IcaConfig = {},
  progress?: (p: ProgressInfo) => void,
): Promise<IcaResult> {
  const t0 = performance.now();
  const enc = new IcaEncoder(image, text, cfg);
  const c = enc.cfg;
  const n = image.data.length / image.dim;
  const opt = new Adam(enc.parameters(), { lr: c.lr });
  const rng = new Rng(c.seed + 7);
  const steps = Math.ceil(n / c.batchSize);
  const history: IcaResult["history"] = [];
  let samples = 0;
  for (let epoch = 0; epoch < c.epochs; epoch++) {
    const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
    const kept: Tensor<"f32">[] = [];
    for (let s = 0; s < steps; s++) {
      const rows = order.subarray(s * c.batchSize, Math.min(n, (s + 1) * c.batchSize));
      if (rows.length < 2) continue; // InfoNCE needs negatives
      const out = tidy(() => {
        const { loss, parts } = enc.loss(image, text, rows, rng);
        backward(loss);
        opt.step();
        opt.zeroGrad();
        return [loss, parts.nce, parts.rec];
      });
      for (const t of out) kept.push(keep(t));
      samples += rows.length;
    }
    const vals = await readAll(kept);
    for (const t of kept) t.dispose();
    const m = (k: number) => {
      let s = 0;
      for (let j = k; j < vals.length; j += 3) s += vals[j][0];
      return s / Math.max(1, vals.length / 3);
    };
    const log = { loss: m(0), nce: m(1), rec: m(2) };
    if (!Number.isFinite(log.loss)) {
      throw new Error(`wgrec trainIca: loss is ${log.loss} at epoch ${epoch}`);
    }
    history.push(log);
    const elapsed = (performance.now() - t0) / 1000;
    progress?.({
      model: "ICA",
      epoch,
      epochs: c.epochs,
      step: steps,
      steps,
      loss: log.loss,
      samplesPerSec: samples / elapsed,
      etaSec: (elapsed / (epoch + 1)) * (c.epochs - epoch - 1),
      lr: opt.lr,
      done: true,
    });
  }
  opt.dispose();
  const features = await enc.features(image, text);
  return { encoder: enc, features, history, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Features from `.npy` bytes (a 2-D float array `[items, dim]`, e.g. the official
 * `image_feat.npy` holding BEiT-3 unified features); float64 is converted to float32.
 */
export function featuresFromNpy(bytes: Uint8Array, source = "<npy>"): FeatureTable {
  const a = readNpy(bytes, { source, float64ToFloat32: true });
  if (a.shape.length !== 2 || a.dtype !== "f4") {
    throw new Error(
      `wgrec featuresFromNpy: ${source} is ${a.dtype} ${JSON.stringify(a.shape)}, expected a ` +
        `2-D float array [items, dim]`,
    );
  }
  return { data: a.data as Float32Array, dim: a.shape[1] };
}

/** Concatenates two tables row by row (`[x_a ‖ x_b]`), e.g. raw image and text features. */
export function concatFeatures(a: FeatureTable, b: FeatureTable): FeatureTable {
  const n = a.data.length / a.dim;
  if (b.data.length / b.dim !== n) {
    throw new Error(`wgrec concatFeatures: ${n} rows vs ${b.data.length / b.dim} rows`);
  }
  const dim = a.dim + b.dim;
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    data.set(a.data.subarray(i * a.dim, (i + 1) * a.dim), i * dim);
    data.set(b.data.subarray(i * b.dim, (i + 1) * b.dim), i * dim + a.dim);
  }
  return { data, dim };
}
