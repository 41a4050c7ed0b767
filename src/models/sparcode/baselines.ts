/**
 * The two baselines of SparCode's tables (../shared/specs/sparcode.md §6.1 "Score
 * definitions"), in the same framework (same ID inputs, same BPR triples, same loop):
 *
 * - **two-tower** (TTM w/ DNN, DSSM-like): `score = E1(u) · E2(i)`, each tower an MLP
 *   d → 2d → d over the ID embedding; retrieval is a dot product.
 * - **all-to-all**: `score = E(u', v_i) + b` with the same interaction encoder as SparCode
 *   (./scorer.ts) on the continuous user vector `u' = Tok(e_u)` (SparCode's tokenizer with one
 *   token and no quantisation): the paper's upper bound, which must score every item.
 *
 * Both expose `scoreUsers(users) → [n, I]`, the full-ranking score rows (the `Recommender`
 * hook that evaluation and `recommend` use).
 * @module
 */

import { Embedding } from "../../nn/embedding.ts";
import { xavierUniform } from "../../nn/init.ts";
import { MLP } from "../../nn/linear.ts";
import { add } from "../../ops/core/elementwise.ts";
import { bprLoss } from "../../ops/losses/ranking.ts";
import { rowDot } from "../../ops/losses/similarity.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { Rng } from "../../random.ts";
import { type Tensor, tensor } from "../../tensor.ts";
import {
  type LossOutput,
  Recommender,
  retrievalTask,
  type TrainData,
  type TripletTensors,
} from "../../train/fit.ts";
import type { TripletBatch } from "../../data/sampling.ts";
import type { Task } from "../../train/loop.ts";
import { DEFAULT_KS } from "../../train/eval.ts";
import { type Backbone, PairScorer } from "./scorer.ts";

/** Settings shared by the baselines (same meaning as SparCode's). */
export interface BaselineConfig {
  /** Width d. Default 32. */
  embeddingSize?: number;
  /** Interaction encoder backbone of all-to-all. Default "dnn". */
  backbone?: Backbone;
  /** Hidden widths of the DNN encoder. Default [64, 32]. */
  hidden?: number[];
  /** Attention heads of the SA backbone. Default 2. */
  heads?: number;
  /** Initialisation seed. Default 999. */
  seed?: number;
}

const DEFAULTS: Required<BaselineConfig> = {
  embeddingSize: 32,
  backbone: "dnn",
  hidden: [64, 32],
  heads: 2,
  seed: 999,
};

/** A model with full-ranking score rows. */
export interface PairwiseScorer extends Recommender {
  /** Scores [n, I] of users [n] over every item. */
  scoreUsers(users: Tensor<"i32">): Tensor<"f32">;
}

/** Two-tower matching: dot product of a user tower and an item tower. */
export class TwoTower extends Recommender implements PairwiseScorer {
  /** Display name. */
  readonly name = "TwoTower";
  /** Resolved settings. */
  readonly cfg: Required<BaselineConfig>;
  /** E_user [U, d] (`user_embedding`). */
  readonly userEmbedding: Embedding;
  /** E_item [I, d] (`item_embedding`). */
  readonly itemEmbedding: Embedding;
  /** E1: d → 2d → d (`user_tower`). */
  readonly userTower: MLP;
  /** E2: d → 2d → d (`item_tower`). */
  readonly itemTower: MLP;

  /** A model for `numUsers` × `numItems`. */
  constructor(readonly numUsers: number, readonly numItems: number, cfg: BaselineConfig = {}) {
    super();
    const c = this.cfg = { ...DEFAULTS, ...cfg };
    const d = c.embeddingSize;
    const rng = new Rng(c.seed);
    this.userEmbedding = this.child(
      "user_embedding",
      new Embedding(numUsers, d, xavierUniform(numUsers, d, rng)),
    );
    this.itemEmbedding = this.child(
      "item_embedding",
      new Embedding(numItems, d, xavierUniform(numItems, d, rng)),
    );
    const seed = rng.u32() % 100000;
    this.userTower = this.child("user_tower", new MLP([d, 2 * d, d], "relu", seed));
    this.itemTower = this.child("item_tower", new MLP([d, 2 * d, d], "relu", seed + 7));
  }

  /** BPR on E1(u)·E2(i). */
  loss(b: TripletTensors): LossOutput {
    const u = this.userTower.forward(this.userEmbedding.forward(b.users));
    const p = this.itemTower.forward(this.itemEmbedding.forward(b.pos));
    const n = this.itemTower.forward(this.itemEmbedding.forward(b.neg));
    const bpr = bprLoss(rowDot(u, p), rowDot(u, n));
    return { loss: bpr, parts: { bpr } };
  }

  /** Tower outputs of every user and item. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    return {
      users: this.userTower.forward(this.userEmbedding.weight),
      items: this.itemTower.forward(this.itemEmbedding.weight),
    };
  }

  /** E1(u) · E2(all items). */
  override scoreUsers(users: Tensor<"i32">): Tensor<"f32"> {
    const u = this.userTower.forward(this.userEmbedding.forward(users));
    return matmul(u, this.itemTower.forward(this.itemEmbedding.weight), { transB: true });
  }
}

/** All-to-all matching: the interaction encoder on every (user, item) pair. */
export class AllToAll extends Recommender implements PairwiseScorer {
  /** Display name. */
  readonly name = "AllToAll";
  /** Resolved settings. */
  readonly cfg: Required<BaselineConfig>;
  /** E_user [U, d] (`user_embedding`). */
  readonly userEmbedding: Embedding;
  /** E_item [I, d] (`item_embedding`). */
  readonly itemEmbedding: Embedding;
  /** Tok with one token: d → 2d → d (`tokenizer`). */
  readonly tokenizer: MLP;
  /** E (`scorer`). */
  readonly scorer: PairScorer;
  /** b [1] (`bias`). */
  readonly bias: Tensor<"f32">;

  /** A model for `numUsers` × `numItems`. */
  constructor(readonly numUsers: number, readonly numItems: number, cfg: BaselineConfig = {}) {
    super();
    const c = this.cfg = { ...DEFAULTS, ...cfg };
    const d = c.embeddingSize;
    const rng = new Rng(c.seed);
    this.userEmbedding = this.child(
      "user_embedding",
      new Embedding(numUsers, d, xavierUniform(numUsers, d, rng)),
    );
    this.itemEmbedding = this.child(
      "item_embedding",
      new Embedding(numItems, d, xavierUniform(numItems, d, rng)),
    );
    const seed = rng.u32() % 100000;
    this.tokenizer = this.child("tokenizer", new MLP([d, 2 * d, d], "relu", seed));
    this.scorer = this.child(
      "scorer",
      new PairScorer({
        dim: d,
        backbone: c.backbone,
        hidden: c.hidden,
        heads: c.heads,
        seed: seed + 5,
      }),
    );
    this.bias = this.param("bias", tensor([0], [1]));
  }

  /** s(u, i) = E(Tok(e_u), v_i) + b for aligned users and items [B] → [B]. */
  #pair(users: Tensor<"i32">, items: Tensor<"i32">): Tensor<"f32"> {
    const u = this.tokenizer.forward(this.userEmbedding.forward(users));
    return add(this.scorer.forward(u, this.itemEmbedding.forward(items)), this.bias);
  }

  /** BPR on the pair scores. */
  loss(b: TripletTensors): LossOutput {
    const bpr = bprLoss(this.#pair(b.users, b.pos), this.#pair(b.users, b.neg));
    return { loss: bpr, parts: { bpr } };
  }

  /** All-to-all scores are not a dot product: ranking uses {@link scoreUsers}. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    throw new Error(
      "wgrec AllToAll: its scores E(u, v) are not a dot product of user and item vectors; " +
        "rank with scoreUsers() (evaluateModel and recommend do)",
    );
  }

  /** E(Tok(e_u), every item) + b → [n, I]. */
  override scoreUsers(users: Tensor<"i32">): Tensor<"f32"> {
    const u = this.tokenizer.forward(this.userEmbedding.forward(users));
    return add(this.scorer.table(u, this.itemEmbedding.weight), this.bias);
  }

  /** Users per scoreUsers call: the encoder holds `pairWidth` scalars per (user, item) pair. */
  override scoreChunk(): number {
    return Math.max(1, Math.floor(2 ** 23 / (this.numItems * this.scorer.pairWidth)));
  }
}

/**
 * The retrieval task of `fit` (BPR triples, the same loop); full ranking uses the model's
 * `scoreUsers` rows (the `Recommender` hook), in chunks of its `scoreChunk()` users.
 */
export function pairwiseTask(
  model: PairwiseScorer,
  data: TrainData,
  ks: readonly number[] = DEFAULT_KS,
): Task<TripletBatch> {
  return retrievalTask(model, data, ks);
}
