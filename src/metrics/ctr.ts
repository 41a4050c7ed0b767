/**
 * Click-through-rate metrics: AUC (ties count one half, as scikit-learn's `roc_auc_score`),
 * GAUC (group-weighted AUC) and LogLoss (clipped, as DeepCTR/FuxiCTR evaluate).
 * @module
 */

// Comparator safe for ±Infinity (a difference would give NaN for equal infinities).
function cmp(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkBinary(labels: ArrayLike<number>, scores: ArrayLike<number>, fn: string): void {
  if (labels.length !== scores.length) {
    throw new RangeError(`${fn}: ${labels.length} labels but ${scores.length} scores`);
  }
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) throw new RangeError(`${fn}: labels[${i}] = ${y}, expected 0 or 1`);
    if (Number.isNaN(scores[i])) throw new RangeError(`${fn}: scores[${i}] is NaN`);
  }
}

/**
 * AUC of the contiguous run `idx[lo..hi)` already sorted by ascending score, by the rank-sum
 * (Mann–Whitney) formula with tied scores sharing their average rank. NaN for a single class.
 */
function runAuc(
  idx: Int32Array,
  lo: number,
  hi: number,
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
): number {
  let pos = 0;
  let rankSum = 0;
  let i = lo;
  while (i < hi) {
    let j = i + 1;
    const s = scores[idx[i]];
    while (j < hi && scores[idx[j]] === s) j++;
    // Ranks i-lo+1 … j-lo share their mean.
    const avg = (i - lo + 1 + (j - lo)) / 2;
    for (let t = i; t < j; t++) {
      if (labels[idx[t]] === 1) {
        pos++;
        rankSum += avg;
      }
    }
    i = j;
  }
  const neg = hi - lo - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Area under the ROC curve for 0/1 labels; tied scores count 1/2 (equal to scikit-learn's
 * `roc_auc_score`).
 * @throws RangeError when lengths differ, a label is not 0/1, a score is NaN, or only one class
 * is present (AUC is undefined then).
 */
export function auc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkBinary(labels, scores, "auc");
  const idx = Int32Array.from({ length: labels.length }, (_, i) => i).sort((a, b) =>
    cmp(scores[a], scores[b])
  );
  const v = runAuc(idx, 0, idx.length, labels, scores);
  if (Number.isNaN(v)) {
    throw new RangeError("auc: only one class present in labels; AUC is undefined");
  }
  return v;
}

/** Result of {@link gauc}. */
export interface GaucResult {
  /** Σ weight_g · AUC_g / Σ weight_g over the groups with both classes. */
  gauc: number;
  /** Number of groups that contributed. */
  groups: number;
  /** Number of groups skipped because they held a single class. */
  skipped: number;
}

/**
 * Group AUC: the AUC of each group (a user, or an impression) weighted by the group's number of
 * samples, skipping groups that contain a single class (their AUC is undefined), as in the
 * DIN/MIND evaluation code. `gauc` is NaN when no group has both classes.
 * @throws RangeError when lengths differ, a label is not 0/1 or a score is NaN.
 */
export function gauc(
  labels: ArrayLike<number>,
  scores: ArrayLike<number>,
  groups: ArrayLike<number>,
): GaucResult {
  checkBinary(labels, scores, "gauc");
  if (groups.length !== labels.length) {
    throw new RangeError(`gauc: ${labels.length} labels but ${groups.length} group ids`);
  }
  const idx = Int32Array.from({ length: labels.length }, (_, i) => i).sort((a, b) =>
    cmp(groups[a], groups[b]) || cmp(scores[a], scores[b])
  );
  let num = 0;
  let den = 0;
  let used = 0;
  let skipped = 0;
  let lo = 0;
  while (lo < idx.length) {
    let hi = lo + 1;
    const g = groups[idx[lo]];
    while (hi < idx.length && groups[idx[hi]] === g) hi++;
    const a = runAuc(idx, lo, hi, labels, scores);
    if (Number.isNaN(a)) skipped++;
    else {
      num += a * (hi - lo);
      den += hi - lo;
      used++;
    }
    lo = hi;
  }
  return { gauc: den > 0 ? num / den : NaN, groups: used, skipped };
}

/**
 * Mean binary cross-entropy −[y·log p + (1−y)·log(1−p)] with p clipped to [eps, 1−eps].
 * @param eps clipping bound, default 1e-7
 * @throws RangeError when lengths differ, the input is empty, a label is not 0/1, or a
 * probability is outside [0, 1] or NaN.
 */
export function logLoss(labels: ArrayLike<number>, probs: ArrayLike<number>, eps = 1e-7): number {
  checkBinary(labels, probs, "logLoss");
  if (labels.length === 0) throw new RangeError("logLoss: empty input");
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const raw = probs[i];
    if (!(raw >= 0 && raw <= 1)) {
      throw new RangeError(`logLoss: probs[${i}] = ${raw}, expected a probability in [0, 1]`);
    }
    const p = Math.min(Math.max(raw, eps), 1 - eps);
    sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return sum / labels.length;
}
