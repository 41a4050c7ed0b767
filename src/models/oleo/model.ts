/**
 * GreenRec / OLEO news recommenders (../shared/specs/oleo-greenrec.md, "spec §…"): one model,
 * three paradigms, four user encoders, dot-product scoring, trained by the runner's impression
 * task (1 click vs K = 4 skipped news, softmax cross-entropy; spec §4.2 "Loss").
 *
 * Item vectors (spec §4.2 stage 2, `TransformEmbedding`):
 * ```
 * oleo   v_i = Dropout(W V[i])   V frozen: one vector per news from stage 1 (encode once) or any .npy
 * e2e    v_i = Dropout(W Enc(text_i)[CLS])         the encoder trains with the recommender
 * cache  v_i = Dropout(W Enc_{k..N}(H_k[i])[CLS])  H_k: cached states of the frozen lower k layers
 * ```
 * (W: a d'→d Linear when the widths differ, else identity). Users (user_encoders.ts):
 * `u = UserEncoder(v_{h_1} … v_{h_Lh})` over the last Lh clicked news (a user without
 * history sees one all-zero "padding news"); score `s(u, i) = u · v_i` (`scorer: dot`) or a CTR
 * predictor over u, v_i (and, for DIN, the history): `scorer: dcn | deepfm | din`, scorer.ts.
 *
 * The end-to-end paradigms encode the whole catalogue once per training step (and once per
 * evaluation, as Legommenders' ItemCacher), so their cost grows with the catalogue; `oleo`
 * only gathers rows of a frozen table.
 * @module
 */

import { concat, reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { noGrad } from "../../autograd/tape.ts";
import { keep, type Tensor, tensor, tidy, zeros } from "../../tensor.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import type { ImpressionModel } from "../../train/impression.ts";
import { dropout } from "../../nn/dropout.ts";
import { rowTensors, type TextEncoder } from "./text_encoder.ts";
import type { TokenRows } from "./tokenizer.ts";
import {
  BstUser,
  type HistoryBatch,
  LsturUser,
  NamlUser,
  NrmsUser,
  type UserEncoder,
  type UserEncoderKind,
} from "./user_encoders.ts";
import { NewsScorer, type ScorerKind } from "./scorer.ts";

/** Pairs whose users are encoded in one pass (see {@link NewsRecommender.score}). */
export const USER_CHUNK = 2048;

/** Training paradigms (spec §4.2): encode once, end to end, or end to end with layer caching. */
export type Paradigm = "oleo" | "e2e" | "cache";

/** Stage-2 hyper-parameters; the defaults follow the GreenRec configs (spec §4.2). */
export interface NewsRecConfig {
  /** User encoder. */
  userEncoder: UserEncoderKind;
  /** Paradigm. Default "oleo". */
  paradigm?: Paradigm;
  /** Width d of item and user vectors (`hidden_size`). Default 64. */
  dim?: number;
  /** NRMS self-attention heads. Default 4. */
  heads?: number;
  /** Width of the additive-attention query (NAML, NRMS). Default 64. */
  attentionHidden?: number;
  /** BST layers and heads (spec: 3 and 4). Defaults 3, 4. */
  bstLayers?: number;
  /** See {@link bstLayers}. */
  bstHeads?: number;
  /** Clicked news kept per user (the most recent). Default 30. */
  maxHistory?: number;
  /** Dropout of item vectors and BST layers in training mode. Default 0.1. */
  dropout?: number;
  /** Layer caching: layers below this stay frozen and cached. Default 2 (of 3). */
  tuneFrom?: number;
  /** Scoring: the dot product or a CTR predictor (scorer.ts). Default "dot". */
  scorer?: ScorerKind;
  /** Predictor DNN hidden widths. Default [1000, 1000, 1000] (spec §4.2, DCN). */
  scorerHidden?: number[];
  /** Predictor DNN dropout in training mode. Default 0.1 (spec §4.2, DCN). */
  scorerDropout?: number;
  /** DIN's activation-unit hidden widths. Default [80, 40] (DIN's). */
  scorerAttention?: number[];
  /** Seed. Default 0. */
  seed?: number;
}

/** The default config values. */
export const NEWSREC_DEFAULTS: Required<Omit<NewsRecConfig, "userEncoder">> = {
  paradigm: "oleo",
  dim: 64,
  heads: 4,
  attentionHidden: 64,
  bstLayers: 3,
  bstHeads: 4,
  maxHistory: 30,
  dropout: 0.1,
  tuneFrom: 2,
  scorer: "dot",
  scorerHidden: [1000, 1000, 1000],
  scorerDropout: 0.1,
  scorerAttention: [80, 40],
  seed: 0,
};

/** What a news recommender is built from. */
export interface NewsInputs {
  /** Users. */
  numUsers: number;
  /** News items. */
  numItems: number;
  /** Clicked news per user, chronological: CSR `ptr` [U + 1], `items`. */
  history: { ptr: Int32Array; items: Int32Array };
  /** oleo: the frozen item table, row-major [numItems, dim]. */
  vectors?: { data: Float32Array; dim: number };
  /** e2e / cache: the news encoder (pretrained for cache) and the item token rows. */
  encoder?: TextEncoder;
  /** See {@link encoder}. */
  tokens?: TokenRows;
}

/** A news recommender of one user encoder in one paradigm (an `ImpressionModel`). */
export class NewsRecommender extends Module implements ImpressionModel {
  /** Display name. */
  readonly name: string;
  /** Resolved config. */
  readonly config: Required<NewsRecConfig>;
  /** The user encoder (`user.*`). */
  readonly user: UserEncoder;
  /** Scores a (user, candidate) pair (`scorer.*`; no parameters for the dot product). */
  readonly scorer: NewsScorer;
  /** d'→d projection of item vectors (`item_proj.*`), null when the widths agree. */
  readonly itemProj: Linear | null;
  /** The in-model news encoder (`encoder.*`; e2e and cache). */
  readonly encoder: TextEncoder | null;
  #numItems: number;
  #numUsers: number;
  #frozen: Tensor<"f32"> | null = null;
  #histIdx: Tensor<"i32">;
  #histLen: Tensor<"i32">;
  #histMask: Tensor<"f32">;
  #tok: [Tensor<"i32">, Tensor<"i32">] | null = null;
  #cached: Tensor<"f32"> | null = null;
  #evalTable: Tensor<"f32"> | null = null;
  #drops = 0;

  /** Builds the model; the item source must fit the paradigm. */
  constructor(inputs: NewsInputs, config: NewsRecConfig) {
    super();
    // Settings given as undefined (a partial runner config) keep their defaults.
    const given = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined));
    const c = this.config = { ...NEWSREC_DEFAULTS, ...given } as Required<NewsRecConfig>;
    const U = this.#numUsers = inputs.numUsers;
    const N = this.#numItems = inputs.numItems;
    const by = c.scorer === "dot" ? "" : `, ${c.scorer.toUpperCase()}`;
    this.name = `${c.userEncoder.toUpperCase()} (${c.paradigm}${by})`;
    const d = c.dim;
    let width: number;
    if (c.paradigm === "oleo") {
      const v = inputs.vectors;
      if (!v) throw new Error("wgrec NewsRecommender: paradigm 'oleo' needs frozen item vectors");
      if (v.data.length !== N * v.dim) {
        throw new Error(
          `wgrec NewsRecommender: item vectors hold ${v.data.length} values, expected ` +
            `${N} items × ${v.dim}`,
        );
      }
      const padded = new Float32Array((N + 1) * v.dim);
      padded.set(v.data);
      this.#frozen = keep(tensor(padded, [N + 1, v.dim]));
      width = v.dim;
      this.encoder = null;
    } else {
      const enc = inputs.encoder, tok = inputs.tokens;
      if (!enc || !tok) {
        throw new Error(
          `wgrec NewsRecommender: paradigm '${c.paradigm}' needs a text encoder and token rows`,
        );
      }
      if (tok.lengths.length !== N) {
        throw new Error(`wgrec NewsRecommender: ${tok.lengths.length} token rows for ${N} items`);
      }
      this.encoder = this.child("encoder", enc);
      this.#tok = rowTensors(tok, 0, N).map(keep) as [Tensor<"i32">, Tensor<"i32">];
      width = enc.hidden;
      if (c.paradigm === "cache") {
        if (!(c.tuneFrom >= 0 && c.tuneFrom <= enc.layers.length)) {
          throw new Error(
            `wgrec NewsRecommender: tuneFrom ${c.tuneFrom}, expected 0…${enc.layers.length}`,
          );
        }
        const was = enc.training;
        enc.eval();
        this.#cached = noGrad(() =>
          tidy(() => keep(enc.hiddenAt(c.tuneFrom, this.#tok![0], this.#tok![1])))
        );
        enc.train(was);
      }
    }
    this.itemProj = width === d
      ? null
      : this.child("item_proj", new Linear(width, d, { seed: c.seed + 1 }));
    this.user = this.child("user", makeUser(c, U));
    const scorer = new NewsScorer({
      kind: c.scorer,
      dim: d,
      hidden: c.scorerHidden,
      dropout: c.scorerDropout,
      attentionHidden: c.scorerAttention,
      seed: c.seed + 20,
    });
    this.scorer = c.scorer === "dot" ? scorer : this.child("scorer", scorer);
    // Per-user history tables, padded with the padding news N.
    const Lh = c.maxHistory;
    const idx = new Int32Array(U * Lh).fill(N);
    const len = new Int32Array(U);
    const mask = new Float32Array(U * Lh);
    const { ptr, items } = inputs.history;
    if (ptr.length !== U + 1) {
      throw new Error(`wgrec NewsRecommender: history ptr of ${ptr.length}, expected ${U + 1}`);
    }
    for (let u = 0; u < U; u++) {
      const lo = Math.max(ptr[u], ptr[u + 1] - Lh);
      const n = ptr[u + 1] - lo;
      for (let j = 0; j < n; j++) {
        const it = items[lo + j];
        if (!(it >= 0 && it < N)) {
          throw new Error(
            `wgrec NewsRecommender: user ${u}'s history has news ${it}, outside 0…${N - 1}`,
          );
        }
        idx[u * Lh + j] = it;
      }
      len[u] = Math.max(1, n);
      mask.fill(1, u * Lh, u * Lh + len[u]);
    }
    this.#histIdx = keep(tensor(idx, [U, Lh], "i32"));
    this.#histLen = keep(tensor(len, [U, 1], "i32"));
    this.#histMask = keep(tensor(mask, [U, Lh]));
  }

  /** Item vectors before the projection, [N + 1, d'] (row N: the padding news, zero). */
  #table(): Tensor<"f32"> {
    if (this.#frozen) return this.#frozen;
    if (!this.training && this.#evalTable) return this.#evalTable;
    const enc = this.encoder!;
    const [ids, lens] = this.#tok!;
    const h = this.#cached
      ? enc.forwardFrom(this.config.tuneFrom, this.#cached, lens)
      : enc.forward(ids, lens);
    const t = concat([enc.pool(h), zeros([1, enc.hidden])], 0);
    if (!this.training) this.#evalTable = keep(t);
    return t;
  }

  #project(x: Tensor<"f32">): Tensor<"f32"> {
    const y = this.itemProj ? this.itemProj.forward(x) : x;
    return this.training && this.config.dropout > 0
      ? dropout(y, this.config.dropout, (this.config.seed * 7919 + this.#drops++) >>> 0)
      : y;
  }

  /** Vectors [n, d] of news `items` (e.g. to export or inspect). */
  itemVectors(items: Tensor<"i32">): Tensor<"f32"> {
    return this.#project(gather(this.#table(), items));
  }

  /** User vectors [n, d] of `users` from their histories. */
  userVectors(users: Tensor<"i32">, table?: Tensor<"f32">): Tensor<"f32"> {
    return this.user.forward(this.#histories(users, table ?? this.#table()));
  }

  /** The projected history vectors of `users` with lengths and mask. */
  #histories(users: Tensor<"i32">, t: Tensor<"f32">): HistoryBatch {
    const n = users.shape[0];
    const Lh = this.config.maxHistory;
    const hist = reshape(gather(this.#histIdx, users), [n * Lh]);
    const h = reshape(this.#project(gather(t, hist)), [n, Lh, this.config.dim]);
    return {
      h,
      lengths: reshape(gather(this.#histLen, users), [n]),
      mask: gather(this.#histMask, users),
      users,
    };
  }

  /**
   * s(u, i) = scorer(u, v_i[, history]) for the pairs (users[n], items[n]), in chunks of
   * {@link USER_CHUNK} pairs (an evaluation scores thousands of pairs at once, and a history
   * batch [n, Lh, 3d] — DIN's activation-unit input [n, Lh, 4d] — must fit one storage binding).
   */
  score(users: Tensor<"i32">, items: Tensor<"i32">): Tensor<"f32"> {
    const t = this.#table();
    const n = users.shape[0];
    const parts: Tensor<"f32">[] = [];
    for (let lo = 0; lo < n; lo += USER_CHUNK) {
      const m = Math.min(USER_CHUNK, n - lo);
      const part = <T extends "f32" | "i32">(x: Tensor<T>) =>
        n <= USER_CHUNK ? x : slice(x, [lo], [m]);
      const hist = this.#histories(part(users), t);
      const u = this.user.forward(hist);
      const v = this.#project(gather(t, part(items)));
      parts.push(this.scorer.forward({ u, v, h: hist.h, mask: hist.mask }));
    }
    return parts.length === 1 ? parts[0] : concat(parts, 0);
  }

  /** Users and items (the padding news excluded). */
  get sizes(): { users: number; items: number } {
    return { users: this.#numUsers, items: this.#numItems };
  }

  /** Training mode also drops the evaluation's cached item table. */
  override train(on = true): this {
    if (on) {
      this.#evalTable?.dispose();
      this.#evalTable = null;
    }
    return super.train(on);
  }

  /** Frees parameters and the model's tables. */
  override dispose(): void {
    super.dispose();
    for (
      const t of [
        this.#frozen,
        this.#histIdx,
        this.#histLen,
        this.#histMask,
        this.#cached,
        this.#evalTable,
        ...(this.#tok ?? []),
      ]
    ) t?.dispose();
  }
}

function makeUser(c: Required<NewsRecConfig>, numUsers: number): UserEncoder {
  const d = c.dim;
  switch (c.userEncoder) {
    case "naml":
      return new NamlUser(d, c.attentionHidden, c.seed + 10);
    case "nrms":
      return new NrmsUser(d, c.heads, c.attentionHidden, c.seed + 10);
    case "lstur":
      return new LsturUser(numUsers, d, c.seed + 10);
    case "bst":
      return new BstUser(d, c.maxHistory, c.bstLayers, c.bstHeads, c.dropout, c.seed + 10);
    default:
      throw new Error(
        `wgrec NewsRecommender: user encoder '${c.userEncoder}', expected naml, nrms, lstur or bst`,
      );
  }
}
