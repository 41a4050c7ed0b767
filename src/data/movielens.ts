/**
 * MovieLens rating files: `u.data` (ML-100K: `user \t item \t rating \t timestamp`) and
 * `ratings.dat` (ML-1M/10M: `UserID::MovieID::Rating::Timestamp`), both without a header.
 * Pure parsers (browser-safe).
 * @module
 */

import { DataFormatError, type Dataset, IdMap } from "./types.ts";
import {
  type LineParser,
  type LineStream,
  parseNumber,
  runParser,
  runParserAsync,
  type TextInput,
} from "./text.ts";

/** Options for {@link parseMovieLensRatings}. */
export interface MovieLensOptions {
  /** Name used in error messages. Default `"<movielens>"`. */
  source?: string;
  /** Field separator; default: `::` if the first line contains it, else tab. */
  separator?: string;
}

class MovieLensParser implements LineParser<Dataset> {
  #source: string;
  #sep: string | undefined;
  #userIds = new IdMap();
  #itemIds = new IdMap();
  #u: number[] = [];
  #i: number[] = [];
  #r: number[] = [];
  #t: number[] = [];

  constructor(o: MovieLensOptions) {
    this.#source = o.source ?? "<movielens>";
    this.#sep = o.separator;
  }

  push(line: string, no: number): void {
    if (line.length === 0) return;
    const sep = this.#sep ??= line.includes("::") ? "::" : "\t";
    const f = line.split(sep);
    if (f.length !== 4) {
      throw new DataFormatError(
        this.#source,
        no,
        `expected 4 fields 'user${sep}item${sep}rating${sep}timestamp' separated by ${
          JSON.stringify(sep)
        }, found ${f.length}`,
      );
    }
    const r = parseNumber(f[2]);
    const t = parseNumber(f[3]);
    if (r === undefined) {
      throw new DataFormatError(this.#source, no, `rating must be a number, found '${f[2]}'`);
    }
    if (t === undefined) {
      throw new DataFormatError(this.#source, no, `timestamp must be a number, found '${f[3]}'`);
    }
    if (f[0].length === 0 || f[1].length === 0) {
      throw new DataFormatError(this.#source, no, "empty user or item id");
    }
    this.#u.push(this.#userIds.add(f[0]));
    this.#i.push(this.#itemIds.add(f[1]));
    this.#r.push(r);
    this.#t.push(t);
  }

  finish(): Dataset {
    if (this.#u.length === 0) {
      throw new DataFormatError(this.#source, 0, "no ratings (empty file)");
    }
    return {
      interactions: {
        users: Int32Array.from(this.#u),
        items: Int32Array.from(this.#i),
        ratings: Float32Array.from(this.#r),
        timestamps: Float64Array.from(this.#t),
        numUsers: this.#userIds.size,
        numItems: this.#itemIds.size,
      },
      userIds: this.#userIds,
      itemIds: this.#itemIds,
    };
  }
}

/**
 * Parse MovieLens ratings (`u.data` or `ratings.dat`); raw ids become 0-based indices in order
 * of first appearance. @throws DataFormatError naming the line for malformed input.
 */
export function parseMovieLensRatings(input: TextInput, options: MovieLensOptions = {}): Dataset {
  return runParser(new MovieLensParser(options), input, options.source);
}

/** Parse MovieLens ratings from a (possibly async) stream of lines. */
export function parseMovieLensRatingsStream(
  lines: LineStream,
  options: MovieLensOptions = {},
): Promise<Dataset> {
  return runParserAsync(new MovieLensParser(options), lines, options.source);
}
