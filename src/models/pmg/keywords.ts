/**
 * PMG step 1 and the keyword channel (spec §5.1 items 1–2, §5.2 item 1): a user's behaviour
 * (the items of their history) becomes a natural-language description by templates over the
 * items' titles, years and genres; preference keywords are the description's top-k words by
 * TF-IDF over all users' descriptions (the paper asks LLaMA-2 for `style_keyword_num = 8`
 * keywords; TF-IDF is our documented substitute). Template words occur in every description,
 * so their idf is 0 and they never become keywords. Target-item keywords follow the official
 * movie prompt, "named '<title>'" plus metadata, truncated: the title words and the decade
 * (genres withheld, so a generator must infer them: that is where the user's preference
 * pulls and where accuracy is measured).
 * @module
 */

/** Item metadata: words of the title, genres, release decade ("" when unknown). */
export interface ItemCatalog {
  /** Lower-case title words per item. */
  titles: string[][];
  /** Genre words per item (lower case, e.g. "comedy"). */
  genres: string[][];
  /** Decade per item, e.g. "1990s" ("" when unknown). */
  decades: string[];
}

/** Lower-case words of a title (letters, digits, apostrophes; one-letter words dropped). */
export function titleWords(title: string): string[] {
  return title.toLowerCase().split(/[^a-z0-9']+/).filter((w) => w.length > 1);
}

/**
 * The catalogue from a RecBole `.item` file (`item_id`, `movie_title`, `release_year`,
 * `class` fields, as ml-100k's), rows aligned to `rawItems` (the data's item ids; items
 * missing from the file get empty metadata). `source` names the file in errors.
 */
export function catalogFromItemFile(
  text: string,
  rawItems: { size: number; raw(i: number): string },
  source = "<item file>",
): ItemCatalog {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const head = (lines[0] ?? "").split("\t").map((h) => h.split(":")[0]);
  const col = (n: string) => {
    const k = head.indexOf(n);
    if (k < 0) {
      throw new Error(
        `wgrec pmg: ${source} line 1 has no '${n}' field; expected item_id, movie_title, ` +
          `release_year, class (got ${head.join(", ")})`,
      );
    }
    return k;
  };
  const [cId, cTitle, cYear, cClass] = ["item_id", "movie_title", "release_year", "class"].map(col);
  const byId = new Map<string, string[]>();
  for (const l of lines.slice(1)) {
    const f = l.split("\t");
    byId.set(f[cId], f);
  }
  const cat: ItemCatalog = { titles: [], genres: [], decades: [] };
  for (let i = 0; i < rawItems.size; i++) {
    const f = byId.get(rawItems.raw(i));
    cat.titles.push(f ? titleWords(f[cTitle] ?? "") : []);
    cat.genres.push(f ? (f[cClass] ?? "").toLowerCase().split(/\s+/).filter((g) => g) : []);
    const y = f?.[cYear] ?? "";
    cat.decades.push(/^\d{4}$/.test(y) ? `${y.slice(0, 3)}0s` : "");
  }
  return cat;
}

/** What {@link catalogFromData} reads of the runner's data (a `RetrievalData`). */
export interface CatalogSource {
  /** The split (for the number of items). */
  split: { train: { numItems: number } };
  /** Item feature tables [N, dim], the first present one taken as attributes. */
  image?: { data: Float32Array; dim: number };
  /** See {@link image}. */
  unified?: { data: Float32Array; dim: number };
  /** See {@link image}. */
  text?: { data: Float32Array; dim: number };
  /** Item text (titles) per item. */
  itemText?: string[];
}

/**
 * A catalogue from runner data without an item file: title words from `itemText`, and as
 * "genres" the item's attribute columns of the `image` table (multi-hot columns > 0.5 when
 * the table is binary, else its two largest), named `a<column>`; no decades.
 */
export function catalogFromData(data: CatalogSource): ItemCatalog {
  const n = data.split.train.numItems;
  const img = data.image ?? data.unified ?? data.text;
  const binary = img ? img.data.every((v) => v === 0 || v === 1) : false;
  const cat: ItemCatalog = { titles: [], genres: [], decades: [] };
  for (let i = 0; i < n; i++) {
    cat.titles.push(titleWords(data.itemText?.[i] ?? ""));
    const g: string[] = [];
    if (img) {
      const row = img.data.subarray(i * img.dim, (i + 1) * img.dim);
      if (binary) row.forEach((v, k) => v > 0.5 && g.push(`a${k}`));
      else {
        const order = [...row.keys()].sort((a, b) => row[b] - row[a] || a - b);
        for (const k of order.slice(0, 2)) g.push(`a${k}`);
      }
    }
    cat.genres.push(g);
    cat.decades.push("");
  }
  return cat;
}

/** The template sentence of one item: "<title> (<decade>), a <genres> movie." */
export function describeItem(cat: ItemCatalog, i: number): string {
  const when = cat.decades[i] ? ` (${cat.decades[i]})` : "";
  const g = cat.genres[i].length ? cat.genres[i].join(" and ") : "unlabelled";
  return `${cat.titles[i].join(" ")}${when}, a ${g} movie.`;
}

/** A user's behaviour in natural language: one template sentence per history item. */
export function describeUser(cat: ItemCatalog, history: ArrayLike<number>): string {
  const parts = Array.from(history, (i) => describeItem(cat, i));
  return `The user watched and liked: ${parts.join(" ")}`;
}

/** Words of a description (the tokens TF-IDF counts). */
export function descriptionWords(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9']+/).filter((w) => w.length > 1);
}

/**
 * Top-`k` keywords of each document by TF-IDF: tf = count / length, idf = ln(N / df) over
 * the `docs`; ties go to the earlier word in alphabetical order; words with score 0 (in every
 * document) are never chosen, so a document may get fewer than k.
 */
export function tfidfKeywords(docs: readonly string[][], k: number): string[][] {
  const df = new Map<string, number>();
  for (const d of docs) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
  const N = docs.length;
  return docs.map((d) => {
    const tf = new Map<string, number>();
    for (const w of d) tf.set(w, (tf.get(w) ?? 0) + 1);
    return [...tf].map(([w, c]) => [w, (c / d.length) * Math.log(N / df.get(w)!)] as const)
      .filter(([, s]) => s > 0)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, k)
      .map(([w]) => w);
  });
}

/** Target-item keywords: title words (at most `maxTitle`) then the decade, when known. */
export function targetKeywords(cat: ItemCatalog, i: number, maxTitle: number): string[] {
  const t = cat.titles[i].slice(0, maxTitle);
  return cat.decades[i] ? [...t, cat.decades[i]] : t;
}

/** Special token ids of the PMG vocabulary. */
export const TOKENS = { pad: 0, unk: 1, bos: 2, sep: 3, eos: 4 } as const;

/** A word vocabulary: specials, then every genre/decade word, then title and keyword words. */
export class KeywordVocab {
  /** Words by id. */
  readonly words: string[] = ["[PAD]", "[UNK]", "[BOS]", "[SEP]", "[EOS]"];
  readonly #ids = new Map<string, number>();

  /**
   * Genre and decade words always get ids; other words (titles, keywords) when they occur
   * at least `minCount` times in `corpus`.
   */
  constructor(cat: ItemCatalog, corpus: readonly string[][], minCount = 2) {
    this.words.forEach((w, i) => this.#ids.set(w, i));
    const always = [...new Set([...cat.genres.flat(), ...cat.decades.filter((d) => d)])].sort();
    for (const w of always) this.#add(w);
    const counts = new Map<string, number>();
    for (const d of corpus) for (const w of d) counts.set(w, (counts.get(w) ?? 0) + 1);
    for (const [w, c] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      if (c >= minCount) this.#add(w);
    }
  }

  #add(w: string): void {
    if (!this.#ids.has(w)) {
      this.#ids.set(w, this.words.length);
      this.words.push(w);
    }
  }

  /** Number of ids. */
  get size(): number {
    return this.words.length;
  }

  /** The id of `w` ([UNK] when unknown). */
  id(w: string): number {
    return this.#ids.get(w) ?? TOKENS.unk;
  }
}
