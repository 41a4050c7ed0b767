/**
 * The top-K retrieval task on the generic loop (src/train/loop.ts), for the recommenders of
 * src/models (AlignRec, LightGCN, VBPR…), following the MMRec trainer that AlignRec's official
 * code uses (../shared/specs/alignrec.md §1.4):
 *
 * - one epoch = the training interactions shuffled into (user, positive, negative) batches,
 *   one uniform negative per pair that avoids the user's training items;
 * - Adam (weight decay 0), learning rate `lr · 0.96^(epoch / 50)` (PyTorch's LambdaLR stepped
 *   once per epoch);
 * - full-ranking evaluation on the valid split every `evalEvery` epochs, early stopping on valid
 *   Recall@20 after `patience` evaluations without improvement, and the test metrics of the
 *   best-valid epoch.
 *
 * Each epoch's shuffling and negatives come from a generator seeded by (seed, epoch), so a
 * checkpointed run resumes exactly.
 * @module
 */

import { Module } from "../nn/module.ts";
import { indexTensor } from "../ops/index_check.ts";
import type { Tensor } from "../tensor.ts";
import type { Csr, Split } from "../data/types.ts";
import { userItemCsr } from "../data/types.ts";
import { type TripletBatch, tripletBatches } from "../data/sampling.ts";
import { DEFAULT_KS, evaluateModel } from "./eval.ts";
import { type FitResult, type LoopOptions, type LossOutput, type Task, trainLoop } from "./loop.ts";

export type { EpochLog, FitResult, LossOutput, ProgressInfo } from "./loop.ts";
// The data types in this API (src/data is not re-exported by mod.ts as a whole).
export type { Csr, Interactions, Split } from "../data/types.ts";
export type { TripletBatch } from "../data/sampling.ts";

/** A training batch on the GPU: ids checked on upload (src/ops/index_check.ts). */
export interface TripletTensors {
  /** User id of each triple, [B]. */
  users: Tensor<"i32">;
  /** Positive item id, [B]. */
  pos: Tensor<"i32">;
  /** Negative item id, [B]. */
  neg: Tensor<"i32">;
  /** Positive item's row in a joint users-then-items table (`numUsers + pos`), [B]. */
  posNode: Tensor<"i32">;
  /** Negative item's row in a joint users-then-items table, [B]. */
  negNode: Tensor<"i32">;
  /** B. */
  size: number;
  /** The host arrays. */
  host: TripletBatch;
}

/** Uploads a batch of triples (one negative per pair). */
export function tripletTensors(
  b: TripletBatch,
  numUsers: number,
  numItems: number,
): TripletTensors {
  const n = b.users.length;
  if (b.pos.length !== n || b.neg.length !== n) {
    throw new Error(
      `wgrec tripletTensors: ${n} users, ${b.pos.length} positives and ${b.neg.length} ` +
        `negatives; expected one negative per pair`,
    );
  }
  const shift = (a: Int32Array) => a.map((i) => i + numUsers);
  return {
    users: indexTensor(b.users, numUsers),
    pos: indexTensor(b.pos, numItems),
    neg: indexTensor(b.neg, numItems),
    posNode: indexTensor(shift(b.pos), numUsers + numItems),
    negNode: indexTensor(shift(b.neg), numUsers + numItems),
    size: n,
    host: b,
  };
}

/**
 * A recommender trained on triples and scored by a dot product of final user and item
 * embeddings (full ranking: `users · itemsᵀ`), or, when it defines `scoreUsers`, by its own
 * score rows (evaluation and `recommend` then call it a chunk of users at a time).
 */
export abstract class Recommender extends Module {
  /** Display name. */
  abstract readonly name: string;
  /** Whether {@link fit} has anything to train (false for popularity). */
  get trainable(): boolean {
    return this.parameters().length > 0;
  }
  /** Loss of one batch (records the graph). */
  abstract loss(batch: TripletTensors): LossOutput;
  /** Final embeddings `[U, d]` and `[I, d]` for scoring; call under noGrad. */
  abstract embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> };
  /**
   * Optional hook: full-ranking scores `[n, I]` of users `[n]`, for scores that are not a dot
   * product of {@link embeddings} (an all-to-all encoder); used instead of them when defined.
   */
  scoreUsers?(users: Tensor<"i32">): Tensor<"f32">;
  /** Optional: users per {@link scoreUsers} call, bounding its memory. Default 2^24 / I. */
  scoreChunk?(): number;
}

/** Options of {@link fit}: the loop's, with the spec's (§1.4) retrieval defaults. */
export interface FitOptions extends LoopOptions {
  /** Epoch limit. Default 1000. */
  epochs?: number;
  /** Triples per batch. Default 2048. */
  batchSize?: number;
  /** LambdaLR factor `base^(epoch / every)`: [base, every]. Default [0.96, 50]. */
  lrSchedule?: readonly [number, number];
  /** Stop after this many evaluations without improvement (MMRec `stopping_step`). Default 30. */
  patience?: number;
  /** Selection metric key of {@link evaluateModel}. Default `"recall@20"`. */
  validMetric?: string;
  /** Cutoffs. Default [5, 10, 20, 50]. */
  ks?: readonly number[];
}

/** A dataset split with the training history CSR (built once). */
export interface TrainData {
  /** The split. */
  split: Split;
  /** Training items of each user (negatives avoid them; evaluation masks them). */
  trainCsr: Csr;
}

/** Wraps a split for {@link fit} and the evaluators. */
export function trainData(split: Split): TrainData {
  return { split, trainCsr: userItemCsr(split.train) };
}

/**
 * The top-K retrieval task: BPR triples with one uniform negative each, full-ranking
 * Recall/NDCG/Precision/MAP@ks with training items masked, selection on Recall@20.
 */
export function retrievalTask(
  model: Recommender,
  data: TrainData,
  ks: readonly number[] = DEFAULT_KS,
): Task<TripletBatch> {
  const { train, valid, test } = data.split;
  const { numUsers, numItems } = train;
  return {
    name: model.name,
    module: model,
    trainable: model.trainable,
    metric: { name: "recall@20", mode: "max" },
    steps: (b) => Math.ceil(train.users.length / b),
    batches: (b, rng) => tripletBatches(train, data.trainCsr, b, rng),
    size: (b) => b.users.length,
    loss: (b) => model.loss(tripletTensors(b, numUsers, numItems)),
    evaluate: (split) => evaluateModel(model, split === "valid" ? valid : test, data.trainCsr, ks),
  };
}

/**
 * Trains `model` with Adam on BPR triples, evaluating on the valid split and keeping the
 * best-valid weights, which are loaded back into the model at the end. Returns the logs and
 * the metrics at the best epoch.
 */
export function fit(
  model: Recommender,
  data: TrainData,
  opts: FitOptions = {},
): Promise<FitResult> {
  const [base, every] = opts.lrSchedule ?? [0.96, 50];
  return trainLoop(retrievalTask(model, data, opts.ks ?? DEFAULT_KS), {
    epochs: 1000,
    batchSize: 2048,
    patience: 30,
    schedule: { kind: "exponential", base, every },
    ...opts,
  });
}
