/**
 * Data of the runner's tasks, from `--data SPEC`:
 *
 * - retrieval (and pretraining): the embedded synthetic data (default, `embedded`;
 *   `synthetic:users=60,items=40,interactions=600,topics=4,seed=0` for another draw), a
 *   RecBole atomic folder (`<dir>/<name>.inter` with a typed header; ml-100k gets titles and
 *   genres as content, ratings ≥ 4 as positives and a chronological 8:1:1 split) or an MMRec
 *   folder (`<name>.inter` + `image_feat.npy`/`text_feat.npy`);
 * - CTR: a CSV file (Criteo, Avazu or MovieLens-with-attributes layout, src/runner/ctr_data.ts);
 * - impressions: a MIND folder or impressions drawn from retrieval data
 *   (src/runner/impression_data.ts).
 *
 * A folder whose name differs from its `.inter` stem needs `--name STEM`; the error says so.
 * @module
 */

import { generateSynthetic, type SyntheticOptions } from "../data/synthetic.ts";
import { binarize, chronologicalSplit, dedupe } from "../data/transform.ts";
import { loadMMRec, loadRecBole } from "../data/files.ts";
import { alignRows } from "../data/recbole.ts";
import type { IdMap, Split } from "../data/types.ts";
import { Vocab } from "../data/vocab.ts";

/** One feature row per item, row-major `[items, dim]`. */
export interface FeatureTable {
  /** Values. */
  data: Float32Array;
  /** Columns. */
  dim: number;
}

/** A top-K retrieval dataset: a split, optional content features and raw ids. */
export interface RetrievalData {
  /** Name for reports. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** Train/valid/test interactions (ids 0-based). */
  split: Split;
  /** Modality A per item ("image"; genres + year on ml-100k). */
  image?: FeatureTable;
  /** Modality B per item ("text"; title words on ml-100k). */
  text?: FeatureTable;
  /** Precomputed unified features (skip stage 1), e.g. the official BEiT-3 `image_feat.npy`. */
  unified?: FeatureTable;
  /** Item text (titles) per item index, when the data has it (text models, e.g. OLEO). */
  itemText?: string[];
  /** Raw user / item ids of the file (for reports), when the indices are not the file's ids. */
  rawIds?: { users: IdMap; items: IdMap };
}

/**
 * Options of the embedded SYNTHETIC dataset (src/data/synthetic.ts). The generator's defaults
 * describe 8 coarse topics, which collaborative filtering alone learns almost perfectly; here
 * items have 24 finer topics, users ~10 interactions (sparse, as the Amazon sets of the paper),
 * and the two modalities are noisy views of the topics without extra nuisance factors — the
 * regime where content features help a recommender.
 */
export const EMBEDDED: SyntheticOptions = {
  seed: 0,
  numUsers: 1500,
  numItems: 1000,
  numInteractions: 15000,
  numTopics: 24,
  nuisanceDims: 0,
  featureNoise: 0.3,
};

/** A smaller draw of the same generator for CI tests. */
export const EMBEDDED_SMALL: SyntheticOptions = {
  ...EMBEDDED,
  numUsers: 600,
  numItems: 400,
  numInteractions: 6000,
};

/** The embedded synthetic dataset (generated, deterministic per options). */
export function embeddedData(options: SyntheticOptions = EMBEDDED): RetrievalData {
  const ds = generateSynthetic(options);
  const n = ds.split.train.users.length + ds.split.valid.users.length + ds.split.test.users.length;
  return {
    name: "embedded synthetic",
    description: `SYNTHETIC: ${ds.split.train.numUsers} users, ${ds.split.train.numItems} items, ` +
      `${n} interactions, ${ds.numTopics} topics; "image" ${ds.imageDim}-d and "text" ` +
      `${ds.textDim}-d features (src/data/synthetic.ts, seed ${options.seed ?? 0})`,
    split: ds.split,
    image: { data: ds.imageFeat, dim: ds.imageDim },
    text: { data: ds.textFeat, dim: ds.textDim },
    itemText: topicText(ds.itemTopic, options.seed ?? 0),
  };
}

/**
 * Pseudo-titles for the synthetic items, so text models run on it: five words drawn from the
 * item's primary topic's own 12-word vocabulary (`t3w7` …) and one shared word, seeded.
 */
function topicText(itemTopic: Int32Array, seed: number): string[] {
  let s = (seed * 2654435761 + 12345) >>> 0;
  const next = (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
  return Array.from(itemTopic, (t) => {
    const words = Array.from({ length: 5 }, () => `t${t}w${next(12)}`);
    return [...words, `common${next(4)}`].join(" ");
  });
}

/**
 * An MMRec dataset folder `<dir>/<name>.inter` (+ `image_feat.npy`, `text_feat.npy`). With
 * both feature files, stage 1 fuses them; with one, it is taken as the unified feature (the
 * official AlignRec pipeline stores its BEiT-3 output as `image_feat.npy`).
 */
export async function mmrecData(dir: string, name?: string): Promise<RetrievalData> {
  const base = name ?? stemOf(dir);
  await requireInter(dir, base, name);
  const d = await loadMMRec(dir, base);
  const out: RetrievalData = {
    name: base,
    description: `MMRec folder ${dir}: ${d.split.train.numUsers} users, ` +
      `${d.split.train.numItems} items, ${d.interactions.users.length} interactions`,
    split: d.split,
  };
  if (d.imageFeat && d.textFeat) {
    out.image = d.imageFeat;
    out.text = d.textFeat;
  } else if (d.imageFeat || d.textFeat) out.unified = d.imageFeat ?? d.textFeat;
  else throw new Error(`${dir}: no image_feat.npy or text_feat.npy (AlignRec needs features)`);
  return out;
}

/**
 * MovieLens-100K (RecBole atomic files): ratings ≥ 4 are positives (repeats dropped), each
 * user's positives split by time 8:1:1. Modality A = genres (multi-hot) + release decade
 * (one-hot); modality B = TF-IDF of title words seen in at least two titles.
 */
export async function ml100kData(dir: string): Promise<RetrievalData> {
  await requireInter(dir, "ml-100k", "ml-100k");
  const { dataset, item } = await loadRecBole(dir, "ml-100k");
  if (!item) throw new Error(`${dir}: ml-100k.item is missing (titles and genres are needed)`);
  const x = dedupe(binarize(dataset.interactions, 4));
  const split = chronologicalSplit(x, [0.8, 0.1, 0.1]);
  const ni = x.numItems;
  const rows = alignRows(item, "item_id", dataset.itemIds);
  const col = <T>(name: string) => (item.columns[name]?.values ?? []) as T[];
  const genres = col<string[]>("class");
  const years = col<string>("release_year");
  const titles = col<string[]>("movie_title");
  // Modality A: genres + decade.
  const genreVocab = Vocab.fit(genres.flat());
  const decades = [...new Set(years.filter((y) => /^\d{4}$/.test(y)).map((y) => decade(y)))]
    .sort();
  const dimA = genreVocab.size - 1 + decades.length;
  const a = new Float32Array(ni * dimA);
  // Modality B: title words (lower case, letters and digits), TF-IDF over items.
  const words = (r: number) =>
    r < 0 ? [] : titles[r].join(" ").toLowerCase().split(/[^a-z0-9']+/).filter((w) => w.length > 1);
  const df = new Map<string, number>();
  for (let i = 0; i < ni; i++) {
    for (const w of new Set(words(rows[i]))) df.set(w, (df.get(w) ?? 0) + 1);
  }
  const wordVocab = Vocab.fromCounts(df, { minCount: 2 });
  const dimB = wordVocab.size - 1;
  const b = new Float32Array(ni * dimB);
  for (let i = 0; i < ni; i++) {
    const r = rows[i];
    if (r < 0) continue;
    for (const g of genres[r]) {
      const k = genreVocab.encode(g);
      if (k > 0) a[i * dimA + k - 1] = 1;
    }
    const dIdx = /^\d{4}$/.test(years[r]) ? decades.indexOf(decade(years[r])) : -1;
    if (dIdx >= 0) a[i * dimA + genreVocab.size - 1 + dIdx] = 1;
    for (const w of words(r)) {
      const k = wordVocab.encode(w);
      if (k > 0) b[i * dimB + k - 1] += Math.log(ni / df.get(w)!);
    }
  }
  return {
    name: "ml-100k",
    description: `MovieLens-100K (${dir}): ratings ≥ 4, chronological 8:1:1; ` +
      `${x.numUsers} users, ${ni} items, ${x.users.length} positives; modalities: ` +
      `genres+decade (${dimA}-d), title words TF-IDF (${dimB}-d)`,
    split,
    image: { data: a, dim: dimA },
    text: { data: b, dim: dimB },
    rawIds: { users: dataset.userIds, items: dataset.itemIds },
    itemText: Array.from(rows, (r) => (r < 0 ? "" : titles[r].join(" "))),
  };
}

function decade(y: string): string {
  return `${y.slice(0, 3)}0s`;
}

/** The folder's last path component (the default `.inter` stem). */
function stemOf(dir: string): string {
  return dir.replace(/\/+$/, "").split("/").pop()!;
}

/** Refuses a folder without `<stem>.inter`, naming the stems it has and the `--name` flag. */
async function requireInter(dir: string, stem: string, given?: string): Promise<void> {
  let names: string[];
  try {
    names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch {
    throw new Error(`data folder ${dir} does not exist or is not a folder`);
  }
  if (names.includes(`${stem}.inter`)) return;
  const inters = names.filter((n) => n.endsWith(".inter")).map((n) => n.slice(0, -6));
  throw new Error(
    `${dir}/${stem}.inter: no such file` +
      (inters.length
        ? `; the folder has ${inters.map((s) => s + ".inter").join(", ")}: pass --name ` +
          `${inters[0]} (the file stem) when it differs from the folder name`
        : given
        ? ""
        : `; expected a RecBole or MMRec folder holding <name>.inter (pass --name NAME)`),
  );
}

/** Synthetic options from `synthetic:users=60,items=40,interactions=600,topics=4,seed=0`. */
export function syntheticSpec(spec: string): SyntheticOptions {
  const keys: Record<string, keyof SyntheticOptions> = {
    users: "numUsers",
    items: "numItems",
    interactions: "numInteractions",
    topics: "numTopics",
    seed: "seed",
    noise: "featureNoise",
  };
  const o: SyntheticOptions = { ...EMBEDDED };
  for (const kv of spec.slice("synthetic:".length).split(",").filter(Boolean)) {
    const [k, v] = kv.split("=");
    const n = Number(v);
    if (!(k in keys) || !Number.isFinite(n)) {
      throw new Error(
        `data '${spec}': '${kv}' is not one of ${Object.keys(keys).join(", ")} = number`,
      );
    }
    (o as Record<string, number>)[keys[k]] = n;
  }
  return o;
}

/**
 * Retrieval data from a `--data` spec: `embedded` (default), `synthetic:…`, or a RecBole / MMRec
 * folder (`name` is the `.inter` stem when it differs from the folder's name).
 */
export async function loadRetrievalData(spec = "embedded", name?: string): Promise<RetrievalData> {
  if (spec === "embedded") return embeddedData();
  if (spec.startsWith("synthetic:")) return embeddedData(syntheticSpec(spec));
  let isDir = false;
  try {
    isDir = (await Deno.stat(spec)).isDirectory;
  } catch {
    throw new Error(
      `data '${spec}' does not exist; expected 'embedded', 'synthetic:…' or a RecBole/MMRec folder`,
    );
  }
  if (!isDir) {
    throw new Error(
      `data '${spec}' is a file; the retrieval task expects a folder with <name>.inter ` +
        `(RecBole atomic or MMRec), 'embedded' or 'synthetic:…'`,
    );
  }
  const stem = name ?? stemOf(spec);
  await requireInter(spec, stem, name);
  const head = (await Deno.readTextFile(`${spec}/${stem}.inter`)).split(/\r?\n/, 1)[0];
  if (/:(token|float)/.test(head)) {
    if (stem === "ml-100k") return ml100kData(spec);
    return recboleData(spec, stem);
  }
  return mmrecData(spec, stem);
}

/**
 * A RecBole atomic folder without a content recipe: ratings ≥ 4 are positives when there is a
 * rating column, repeats dropped, each user's positives split by time 8:1:1; no features.
 */
export async function recboleData(dir: string, name: string): Promise<RetrievalData> {
  const { dataset } = await loadRecBole(dir, name);
  const x = dedupe(
    dataset.interactions.ratings ? binarize(dataset.interactions, 4) : dataset.interactions,
  );
  const split = chronologicalSplit(x, [0.8, 0.1, 0.1]);
  return {
    name,
    description: `RecBole folder ${dir}: ${x.numUsers} users, ${x.numItems} items, ` +
      `${x.users.length} interactions, chronological 8:1:1`,
    split,
    rawIds: { users: dataset.userIds, items: dataset.itemIds },
  };
}
