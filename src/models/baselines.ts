/**
 * Baselines in the same framework as AlignRec (../shared/specs/alignrec.md), following the
 * MMRec implementations the AlignRec repository compares against:
 *
 * - {@link LightGCN}: propagation over the normalised user–item graph, mean over layers
 *   (layer 0 included), BPR, and `reg_weight · (‖u⁰‖ + ‖p⁰‖ + ‖n⁰‖) / B` on the batch's *ego*
 *   embeddings (MMRec's `EmbLoss`: Frobenius norms, not squared).
 * - {@link VBPR}: item = [ID embedding ‖ Linear(features)], user embedding of twice the width,
 *   dot-product score, BPR + `reg_weight · EmbLoss(u, p, n)` (MMRec's VBPR without LayerNorm).
 * - {@link Popularity}: ranks items by training interaction count.
 *
 * Also the pieces AlignRec shares with them: {@link Embedding}, {@link xavierUniform} and
 * {@link lightGcnPropagate}.
 * @module
 */

import { Linear } from "../nn/linear.ts";
import { Module } from "../nn/module.ts";
import { add, mul, scale, sqrt, square } from "../ops/elementwise.ts";
import { bprLoss } from "../ops/losses.ts";
import { gather } from "../ops/gather.ts";
import { sum } from "../ops/reduce.ts";
import { concat, slice } from "../ops/shape.ts";
import { bipartiteAdjacency, type SparseMatrix, spmm } from "../ops/sparse.ts";
import { Rng } from "../random.ts";
import { ones, type Tensor, tensor } from "../tensor.ts";
import type { Interactions } from "../data/types.ts";
import { type LossOutput, Recommender, type TripletTensors } from "./train.ts";

/** Xavier/Glorot uniform values for a `[rows, cols]` weight (PyTorch: fan_in = cols). */
export function xavierUniform(rows: number, cols: number, rng: Rng): Float32Array {
  const b = Math.sqrt(6 / (rows + cols));
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * b;
  return a;
}

/** Xavier/Glorot normal values for a `[rows, cols]` weight. */
export function xavierNormal(rows: number, cols: number, rng: Rng): Float32Array {
  const s = Math.sqrt(2 / (rows + cols));
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = s * rng.normal();
  return a;
}

/** A lookup table `weight` `[num, dim]` (PyTorch's `nn.Embedding` parameter name). */
export class Embedding extends Module {
  /** The table. */
  readonly weight: Tensor<"f32">;

  /** A table initialised with `init` (row-major `[num, dim]`). */
  constructor(readonly num: number, readonly dim: number, init: Float32Array) {
    super();
    if (init.length !== num * dim) {
      throw new Error(`wgrec Embedding: ${init.length} initial values for [${num}, ${dim}]`);
    }
    this.weight = this.param("weight", tensor(init, [num, dim]));
  }

  /** Rows `idx` of the table. */
  forward(idx: Tensor<"i32">): Tensor<"f32"> {
    return gather(this.weight, idx);
  }
}

/** Named parameters without a layer (PyTorch's `nn.ParameterDict`). */
export class ParameterDict extends Module {
  /** Registers each entry as a trainable parameter under its key. */
  constructor(entries: Record<string, Tensor<"f32">>) {
    super();
    for (const [k, v] of Object.entries(entries)) this.param(k, v);
  }
}

/**
 * LightGCN propagation: `mean(H⁰, ÂH⁰, …, Â^L H⁰)` over `layers` products with the
 * normalised adjacency (spec §1.2, "User-item view").
 */
export function lightGcnPropagate(
  adj: SparseMatrix,
  h0: Tensor<"f32">,
  layers: number,
): Tensor<"f32"> {
  let h = h0;
  let acc = h0;
  for (let l = 0; l < layers; l++) {
    h = spmm(adj, h);
    acc = add(acc, h);
  }
  return layers === 0 ? acc : scale(acc, 1 / (layers + 1));
}

/** Frobenius norm `‖x‖` (MMRec's `torch.norm(x, p=2)`), a scalar. */
export function frobenius(x: Tensor<"f32">): Tensor<"f32"> {
  return sqrt(sum(square(x)));
}

/** Row-wise dot products of two `[B, d]` tensors, `[B]`. */
export function rowDot(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
  return sum(mul(a, b), [1]);
}

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
    return lightGcnPropagate(
      this.adj,
      concat([this.userEmb, this.itemEmb], 0),
      this.#layers,
    );
  }

  /** BPR on propagated embeddings + ego-embedding penalty. */
  loss(b: TripletTensors): LossOutput {
    const all = this.forward();
    const u = gather(all, b.users);
    const p = gather(all, b.posNode);
    const n = gather(all, b.negNode);
    const bpr = bprLoss(rowDot(u, p), rowDot(u, n));
    const egoNorms = add(
      add(frobenius(gather(this.userEmb, b.users)), frobenius(gather(this.itemEmb, b.pos))),
      frobenius(gather(this.itemEmb, b.neg)),
    );
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

/** VBPR options. */
export interface VbprConfig {
  /** Width of the ID part and of the projected feature part. Default 64. */
  embeddingSize?: number;
  /** Weight of `EmbLoss(u, p, n)`. Default 1e-4. */
  regWeight?: number;
  /** Initialisation seed. Default 999. */
  seed?: number;
}

/** VBPR (He & McAuley, AAAI 2016) as in MMRec, with item features `[I, f]`. */
export class VBPR extends Recommender {
  /** Display name. */
  readonly name = "VBPR";
  /** `[U, 2d]` (PyTorch name `u_embedding`). */
  readonly userEmb: Tensor<"f32">;
  /** `[I, d]` (PyTorch name `i_embedding`). */
  readonly itemEmb: Tensor<"f32">;
  /** Feature projection `f → d`. */
  readonly itemLinear: Linear;
  readonly #feats: Tensor<"f32">;
  readonly #reg: number;

  /** A model over `train` with fixed item features (row-major `[I, f]`). */
  constructor(train: Interactions, features: Float32Array, cfg: VbprConfig = {}) {
    super();
    const d = cfg.embeddingSize ?? 64;
    const { numUsers: nu, numItems: ni } = train;
    if (features.length % ni !== 0 || features.length === 0) {
      throw new Error(`wgrec VBPR: ${features.length} feature values for ${ni} items`);
    }
    const f = features.length / ni;
    const rng = new Rng(cfg.seed ?? 999);
    this.userEmb = this.param("u_embedding", tensor(xavierUniform(nu, 2 * d, rng), [nu, 2 * d]));
    this.itemEmb = this.param("i_embedding", tensor(xavierUniform(ni, d, rng), [ni, d]));
    this.itemLinear = this.child("item_linear", new Linear(f, d));
    // MMRec re-initialises Linear layers with Xavier normal weights and zero bias.
    this.itemLinear.setParameter("weight", tensor(xavierNormal(d, f, rng), [d, f]));
    this.itemLinear.setParameter("bias", tensor(new Float32Array(d), [d]));
    this.#feats = tensor(features, [ni, f]);
    this.#reg = cfg.regWeight ?? 1e-4;
  }

  #items(): Tensor<"f32"> {
    return concat([this.itemEmb, this.itemLinear.forward(this.#feats)], 1);
  }

  /** BPR + `reg · (‖u‖ + ‖p‖ + ‖n‖) / B`. */
  loss(b: TripletTensors): LossOutput {
    const items = this.#items();
    const u = gather(this.userEmb, b.users);
    const p = gather(items, b.pos);
    const n = gather(items, b.neg);
    const bpr = bprLoss(rowDot(u, p), rowDot(u, n));
    const norms = add(add(frobenius(u), frobenius(p)), frobenius(n));
    const reg = scale(norms, this.#reg / b.size);
    return { loss: add(bpr, reg), parts: { bpr, reg } };
  }

  /** Final embeddings. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    return { users: scale(this.userEmb, 1), items: this.#items() };
  }

  /** Frees parameters and features. */
  override dispose(): void {
    super.dispose();
    this.#feats.dispose();
  }
}

/** Most-popular baseline: every user gets the items with the most training interactions. */
export class Popularity extends Recommender {
  /** Display name. */
  readonly name = "Popularity";
  readonly #counts: Float32Array;
  readonly #users: number;

  /** Counts items in `train`. */
  constructor(train: Interactions) {
    super();
    this.#users = train.numUsers;
    this.#counts = new Float32Array(train.numItems);
    for (let j = 0; j < train.items.length; j++) this.#counts[train.items[j]]++;
  }

  /** Nothing to train. */
  loss(): LossOutput {
    throw new Error("wgrec Popularity: nothing to train");
  }

  /** Users `[U, 1]` of ones and items `[I, 1]` of counts, so `users · itemsᵀ` = counts. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    return {
      users: ones([this.#users, 1]),
      items: tensor(this.#counts, [this.#counts.length, 1]),
    };
  }
}
