/**
 * LATTICE (Zhang et al., ACM MM 2021, "Mining Latent Structures for Multimedia
 * Recommendation") as MMRec implements it (`src/models/lattice.py`, `cf_model: lightgcn`).
 *
 * Graphs:
 * ```
 * Â = D^-1 (A + I)                 user–item graph with self-loops, row-normalised (get_adj_mat)
 * O_m = sym(kNN_k(cos(v_m)))       original item graph of modality m (raw features, frozen):
 *                                  top-k cosine values kept, D^-½ S D^-½ with row sums
 * ```
 * Item graph, rebuilt at the first batch of every epoch (`build_item_graph`) with gradient into
 * the projections and the modality weights; detached for the rest of the epoch:
 * ```
 * f_m = m_trs(m_embedding)         projected features (tables trainable, freeze=False)
 * L_m = kNN_k(cos(f_m))            top-k cosine values kept (no normalisation yet)
 * w = softmax(modal_weight)
 * S = (1 − λ)·sym(w_v L_v + w_t L_t) + λ·(w_v O_v + w_t O_t)      λ = lambda_coeff (0.9)
 * ```
 * Forward:
 * ```
 * h = S^{n_layers} E_i
 * [U; I] = mean(H⁰, ÂH⁰, …, Â^{n_ui} H⁰),  H⁰ = [E_u; E_i]   (n_ui = len(weight_size) = 2)
 * items = I + h / ‖h‖                                          (F.normalize)
 * ```
 * Loss on (u, p, n): `BPR + reg·½(‖u‖² + ‖p‖² + ‖n‖²)/B`.
 *
 * S is never dense here: every item row holds the same number of edges (k per modality in L
 * and in O), so S is an `[I, 4k]` table of (column, value) pairs and `S E` is a gather, a
 * product and a row sum, all differentiable in the values. With one modality, S = (1 −
 * λ)·sym(L) + λ·O and there is no `modal_weight`. Differences from MMRec: its epochs start at
 * `pre_epoch_processing`; here the model counts the triples it has trained on and rebuilds
 * when a new pass over the training set begins; its Adam keeps moving the projections with
 * zero gradients (and momentum) in the detached batches, ours skips parameters without a
 * gradient.
 * @module
 */

import { Linear } from "../../nn/linear.ts";
import { Embedding } from "../../nn/embedding.ts";
import { xavierUniform } from "../../nn/init.ts";
import { lightGcnPropagate } from "../../nn/graph_conv.ts";
import { noGrad } from "../../autograd/tape.ts";
import { add, mul, powScalar, scale, square } from "../../ops/core/elementwise.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat, reshape, slice } from "../../ops/core/shape.ts";
import { softmax } from "../../ops/core/softmax.ts";
import { bprLoss } from "../../ops/losses/ranking.ts";
import { l2NormalizeRows, rowDot } from "../../ops/losses/similarity.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { knnGraph, SparseMatrix } from "../../ops/sparse/sparse.ts";
import { Rng } from "../../random.ts";
import { keep, type Tensor, tensor } from "../../tensor.ts";
import type { Interactions } from "../../data/types.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";
import type { ItemModalities } from "../freedom/model.ts";

/** LATTICE hyper-parameters (MMRec's `LATTICE.yaml`). */
export interface LatticeConfig {
  /** `embedding_size` (= `feat_embed_dim`). Default 64. */
  embeddingSize?: number;
  /** `knn_k`. Default 10. */
  knnK?: number;
  /** λ, weight of the original graph, `lambda_coeff`. Default 0.9. */
  lambdaCoeff?: number;
  /** Item-graph propagations, `n_layers`. Default 1. */
  nLayers?: number;
  /** LightGCN layers, `len(weight_size)`. Default 2. */
  nUiLayers?: number;
  /** L2 weight of the batch rows, `reg_weight` (grid 0 … 1e-3). Default 1e-4. */
  regWeight?: number;
  /** Divisor of the L2 term (the configured batch size in the code). Default the batch's size. */
  regBatchSize?: number;
  /** Initialisation seed. Default 999. */
  seed?: number;
}

/** Defaults of {@link LatticeConfig}. */
export const LATTICE_DEFAULTS: Required<Omit<LatticeConfig, "regBatchSize">> = {
  embeddingSize: 64,
  knnK: 10,
  lambdaCoeff: 0.9,
  nLayers: 1,
  nUiLayers: 2,
  regWeight: 1e-4,
  seed: 999,
};

/** The item graph S as an `[I, E]` table of (column, value) pairs, E edges per row. */
export interface ItemGraph {
  /** Columns, i32 `[I·E]`. */
  cols: Tensor<"i32">;
  /** Values `[I, E]` (differentiable when freshly built). */
  values: Tensor<"f32">;
}

/** LATTICE as in MMRec (LightGCN backbone). */
export class LATTICE extends Recommender {
  /** Display name. */
  readonly name = "LATTICE";
  /** The resolved hyper-parameters. */
  readonly cfg: Required<Omit<LatticeConfig, "regBatchSize">> & { regBatchSize?: number };
  /** U. */
  readonly numUsers: number;
  /** I. */
  readonly numItems: number;
  /** E_u (`user_embedding`). */
  readonly userEmbedding: Embedding;
  /** E_i (`item_id_embedding`). */
  readonly itemIdEmbedding: Embedding;
  /** Per modality: trainable features, projection and original graph O_m. */
  readonly modalities: {
    name: "image" | "text";
    emb: Embedding;
    trs: Linear;
    original: SparseMatrix;
  }[] = [];
  /** `modal_weight` (two modalities only). */
  readonly modalWeight: Tensor<"f32"> | null = null;
  /** Â = D^-1 (A + I). */
  readonly adj: SparseMatrix;
  readonly #rowOfEdge: Tensor<"i32">;
  #detached: ItemGraph | null = null;
  #seen = 0;
  readonly #numTrain: number;

  /** A model over `train` with item content `mm` (at least one modality). */
  constructor(train: Interactions, mm: ItemModalities, cfg: LatticeConfig = {}) {
    super();
    const c = this.cfg = { ...LATTICE_DEFAULTS, ...cfg };
    const { numUsers: nu, numItems: ni } = train;
    this.numUsers = nu;
    this.numItems = ni;
    this.#numTrain = train.users.length;
    if (!mm.image && !mm.text) throw new Error("wgrec LATTICE: needs image and/or text features");
    const d = c.embeddingSize;
    const rng = new Rng(c.seed);
    this.userEmbedding = this.child(
      "user_embedding",
      new Embedding(nu, d, xavierUniform(nu, d, rng)),
    );
    this.itemIdEmbedding = this.child(
      "item_id_embedding",
      new Embedding(ni, d, xavierUniform(ni, d, rng)),
    );
    const seed = rng.u32() % 100000;
    for (const [m, feats] of [["image", mm.image], ["text", mm.text]] as const) {
      if (!feats) continue;
      if (feats.length === 0 || feats.length % ni !== 0) {
        throw new Error(
          `wgrec LATTICE: ${feats.length} ${m} feature values do not form ${ni} rows`,
        );
      }
      const f = feats.length / ni;
      const emb = this.child(`${m}_embedding`, new Embedding(ni, f, feats));
      const trs = this.child(
        `${m}_trs`,
        new Linear(f, d, { seed: seed + (m === "image" ? 0 : 2) }),
      );
      const original = knnGraph(emb.weight, c.knnK); // similarity values, 'sym'
      this.modalities.push({ name: m, emb, trs, original });
    }
    if (this.modalities.length === 2) {
      this.modalWeight = this.param("modal_weight", tensor([0.5, 0.5], [2]));
    }
    const k = Math.min(c.knnK, ni);
    const rowOf = Int32Array.from({ length: ni * k }, (_, e) => Math.floor(e / k));
    this.#rowOfEdge = keep(tensor(rowOf, [ni * k], "i32"));
    this.adj = selfLoopAdjacency(train);
  }

  /**
   * The item graph S from the current projections (`build_item_graph=True`): recorded on the
   * tape, so gradients reach `*_trs`, `*_embedding` and `modal_weight`.
   */
  itemGraph(): ItemGraph {
    const c = this.cfg;
    const ni = this.numItems;
    const k = Math.min(c.knnK, ni);
    const w = this.modalWeight ? softmax(this.modalWeight) : null;
    const wOf = (i: number) => slice(w!, [i], [1]);
    const learnedCols: Tensor<"i32">[] = [];
    const learnedVals: Tensor<"f32">[] = [];
    const origCols: Tensor<"i32">[] = [];
    const origVals: Tensor<"f32">[] = [];
    this.modalities.forEach((m, i) => {
      const f = m.trs.forward(m.emb.weight);
      const cols = noGrad(() => {
        const g = knnGraph(f, k, { norm: "none" }); // top-k columns of cos(f_m)
        const copy = concat([reshape(g.colIdx, [ni * k])], 0); // outlives the graph
        g.dispose();
        return copy;
      });
      const fn = l2NormalizeRows(f);
      let v = rowDot(gather(fn, this.#rowOfEdge), gather(fn, cols)); // L_m values (cosines)
      if (w) v = mul(v, wOf(i));
      learnedCols.push(reshape(cols, [ni, k]));
      learnedVals.push(reshape(v, [ni, k]));
      origCols.push(reshape(m.original.colIdx, [ni, k]));
      const o = reshape(m.original.values, [ni, k]);
      origVals.push(w ? mul(o, wOf(i)) : o);
    });
    // sym normalisation of the combined learned graph: d = its row sums (both modalities).
    const lv = concat(learnedVals, 1);
    const lc = concat(learnedCols, 1);
    const dinv = powScalar(sum(lv, 1, true), -0.5); // [I, 1]
    const dcol = reshape(gather(dinv, reshape(lc, [lc.size])), lc.shape);
    const learned = scale(mul(mul(dinv, lv), dcol), 1 - c.lambdaCoeff);
    const original = scale(concat(origVals, 1), c.lambdaCoeff);
    const cols = concat([lc, concat(origCols, 1)], 1);
    return { cols: reshape(cols, [cols.size]), values: concat([learned, original], 1) };
  }

  /** `forward(adj, build_item_graph)`: user and item embeddings through item graph `g`. */
  forward(g: ItemGraph): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const c = this.cfg;
    const [ni, e] = g.values.shape;
    const vals = reshape(g.values, [ni, e, 1]);
    let h = this.itemIdEmbedding.weight;
    for (let l = 0; l < c.nLayers; l++) {
      const d = h.shape[1];
      h = sum(mul(vals, reshape(gather(h, g.cols), [ni, e, d])), 1); // h ← S h
    }
    const h0 = concat([this.userEmbedding.weight, this.itemIdEmbedding.weight], 0);
    const all = lightGcnPropagate(this.adj, h0, c.nUiLayers);
    const nu = this.numUsers;
    return {
      users: slice(all, [0, 0], [nu, -1]),
      items: add(slice(all, [nu, 0], [-1, -1]), l2NormalizeRows(h)),
    };
  }

  /** BPR + L2 of the batch rows; the item graph is rebuilt at the first batch of an epoch. */
  loss(b: TripletTensors): LossOutput {
    let g: ItemGraph;
    if (!this.#detached || this.#seen >= this.#numTrain) {
      this.#seen = 0;
      this.#dropDetached();
      g = this.itemGraph();
      this.#detached = noGrad(() => ({
        cols: keep(concat([g.cols], 0)),
        values: keep(scale(g.values, 1)),
      }));
    } else g = this.#detached;
    this.#seen += b.size;
    const { users, items } = this.forward(g);
    const u = gather(users, b.users);
    const p = gather(items, b.pos);
    const n = gather(items, b.neg);
    const bpr = bprLoss(rowDot(u, p), rowDot(u, n));
    const sq = add(add(sum(square(u)), sum(square(p))), sum(square(n)));
    const reg = scale(sq, (0.5 * this.cfg.regWeight) / (this.cfg.regBatchSize ?? b.size));
    return { loss: add(bpr, reg), parts: { bpr, reg } };
  }

  /** Final embeddings with a freshly built item graph (`full_sort_predict`). */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    return this.forward(this.itemGraph());
  }

  #dropDetached(): void {
    this.#detached?.cols.dispose();
    this.#detached?.values.dispose();
    this.#detached = null;
  }

  /** Frees parameters and graphs. */
  override dispose(): void {
    super.dispose();
    this.#dropDetached();
    this.#rowOfEdge.dispose();
    this.adj.dispose();
    for (const m of this.modalities) m.original.dispose();
  }
}

/** MMRec LATTICE's `get_adj_mat`: `D^-1 (A + I)` over the distinct training pairs. */
export function selfLoopAdjacency(train: Interactions): SparseMatrix {
  const nu = train.numUsers;
  const n = nu + train.numItems;
  const seen = new Set<number>();
  const rows: number[] = [];
  const cols: number[] = [];
  for (let j = 0; j < train.users.length; j++) {
    const u = train.users[j];
    const i = nu + train.items[j];
    if (seen.has(u * n + i)) continue;
    seen.add(u * n + i);
    rows.push(u, i);
    cols.push(i, u);
  }
  for (let r = 0; r < n; r++) (rows.push(r), cols.push(r));
  const deg = new Float64Array(n);
  for (const r of rows) deg[r]++;
  const vals = Float32Array.from(rows, (r) => 1 / deg[r]);
  return SparseMatrix.fromCOO(rows, cols, vals, [n, n]);
}
