/**
 * AlignRec stage 2 — content–category (CCA) and user–item (UIA) alignment — as the official
 * code implements it (sjtulyf123/AlignRec_CIKM24 `src/models/alignrec.py`; equations and the
 * code-vs-paper differences in ../shared/specs/alignrec.md §1.2–1.4, cited as "spec §…").
 *
 * Inputs: the training interactions and one unified multimodal feature row per item (from
 * stage 1, src/models/ica.ts, or a precomputed `image_feat.npy`).
 *
 * Forward (spec §1.2), one full-graph pass per training step:
 * ```
 * h = M W_trsᵀ + b                    projected multimodal feature          [I, d]
 * g = σ(h W_gᵀ + b_g)                 MGCN-style gate ("behaviour-guided purifier")
 * X = E_i ⊙ g                         item ID embeddings gated by content
 * C = mean(H⁰, ÂH⁰, Â²H⁰), H⁰=[E_u;E_i]  user–item view: LightGCN, mean over layers (ID view)
 * X ← S X  (n_layers times)           item–item view over the frozen kNN graph S
 * Mv = [R̂ X; X]                       users pool their items' mm view ("mm_embeds")
 * F = C + Mv                          fuser (`side_emb_div` = 0: plain sum)
 * ```
 * Losses (spec §1.3) on a batch (u, p, n): BPR on F; ½‖·‖² L2 of the batch's fused rows;
 * CCA InfoNCE (τ = 0.2, one direction, no de-duplication) between Mv and C for the positive
 * items and for the users; the similarity-preservation loss ‖Mv_p Mv_pᵀ − cos(v_p)‖_F / B
 * against the *fixed* input features; UIA `1 − mean cos(u, p)` with weight 0.1:
 * `L = L_bpr + 0.1·L_uia + L_reg + w_cl·L_cl + w_sim·L_sim`.
 *
 * As in the code (spec §1.2 (b)): the feature table M starts from the features and is
 * trainable, while the kNN graph and the L_sim target keep using the initial features.
 * Parameter names are the official module's `state_dict` names, so weights interchange.
 * @module
 */

import { Linear } from "../../nn/linear.ts";
import { add, mul, scale, square } from "../../ops/core/elementwise.ts";
import { infoNce } from "../../ops/losses/infonce.ts";
import { bprLoss } from "../../ops/losses/ranking.ts";
import { cosineLoss } from "../../ops/losses/similarity.ts";
import { simPreservationLoss } from "./losses.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat, slice } from "../../ops/core/shape.ts";
import {
  bipartiteAdjacency,
  knnGraph,
  normalizedUserItem,
  type SparseMatrix,
} from "../../ops/sparse/sparse.ts";
import { spmm } from "../../ops/sparse/spmm.ts";
import { Rng } from "../../random.ts";
import { keep, type Tensor, tensor } from "../../tensor.ts";
import type { Interactions } from "../../data/types.ts";
import { Embedding } from "../../nn/embedding.ts";
import { lightGcnPropagate } from "../../nn/graph_conv.ts";
import { xavierUniform } from "../../nn/init.ts";
import { Gate } from "../../nn/linear.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { rowDot } from "../../ops/losses/similarity.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";

/** AlignRec hyper-parameters (spec §1.4); every field has the official default. */
export interface AlignRecConfig {
  /** d, `embedding_size`. Default 64. */
  embeddingSize?: number;
  /** LightGCN layers of the user–item view, `n_ui_layers`. Default 2. */
  nUiLayers?: number;
  /** Propagations over the item–item graph, `n_layers`. Default 1. */
  nMmLayers?: number;
  /** Neighbours per item in the kNN graph, `knn_k`. Default 10. */
  knnK?: number;
  /** L2 weight of the batch embeddings, `reg_weight`. Default 1e-4. */
  regWeight?: number;
  /** CCA InfoNCE weight, `cl_loss` (grid 1e-4 … 0.1). Default 0.01. */
  clWeight?: number;
  /** Similarity-preservation weight, `sim_weight` (grid 0.1 … 0.5). Default 0.1. */
  simWeight?: number;
  /** UIA cosine-loss weight, `ui_cosine_loss_weight` (0 turns it off). Default 0.1. */
  uiCosineWeight?: number;
  /** InfoNCE temperature (hard-coded 0.2 in the code). Default 0.2. */
  tau?: number;
  /** Fuser `F = C + Mv / side_emb_div` when > 0, else `C + Mv`. Default 0. */
  sideEmbDiv?: number;
  /** LayerNorm on the features before `mm_trs` (`--use_ln`, off in the scripts). Default false. */
  useLayerNorm?: boolean;
  /** Keep the feature table fixed (the paper's description; the code trains it). Default false. */
  freezeFeatures?: boolean;
  /**
   * Divisor of L_reg. Default: the batch's size. The code divides by the configured
   * `train_batch_size` even for the last, smaller batch; pass it here to match that exactly.
   */
  regBatchSize?: number;
  /** Initialisation seed. Default 999. */
  seed?: number;
}

/** Defaults of {@link AlignRecConfig}. */
export const ALIGNREC_DEFAULTS: Required<Omit<AlignRecConfig, "regBatchSize">> = {
  embeddingSize: 64,
  nUiLayers: 2,
  nMmLayers: 1,
  knnK: 10,
  regWeight: 1e-4,
  clWeight: 0.01,
  simWeight: 0.1,
  uiCosineWeight: 0.1,
  tau: 0.2,
  sideEmbDiv: 0,
  useLayerNorm: false,
  freezeFeatures: false,
  seed: 999,
};

/** The three views of a forward pass, each `[(U+I), d]`, users first. */
export interface AlignRecViews {
  /** F = C + Mv: the final (fused) embeddings. */
  fused: Tensor<"f32">;
  /** Mv: the multimodal view (`mm_embeds` / `side_embeds`). */
  mm: Tensor<"f32">;
  /** C: the ID view (`content_embeds`, LightGCN output). */
  id: Tensor<"f32">;
}

/** AlignRec stage 2 (CCA + UIA) over fixed training interactions and item features. */
export class AlignRec extends Recommender {
  /** Display name. */
  readonly name = "AlignRec";
  /** The resolved hyper-parameters. */
  readonly cfg: Required<Omit<AlignRecConfig, "regBatchSize">> & { regBatchSize?: number };
  /** Number of users U. */
  readonly numUsers: number;
  /** Number of items I. */
  readonly numItems: number;
  /** E_u `[U, d]` (`user_embedding`). */
  readonly userEmbedding: Embedding;
  /** E_i `[I, d]` (`item_id_embedding`). */
  readonly itemIdEmbedding: Embedding;
  /** M `[I, d_mm]` (`mm_embedding`), initialised from the features; trainable by default. */
  readonly mmEmbedding: Embedding;
  /** Optional LayerNorm before the projection (`v_ln`). */
  readonly vLn: LayerNorm | null;
  /** W_trs: d_mm → d (`mm_trs`). */
  readonly mmTrs: Linear;
  /** W_g + σ (`gate_v`). */
  readonly gateV: Gate;
  /** Â: normalised bipartite adjacency `[(U+I), (U+I)]` (spec §1.2, graph 1). */
  readonly adj: SparseMatrix;
  /** R̂ = Â[:U, U:], `[U, I]`. */
  readonly userItem: SparseMatrix;
  /** S: frozen item–item kNN graph from the initial features (spec §1.2, graph 2). */
  readonly knn: SparseMatrix;
  /** The initial features v `[I, d_mm]` (fixed: kNN graph and L_sim target). */
  readonly features: Tensor<"f32">;

  /**
   * Builds the model: parameters, the two graphs from `train`, and the kNN graph from
   * `features` (row-major `[I, d_mm]`, d_mm taken from its length).
   */
  constructor(train: Interactions, features: Float32Array, cfg: AlignRecConfig = {}) {
    super();
    this.cfg = { ...ALIGNREC_DEFAULTS, ...cfg };
    const { numUsers: nu, numItems: ni } = train;
    this.numUsers = nu;
    this.numItems = ni;
    const d = this.cfg.embeddingSize;
    const flen = features.length;
    if (flen === 0 || flen % ni !== 0) {
      throw new Error(
        `wgrec AlignRec: ${flen} feature values do not form ${ni} item rows, expected [${ni}, d_mm]`,
      );
    }
    const dmm = flen / ni;
    const rng = new Rng(this.cfg.seed);
    this.userEmbedding = this.child(
      "user_embedding",
      new Embedding(nu, d, xavierUniform(nu, d, rng)),
    );
    this.itemIdEmbedding = this.child(
      "item_id_embedding",
      new Embedding(ni, d, xavierUniform(ni, d, rng)),
    );
    this.features = keep(tensor(features, [ni, dmm]));
    this.mmEmbedding = this.child("mm_embedding", new Embedding(ni, dmm, features));
    if (this.cfg.freezeFeatures) this.mmEmbedding.weight.requiresGrad = false;
    this.vLn = this.cfg.useLayerNorm ? this.child("v_ln", new LayerNorm(dmm)) : null;
    const seed = rng.u32() % 100000;
    this.mmTrs = this.child("mm_trs", new Linear(dmm, d, { seed }));
    this.gateV = this.child("gate_v", new Gate(d, seed + 7));
    this.adj = bipartiteAdjacency(train);
    this.userItem = normalizedUserItem(train);
    this.knn = knnGraph(this.features, this.cfg.knnK); // cosine values kept, 'sym' rows
  }

  /** Parameters the optimizer updates (the frozen feature table is left out). */
  override parameters(): Tensor<"f32">[] {
    return super.parameters().filter((p) => p.requiresGrad);
  }

  /** One full-graph forward pass (spec §1.2). */
  forward(): AlignRecViews {
    const c = this.cfg;
    const m = this.vLn ? this.vLn.forward(this.mmEmbedding.weight) : this.mmEmbedding.weight;
    const h = this.mmTrs.forward(m); // h = M W_trsᵀ + b
    let x = mul(this.itemIdEmbedding.weight, this.gateV.forward(h)); // X = E_i ⊙ σ(h W_gᵀ + b_g)
    const h0 = concat([this.userEmbedding.weight, this.itemIdEmbedding.weight], 0);
    const id = lightGcnPropagate(this.adj, h0, c.nUiLayers); // C = mean(H⁰…H^L)
    for (let l = 0; l < c.nMmLayers; l++) x = spmm(this.knn, x); // X ← S X
    const mm = concat([spmm(this.userItem, x), x], 0); // Mv = [R̂ X; X]
    const fused = add(id, c.sideEmbDiv > 0 ? scale(mm, 1 / c.sideEmbDiv) : mm); // F = C + Mv
    return { fused, mm, id };
  }

  /** The stage-2 loss of one batch (spec §1.3), with its unweighted parts. */
  loss(b: TripletTensors): LossOutput {
    const c = this.cfg;
    const { fused, mm, id } = this.forward();
    const u = gather(fused, b.users);
    const p = gather(fused, b.posNode);
    const n = gather(fused, b.negNode);
    // (1) BPR on the fused embeddings.
    const bpr = bprLoss(rowDot(u, p), rowDot(u, n));
    // (2) L2 of the batch's fused rows: reg_weight · ½(‖u‖² + ‖p‖² + ‖n‖²) / B.
    const sq = add(add(sum(square(u)), sum(square(p))), sum(square(n)));
    const reg = scale(sq, (0.5 * c.regWeight) / (c.regBatchSize ?? b.size));
    let total = add(bpr, reg);
    const parts: Record<string, Tensor<"f32">> = { bpr, reg };
    // (3) CCA: InfoNCE(Mv_items[p], C_items[p]) + InfoNCE(Mv_users[u], C_users[u]), τ = 0.2.
    if (c.clWeight !== 0) {
      const opts = { temperature: c.tau };
      const cl = add(
        infoNce(gather(mm, b.posNode), gather(id, b.posNode), opts),
        infoNce(gather(mm, b.users), gather(id, b.users), opts),
      );
      parts.cl = cl;
      total = add(total, scale(cl, c.clWeight));
    }
    // (4) Similarity preservation against the fixed features: ‖Mv_p Mv_pᵀ − cos(v_p)‖_F / B.
    if (c.simWeight !== 0) {
      const sim = simPreservationLoss(gather(mm, b.posNode), gather(this.features, b.pos));
      parts.sim = sim;
      total = add(total, scale(sim, c.simWeight));
    }
    // (5) UIA cosine: 1 − mean cos(u, p), added to the BPR term with its weight.
    if (c.uiCosineWeight !== 0) {
      const cos = cosineLoss(u, p);
      parts.cos = cos;
      total = add(total, scale(cos, c.uiCosineWeight));
    }
    return { loss: total, parts };
  }

  /** Final (fused) user and item embeddings, for `full_sort_predict`-style scoring. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const { fused } = this.forward();
    return {
      users: slice(fused, [0, 0], [this.numUsers, -1]),
      items: slice(fused, [this.numUsers, 0], [-1, -1]),
    };
  }

  /** Frees parameters, features and graphs. */
  override dispose(): void {
    super.dispose();
    this.features.dispose();
    this.adj.dispose();
    this.userItem.dispose();
    this.knn.dispose();
  }
}
