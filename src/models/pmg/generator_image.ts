/**
 * The conditional image decoder (the small stand-in for PMG's Stable Diffusion): a
 * bidirectional Transformer over the prompt and 4×4 learned latent queries, every layer
 * attending first to the soft preference prefix key/values, then transposed convolutions
 * from the 4×4 latent grid to the S×S RGB poster:
 *
 *   x⁰ = [E(kw × w (S slots)) ; E(target keywords) ; Q] + P        Q: latent queries [16, d]
 *   xˡ = Layerₗ(xˡ⁻¹ | SoftPrefixₗ(s))
 *   z  = to_grid(LN(x^L[latents])) → [B, 4, 4, C]                   (NHWC)
 *   y  = σ(ConvT(… ReLU(ConvT(z)) …))  → [B, S, S, 3]              (k 4, stride 2, pad 1)
 *
 * Trained by mean squared error to the item's procedural poster.
 * @module
 */

import { TransformerEncoderLayer } from "../../nn/attention.ts";
import { ConvTranspose2d } from "../../nn/conv.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { add, relu, sigmoid } from "../../ops/core/elementwise.ts";
import { broadcastTo, concat, reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { randNormal, type Tensor, tensor } from "../../tensor.ts";
import type { GeneratorConfig } from "./generator_text.ts";
import { SoftPrefix } from "./preference.ts";

/** Side of the latent grid. */
const G = 4;

/** The conditional poster decoder. */
export class ImageDecoder extends Module {
  /** Learned positions of the prompt slots [Lp, d] (`position_embeddings`). */
  readonly positions: Tensor<"f32">;
  /** Latent queries [16, d] (`latent_queries`). */
  readonly latents: Tensor<"f32">;
  /** Transformer layers (`layers.<i>.*`). */
  readonly layers: TransformerEncoderLayer[];
  /** Per-layer soft prefix projections (`prefix_proj.<i>.*`). */
  readonly prefixProj: SoftPrefix[];
  /** Final norm (`norm.*`). */
  readonly norm: LayerNorm;
  /** d → C channels of the latent grid (`to_grid.*`). */
  readonly toGrid: Linear;
  /** Upsampling (`up.<i>.*`): C → … → 3 channels, 4 → S pixels. */
  readonly up: ConvTranspose2d[];

  /** A decoder of `promptLength` prompt slots to S×S posters (S = 4·2^k), C grid channels. */
  constructor(
    readonly cfg: GeneratorConfig,
    readonly promptLength: number,
    readonly size: number,
    readonly channels: number,
    seed = 0,
  ) {
    super();
    const steps = Math.log2(size / G);
    if (!Number.isInteger(steps) || steps < 1) {
      throw new Error(`wgrec pmg ImageDecoder: poster size ${size}, expected 8, 16, 32 or 64`);
    }
    const { dim, heads } = cfg;
    this.positions = this.param("position_embeddings", randNormal([promptLength, dim], seed, 0.02));
    this.latents = this.param("latent_queries", randNormal([G * G, dim], seed + 1, 0.02));
    this.layers = Array.from({ length: cfg.layers }, (_, i) =>
      this.child(
        `layers.${i}`,
        new TransformerEncoderLayer(dim, heads, {
          dimFeedforward: cfg.ffn,
          dropout: 0,
          normFirst: true,
          seed: seed + 10 + 31 * i,
        }),
      ));
    this.prefixProj = Array.from(
      { length: cfg.layers },
      (_, i) =>
        this.child(
          `prefix_proj.${i}`,
          new SoftPrefix(cfg.condDim, heads, dim / heads, seed + 5 + i),
        ),
    );
    this.norm = this.child("norm", new LayerNorm(dim));
    this.toGrid = this.child("to_grid", new Linear(dim, channels, { seed: seed + 3 }));
    this.up = Array.from({ length: steps }, (_, i) => {
      const cin = Math.max(8, channels >> i);
      const cout = i === steps - 1 ? 3 : Math.max(8, channels >> (i + 1));
      return this.child(
        `up.${i}`,
        new ConvTranspose2d(cin, cout, 4, {
          stride: 2,
          padding: 1,
          layout: "NHWC",
          seed: seed + 50 + i,
        }),
      );
    });
  }

  /**
   * Posters [B, S, S, 3] in (0, 1) from prompt ids [B, Lp] through `words` [V, d]; `soft`
   * [B, 4, c] is the preference prefix, null for unpersonalised generation.
   */
  forward(
    ids: Int32Array | Tensor<"i32">,
    words: Tensor<"f32">,
    soft: Tensor<"f32"> | null,
  ): Tensor<"f32"> {
    const Lp = this.promptLength, d = this.cfg.dim, Q = G * G;
    const idx = ids instanceof Int32Array ? tensor(ids, [ids.length], "i32") : ids;
    if (idx.size % Lp !== 0) {
      throw new Error(`wgrec pmg ImageDecoder: ${idx.size} prompt ids, expected B × ${Lp}`);
    }
    const B = idx.size / Lp;
    const prompt = add(reshape(gather(words, reshape(idx, [B * Lp])), [B, Lp, d]), this.positions);
    const q = broadcastTo(reshape(this.latents, [1, Q, d]), [B, Q, d]);
    let x = concat([prompt, q], 1);
    this.layers.forEach((l, i) => {
      const kv = soft ? this.prefixProj[i].forward(soft) : {};
      x = l.forward(x, kv);
    });
    const z = this.toGrid.forward(this.norm.forward(slice(x, [0, Lp, 0], [B, Q, d])));
    let y = reshape(z, [B, G, G, this.channels]);
    this.up.forEach((c, i) => {
      y = c.forward(y);
      if (i < this.up.length - 1) y = relu(y);
    });
    return sigmoid(y);
  }
}
