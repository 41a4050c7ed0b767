/**
 * The in-memory types every loader produces: interaction lists, train/valid/test splits,
 * compressed sparse rows and raw-id ↔ index maps.
 * @module
 */

/**
 * A list of user–item interactions with 0-based contiguous ids.
 * Invariant: every `users[i]` is in `[0, numUsers)` and every `items[i]` in `[0, numItems)`.
 */
export interface Interactions {
  /** User index of each interaction. */
  users: Int32Array;
  /** Item index of each interaction. */
  items: Int32Array;
  /** Explicit rating of each interaction, when known. */
  ratings?: Float32Array;
  /** Time of each interaction (seconds since the epoch, usually), when known. */
  timestamps?: Float64Array;
  /** Number of users (ids are `0 … numUsers-1`); users may have no interactions. */
  numUsers: number;
  /** Number of items (ids are `0 … numItems-1`); items may have no interactions. */
  numItems: number;
}

/** A train/validation/test split over the same user and item index spaces. */
export interface Split {
  /** Training interactions. */
  train: Interactions;
  /** Validation interactions. */
  valid: Interactions;
  /** Test interactions. */
  test: Interactions;
}

/**
 * Compressed sparse rows: row `r` holds `indices[indptr[r] … indptr[r+1])` (sorted, distinct
 * column ids when built by {@link toCsr}).
 */
export interface Csr {
  /** Row start offsets, length `numRows + 1`. */
  indptr: Int32Array;
  /** Column ids of all rows, concatenated. */
  indices: Int32Array;
  /** Number of rows. */
  numRows: number;
  /** Number of columns (column ids are in `[0, numCols)`). */
  numCols: number;
}

/** A two-way map between raw ids (strings as read from a file) and 0-based contiguous indices. */
export class IdMap {
  /** Raw id of each index. */
  readonly ids: string[] = [];
  #index = new Map<string, number>();

  /** A map over the given raw ids, in order (duplicates are an error). */
  static from(ids: Iterable<string>): IdMap {
    const m = new IdMap();
    for (const id of ids) {
      if (m.#index.has(id)) throw new Error(`IdMap.from: duplicate id '${id}'`);
      m.add(id);
    }
    return m;
  }

  /** Number of ids. */
  get size(): number {
    return this.ids.length;
  }

  /** Index of a raw id, adding it at the end when new. */
  add(id: string): number {
    let i = this.#index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.#index.set(id, i);
      this.ids.push(id);
    }
    return i;
  }

  /** Index of a raw id, or -1 when absent. */
  get(id: string): number {
    return this.#index.get(id) ?? -1;
  }

  /** Whether a raw id is present. */
  has(id: string): boolean {
    return this.#index.has(id);
  }

  /** Raw id of an index. @throws RangeError when the index is out of range. */
  raw(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= this.ids.length) {
      throw new RangeError(`IdMap.raw: index ${index} out of range [0, ${this.ids.length})`);
    }
    return this.ids[index];
  }

  /** A new map keeping only `keep[newIndex] = oldIndex`, in that order. */
  subset(keep: ArrayLike<number>): IdMap {
    const m = new IdMap();
    for (let i = 0; i < keep.length; i++) m.add(this.raw(keep[i]));
    return m;
  }
}

/** Interactions with the id maps that turn indices back into the raw ids of the source file. */
export interface Dataset {
  /** The interactions, with user/item indices from the maps below. */
  interactions: Interactions;
  /** Raw user id ↔ user index. */
  userIds: IdMap;
  /** Raw item id ↔ item index. */
  itemIds: IdMap;
}

/** A data-format error that names the source, the 1-based line and what was expected. */
export class DataFormatError extends Error {
  /** File or source name. */
  readonly source: string;
  /** 1-based line number (0 when not tied to a line). */
  readonly line: number;

  /**
   * Build the error; the message becomes `source:line: detail`, with a detail quoting a very
   * long line (a file with no recognised line breaks) cut to its first 300 characters.
   */
  constructor(source: string, line: number, detail: string) {
    const d = detail.length > 300
      ? `${detail.slice(0, 300)}… (${detail.length - 300} more characters)`
      : detail;
    super(line > 0 ? `${source}:${line}: ${d}` : `${source}: ${d}`);
    this.name = "DataFormatError";
    this.source = source;
    this.line = line;
  }
}

/**
 * Check that every id is an integer in `[0, count)` (the boundary check before data reaches
 * a GPU gather, where an out-of-range id would read garbage silently).
 * @throws RangeError naming the array, the position and the value.
 */
export function checkIds(ids: ArrayLike<number>, count: number, what = "ids"): void {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!(v >= 0 && v < count) || !Number.isInteger(v)) {
      throw new RangeError(`${what}[${i}] = ${v} is out of range [0, ${count})`);
    }
  }
}

/** Check the invariants of an {@link Interactions} (lengths and id ranges). @throws RangeError */
export function checkInteractions(x: Interactions, what = "interactions"): void {
  const n = x.users.length;
  if (x.items.length !== n) {
    throw new RangeError(`${what}: ${n} users but ${x.items.length} items`);
  }
  if (x.ratings && x.ratings.length !== n) {
    throw new RangeError(`${what}: ${n} rows but ${x.ratings.length} ratings`);
  }
  if (x.timestamps && x.timestamps.length !== n) {
    throw new RangeError(`${what}: ${n} rows but ${x.timestamps.length} timestamps`);
  }
  checkIds(x.users, x.numUsers, `${what}.users`);
  checkIds(x.items, x.numItems, `${what}.items`);
}

/** Select rows of an {@link Interactions} by position (keeps the id spaces). */
export function selectRows(x: Interactions, rows: ArrayLike<number>): Interactions {
  const n = rows.length;
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const ratings = x.ratings ? new Float32Array(n) : undefined;
  const timestamps = x.timestamps ? new Float64Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    users[i] = x.users[r];
    items[i] = x.items[r];
    if (ratings) ratings[i] = x.ratings![r];
    if (timestamps) timestamps[i] = x.timestamps![r];
  }
  const out: Interactions = { users, items, numUsers: x.numUsers, numItems: x.numItems };
  if (ratings) out.ratings = ratings;
  if (timestamps) out.timestamps = timestamps;
  return out;
}

/**
 * Build sorted, de-duplicated CSR rows from (row, column) pairs, e.g. the train items of each
 * user for masking in full ranking (`toCsr(train.users, train.items, numUsers, numItems)`).
 * @throws RangeError for a row or column id out of range.
 */
export function toCsr(
  rows: ArrayLike<number>,
  cols: ArrayLike<number>,
  numRows: number,
  numCols: number,
): Csr {
  if (rows.length !== cols.length) {
    throw new RangeError(`toCsr: ${rows.length} rows but ${cols.length} columns`);
  }
  checkIds(rows, numRows, "toCsr rows");
  checkIds(cols, numCols, "toCsr cols");
  const counts = new Int32Array(numRows + 1);
  for (let i = 0; i < rows.length; i++) counts[rows[i] + 1]++;
  for (let r = 0; r < numRows; r++) counts[r + 1] += counts[r];
  const fill = counts.slice(0, numRows);
  const raw = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) raw[fill[rows[i]]++] = cols[i];
  // Sort each row and drop duplicates in place, compacting as we go.
  const indptr = new Int32Array(numRows + 1);
  let w = 0;
  for (let r = 0; r < numRows; r++) {
    const seg = raw.subarray(counts[r], counts[r + 1]).sort();
    let prev = -1;
    for (let j = 0; j < seg.length; j++) {
      if (seg[j] !== prev) raw[w++] = prev = seg[j];
    }
    indptr[r + 1] = w;
  }
  return { indptr, indices: raw.slice(0, w), numRows, numCols };
}

/** Per-user CSR of the items in an {@link Interactions} (sorted, distinct). */
export function userItemCsr(x: Interactions): Csr {
  return toCsr(x.users, x.items, x.numUsers, x.numItems);
}

/** Row `r` of a CSR as a view. */
export function csrRow(csr: Csr, r: number): Int32Array {
  return csr.indices.subarray(csr.indptr[r], csr.indptr[r + 1]);
}

/** Whether sorted CSR row `r` contains column `c` (binary search). */
export function csrHas(csr: Csr, r: number, c: number): boolean {
  let lo = csr.indptr[r];
  let hi = csr.indptr[r + 1];
  const idx = csr.indices;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = idx[mid];
    if (v === c) return true;
    if (v < c) lo = mid + 1;
    else hi = mid;
  }
  return false;
}

/** All rows of a CSR as views (e.g. ground-truth sets for the ranking metrics). */
export function csrRows(csr: Csr): Int32Array[] {
  const out = new Array<Int32Array>(csr.numRows);
  for (let r = 0; r < csr.numRows; r++) out[r] = csrRow(csr, r);
  return out;
}

/** Number of interactions of each item (popularity). */
export function itemCounts(x: Interactions): Int32Array {
  const c = new Int32Array(x.numItems);
  for (let i = 0; i < x.items.length; i++) c[x.items[i]]++;
  return c;
}

/** Number of interactions of each user. */
export function userCounts(x: Interactions): Int32Array {
  const c = new Int32Array(x.numUsers);
  for (let i = 0; i < x.users.length; i++) c[x.users[i]]++;
  return c;
}
