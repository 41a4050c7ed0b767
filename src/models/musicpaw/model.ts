/**
 * Music-PAW / MART (arXiv 2312.06197): self-supervised music representations from part-whole
 * hierarchies. The spec (../shared/specs/music-paw.md, "spec §…") only has the abstract; §2.2
 * is a generic reading, and every choice below that the spec marks UNKNOWN is ours.
 *
 * Input: the log-mel frames of a clip X ∈ R^{T×F} (the GPU front end, `ops.AudioFrontEnd`).
 * Level ℓ = 0..H−1 cuts the clip into 2^ℓ contiguous parts X^ℓ_k (spec §2.2 (1)); part k of
 * level ℓ is the whole of parts 2k and 2k+1 of level ℓ+1.
 *
 * ```
 * h^ℓ_k = f(X^ℓ_k)                                   shared backbone (spec §2.2 (2))
 *   f(X) = W_fc · mean_t relu(conv2(relu(conv1(X)))) + b_fc    convs over time, mels as channels
 * P^ℓ_k = [h^{ℓ+1}_{2k}; h^{ℓ+1}_{2k+1}]             the whole's child parts
 * u^ℓ_k = mean(P^ℓ_k) + MHA_ℓ(q = h^ℓ_k, K = V = P^ℓ_k)   part-whole cross-attention (§2.2 (3))
 * a^ℓ_k = u^ℓ_k + W2 relu(W1 LN(u^ℓ_k) + b1) + b2         its feed-forward (pre-LN)
 * z = g(·) = W_p2 relu(W_p1 · + b_p1) + b_p2          projection head
 * L_ℓ = ½ [CE(ẑ(h^ℓ) ẑ(a^ℓ)ᵀ/τ, I) + CE(ẑ(a^ℓ) ẑ(h^ℓ)ᵀ/τ, I)]   ẑ = z/‖z‖, rows = every
 *       whole of level ℓ in the batch (the others are the negatives, spec §2.2 (4))
 * L = Σ_{ℓ=0}^{H−2} w_ℓ L_ℓ                          hierarchical InfoNCE
 * ```
 * The whole never attends to itself: a^ℓ is built from the parts only (the query picks how to
 * mix them), so matching h^ℓ to a^ℓ asks the backbone to predict a whole from its parts.
 *
 * Baseline ("clip" objective, no hierarchy): the same f and g, two augmented crops V1, V2 of
 * each clip, `L = ½[CE(ẑ1 ẑ2ᵀ/τ, I) + CE(ẑ2 ẑ1ᵀ/τ, I)]`. The probe feature is h^0 = f(X) of the
 * whole clip (spec §2.2 (5)). Parameter names: the spec gives none; ours follow PyTorch's
 * modules (`encoder.conv1.weight`, `interaction.0.multihead_attn.in_proj_weight`, …).
 * @module
 */

import { infoNce } from "../../ops/losses/infonce.ts";
import { mean } from "../../ops/core/reduce.ts";
import { add, relu, scale } from "../../ops/core/elementwise.ts";
import { reshape } from "../../ops/core/shape.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { Module } from "../../nn/module.ts";
import { Linear, MLP } from "../../nn/linear.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { Conv2d } from "../../nn/conv.ts";
import { MultiHeadAttention } from "../../nn/attention.ts";
import { type MusicPawConfig, type ResolvedMusicPaw, resolveMusicPaw } from "./config.ts";

/** Fewest frames a crop may have (the backbone's strided conv needs one output frame). */
export const MIN_CROP_FRAMES = 2;

/**
 * The shared backbone f: two time convolutions (kernel 3, mel bands as input channels, the
 * second with stride 2), ReLU, mean over time, a linear map to D. Input [N, t, F] → [N, D].
 */
export class MusicEncoder extends Module {
  /** F → C, kernel 3 over time. */
  readonly conv1: Conv2d;
  /** C → C, kernel 3, stride 2. */
  readonly conv2: Conv2d;
  /** C → D. */
  readonly fc: Linear;

  /** f for F mel bands, C channels, width D. */
  constructor(readonly nMels: number, channels: number, dim: number, seed = 0) {
    super();
    const o = { layout: "NHWC" as const, padding: [0, 1] as [number, number] };
    this.conv1 = this.child("conv1", new Conv2d(nMels, channels, [1, 3], { ...o, seed }));
    this.conv2 = this.child(
      "conv2",
      new Conv2d(channels, channels, [1, 3], { ...o, stride: [1, 2], seed: seed + 2 }),
    );
    this.fc = this.child("fc", new Linear(channels, dim, { seed: seed + 4 }));
  }

  /** Embeddings [N, D] of crops [N, t, F]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    const F = this.nMels;
    if (x.rank !== 3 || x.shape[2] !== F || x.shape[1] < MIN_CROP_FRAMES || x.shape[0] < 1) {
      throw new Error(
        `wgrec MusicEncoder: crops ${fmt(x.shape)}, expected [N ≥ 1, t ≥ ${MIN_CROP_FRAMES}, ${F}]`,
      );
    }
    const [n, t] = x.shape;
    // NHWC with H = 1: the frames [t, F] are the image row, the mel bands its channels.
    const h1 = relu(this.conv1.forward(reshape(x, [n, 1, t, F])));
    const h2 = relu(this.conv2.forward(h1));
    return this.fc.forward(mean(reshape(h2, [n, h2.shape[2], h2.shape[3]]), 1));
  }
}

/** One part-whole block (level ℓ ← ℓ+1): the whole queries its two child parts. */
export class PartWholeBlock extends Module {
  /** Cross-attention, query = whole, key = value = parts. */
  readonly attn: MultiHeadAttention;
  /** Pre-LN of the feed-forward. */
  readonly norm: LayerNorm;
  /** D → ffn. */
  readonly linear1: Linear;
  /** ffn → D. */
  readonly linear2: Linear;

  /** A block of width D, `heads` heads, feed-forward width `ffn`. */
  constructor(dim: number, heads: number, ffn: number, seed = 0) {
    super();
    this.attn = this.child("multihead_attn", new MultiHeadAttention(dim, heads, { seed }));
    this.norm = this.child("norm", new LayerNorm(dim));
    this.linear1 = this.child("linear1", new Linear(dim, ffn, { seed: seed + 5 }));
    this.linear2 = this.child("linear2", new Linear(ffn, dim, { seed: seed + 7 }));
  }

  /** a [M, D] from wholes [M, D] and their parts [M, 2, D]. */
  forward(whole: Tensor<"f32">, parts: Tensor<"f32">): Tensor<"f32"> {
    const [m, d] = whole.shape;
    const mixed = this.attn.forward(reshape(whole, [m, 1, d]), parts, parts);
    const u = add(mean(parts, 1), reshape(mixed, [m, d]));
    return add(u, this.linear2.forward(this.linear1.forward(this.norm.forward(u), "relu")));
  }
}

/** Loss terms of a step: the total and each named term (unweighted). */
export interface MusicLoss {
  /** The scalar to minimise. */
  loss: Tensor<"f32">;
  /** `level0`, `level1`, … (paw) or `clip` (baseline). */
  parts: Record<string, Tensor<"f32">>;
}

/** Music-PAW (objective "paw") or the no-hierarchy baseline ("clip"): f, g and the blocks. */
export class MusicPaw extends Module {
  /** Resolved settings. */
  readonly cfg: ResolvedMusicPaw;
  /** The shared backbone f. */
  readonly encoder: MusicEncoder;
  /** The projection head g. */
  readonly projector: MLP;
  /** One block per adjacent pair (ℓ, ℓ+1); empty for the baseline. */
  readonly interaction: PartWholeBlock[];

  /** Builds the modules (seeded by `cfg.seed`). */
  constructor(config: MusicPawConfig = {}) {
    super();
    const c = this.cfg = resolveMusicPaw(config);
    this.encoder = this.child("encoder", new MusicEncoder(c.nMels, c.channels, c.dim, c.seed));
    this.projector = this.child(
      "projector",
      new MLP([c.dim, c.dim, c.projDim], "relu", c.seed + 11),
    );
    this.interaction = c.objective === "paw"
      ? Array.from(
        { length: c.levels - 1 },
        (_, l) =>
          this.child(
            `interaction.${l}`,
            new PartWholeBlock(c.dim, c.heads, c.ffn, c.seed + 31 * (l + 1)),
          ),
      )
      : [];
  }

  /** Probe features h^0 = f(X), [N, D], of whole clips [N, T, F]. */
  embed(x: Tensor<"f32">): Tensor<"f32"> {
    return this.encoder.forward(x);
  }

  #nce(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
    const g = (x: Tensor<"f32">) => this.projector.forward(x);
    return infoNce(g(a), g(b), { temperature: this.cfg.tau, symmetric: true });
  }

  /**
   * Hierarchical InfoNCE of crops `levels[ℓ]` [N·2^ℓ, T/2^ℓ, F] (rows clip-major: row
   * n·2^ℓ + k is part k of clip n), ℓ = 0..H−1.
   */
  hierarchicalLoss(levels: readonly Tensor<"f32">[]): MusicLoss {
    const c = this.cfg;
    if (c.objective !== "paw") {
      throw new Error("wgrec MusicPaw: hierarchicalLoss needs objective 'paw'");
    }
    if (levels.length !== c.levels) {
      throw new Error(`wgrec MusicPaw: ${levels.length} levels of crops, expected ${c.levels}`);
    }
    const n = levels[0].shape[0];
    levels.forEach((x, l) => {
      if (x.rank !== 3 || x.shape[0] !== n * 2 ** l) {
        throw new Error(
          `wgrec MusicPaw: level ${l} crops ${fmt(x.shape)}, expected [${n * 2 ** l}, t, F] ` +
            `(2^${l} parts of each of the ${n} clips)`,
        );
      }
    });
    const h = levels.map((x) => this.encoder.forward(x));
    const parts: Record<string, Tensor<"f32">> = {};
    let loss: Tensor<"f32"> | null = null;
    for (let l = 0; l + 1 < c.levels; l++) {
      const m = n * 2 ** l;
      const a = this.interaction[l].forward(h[l], reshape(h[l + 1], [m, 2, c.dim]));
      const term = this.#nce(h[l], a);
      parts[`level${l}`] = term;
      const weighted = c.levelWeights[l] === 1 ? term : scale(term, c.levelWeights[l]);
      loss = loss ? add(loss, weighted) : weighted;
    }
    return { loss: loss!, parts };
  }

  /** The baseline's two-view clip InfoNCE of views [N, t, F] each. */
  clipLoss(v1: Tensor<"f32">, v2: Tensor<"f32">): MusicLoss {
    if (v1.shape[0] !== v2.shape[0]) {
      throw new Error(`wgrec MusicPaw: views ${fmt(v1.shape)} and ${fmt(v2.shape)} differ in N`);
    }
    const clip = this.#nce(this.encoder.forward(v1), this.encoder.forward(v2));
    return { loss: clip, parts: { clip } };
  }
}
