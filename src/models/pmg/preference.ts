/**
 * The soft channel of PMG (spec §5.1 item 3, small substitute of §5.2 item 2): a small
 * Transformer over the user's preference keywords and history items, with P-Tuning-v2 prefix
 * key/values in every layer (`nn.PrefixTuning`, the official `PrefixEncoder`'s role,
 * `num_prefix_prompt = 4`) and 4 learnable "multimodal tokens" (`num_image_prompt = 4`, randn
 * init). Their last hidden states go through `mapping` (the official Linear(4096→768)) to the
 * soft preference embeddings [B, 4, c] that the generators take as prefix key/values.
 *
 *   h⁰ = [M; E(kw₁..kw_K); item(h₁)..item(h_H)]          M: multimodal tokens [4, d]
 *   hˡ = Layerₗ(hˡ⁻¹ | prefix_key[l], prefix_value[l])   prefix keys always visible
 *   s  = mapping(h^L[:, 0:4])                            [B, 4, c]
 *
 * (The official LLM reads a text prompt; ours reads keyword and item embeddings. The
 * multimodal tokens come first here so padding is at the end, where `keyLengths` masks it.)
 * @module
 */

import { PrefixTuning } from "../../nn/adapt.ts";
import { TransformerEncoderLayer } from "../../nn/attention.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { broadcastTo, concat, reshape, slice } from "../../ops/core/shape.ts";
import { randNormal, type Tensor } from "../../tensor.ts";

/** Widths of the preference encoder. */
export interface PreferenceEncoderConfig {
  /** Model width d. */
  dim: number;
  /** Attention heads. */
  heads: number;
  /** Transformer layers. */
  layers: number;
  /** Soft embedding width c (the generators' conditioning width). */
  condDim: number;
  /** Prefix key/value tokens per layer (official 4). */
  numPrefix: number;
  /** Multimodal tokens (official 4). */
  numTokens: number;
  /** Feed-forward width. */
  ffn: number;
}

/** The soft preference encoder. */
export class PreferenceEncoder extends Module {
  /** Learnable multimodal tokens [T, d] (`multimodal_tokens`). */
  readonly tokens: Tensor<"f32">;
  /** Per-layer prefix key/values (`prefix_encoder.*`). */
  readonly prefix: PrefixTuning;
  /** Transformer layers (`layers.<i>.*`, pre-LN). */
  readonly layers: TransformerEncoderLayer[];
  /** d → c (`mapping.*`). */
  readonly mapping: Linear;

  /** An encoder of `cfg`, initialised from `seed`. */
  constructor(readonly cfg: PreferenceEncoderConfig, seed = 0) {
    super();
    const { dim, heads, layers, numPrefix, numTokens } = cfg;
    this.tokens = this.param("multimodal_tokens", randNormal([numTokens, dim], seed));
    this.prefix = this.child(
      "prefix_encoder",
      new PrefixTuning(layers, numPrefix, heads, dim / heads, seed + 1),
    );
    this.layers = Array.from({ length: layers }, (_, i) =>
      this.child(
        `layers.${i}`,
        new TransformerEncoderLayer(dim, heads, {
          dimFeedforward: cfg.ffn,
          dropout: 0,
          normFirst: true,
          seed: seed + 10 + 31 * i,
        }),
      ));
    this.mapping = this.child("mapping", new Linear(dim, cfg.condDim, { seed: seed + 7 }));
  }

  /**
   * Soft embeddings [B, T, c] from the keyword embeddings [B, K, d] and history item vectors
   * [B, H, d]; `lengths[b]` = K + the number of real history items of row b.
   */
  forward(
    keywords: Tensor<"f32">,
    items: Tensor<"f32">,
    lengths: readonly number[],
  ): Tensor<"f32"> {
    const [B, , d] = keywords.shape;
    const T = this.cfg.numTokens;
    if (items.rank !== 3 || items.shape[0] !== B || items.shape[2] !== d) {
      throw new Error(
        `wgrec pmg PreferenceEncoder: keywords [${keywords.shape}] and items [${items.shape}], ` +
          `expected [B, K, ${this.cfg.dim}] and [B, H, ${this.cfg.dim}]`,
      );
    }
    const m = broadcastTo(reshape(this.tokens, [1, T, d]), [B, T, d]);
    let h = concat([m, keywords, items], 1);
    const keyLengths = lengths.map((n) => T + n);
    this.layers.forEach((l, i) => (h = l.forward(h, { keyLengths, ...this.prefix.kv(i) })));
    return this.mapping.forward(slice(h, [0, 0, 0], [B, T, d]));
  }
}

/**
 * Prefix key/values of one generator layer from the soft embeddings: s [B, T, c] →
 * Linear(c → 2d) → keys and values [B, T, H, Dh] each (P-Tuning-v2 style injection: the
 * layer's queries attend to them before the sequence's own keys).
 */
export class SoftPrefix extends Module {
  /** c → 2d (`proj.*`). */
  readonly proj: Linear;

  /** For a layer of `heads` × `headDim` from conditioning width `condDim`. */
  constructor(condDim: number, readonly heads: number, readonly headDim: number, seed = 0) {
    super();
    this.proj = this.child("proj", new Linear(condDim, 2 * heads * headDim, { seed }));
  }

  /** The layer's `{ prefixKey, prefixValue }`, [B, T, H, Dh] each. */
  forward(soft: Tensor<"f32">): { prefixKey: Tensor<"f32">; prefixValue: Tensor<"f32"> } {
    const [B, T] = soft.shape;
    const H = this.heads, Dh = this.headDim;
    const kv = reshape(this.proj.forward(soft), [B, T, 2, H, Dh]);
    const part = (i: number) =>
      reshape(slice(kv, [0, 0, i, 0, 0], [B, T, 1, H, Dh]), [B, T, H, Dh]);
    return { prefixKey: part(0), prefixValue: part(1) };
  }
}
