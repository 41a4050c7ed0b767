/**
 * RecBole atomic files (`.inter`, `.user`, `.item`, …): tab-separated text whose header types
 * each column as `name:type`, with type `token`, `token_seq`, `float` or `float_seq`; sequence
 * fields are space-separated. See https://recbole.io/docs/user_guide/data/atomic_files.html.
 *
 * The parsers are pure (browser-safe); {@link loadRecBole} in `files.ts` reads from disk.
 * @module
 */

import { DataFormatError, type Dataset, IdMap, type Interactions } from "./types.ts";
import {
  type LineParser,
  type LineStream,
  parseNumber,
  runParser,
  runParserAsync,
  type TextInput,
} from "./text.ts";
import { Vocab, type VocabOptions } from "./vocab.ts";

/** Column types of RecBole atomic files. */
export type AtomicType = "token" | "token_seq" | "float" | "float_seq";

/** One parsed column. Empty `float` cells are NaN; empty sequences are `[]`. */
export type AtomicColumn =
  | { name: string; type: "token"; values: string[] }
  | { name: string; type: "float"; values: Float64Array }
  | { name: string; type: "token_seq"; values: string[][] }
  | { name: string; type: "float_seq"; values: Float64Array[] };

/** A parsed atomic file: its columns in header order. */
export interface AtomicTable {
  /** Source name used in errors. */
  source: string;
  /** Number of data rows. */
  numRows: number;
  /** Column names in header order. */
  fields: string[];
  /** Columns by name. */
  columns: Record<string, AtomicColumn>;
}

/** Options for the atomic-file parsers. */
export interface AtomicOptions {
  /** Name used in error messages (a file path). Default `"<atomic>"`. */
  source?: string;
  /** Column separator. Default tab (RecBole's `field_separator`). */
  fieldSeparator?: string;
  /** Separator inside sequence fields. Default space (RecBole's `seq_separator`). */
  seqSeparator?: string;
}

const TYPES: readonly string[] = ["token", "token_seq", "float", "float_seq"];

class AtomicParser implements LineParser<AtomicTable> {
  #source: string;
  #fs: string;
  #ss: string;
  #names: string[] = [];
  #types: AtomicType[] = [];
  #cols: (string[] | number[] | string[][] | Float64Array[])[] = [];
  #rows = 0;

  constructor(o: AtomicOptions) {
    this.#source = o.source ?? "<atomic>";
    this.#fs = o.fieldSeparator ?? "\t";
    this.#ss = o.seqSeparator ?? " ";
  }

  push(line: string, no: number): void {
    if (no === 1) return this.#header(line);
    if (line.length === 0) return; // blank lines (e.g. trailing) carry no row
    const cells = line.split(this.#fs);
    if (cells.length !== this.#names.length) {
      throw new DataFormatError(
        this.#source,
        no,
        `expected ${this.#names.length} fields (${this.#names.join(", ")}), found ${cells.length}`,
      );
    }
    for (let c = 0; c < cells.length; c++) {
      const cell = cells[c];
      switch (this.#types[c]) {
        case "token":
          (this.#cols[c] as string[]).push(cell);
          break;
        case "float": {
          const v = cell.length === 0 ? NaN : parseNumber(cell);
          if (v === undefined) {
            throw new DataFormatError(
              this.#source,
              no,
              `field '${this.#names[c]}' expected a number, found '${cell}'`,
            );
          }
          (this.#cols[c] as number[]).push(v);
          break;
        }
        case "token_seq":
          (this.#cols[c] as string[][]).push(cell.split(this.#ss).filter((t) => t.length > 0));
          break;
        case "float_seq": {
          const parts = cell.split(this.#ss).filter((t) => t.length > 0);
          const arr = new Float64Array(parts.length);
          for (let j = 0; j < parts.length; j++) {
            const v = parseNumber(parts[j]);
            if (v === undefined) {
              throw new DataFormatError(
                this.#source,
                no,
                `field '${this.#names[c]}' expected space-separated numbers, found '${parts[j]}'`,
              );
            }
            arr[j] = v;
          }
          (this.#cols[c] as Float64Array[]).push(arr);
          break;
        }
      }
    }
    this.#rows++;
  }

  #header(line: string): void {
    for (const f of line.split(this.#fs)) {
      const i = f.lastIndexOf(":");
      const name = i > 0 ? f.slice(0, i) : "";
      const type = i > 0 ? f.slice(i + 1) : "";
      if (!name || !TYPES.includes(type)) {
        throw new DataFormatError(
          this.#source,
          1,
          `header field '${f}' is not 'name:type' with type token, token_seq, float or float_seq`,
        );
      }
      if (this.#names.includes(name)) {
        throw new DataFormatError(this.#source, 1, `duplicate header field '${name}'`);
      }
      this.#names.push(name);
      this.#types.push(type as AtomicType);
      this.#cols.push([]);
    }
  }

  finish(): AtomicTable {
    if (this.#names.length === 0) {
      throw new DataFormatError(this.#source, 0, "empty file (expected a typed header)");
    }
    const columns: Record<string, AtomicColumn> = {};
    for (let c = 0; c < this.#names.length; c++) {
      const name = this.#names[c];
      const type = this.#types[c];
      const raw = this.#cols[c];
      columns[name] = type === "float"
        ? { name, type, values: Float64Array.from(raw as number[]) }
        : ({ name, type, values: raw } as AtomicColumn);
    }
    return { source: this.#source, numRows: this.#rows, fields: [...this.#names], columns };
  }
}

/** Parse a RecBole atomic file from text, bytes or lines. @throws DataFormatError */
export function parseAtomic(input: TextInput, options: AtomicOptions = {}): AtomicTable {
  return runParser(new AtomicParser(options), input, options.source);
}

/** Parse a RecBole atomic file from a (possibly async) stream of lines. @throws DataFormatError */
export function parseAtomicStream(
  lines: LineStream,
  options: AtomicOptions = {},
): Promise<AtomicTable> {
  return runParserAsync(new AtomicParser(options), lines, options.source);
}

function column<T extends AtomicType>(
  table: AtomicTable,
  name: string,
  types: readonly T[],
): Extract<AtomicColumn, { type: T }> {
  const col = table.columns[name];
  if (!col) {
    throw new DataFormatError(
      table.source,
      1,
      `no field '${name}' in header (fields: ${table.fields.join(", ")})`,
    );
  }
  if (!(types as readonly string[]).includes(col.type)) {
    throw new DataFormatError(
      table.source,
      1,
      `field '${name}' has type ${col.type}, expected ${types.join(" or ")}`,
    );
  }
  return col as Extract<AtomicColumn, { type: T }>;
}

/** Options for {@link atomicInteractions}. */
export interface AtomicInteractionOptions {
  /** User id field (token). Default `"user_id"`. */
  userField?: string;
  /** Item id field (token). Default `"item_id"`. */
  itemField?: string;
  /** Rating field (float), used when present. Default `"rating"`. */
  ratingField?: string;
  /** Timestamp field (float), used when present. Default `"timestamp"`. */
  timeField?: string;
  /** Existing user map to extend (e.g. shared with a `.user` file). */
  userIds?: IdMap;
  /** Existing item map to extend (e.g. shared with an `.item` file). */
  itemIds?: IdMap;
}

/**
 * Turn a parsed `.inter` table into a {@link Dataset}: raw user/item tokens become 0-based
 * indices in order of first appearance (after any ids already in the given maps).
 * @throws DataFormatError when a field is missing or has the wrong type, or a rating/timestamp
 * is empty.
 */
export function atomicInteractions(
  table: AtomicTable,
  options: AtomicInteractionOptions = {},
): Dataset {
  const users = column(table, options.userField ?? "user_id", ["token"]).values;
  const items = column(table, options.itemField ?? "item_id", ["token"]).values;
  const userIds = options.userIds ?? new IdMap();
  const itemIds = options.itemIds ?? new IdMap();
  const n = table.numRows;
  if (n === 0) {
    throw new DataFormatError(table.source, 0, "no interactions (the file has only its header)");
  }
  const x: Interactions = {
    users: new Int32Array(n),
    items: new Int32Array(n),
    numUsers: 0,
    numItems: 0,
  };
  for (let i = 0; i < n; i++) {
    x.users[i] = userIds.add(users[i]);
    x.items[i] = itemIds.add(items[i]);
  }
  const rf = options.ratingField ?? "rating";
  const tf = options.timeField ?? "timestamp";
  if (table.columns[rf]) {
    const r = column(table, rf, ["float"]).values;
    const nan = r.findIndex((v) => Number.isNaN(v));
    if (nan >= 0) throw new DataFormatError(table.source, nan + 2, `empty '${rf}'`);
    x.ratings = Float32Array.from(r);
  }
  if (table.columns[tf]) {
    const t = column(table, tf, ["float"]).values;
    const nan = t.findIndex((v) => Number.isNaN(v));
    if (nan >= 0) throw new DataFormatError(table.source, nan + 2, `empty '${tf}'`);
    x.timestamps = Float64Array.from(t);
  }
  x.numUsers = userIds.size;
  x.numItems = itemIds.size;
  return { interactions: x, userIds, itemIds };
}

/**
 * For each id of `ids`, the row of `table` whose `keyField` holds it, or -1 when the table has
 * no row for that id (to align `.item`/`.user` features with a dataset's indices).
 * @throws DataFormatError when `keyField` is missing or a key appears twice.
 */
export function alignRows(table: AtomicTable, keyField: string, ids: IdMap): Int32Array {
  const keys = column(table, keyField, ["token"]).values;
  const rows = new Int32Array(ids.size).fill(-1);
  for (let r = 0; r < keys.length; r++) {
    const i = ids.get(keys[r]);
    if (i < 0) continue;
    if (rows[i] >= 0) {
      throw new DataFormatError(table.source, r + 2, `duplicate ${keyField} '${keys[r]}'`);
    }
    rows[i] = r;
  }
  return rows;
}

/** A token column encoded with a {@link Vocab}. */
export interface EncodedTokens {
  /** Vocabulary index of each row (0 = OOV, also used for rows absent from the table). */
  ids: Int32Array;
  /** The vocabulary. */
  vocab: Vocab;
}

/** A token-sequence column encoded with a {@link Vocab}, as CSR rows. */
export interface EncodedTokenSeqs {
  /** Row start offsets, length rows + 1. */
  indptr: Int32Array;
  /** Vocabulary indices of all rows, concatenated. */
  indices: Int32Array;
  /** The vocabulary. */
  vocab: Vocab;
}

/**
 * Encode a `token` column with a vocabulary fitted on it. With `rows` (from {@link alignRows}),
 * output row i is table row `rows[i]` (OOV when -1).
 */
export function encodeTokenColumn(
  table: AtomicTable,
  field: string,
  options: VocabOptions & { rows?: Int32Array; vocab?: Vocab } = {},
): EncodedTokens {
  const values = column(table, field, ["token"]).values;
  const vocab = options.vocab ?? Vocab.fit(values, options);
  const rows = options.rows;
  const n = rows ? rows.length : values.length;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    ids[i] = r < 0 ? Vocab.OOV : vocab.encode(values[r]);
  }
  return { ids, vocab };
}

/** Encode a `token_seq` column (e.g. genres, title words) as CSR rows; see {@link encodeTokenColumn}. */
export function encodeTokenSeqColumn(
  table: AtomicTable,
  field: string,
  options: VocabOptions & { rows?: Int32Array; vocab?: Vocab } = {},
): EncodedTokenSeqs {
  const values = column(table, field, ["token_seq"]).values;
  const vocab = options.vocab ?? Vocab.fit(values.flat(), options);
  const rows = options.rows;
  const n = rows ? rows.length : values.length;
  const indptr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    indptr[i + 1] = indptr[i] + (r < 0 ? 0 : values[r].length);
  }
  const indices = new Int32Array(indptr[n]);
  for (let i = 0; i < n; i++) {
    const r = rows ? rows[i] : i;
    if (r >= 0) indices.set(vocab.encodeAll(values[r]), indptr[i]);
  }
  return { indptr, indices, vocab };
}
