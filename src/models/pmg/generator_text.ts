/**
 * The conditional text generator: a small causal Transformer decoder (pre-LN, word tokens)
 * whose every layer attends first to the user's soft preference prefix key/values. Its
 * sequence is the prompt, then the item's description:
 *
 *   [kw × w (S slots)] [BOS] [title words (T slots)] [SEP] [decade genre… EOS (D slots)]
 *
 * where the first S slots hold the explicit preference keywords repeated w ∈ {0, 1, 2} times
 * (the official `style_weight` repetition in the SD prompt), padded with [PAD]. Training is
 * next-token cross-entropy on the title and description (a language model over item titles
 * and descriptions); generation samples the D description slots given the prompt and title.
 *
 *   x⁰ = E(tokens) + P                     P: learned positions
 *   xˡ = Layerₗ(xˡ⁻¹ | causal, SoftPrefixₗ(s))
 *   logits = head(LN(x^L))
 * @module
 */

import { TransformerEncoderLayer } from "../../nn/attention.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { add } from "../../ops/core/elementwise.ts";
import { reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { randNormal, type Tensor, tensor } from "../../tensor.ts";
import { SoftPrefix } from "./preference.ts";

/** Widths of a generator. */
export interface GeneratorConfig {
  /** Model width d. */
  dim: number;
  /** Attention heads. */
  heads: number;
  /** Transformer layers. */
  layers: number;
  /** Feed-forward width. */
  ffn: number;
  /** Conditioning (soft embedding) width c. */
  condDim: number;
}

/** The causal text generator over a shared word table. */
export class TextGenerator extends Module {
  /** Learned positions [L, d] (`position_embeddings`). */
  readonly positions: Tensor<"f32">;
  /** Decoder layers (`layers.<i>.*`). */
  readonly layers: TransformerEncoderLayer[];
  /** Per-layer soft prefix projections (`prefix_proj.<i>.*`). */
  readonly prefixProj: SoftPrefix[];
  /** Final norm (`norm.*`). */
  readonly norm: LayerNorm;
  /** d → vocabulary logits (`lm_head.*`). */
  readonly head: Linear;

  /** A decoder over sequences of `length` tokens and `vocab` words. */
  constructor(
    readonly cfg: GeneratorConfig,
    readonly length: number,
    readonly vocab: number,
    seed = 0,
  ) {
    super();
    const { dim, heads } = cfg;
    this.positions = this.param("position_embeddings", randNormal([length, dim], seed, 0.02));
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
    this.head = this.child("lm_head", new Linear(dim, vocab, { seed: seed + 3 }));
  }

  /**
   * Logits [B, L, V] of token ids [B, L] (a host array or i32 tensor) through `words` [V, d];
   * `soft` [B, 4, c] is the preference prefix, null for unpersonalised generation; logits
   * only for positions `from` … `from + count − 1` when given ([B, count, V]).
   */
  forward(
    ids: Int32Array | Tensor<"i32">,
    words: Tensor<"f32">,
    soft: Tensor<"f32"> | null,
    from: number = 0,
    count?: number,
  ): Tensor<"f32"> {
    const L = this.length, d = this.cfg.dim;
    const n = count ?? L - from;
    const idx = ids instanceof Int32Array ? tensor(ids, [ids.length], "i32") : ids;
    if (idx.size % L !== 0) {
      throw new Error(`wgrec pmg TextGenerator: ${idx.size} token ids, expected B × ${L}`);
    }
    const B = idx.size / L;
    let x = add(reshape(gather(words, reshape(idx, [B * L])), [B, L, d]), this.positions);
    this.layers.forEach((l, i) => {
      const kv = soft ? this.prefixProj[i].forward(soft) : {};
      x = l.forward(x, { causal: true, ...kv });
    });
    if (from !== 0 || n !== L) x = slice(x, [0, from, 0], [B, n, d]);
    return this.head.forward(this.norm.forward(x));
  }
}
