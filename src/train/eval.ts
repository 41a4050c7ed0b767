/**
 * Evaluation of recommenders and of multimodal item features.
 *
 * - Full ranking (../shared/specs/alignrec.md §1.6): every user with ground truth in the split
 *   (and a training history, MMRec's `filter_out_cod_start_users`) is scored against all items,
 *   the user's training items are masked, the top 50 come back from the GPU (one readback per
 *   user chunk), and Recall / NDCG / Precision / MAP @ 5, 10, 20, 50 are computed with the
 *   MMRec definitions (src/metrics).
 * - The paper's three intermediate metric classes (§1.7; the official code releases none of
 *   them, so the definitions here are ours):
 *   1. zero-shot recommendation: a user is the mean of the L2-normalised features of their
 *      training items; items are ranked by cosine to it — no training at all;
 *   2. item-CF recommendation: each item keeps its `neighbours` most similar items by feature
 *      cosine (self excluded); a user's score for item i sums the similarities of i to the
 *      user's training items that have i as a neighbour (classic item-kNN CF);
 *   3. masked-modality robustness: the same metrics (or a model trained) on features where one
 *      modality of a fraction of the items is masked — {@link maskedItems} picks the items
 *      like the official code (a seeded permutation's prefix); a stage-1 encoder recomputes
 *      their features from the masked input (as the BEiT-3 path does), or, for precomputed
 *      features, {@link zeroRows} zeroes them (the CLIP path).
 * @module
 */

import { noGrad } from "../autograd/tape.ts";
import { matmul } from "../ops/matmul/matmul.ts";
import { gather } from "../ops/sparse/gather.ts";
import { transpose } from "../ops/core/shape.ts";
import { knnGraph, rowL2Normalize, SparseMatrix } from "../ops/sparse/sparse.ts";
import { spmm } from "../ops/sparse/spmm.ts";
import { fullRankTopK } from "../ops/search/topk.ts";
import { keep, type Tensor, tensor, tidy } from "../tensor.ts";
import { Rng } from "../random.ts";
import { rankingMetrics } from "../metrics/ranking.ts";
import type { Csr, Interactions } from "../data/types.ts";

/** The cutoffs of MMRec's `topk` setting. */
export const DEFAULT_KS: readonly number[] = [5, 10, 20, 50];

/** The metrics MMRec reports (`metrics` setting). */
const METRICS = ["recall", "ndcg", "precision", "map"] as const;

/** Users to evaluate (ground truth in `truth` and a training history) and their items. */
export function evalUsers(
  truth: Interactions,
  trainCsr: Csr,
): { users: Int32Array; sets: Set<number>[] } {
  const sets = new Map<number, Set<number>>();
  for (let j = 0; j < truth.users.length; j++) {
    const u = truth.users[j];
    if (trainCsr.indptr[u + 1] === trainCsr.indptr[u]) continue;
    let s = sets.get(u);
    if (!s) sets.set(u, s = new Set());
    s.add(truth.items[j]);
  }
  const users = Int32Array.from([...sets.keys()].sort((a, b) => a - b));
  return { users, sets: Array.from(users, (u) => sets.get(u)!) };
}

/**
 * Full-ranking metrics from a score function: `score(users)` gives `[n, numItems]` scores for
 * a chunk of user ids; training items (`exclude`) are masked before the top-K.
 */
export async function evaluateScores(
  score: (users: Tensor<"i32">, ids: Int32Array) => Tensor<"f32">,
  numItems: number,
  truth: Interactions,
  exclude: Csr,
  ks: readonly number[] = DEFAULT_KS,
  chunk?: number,
): Promise<Record<string, number>> {
  const { users, sets } = evalUsers(truth, exclude);
  const maxK = Math.min(Math.max(...ks), numItems);
  const top = await fullRankTopK(score, maxK, { numItems, users, exclude, chunk, op: "evaluate" });
  return rankingMetrics(top, sets, ks, { metrics: METRICS });
}

/** Full-ranking metrics of dot-product scores `users · itemsᵀ`. */
export function evaluateEmbeddings(
  users: Tensor<"f32">,
  items: Tensor<"f32">,
  truth: Interactions,
  exclude: Csr,
  ks: readonly number[] = DEFAULT_KS,
): Promise<Record<string, number>> {
  return evaluateScores(
    (ut) => matmul(gather(users, ut), items, { transB: true }),
    items.shape[0],
    truth,
    exclude,
    ks,
  );
}

/**
 * A model ranked over every item: by its own score rows when it has `scoreUsers` (scores that
 * are not a dot product, e.g. an all-to-all encoder), else by `users · itemsᵀ` of its final
 * embeddings.
 */
export interface RankedModel {
  /** Final embeddings `[U, d]` and `[I, d]` (dot-product scoring); called under noGrad. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> };
  /** Optional: score rows `[n, I]` of users `[n]` over every item; called under noGrad. */
  scoreUsers?(users: Tensor<"i32">): Tensor<"f32">;
  /** Optional: users per `scoreUsers` call (bounds its memory). Default 2^24 / I. */
  scoreChunk?(): number;
}

/** The chunked score function of a model with a `scoreUsers` hook (nothing recorded). */
function hookScores(
  model: RankedModel,
): ((users: Tensor<"i32">) => Tensor<"f32">) | undefined {
  const f = model.scoreUsers;
  return f && ((users) => noGrad(() => f.call(model, users)));
}

/** Full-ranking metrics of a model (its `scoreUsers` rows, else its embeddings' dot product). */
export async function evaluateModel(
  model: RankedModel,
  truth: Interactions,
  exclude: Csr,
  ks: readonly number[] = DEFAULT_KS,
): Promise<Record<string, number>> {
  const hook = hookScores(model);
  if (hook) {
    const chunk = model.scoreChunk?.();
    return await evaluateScores(hook, exclude.numCols, truth, exclude, ks, chunk);
  }
  const e = noGrad(() => tidy(() => model.embeddings()));
  keep(e.users);
  keep(e.items);
  try {
    return await evaluateEmbeddings(e.users, e.items, truth, exclude, ks);
  } finally {
    e.users.dispose();
    e.items.dispose();
  }
}

/** Raw-id maps for {@link recommend} (an `IdMap` of the data loaders fits). */
export interface RawIds {
  /** Users: index of a raw id, -1 when unknown. */
  users: { get(id: string): number };
  /** Items: raw id of an index. */
  items: { raw(index: number): string };
}

/**
 * Top-`k` item ids for each of `users` from a trained model (its `scoreUsers` rows, else
 * dot-product scores of its final embeddings), best first; items in the user's row of `exclude` (e.g. `trainData(split).trainCsr`,
 * what they already have) are left out. Users are scored in chunks, so any catalogue size fits
 * in memory. Ids outside the model's users are refused. With `ids` (the dataset's raw-id maps),
 * users are raw ids (strings) and so are the items returned.
 */
export function recommend(
  model: RankedModel,
  users: ArrayLike<number>,
  k: number,
  exclude?: Csr,
): Promise<Int32Array[]>;
/** {@link recommend} with raw ids in and out. */
export function recommend(
  model: RankedModel,
  users: readonly string[],
  k: number,
  exclude: Csr | undefined,
  ids: RawIds,
): Promise<string[][]>;
export async function recommend(
  model: RankedModel,
  users: ArrayLike<number> | readonly string[],
  k: number,
  exclude?: Csr,
  ids?: RawIds,
): Promise<Int32Array[] | string[][]> {
  let index: ArrayLike<number>;
  if (ids) {
    index = Array.from(users as readonly string[], (u, j) => {
      const i = ids.users.get(String(u));
      if (i < 0) {
        throw new Error(
          `wgrec recommend: user '${u}' at position ${j} is not a user of the training data`,
        );
      }
      return i;
    });
  } else index = users as ArrayLike<number>;
  const top = await recommendIndices(model, index, k, exclude);
  return ids ? top.map((r) => Array.from(r, (i) => ids.items.raw(i))) : top;
}

async function recommendIndices(
  model: RankedModel,
  users: ArrayLike<number>,
  k: number,
  exclude?: Csr,
): Promise<Int32Array[]> {
  if (!(Number.isInteger(k) && k >= 1)) {
    throw new Error(`wgrec recommend: k = ${k}; expected an integer ≥ 1`);
  }
  const hook = hookScores(model);
  if (hook) {
    if (!exclude) {
      throw new Error(
        "wgrec recommend: a model ranked by scoreUsers needs `exclude` (its training CSR) to " +
          "know the catalogue size",
      );
    }
    for (let j = 0; j < users.length; j++) {
      const u = users[j];
      if (!Number.isInteger(u) || u < 0 || u >= exclude.numRows) {
        throw new Error(
          `wgrec recommend: user id ${u} at position ${j} is out of range; expected an integer ` +
            `0 ≤ id < ${exclude.numRows} (the model's users)`,
        );
      }
    }
    const numItems = exclude.numCols;
    return await fullRankTopK(hook, Math.min(k, numItems), {
      numItems,
      users,
      exclude,
      chunk: model.scoreChunk?.(),
      op: "recommend",
    });
  }
  const e = noGrad(() => tidy(() => model.embeddings()));
  keep(e.users);
  keep(e.items);
  try {
    const [numUsers] = e.users.shape;
    const numItems = e.items.shape[0];
    for (let j = 0; j < users.length; j++) {
      const u = users[j];
      if (!Number.isInteger(u) || u < 0 || u >= numUsers) {
        throw new Error(
          `wgrec recommend: user id ${u} at position ${j} is out of range; expected an integer ` +
            `0 ≤ id < ${numUsers} (the model's users)`,
        );
      }
    }
    return await fullRankTopK(
      (ut) => matmul(gather(e.users, ut), e.items, { transB: true }),
      Math.min(k, numItems),
      { numItems, users, exclude, op: "recommend" },
    );
  } finally {
    e.users.dispose();
    e.items.dispose();
  }
}

/** Features as an f32 tensor `[numItems, dim]` (host arrays are uploaded). */
function featureTensor(features: Tensor<"f32"> | Float32Array, numItems: number): Tensor<"f32"> {
  if (!(features instanceof Float32Array)) return features;
  if (features.length % numItems !== 0 || features.length === 0) {
    throw new Error(
      `wgrec eval: ${features.length} feature values do not form ${numItems} item rows`,
    );
  }
  return tensor(features, [numItems, features.length / numItems]);
}

/** Row-normalised history matrix `P[u, j] = 1/|hist(u)|` for j in u's training items. */
function meanPooling(trainCsr: Csr): SparseMatrix {
  const rows = new Int32Array(trainCsr.indices.length);
  const vals = new Float32Array(trainCsr.indices.length);
  for (let u = 0; u < trainCsr.numRows; u++) {
    const lo = trainCsr.indptr[u];
    const hi = trainCsr.indptr[u + 1];
    for (let j = lo; j < hi; j++) {
      rows[j] = u;
      vals[j] = 1 / (hi - lo);
    }
  }
  return SparseMatrix.fromCOO(rows, trainCsr.indices, vals, [trainCsr.numRows, trainCsr.numCols]);
}

/**
 * Zero-shot recommendation from features alone (intermediate metric class 1): user vector =
 * mean of the L2-normalised features of the training items, items ranked by cosine.
 */
export async function zeroShotMetrics(
  features: Tensor<"f32"> | Float32Array,
  trainCsr: Csr,
  truth: Interactions,
  ks: readonly number[] = DEFAULT_KS,
): Promise<Record<string, number>> {
  const pool = meanPooling(trainCsr);
  const e = noGrad(() =>
    tidy(() => {
      const f = rowL2Normalize(featureTensor(features, trainCsr.numCols));
      return { users: rowL2Normalize(spmm(pool, f)), items: f };
    })
  );
  try {
    return await evaluateEmbeddings(keep(e.users), keep(e.items), truth, trainCsr, ks);
  } finally {
    e.users.dispose();
    e.items.dispose();
    pool.dispose();
  }
}

/** Options of {@link itemCfMetrics}. */
export interface ItemCfOptions {
  /** Neighbours kept per item. Default 50. */
  neighbours?: number;
}

/**
 * Item-CF recommendation from feature similarity (intermediate metric class 2):
 * `score(u, i) = Σ_{j ∈ hist(u)} s_ji` with `s_j·` the top-`neighbours` cosine similarities of
 * item j's features (self excluded, values kept). Scores come from `Sᵀ · Rᵀ` per user chunk.
 */
export async function itemCfMetrics(
  features: Tensor<"f32"> | Float32Array,
  trainCsr: Csr,
  truth: Interactions,
  ks: readonly number[] = DEFAULT_KS,
  opts: ItemCfOptions = {},
): Promise<Record<string, number>> {
  const numItems = trainCsr.numCols;
  const k = Math.min(opts.neighbours ?? 50, numItems - 1);
  const f = featureTensor(features, numItems);
  const s = knnGraph(f, k, { norm: "none", excludeSelf: true });
  if (f !== features) f.dispose();
  const st = s.transpose();
  try {
    // Chunks of users: Rᵀ for the chunk is dense [I, n], so bound n·I.
    const chunk = Math.max(1, Math.floor((1 << 22) / numItems));
    return await evaluateScores(
      (_ut, ids) => {
        const rt = new Float32Array(numItems * ids.length);
        ids.forEach((u, c) => {
          for (let j = trainCsr.indptr[u]; j < trainCsr.indptr[u + 1]; j++) {
            rt[trainCsr.indices[j] * ids.length + c] = 1;
          }
        });
        return transpose(spmm(st, tensor(rt, [numItems, ids.length])));
      },
      numItems,
      truth,
      trainCsr,
      ks,
      chunk,
    );
  } finally {
    s.dispose();
    st.dispose();
  }
}

/**
 * Items whose modality gets masked: the first ⌊ratio·I⌋ of a seeded permutation (the official
 * code's `randperm(I)[:int(mask_ratio·I)]`, default ratio 0.5). Returns a 0/1 flag per item.
 */
export function maskedItems(numItems: number, ratio = 0.5, seed = 0): Uint8Array {
  if (!(ratio >= 0 && ratio <= 1)) {
    throw new Error(`wgrec maskedItems: ratio ${ratio} must be in [0, 1]`);
  }
  const perm = new Rng(seed).shuffle(
    Int32Array.from({ length: numItems }, (_, i) => i),
  ) as Int32Array;
  const flags = new Uint8Array(numItems);
  const n = Math.floor(ratio * numItems);
  for (let j = 0; j < n; j++) flags[perm[j]] = 1;
  return flags;
}

/** A copy of `features` (`[I, dim]` row-major) with the flagged rows zeroed. */
export function zeroRows(features: Float32Array, dim: number, flags: Uint8Array): Float32Array {
  if (features.length !== flags.length * dim) {
    throw new Error(
      `wgrec zeroRows: ${features.length} values are not ${flags.length} rows of ${dim}`,
    );
  }
  const out = features.slice();
  for (let i = 0; i < flags.length; i++) if (flags[i]) out.fill(0, i * dim, (i + 1) * dim);
  return out;
}

/** Zero-shot and item-CF metrics of one feature table. */
export interface FeatureMetrics {
  /** Intermediate metric class 1. */
  zeroShot: Record<string, number>;
  /** Intermediate metric class 2. */
  itemCf: Record<string, number>;
}

/** {@link zeroShotMetrics} and {@link itemCfMetrics} of one feature table. */
export async function featureMetrics(
  features: Tensor<"f32"> | Float32Array,
  trainCsr: Csr,
  truth: Interactions,
  ks: readonly number[] = DEFAULT_KS,
  opts: ItemCfOptions = {},
): Promise<FeatureMetrics> {
  return {
    zeroShot: await zeroShotMetrics(features, trainCsr, truth, ks),
    itemCf: await itemCfMetrics(features, trainCsr, truth, ks, opts),
  };
}
