/**
 * LightGCN (He et al., SIGIR 2020) as in MMRec, the graph baseline AlignRec compares against
 * (../shared/specs/alignrec.md): propagation over the normalised user–item graph, mean over
 * layers (layer 0 included), BPR, and `reg_weight · (‖u⁰‖ + ‖p⁰‖ + ‖n⁰‖) / B` on the batch's
 * *ego* embeddings (MMRec's `EmbLoss`: Frobenius norms, not squared).
 * @module
 */

import { ParameterDict } from "../../nn/embedding.ts";
import { xavierUniform } from "../../nn/init.ts";
import { lightGcnBatch, lightGcnPropagate } from "../../nn/graph_conv.ts";
import { add, scale } from "../../ops/core/elementwise.ts";
import { bprRows } from "../../ops/losses/bpr_rows.ts";
import { embNormSum } from "../../ops/losses/rowwise.ts";
import { concat, slice } from "../../ops/core/shape.ts";
import { bipartiteAdjacency, type SparseMatrix } from "../../ops/sparse/sparse.ts";
import { Rng } from "../../random.ts";
import { type Tensor, tensor } from "../../tensor.ts";
import type { Interactions } from "../../data/types.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";

/** LightGCN options. */
export interface LightGcnConfig {
  /** Embedding width. Default 64. */
  embeddingSize?: number;
  /** Propagation layers. Default 2 (AlignRec's `n_ui_layers`). */
  layers?: number;
  /** Weight of the ego-embedding norm penalty. Default 1e-4. */
  regWeight?: number;
  /** Initialisation seed. Default 999. */
  seed?: number;
}

/** LightGCN (He et al., SIGIR 2020) as in MMRec. */
export class LightGCN extends Recommender {
  /** Display name. */
  readonly name = "LightGCN";
  /** `[U, d]` user table (`embedding_dict.user_emb`, MMRec's name). */
  readonly userEmb: Tensor<"f32">;
  /** `[I, d]` item table (`embedding_dict.item_emb`). */
  readonly itemEmb: Tensor<"f32">;
  /** The normalised bipartite adjacency. */
  readonly adj: SparseMatrix;
  readonly #layers: number;
  readonly #reg: number;

  /** A model over the training interactions `train`. */
  constructor(train: Interactions, cfg: LightGcnConfig = {}) {
    super();
    const d = cfg.embeddingSize ?? 64;
    const rng = new Rng(cfg.seed ?? 999);
    const { numUsers: nu, numItems: ni } = train;
    const dict = this.child(
      "embedding_dict",
      new ParameterDict({
        user_emb: tensor(xavierUniform(nu, d, rng), [nu, d]),
        item_emb: tensor(xavierUniform(ni, d, rng), [ni, d]),
      }),
    );
    this.userEmb = dict.getParameter("user_emb");
    this.itemEmb = dict.getParameter("item_emb");
    this.adj = bipartiteAdjacency(train);
    this.#layers = cfg.layers ?? 2;
    this.#reg = cfg.regWeight ?? 1e-4;
  }

  /** Propagated `[(U+I), d]` embeddings, users first. */
  forward(): Tensor<"f32"> {
    return lightGcnPropagate(this.adj, this.#ego(), this.#layers);
  }

  #ego(): Tensor<"f32"> {
    return concat([this.userEmb, this.itemEmb], 0);
  }

  /** BPR on propagated embeddings (the batch's rows only) + ego-embedding penalty. */
  loss(b: TripletTensors): LossOutput {
    const nu = this.userEmb.shape[0];
    const ego = this.#ego();
    const { rows, users, pos, neg } = lightGcnBatch(this.adj, ego, this.#layers, nu, b.host);
    const bpr = bprRows(rows, users, pos, neg);
    // ‖u⁰‖ + ‖p⁰‖ + ‖n⁰‖ on the joint ego table (users, then items).
    const egoNorms = embNormSum(ego, [b.users, b.posNode, b.negNode]);
    const reg = scale(egoNorms, this.#reg / b.size);
    return { loss: add(bpr, reg), parts: { bpr, reg } };
  }

  /** Final embeddings. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const all = this.forward();
    const nu = this.userEmb.shape[0];
    return { users: slice(all, [0, 0], [nu, -1]), items: slice(all, [nu, 0], [-1, -1]) };
  }

  /** Frees parameters and the graph. */
  override dispose(): void {
    super.dispose();
    this.adj.dispose();
  }
}
