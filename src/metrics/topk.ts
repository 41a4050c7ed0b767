/**
 * CPU top-K selection from score matrices, with per-user exclusion of already-seen items (the
 * masking step of full-ranking evaluation). Ties go to the lower item id, so results are
 * deterministic.
 * @module
 */

import type { Csr } from "../data/types.ts";

/** Rows to exclude per user: sorted CSR rows or one set per user. */
export type Exclusion = Csr | readonly (ReadonlySet<number> | undefined)[];

function excluder(ex: Exclusion | undefined, user: number): (item: number) => boolean {
  if (!ex) return () => false;
  const rows = Array.isArray(ex) ? ex.length : (ex as Csr).numRows;
  // An unchecked user id would silently mask nothing and inflate the metrics.
  if (!(user >= 0 && user < rows) || !Number.isInteger(user)) {
    throw new RangeError(`top-K exclusion: user ${user} is out of range [0, ${rows})`);
  }
  if (Array.isArray(ex)) {
    const s = (ex as readonly (ReadonlySet<number> | undefined)[])[user];
    return s ? (i) => s.has(i) : () => false;
  }
  const csr = ex as Csr;
  const idx = csr.indices;
  const lo = csr.indptr[user];
  const hi = csr.indptr[user + 1];
  if (lo === hi) return () => false;
  return (c) => {
    let a = lo;
    let b = hi;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (idx[m] === c) return true;
      if (idx[m] < c) a = m + 1;
      else b = m;
    }
    return false;
  };
}

// "a ranks before b": higher score, or equal score and lower id.
function before(sa: number, a: number, sb: number, b: number): boolean {
  return sa > sb || (sa === sb && a < b);
}

/**
 * Top-K items of each row of a row-major `numUsers × numItems` score matrix, best first.
 * Items in `exclude` for that user, and NaN scores, are skipped; rows are shorter than K
 * when fewer items remain. `users` selects which rows of `exclude` apply to each score row
 * (default: row i ↔ user i), for scoring a batch of users.
 * @throws RangeError when `scores.length` is not a multiple of `numItems` or K is not positive.
 */
export function topKFromScores(
  scores: ArrayLike<number>,
  numItems: number,
  k: number,
  exclude?: Exclusion,
  users?: ArrayLike<number>,
): Int32Array[] {
  if (!Number.isInteger(k) || k <= 0) {
    throw new RangeError(`topKFromScores: K must be a positive integer, got ${k}`);
  }
  if (numItems <= 0 || scores.length % numItems !== 0) {
    throw new RangeError(
      `topKFromScores: ${scores.length} scores is not a multiple of ${numItems} items`,
    );
  }
  const rows = scores.length / numItems;
  if (users && users.length !== rows) {
    throw new RangeError(`topKFromScores: ${rows} score rows but ${users.length} users`);
  }
  const out = new Array<Int32Array>(rows);
  const heapI = new Int32Array(k);
  const heapS = new Float64Array(k);
  for (let r = 0; r < rows; r++) {
    const isEx = excluder(exclude, users ? users[r] : r);
    const base = r * numItems;
    // Min-heap (worst at the root) of the best k seen so far.
    let n = 0;
    for (let i = 0; i < numItems; i++) {
      const s = scores[base + i];
      if (s !== s) continue; // NaN
      if (n === k && !before(s, i, heapS[0], heapI[0])) continue;
      if (isEx(i)) continue;
      if (n < k) {
        // Sift up.
        let c = n++;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (!before(heapS[p], heapI[p], s, i)) break;
          heapS[c] = heapS[p];
          heapI[c] = heapI[p];
          c = p;
        }
        heapS[c] = s;
        heapI[c] = i;
      } else {
        siftDown(heapS, heapI, n, s, i);
      }
    }
    // Pop the heap worst-first into the tail.
    const row = new Int32Array(n);
    for (let m = n; m > 0; m--) {
      row[m - 1] = heapI[0];
      const ls = heapS[m - 1];
      const li = heapI[m - 1];
      siftDown(heapS, heapI, m - 1, ls, li);
    }
    out[r] = row;
  }
  return out;
}

function siftDown(hs: Float64Array, hi: Int32Array, n: number, s: number, i: number): void {
  let c = 0;
  while (true) {
    const l = 2 * c + 1;
    if (l >= n) break;
    let w = l;
    if (l + 1 < n && before(hs[w], hi[w], hs[l + 1], hi[l + 1])) w = l + 1;
    if (!before(s, i, hs[w], hi[w])) break;
    hs[c] = hs[w];
    hi[c] = hi[w];
    c = w;
  }
  if (n > 0) {
    hs[c] = s;
    hi[c] = i;
  }
}

/**
 * Top-K lists for `numUsers` users from one score per item shared by all users (e.g. a
 * popularity baseline), skipping each user's excluded items. Sorts once, then walks the order.
 */
export function topKShared(
  itemScores: ArrayLike<number>,
  numUsers: number,
  k: number,
  exclude?: Exclusion,
): Int32Array[] {
  if (!Number.isInteger(k) || k <= 0) {
    throw new RangeError(`topKShared: K must be a positive integer, got ${k}`);
  }
  const order = Int32Array.from({ length: itemScores.length }, (_, i) => i)
    .filter((i) => itemScores[i] === itemScores[i])
    .sort((a, b) => {
      const sa = itemScores[a];
      const sb = itemScores[b];
      return sa > sb ? -1 : sa < sb ? 1 : a - b;
    });
  const out = new Array<Int32Array>(numUsers);
  for (let u = 0; u < numUsers; u++) {
    const isEx = excluder(exclude, u);
    const row = new Int32Array(Math.min(k, order.length));
    let n = 0;
    for (let j = 0; j < order.length && n < k; j++) {
      if (!isEx(order[j])) row[n++] = order[j];
    }
    out[u] = n === row.length ? row : row.slice(0, n);
  }
  return out;
}
