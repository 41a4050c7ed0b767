/**
 * Seeded samplers for training: uniform negatives that avoid each user's training history,
 * shuffled mini-batches of (user, positive, negative) triples for pairwise losses such as BPR,
 * and item samplers with log-probabilities (log q) for sampled-softmax logit correction.
 * Everything draws from a caller-supplied {@link Rng}, so runs are reproducible. Browser-safe.
 * @module
 */

import type { Rng } from "../random.ts";
import { checkInteractions, type Csr, csrHas, type Interactions } from "./types.ts";

/**
 * One uniform negative for a user: an item in `[0, numCols)` not in the user's sorted CSR row.
 * Rejection sampling while the row is sparse; for dense rows (over half the items), the r-th
 * non-history item is found directly so the cost stays bounded.
 * @throws RangeError when the user has interacted with every item.
 */
export function sampleNegative(user: number, history: Csr, rng: Rng): number {
  const n = history.numCols;
  const lo = history.indptr[user];
  const len = history.indptr[user + 1] - lo;
  if (len >= n) {
    throw new RangeError(`sampleNegative: user ${user} has interacted with all ${n} items`);
  }
  if (len * 2 <= n) {
    while (true) {
      const c = rng.int(n);
      if (!csrHas(history, user, c)) return c;
    }
  }
  // Map r ∈ [0, n-len) to the r-th item outside the sorted history row.
  let r = rng.int(n - len);
  const idx = history.indices;
  for (let j = 0; j < len; j++) {
    if (idx[lo + j] <= r) r++;
    else break;
  }
  return r;
}

/**
 * `numNeg` uniform negatives per user (row-major: negatives of `users[i]` are at
 * `i*numNeg … i*numNeg+numNeg-1`), never from that user's `history` row. Negatives of one user
 * may repeat.
 * @throws RangeError for a user id outside the history rows or a user with no possible negative.
 */
export function sampleNegatives(
  users: ArrayLike<number>,
  history: Csr,
  rng: Rng,
  numNeg = 1,
): Int32Array {
  const out = new Int32Array(users.length * numNeg);
  for (let i = 0; i < users.length; i++) {
    const u = users[i];
    if (!(u >= 0 && u < history.numRows) || !Number.isInteger(u)) {
      throw new RangeError(
        `sampleNegatives: users[${i}] = ${u} is out of range [0, ${history.numRows})`,
      );
    }
    for (let j = 0; j < numNeg; j++) out[i * numNeg + j] = sampleNegative(u, history, rng);
  }
  return out;
}

/** A mini-batch of training triples. */
export interface TripletBatch {
  /** User of each triple. */
  users: Int32Array;
  /** Observed (positive) item of each triple. */
  pos: Int32Array;
  /** Negatives, `users.length × numNeg`, row-major. */
  neg: Int32Array;
}

/** Options for {@link tripletBatches}. */
export interface TripletOptions {
  /** Negatives per positive. Default 1. */
  numNeg?: number;
  /** Drop the last, smaller batch. Default false. */
  dropLast?: boolean;
}

/**
 * One epoch of shuffled (user, positive, negative) mini-batches over the training interactions.
 * `history` is usually `userItemCsr(train)`; negatives avoid it.
 * @throws RangeError when the training ids are out of range or history does not match.
 */
export function* tripletBatches(
  train: Interactions,
  history: Csr,
  batchSize: number,
  rng: Rng,
  options: TripletOptions = {},
): Generator<TripletBatch> {
  checkInteractions(train, "train");
  if (history.numRows !== train.numUsers || history.numCols !== train.numItems) {
    throw new RangeError(
      `tripletBatches: history is ${history.numRows}×${history.numCols} but train has ${train.numUsers} users × ${train.numItems} items`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize <= 0) {
    throw new RangeError(`tripletBatches: batch size must be a positive integer, got ${batchSize}`);
  }
  const numNeg = options.numNeg ?? 1;
  const n = train.users.length;
  const order = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    if (size < batchSize && options.dropLast) return;
    const users = new Int32Array(size);
    const pos = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      const r = order[start + i];
      users[i] = train.users[r];
      pos[i] = train.items[r];
    }
    yield { users, pos, neg: sampleNegatives(users, history, rng, numNeg) };
  }
}

/** Items drawn for sampled softmax, with the log-probability of each draw. */
export interface ItemSample {
  /** Sampled item ids (with replacement). */
  items: Int32Array;
  /** log q(item) of each sampled item, to subtract from its logit. */
  logQ: Float32Array;
}

/** An item proposal distribution q for sampled softmax. */
export interface ItemSampler {
  /** Number of items. */
  readonly numItems: number;
  /** Draw `n` items with replacement. */
  sample(n: number, rng: Rng): ItemSample;
  /** log q of given items (e.g. the in-batch positives, for the logQ correction). */
  logProb(items: ArrayLike<number>): Float32Array;
}

/** Uniform proposal: q(i) = 1 / numItems. */
export class UniformSampler implements ItemSampler {
  /** Number of items. */
  readonly numItems: number;
  #logq: number;

  /** A uniform sampler over `numItems` items. */
  constructor(numItems: number) {
    if (!Number.isInteger(numItems) || numItems <= 0) {
      throw new RangeError(`UniformSampler: numItems must be a positive integer, got ${numItems}`);
    }
    this.numItems = numItems;
    this.#logq = -Math.log(numItems);
  }

  /** Draw `n` items uniformly with replacement. */
  sample(n: number, rng: Rng): ItemSample {
    const items = new Int32Array(n);
    for (let i = 0; i < n; i++) items[i] = rng.int(this.numItems);
    return { items, logQ: new Float32Array(n).fill(this.#logq) };
  }

  /** log(1 / numItems) for every item. */
  logProb(items: ArrayLike<number>): Float32Array {
    return new Float32Array(items.length).fill(this.#logq);
  }
}

/** Options for {@link PopularitySampler}. */
export interface PopularityOptions {
  /** q(i) ∝ (count_i + smoothing)^power. Default 1 (word2vec uses 0.75). */
  power?: number;
  /** Added to every count so unseen items can be drawn. Default 0. */
  smoothing?: number;
}

/**
 * Popularity proposal q(i) ∝ (count_i + smoothing)^power, drawn in O(1) with Walker's alias
 * method (Vose's construction).
 */
export class PopularitySampler implements ItemSampler {
  /** Number of items. */
  readonly numItems: number;
  /** log q of each item (−Infinity for items that are never drawn). */
  readonly logQ: Float32Array;
  #prob: Float64Array;
  #alias: Int32Array;

  /**
   * Build from per-item counts (e.g. `itemCounts(train)`).
   * @throws RangeError when a count is negative or all weights are zero.
   */
  constructor(counts: ArrayLike<number>, options: PopularityOptions = {}) {
    const n = counts.length;
    const power = options.power ?? 1;
    const smooth = options.smoothing ?? 0;
    const w = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const c = counts[i] + smooth;
      if (!(c >= 0)) {
        throw new RangeError(`PopularitySampler: counts[${i}] = ${counts[i]} is negative`);
      }
      w[i] = c === 0 ? 0 : Math.pow(c, power);
      total += w[i];
    }
    if (!(total > 0)) throw new RangeError("PopularitySampler: all item weights are zero");
    this.numItems = n;
    this.logQ = new Float32Array(n);
    for (let i = 0; i < n; i++) this.logQ[i] = Math.log(w[i] / total);
    // Vose's alias table: prob[i] is the chance to keep column i, else take alias[i].
    const prob = new Float64Array(n);
    const alias = new Int32Array(n);
    const scaled = w.map((x) => (x * n) / total);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) (scaled[i] < 1 ? small : large).push(i);
    while (small.length && large.length) {
      const s = small.pop()!;
      const l = large.pop()!;
      prob[s] = scaled[s];
      alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of large) prob[i] = 1;
    for (const i of small) prob[i] = 1; // only rounding leftovers land here
    this.#prob = prob;
    this.#alias = alias;
  }

  /** Draw `n` items with replacement from q. */
  sample(n: number, rng: Rng): ItemSample {
    const items = new Int32Array(n);
    const logQ = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const col = rng.int(this.numItems);
      const it = rng.uniform() < this.#prob[col] ? col : this.#alias[col];
      items[i] = it;
      logQ[i] = this.logQ[it];
    }
    return { items, logQ };
  }

  /** log q of given items. @throws RangeError for an id out of range. */
  logProb(items: ArrayLike<number>): Float32Array {
    const out = new Float32Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i];
      if (!(it >= 0 && it < this.numItems)) {
        throw new RangeError(
          `PopularitySampler.logProb: items[${i}] = ${it} is out of range [0, ${this.numItems})`,
        );
      }
      out[i] = this.logQ[it];
    }
    return out;
  }
}
