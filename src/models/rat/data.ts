/**
 * RAT's data path (../shared/specs/rat.md §4.1): the retrieval of every split against the
 * training set (the training set itself by the 10-fold protocol: each fold queries the other
 * nine, so no sample retrieves itself; valid and test query all of it), and the batches of
 * (1 + K) rows with their label tokens. Browser-safe; the disk cache is `cache.ts`.
 * @module
 */

import type { CtrData } from "../../data/ctr.ts";
import { ctrBatch, type FeatureSpec } from "../../nn/features.ts";
import { Rng } from "../../random.ts";
import { tensor, tidy } from "../../tensor.ts";
import type { RatInput } from "./model.ts";
import { ratRetrieve } from "./retrieve.ts";

/** The top-K retrieved training rows of each row of a split. */
export interface RatRetrieval {
  /** K. */
  k: number;
  /** `[n, K]` training-row indices, best first; −1 past `lens[i]`. */
  indices: Int32Array;
  /** Valid entries per row (rows scoring 0 are dropped). */
  lens: Int32Array;
}

/** Options of {@link retrieveSplits}. */
export interface RetrieveOptions {
  /** K. Default 5. */
  k?: number;
  /** Folds of the training set (each queries the others). Default 10. */
  folds?: number;
  /** Seed of the fold assignment. Default 2021. */
  seed?: number;
  /** Categorical fields used in the score (default all of them). */
  fields?: readonly string[];
  /** Queries per GPU call (bounds memory and lets a caller report progress). Default 8192. */
  queryBlock?: number;
  /** Called after each block with (split, rows done, rows). */
  progress?: (split: number, done: number, total: number) => void;
}

/** Fold of each training row: a seeded permutation cut into `folds` equal parts. */
export function foldIds(n: number, folds: number, seed: number): Int32Array {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.u32() % (i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const g = new Int32Array(n);
  perm.forEach((r, i) => (g[r] = Math.floor((i * folds) / n)));
  return g;
}

/** `[n, F]` ids of the used categorical fields, and their vocabulary sizes. */
function fieldIds(d: CtrData, fields: readonly string[]): Int32Array {
  const ns = d.sparseNames.length;
  const cols = fields.map((f) => {
    const j = d.sparseNames.indexOf(f);
    if (j < 0) {
      throw new Error(
        `wgrec retrieveSplits: no categorical field '${f}' (fields: ${d.sparseNames.join(", ")})`,
      );
    }
    return j;
  });
  const out = new Int32Array(d.numRows * cols.length);
  for (let r = 0; r < d.numRows; r++) {
    cols.forEach((c, j) => (out[r * cols.length + j] = d.sparse[r * ns + c]));
  }
  return out;
}

/**
 * Retrieval for `train` (10-fold) and for each of `others` (against all of `train`), on the
 * GPU, query block by query block. IDF counts come from the training set (the DB).
 */
export async function retrieveSplits(
  train: CtrData,
  others: readonly CtrData[],
  opts: RetrieveOptions = {},
): Promise<RatRetrieval[]> {
  const k = opts.k ?? 5;
  const fields = opts.fields ?? train.sparseNames;
  const vocab = fields.map((f) => train.cardinalities[train.sparseNames.indexOf(f)]);
  const F = fields.length;
  const db = fieldIds(train, fields);
  const folds = foldIds(train.numRows, opts.folds ?? 10, opts.seed ?? 2021);
  const block = opts.queryBlock ?? 8192;
  const out: RatRetrieval[] = [];
  const splits = [train, ...others];
  for (let s = 0; s < splits.length; s++) {
    const q = s === 0 ? db : fieldIds(splits[s], fields);
    const n = splits[s].numRows;
    const indices = new Int32Array(n * k);
    const lens = new Int32Array(n);
    for (let r0 = 0; r0 < n; r0 += block) {
      const nr = Math.min(block, n - r0);
      const top = tidy(() => {
        const dbT = tensor(db, [train.numRows, F], "i32");
        const qT = tensor(q.subarray(r0 * F, (r0 + nr) * F), [nr, F], "i32");
        const exclude = s === 0
          ? {
            query: tensor(folds.subarray(r0, r0 + nr), [nr], "i32"),
            db: tensor(folds, [train.numRows], "i32"),
          }
          : undefined;
        return ratRetrieve(qT, dbT, k, { vocabSizes: vocab, exclude }).indices;
      });
      const idx = await top.read();
      top.dispose();
      indices.set(idx, r0 * k);
      opts.progress?.(s, r0 + nr, n);
    }
    for (let i = 0; i < n; i++) {
      let c = 0;
      while (c < k && indices[i * k + c] >= 0) c++;
      lens[i] = c;
    }
    out.push({ k, indices, lens });
  }
  return out;
}

/**
 * RAT inputs for rows `rows` of `split` with their retrieval `ret` into `db` (the training
 * set): per sample the target row, then its K retrieved rows (missing ones filled with the
 * target row, masked by `lens`); label ids 2 for the target, the retrieved rows' labels.
 */
export function ratInput(
  specs: readonly FeatureSpec[],
  split: CtrData,
  rows: ArrayLike<number>,
  ret: RatRetrieval,
  db: CtrData,
): RatInput {
  const B = rows.length;
  const k = ret.k;
  const T = 1 + k;
  const labelIds = new Int32Array(B * T);
  const lens = new Int32Array(B);
  const labels = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    const r = rows[b];
    lens[b] = ret.lens[r];
    labels[b] = split.labels[r];
    labelIds[b * T] = 2;
    for (let t = 1; t < T; t++) {
      const j = ret.indices[r * k + t - 1];
      labelIds[b * T + t] = j >= 0 ? (db.labels[j] > 0.5 ? 1 : 0) : 0;
    }
  }
  const batch = ctrBatch(specs, B * T, (i) => {
    const b = Math.floor(i / T);
    const t = i % T;
    const j = t === 0 ? -1 : ret.indices[rows[b] * k + t - 1];
    return j >= 0 ? [db, j] : [split, rows[b]];
  });
  return { size: B, k, rows: batch, labelIds, lens, labels };
}
