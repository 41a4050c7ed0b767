/**
 * PMG's samples and token layouts: (user, target item) pairs with the user's history, the
 * history's preference keywords (TF-IDF, `keywords.ts`) and the token rows the preference
 * encoder and both generators read.
 * @module
 */

import type { Interactions, Split } from "../../data/types.ts";
import {
  describeUser,
  descriptionWords,
  type ItemCatalog,
  KeywordVocab,
  targetKeywords,
  TOKENS,
} from "./keywords.ts";
import { posters } from "./posters.ts";

/** Layout sizes. */
export interface Layout {
  /** Preference keywords K (official `style_keyword_num = 8`). */
  keywords: number;
  /** Largest style weight w (keywords repeated w times in the prompts). */
  maxStyleWeight: number;
  /** History items H read by the preference encoder. */
  history: number;
  /** Title words T in the prompts. */
  titleWords: number;
  /** Description slots D (decade, genres, [EOS]). */
  descSlots: number;
  /** Keyword slots per history item (title, decade, genres). */
  itemSlots: number;
  /** Poster side S. */
  posterSize: number;
}

/** A (user, target) pair and the history it is generated from (most recent last). */
export interface Sample {
  /** User index. */
  user: number;
  /** Target item. */
  item: number;
  /** History items (at most `history`, the most recent). */
  history: number[];
}

/** Per-user train items in time order (interaction order when no timestamps). */
function histories(x: Interactions): number[][] {
  const order = [...x.users.keys()];
  if (x.timestamps) order.sort((a, b) => x.timestamps![a] - x.timestamps![b] || a - b);
  const h: number[][] = Array.from({ length: x.numUsers }, () => []);
  for (const k of order) h[x.users[k]].push(x.items[k]);
  return h;
}

/** Everything PMG trains and generates from. */
export class PmgData {
  /** Item metadata. */
  readonly catalog: ItemCatalog;
  /** Word vocabulary. */
  readonly vocab: KeywordVocab;
  /** Posters [N, S, S, 3]. */
  readonly posters: Float32Array;
  /** Each user's training items, time order. */
  readonly trainHistory: number[][];
  /** ln(N / df) of every description word over the users' training descriptions. */
  readonly idf: Map<string, number>;
  /** Training pairs (each user's `samplesPerUser` most recent training items as targets). */
  readonly train: Sample[];
  /** Validation and test pairs (targets from those splits, history = training items). */
  readonly valid: Sample[];
  /** See {@link valid}. */
  readonly test: Sample[];

  /** Samples of `split` over `catalog`. */
  constructor(split: Split, catalog: ItemCatalog, readonly layout: Layout, samplesPerUser: number) {
    this.catalog = catalog;
    this.trainHistory = histories(split.train);
    const docs = this.trainHistory.map((h) => descriptionWords(describeUser(catalog, h)));
    const df = new Map<string, number>();
    for (const d of docs) for (const w of new Set(d)) df.set(w, (df.get(w) ?? 0) + 1);
    this.idf = new Map([...df].map(([w, c]) => [w, Math.log(docs.length / c)]));
    this.vocab = new KeywordVocab(catalog, catalog.titles);
    this.posters = posters(catalog, layout.posterSize);
    const H = layout.history;
    this.train = [];
    this.trainHistory.forEach((h, u) => {
      for (let k = Math.max(1, h.length - samplesPerUser); k < h.length; k++) {
        this.train.push({ user: u, item: h[k], history: h.slice(Math.max(0, k - H), k) });
      }
    });
    const held = (x: Interactions) =>
      Array.from(x.users, (u, k) => ({
        user: u,
        item: x.items[k],
        history: this.trainHistory[u].slice(-H),
      })).filter((s) => s.history.length > 0);
    this.valid = held(split.valid);
    this.test = held(split.test);
  }

  /** Top-K preference keywords of a history (TF-IDF with the users' idf, vocabulary words). */
  keywords(history: readonly number[]): string[] {
    const d = descriptionWords(describeUser(this.catalog, history));
    const tf = new Map<string, number>();
    for (const w of d) tf.set(w, (tf.get(w) ?? 0) + 1);
    return [...tf].map(([w, c]) => [w, (c / d.length) * (this.idf.get(w) ?? 0)] as const)
      .filter(([w, s]) => s > 0 && this.vocab.id(w) !== TOKENS.unk)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, this.layout.keywords)
      .map(([w]) => w);
  }

  /** Keyword ids of an item: title words, decade, genres, padded to `itemSlots`. */
  itemIds(i: number): number[] {
    const c = this.catalog;
    const w = [...c.titles[i], c.decades[i], ...c.genres[i]].filter((x) => x);
    return w.slice(0, this.layout.itemSlots).map((x) => this.vocab.id(x));
  }

  /** The description tokens of item i: decade, genres, then [EOS], padded to D. */
  descIds(i: number): number[] {
    const c = this.catalog;
    const w = [c.decades[i], ...c.genres[i]].filter((x) => x).map((x) => this.vocab.id(x));
    return [...w.slice(0, this.layout.descSlots - 1), TOKENS.eos];
  }

  /** Length of the text generator's sequence: S + 1 + T + 1 + D. */
  get textLength(): number {
    const l = this.layout;
    return l.keywords * l.maxStyleWeight + l.titleWords + l.descSlots + 2;
  }

  /** Length of the image decoder's prompt: S + T + 1. */
  get promptLength(): number {
    const l = this.layout;
    return l.keywords * l.maxStyleWeight + l.titleWords + 1;
  }

  /** Index of the first description slot in the text sequence. */
  get descStart(): number {
    return this.textLength - this.layout.descSlots;
  }

  /**
   * The batch's token rows: keyword ids [B, K] with lengths (K + history count), history item
   * bags [B, H, itemSlots] with their mean weights, text rows [B, textLength] and image prompts
   * [B, promptLength]; `styleWeights[b]` repeats row b's keywords in the prompts.
   */
  batch(samples: readonly Sample[], styleWeights: readonly number[]): Batch {
    const l = this.layout;
    const B = samples.length, K = l.keywords, H = l.history, I = l.itemSlots;
    const S = K * l.maxStyleWeight, T = l.titleWords, Lt = this.textLength, Lp = this.promptLength;
    const out: Batch = {
      keywords: new Int32Array(B * K),
      lengths: [],
      items: new Int32Array(B * H * I),
      itemWeights: new Float32Array(B * H * I),
      text: new Int32Array(B * Lt),
      prompt: new Int32Array(B * Lp),
    };
    samples.forEach((s, b) => {
      const kw = this.keywords(s.history).map((w) => this.vocab.id(w));
      out.keywords.set(kw, b * K);
      const hist = s.history.slice(-H);
      out.lengths.push(K + hist.length);
      hist.forEach((it, h) => {
        const ids = this.itemIds(it);
        const o = (b * H + h) * I;
        out.items.set(ids, o);
        out.itemWeights.fill(1 / Math.max(1, ids.length), o, o + ids.length);
      });
      const style = Array.from({ length: styleWeights[b] }, () => kw).flat().slice(0, S);
      const title = this.catalog.titles[s.item].slice(0, T).map((w) => this.vocab.id(w));
      const tk = targetKeywords(this.catalog, s.item, T).map((w) => this.vocab.id(w));
      out.text.set(style, b * Lt);
      out.text.set([TOKENS.bos, ...title], b * Lt + S);
      out.text[b * Lt + S + 1 + T] = TOKENS.sep;
      out.text.set(this.descIds(s.item), b * Lt + this.descStart);
      out.prompt.set(style, b * Lp);
      out.prompt.set(tk.slice(0, T + 1), b * Lp + S);
    });
    return out;
  }
}

/** Token rows of a batch (see {@link PmgData.batch}). */
export interface Batch {
  /** Preference keyword ids [B, K] ([PAD] when fewer). */
  keywords: Int32Array;
  /** K + history count per row (the preference encoder's key lengths after its tokens). */
  lengths: number[];
  /** History item keyword ids [B, H, I]. */
  items: Int32Array;
  /** 1/count for real ids, 0 for padding [B, H, I]. */
  itemWeights: Float32Array;
  /** Text generator rows [B, textLength]. */
  text: Int32Array;
  /** Image decoder prompts [B, promptLength]. */
  prompt: Int32Array;
}
