/**
 * CTR feature encoding for tabular click data (Criteo, Avazu, MovieLens-with-attributes…):
 * labels, dense numeric fields (optionally log-transformed), categorical fields through
 * vocabularies with a minimum count and an OOV bucket, numeric fields bucketised into
 * categories, and multi-value fields (`Comedy|Drama`) as CSR rows. Fit on the training table,
 * then transform any table with the same columns. Browser-safe.
 * @module
 */

import { type CsvTable, parseCsv } from "./csv.ts";
import { DataFormatError } from "./types.ts";
import { parseNumber, type TextInput } from "./text.ts";
import { Vocab } from "./vocab.ts";

/** How a numeric value becomes a categorical token. */
export type Bucketing =
  /** Criteo winners' rule: v > 2 → ⌊ln(v)²⌋, else ⌊v⌋ (FuxiCTR's `convert_to_bucket`). */
  | "criteo"
  /** Sorted boundaries b: the token is the number of boundaries ≤ v (0 … b.length). */
  | readonly number[];

/** Which columns play which role. */
export interface CtrSchema {
  /** Label column (a number; see {@link CtrOptions.labelThreshold}). */
  label: string;
  /** Numeric columns kept as dense features. */
  dense?: readonly string[];
  /** Categorical columns (each becomes one id per row). */
  sparse?: readonly string[];
  /**
   * Multi-value categorical columns and their separators, e.g. `{ name: "genres", sep: "|" }`;
   * `vocabOf` names a `sparse` field whose vocabulary the tokens share (a behaviour sequence of
   * item ids shares the item field's, so DIN compares them in one embedding table).
   */
  sequence?: readonly { name: string; sep: string; vocabOf?: string }[];
  /** Numeric columns in `sparse` to bucketise before the vocabulary lookup. */
  buckets?: Readonly<Record<string, Bucketing>>;
}

/** Options for {@link CtrEncoder.fit}. */
export interface CtrOptions {
  /** Categorical tokens seen fewer times in training go to the OOV bucket. Default 1. */
  minCount?: number;
  /** Dense transform: `"log1p"` is sign(v)·ln(1+|v|) (default), `"none"` keeps values. */
  denseTransform?: "log1p" | "none";
  /** Value for an empty dense cell, before the transform. Default 0. */
  denseFill?: number;
  /**
   * When set, labels become 1 if ≥ threshold else 0 (e.g. 4 for ratings); without it, every
   * label must be 0 or 1 (anything else is refused with its file and line).
   */
  labelThreshold?: number;
}

/** One encoded multi-value field, as CSR rows of vocabulary indices. */
export interface CtrSequence {
  /** Field name. */
  name: string;
  /** Row start offsets, length rows + 1. */
  indptr: Int32Array;
  /** Vocabulary indices, concatenated. */
  indices: Int32Array;
  /** Vocabulary size (OOV included). */
  cardinality: number;
  /** The `sparse` field whose vocabulary (and so embedding table) this field shares. */
  vocabOf?: string;
}

/** An encoded CTR table (row-major dense and sparse blocks). */
export interface CtrData {
  /** Number of rows. */
  numRows: number;
  /** Label of each row. */
  labels: Float32Array;
  /** Names of the dense fields. */
  denseNames: string[];
  /** Dense values, `numRows × denseNames.length`, row-major. */
  dense: Float32Array;
  /** Names of the categorical fields. */
  sparseNames: string[];
  /** Vocabulary indices, `numRows × sparseNames.length`, row-major (0 = OOV). */
  sparse: Int32Array;
  /** Vocabulary size of each categorical field (OOV included), for embedding tables. */
  cardinalities: number[];
  /** Multi-value fields. */
  sequences: CtrSequence[];
}

/** Turn a numeric cell into a bucket token ("" stays "" so missing values keep their own id). */
export function bucketToken(cell: string, rule: Bucketing): string | undefined {
  if (cell.trim().length === 0) return "";
  const v = parseNumber(cell);
  if (v === undefined) return undefined;
  if (rule === "criteo") return String(v > 2 ? Math.floor(Math.log(v) ** 2) : Math.floor(v));
  let lo = 0;
  let hi = rule.length;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    if (rule[m] <= v) lo = m + 1;
    else hi = m;
  }
  return String(lo);
}

/**
 * Boundaries cutting `values` (NaN ignored) into about `numBuckets` equal-frequency buckets, for
 * {@link Bucketing}. Duplicated cut points are merged, so heavy ties give fewer buckets.
 */
export function quantileBoundaries(values: ArrayLike<number>, numBuckets: number): number[] {
  const v = Float64Array.from(values).filter((x) => !Number.isNaN(x)).sort();
  const out: number[] = [];
  for (let b = 1; b < numBuckets; b++) {
    const q = v[Math.min(v.length - 1, Math.floor((b * v.length) / numBuckets))];
    if (q !== undefined && (out.length === 0 || q > out[out.length - 1])) out.push(q);
  }
  return out;
}

function col(table: CsvTable, name: string): number {
  const c = table.header.indexOf(name);
  if (c < 0) {
    throw new DataFormatError(
      table.source,
      0,
      `no column '${name}' (columns: ${table.header.join(", ")})`,
    );
  }
  return c;
}

/** Encoder fitted on a training table: vocabularies per categorical and multi-value field. */
export class CtrEncoder {
  /** The schema. */
  readonly schema: CtrSchema;
  /** The options. */
  readonly options: CtrOptions;
  /** Vocabulary of each `schema.sparse` field, in order. */
  readonly vocabs: Vocab[];
  /** Vocabulary of each `schema.sequence` field, in order. */
  readonly sequenceVocabs: Vocab[];

  private constructor(schema: CtrSchema, options: CtrOptions, vocabs: Vocab[], seqVocabs: Vocab[]) {
    this.schema = schema;
    this.options = options;
    this.vocabs = vocabs;
    this.sequenceVocabs = seqVocabs;
  }

  /**
   * Fit vocabularies on a training table.
   * @throws DataFormatError when a schema column is missing or a bucketised cell is not a number.
   */
  static fit(table: CsvTable, schema: CtrSchema, options: CtrOptions = {}): CtrEncoder {
    const minCount = options.minCount ?? 1;
    const vocabs = (schema.sparse ?? []).map((name) => {
      const c = col(table, name);
      const rule = schema.buckets?.[name];
      const counts = new Map<string, number>();
      for (let r = 0; r < table.rows.length; r++) {
        const tok = tokenOf(table, r, c, name, rule);
        counts.set(tok, (counts.get(tok) ?? 0) + 1);
      }
      return Vocab.fromCounts(counts, { minCount });
    });
    const seqVocabs = (schema.sequence ?? []).map(({ name, sep, vocabOf }) => {
      const c = col(table, name);
      if (vocabOf !== undefined) {
        const j = (schema.sparse ?? []).indexOf(vocabOf);
        if (j < 0) {
          throw new DataFormatError(
            table.source,
            0,
            `sequence field '${name}' shares the vocabulary of '${vocabOf}', which is not a ` +
              `sparse field (sparse: ${(schema.sparse ?? []).join(", ")})`,
          );
        }
        return vocabs[j];
      }
      const counts = new Map<string, number>();
      for (const row of table.rows) {
        for (const t of row[c].split(sep)) {
          if (t.length > 0) counts.set(t, (counts.get(t) ?? 0) + 1);
        }
      }
      return Vocab.fromCounts(counts, { minCount });
    });
    return new CtrEncoder(schema, options, vocabs, seqVocabs);
  }

  /**
   * Encode a table (the training table or another with the same columns); unseen or rare
   * tokens map to OOV.
   * @throws DataFormatError naming the line for a non-numeric label or dense value.
   */
  transform(table: CsvTable): CtrData {
    const s = this.schema;
    const o = this.options;
    const n = table.rows.length;
    const lc = col(table, s.label);
    const labels = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      const v = parseNumber(table.rows[r][lc]);
      if (v === undefined) {
        throw new DataFormatError(
          table.source,
          table.lines[r],
          `label '${s.label}' must be a number, found '${table.rows[r][lc]}'`,
        );
      }
      // BCE trains silently on a label of 2 (issue 15): refuse anything but 0/1 here.
      if (o.labelThreshold === undefined && v !== 0 && v !== 1) {
        throw new DataFormatError(
          table.source,
          table.lines[r],
          `label '${s.label}' must be 0 or 1, found '${table.rows[r][lc]}' ` +
            `(set labelThreshold to binarise ratings)`,
        );
      }
      labels[r] = o.labelThreshold === undefined ? v : v >= o.labelThreshold ? 1 : 0;
    }
    const denseNames = [...(s.dense ?? [])];
    const dense = new Float32Array(n * denseNames.length);
    const fill = o.denseFill ?? 0;
    const log = (o.denseTransform ?? "log1p") === "log1p";
    denseNames.forEach((name, j) => {
      const c = col(table, name);
      for (let r = 0; r < n; r++) {
        const cell = table.rows[r][c];
        let v = cell.trim().length === 0 ? fill : parseNumber(cell);
        if (v === undefined) {
          throw new DataFormatError(
            table.source,
            table.lines[r],
            `dense field '${name}' must be a number, found '${cell}'`,
          );
        }
        if (log) v = Math.sign(v) * Math.log1p(Math.abs(v));
        dense[r * denseNames.length + j] = v;
      }
    });
    const sparseNames = [...(s.sparse ?? [])];
    const ns = sparseNames.length;
    const sparse = new Int32Array(n * ns);
    sparseNames.forEach((name, j) => {
      const c = col(table, name);
      const rule = s.buckets?.[name];
      const vocab = this.vocabs[j];
      for (let r = 0; r < n; r++) {
        sparse[r * ns + j] = vocab.encode(tokenOf(table, r, c, name, rule));
      }
    });
    const sequences = (s.sequence ?? []).map(({ name, sep, vocabOf }, j): CtrSequence => {
      const c = col(table, name);
      const vocab = this.sequenceVocabs[j];
      const indptr = new Int32Array(n + 1);
      const idx: number[] = [];
      for (let r = 0; r < n; r++) {
        for (const t of table.rows[r][c].split(sep)) if (t.length > 0) idx.push(vocab.encode(t));
        indptr[r + 1] = idx.length;
      }
      return { name, indptr, indices: Int32Array.from(idx), cardinality: vocab.size, vocabOf };
    });
    return {
      numRows: n,
      labels,
      denseNames,
      dense,
      sparseNames,
      sparse,
      cardinalities: this.vocabs.map((v) => v.size),
      sequences,
    };
  }
}

function tokenOf(
  table: CsvTable,
  r: number,
  c: number,
  name: string,
  rule: Bucketing | undefined,
): string {
  const cell = table.rows[r][c];
  if (rule === undefined) return cell;
  const tok = bucketToken(cell, rule);
  if (tok === undefined) {
    throw new DataFormatError(
      table.source,
      table.lines[r],
      `bucketised field '${name}' must be a number, found '${cell}'`,
    );
  }
  return tok;
}

/**
 * The usual Criteo schema: `label`, I1–I13 dense (log1p) and C1–C26 categorical; with
 * `bucketNumeric`, I1–I13 are instead bucketised with the {@link Bucketing} `"criteo"` rule and
 * treated as categorical too (the FuxiCTR/BARS setting).
 */
export function criteoSchema(bucketNumeric = false): CtrSchema {
  const ints = Array.from({ length: 13 }, (_, i) => `I${i + 1}`);
  const cats = Array.from({ length: 26 }, (_, i) => `C${i + 1}`);
  if (!bucketNumeric) return { label: "label", dense: ints, sparse: cats };
  return {
    label: "label",
    sparse: [...ints, ...cats],
    buckets: Object.fromEntries(ints.map((n) => [n, "criteo" as const])),
  };
}

/** MovieLens-100K as a CTR task: three time-ordered tables and the schema to encode them. */
export interface MovieLensCtr {
  /** The first 80% of ratings by time. */
  train: CsvTable;
  /** The next 10%. */
  valid: CsvTable;
  /** The last 10%. */
  test: CsvTable;
  /**
   * Label `rating` (binarise with `labelThreshold: 4`); categorical user, item, gender, age
   * (bucketised at 18/25/35/45/50/56 as in ML-1M), occupation and 3-digit zip prefix; genres
   * and `history` (the user's last positively rated items before this rating, sharing the
   * item vocabulary) as sequence fields.
   */
  schema: CtrSchema;
}

/** RecBole atomic header `name:type` → `name`. */
function atomicTable(input: TextInput, source: string): CsvTable {
  const t = parseCsv(input, { delimiter: "\t", source });
  t.header = t.header.map((h) => h.split(":")[0]);
  return t;
}

/**
 * MovieLens-100K (RecBole atomic files `.inter`, `.item`, `.user`) joined into CTR rows
 * ordered by time and split 8:1:1 (ties keep file order). `history` holds up to
 * `historyLength` (default 10) items the user rated ≥ 4 earlier in that order, newest last.
 * @throws DataFormatError naming the file and line of a rating whose user or item is not in
 * the `.user` / `.item` file, or of a non-numeric rating or timestamp.
 */
export function movielensCtrTables(
  inter: TextInput,
  item: TextInput,
  user: TextInput,
  opts: { historyLength?: number; names?: [string, string, string] } = {},
): MovieLensCtr {
  const [ni, nit, nu] = opts.names ?? ["ml-100k.inter", "ml-100k.item", "ml-100k.user"];
  const it = atomicTable(inter, ni);
  const items = atomicTable(item, nit);
  const users = atomicTable(user, nu);
  const byId = (t: CsvTable) => new Map(t.rows.map((r) => [r[col(t, t.header[0])], r]));
  const itemRow = byId(items);
  const userRow = byId(users);
  const [cu, ci, cr, ct] = ["user_id", "item_id", "rating", "timestamp"].map((n) => col(it, n));
  const [cg, ca, co, cz] = ["gender", "age", "occupation", "zip_code"].map((n) => col(users, n));
  const cc = col(items, "class");
  const num = (r: number, c: number, what: string) => {
    const v = parseNumber(it.rows[r][c]);
    if (v === undefined) {
      throw new DataFormatError(
        ni,
        it.lines[r],
        `${what} must be a number, found '${it.rows[r][c]}'`,
      );
    }
    return v;
  };
  const order = it.rows.map((_, r) => r);
  const time = order.map((r) => num(r, ct, "timestamp"));
  order.sort((a, b) => time[a] - time[b] || a - b);
  const L = opts.historyLength ?? 10;
  const hist = new Map<string, string[]>();
  const rows: string[][] = [];
  const lines: number[] = [];
  for (const r of order) {
    const row = it.rows[r];
    const u = userRow.get(row[cu]);
    const i = itemRow.get(row[ci]);
    if (u === undefined || i === undefined) {
      const what = u === undefined
        ? `user '${row[cu]}' is not in ${nu}`
        : `item '${row[ci]}' is not in ${nit}`;
      throw new DataFormatError(ni, it.lines[r], what);
    }
    const h = hist.get(row[cu]) ?? [];
    rows.push([
      row[cr],
      row[cu],
      row[ci],
      u[cg],
      u[ca],
      u[co],
      u[cz].slice(0, 3),
      i[cc],
      h.join(" "),
    ]);
    lines.push(it.lines[r]);
    if (num(r, cr, "rating") >= 4) hist.set(row[cu], [...h, row[ci]].slice(-L));
  }
  const header = [
    "rating",
    "user_id",
    "item_id",
    "gender",
    "age",
    "occupation",
    "zip",
    "genres",
    "history",
  ];
  const n = rows.length;
  const cut = (a: number, b: number): CsvTable => ({
    source: ni,
    header,
    rows: rows.slice(a, b),
    lines: Int32Array.from(lines.slice(a, b)),
  });
  const a = Math.floor(0.8 * n);
  const b = Math.floor(0.9 * n);
  return {
    train: cut(0, a),
    valid: cut(a, b),
    test: cut(b, n),
    schema: {
      label: "rating",
      sparse: ["user_id", "item_id", "gender", "age", "occupation", "zip"],
      sequence: [{ name: "genres", sep: " " }, { name: "history", sep: " ", vocabOf: "item_id" }],
      buckets: { age: [18, 25, 35, 45, 50, 56] },
    },
  };
}
