/**
 * The impression task on the generic loop (news recommendation, as MIND users train NRMS-style
 * models): each click is trained against K items shown in the same impression but not clicked,
 * with a softmax cross-entropy over the 1 + K scores (`npratio` = K); evaluation scores every
 * candidate of each impression and averages, per impression, AUC, MRR and nDCG@5/10 (the MIND
 * leaderboard's definitions); selection on valid AUC.
 * @module
 */

import { noGrad } from "../autograd/tape.ts";
import type { Module } from "../nn/module.ts";
import { neg } from "../ops/core/elementwise.ts";
import { mean } from "../ops/core/reduce.ts";
import { reshape, slice } from "../ops/core/shape.ts";
import { logSoftmax } from "../ops/core/softmax.ts";
import { indexTensor } from "../ops/index_check.ts";
import type { Rng } from "../random.ts";
import { keep, readAll, type Tensor, tidy } from "../tensor.ts";
import type { Task } from "./loop.ts";

/** One impression: the items shown to a user and which were clicked. */
export interface Impression {
  /** User index. */
  user: number;
  /** Shown items. */
  items: Int32Array;
  /** 1 where clicked, per shown item. */
  labels: Uint8Array;
  /** Items the user clicked before this impression, oldest first (MIND's history), if known. */
  history?: Int32Array;
}

/** Impressions split in time, with the id spaces. */
export interface ImpressionSplits {
  /** Name for reports. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** Number of users. */
  numUsers: number;
  /** Number of items. */
  numItems: number;
  /** Training impressions. */
  train: Impression[];
  /** Validation impressions. */
  valid: Impression[];
  /** Test impressions. */
  test: Impression[];
  /** Text of each item (news titles, movie titles), when the data has it. */
  itemText?: string[];
}

/** A model that scores (user, item) pairs. */
export interface ImpressionModel extends Module {
  /** Display name. */
  readonly name: string;
  /** Scores `[N]` of the pairs `(users[n], items[n])` (records the graph). */
  score(users: Tensor<"i32">, items: Tensor<"i32">): Tensor<"f32">;
}

/** A training batch: B clicks, each with K negatives, as flat `[B·(1+K)]` pairs. */
export interface ImpressionBatch {
  /** User of each pair. */
  users: Int32Array;
  /** Item of each pair; each row of 1 + K starts with the clicked item. */
  items: Int32Array;
  /** B. */
  size: number;
}

/** Every (impression, clicked position) of the training impressions with a skipped item. */
function clicks(train: Impression[]): Int32Array {
  const out: number[] = [];
  train.forEach((imp, i) => {
    if (!imp.labels.includes(0)) return;
    imp.labels.forEach((y, j) => y && out.push(i, j));
  });
  return Int32Array.from(out);
}

/** The impression task: 1 click vs K skipped items, softmax cross-entropy. */
export function impressionTask(
  model: ImpressionModel,
  data: ImpressionSplits,
  negatives = 4,
): Task<ImpressionBatch> {
  const pairs = clicks(data.train);
  const n = pairs.length / 2;
  if (n === 0) {
    throw new Error(
      `wgrec impression: ${data.name} has no training click with a skipped item in its impression`,
    );
  }
  const c = 1 + negatives;
  return {
    name: model.name,
    module: model,
    trainable: model.parameters().length > 0,
    metric: { name: "auc", mode: "max" },
    steps: (b) => Math.ceil(n / b),
    *batches(b: number, rng: Rng) {
      const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
      for (let lo = 0; lo < n; lo += b) {
        const ids = order.subarray(lo, lo + b);
        const users = new Int32Array(ids.length * c);
        const items = new Int32Array(ids.length * c);
        ids.forEach((k, r) => {
          const imp = data.train[pairs[2 * k]];
          const skipped = imp.items.filter((_, j) => imp.labels[j] === 0);
          users.fill(imp.user, r * c, (r + 1) * c);
          items[r * c] = imp.items[pairs[2 * k + 1]];
          // K skipped items of the same impression, drawn with replacement (as MIND loaders do
          // when an impression shows fewer than K).
          for (let j = 1; j < c; j++) items[r * c + j] = skipped[rng.int(skipped.length)];
        });
        yield { users, items, size: ids.length };
      }
    },
    size: (b) => b.size,
    loss(b) {
      const s = model.score(
        indexTensor(b.users, data.numUsers),
        indexTensor(b.items, data.numItems),
      );
      // −log softmax(s)[0] per row: the clicked item is column 0.
      const ce = neg(mean(slice(logSoftmax(reshape(s, [b.size, c]), 1), [0, 0], [-1, 1])));
      return { loss: ce, parts: { ce } };
    },
    evaluate: (split) =>
      evaluateImpressions(model, split === "valid" ? data.valid : data.test, data),
  };
}

/** Mean per-impression AUC, MRR, nDCG@5 and nDCG@10 (impressions with one class skipped). */
export async function evaluateImpressions(
  model: ImpressionModel,
  imps: Impression[],
  ids: { numUsers: number; numItems: number },
  chunk = 8192,
): Promise<Record<string, number>> {
  const sums = { auc: 0, mrr: 0, "ndcg@5": 0, "ndcg@10": 0 };
  let count = 0;
  let i = 0;
  while (i < imps.length) {
    let j = i;
    let len = 0;
    while (j < imps.length && (j === i || len + imps[j].items.length <= chunk)) {
      len += imps[j++].items.length;
    }
    const users = new Int32Array(len);
    const items = new Int32Array(len);
    let o = 0;
    for (let k = i; k < j; k++) {
      users.fill(imps[k].user, o, o + imps[k].items.length);
      items.set(imps[k].items, o);
      o += imps[k].items.length;
    }
    const out = noGrad(() =>
      tidy(() =>
        keep(model.score(indexTensor(users, ids.numUsers), indexTensor(items, ids.numItems)))
      )
    );
    const [s] = await readAll([out]);
    out.dispose();
    o = 0;
    for (let k = i; k < j; k++) {
      const { labels } = imps[k];
      const sc = s.subarray(o, o + labels.length);
      o += labels.length;
      for (let t = 0; t < sc.length; t++) {
        if (!Number.isFinite(sc[t])) {
          throw new Error(
            `wgrec impression: ${model.name} gave a non-finite score (impression ${k})`,
          );
        }
      }
      const m = impressionMetrics(labels, sc);
      if (!m) continue;
      sums.auc += m.auc;
      sums.mrr += m.mrr;
      sums["ndcg@5"] += m.ndcg5;
      sums["ndcg@10"] += m.ndcg10;
      count++;
    }
    i = j;
  }
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, count ? v / count : NaN]));
}

/**
 * AUC, MRR and nDCG@5/10 of one impression (MIND's `evaluate.py`: MRR is the mean reciprocal
 * rank of the clicked items, nDCG with gain y and log2 discounts); null for a single class.
 */
export function impressionMetrics(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): { auc: number; mrr: number; ndcg5: number; ndcg10: number } | null {
  const n = labels.length;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += labels[i] ? 1 : 0;
  if (pos === 0 || pos === n) return null;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  // AUC by pairs (ties count 1/2); impressions are short.
  let wins = 0;
  for (let a = 0; a < n; a++) {
    if (!labels[a]) continue;
    for (let b = 0; b < n; b++) {
      if (labels[b]) continue;
      wins += scores[a] > scores[b] ? 1 : scores[a] === scores[b] ? 0.5 : 0;
    }
  }
  let rr = 0;
  order.forEach((i, r) => (rr += labels[i] ? 1 / (r + 1) : 0));
  const dcg = (k: number, idx: number[]) =>
    idx.slice(0, k).reduce((s, i, r) => s + (labels[i] ? 1 : 0) / Math.log2(r + 2), 0);
  const ideal = Array.from({ length: n }, (_, i) => i).sort((a, b) => labels[b] - labels[a]);
  return {
    auc: wins / (pos * (n - pos)),
    mrr: rr / pos,
    ndcg5: dcg(5, order) / dcg(5, ideal),
    ndcg10: dcg(10, order) / dcg(10, ideal),
  };
}
