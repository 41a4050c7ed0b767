/**
 * GIST: "Cross-Domain Click-Through Rate Prediction via Guided Content-Behavior Distillation"
 * (Xu et al., Xiaohongshu 2025; spec ../shared/specs/gist.md). No code or architecture is
 * public: this is a design from the abstract, and every equation below is ours.
 * Decoupled stages:
 * 1. source (src/models/gist/source.ts, CBJT): content–behaviour joint embeddings z_s of the
 *    source items and content queries q_t of the target items, trained alone and exported as a
 *    frozen table `[Ns + Nt, d_s]`;
 * 2. search (search.ts): R(u, t) = topK_{s ∈ S_u} q_t · z_s over u's lifelong source sequence;
 * 3. target CTR (this file), with the export frozen:
 * ```
 * e_u = U[u],  e_t = I[t],  h = mean_{j ∈ hist(u)} I[j]           target-domain ids
 * S = z[R(u, t)]  [K, d_s]   (a missing slot, sequence shorter than K, is a zero row)
 * a = ASI([e_t; q_t], S)     [d_a + 2]   target attention over S with the asymmetric σ as
 *                                        bias, σ's max and mean as features (asi.ts)
 * ŷ = DNN([e_u; e_t; h; a])              (target alone, useSource = false: DNN([e_u; e_t; h]))
 * L = BCE(ŷ, y)
 * ```
 * New source data refresh the export and the searches ({@link Gist.setSource}) without
 * retraining the target model.
 * @module
 */

import { Module } from "../../nn/module.ts";
import { Embedding } from "../../nn/embedding.ts";
import { MLP } from "../../nn/linear.ts";
import { concat, reshape } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { SparseMatrix } from "../../ops/sparse/sparse.ts";
import { spmm } from "../../ops/sparse/spmm.ts";
import type { CtrData } from "../../data/ctr.ts";
import type { CtrModel, CtrTensors } from "../../train/ctr.ts";
import type { SourceExport } from "./source.ts";
import { Rng } from "../../random.ts";
import { keep, type Tensor, tensor } from "../../tensor.ts";
import { AsymmetricSimilarity } from "./asi.ts";
import { type Csr, csrRow } from "./data.ts";
import { lifelongSearch } from "./search.ts";

/** Hyper-parameters of {@link Gist}. */
export interface GistConfig {
  /** Target id embedding width d. Default 16. */
  embeddingDim?: number;
  /** ASI attention width d_a. Default 16. */
  attentionDim?: number;
  /** DNN hidden widths. Default [64, 32]. */
  dnnHidden?: number[];
  /** K: source items retrieved per request. Default 16. */
  topK?: number;
  /** Use the source stage (false: the target-alone baseline). Default true. */
  useSource?: boolean;
  /** Initialisation seed. Default 0. */
  seed?: number;
}

/** Defaults of {@link GistConfig}. */
export const GIST_DEFAULTS: Required<GistConfig> = {
  embeddingDim: 16,
  attentionDim: 16,
  dnnHidden: [64, 32],
  topK: 16,
  useSource: true,
  seed: 0,
};

/** A host batch of target rows. */
export interface GistBatch {
  /** User ids `[B]`. */
  users: Int32Array;
  /** Target item ids `[B]`. */
  items: Int32Array;
  /** Each row's target history (item ids). */
  history: Csr;
  /** Retrieved source items `[B · K]` (−1: none). */
  retrieved: Int32Array;
}

function normalInit(n: number, d: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * d }, () => 0.1 * r.normal());
}

/** GIST's target-domain CTR model over a source export (see the module doc). */
export class Gist extends Module implements CtrModel {
  /** Display name. */
  readonly name: string;
  /** Resolved hyper-parameters. */
  readonly cfg: Required<GistConfig>;
  /** U `[users, d]`. */
  readonly userEmbedding: Embedding;
  /** I `[Nt, d]`. */
  readonly itemEmbedding: Embedding;
  /** ASI over the retrieved source items (null for the target-alone baseline). */
  readonly asi: AsymmetricSimilarity | null;
  /** The DNN → one logit. */
  readonly dnn: MLP;
  #table: Tensor<"f32"> | null = null;
  #seq: Csr | null = null;
  #limits: Map<CtrData, Int32Array> | undefined;
  #ds: number;
  readonly #retrieved = new Map<CtrData, Int32Array>();

  /** Over `users` users, `Ns` source and `Nt` target items; `ds` the export's width. */
  constructor(
    readonly users: number,
    readonly Ns: number,
    readonly Nt: number,
    ds: number,
    cfg: GistConfig = {},
  ) {
    super();
    const c = this.cfg = { ...GIST_DEFAULTS, ...cfg };
    this.#ds = ds;
    this.name = c.useSource ? "GIST" : "GIST target alone";
    const d = c.embeddingDim;
    this.userEmbedding = this.child(
      "user_embedding",
      new Embedding(users, d, normalInit(users, d, c.seed)),
    );
    this.itemEmbedding = this.child(
      "item_embedding",
      new Embedding(Nt, d, normalInit(Nt, d, c.seed + 1)),
    );
    this.asi = c.useSource
      ? this.child("asi", new AsymmetricSimilarity(d + ds, ds, c.attentionDim, c.seed + 2))
      : null;
    const width = 3 * d + (c.useSource ? c.attentionDim + 2 : 0);
    this.dnn = this.child("dnn", new MLP([width, ...c.dnnHidden, 1], "relu", c.seed + 3));
  }

  /**
   * Installs a source export `[Ns + Nt, d_s]` (frozen; a zero row is appended for missing
   * slots) and the users' source sequences (with, per table, how many items of its user's
   * sequence each row may see); forgets earlier searches. The target model's parameters are
   * not touched (the incremental update).
   */
  setSource(table: SourceExport, seq: Csr, limits?: Map<CtrData, Int32Array>): void {
    const n = table.data.length / table.dim;
    if (table.dim !== this.#ds || n !== this.Ns + this.Nt) {
      throw new Error(
        `wgrec Gist.setSource: export [${n}, ${table.dim}]; expected [${this.Ns + this.Nt}, ` +
          `${this.#ds}] (source items then target items)`,
      );
    }
    this.#table?.dispose();
    const t = new Float32Array(table.data.length + table.dim);
    t.set(table.data);
    this.#table = keep(tensor(t, [n + 1, table.dim]));
    this.#seq = seq;
    this.#limits = limits;
    this.#retrieved.clear();
  }

  /** Runs the lifelong search for every row of each table (once per export). */
  async prepare(tables: readonly CtrData[]): Promise<void> {
    if (!this.cfg.useSource) return;
    if (!this.#table || !this.#seq) throw new Error("wgrec Gist.prepare: call setSource first");
    for (const data of tables) {
      if (this.#retrieved.has(data)) continue;
      const nf = data.sparseNames.length;
      const users = Int32Array.from({ length: data.numRows }, (_, r) => data.sparse[r * nf]);
      const items = Int32Array.from(
        { length: data.numRows },
        (_, r) => this.Ns + data.sparse[r * nf + 1],
      );
      const q = keep(gather(this.#table, tensor(items, [items.length], "i32")));
      try {
        this.#retrieved.set(
          data,
          await lifelongSearch(this.#table, q, this.#seq, users, this.cfg.topK, {
            limit: this.#limits?.get(data),
          }),
        );
      } finally {
        q.dispose();
      }
    }
  }

  /** The retrieved source items of a prepared table's rows `[rows · K]` (−1: none). */
  retrievedOf(data: CtrData): Int32Array | undefined {
    return this.#retrieved.get(data);
  }

  /** Logits `[B]` of rows of a prepared table (the CTR task's batches). */
  logits(t: CtrTensors): Tensor<"f32"> {
    const K = this.cfg.topK;
    const data = t.data;
    const all = this.cfg.useSource ? this.#retrieved.get(data) : new Int32Array(0);
    if (!all) {
      throw new Error(
        `wgrec Gist.logits: no lifelong search for this table (${data.numRows} rows); ` +
          `await model.prepare([table]) first`,
      );
    }
    const nf = data.sparseNames.length;
    const hist = data.sequences.find((s) => s.name === "history");
    if (nf < 2 || !hist) {
      throw new Error(
        `wgrec Gist.logits: fields ${data.sparseNames.join(", ")}; expected user_id, ` +
          `item_id and a history sequence`,
      );
    }
    const rows = t.rows;
    const retrieved = new Int32Array(this.cfg.useSource ? rows.length * K : 0);
    if (this.cfg.useSource) {
      rows.forEach((r, i) => retrieved.set(all.subarray(r * K, (r + 1) * K), i * K));
    }
    const h = Array.from(rows, (r) => [...csrRow(hist, r)]);
    const indptr = new Int32Array(rows.length + 1);
    h.forEach((x, i) => (indptr[i + 1] = indptr[i] + x.length));
    return reshape(
      this.forward({
        users: Int32Array.from(rows, (r) => data.sparse[r * nf]),
        items: Int32Array.from(rows, (r) => data.sparse[r * nf + 1]),
        history: { indptr, indices: Int32Array.from(h.flat()) },
        retrieved,
      }),
      [rows.length],
    );
  }

  /** Logits `[B, 1]` of a host batch. */
  forward(b: GistBatch): Tensor<"f32"> {
    const B = b.users.length;
    const K = this.cfg.topK;
    const eu = this.userEmbedding.forward(tensor(b.users, [B], "i32"));
    const it = tensor(b.items, [B], "i32");
    const et = this.itemEmbedding.forward(it);
    const w = new Float32Array(b.history.indices.length);
    for (let i = 0; i < B; i++) {
      const [lo, hi] = [b.history.indptr[i], b.history.indptr[i + 1]];
      w.fill(1 / Math.max(1, hi - lo), lo, hi);
    }
    const H = SparseMatrix.fromCSR(b.history.indptr, b.history.indices, w, [B, this.Nt]);
    const h = spmm(H, this.itemEmbedding.weight); // [B, d]; H belongs to the caller's scope
    const parts = [eu, et, h];
    if (this.asi) {
      const table = this.#table;
      if (!table) throw new Error("wgrec Gist.forward: no source export (call setSource)");
      const pad = this.Ns + this.Nt;
      const r = Int32Array.from(b.retrieved, (x) => (x < 0 ? pad : x));
      const S = gather(table, tensor(r, [B, K], "i32")); // [B, K, ds]
      const q = gather(table, tensor(Int32Array.from(b.items, (i) => this.Ns + i), [B], "i32"));
      parts.push(this.asi.forward(concat([et, q], 1), S));
    }
    return this.dnn.forward(concat(parts, 1));
  }

  /** Frees parameters and the export. */
  override dispose(): void {
    super.dispose();
    this.#table?.dispose();
    this.#table = null;
  }
}
