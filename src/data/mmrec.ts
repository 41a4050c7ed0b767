/**
 * MMRec-format multimodal datasets (https://github.com/enoche/MMRec): `<name>.inter`, a
 * tab-separated file with header `userID itemID rating timestamp x_label` where ids are already
 * 0-based contiguous integers and `x_label` 0/1/2 marks train/valid/test, plus
 * `image_feat.npy` and `text_feat.npy` whose row i is item i.
 *
 * The parser is pure (browser-safe); {@link loadMMRec} in `files.ts` reads a dataset folder.
 * @module
 */

import { checkIds, DataFormatError, type Interactions, type Split } from "./types.ts";
import {
  type LineParser,
  type LineStream,
  parseIndex,
  parseNumber,
  runParser,
  runParserAsync,
  type TextInput,
} from "./text.ts";
import { splitByLabels } from "./transform.ts";

/** Column names of an MMRec `.inter` file (MMRec's `USER_ID_FIELD` etc.). */
export interface MMRecFields {
  /** Default `"userID"`. */
  user?: string;
  /** Default `"itemID"`. */
  item?: string;
  /** Default `"rating"`; optional column. */
  rating?: string;
  /** Default `"timestamp"`; optional column. */
  time?: string;
  /** Default `"x_label"`. */
  split?: string;
}

/** Options for {@link parseMMRecInter}. */
export interface MMRecOptions {
  /** Name used in error messages. Default `"<mmrec.inter>"`. */
  source?: string;
  /** Column names, when the config renames them. */
  fields?: MMRecFields;
  /** Number of users, if known; ids must be below it. Default max id + 1. */
  numUsers?: number;
  /** Number of items (e.g. the feature rows); ids must be below it. Default max id + 1. */
  numItems?: number;
  /** What set `numItems` (a feature file), named when an item id is not below it. */
  numItemsFrom?: string;
}

/** A parsed MMRec `.inter` file. */
export interface MMRecInter {
  /** All interactions, in file order. */
  interactions: Interactions;
  /** `x_label` of each interaction: 0 train, 1 valid, 2 test. */
  labels: Int8Array;
  /** The split given by the labels. */
  split: Split;
}

class MMRecParser implements LineParser<MMRecInter> {
  #o: MMRecOptions;
  #source: string;
  #col = { user: -1, item: -1, rating: -1, time: -1, split: -1 };
  #width = 0;
  #users: number[] = [];
  #items: number[] = [];
  #ratings: number[] = [];
  #times: number[] = [];
  #labels: number[] = [];

  constructor(o: MMRecOptions) {
    this.#o = o;
    this.#source = o.source ?? "<mmrec.inter>";
  }

  push(line: string, no: number): void {
    const cells = line.split("\t");
    if (no === 1) {
      const f = this.#o.fields ?? {};
      const names = {
        user: f.user ?? "userID",
        item: f.item ?? "itemID",
        rating: f.rating ?? "rating",
        time: f.time ?? "timestamp",
        split: f.split ?? "x_label",
      };
      for (const k of ["user", "item", "rating", "time", "split"] as const) {
        this.#col[k] = cells.indexOf(names[k]);
        if (this.#col[k] < 0 && (k === "user" || k === "item" || k === "split")) {
          throw new DataFormatError(
            this.#source,
            1,
            `header lacks '${names[k]}' (expected tab-separated ${
              Object.values(names).join(" ")
            }, found '${line.length > 120 ? line.slice(0, 120) + "…" : line}')`,
          );
        }
      }
      this.#width = cells.length;
      return;
    }
    if (line.length === 0) return;
    if (cells.length !== this.#width) {
      throw new DataFormatError(
        this.#source,
        no,
        `expected ${this.#width} tab-separated fields, found ${cells.length}`,
      );
    }
    const c = this.#col;
    const u = parseIndex(cells[c.user]);
    const it = parseIndex(cells[c.item]);
    if (u < 0) {
      throw new DataFormatError(
        this.#source,
        no,
        `userID must be a non-negative integer, found '${cells[c.user]}'`,
      );
    }
    if (it < 0) {
      throw new DataFormatError(
        this.#source,
        no,
        `itemID must be a non-negative integer, found '${cells[c.item]}'`,
      );
    }
    const l = cells[c.split];
    if (l !== "0" && l !== "1" && l !== "2") {
      throw new DataFormatError(this.#source, no, `x_label must be 0, 1 or 2, found '${l}'`);
    }
    if (this.#o.numUsers !== undefined && u >= this.#o.numUsers) {
      throw new DataFormatError(
        this.#source,
        no,
        `userID ${u} is not below the user count ${this.#o.numUsers}`,
      );
    }
    if (this.#o.numItems !== undefined && it >= this.#o.numItems) {
      throw new DataFormatError(
        this.#source,
        no,
        `itemID ${it} is not below the item count ${this.#o.numItems}` +
          (this.#o.numItemsFrom
            ? ` (the rows of ${this.#o.numItemsFrom}: the feature file has fewer rows than items)`
            : ""),
      );
    }
    this.#users.push(u);
    this.#items.push(it);
    this.#labels.push(l.charCodeAt(0) - 48);
    if (c.rating >= 0) {
      const r = parseNumber(cells[c.rating]);
      if (r === undefined) {
        throw new DataFormatError(
          this.#source,
          no,
          `rating must be a number, found '${cells[c.rating]}'`,
        );
      }
      this.#ratings.push(r);
    }
    if (c.time >= 0) {
      const t = parseNumber(cells[c.time]);
      if (t === undefined) {
        throw new DataFormatError(
          this.#source,
          no,
          `timestamp must be a number, found '${cells[c.time]}'`,
        );
      }
      this.#times.push(t);
    }
  }

  finish(): MMRecInter {
    if (this.#width === 0) {
      throw new DataFormatError(this.#source, 0, "empty file (expected a header line)");
    }
    if (this.#users.length === 0) {
      throw new DataFormatError(this.#source, 0, "no interactions (the file has only its header)");
    }
    const users = Int32Array.from(this.#users);
    const items = Int32Array.from(this.#items);
    let maxU = -1;
    let maxI = -1;
    for (let i = 0; i < users.length; i++) {
      if (users[i] > maxU) maxU = users[i];
      if (items[i] > maxI) maxI = items[i];
    }
    const x: Interactions = {
      users,
      items,
      numUsers: this.#o.numUsers ?? maxU + 1,
      numItems: this.#o.numItems ?? maxI + 1,
    };
    if (this.#col.rating >= 0) x.ratings = Float32Array.from(this.#ratings);
    if (this.#col.time >= 0) x.timestamps = Float64Array.from(this.#times);
    const labels = Int8Array.from(this.#labels);
    return { interactions: x, labels, split: splitByLabels(x, labels) };
  }
}

/** Parse an MMRec `.inter` file. @throws DataFormatError naming the line for malformed input. */
export function parseMMRecInter(input: TextInput, options: MMRecOptions = {}): MMRecInter {
  return runParser(new MMRecParser(options), input, options.source);
}

/** Parse an MMRec `.inter` file from a (possibly async) stream of lines. */
export function parseMMRecInterStream(
  lines: LineStream,
  options: MMRecOptions = {},
): Promise<MMRecInter> {
  return runParserAsync(new MMRecParser(options), lines, options.source);
}

/**
 * Check that a feature matrix (`[rows, dim]`, row i = item i) covers every item of the
 * interactions.
 * @throws RangeError naming the feature and the first item id without a row.
 */
export function checkFeatureRows(x: Interactions, rows: number, name: string): void {
  if (rows < x.numItems) {
    throw new RangeError(
      `${name} has ${rows} rows but the dataset has ${x.numItems} items (ids 0…${x.numItems - 1})`,
    );
  }
  checkIds(x.items, rows, `${name} rows for items`);
}
