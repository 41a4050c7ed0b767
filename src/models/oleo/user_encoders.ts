/**
 * The stage-2 user encoders of GreenRec (spec §4.2, Legommenders operators), each mapping the
 * vectors of a user's clicked news, h [B, Lh, d] (padding past each length), to one user
 * vector [B, d]:
 * ```
 * NAML   u = AdditiveAttention(h)                                   (Wu et al., IJCAI'19)
 * NRMS   u = AdditiveAttention(MultiHeadSelfAttention(h))           (Wu et al., EMNLP'19)
 * LSTUR  u = GRU(h; h₀ = e_user)   (LSTUR-ini: long-term embedding starts the short-term GRU;
 *                                   An et al., ACL'19)
 * BST    u = mean_valid(Transformer³(h + P))   (3 layers, 4 heads; Chen et al., DLP-KDD'19)
 * ```
 * @module
 */

import { add, div, mul } from "../../ops/core/elementwise.ts";
import { sum } from "../../ops/core/reduce.ts";
import { reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { randNormal, type Tensor } from "../../tensor.ts";
import { Module } from "../../nn/module.ts";
import {
  AdditiveAttentionPooling,
  MultiHeadAttention,
  TransformerEncoderLayer,
} from "../../nn/attention.ts";
import { GRU } from "../../nn/rnn.ts";
import { Embedding } from "../../nn/embedding.ts";
import { Rng } from "../../random.ts";
import { LayerStack } from "./text_encoder.ts";

/** A batch of histories. */
export interface HistoryBatch {
  /** Clicked-news vectors [B, Lh, d]. */
  h: Tensor<"f32">;
  /** Valid entries per row [B] (≥ 1). */
  lengths: Tensor<"i32">;
  /** 1 on valid entries, [B, Lh]. */
  mask: Tensor<"f32">;
  /** User index per row [B]. */
  users: Tensor<"i32">;
}

/** A user encoder. */
export interface UserEncoder extends Module {
  /** User vectors [B, d]. */
  forward(b: HistoryBatch): Tensor<"f32">;
}

/** The user-encoder kinds. */
export type UserEncoderKind = "naml" | "nrms" | "lstur" | "bst";

/** NAML: additive attention over the clicked news. */
export class NamlUser extends Module implements UserEncoder {
  /** The pooling (`attention.*`). */
  readonly attention: AdditiveAttentionPooling;
  /** Over width d with a `hidden`-wide attention query. */
  constructor(d: number, hidden: number, seed: number) {
    super();
    this.attention = this.child("attention", new AdditiveAttentionPooling(d, hidden, seed));
  }
  /** u = Σ α_i h_i. */
  forward(b: HistoryBatch): Tensor<"f32"> {
    return this.attention.forward(b.h, b.lengths);
  }
}

/** NRMS: multi-head self-attention over the clicked news, then additive attention. */
export class NrmsUser extends Module implements UserEncoder {
  /** Self-attention (`self_attn.*`, PyTorch's MultiheadAttention names). */
  readonly selfAttn: MultiHeadAttention;
  /** The pooling (`attention.*`). */
  readonly attention: AdditiveAttentionPooling;
  /** Over width d with `heads` heads and a `hidden`-wide attention query. */
  constructor(d: number, heads: number, hidden: number, seed: number) {
    super();
    this.selfAttn = this.child("self_attn", new MultiHeadAttention(d, heads, { seed }));
    this.attention = this.child("attention", new AdditiveAttentionPooling(d, hidden, seed + 5));
  }
  /** u = AdditiveAttention(MHSA(h)), padding masked as keys in both. */
  forward(b: HistoryBatch): Tensor<"f32"> {
    const o = this.selfAttn.forward(b.h, b.h, b.h, { keyLengths: b.lengths });
    return this.attention.forward(o, b.lengths);
  }
}

/** LSTUR-ini: a user-ID (long-term) embedding is the GRU's initial state over the clicks. */
export class LsturUser extends Module implements UserEncoder {
  /** Long-term user embeddings (`user_embedding.weight`). */
  readonly userEmbedding: Embedding;
  /** The short-term GRU (`gru.*`, PyTorch's names). */
  readonly gru: GRU;
  /** For `numUsers` users and width d. */
  constructor(numUsers: number, d: number, seed: number) {
    super();
    const r = new Rng(seed);
    const init = Float32Array.from({ length: numUsers * d }, () => 0.1 * r.normal());
    this.userEmbedding = this.child("user_embedding", new Embedding(numUsers, d, init));
    this.gru = this.child("gru", new GRU(d, d, seed + 3));
  }
  /** u = h_last of GRU(h) from h₀ = e_user. */
  forward(b: HistoryBatch): Tensor<"f32"> {
    return this.gru.forward(b.h, this.userEmbedding.forward(b.users), b.lengths).hidden;
  }
}

/** BST: learned positions, a Transformer stack, masked mean over the valid positions. */
export class BstUser extends Module implements UserEncoder {
  /** Position table [Lh, d] (`position`). */
  readonly position: Tensor<"f32">;
  /** The layers (`layers.i.*`). */
  readonly layers: TransformerEncoderLayer[];
  /** Width d, `maxHistory` positions, `nLayers` layers of `heads` heads. */
  constructor(
    d: number,
    maxHistory: number,
    nLayers: number,
    heads: number,
    dropout: number,
    seed: number,
  ) {
    super();
    this.position = this.param("position", randNormal([maxHistory, d], seed, 0.02));
    const stack = this.child("layers", new LayerStack());
    this.layers = Array.from({ length: nLayers }, (_, i) =>
      stack.add(
        new TransformerEncoderLayer(d, heads, {
          dimFeedforward: 4 * d,
          dropout,
          activation: "gelu",
          seed: seed + 50 * (i + 1),
        }),
      ));
  }
  /** u = Σ_valid T(h + P)_i / length. */
  forward(b: HistoryBatch): Tensor<"f32"> {
    const [B, L, d] = b.h.shape;
    let x = add(b.h, slice(this.position, [0, 0], [L, d]));
    for (const l of this.layers) x = l.forward(x, { keyLengths: b.lengths });
    const m = reshape(b.mask, [B, L, 1]);
    return div(sum(mul(x, m), 1), sum(m, 1));
  }
}

/** Gathers rows of a per-user table (history ids, masks) for a batch of users. */
export function userRows<T extends "f32" | "i32">(
  table: Tensor<T>,
  users: Tensor<"i32">,
): Tensor<T> {
  return gather(table, users);
}
