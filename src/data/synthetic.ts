/**
 * A seeded generator of a SYNTHETIC multimodal recommendation dataset, for tests, demos and
 * benchmarks where real data is absent. Nothing here is real user behaviour.
 *
 * Generative story:
 * - K latent topics. Each item has a primary topic (sometimes a secondary one) giving a latent
 *   vector z_i ∈ R^K; each user has interest weights θ_u over 1–3 favourite topics.
 * - Item base popularity follows a power law: p_i ∝ rank_i^(−α) over a random ranking.
 * - User activity is log-normal (at least `minPerUser` interactions). A user picks items without
 *   replacement with weight p_i^β · exp(s · θ_u·z_i), so both popularity and personal taste
 *   matter and a collaborative model can beat popularity.
 * - Each user's interactions get increasing timestamps; the last ones (RecBole 8:1:1 sizes) are
 *   the valid and test interactions, so {@link chronologicalSplit} reproduces the split.
 * - Cold-start items (a fraction of items) never appear in training, only in valid/test.
 * - "Image" and "text" features are noisy linear views of z_i plus modality-specific nuisance
 *   factors (think lighting / writing style) that carry no preference signal.
 * - A CTR view: impressions exposed by popularity, clicked with probability
 *   σ(b + c·(θ_u·z_i − mean) + hour effect), with categorical fields.
 * @module
 */

import { Rng } from "../random.ts";
import type { Interactions, Split } from "./types.ts";
import { splitSizes } from "./transform.ts";

/** Options of {@link generateSynthetic}; every field has a default. */
export interface SyntheticOptions {
  /** RNG seed; the same seed and options give the same dataset. Default 0. */
  seed?: number;
  /** Number of users. Default 1000. */
  numUsers?: number;
  /** Number of items. Default 800. */
  numItems?: number;
  /** Target total number of interactions. Default 20000. */
  numInteractions?: number;
  /** Number of latent topics K. Default 8. */
  numTopics?: number;
  /** "Image" feature dimension. Default 64. */
  imageDim?: number;
  /** "Text" feature dimension. Default 48. */
  textDim?: number;
  /** Power-law exponent α of item popularity. Default 1. */
  popularityExponent?: number;
  /** Weight β of popularity in a user's choice. Default 0.6. */
  popularityWeight?: number;
  /** Strength s of topic preference in a user's choice. Default 6. */
  affinityStrength?: number;
  /** Fraction of items that are cold-start (no training interactions). Default 0.05. */
  coldItemFraction?: number;
  /** Choice-weight multiplier of cold items (new, less exposed items). Default 0.2. */
  coldItemWeight?: number;
  /** Minimum interactions per user. Default 5. */
  minPerUser?: number;
  /** Modality-specific nuisance factors per modality. Default 4. */
  nuisanceDims?: number;
  /** Std of the isotropic noise added to the features (the topic signal has std ≈ 1). Default 0.5. */
  featureNoise?: number;
  /** Number of CTR impressions. Default 20000. */
  ctrImpressions?: number;
}

/** The CTR view of a synthetic dataset. */
export interface SyntheticCtr {
  /** Names of the categorical fields, in column order. */
  fieldNames: string[];
  /** Vocabulary size of each field. */
  cardinalities: number[];
  /** Field values, `rows × fieldNames.length`, row-major. */
  fields: Int32Array;
  /** Click label (0/1) of each impression. */
  labels: Float32Array;
  /** User of each impression (for GAUC grouping). */
  users: Int32Array;
  /** Item of each impression. */
  items: Int32Array;
  /** The true click probability (a Bayes-optimal scorer's output). */
  clickProb: Float32Array;
}

/** A synthetic multimodal dataset (see the module description for how it is generated). */
export interface SyntheticDataset {
  /** All interactions, per user in time order, with ratings 1–5 and timestamps (seconds). */
  interactions: Interactions;
  /** MMRec-style `x_label` of each interaction: 0 train, 1 valid, 2 test. */
  labels: Int8Array;
  /** The chronological 8:1:1 split given by `labels`. */
  split: Split;
  /** Number of topics K. */
  numTopics: number;
  /** Primary topic of each item. */
  itemTopic: Int32Array;
  /** Latent topic vector of each item, `numItems × K`. */
  itemLatent: Float32Array;
  /** Interest weights of each user (sum 1), `numUsers × K`. */
  userInterest: Float32Array;
  /** Coarse user segment (usually the favourite topic), as a demographic-like field. */
  userSegment: Int32Array;
  /** Base popularity of each item (sums to 1). */
  popularity: Float32Array;
  /** Item ids with no training interaction. */
  coldItems: Int32Array;
  /** "Image" features, `numItems × imageDim`. */
  imageFeat: Float32Array;
  /** "Image" feature dimension. */
  imageDim: number;
  /** "Text" features, `numItems × textDim`. */
  textFeat: Float32Array;
  /** "Text" feature dimension. */
  textDim: number;
  /** CTR impressions with categorical fields and click labels. */
  ctr: SyntheticCtr;
}

/**
 * Generate a SYNTHETIC multimodal recommendation dataset, deterministic per seed. The default
 * size (1000 users, 800 items, ~20k interactions) trains in about a minute on a software GPU.
 * @throws RangeError for sizes that cannot hold the requested interactions.
 */
export function generateSynthetic(options: SyntheticOptions = {}): SyntheticDataset {
  const rng = new Rng(options.seed ?? 0);
  const U = options.numUsers ?? 1000;
  const I = options.numItems ?? 800;
  const K = options.numTopics ?? 8;
  const target = options.numInteractions ?? 20000;
  const imageDim = options.imageDim ?? 64;
  const textDim = options.textDim ?? 48;
  const alpha = options.popularityExponent ?? 1;
  const beta = options.popularityWeight ?? 0.6;
  const strength = options.affinityStrength ?? 6;
  const coldFrac = options.coldItemFraction ?? 0.05;
  const coldWeight = options.coldItemWeight ?? 0.2;
  const minPer = options.minPerUser ?? 5;
  const nuis = options.nuisanceDims ?? 4;
  const noise = options.featureNoise ?? 0.5;
  const nImp = options.ctrImpressions ?? 20000;
  const numCold = Math.round(coldFrac * I);
  if (U <= 0 || I <= 0 || K <= 0) throw new RangeError("generateSynthetic: sizes must be positive");
  if (I - numCold < minPer * 2) {
    throw new RangeError(
      `generateSynthetic: ${I - numCold} warm items cannot hold ${minPer} interactions per user`,
    );
  }

  // Items: topics and latent vectors.
  const itemTopic = new Int32Array(I);
  const itemLatent = new Float32Array(I * K);
  for (let i = 0; i < I; i++) {
    const t = rng.int(K);
    itemTopic[i] = t;
    itemLatent[i * K + t] += 1;
    if (rng.uniform() < 0.3) itemLatent[i * K + rng.int(K)] += 0.5;
    for (let k = 0; k < K; k++) itemLatent[i * K + k] += 0.1 * rng.normal();
  }

  // Users: 1–3 favourite topics with random weights, plus a little interest everywhere.
  const userInterest = new Float32Array(U * K);
  const userSegment = new Int32Array(U);
  for (let u = 0; u < U; u++) {
    const r = rng.uniform();
    const m = r < 0.5 ? 1 : r < 0.85 ? 2 : 3;
    const row = userInterest.subarray(u * K, (u + 1) * K);
    for (let j = 0; j < m; j++) row[rng.int(K)] += 0.3 + rng.uniform();
    let sum = 0;
    for (let k = 0; k < K; k++) sum += row[k] += 0.02;
    let best = 0;
    for (let k = 0; k < K; k++) {
      row[k] /= sum;
      if (row[k] > row[best]) best = k;
    }
    userSegment[u] = rng.uniform() < 0.7 ? best : rng.int(K);
  }

  // Power-law popularity over a random ranking of the items.
  const rank = rng.shuffle(Int32Array.from({ length: I }, (_, i) => i)) as Int32Array;
  const popularity = new Float32Array(I);
  let psum = 0;
  for (let i = 0; i < I; i++) psum += popularity[i] = Math.pow(rank[i] + 1, -alpha);
  for (let i = 0; i < I; i++) popularity[i] /= psum;
  const isCold = new Uint8Array(I);
  const coldItems = Int32Array.from(
    (rng.shuffle(Int32Array.from({ length: I }, (_, i) => i)) as Int32Array).subarray(0, numCold),
  ).sort();
  for (const i of coldItems) isCold[i] = 1;

  // Activity: log-normal, scaled to the target total.
  const act = new Float64Array(U);
  let asum = 0;
  for (let u = 0; u < U; u++) asum += act[u] = Math.exp(0.8 * rng.normal());
  const maxPer = Math.floor((I - numCold) / 2);
  const counts = new Int32Array(U);
  for (let u = 0; u < U; u++) {
    counts[u] = Math.min(maxPer, Math.max(minPer, Math.round((act[u] / asum) * target)));
  }

  const affinity = (u: number, i: number): number => {
    let a = 0;
    for (let k = 0; k < K; k++) a += userInterest[u * K + k] * itemLatent[i * K + k];
    return a;
  };

  // Interactions: weighted sampling without replacement by the Gumbel-top-k trick (sort by
  // ln w + Gumbel noise).
  const total = counts.reduce((a, b) => a + b, 0);
  const users = new Int32Array(total);
  const items = new Int32Array(total);
  const ratings = new Float32Array(total);
  const timestamps = new Float64Array(total);
  const labels = new Int8Array(total);
  const keys = new Float64Array(I);
  const order = new Int32Array(I);
  const logPop = Float64Array.from(popularity, (p) => beta * Math.log(p));
  const aff = new Float64Array(I);
  // New (cold) items are less exposed, so they are a small share of the holdout.
  const coldPenalty = Float64Array.from(isCold, (c) => (c ? -Math.log(coldWeight) : 0));
  const T0 = 1_600_000_000; // an arbitrary epoch start (Sept 2020)
  let w = 0;
  for (let u = 0; u < U; u++) {
    for (let i = 0; i < I; i++) {
      aff[i] = affinity(u, i);
      // Negated Gumbel-perturbed log weight: ascending order = a weighted draw order.
      keys[i] = Math.log(-Math.log(1 - rng.uniform())) - (logPop[i] + strength * aff[i]) +
        coldPenalty[i];
      order[i] = i;
    }
    order.sort((a, b) => keys[a] - keys[b]);
    const n = counts[u];
    const [nTrain, nValid] = splitSizes(n, [0.8, 0.1, 0.1]);
    // The user's n draws, in random time order, so train and holdout are exchangeable...
    const seq = Array.from(order.subarray(0, n));
    rng.shuffle(seq);
    // ...except that cold items may not be in train: swap each into the holdout, or, when the
    // holdout has no warm item left to swap with, replace it by the user's next warm draw.
    let next = n;
    let h = nTrain;
    for (let j = 0; j < nTrain; j++) {
      if (!isCold[seq[j]]) continue;
      while (h < n && isCold[seq[h]]) h++;
      if (h < n) {
        const tmp = seq[h];
        seq[h] = seq[j];
        seq[j] = tmp;
      } else {
        while (isCold[order[next]]) next++;
        seq[j] = order[next++];
      }
    }
    let t = T0 + rng.uniform() * 180 * 86400;
    for (let j = 0; j < seq.length; j++) {
      t += 60 + Math.floor(-Math.log(1 - rng.uniform()) * 3 * 86400);
      const it = seq[j];
      users[w] = u;
      items[w] = it;
      timestamps[w] = Math.floor(t);
      const z = 3 * (aff[it] - 0.3) + 0.5 * rng.normal();
      ratings[w] = Math.min(5, Math.max(1, Math.round(1 + 4 / (1 + Math.exp(-z)))));
      labels[w] = j < nTrain ? 0 : j < nTrain + nValid ? 1 : 2;
      w++;
    }
  }
  const interactions: Interactions = {
    users,
    items,
    ratings,
    timestamps,
    numUsers: U,
    numItems: I,
  };
  const parts: number[][] = [[], [], []];
  for (let r = 0; r < total; r++) parts[labels[r]].push(r);
  const pick = (rows: number[]): Interactions => ({
    users: Int32Array.from(rows, (r) => users[r]),
    items: Int32Array.from(rows, (r) => items[r]),
    ratings: Float32Array.from(rows, (r) => ratings[r]),
    timestamps: Float64Array.from(rows, (r) => timestamps[r]),
    numUsers: U,
    numItems: I,
  });
  const split: Split = { train: pick(parts[0]), valid: pick(parts[1]), test: pick(parts[2]) };

  const imageFeat = modality(rng, itemLatent, I, K, imageDim, nuis, noise);
  const textFeat = modality(rng, itemLatent, I, K, textDim, nuis, noise);
  const ctr = ctrView(rng, nImp, U, I, K, act, popularity, rank, itemTopic, userSegment, affinity);
  return {
    interactions,
    labels,
    split,
    numTopics: K,
    itemTopic,
    itemLatent,
    userInterest,
    userSegment,
    popularity,
    coldItems,
    imageFeat,
    imageDim,
    textFeat,
    textDim,
    ctr,
  };
}

/** Features = W·z_i + V·n_i + noise with random projections W (signal) and V (nuisance). */
function modality(
  rng: Rng,
  latent: Float32Array,
  I: number,
  K: number,
  dim: number,
  nuis: number,
  noise: number,
): Float32Array {
  const W = Float64Array.from({ length: dim * K }, () => rng.normal() / Math.sqrt(K) * 2);
  const V = Float64Array.from(
    { length: dim * nuis },
    () => rng.normal() / Math.sqrt(Math.max(1, nuis)),
  );
  const out = new Float32Array(I * dim);
  const n = new Float64Array(nuis);
  for (let i = 0; i < I; i++) {
    for (let j = 0; j < nuis; j++) n[j] = rng.normal();
    for (let d = 0; d < dim; d++) {
      let v = 0;
      for (let k = 0; k < K; k++) v += W[d * K + k] * latent[i * K + k];
      for (let j = 0; j < nuis; j++) v += V[d * nuis + j] * n[j];
      out[i * dim + d] = v + noise * rng.normal();
    }
  }
  return out;
}

function ctrView(
  rng: Rng,
  n: number,
  U: number,
  I: number,
  K: number,
  act: Float64Array,
  popularity: Float32Array,
  rank: Int32Array,
  itemTopic: Int32Array,
  userSegment: Int32Array,
  affinity: (u: number, i: number) => number,
): SyntheticCtr {
  const cdf = (w: ArrayLike<number>): Float64Array => {
    const c = new Float64Array(w.length);
    let s = 0;
    for (let i = 0; i < w.length; i++) c[i] = s += w[i];
    for (let i = 0; i < w.length; i++) c[i] /= s;
    return c;
  };
  const draw = (c: Float64Array): number => {
    const r = rng.uniform();
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (c[m] > r) hi = m;
      else lo = m + 1;
    }
    return lo;
  };
  // Exposure follows popularity flattened a little, as a recommender in production would.
  const userCdf = cdf(act);
  const itemCdf = cdf(Float64Array.from(popularity, (p) => Math.sqrt(p)));
  const fieldNames = [
    "user_id",
    "item_id",
    "item_topic",
    "user_segment",
    "item_pop_bucket",
    "hour",
  ];
  const popBuckets = Math.floor(Math.log2(I)) + 1;
  const cardinalities = [U, I, K, K, popBuckets, 24];
  const F = fieldNames.length;
  const fields = new Int32Array(n * F);
  const labels = new Float32Array(n);
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  const clickProb = new Float32Array(n);
  for (let r = 0; r < n; r++) {
    const u = draw(userCdf);
    const i = draw(itemCdf);
    const hour = rng.int(24);
    const evening = hour >= 18 && hour <= 22 ? 0.4 : 0;
    const logit = -2.2 + 6 * (affinity(u, i) - 0.15) + evening;
    const p = 1 / (1 + Math.exp(-logit));
    users[r] = u;
    items[r] = i;
    clickProb[r] = p;
    labels[r] = rng.uniform() < p ? 1 : 0;
    const row = r * F;
    fields[row] = u;
    fields[row + 1] = i;
    fields[row + 2] = itemTopic[i];
    fields[row + 3] = userSegment[u];
    fields[row + 4] = Math.floor(Math.log2(rank[i] + 1));
    fields[row + 5] = hour;
  }
  return { fieldNames, cardinalities, fields, labels, users, items, clickProb };
}
