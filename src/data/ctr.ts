/**
 * CTR feature encoding for tabular click data (Criteo, Avazu, MovieLens-with-attributes…):
 * labels, dense numeric fields (optionally log-transformed), categorical fields through
 * vocabularies with a minimum count and an OOV bucket, numeric fields bucketised into
 * categories, and multi-value fields (`Comedy|Drama`) as CSR rows. Fit on the training table,
 * then transform any table with the same columns. Browser-safe.
 * @module
 */

import type { CsvTable } from "./csv.ts";
import { DataFormatError } from "./types.ts";
import { parseNumber } from "./text.ts";
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
  /** Multi-value categorical columns and their separators, e.g. `{ name: "genres", sep: "|" }`. */
  sequence?: readonly { name: string; sep: string }[];
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
  /** When set, labels become 1 if ≥ threshold else 0 (e.g. 4 for ratings). */
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
    const seqVocabs = (schema.sequence ?? []).map(({ name, sep }) => {
      const c = col(table, name);
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
    const sequences = (s.sequence ?? []).map(({ name, sep }, j): CtrSequence => {
      const c = col(table, name);
      const vocab = this.sequenceVocabs[j];
      const indptr = new Int32Array(n + 1);
      const idx: number[] = [];
      for (let r = 0; r < n; r++) {
        for (const t of table.rows[r][c].split(sep)) if (t.length > 0) idx.push(vocab.encode(t));
        indptr[r + 1] = idx.length;
      }
      return { name, indptr, indices: Int32Array.from(idx), cardinality: vocab.size };
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
