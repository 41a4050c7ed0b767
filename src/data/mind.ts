/**
 * MIND news-recommendation files (https://msnews.github.io/): `news.tsv` (news id, category,
 * subcategory, title, abstract, URL, title entities, abstract entities) and `behaviors.tsv`
 * (impression id, user id, time, space-separated click history, impressions `N123-1 N456-0`;
 * the test set has impressions without the `-label`). Pure parsers (browser-safe).
 * @module
 */

import { DataFormatError, IdMap } from "./types.ts";
import {
  type LineParser,
  type LineStream,
  runParser,
  runParserAsync,
  type TextInput,
} from "./text.ts";
import { Vocab } from "./vocab.ts";

/** Parsed `news.tsv`. Row i describes news index i of `ids`. */
export interface MindNews {
  /** News id (e.g. `N55528`) ↔ index. */
  ids: IdMap;
  /** Category vocabulary index of each news (see {@link Vocab}; 0 = OOV never occurs here). */
  category: Int32Array;
  /** Subcategory vocabulary index of each news. */
  subcategory: Int32Array;
  /** Category vocabulary. */
  categories: Vocab;
  /** Subcategory vocabulary. */
  subcategories: Vocab;
  /** Title text. */
  titles: string[];
  /** Abstract text (may be empty). */
  abstracts: string[];
  /** URL. */
  urls: string[];
  /** Raw JSON text of the title entities (parse on demand; it is large). */
  titleEntities: string[];
  /** Raw JSON text of the abstract entities. */
  abstractEntities: string[];
}

/** Options shared by the MIND parsers. */
export interface MindOptions {
  /** Name used in error messages. */
  source?: string;
}

class NewsParser implements LineParser<MindNews> {
  #source: string;
  #ids = new IdMap();
  #cat: string[] = [];
  #sub: string[] = [];
  #titles: string[] = [];
  #abs: string[] = [];
  #urls: string[] = [];
  #te: string[] = [];
  #ae: string[] = [];

  constructor(o: MindOptions) {
    this.#source = o.source ?? "<news.tsv>";
  }

  push(line: string, no: number): void {
    if (line.length === 0) return;
    const f = line.split("\t");
    // Some MIND releases omit the two entity columns; accept 6 or 8 fields.
    if (f.length !== 8 && f.length !== 6) {
      throw new DataFormatError(
        this.#source,
        no,
        `expected 8 tab-separated fields (id, category, subcategory, title, abstract, url, title entities, abstract entities), found ${f.length}`,
      );
    }
    if (this.#ids.has(f[0])) {
      throw new DataFormatError(this.#source, no, `duplicate news id '${f[0]}'`);
    }
    this.#ids.add(f[0]);
    this.#cat.push(f[1]);
    this.#sub.push(f[2]);
    this.#titles.push(f[3]);
    this.#abs.push(f[4]);
    this.#urls.push(f[5]);
    this.#te.push(f[6] ?? "[]");
    this.#ae.push(f[7] ?? "[]");
  }

  finish(): MindNews {
    const categories = Vocab.fit(this.#cat);
    const subcategories = Vocab.fit(this.#sub);
    return {
      ids: this.#ids,
      category: categories.encodeAll(this.#cat),
      subcategory: subcategories.encodeAll(this.#sub),
      categories,
      subcategories,
      titles: this.#titles,
      abstracts: this.#abs,
      urls: this.#urls,
      titleEntities: this.#te,
      abstractEntities: this.#ae,
    };
  }
}

/** Parse MIND `news.tsv`. @throws DataFormatError naming the line for malformed input. */
export function parseMindNews(input: TextInput, options: MindOptions = {}): MindNews {
  return runParser(new NewsParser(options), input, options.source);
}

/** Parse MIND `news.tsv` from a (possibly async) stream of lines. */
export function parseMindNewsStream(
  lines: LineStream,
  options: MindOptions = {},
): Promise<MindNews> {
  return runParserAsync(new NewsParser(options), lines, options.source);
}

/** Parsed `behaviors.tsv`: one row per impression. */
export interface MindBehaviors {
  /** Impression id of each row (an integer in MIND). */
  impressionIds: Int32Array;
  /** User index of each row. */
  users: Int32Array;
  /** User id (e.g. `U13740`) ↔ index. */
  userIds: IdMap;
  /** Impression time, milliseconds since the epoch (the file's clock, read as UTC). */
  times: Float64Array;
  /** Click-history start offsets per row (length rows + 1). */
  historyPtr: Int32Array;
  /** News indices of all histories, concatenated. */
  history: Int32Array;
  /** Impression-list start offsets per row (length rows + 1). */
  impressionPtr: Int32Array;
  /** News indices shown, concatenated. */
  impressions: Int32Array;
  /** Click label of each shown news: 1, 0, or -1 when unlabelled (test set). */
  labels: Int8Array;
  /** The news map used (given, or built from the ids met). */
  newsIds: IdMap;
}

/** Options for {@link parseMindBehaviors}. */
export interface MindBehaviorOptions extends MindOptions {
  /** News map from {@link parseMindNews}; unknown news ids are then an error. */
  news?: IdMap;
  /** Existing user map to extend (to share users between train and dev). */
  userIds?: IdMap;
}

const TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) (AM|PM)$/;

/** Parse MIND's `M/D/YYYY h:mm:ss AM` time as UTC milliseconds; NaN when malformed. */
export function parseMindTime(text: string): number {
  const m = TIME.exec(text);
  if (!m) return NaN;
  let h = +m[4] % 12;
  if (m[7] === "PM") h += 12;
  return Date.UTC(+m[3], +m[1] - 1, +m[2], h, +m[5], +m[6]);
}

class BehaviorParser implements LineParser<MindBehaviors> {
  #source: string;
  #news: IdMap;
  #frozen: boolean;
  #userIds: IdMap;
  #imp: number[] = [];
  #users: number[] = [];
  #times: number[] = [];
  #hPtr: number[] = [0];
  #h: number[] = [];
  #iPtr: number[] = [0];
  #i: number[] = [];
  #l: number[] = [];

  constructor(o: MindBehaviorOptions) {
    this.#source = o.source ?? "<behaviors.tsv>";
    this.#news = o.news ?? new IdMap();
    this.#frozen = o.news !== undefined;
    this.#userIds = o.userIds ?? new IdMap();
  }

  #newsIndex(id: string, no: number): number {
    if (!this.#frozen) return this.#news.add(id);
    const i = this.#news.get(id);
    if (i < 0) throw new DataFormatError(this.#source, no, `news id '${id}' is not in news.tsv`);
    return i;
  }

  push(line: string, no: number): void {
    if (line.length === 0) return;
    const f = line.split("\t");
    if (f.length !== 5) {
      throw new DataFormatError(
        this.#source,
        no,
        `expected 5 tab-separated fields (impression id, user id, time, history, impressions), found ${f.length}`,
      );
    }
    const imp = Number(f[0]);
    if (!Number.isInteger(imp)) {
      throw new DataFormatError(
        this.#source,
        no,
        `impression id must be an integer, found '${f[0]}'`,
      );
    }
    const t = parseMindTime(f[2]);
    if (Number.isNaN(t)) {
      throw new DataFormatError(
        this.#source,
        no,
        `time must look like '11/15/2019 8:55:22 AM', found '${f[2]}'`,
      );
    }
    this.#imp.push(imp);
    this.#users.push(this.#userIds.add(f[1]));
    this.#times.push(t);
    for (const id of f[3].split(" ")) if (id.length > 0) this.#h.push(this.#newsIndex(id, no));
    this.#hPtr.push(this.#h.length);
    for (const tok of f[4].split(" ")) {
      if (tok.length === 0) continue;
      const dash = tok.lastIndexOf("-");
      let id = tok;
      let label = -1;
      if (dash > 0) {
        const l = tok.slice(dash + 1);
        if (l !== "0" && l !== "1") {
          throw new DataFormatError(
            this.#source,
            no,
            `impression '${tok}' must be 'NEWSID-0', 'NEWSID-1' or 'NEWSID'`,
          );
        }
        id = tok.slice(0, dash);
        label = l === "1" ? 1 : 0;
      }
      this.#i.push(this.#newsIndex(id, no));
      this.#l.push(label);
    }
    this.#iPtr.push(this.#i.length);
  }

  finish(): MindBehaviors {
    return {
      impressionIds: Int32Array.from(this.#imp),
      users: Int32Array.from(this.#users),
      userIds: this.#userIds,
      times: Float64Array.from(this.#times),
      historyPtr: Int32Array.from(this.#hPtr),
      history: Int32Array.from(this.#h),
      impressionPtr: Int32Array.from(this.#iPtr),
      impressions: Int32Array.from(this.#i),
      labels: Int8Array.from(this.#l),
      newsIds: this.#news,
    };
  }
}

/** Parse MIND `behaviors.tsv`. @throws DataFormatError naming the line for malformed input. */
export function parseMindBehaviors(
  input: TextInput,
  options: MindBehaviorOptions = {},
): MindBehaviors {
  return runParser(new BehaviorParser(options), input, options.source);
}

/** Parse MIND `behaviors.tsv` from a (possibly async) stream of lines. */
export function parseMindBehaviorsStream(
  lines: LineStream,
  options: MindBehaviorOptions = {},
): Promise<MindBehaviors> {
  return runParserAsync(new BehaviorParser(options), lines, options.source);
}
