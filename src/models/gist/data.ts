/**
 * GIST's cross-domain data (spec gist.md; the paper's Xiaohongshu logs are closed, so these are
 * ours): users active in a *source* domain (long engagement sequences, item text) and a sparse
 * *target* domain (CTR rows). Two builders:
 *
 * - {@link syntheticTwoDomain}: a seeded generator with planted transferable structure. Each
 *   user has a topic preference; source sequences draw items of the user's topics. With
 *   `plant: true` the user's target clicks follow the *same* preference (source behaviour
 *   predicts target clicks); with `plant: false` they follow an independent preference drawn
 *   for the target domain alone (nothing transfers). Item text is words of the item's topic,
 *   shared by both domains' vocabularies (content is domain-agnostic).
 * - {@link ml100kCrossDomain}: MovieLens-100K with genres as domains: the target domain is the
 *   movies whose genres include `targetGenre` (default Comedy), the source domain every other
 *   movie; users rate in both. Target rows: every rating of a target movie (label rating ≥ 4),
 *   split by global time 8:1:1. A user's lifelong source sequence: their ratings of source
 *   movies before the training cut-off, by time; later source ratings are the "new source
 *   data" of the incremental update. Item text: title words, genres and release decade.
 *
 * Target rows carry fields user_id, item_id (target item index) and history (the user's
 * previous ≤ 10 positive target items), as the runner's other CTR data.
 * @module
 */

import type { CtrData } from "../../data/ctr.ts";
import type { CtrSplits } from "../../train/ctr.ts";
import { Rng } from "../../random.ts";

/** Rows of ids in CSR form. */
export interface Csr {
  /** Row offsets, length rows + 1. */
  indptr: Int32Array;
  /** Ids, concatenated. */
  indices: Int32Array;
}

/** Two domains over the same users. */
export interface CrossDomainData {
  /** Name for reports. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** Users (shared). */
  users: number;
  /** Source-domain items (rows 0 … Ns−1 of `text`). */
  sourceItems: number;
  /** Target-domain items (rows Ns … Ns+Nt−1 of `text`). */
  targetItems: number;
  /** Word vocabulary size. */
  words: number;
  /** Word ids of each item's text: source items then target items. */
  text: Csr;
  /** Each user's source sequence the source stage trains on (source item ids, oldest first). */
  sourceSeq: Csr;
  /**
   * The sequences the lifelong search runs over: `sourceSeq` (synthetic), or each user's whole
   * time-ordered source history (ml-100k), of which a request sees the first
   * `limits[split][row]` items (its engagements before the request's time).
   */
  searchSeq: Csr;
  /** Per split and row, the visible prefix of the user's `searchSeq` (absent: all of it). */
  limits?: { train: Int32Array; valid: Int32Array; test: Int32Array };
  /** Source engagements that arrive later (for the incremental update), per user. */
  newSource: Csr;
  /** Target-domain CTR rows. */
  target: CtrSplits;
}

/** Options of {@link syntheticTwoDomain}. */
export interface TwoDomainOptions {
  /** Users. Default 300. */
  users?: number;
  /** Source items. Default 400. */
  sourceItems?: number;
  /** Target items. Default 200. */
  targetItems?: number;
  /** Topics. Default 8. */
  topics?: number;
  /** Source engagements per user (lifelong sequence). Default 120. */
  sourceLength?: number;
  /** Target clicks per user. Default 8. */
  targetClicks?: number;
  /** Plant transferable structure (target clicks follow the source preference). Default true. */
  plant?: boolean;
  /** Seed. Default 0. */
  seed?: number;
}

/** The per-table search limits of a dataset (for `Gist.setSource`), or undefined. */
export function searchLimits(cd: CrossDomainData): Map<CtrData, Int32Array> | undefined {
  const l = cd.limits;
  if (!l) return undefined;
  const t = cd.target;
  return new Map([[t.train, l.train], [t.valid, l.valid], [t.test, l.test]]);
}

/** Builds CSR from rows of ids. */
export function toCsr(rows: readonly (readonly number[])[]): Csr {
  const indptr = new Int32Array(rows.length + 1);
  rows.forEach((r, i) => (indptr[i + 1] = indptr[i] + r.length));
  const indices = new Int32Array(indptr[rows.length]);
  rows.forEach((r, i) => indices.set(r, indptr[i]));
  return { indptr, indices };
}

/** Row `i` of a CSR. */
export function csrRow(c: Csr, i: number): Int32Array {
  return c.indices.subarray(c.indptr[i], c.indptr[i + 1]);
}

// A user's preference: two topics, the first twice as likely (ours).
function preference(rng: Rng, topics: number): [number, number] {
  const a = rng.int(topics);
  let b = rng.int(topics);
  if (topics > 1) { while (b === a) b = rng.int(topics); }
  return [a, b];
}

/** The seeded two-domain generator (see the module doc). */
export function syntheticTwoDomain(o: TwoDomainOptions = {}): CrossDomainData {
  const U = o.users ?? 300;
  const Ns = o.sourceItems ?? 400;
  const Nt = o.targetItems ?? 200;
  const T = o.topics ?? 8;
  const L = o.sourceLength ?? 120;
  const C = o.targetClicks ?? 8;
  const plant = o.plant ?? true;
  const seed = o.seed ?? 0;
  const rng = new Rng(seed * 7919 + 11);
  // Items: topic by index (round-robin), text = 4 words of the topic's 10 + 1 of 6 shared.
  const topicOf = (i: number) => i % T;
  const byTopic = (n: number) =>
    Array.from(
      { length: T },
      (_, t) => Array.from({ length: n }, (_, i) => i).filter((i) => topicOf(i) === t),
    );
  const src = byTopic(Ns);
  const tgt = byTopic(Nt);
  const text = Array.from({ length: Ns + Nt }, (_, r) => {
    const t = topicOf(r < Ns ? r : r - Ns);
    return [...Array.from({ length: 4 }, () => t * 10 + rng.int(10)), T * 10 + rng.int(6)];
  });
  const draw = (pref: [number, number], pool: number[][]) => {
    const t = rng.uniform() < 0.8 ? pref[rng.uniform() < 2 / 3 ? 0 : 1] : rng.int(T);
    const p = pool[t];
    return p[rng.int(p.length)];
  };
  const seqs: number[][] = [];
  const fresh: number[][] = [];
  const clicks: number[][] = [];
  for (let u = 0; u < U; u++) {
    const ps = preference(rng, T);
    const pt = plant ? ps : preference(rng, T);
    const s = Array.from({ length: L }, () => draw(ps, src));
    seqs.push(s.slice(0, Math.floor(0.9 * L)));
    fresh.push(s.slice(Math.floor(0.9 * L)));
    const seen = new Set<number>();
    for (let g = 0; g < 50 * C && seen.size < Math.min(C, Nt); g++) seen.add(draw(pt, tgt));
    clicks.push([...seen]);
  }
  // CTR rows: each click and one unclicked item drawn uniformly, history = earlier clicks.
  const rows: { u: number; i: number; y: number; h: number[] }[] = [];
  for (let u = 0; u < U; u++) {
    const cs = new Set(clicks[u]);
    clicks[u].forEach((i, j) => {
      const h = clicks[u].slice(Math.max(0, j - 10), j);
      rows.push({ u, i, y: 1, h });
      let n = rng.int(Nt);
      for (let t = 0; t < 20 && cs.has(n); t++) n = rng.int(Nt);
      rows.push({ u, i: n, y: 0, h });
    });
  }
  const perm = rng.shuffle(Int32Array.from({ length: rows.length }, (_, i) => i)) as Int32Array;
  const ordered = Array.from(perm, (r) => rows[r]);
  return {
    name: `two-domain synthetic (${plant ? "planted" : "none planted"})`,
    description: `two-domain synthetic: ${U} users, ${Ns} source / ${Nt} target items, ${T} ` +
      `topics, ${L} source engagements (last 10 % new) and ${C} target clicks per user; ` +
      `${plant ? "target clicks follow the source preference" : "no transferable structure"}` +
      `, seed ${seed}; CTR rows split 8:1:1 by a seeded shuffle`,
    users: U,
    sourceItems: Ns,
    targetItems: Nt,
    words: T * 10 + 6,
    text: toCsr(text),
    sourceSeq: toCsr(seqs),
    searchSeq: toCsr(seqs),
    newSource: toCsr(fresh),
    target: splitRows("two-domain synthetic target", ordered, U, Nt),
  };
}

type Row = { u: number; i: number; y: number; h: number[] };

// 8:1:1 of rows already in their split order, as CTR tables (user_id, item_id, history).
function splitRows(name: string, rows: Row[], users: number, items: number): CtrSplits {
  const n = rows.length;
  const [a, b] = [Math.floor(0.8 * n), Math.floor(0.9 * n)];
  const table = (rs: Row[]): CtrData => {
    const hist = toCsr(rs.map((r) => r.h));
    return {
      numRows: rs.length,
      labels: Float32Array.from(rs, (r) => r.y),
      denseNames: [],
      dense: new Float32Array(0),
      sparseNames: ["user_id", "item_id"],
      sparse: Int32Array.from(rs.flatMap((r) => [r.u, r.i])),
      cardinalities: [users, items],
      sequences: [{ name: "history", ...hist, cardinality: items, vocabOf: "item_id" }],
    };
  };
  return {
    name,
    description: `${name}: ${a}/${b - a}/${n - b} train/valid/test rows`,
    train: table(rows.slice(0, a)),
    valid: table(rows.slice(a, b)),
    test: table(rows.slice(b)),
  };
}

/** Options of {@link ml100kCrossDomain}. */
export interface Ml100kDomainOptions {
  /** Genre whose movies form the target domain. Default Comedy. */
  targetGenre?: string;
}

/** MovieLens-100K with genres as domains, from the RecBole files' text (see the module doc). */
export function ml100kCrossDomainFromText(
  inter: string,
  item: string,
  o: Ml100kDomainOptions = {},
): CrossDomainData {
  const genre = o.targetGenre ?? "Comedy";
  const lines = (s: string) => s.split("\n").slice(1).filter((l) => l.trim().length > 0);
  // Items: title words, genres, decade; domain by genre.
  const meta = new Map<string, { words: string[]; target: boolean }>();
  for (const l of lines(item)) {
    const [id, title = "", year = "", cls = ""] = l.split("\t");
    const gs = cls.split(" ").filter(Boolean);
    const words = title.toLowerCase().split(/[^a-z0-9']+/).filter((w) => w.length > 1);
    const dec = /^\d{4}$/.test(year) ? [`decade:${year.slice(0, 3)}0`] : [];
    meta.set(id, {
      words: [...words, ...gs.map((g) => `genre:${g}`), ...dec],
      target: gs.includes(genre),
    });
  }
  if (![...meta.values()].some((m) => m.target)) {
    throw new Error(`wgrec gist ml100kCrossDomain: no movie has genre '${genre}' in ml-100k.item`);
  }
  const ratings = lines(inter).map((l, k) => {
    const [u, i, r, t] = l.split("\t");
    if (!meta.has(i) || !Number.isFinite(+r) || !Number.isFinite(+t)) {
      throw new Error(`wgrec gist ml100kCrossDomain: ml-100k.inter line ${k + 2}: '${l}'`);
    }
    return { u, i, r: +r, t: +t };
  }).sort((a, b) => a.t - b.t);
  const userIds = new Map<string, number>();
  for (const x of ratings) if (!userIds.has(x.u)) userIds.set(x.u, userIds.size);
  const srcIds = new Map<string, number>();
  const tgtIds = new Map<string, number>();
  for (const [id, m] of meta) {
    (m.target ? tgtIds : srcIds).set(id, (m.target ? tgtIds : srcIds).size);
  }
  const Ns = srcIds.size;
  const vocab = new Map<string, number>();
  const text: number[][] = new Array(Ns + tgtIds.size);
  for (const [id, m] of meta) {
    const row = m.target ? Ns + tgtIds.get(id)! : srcIds.get(id)!;
    text[row] = m.words.map((w) => vocab.get(w) ?? (vocab.set(w, vocab.size), vocab.size - 1));
  }
  const tgtRatings = ratings.filter((x) => tgtIds.has(x.i));
  // Training cut-off: the time of the first validation row (the source stage sees only
  // engagements before it; later ones are the incremental update's new data).
  const cut = tgtRatings[Math.floor(0.8 * tgtRatings.length)].t;
  const U = userIds.size;
  const seqs: number[][] = Array.from({ length: U }, () => []);
  const fresh: number[][] = Array.from({ length: U }, () => []);
  for (const x of ratings) {
    if (!srcIds.has(x.i)) continue;
    (x.t < cut ? seqs : fresh)[userIds.get(x.u)!].push(srcIds.get(x.i)!);
  }
  // Target rows, each with the number of the user's source ratings strictly before it.
  const past: number[][] = Array.from({ length: U }, () => []);
  const all: number[][] = Array.from({ length: U }, () => []);
  const rows: Row[] = [];
  const prefix: number[] = [];
  for (let g = 0; g < ratings.length;) {
    let e = g;
    while (e < ratings.length && ratings[e].t === ratings[g].t) e++;
    for (let j = g; j < e; j++) {
      const x = ratings[j];
      if (!tgtIds.has(x.i)) continue;
      const u = userIds.get(x.u)!;
      const i = tgtIds.get(x.i)!;
      rows.push({ u, i, y: x.r >= 4 ? 1 : 0, h: past[u].slice(-10) });
      prefix.push(all[u].length);
      if (x.r >= 4) past[u].push(i);
    }
    for (let j = g; j < e; j++) {
      const x = ratings[j];
      if (srcIds.has(x.i)) all[userIds.get(x.u)!].push(srcIds.get(x.i)!);
    }
    g = e;
  }
  const n = rows.length;
  const [a, b] = [Math.floor(0.8 * n), Math.floor(0.9 * n)];
  const lim = Int32Array.from(prefix);
  const seqLen = seqs.reduce((s, q) => s + q.length, 0) / U;
  const covered = lim.slice(b).filter((x) => x > 0).length / (n - b);
  return {
    name: `ml-100k ${genre}←rest`,
    description: `MovieLens-100K, genres as domains: target = ${tgtIds.size} ${genre} movies ` +
      `(${rows.length} ratings as CTR rows, label ≥ 4, time-ordered 8:1:1), source = ${Ns} ` +
      `other movies (mean source sequence ${seqLen.toFixed(0)} before the cut-off; ` +
      `${(100 * covered).toFixed(0)} % of test rows have source ratings before them), ` +
      `${U} users; text = title words, genres, decade (${vocab.size} words)`,
    users: U,
    sourceItems: Ns,
    targetItems: tgtIds.size,
    words: vocab.size,
    text: toCsr(text),
    sourceSeq: toCsr(seqs),
    searchSeq: toCsr(all),
    limits: { train: lim.slice(0, a), valid: lim.slice(a, b), test: lim.slice(b) },
    newSource: toCsr(fresh),
    target: splitRows(`ml-100k ${genre}`, rows, U, tgtIds.size),
  };
}
