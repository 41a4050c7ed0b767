/**
 * Top-K ranking metrics with the definitions of MMRec (`utils/metrics.py`) and RecBole
 * (`evaluator/metrics.py`), averaged over users that have at least one ground-truth item:
 *
 * - `recall@K` = hits in the top K / |ground truth| (MMRec `recall_`).
 * - `recall2@K` = Σ hits / Σ |ground truth| over users (MMRec `recall2_`, a micro average).
 * - `precision@K` = hits / K.
 * - `hit@K` = 1 if any hit in the top K.
 * - `mrr@K` = 1 / rank of the first hit within the top K (0 if none).
 * - `ndcg@K` = DCG / IDCG with binary gains, DCG = Σ_{hit at rank r} 1/log2(r+1) and IDCG over
 *   min(|ground truth|, K) ideal positions.
 * - `map@K` = Σ_{hit at rank r ≤ K} precision@r / min(|ground truth|, K) (MMRec/RecBole `map_`).
 *
 * Ranked lists must not repeat an item; negative entries (padding) never hit.
 * @module
 */

/** Names of the ranking metrics computed by {@link rankingMetrics}. */
export type RankingMetric = "recall" | "recall2" | "ndcg" | "precision" | "hit" | "mrr" | "map";

/** All ranking metric names. */
export const RANKING_METRICS: readonly RankingMetric[] = [
  "recall",
  "recall2",
  "ndcg",
  "precision",
  "hit",
  "mrr",
  "map",
];

/** Ground truth of one user: a set of item ids, or an array of distinct item ids. */
export type TruthSet = ReadonlySet<number> | ArrayLike<number>;

/** Options for {@link rankingMetrics}. */
export interface RankingOptions {
  /** Metrics to compute; default all of {@link RANKING_METRICS}. */
  metrics?: readonly RankingMetric[];
}

function asSet(t: TruthSet): ReadonlySet<number> {
  if (t instanceof Set) return t;
  const s = new Set<number>();
  const a = t as ArrayLike<number>;
  for (let i = 0; i < a.length; i++) s.add(a[i]);
  return s;
}

/**
 * Mean ranking metrics over users, keyed `"<metric>@<K>"` (e.g. `"ndcg@20"`), plus `"users"`:
 * the number of users averaged over. Row `u` of `topK` (the ranked item ids, best first, at
 * least max(ks) long unless fewer items exist) is scored against `truth[u]`; users with an
 * empty ground truth are skipped, as MMRec evaluates only users present in the split.
 * @throws RangeError when the row counts differ or a K is not a positive integer.
 */
export function rankingMetrics(
  topK: readonly ArrayLike<number>[],
  truth: readonly TruthSet[],
  ks: readonly number[],
  options: RankingOptions = {},
): Record<string, number> {
  if (topK.length !== truth.length) {
    throw new RangeError(
      `rankingMetrics: ${topK.length} ranked lists but ${truth.length} ground-truth sets`,
    );
  }
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k <= 0)) {
    throw new RangeError(
      `rankingMetrics: cutoffs must be positive integers, got ${JSON.stringify(ks)}`,
    );
  }
  const metrics = options.metrics ?? RANKING_METRICS;
  for (const m of metrics) {
    if (!RANKING_METRICS.includes(m)) throw new RangeError(`rankingMetrics: unknown metric '${m}'`);
  }
  const maxK = Math.max(...ks);
  // Discount 1/log2(r+1) for ranks 1..maxK and its prefix sums (the ideal DCG).
  const disc = new Float64Array(maxK);
  const idcg = new Float64Array(maxK + 1);
  for (let r = 0; r < maxK; r++) {
    disc[r] = 1 / Math.log2(r + 2);
    idcg[r + 1] = idcg[r] + disc[r];
  }
  const sums = new Map<string, number>();
  for (const m of metrics) for (const k of ks) sums.set(`${m}@${k}`, 0);
  const hitsTotal = new Float64Array(ks.length);
  let truthTotal = 0;
  let users = 0;
  for (let u = 0; u < topK.length; u++) {
    const set = asSet(truth[u]);
    const nTruth = set.size;
    if (nTruth === 0) continue;
    users++;
    truthTotal += nTruth;
    const row = topK[u];
    for (let ki = 0; ki < ks.length; ki++) {
      const k = ks[ki];
      const len = Math.min(k, row.length);
      let hits = 0;
      let dcg = 0;
      let firstHit = 0;
      let sumPrec = 0;
      for (let r = 0; r < len; r++) {
        const it = row[r];
        if (it >= 0 && set.has(it)) {
          hits++;
          dcg += disc[r];
          if (firstHit === 0) firstHit = r + 1;
          sumPrec += hits / (r + 1);
        }
      }
      hitsTotal[ki] += hits;
      const ideal = Math.min(nTruth, k);
      for (const m of metrics) {
        let v: number;
        switch (m) {
          case "recall":
            v = hits / nTruth;
            break;
          case "precision":
            v = hits / k;
            break;
          case "hit":
            v = hits > 0 ? 1 : 0;
            break;
          case "mrr":
            v = firstHit > 0 ? 1 / firstHit : 0;
            break;
          case "ndcg":
            v = dcg / idcg[ideal];
            break;
          case "map":
            v = sumPrec / ideal;
            break;
          default: // recall2 is a micro average, computed after the loop
            v = 0;
        }
        const key = `${m}@${k}`;
        sums.set(key, sums.get(key)! + v);
      }
    }
  }
  const out: Record<string, number> = {};
  for (const m of metrics) {
    for (let ki = 0; ki < ks.length; ki++) {
      const key = `${m}@${ks[ki]}`;
      if (m === "recall2") out[key] = truthTotal > 0 ? hitsTotal[ki] / truthTotal : NaN;
      else out[key] = users > 0 ? sums.get(key)! / users : NaN;
    }
  }
  out.users = users;
  return out;
}

/** Mean Recall@K (hits / |ground truth|) over users with a non-empty ground truth. */
export function recallAtK(
  topK: readonly ArrayLike<number>[],
  truth: readonly TruthSet[],
  k: number,
): number {
  return rankingMetrics(topK, truth, [k], { metrics: ["recall"] })[`recall@${k}`];
}

/** Mean NDCG@K (binary gains, ideal DCG over min(|ground truth|, K)) over users. */
export function ndcgAtK(
  topK: readonly ArrayLike<number>[],
  truth: readonly TruthSet[],
  k: number,
): number {
  return rankingMetrics(topK, truth, [k], { metrics: ["ndcg"] })[`ndcg@${k}`];
}

/** Mean Precision@K (hits / K) over users. */
export function precisionAtK(
  topK: readonly ArrayLike<number>[],
  truth: readonly TruthSet[],
  k: number,
): number {
  return rankingMetrics(topK, truth, [k], { metrics: ["precision"] })[`precision@${k}`];
}

/** Mean Hit@K (any hit in the top K) over users. */
export function hitAtK(
  topK: readonly ArrayLike<number>[],
  truth: readonly TruthSet[],
  k: number,
): number {
  return rankingMetrics(topK, truth, [k], { metrics: ["hit"] })[`hit@${k}`];
}

/** Mean MRR@K (reciprocal rank of the first hit within K) over users. */
export function mrrAtK(
  topK: readonly ArrayLike<number>[],
  truth: readonly TruthSet[],
  k: number,
): number {
  return rankingMetrics(topK, truth, [k], { metrics: ["mrr"] })[`mrr@${k}`];
}

/** Mean MAP@K (RecBole/MMRec: Σ precision at hit ranks / min(|ground truth|, K)) over users. */
export function mapAtK(
  topK: readonly ArrayLike<number>[],
  truth: readonly TruthSet[],
  k: number,
): number {
  return rankingMetrics(topK, truth, [k], { metrics: ["map"] })[`map@${k}`];
}
