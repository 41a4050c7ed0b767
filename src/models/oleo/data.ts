/**
 * News-recommendation data for the OLEO models (browser-safe; file reading is in files.ts):
 *
 * - {@link mindData}: MIND files (`news.tsv`, `behaviors.tsv`; spec §4.3). Item text is
 *   "category subcategory title abstract"; each user's history is the longest click history
 *   its rows give; train impressions from the train file, the dev file split in time into
 *   valid (first half) and test (second half). MIND itself is not on this machine: a user
 *   points at MIND-small; tests run on {@link syntheticMind}, a MIND-format sample.
 * - {@link ml100kNews}: MovieLens-100K as news (real text here): item text is "title genres";
 *   each user's ratings in time order, the first half's positives (rating ≥ 4) are the
 *   history, the rest is cut into sessions of 5 consecutive ratings, each an impression
 *   showing those 5 movies (clicked: rating ≥ 4) plus 5 movies the user never rated, drawn
 *   uniformly with a seeded generator; sessions without a click are dropped; per user the
 *   last session is test, the one before valid, the rest train.
 * @module
 */

import { DataFormatError, IdMap } from "../../data/types.ts";
import { parseMindBehaviors, parseMindNews } from "../../data/mind.ts";
import { splitLines } from "../../data/text.ts";
import type { Impression, ImpressionSplits } from "../../train/impression.ts";
import { Rng } from "../../random.ts";

/** Impressions plus what news models need: item text and per-user click histories. */
export interface NewsData extends ImpressionSplits {
  /** Text of each item. */
  itemText: string[];
  /** Clicked items per user before the impressions, chronological (CSR). */
  history: { ptr: Int32Array; items: Int32Array };
}

/** Whether impression data carries item text and histories. */
export function isNewsData(d: ImpressionSplits): d is NewsData {
  const n = d as Partial<NewsData>;
  return Array.isArray(n.itemText) && n.history !== undefined;
}

/**
 * The runner's impression data as news data: item text as given, and each user's history the
 * longest click history among their training impressions (MIND repeats a user's history on
 * every impression of the period). Data that is already news data, or that has no item text
 * or no histories, comes back as is.
 */
export function asNewsData(d: ImpressionSplits): ImpressionSplits {
  if (isNewsData(d) || !Array.isArray(d.itemText)) return d;
  const lists: number[][] = Array.from({ length: d.numUsers }, () => []);
  let any = false;
  for (const imp of d.train) {
    if (!imp.history) continue;
    any = true;
    if (imp.history.length > lists[imp.user].length) lists[imp.user] = Array.from(imp.history);
  }
  return any ? { ...d, history: csr(lists) } as NewsData : d;
}

function csr(lists: number[][]): { ptr: Int32Array; items: Int32Array } {
  const ptr = new Int32Array(lists.length + 1);
  lists.forEach((l, i) => (ptr[i + 1] = ptr[i] + l.length));
  return { ptr, items: Int32Array.from(lists.flat()) };
}

/** MIND text inputs (file contents) and their names for error messages. */
export interface MindFiles {
  /** `news.tsv` text. */
  news: string;
  /** Training `behaviors.tsv` text. */
  train: string;
  /** Dev `behaviors.tsv` text (split into valid and test). */
  dev: string;
  /** Source names, e.g. file paths. */
  names?: { news?: string; train?: string; dev?: string };
}

/** MIND files → {@link NewsData}; a clicked-less labelled impression is an error. */
export function mindData(files: MindFiles, name = "MIND"): NewsData {
  const src = {
    news: files.names?.news ?? "news.tsv",
    train: files.names?.train ?? "train/behaviors.tsv",
    dev: files.names?.dev ?? "dev/behaviors.tsv",
  };
  const news = parseMindNews(files.news, { source: src.news });
  const users = new IdMap();
  const histories: number[][] = [];
  const toImps = (text: string, source: string): Impression[] => {
    const b = parseMindBehaviors(text, { source, news: news.ids, userIds: users });
    // Row r of the parse is the r-th non-empty line.
    const lineOf: number[] = [];
    let no = 0;
    for (const l of splitLines(text)) {
      no++;
      if (l.length > 0) lineOf.push(no);
    }
    const out: Impression[] = [];
    for (let r = 0; r < b.users.length; r++) {
      const u = b.users[r];
      const h = Array.from(b.history.subarray(b.historyPtr[r], b.historyPtr[r + 1]));
      if (h.length > (histories[u]?.length ?? -1)) histories[u] = h;
      const items = b.impressions.slice(b.impressionPtr[r], b.impressionPtr[r + 1]);
      const lab = b.labels.slice(b.impressionPtr[r], b.impressionPtr[r + 1]);
      if (lab.some((l) => l < 0)) continue; // unlabelled (test set): nothing to learn or score
      if (!lab.includes(1)) {
        throw new DataFormatError(
          source,
          lineOf[r],
          `impression ${b.impressionIds[r]} has no clicked news (expected at least one 'NEWSID-1')`,
        );
      }
      out.push({ user: u, items, labels: Uint8Array.from(lab) });
    }
    return out;
  };
  const train = toImps(files.train, src.train);
  const dev = toImps(files.dev, src.dev);
  const half = Math.ceil(dev.length / 2);
  const text = news.titles.map((t, i) =>
    [
      news.categories.tokens[news.category[i]],
      news.subcategories.tokens[news.subcategory[i]],
      t,
      news.abstracts[i],
    ].join(" ")
  );
  for (let u = 0; u < users.size; u++) histories[u] ??= [];
  return {
    name,
    description: `${name}: ${news.ids.size} news, ${users.size} users, ` +
      `${train.length}/${half}/${dev.length - half} impressions (train/valid/test)`,
    numUsers: users.size,
    numItems: news.ids.size,
    train,
    valid: dev.slice(0, half),
    test: dev.slice(half),
    itemText: text,
    history: csr(histories),
  };
}

/** Options of {@link ml100kNews}. */
export interface Ml100kNewsOptions {
  /** Ratings per session (impression). Default 5. */
  session?: number;
  /** Unrated movies added to each impression. Default 5. */
  negatives?: number;
  /** Seed of the negatives. Default 0. */
  seed?: number;
}

/**
 * MovieLens-100K RecBole atomic files (`.inter`, `.item` texts) as news data; see the module
 * notes for how impressions are built.
 */
export function ml100kNews(inter: string, item: string, opts: Ml100kNewsOptions = {}): NewsData {
  const S = opts.session ?? 5;
  const K = opts.negatives ?? 5;
  const rng = new Rng(opts.seed ?? 0);
  const items = new IdMap();
  const text: string[] = [];
  let no = 0;
  for (const line of splitLines(item)) {
    no++;
    if (no === 1 || line.length === 0) continue;
    const f = line.split("\t");
    if (f.length < 4) {
      throw new DataFormatError(
        "ml-100k.item",
        no,
        `expected 4 tab-separated fields, found ${f.length}`,
      );
    }
    items.add(f[0]);
    text.push(`${f[1]} ${f[3]}`);
  }
  const users = new IdMap();
  const rows: { u: number; i: number; r: number; t: number }[] = [];
  no = 0;
  for (const line of splitLines(inter)) {
    no++;
    if (no === 1 || line.length === 0) continue;
    const f = line.split("\t");
    const i = items.get(f[1]);
    if (f.length !== 4 || i < 0) {
      throw new DataFormatError(
        "ml-100k.inter",
        no,
        f.length !== 4 ? `expected 4 fields, found ${f.length}` : `item '${f[1]}' is not in .item`,
      );
    }
    rows.push({ u: users.add(f[0]), i, r: +f[2], t: +f[3] });
  }
  const per: (typeof rows)[] = Array.from({ length: users.size }, () => []);
  for (const x of rows) per[x.u].push(x);
  const histories: number[][] = [];
  const train: Impression[] = [], valid: Impression[] = [], test: Impression[] = [];
  per.forEach((list, u) => {
    list.sort((a, b) => a.t - b.t || a.i - b.i);
    const cut = Math.floor(list.length / 2);
    histories[u] = list.slice(0, cut).filter((x) => x.r >= 4).map((x) => x.i);
    const rated = new Set(list.map((x) => x.i));
    const sessions: Impression[] = [];
    for (let lo = cut; lo < list.length; lo += S) {
      const s = list.slice(lo, lo + S);
      if (!s.some((x) => x.r >= 4)) continue;
      const shown = s.map((x) => x.i);
      const labels = s.map((x) => (x.r >= 4 ? 1 : 0));
      for (let k = 0; k < K; k++) {
        let j: number;
        do j = rng.int(items.size); while (rated.has(j));
        shown.push(j);
        labels.push(0);
      }
      sessions.push({ user: u, items: Int32Array.from(shown), labels: Uint8Array.from(labels) });
    }
    if (sessions.length >= 3) {
      test.push(sessions.pop()!);
      valid.push(sessions.pop()!);
    }
    train.push(...sessions);
  });
  return {
    name: "ml-100k-news",
    description: `MovieLens-100K as news: ${items.size} movies (title + genres as text), ` +
      `${users.size} users, ${train.length}/${valid.length}/${test.length} impressions`,
    numUsers: users.size,
    numItems: items.size,
    train,
    valid,
    test,
    itemText: text,
    history: csr(histories),
  };
}

/** Options of {@link syntheticMind}. */
export interface SyntheticMindOptions {
  /** News. Default 120. */
  news?: number;
  /** Users. Default 40. */
  users?: number;
  /** Topics (categories). Default 4. */
  topics?: number;
  /** Impressions per user per file. Default 3. */
  impressions?: number;
  /** Seed. Default 0. */
  seed?: number;
}

const TOPIC_WORDS = [
  ["match", "goal", "league", "coach", "season", "score"],
  ["market", "stocks", "bank", "rates", "profit", "trade"],
  ["storm", "rain", "weather", "flood", "snow", "wind"],
  ["movie", "actor", "film", "award", "music", "show"],
  ["vote", "senate", "policy", "election", "law", "court"],
  ["health", "doctor", "virus", "study", "diet", "sleep"],
];
const FILLER = ["the", "a", "new", "after", "report", "says", "week", "big", "first", "today"];
const MONTH = "11/14/2019";

/**
 * A MIND-format sample (news.tsv, train and dev behaviors.tsv texts) with topical structure:
 * each news has a topic (its category) and title words mostly from that topic; each user
 * prefers one topic and clicks news of it in its history and impressions.
 */
export function syntheticMind(opts: SyntheticMindOptions = {}): MindFiles {
  const N = opts.news ?? 120, U = opts.users ?? 40, T = Math.min(opts.topics ?? 4, 6);
  const P = opts.impressions ?? 3;
  const rng = new Rng(opts.seed ?? 0);
  const topic = Array.from({ length: N }, (_, i) => i % T);
  const byTopic = Array.from(
    { length: T },
    (_, t) => topic.flatMap((x, i) => (x === t ? [i] : [])),
  );
  const news = topic.map((t, i) => {
    const w = Array.from(
      { length: 6 },
      () => rng.uniform() < 0.7 ? TOPIC_WORDS[t][rng.int(6)] : FILLER[rng.int(FILLER.length)],
    );
    return [`N${i + 1}`, `topic${t}`, `sub${t}${rng.int(2)}`, w.join(" "), "", "", "[]", "[]"]
      .join("\t");
  }).join("\n");
  const pick = (list: number[]) => list[rng.int(list.length)];
  let id = 0;
  const behaviors = (hour: number) => {
    const lines: string[] = [];
    for (let u = 0; u < U; u++) {
      const pref = u % T;
      const hist = Array.from({ length: 3 + rng.int(5) }, () => `N${pick(byTopic[pref]) + 1}`);
      for (let p = 0; p < P; p++) {
        const shown = [`N${pick(byTopic[pref]) + 1}-1`];
        for (let k = 0; k < 4; k++) {
          const t = (pref + 1 + rng.int(T - 1)) % T;
          shown.push(`N${pick(byTopic[t]) + 1}-0`);
        }
        const time = `${MONTH} ${hour}:${String(p * 7 + u % 7).padStart(2, "0")}:00 AM`;
        lines.push(
          [++id, `U${u + 1}`, time, hist.join(" "), rng.shuffle(shown).join(" ")].join("\t"),
        );
      }
    }
    return lines.join("\n");
  };
  return { news, train: behaviors(9), dev: behaviors(10) };
}
