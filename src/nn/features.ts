/**
 * The CTR feature layer, as FuxiCTR/DeepCTR users know it: a typed feature spec (categorical,
 * numeric, sequence), host batches of encoded rows (`src/data/ctr.ts` makes the rows), one
 * embedding table per field on the GPU, and the L2 penalty on those tables.
 *
 * ```
 * categorical f:  e_f = W_f[x_f]                          W_f [V_f, d]
 * numeric f:      e_f = x_f · w_f                         w_f [d] (a dense linear term)
 * sequence f:     e_f = Σ_{j < len} W_f[x_fj]  (/ len for mean pooling; 0 when empty)
 * E = stack_f(e_f)                                        [B, F, d]
 * ```
 * A sequence field may share another field's table (`share`: a behaviour history of item ids
 * looks items up in the item table). Tables over `maxTableBytes` (a storage binding holds at
 * most 128 MiB) are split into row blocks, each its own parameter, and looked up block by
 * block. Numeric fields that should be categories are bucketised by the encoder instead.
 * @module
 */

import { Module } from "./module.ts";
import { add, mul, square } from "../ops/core/elementwise.ts";
import { sum } from "../ops/core/reduce.ts";
import { concat, reshape, slice } from "../ops/core/shape.ts";
import { gather } from "../ops/sparse/gather.ts";
import { indexTensor } from "../ops/index_check.ts";
import { Rng } from "../random.ts";
import { type Tensor, tensor } from "../tensor.ts";
import type { CtrData } from "../data/ctr.ts";

/** One input field of a CTR model. */
export type FeatureSpec =
  /** One id per row in `[0, vocabSize)` (0 is the encoder's OOV bucket). */
  | { name: string; type: "categorical"; vocabSize: number }
  /** One real value per row, embedded as `value · w`. */
  | { name: string; type: "numeric" }
  /**
   * Up to `maxLen` ids per row (longer rows keep their last `maxLen`), pooled by a masked sum
   * or mean; `share` names a categorical field whose table it uses.
   */
  | {
    name: string;
    type: "sequence";
    vocabSize: number;
    maxLen: number;
    pooling: "sum" | "mean";
    share?: string;
  };

/** A batch of rows on the host: what {@link FeatureEmbedding.forward} embeds. */
export interface CtrBatch {
  /** B. */
  size: number;
  /** Label of each row, [B]. */
  labels: Float32Array;
  /** Categorical ids, [B, #categorical] row-major, in spec order. */
  categorical: Int32Array;
  /** Numeric values, [B, #numeric] row-major, in spec order. */
  numeric: Float32Array;
  /** Per sequence field (spec order): ids [B, maxLen] padded with 0, and lengths [B]. */
  sequences: { ids: Int32Array; lengths: Int32Array }[];
}

/** Feature specs of encoded data: its sparse, then sequence, then dense fields. */
export function featureSpecs(
  data: CtrData,
  opts: { maxLen?: number; pooling?: "sum" | "mean" } = {},
): FeatureSpec[] {
  const specs: FeatureSpec[] = data.sparseNames.map((name, j) => ({
    name,
    type: "categorical",
    vocabSize: data.cardinalities[j],
  }));
  for (const s of data.sequences) {
    let longest = 0;
    for (let r = 0; r < data.numRows; r++) {
      longest = Math.max(longest, s.indptr[r + 1] - s.indptr[r]);
    }
    specs.push({
      name: s.name,
      type: "sequence",
      vocabSize: s.cardinality,
      maxLen: Math.max(1, Math.min(opts.maxLen ?? longest, longest)),
      pooling: opts.pooling ?? "mean",
      share: s.vocabOf,
    });
  }
  for (const name of data.denseNames) specs.push({ name, type: "numeric" });
  return specs;
}

function bad(what: string): never {
  throw new Error(`wgrec ctrBatch: ${what}`);
}

/**
 * Gathers `n` rows into a host batch; row i is row `pick(i)[1]` of table `pick(i)[0]` (so a
 * batch may mix tables, as RAT's target rows and retrieved rows do). Every table must have
 * the spec's fields; an id outside its field's vocabulary or a non-finite numeric value fails
 * naming the field and row.
 */
export function ctrBatch(
  specs: readonly FeatureSpec[],
  n: number,
  pick: (i: number) => readonly [CtrData, number],
): CtrBatch {
  const cat = specs.filter((s) => s.type === "categorical");
  const num = specs.filter((s) => s.type === "numeric");
  const seq = specs.filter((s) => s.type === "sequence");
  const out: CtrBatch = {
    size: n,
    labels: new Float32Array(n),
    categorical: new Int32Array(n * cat.length),
    numeric: new Float32Array(n * num.length),
    sequences: seq.map((s) => ({
      ids: new Int32Array(n * s.maxLen),
      lengths: new Int32Array(n),
    })),
  };
  // Column of each field in each table, looked up once per table.
  const cols = new Map<CtrData, { c: number[]; d: number[]; s: number[] }>();
  const colsOf = (t: CtrData) => {
    let m = cols.get(t);
    if (m) return m;
    const find = (names: string[], name: string) => {
      const j = names.indexOf(name);
      if (j < 0) bad(`the table has no field '${name}' (fields: ${names.join(", ")})`);
      return j;
    };
    const seqNames = t.sequences.map((x) => x.name);
    m = {
      c: cat.map((s) => find(t.sparseNames, s.name)),
      d: num.map((s) => find(t.denseNames, s.name)),
      s: seq.map((s) => find(seqNames, s.name)),
    };
    cols.set(t, m);
    return m;
  };
  for (let i = 0; i < n; i++) {
    const [t, r] = pick(i);
    if (!Number.isInteger(r) || r < 0 || r >= t.numRows) {
      bad(`row ${r} is outside a table of ${t.numRows} rows (batch position ${i})`);
    }
    const m = colsOf(t);
    out.labels[i] = t.labels[r];
    const ns = t.sparseNames.length;
    cat.forEach((s, j) => {
      const v = t.sparse[r * ns + m.c[j]];
      if (v < 0 || v >= s.vocabSize) {
        bad(
          `field '${s.name}' of row ${r} has id ${v}, outside its vocabulary [0, ${s.vocabSize})`,
        );
      }
      out.categorical[i * cat.length + j] = v;
    });
    const nd = t.denseNames.length;
    num.forEach((s, j) => {
      const v = t.dense[r * nd + m.d[j]];
      if (!Number.isFinite(v)) bad(`numeric field '${s.name}' of row ${r} is ${v}`);
      out.numeric[i * num.length + j] = v;
    });
    seq.forEach((s, j) => {
      if (s.type !== "sequence") return;
      const q = t.sequences[m.s[j]];
      const end = q.indptr[r + 1];
      const start = Math.max(q.indptr[r], end - s.maxLen);
      const o = out.sequences[j];
      o.lengths[i] = end - start;
      for (let k = start; k < end; k++) {
        const v = q.indices[k];
        if (v < 0 || v >= s.vocabSize) {
          bad(
            `field '${s.name}' of row ${r} has id ${v}, outside its vocabulary [0, ${s.vocabSize})`,
          );
        }
        o.ids[i * s.maxLen + k - start] = v;
      }
    });
  }
  return out;
}

/** Rows `rows` of one table as a batch. */
export function ctrRows(
  specs: readonly FeatureSpec[],
  data: CtrData,
  rows: ArrayLike<number>,
): CtrBatch {
  return ctrBatch(specs, rows.length, (i) => [data, rows[i]]);
}

/** Default largest table block: one storage binding (128 MiB). */
export const MAX_TABLE_BYTES = 128 * 2 ** 20;

/**
 * One field's table `[V, d]`, stored as row blocks of at most `maxBytes` each (parameters
 * `weight`, then `weight_1`, `weight_2`… for the further blocks).
 */
export class FieldTable extends Module {
  /** The row blocks, in order. */
  readonly blocks: Tensor<"f32">[] = [];
  /** Rows per block. */
  readonly blockRows: number;

  /** N(0, std²) values from `rng` (FuxiCTR's default std 1e-4). */
  constructor(
    readonly rows: number,
    readonly dim: number,
    rng: Rng,
    std: number,
    maxBytes = MAX_TABLE_BYTES,
  ) {
    super();
    this.blockRows = Math.max(1, Math.floor(maxBytes / (4 * dim)));
    for (let r0 = 0, b = 0; r0 < rows || b === 0; r0 += this.blockRows, b++) {
      const nr = Math.min(this.blockRows, rows - r0);
      const init = new Float32Array(nr * dim);
      for (let i = 0; i < init.length; i++) init[i] = std * rng.normal();
      this.blocks.push(this.param(b === 0 ? "weight" : `weight_${b}`, tensor(init, [nr, dim])));
    }
  }

  /**
   * Rows `ids` (host, any `shape`) → `[...shape, d]`; one gather per block touched. The ids go up
   * as `indexTensor`s: checked here, and the gather's backward sorts them on the host.
   */
  lookup(ids: Int32Array, shape: readonly number[]): Tensor<"f32"> {
    if (this.blocks.length === 1) {
      return gather(this.blocks[0], indexTensor(ids, this.blocks[0].shape[0], shape));
    }
    let out: Tensor<"f32"> | null = null;
    this.blocks.forEach((w, b) => {
      const r0 = b * this.blockRows;
      const local = new Int32Array(ids.length);
      const mask = new Float32Array(ids.length);
      let any = false;
      ids.forEach((v, i) => {
        if (v >= r0 && v < r0 + w.shape[0]) [local[i], mask[i], any] = [v - r0, 1, true];
      });
      if (!any) return;
      const part = mul(
        gather(w, indexTensor(local, w.shape[0], shape)),
        tensor(mask, [...shape, 1]),
      );
      out = out ? add(out, part) : part;
    });
    // Only an empty batch touches no block.
    return out ?? gather(this.blocks[0], indexTensor(ids, this.blocks[0].shape[0], shape));
  }

  /** Σ of squares of every block. */
  squaredNorm(): Tensor<"f32"> {
    return this.blocks.map((w) => sum(square(w))).reduce((a, b) => add(a, b));
  }
}

/** Options of {@link FeatureEmbedding}. */
export interface FeatureEmbeddingOptions {
  /** Seed of the initial values. Default 2021 (RAT's configs). */
  seed?: number;
  /** Standard deviation of the normal initialisation. Default 1e-4 (FuxiCTR). */
  std?: number;
  /** Largest table block in bytes. Default {@link MAX_TABLE_BYTES}. */
  maxTableBytes?: number;
}

/**
 * Field embeddings `[B, F, d]` of a {@link CtrBatch}, one table per field (parameters
 * `<field>.weight`; numeric fields `numeric_weight` `[#numeric, d]`), fields in spec order.
 */
export class FeatureEmbedding extends Module {
  /** Table of each categorical / sequence field that owns one, by name. */
  readonly tables: Map<string, FieldTable> = new Map();
  /** `[#numeric, d]`, or null without numeric fields. */
  readonly numericWeight: Tensor<"f32"> | null = null;
  /** F. */
  readonly numFields: number;

  /** Tables of width `dim` for `specs`. */
  constructor(
    readonly specs: readonly FeatureSpec[],
    readonly dim: number,
    opts: FeatureEmbeddingOptions = {},
  ) {
    super();
    const rng = new Rng(opts.seed ?? 2021);
    const std = opts.std ?? 1e-4;
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new Error(`wgrec FeatureEmbedding: field '${s.name}' twice`);
      names.add(s.name);
      if (s.type === "numeric" || (s.type === "sequence" && s.share !== undefined)) continue;
      const t = new FieldTable(s.vocabSize, dim, rng, std, opts.maxTableBytes);
      this.tables.set(s.name, this.child(s.name, t));
    }
    for (const s of specs) {
      if (s.type === "sequence" && s.share !== undefined && !this.tables.has(s.share)) {
        throw new Error(
          `wgrec FeatureEmbedding: sequence field '${s.name}' shares the table of '${s.share}', ` +
            `which is not a categorical field here`,
        );
      }
    }
    const nn = specs.filter((s) => s.type === "numeric").length;
    if (nn > 0) {
      const init = new Float32Array(nn * dim);
      for (let i = 0; i < init.length; i++) init[i] = std * rng.normal();
      this.numericWeight = this.param("numeric_weight", tensor(init, [nn, dim]));
    }
    this.numFields = specs.length;
  }

  /** The table a field looks up (its own or the shared one). */
  tableOf(name: string): FieldTable {
    const s = this.specs.find((x) => x.name === name);
    const t = this.tables.get(s?.type === "sequence" && s.share ? s.share : name);
    if (!t) throw new Error(`wgrec FeatureEmbedding: no table for field '${name}'`);
    return t;
  }

  /** One field's embeddings `[B, d]` (sequence fields pooled). */
  field(b: CtrBatch, name: string): Tensor<"f32"> {
    const B = b.size;
    const d = this.dim;
    let ic = 0, inum = 0, iseq = 0;
    for (const s of this.specs) {
      if (s.name === name) {
        if (s.type === "categorical") {
          const nc = b.categorical.length / Math.max(1, B);
          const ids = new Int32Array(B);
          for (let i = 0; i < B; i++) ids[i] = b.categorical[i * nc + ic];
          return this.tableOf(name).lookup(ids, [B]);
        }
        if (s.type === "numeric") {
          const nn = b.numeric.length / Math.max(1, B);
          const x = new Float32Array(B);
          for (let i = 0; i < B; i++) x[i] = b.numeric[i * nn + inum];
          const w = slice(this.numericWeight!, [inum, 0], [1, d]);
          return mul(tensor(x, [B, 1]), w);
        }
        const q = b.sequences[iseq];
        const L = s.maxLen;
        const e = this.tableOf(name).lookup(q.ids, [B, L]);
        const m = new Float32Array(B * L);
        for (let i = 0; i < B; i++) {
          const n = q.lengths[i];
          m.fill(s.pooling === "mean" && n > 0 ? 1 / n : 1, i * L, i * L + n);
        }
        return sum(mul(e, tensor(m, [B, L, 1])), 1);
      }
      if (s.type === "categorical") ic++;
      else if (s.type === "numeric") inum++;
      else iseq++;
    }
    throw new Error(`wgrec FeatureEmbedding: no field '${name}'`);
  }

  /** E `[B, F, d]`, fields in spec order. */
  forward(b: CtrBatch): Tensor<"f32"> {
    const parts = this.specs.map((s) => reshape(this.field(b, s.name), [b.size, 1, this.dim]));
    return parts.length === 1 ? parts[0] : concat(parts, 1);
  }

  /** Σ‖W‖² over every table (numeric weights included), for `(λ/2)·‖θ‖²` on the loss. */
  squaredNorm(): Tensor<"f32"> {
    const parts = [...this.tables.values()].map((t) => t.squaredNorm());
    if (this.numericWeight) parts.push(sum(square(this.numericWeight)));
    return parts.reduce((a, b) => add(a, b));
  }
}
