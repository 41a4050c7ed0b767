/**
 * Interaction preprocessing: binarisation by rating, de-duplication, k-core filtering with
 * re-indexing, and per-user chronological splits. Browser-safe.
 * @module
 */

import {
  checkInteractions,
  type Dataset,
  type Interactions,
  selectRows,
  type Split,
} from "./types.ts";

/**
 * Keep the interactions whose rating is at least `threshold` (implicit feedback from ratings,
 * e.g. ≥ 4 on MovieLens). Id spaces are unchanged; ratings are kept.
 * @throws Error when the interactions have no ratings.
 */
export function binarize(x: Interactions, threshold: number): Interactions {
  if (!x.ratings) throw new Error("binarize: interactions have no ratings");
  const r = x.ratings;
  const keep: number[] = [];
  for (let i = 0; i < r.length; i++) if (r[i] >= threshold) keep.push(i);
  return selectRows(x, keep);
}

/**
 * Drop repeated (user, item) pairs, keeping the earliest (by timestamp when present, else the
 * first row). Row order of the kept interactions is preserved.
 */
export function dedupe(x: Interactions): Interactions {
  const n = x.users.length;
  const best = new Map<number, number>();
  const t = x.timestamps;
  for (let i = 0; i < n; i++) {
    const key = x.users[i] * x.numItems + x.items[i];
    const j = best.get(key);
    if (j === undefined || (t && t[i] < t[j])) best.set(key, i);
  }
  if (best.size === n) return x;
  return selectRows(x, Int32Array.from(best.values()).sort());
}

/** Options for {@link kCore}. */
export interface KCoreOptions {
  /** Minimum interactions per user. Default 5. */
  userK?: number;
  /** Minimum interactions per item. Default 5. */
  itemK?: number;
}

/** Result of {@link kCore}: re-indexed interactions and the maps back to the old indices. */
export interface KCoreResult {
  /** Interactions with users/items re-indexed to `0 … kept-1` (old order preserved). */
  interactions: Interactions;
  /** Old user index of each new user index. */
  userIndex: Int32Array;
  /** Old item index of each new item index. */
  itemIndex: Int32Array;
}

/**
 * Iteratively remove users with fewer than `userK` and items with fewer than `itemK`
 * interactions until none remain (the k-core), then re-index both to contiguous 0-based ids.
 * Users/items without interactions are dropped too. Counts include repeated pairs; call
 * {@link dedupe} first if they should not count.
 */
export function kCore(x: Interactions, options: KCoreOptions = {}): KCoreResult {
  checkInteractions(x);
  const uk = options.userK ?? 5;
  const ik = options.itemK ?? 5;
  const n = x.users.length;
  const alive = new Uint8Array(n).fill(1);
  const uc = new Int32Array(x.numUsers);
  const ic = new Int32Array(x.numItems);
  for (let i = 0; i < n; i++) {
    uc[x.users[i]]++;
    ic[x.items[i]]++;
  }
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < n; i++) {
      if (!alive[i]) continue;
      const u = x.users[i];
      const it = x.items[i];
      if (uc[u] < uk || ic[it] < ik) {
        alive[i] = 0;
        uc[u]--;
        ic[it]--;
        changed = true;
      }
    }
  }
  const newUser = new Int32Array(x.numUsers).fill(-1);
  const newItem = new Int32Array(x.numItems).fill(-1);
  const userIndex: number[] = [];
  const itemIndex: number[] = [];
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!alive[i]) continue;
    rows.push(i);
  }
  // Number users/items in order of their old index so the mapping is monotone.
  for (const i of rows) {
    newUser[x.users[i]] = 0;
    newItem[x.items[i]] = 0;
  }
  for (let u = 0; u < x.numUsers; u++) if (newUser[u] === 0) newUser[u] = userIndex.push(u) - 1;
  for (let it = 0; it < x.numItems; it++) {
    if (newItem[it] === 0) newItem[it] = itemIndex.push(it) - 1;
  }
  const y = selectRows(x, rows);
  for (let i = 0; i < y.users.length; i++) {
    y.users[i] = newUser[y.users[i]];
    y.items[i] = newItem[y.items[i]];
  }
  y.numUsers = userIndex.length;
  y.numItems = itemIndex.length;
  return {
    interactions: y,
    userIndex: Int32Array.from(userIndex),
    itemIndex: Int32Array.from(itemIndex),
  };
}

/** {@link kCore} on a {@link Dataset}, keeping its raw-id maps in step. */
export function kCoreDataset(d: Dataset, options: KCoreOptions = {}): Dataset {
  const r = kCore(d.interactions, options);
  return {
    interactions: r.interactions,
    userIds: d.userIds.subset(r.userIndex),
    itemIds: d.itemIds.subset(r.itemIndex),
  };
}

/**
 * Rows of each user, in chronological order (stable: equal timestamps keep file order), as CSR
 * over row positions. Without timestamps the file order is used.
 */
export function rowsByUser(x: Interactions): { indptr: Int32Array; rows: Int32Array } {
  const n = x.users.length;
  const indptr = new Int32Array(x.numUsers + 1);
  for (let i = 0; i < n; i++) indptr[x.users[i] + 1]++;
  for (let u = 0; u < x.numUsers; u++) indptr[u + 1] += indptr[u];
  const fill = indptr.slice(0, x.numUsers);
  const rows = new Int32Array(n);
  for (let i = 0; i < n; i++) rows[fill[x.users[i]]++] = i;
  const t = x.timestamps;
  if (t) {
    for (let u = 0; u < x.numUsers; u++) {
      rows.subarray(indptr[u], indptr[u + 1]).sort((a, b) => t[a] - t[b] || a - b);
    }
  }
  return { indptr, rows };
}

/**
 * Sizes of the parts when splitting `total` rows by `ratios`, following RecBole's
 * `_calcu_split_ids`: each later part gets ⌊ratio·total⌋, the first part the rest, and a later
 * part whose share is between 0 and 1 row gets one row while the first part keeps at least 2.
 */
export function splitSizes(total: number, ratios: readonly number[]): number[] {
  const sum = ratios.reduce((a, b) => a + b, 0);
  const r = ratios.map((v) => v / sum);
  const cnt = r.map((v) => Math.floor(v * total));
  cnt[0] = total - cnt.slice(1).reduce((a, b) => a + b, 0);
  for (let i = 1; i < r.length; i++) {
    if (cnt[0] <= 1) break;
    const share = r[r.length - i] * total;
    if (share > 0 && share < 1) {
      cnt[r.length - i]++;
      cnt[0]--;
    }
  }
  return cnt;
}

/**
 * Per-user chronological split (RecBole's `RO` ordering with `group_by: user`): each user's
 * interactions, sorted by time, are cut into train/valid/test by `ratios` (default 8:1:1) with
 * {@link splitSizes}, so the test set holds each user's most recent interactions.
 */
export function chronologicalSplit(
  x: Interactions,
  ratios: readonly [number, number, number] = [0.8, 0.1, 0.1],
): Split {
  checkInteractions(x);
  const { indptr, rows } = rowsByUser(x);
  const parts: number[][] = [[], [], []];
  for (let u = 0; u < x.numUsers; u++) {
    const lo = indptr[u];
    const sizes = splitSizes(indptr[u + 1] - lo, ratios);
    let p = lo;
    for (let s = 0; s < 3; s++) {
      for (let j = 0; j < sizes[s]; j++) parts[s].push(rows[p++]);
    }
  }
  return {
    train: selectRows(x, parts[0]),
    valid: selectRows(x, parts[1]),
    test: selectRows(x, parts[2]),
  };
}

/**
 * Split by a per-row label, MMRec's `x_label`: 0 = train, 1 = valid, 2 = test.
 * @throws RangeError for another label value.
 */
export function splitByLabels(x: Interactions, labels: ArrayLike<number>): Split {
  if (labels.length !== x.users.length) {
    throw new RangeError(
      `splitByLabels: ${x.users.length} interactions but ${labels.length} labels`,
    );
  }
  const parts: number[][] = [[], [], []];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1 && l !== 2) {
      throw new RangeError(`splitByLabels: labels[${i}] = ${l}, expected 0, 1 or 2`);
    }
    parts[l].push(i);
  }
  return {
    train: selectRows(x, parts[0]),
    valid: selectRows(x, parts[1]),
    test: selectRows(x, parts[2]),
  };
}

/** Concatenate interaction lists over the same id spaces (e.g. train + valid for a final fit). */
export function concatInteractions(...xs: Interactions[]): Interactions {
  if (xs.length === 0) throw new Error("concatInteractions: nothing to concatenate");
  const { numUsers, numItems } = xs[0];
  for (const x of xs) {
    if (x.numUsers !== numUsers || x.numItems !== numItems) {
      throw new RangeError("concatInteractions: id spaces differ");
    }
  }
  const n = xs.reduce((a, x) => a + x.users.length, 0);
  const out: Interactions = {
    users: new Int32Array(n),
    items: new Int32Array(n),
    numUsers,
    numItems,
  };
  const withR = xs.every((x) => x.ratings);
  const withT = xs.every((x) => x.timestamps);
  if (withR) out.ratings = new Float32Array(n);
  if (withT) out.timestamps = new Float64Array(n);
  let o = 0;
  for (const x of xs) {
    out.users.set(x.users, o);
    out.items.set(x.items, o);
    if (withR) out.ratings!.set(x.ratings!, o);
    if (withT) out.timestamps!.set(x.timestamps!, o);
    o += x.users.length;
  }
  return out;
}
