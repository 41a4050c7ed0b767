/**
 * MGCN (Yu et al., ACM MM 2023, "Multi-View Graph Convolutional Network for Multimedia
 * Recommendation") as MMRec implements it (`src/models/mgcn.py`). AlignRec's stage 2 is built
 * on it (src/models/alignrec/model.ts); MGCN keeps two modalities and its behaviour-aware fuser.
 *
 * Forward, one full-graph pass per step:
 * ```
 * Ṽ = image_trs(v),  T̃ = text_trs(t)                      (v, t trainable, freeze=False)
 * X_v = E_i ⊙ σ(Ṽ W_vᵀ + b_v),  X_t = E_i ⊙ σ(T̃ W_tᵀ + b_t)   behaviour-guided purifier
 * C = mean(H⁰, ÂH⁰, …, Â^{n_ui} H⁰),  H⁰ = [E_u; E_i]        user–item view (LightGCN)
 * X_m ← S_m X_m (n_layers times);  M_m = [R̂ X_m; X_m]        item–item view, per modality
 * α = softmax([q(M_v), q(M_t)]),  q = Linear∘tanh∘Linear(d→1) (`query_common`)
 * M_c = α_v M_v + α_t M_t                                    common part
 * M_s = (σ(C W_iᵀ + b_i) ⊙ (M_v − M_c) + σ(C W_tpᵀ + b_tp) ⊙ (M_t − M_c) + M_c) / 3
 * F = C + M_s                                                 behaviour-aware fuser
 * ```
 * S_m: top-k cosine neighbours of the raw features with the similarity values, 'sym'
 * normalised by row sums; Â = D^-½ A D^-½ without self-loops; R̂ = Â[:U, U:].
 * Loss on (u, p, n): `BPR + reg·½(‖u‖² + ‖p‖² + ‖n‖²)/B + cl·(InfoNCE(M_s[p], C[p]) +
 * InfoNCE(M_s[u], C[u]))`, InfoNCE with τ = 0.2 over L2-normalised rows, one direction.
 * @module
 */

import { Linear } from "../../nn/linear.ts";
import { Embedding } from "../../nn/embedding.ts";
import { Gate } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { xavierUniform } from "../../nn/init.ts";
import { lightGcnPropagate } from "../../nn/graph_conv.ts";
import { add, mul, scale, square, sub } from "../../ops/core/elementwise.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat, slice } from "../../ops/core/shape.ts";
import { softmax } from "../../ops/core/softmax.ts";
import { infoNce } from "../../ops/losses/infonce.ts";
import { bprLoss } from "../../ops/losses/ranking.ts";
import { rowDot } from "../../ops/losses/similarity.ts";
import { gather } from "../../ops/sparse/gather.ts";
import {
  bipartiteAdjacency,
  knnGraph,
  normalizedUserItem,
  type SparseMatrix,
} from "../../ops/sparse/sparse.ts";
import { spmm } from "../../ops/sparse/spmm.ts";
import { Rng } from "../../random.ts";
import type { Tensor } from "../../tensor.ts";
import type { Interactions } from "../../data/types.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";

/** MGCN hyper-parameters (MMRec's `MGCN.yaml`). */
export interface MgcnConfig {
  /** `embedding_size`. Default 64. */
  embeddingSize?: number;
  /** LightGCN layers, `n_ui_layers`. Default 2. */
  nUiLayers?: number;
  /** Item–item propagations, `n_layers`. Default 1. */
  nLayers?: number;
  /** `knn_k`. Default 10. */
  knnK?: number;
  /** L2 weight of the batch rows, `reg_weight`. Default 1e-4. */
  regWeight?: number;
  /** InfoNCE weight, `cl_loss` (grid 0.001, 0.01, 0.1). Default 0.01. */
  clWeight?: number;
  /** InfoNCE temperature (0.2 in the code). Default 0.2. */
  tau?: number;
  /** Divisor of the L2 term (the configured batch size in the code). Default the batch's size. */
  regBatchSize?: number;
  /** Initialisation seed. Default 999. */
  seed?: number;
}

/** Defaults of {@link MgcnConfig}. */
export const MGCN_DEFAULTS: Required<Omit<MgcnConfig, "regBatchSize">> = {
  embeddingSize: 64,
  nUiLayers: 2,
  nLayers: 1,
  knnK: 10,
  regWeight: 1e-4,
  clWeight: 0.01,
  tau: 0.2,
  seed: 999,
};

/** `query_common`: Sequential(Linear(d, d), Tanh, Linear(d, 1, bias=False)). */
export class QueryCommon extends Module {
  /** Linear(d, d) (`0`). */
  readonly l0: Linear;
  /** Linear(d, 1) without bias (`2`). */
  readonly l2: Linear;
  /** The attention query over d-wide views. */
  constructor(d: number, seed: number) {
    super();
    this.l0 = this.child("0", new Linear(d, d, { seed }));
    this.l2 = this.child("2", new Linear(d, 1, { bias: false, seed: seed + 2 }));
  }
  /** One attention logit per row, `[N, 1]`. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return this.l2.forward(this.l0.forward(x, "tanh"));
  }
}

/** MGCN as in MMRec, over two item modalities. */
export class MGCN extends Recommender {
  /** Display name. */
  readonly name = "MGCN";
  /** The resolved hyper-parameters. */
  readonly cfg: Required<Omit<MgcnConfig, "regBatchSize">> & { regBatchSize?: number };
  /** U. */
  readonly numUsers: number;
  /** I. */
  readonly numItems: number;
  /** E_u (`user_embedding`). */
  readonly userEmbedding: Embedding;
  /** E_i (`item_id_embedding`). */
  readonly itemIdEmbedding: Embedding;
  /** v (`image_embedding`, trainable). */
  readonly imageEmbedding: Embedding;
  /** t (`text_embedding`, trainable). */
  readonly textEmbedding: Embedding;
  /** `image_trs`. */
  readonly imageTrs: Linear;
  /** `text_trs`. */
  readonly textTrs: Linear;
  /** `query_common`. */
  readonly queryCommon: QueryCommon;
  /** `gate_v`, `gate_t`, `gate_image_prefer`, `gate_text_prefer`. */
  readonly gates: { v: Gate; t: Gate; imagePrefer: Gate; textPrefer: Gate };
  /** Â. */
  readonly adj: SparseMatrix;
  /** R̂ = Â[:U, U:]. */
  readonly userItem: SparseMatrix;
  /** S_image, S_text: frozen kNN graphs of the raw features. */
  readonly imageGraph: SparseMatrix;
  /** See {@link imageGraph}. */
  readonly textGraph: SparseMatrix;

  /** A model over `train` with image and text features (row-major `[I, f_m]`). */
  constructor(
    train: Interactions,
    mm: { image: Float32Array; text: Float32Array },
    cfg: MgcnConfig = {},
  ) {
    super();
    const c = this.cfg = { ...MGCN_DEFAULTS, ...cfg };
    const { numUsers: nu, numItems: ni } = train;
    this.numUsers = nu;
    this.numItems = ni;
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
    const dim = (f: Float32Array, m: string) => {
      if (f.length === 0 || f.length % ni !== 0) {
        throw new Error(`wgrec MGCN: ${f.length} ${m} feature values do not form ${ni} rows`);
      }
      return f.length / ni;
    };
    const fv = dim(mm.image, "image");
    const ft = dim(mm.text, "text");
    const s = rng.u32() % 100000;
    this.imageEmbedding = this.child("image_embedding", new Embedding(ni, fv, mm.image));
    this.textEmbedding = this.child("text_embedding", new Embedding(ni, ft, mm.text));
    this.imageTrs = this.child("image_trs", new Linear(fv, d, { seed: s }));
    this.textTrs = this.child("text_trs", new Linear(ft, d, { seed: s + 2 }));
    this.queryCommon = this.child("query_common", new QueryCommon(d, s + 4));
    this.gates = {
      v: this.child("gate_v", new Gate(d, s + 8)),
      t: this.child("gate_t", new Gate(d, s + 10)),
      imagePrefer: this.child("gate_image_prefer", new Gate(d, s + 12)),
      textPrefer: this.child("gate_text_prefer", new Gate(d, s + 14)),
    };
    this.adj = bipartiteAdjacency(train);
    this.userItem = normalizedUserItem(train);
    this.imageGraph = knnGraph(this.imageEmbedding.weight, c.knnK); // similarity values, 'sym'
    this.textGraph = knnGraph(this.textEmbedding.weight, c.knnK);
  }

  /** One full-graph pass: F (fused), M_s (`side_embeds`) and C (`content_embeds`), users first. */
  forward(): { fused: Tensor<"f32">; side: Tensor<"f32">; content: Tensor<"f32"> } {
    const c = this.cfg;
    const ei = this.itemIdEmbedding.weight;
    const imageFeats = this.imageTrs.forward(this.imageEmbedding.weight);
    const textFeats = this.textTrs.forward(this.textEmbedding.weight);
    // Behaviour-guided purifier.
    let xv = mul(ei, this.gates.v.forward(imageFeats));
    let xt = mul(ei, this.gates.t.forward(textFeats));
    // User–item view.
    const content = lightGcnPropagate(
      this.adj,
      concat([this.userEmbedding.weight, ei], 0),
      c.nUiLayers,
    );
    // Item–item view per modality, users pool their items.
    for (let l = 0; l < c.nLayers; l++) xv = spmm(this.imageGraph, xv);
    for (let l = 0; l < c.nLayers; l++) xt = spmm(this.textGraph, xt);
    const mv = concat([spmm(this.userItem, xv), xv], 0);
    const mt = concat([spmm(this.userItem, xt), xt], 0);
    // Behaviour-aware fuser.
    const att = softmax(concat([this.queryCommon.forward(mv), this.queryCommon.forward(mt)], 1));
    const n = mv.shape[0];
    const common = add(
      mul(slice(att, [0, 0], [n, 1]), mv),
      mul(slice(att, [0, 1], [n, 1]), mt),
    );
    const sepV = mul(this.gates.imagePrefer.forward(content), sub(mv, common));
    const sepT = mul(this.gates.textPrefer.forward(content), sub(mt, common));
    const side = scale(add(add(sepV, sepT), common), 1 / 3);
    return { fused: add(content, side), side, content };
  }

  /** BPR + L2 of the batch rows + cl·(InfoNCE on items + InfoNCE on users). */
  loss(b: TripletTensors): LossOutput {
    const c = this.cfg;
    const { fused, side, content } = this.forward();
    const u = gather(fused, b.users);
    const p = gather(fused, b.posNode);
    const n = gather(fused, b.negNode);
    const bpr = bprLoss(rowDot(u, p), rowDot(u, n));
    const sq = add(add(sum(square(u)), sum(square(p))), sum(square(n)));
    const reg = scale(sq, (0.5 * c.regWeight) / (c.regBatchSize ?? b.size));
    const opts = { temperature: c.tau };
    const cl = add(
      infoNce(gather(side, b.posNode), gather(content, b.posNode), opts),
      infoNce(gather(side, b.users), gather(content, b.users), opts),
    );
    const loss = add(add(bpr, reg), scale(cl, c.clWeight));
    return { loss, parts: { bpr, reg, cl } };
  }

  /** Final (fused) embeddings. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const { fused } = this.forward();
    const nu = this.numUsers;
    return { users: slice(fused, [0, 0], [nu, -1]), items: slice(fused, [nu, 0], [-1, -1]) };
  }

  /** Frees parameters and graphs. */
  override dispose(): void {
    super.dispose();
    for (const g of [this.adj, this.userItem, this.imageGraph, this.textGraph]) g.dispose();
  }
}
