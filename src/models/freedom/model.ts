/**
 * FREEDOM (Zhou & Shen, ACM MM 2023, "A Tale of Two Graphs: Freezing and Denoising Graph
 * Structures for Multimodal Recommendation") as MMRec implements it (`src/models/freedom.py`).
 *
 * Graphs:
 * ```
 * S_m = kNN_k(cos(v_m)) with weight 1, then D^-½ S_m D^-½ (D = k)    frozen, per modality m
 * S   = w·S_image + (1 − w)·S_text          w = mm_image_weight (0.1)   frozen item–item graph
 * Â   = D^-½ [[0, R], [Rᵀ, 0]] D^-½                                    user–item graph (eval)
 * Ã   = Â over the edges kept this epoch: ⌊(1 − p)·|E|⌋ edges drawn without replacement with
 *       probability ∝ 1/√(d_u d_i) ("degree-sensitive edge pruning"), renormalised   (training)
 * ```
 * Forward (`forward(adj)`):
 * ```
 * h = S^{n_mm} E_i                          item–item view of the ID embeddings
 * [U; I] = mean(H⁰, ÃH⁰, …, Ã^{n_ui} H⁰)    H⁰ = [E_u; E_i]   (LightGCN)
 * items = I + h
 * ```
 * Loss on (u, p, n): `BPR(u, p, n) + λ·(BPR(u, T_p, T_n) + BPR(u, V_p, V_n))` with
 * `T = text_trs(text_embedding)`, `V = image_trs(image_embedding)` (the feature tables are
 * trainable, `freeze=False`) and λ = `reg_weight`; no L2 term.
 *
 * MMRec resamples Ã in `pre_epoch_processing`; here the model counts the triples it has
 * trained on and resamples when a new pass over the training set begins (the loop draws
 * every training pair once per epoch), from a generator seeded by (seed, epoch).
 * @module
 */

import { Linear } from "../../nn/linear.ts";
import { Embedding } from "../../nn/embedding.ts";
import { xavierUniform } from "../../nn/init.ts";
import { lightGcnPropagate } from "../../nn/graph_conv.ts";
import { add, scale } from "../../ops/core/elementwise.ts";
import { concat, slice } from "../../ops/core/shape.ts";
import { bprLoss } from "../../ops/losses/ranking.ts";
import { rowDot } from "../../ops/losses/similarity.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { bipartiteAdjacency, knnGraph, SparseMatrix } from "../../ops/sparse/sparse.ts";
import { spmm } from "../../ops/sparse/spmm.ts";
import { Rng } from "../../random.ts";
import type { Tensor } from "../../tensor.ts";
import type { Interactions } from "../../data/types.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";

/** FREEDOM hyper-parameters (MMRec's `FREEDOM.yaml`). */
export interface FreedomConfig {
  /** `embedding_size` (and `feat_embed_dim`). Default 64. */
  embeddingSize?: number;
  /** `knn_k`. Default 10. */
  knnK?: number;
  /** Item–item propagations, `n_mm_layers`. Default 1. */
  nMmLayers?: number;
  /** LightGCN layers, `n_ui_layers`. Default 2. */
  nUiLayers?: number;
  /** Weight of the image graph, `mm_image_weight`. Default 0.1. */
  mmImageWeight?: number;
  /** Fraction of user–item edges pruned each epoch, `dropout` (grid 0.8, 0.9). Default 0.8. */
  dropout?: number;
  /** λ of the feature BPR terms, `reg_weight` (grid 0 … 1e-3). Default 1e-4. */
  regWeight?: number;
  /** Seed of initialisation and edge pruning. Default 999. */
  seed?: number;
}

/** Defaults of {@link FreedomConfig}. */
export const FREEDOM_DEFAULTS: Required<FreedomConfig> = {
  embeddingSize: 64,
  knnK: 10,
  nMmLayers: 1,
  nUiLayers: 2,
  mmImageWeight: 0.1,
  dropout: 0.8,
  regWeight: 1e-4,
  seed: 999,
};

/** Item content for the MMRec models: one row-major `[I, f_m]` table per modality. */
export interface ItemModalities {
  /** `v_feat` (image), or null. */
  image: Float32Array | null;
  /** `t_feat` (text), or null. */
  text: Float32Array | null;
}

/** A modality's trainable feature table and its projection (`*_embedding`, `*_trs`). */
export function modalityTable(
  owner: { numItems: number; name: string },
  feats: Float32Array,
  what: string,
): { dim: number; data: Float32Array } {
  const n = owner.numItems;
  if (feats.length === 0 || feats.length % n !== 0) {
    throw new Error(
      `wgrec ${owner.name}: ${feats.length} ${what} feature values do not form ${n} item rows`,
    );
  }
  return { dim: feats.length / n, data: feats };
}

/** FREEDOM as in MMRec. */
export class FREEDOM extends Recommender {
  /** Display name. */
  readonly name = "FREEDOM";
  /** The resolved hyper-parameters. */
  readonly cfg: Required<FreedomConfig>;
  /** U. */
  readonly numUsers: number;
  /** I. */
  readonly numItems: number;
  /** E_u (`user_embedding`). */
  readonly userEmbedding: Embedding;
  /** E_i (`item_id_embedding`). */
  readonly itemIdEmbedding: Embedding;
  /** v (`image_embedding`, trainable), or null. */
  readonly imageEmbedding: Embedding | null = null;
  /** `image_trs`, or null. */
  readonly imageTrs: Linear | null = null;
  /** t (`text_embedding`, trainable), or null. */
  readonly textEmbedding: Embedding | null = null;
  /** `text_trs`, or null. */
  readonly textTrs: Linear | null = null;
  /** Â, the full normalised user–item graph (evaluation). */
  readonly adj: SparseMatrix;
  /** The frozen kNN graphs with their weights in S. */
  readonly mmGraphs: { graph: SparseMatrix; weight: number }[] = [];
  #edges: { u: Int32Array; i: Int32Array; w: Float64Array };
  #masked: SparseMatrix | null = null;
  #seen = 0;
  #epoch = 0;
  readonly #numTrain: number;

  /** A model over `train` with item content `mm` (at least one modality). */
  constructor(train: Interactions, mm: ItemModalities, cfg: FreedomConfig = {}) {
    super();
    const c = this.cfg = { ...FREEDOM_DEFAULTS, ...cfg };
    const { numUsers: nu, numItems: ni } = train;
    this.numUsers = nu;
    this.numItems = ni;
    this.#numTrain = train.users.length;
    if (!mm.image && !mm.text) throw new Error("wgrec FREEDOM: needs image and/or text features");
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
    const graphs: Record<string, SparseMatrix> = {};
    for (const [m, feats] of [["image", mm.image], ["text", mm.text]] as const) {
      if (!feats) continue;
      const t = modalityTable(this, feats, m);
      const emb = this.child(`${m}_embedding`, new Embedding(ni, t.dim, t.data));
      const trs = this.child(
        `${m}_trs`,
        new Linear(t.dim, d, { seed: seed + (m === "image" ? 0 : 2) }),
      );
      if (m === "image") [this.imageEmbedding, this.imageTrs] = [emb, trs];
      else [this.textEmbedding, this.textTrs] = [emb, trs];
      // Binary kNN edges, 'sym' by row sums (every row sums to k): weight 1/k.
      graphs[m] = knnGraph(emb.weight, c.knnK, { weights: "binary", norm: "sym" });
    }
    if (graphs.image && graphs.text) {
      this.mmGraphs.push({ graph: graphs.image, weight: c.mmImageWeight });
      this.mmGraphs.push({ graph: graphs.text, weight: 1 - c.mmImageWeight });
    } else this.mmGraphs.push({ graph: graphs.image ?? graphs.text, weight: 1 });
    this.adj = bipartiteAdjacency(train);
    this.#edges = distinctEdges(train);
  }

  /** `forward(adj)`: user and item embeddings over the user–item graph `adj`. */
  forward(adj: SparseMatrix): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const c = this.cfg;
    let h = this.itemIdEmbedding.weight;
    for (let l = 0; l < c.nMmLayers; l++) {
      // h ← S h with S = Σ_m w_m S_m (the sum distributes over the product).
      let next: Tensor<"f32"> | null = null;
      for (const { graph, weight } of this.mmGraphs) {
        const part = weight === 1 ? spmm(graph, h) : scale(spmm(graph, h), weight);
        next = next ? add(next, part) : part;
      }
      h = next!;
    }
    const h0 = concat([this.userEmbedding.weight, this.itemIdEmbedding.weight], 0);
    const all = lightGcnPropagate(adj, h0, c.nUiLayers);
    const nu = this.numUsers;
    return {
      users: slice(all, [0, 0], [nu, -1]),
      items: add(slice(all, [nu, 0], [-1, -1]), h),
    };
  }

  /** The user–item graph of the current epoch (degree-sensitive pruning, resampled per epoch). */
  trainingGraph(): SparseMatrix {
    if (this.cfg.dropout <= 0) return this.adj;
    if (!this.#masked) {
      this.#masked = prunedAdjacency(
        this.#edges,
        this.numUsers,
        this.numItems,
        this.cfg.dropout,
        new Rng((this.cfg.seed * 7919 + this.#epoch) >>> 0),
      );
    }
    return this.#masked;
  }

  /** BPR on the fused embeddings + λ·(BPR on text features + BPR on image features). */
  loss(b: TripletTensors): LossOutput {
    if (this.#seen >= this.#numTrain) { // a new pass over the training pairs: a new Ã
      this.#seen = 0;
      this.#epoch++;
      this.#masked?.dispose();
      this.#masked = null;
    }
    this.#seen += b.size;
    const { users, items } = this.forward(this.trainingGraph());
    const u = gather(users, b.users);
    const bpr = bprLoss(rowDot(u, gather(items, b.pos)), rowDot(u, gather(items, b.neg)));
    const parts: Record<string, Tensor<"f32">> = { bpr };
    let feat: Tensor<"f32"> | null = null;
    for (
      const [m, emb, trs] of [
        ["text", this.textEmbedding, this.textTrs],
        ["image", this.imageEmbedding, this.imageTrs],
      ] as const
    ) {
      if (!emb || !trs) continue;
      const f = trs.forward(emb.weight);
      const l = bprLoss(rowDot(u, gather(f, b.pos)), rowDot(u, gather(f, b.neg)));
      parts[m] = l;
      feat = feat ? add(feat, l) : l;
    }
    const loss = feat ? add(bpr, scale(feat, this.cfg.regWeight)) : bpr;
    return { loss, parts };
  }

  /** Final embeddings over the full graph Â (`full_sort_predict`). */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    return this.forward(this.adj);
  }

  /** Frees parameters and graphs. */
  override dispose(): void {
    super.dispose();
    this.adj.dispose();
    this.#masked?.dispose();
    for (const { graph } of this.mmGraphs) graph.dispose();
  }
}

/** Distinct training pairs with MMRec's edge values `1/√(d_u d_i)` (`get_edge_info`). */
function distinctEdges(train: Interactions): { u: Int32Array; i: Int32Array; w: Float64Array } {
  const seen = new Set<number>();
  const u: number[] = [];
  const i: number[] = [];
  for (let j = 0; j < train.users.length; j++) {
    const key = train.users[j] * train.numItems + train.items[j];
    if (seen.has(key)) continue;
    seen.add(key);
    u.push(train.users[j]);
    i.push(train.items[j]);
  }
  const du = new Float64Array(train.numUsers);
  const di = new Float64Array(train.numItems);
  for (let j = 0; j < u.length; j++) (du[u[j]]++, di[i[j]]++);
  const w = Float64Array.from(u, (uu, j) => 1 / Math.sqrt(du[uu] * di[i[j]]));
  return { u: Int32Array.from(u), i: Int32Array.from(i), w };
}

/**
 * MMRec's `pre_epoch_processing`: keep ⌊(1 − p)|E|⌋ edges drawn without replacement with
 * probability ∝ w (`torch.multinomial`; here by Efraimidis–Spirakis keys u^(1/w)), then
 * `1/√(d_u d_i)` over the kept edges' degrees, both directions.
 */
export function prunedAdjacency(
  e: { u: Int32Array; i: Int32Array; w: Float64Array },
  numUsers: number,
  numItems: number,
  dropout: number,
  rng: Rng,
): SparseMatrix {
  const m = e.u.length;
  const keep = Math.floor(m * (1 - dropout));
  const keys = Float64Array.from(e.w, (w) => Math.log(1 - rng.uniform()) / w);
  const order = Array.from({ length: m }, (_, j) => j).sort((a, b) => keys[b] - keys[a]);
  const kept = order.slice(0, keep);
  const du = new Float64Array(numUsers);
  const di = new Float64Array(numItems);
  for (const j of kept) (du[e.u[j]]++, di[e.i[j]]++);
  const rows = new Int32Array(2 * keep);
  const cols = new Int32Array(2 * keep);
  const vals = new Float32Array(2 * keep);
  kept.forEach((j, x) => {
    const v = 1 / Math.sqrt((du[e.u[j]] + 1e-7) * (di[e.i[j]] + 1e-7));
    rows[x] = e.u[j];
    cols[x] = numUsers + e.i[j];
    rows[keep + x] = numUsers + e.i[j];
    cols[keep + x] = e.u[j];
    vals[x] = vals[keep + x] = v;
  });
  const n = numUsers + numItems;
  return SparseMatrix.fromCOO(rows, cols, vals, [n, n], { symmetric: true });
}
