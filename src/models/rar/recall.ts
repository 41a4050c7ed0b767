/**
 * The recall stage whose outputs feed RAR's ranking (spec rar.md §3.2: "cross-stage data must
 * be simulated on public data, e.g. by running an offline two-tower or item-CF recall"). Both
 * recall models read the users' training positives (label-1 rows of the CTR training table)
 * and return a full recall list of `length` items per user, best first:
 *
 * - **two-tower**: SparCode's {@link TwoTower} (ID embedding → MLP tower on each side, reused
 *   here, not re-written) trained with in-batch InfoNCE on (user, positive item) pairs,
 *   `L = mean_i −log softmax_j(cos(u_i, v_j)/τ)` with repeated items of the batch left out of
 *   each other's denominators; a user's list is the top items by cos(u, v) (GPU top-k).
 * - **item-CF**: item–item co-occurrence cosine `s(i, j) = |U_i ∩ U_j| / √(|U_i| |U_j|)`, a
 *   user's score of j is `Σ_{i ∈ pos(u)} s(i, j)` (host code: one pass over the users' positive
 *   pairs; the ML-sized tables here take well under a second).
 * - **both**: the two lists interleaved (two-tower first), duplicates dropped.
 *
 * Lists keep the user's own training positives (a production recall stage returns what it
 * scores highest; RAR's auxiliary loss is labelled by exactly those clicks) and leave out the
 * padding id 0; a list shorter than `length` (a user with no positives, or few co-occurrences)
 * is filled with the most popular items. Ours: the paper's recall stage is a production system.
 * It lives beside RAR (the only consumer so far); it depends only on a CTR table, so any
 * ranking model can import it from `models/rar`.
 * @module
 */

import { backward } from "../../autograd/backward.ts";
import { Adam } from "../../nn/optim.ts";
import { infoNce } from "../../ops/losses/infonce.ts";
import { l2NormalizeRows } from "../../ops/losses/similarity.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { maskedFill } from "../../ops/core/where.ts";
import { slice } from "../../ops/core/shape.ts";
import { tiledTopK } from "../../ops/search/topk.ts";
import { Rng } from "../../random.ts";
import { readAll, type Tensor, tensor, tidy } from "../../tensor.ts";
import type { CtrData } from "../../data/ctr.ts";
import { TwoTower } from "../sparcode/baselines.ts";

/** Which recall model produces the lists. */
export type RecallMethod = "twotower" | "itemcf" | "both";

/** Settings of the recall stage. */
export interface RecallConfig {
  /** Recall model. Default both. */
  method?: RecallMethod;
  /** N_R: items per user list. Default 50. */
  length?: number;
  /** Two-tower width d. Default 32. */
  embeddingSize?: number;
  /** Two-tower epochs over the positive pairs. Default 10. */
  epochs?: number;
  /** Two-tower batch (in-batch negatives). Default 512. */
  batchSize?: number;
  /** Two-tower Adam learning rate. Default 0.003. */
  lr?: number;
  /** InfoNCE temperature τ. Default 0.1. */
  temperature?: number;
  /** Seed of the tower initialisation and the pair shuffling. Default 2021. */
  seed?: number;
}

/** Defaults of {@link RecallConfig}. */
export const RECALL_DEFAULTS: Required<RecallConfig> = {
  method: "both",
  length: 50,
  embeddingSize: 32,
  epochs: 10,
  batchSize: 512,
  lr: 0.003,
  temperature: 0.1,
  seed: 2021,
};

/** The users' training positives, in table order (time order for the MovieLens CTR split). */
export interface Positives {
  /** U: the user field's vocabulary size. */
  users: number;
  /** V: the item field's vocabulary size. */
  items: number;
  /** `pos[u]`: the items of u's label-1 rows, repeats kept. */
  pos: number[][];
}

/** Per-user recall lists `[U, N]`, best first. */
export interface RecallLists {
  /** U. */
  users: number;
  /** N: items per list. */
  length: number;
  /** Item ids, row u = user u's list. */
  ids: Int32Array;
}

/** The label-1 rows of `train` grouped by user (fields `userField`, `itemField`). */
export function positives(train: CtrData, userField: string, itemField: string): Positives {
  const nf = train.sparseNames.length;
  const [ui, ii] = [userField, itemField].map((f) => {
    const j = train.sparseNames.indexOf(f);
    if (j < 0) {
      throw new Error(
        `wgrec rar recall: no categorical field '${f}' (fields: ${train.sparseNames.join(", ")})`,
      );
    }
    return j;
  });
  const U = train.cardinalities[ui];
  const pos: number[][] = Array.from({ length: U }, () => []);
  for (let r = 0; r < train.numRows; r++) {
    if (train.labels[r] === 1) pos[train.sparse[r * nf + ui]].push(train.sparse[r * nf + ii]);
  }
  return { users: U, items: train.cardinalities[ii], pos };
}

function checkLength(op: string, p: Positives, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > Math.min(128, p.items - 1)) {
    throw new Error(
      `wgrec rar ${op}: list length ${n} for ${p.items} items; expected 1 ≤ N ≤ ` +
        `min(128, items − 1) (id 0 is padding)`,
    );
  }
}

/** Items by descending count (ties: lower id), id 0 left out. */
function popular(p: Positives): number[] {
  const c = new Float64Array(p.items);
  for (const l of p.pos) for (const i of l) c[i]++;
  return Array.from({ length: p.items - 1 }, (_, j) => j + 1).sort((a, b) => c[b] - c[a] || a - b);
}

/** Completes `list` to n distinct items from `fill`. */
function complete(list: number[], fill: number[], n: number): number[] {
  const seen = new Set(list);
  for (const i of fill) {
    if (list.length >= n) break;
    if (!seen.has(i)) (list.push(i), seen.add(i));
  }
  return list;
}

/** Item-CF lists (co-occurrence cosine over distinct positives), host code. */
export function itemCfRecall(p: Positives, length: number): RecallLists {
  checkLength("itemCfRecall", p, length);
  const sets = p.pos.map((l) => [...new Set(l)]);
  const deg = new Float64Array(p.items);
  for (const s of sets) for (const i of s) deg[i]++;
  const co: Map<number, number>[] = Array.from({ length: p.items }, () => new Map());
  for (const s of sets) {
    for (const i of s) {
      const row = co[i];
      for (const j of s) if (j !== i) row.set(j, (row.get(j) ?? 0) + 1);
    }
  }
  const fill = popular(p);
  const ids = new Int32Array(p.users * length);
  const score = new Float64Array(p.items);
  for (let u = 0; u < p.users; u++) {
    const touched: number[] = [];
    for (const i of sets[u]) {
      for (const [j, c] of co[i]) {
        if (score[j] === 0) touched.push(j);
        score[j] += c / Math.sqrt(deg[i] * deg[j]);
      }
    }
    const best = touched.filter((j) => j !== 0).sort((a, b) => score[b] - score[a] || a - b);
    ids.set(complete(best.slice(0, length), fill, length), u * length);
    for (const j of touched) score[j] = 0;
  }
  return { users: p.users, length, ids };
}

/**
 * Two-tower lists: trains SparCode's {@link TwoTower} with in-batch InfoNCE on the (user,
 * positive) pairs, then ranks every item by cosine to each user on the GPU.
 */
export async function twoTowerRecall(
  p: Positives,
  cfg: RecallConfig = {},
): Promise<RecallLists & { loss: number }> {
  const c = { ...RECALL_DEFAULTS, ...cfg };
  checkLength("twoTowerRecall", p, c.length);
  const pu: number[] = [];
  const pi: number[] = [];
  p.pos.forEach((l, u) => l.forEach((i) => (pu.push(u), pi.push(i))));
  const n = pu.length;
  const model = new TwoTower(p.users, p.items, { embeddingSize: c.embeddingSize, seed: c.seed });
  const opt = new Adam(model.parameters(), { lr: c.lr });
  const rng = new Rng(c.seed + 1);
  const order = Array.from({ length: n }, (_, i) => i);
  const bs = Math.min(c.batchSize, n);
  let last: Tensor<"f32"> | null = null;
  for (let e = 0; e < c.epochs && bs >= 2; e++) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let s = 0; s + bs <= n; s += bs) {
      const rows = order.slice(s, s + bs);
      last?.dispose();
      last = tidy(() => {
        const it = tensor(Int32Array.from(rows, (r) => pi[r]), [bs], "i32");
        const a = model.userTower.forward(
          model.userEmbedding.forward(tensor(Int32Array.from(rows, (r) => pu[r]), [bs], "i32")),
        );
        const v = model.itemTower.forward(model.itemEmbedding.forward(it));
        const loss = infoNce(a, v, { temperature: c.temperature, ids: it });
        backward(loss);
        opt.step();
        opt.zeroGrad();
        return loss;
      });
    }
  }
  const loss = last ? (await readAll([last]))[0][0] : NaN;
  last?.dispose();
  const topIdx = tidy(() => {
    const { users, items } = model.embeddings();
    const un = l2NormalizeRows(users);
    const vn = l2NormalizeRows(items);
    const d = c.embeddingSize;
    const top = tiledTopK(p.users, p.items, c.length, (r0, nr, c0, nc) => {
      const s = matmul(slice(un, [r0, 0], [nr, d]), slice(vn, [c0, 0], [nc, d]), {
        transB: true,
      });
      if (c0 > 0) return s;
      const pad = Float32Array.from({ length: nc }, (_, j) => (j === 0 ? 1 : 0));
      return maskedFill(s, tensor(pad, [1, nc]), NaN); // id 0 is padding
    });
    top.values.dispose();
    return top.indices;
  });
  const ids = (await readAll([topIdx]))[0] as Int32Array;
  topIdx.dispose();
  model.dispose();
  opt.dispose();
  const fill = popular(p);
  for (let u = 0; u < p.users; u++) {
    const row = ids.subarray(u * c.length, (u + 1) * c.length);
    if ([...row].some((i) => i <= 0)) {
      row.set(complete([...row].filter((i) => i > 0), fill, c.length));
    }
  }
  return { users: p.users, length: c.length, ids, loss };
}

/** Interleaves lists a and b (a first), duplicates dropped, to `length` per user. */
export function mergeRecall(a: RecallLists, b: RecallLists, length: number): RecallLists {
  if (a.users !== b.users) {
    throw new Error(`wgrec rar mergeRecall: lists of ${a.users} and ${b.users} users`);
  }
  const ids = new Int32Array(a.users * length);
  for (let u = 0; u < a.users; u++) {
    const out: number[] = [];
    const seen = new Set<number>();
    for (let j = 0; out.length < length && j < Math.max(a.length, b.length); j++) {
      for (const [l, n] of [[a.ids, a.length], [b.ids, b.length]] as const) {
        if (j < n && out.length < length) {
          const i = l[u * n + j];
          if (!seen.has(i)) (out.push(i), seen.add(i));
        }
      }
    }
    if (out.length < length) throw new Error("wgrec rar mergeRecall: lists too short to merge");
    ids.set(out, u * length);
  }
  return { users: a.users, length, ids };
}

/** The recall stage of `cfg.method` over the training table's positives. */
export async function recallStage(
  train: CtrData,
  userField: string,
  itemField: string,
  cfg: RecallConfig = {},
): Promise<RecallLists> {
  const c = { ...RECALL_DEFAULTS, ...cfg };
  const p = positives(train, userField, itemField);
  if (c.method === "itemcf") return itemCfRecall(p, c.length);
  const tt = await twoTowerRecall(p, c);
  if (c.method === "twotower") return tt;
  return mergeRecall(tt, itemCfRecall(p, c.length), c.length);
}
