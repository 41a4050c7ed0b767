/**
 * BM3 (Zhou et al., WWW 2023, "Bootstrap Latent Representations for Multi-modal
 * Recommendation") as MMRec implements it (`src/models/bm3.py`): no negatives, a shared
 * predictor and dropout-perturbed, gradient-stopped targets.
 *
 * Forward:
 * ```
 * [U; I'] = mean(H⁰, ÂH⁰, …, Â^L H⁰),  H⁰ = [E_u; E_i]      LightGCN over the user–item graph
 * I = I' + E_i                                               (items add their ID embedding)
 * T = text_trs(t),  V = image_trs(v)                         (t, v trainable, freeze=False)
 * ```
 * Loss on pairs (u, i) (the negative of each triple is unused):
 * ```
 * ũ, ĩ, T̃, Ṽ = dropout_p(U, I, T, V) without gradient        targets
 * L_ui = 1 − cos(P(U)_u, ĩ_i),   L_iu = 1 − cos(P(I)_i, ũ_u)   P = predictor (Linear d→d)
 * L_t  = 1 − cos(P(T)_i, ĩ_i),   L_tv = 1 − cos(P(T)_i, T̃_i)   (means over the batch)
 * L_v  = 1 − cos(P(V)_i, ĩ_i),   L_vt = 1 − cos(P(V)_i, Ṽ_i)
 * L = L_ui + L_iu + reg·(‖U‖ + ‖I‖)/I_count + cl·(L_t + L_v + L_tv + L_vt)
 * ```
 * (MMRec's `EmbLoss` on the full tables: Frobenius norms, not squared, over the item count.)
 * Scores: ⟨P(U)_u, P(I)_i⟩.
 * @module
 */

import { Linear } from "../../nn/linear.ts";
import { Embedding } from "../../nn/embedding.ts";
import { xavierNormal, xavierUniform } from "../../nn/init.ts";
import { lightGcnPropagate } from "../../nn/graph_conv.ts";
import { dropout, Seeds } from "../../nn/dropout.ts";
import { noGrad } from "../../autograd/tape.ts";
import { add, scale } from "../../ops/core/elementwise.ts";
import { concat, slice } from "../../ops/core/shape.ts";
import { cosineLoss, frobenius } from "../../ops/losses/similarity.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { bipartiteAdjacency, type SparseMatrix } from "../../ops/sparse/sparse.ts";
import { Rng } from "../../random.ts";
import { type Tensor, tensor } from "../../tensor.ts";
import type { Interactions } from "../../data/types.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";
import type { ItemModalities } from "../freedom/model.ts";

/** BM3 hyper-parameters (MMRec's `BM3.yaml`). */
export interface Bm3Config {
  /** `embedding_size` (= `feat_embed_dim`). Default 64. */
  embeddingSize?: number;
  /** LightGCN layers, `n_layers` (grid 1, 2). Default 1. */
  nLayers?: number;
  /** Target dropout, `dropout` (grid 0.3, 0.5). Default 0.3. */
  dropout?: number;
  /** Weight of `EmbLoss`, `reg_weight` (grid 0.1, 0.01). Default 0.1. */
  regWeight?: number;
  /** Weight of the multimodal terms, `cl_weight`. Default 2. */
  clWeight?: number;
  /** Seed of initialisation and dropout masks. Default 999. */
  seed?: number;
}

/** Defaults of {@link Bm3Config}. */
export const BM3_DEFAULTS: Required<Bm3Config> = {
  embeddingSize: 64,
  nLayers: 1,
  dropout: 0.3,
  regWeight: 0.1,
  clWeight: 2,
  seed: 999,
};

/** BM3 as in MMRec. */
export class BM3 extends Recommender {
  /** Display name. */
  readonly name = "BM3";
  /** The resolved hyper-parameters. */
  readonly cfg: Required<Bm3Config>;
  /** U. */
  readonly numUsers: number;
  /** I. */
  readonly numItems: number;
  /** E_u (`user_embedding`). */
  readonly userEmbedding: Embedding;
  /** E_i (`item_id_embedding`). */
  readonly itemIdEmbedding: Embedding;
  /** P (`predictor`). */
  readonly predictor: Linear;
  /** Per modality: trainable features and projection (`image_embedding`, `image_trs`, …). */
  readonly modalities: { name: "image" | "text"; emb: Embedding; trs: Linear }[] = [];
  /** Â. */
  readonly adj: SparseMatrix;
  readonly #seeds: Seeds;

  /** A model over `train` with item content `mm` (at least one modality). */
  constructor(train: Interactions, mm: ItemModalities, cfg: Bm3Config = {}) {
    super();
    const c = this.cfg = { ...BM3_DEFAULTS, ...cfg };
    const { numUsers: nu, numItems: ni } = train;
    this.numUsers = nu;
    this.numItems = ni;
    if (!mm.image && !mm.text) throw new Error("wgrec BM3: needs image and/or text features");
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
    this.predictor = this.child("predictor", new Linear(d, d, { seed }));
    this.predictor.setParameter("weight", tensor(xavierNormal(d, d, rng), [d, d]));
    for (const [m, feats] of [["image", mm.image], ["text", mm.text]] as const) {
      if (!feats) continue;
      if (feats.length === 0 || feats.length % ni !== 0) {
        throw new Error(`wgrec BM3: ${feats.length} ${m} feature values do not form ${ni} rows`);
      }
      const f = feats.length / ni;
      const emb = this.child(`${m}_embedding`, new Embedding(ni, f, feats));
      const trs = this.child(
        `${m}_trs`,
        new Linear(f, d, { seed: seed + (m === "image" ? 2 : 4) }),
      );
      trs.setParameter("weight", tensor(xavierNormal(d, f, rng), [d, f]));
      this.modalities.push({ name: m, emb, trs });
    }
    this.adj = bipartiteAdjacency(train);
    this.#seeds = new Seeds(c.seed);
  }

  /** `forward()`: LightGCN users and items (+ E_i), before the predictor. */
  forward(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const h = this.itemIdEmbedding.weight;
    const h0 = concat([this.userEmbedding.weight, h], 0);
    const all = lightGcnPropagate(this.adj, h0, this.cfg.nLayers);
    const nu = this.numUsers;
    return { users: slice(all, [0, 0], [nu, -1]), items: add(slice(all, [nu, 0], [-1, -1]), h) };
  }

  /** The bootstrap loss of a batch's (user, positive) pairs. */
  loss(b: TripletTensors): LossOutput {
    const c = this.cfg;
    const { users: uOri, items: iOri } = this.forward();
    const feats = this.modalities.map((m) => ({ name: m.name, f: m.trs.forward(m.emb.weight) }));
    // Targets: dropout copies without gradient (F.dropout under torch.no_grad()).
    const drop = (x: Tensor<"f32">) => dropout(x, c.dropout, this.#seeds.next());
    const { uT, iT, fT } = noGrad(() => ({
      uT: gather(drop(uOri), b.users),
      iT: gather(drop(iOri), b.pos),
      fT: feats.map(({ f }) => gather(drop(f), b.pos)),
    }));
    const P = (x: Tensor<"f32">) => this.predictor.forward(x);
    const uOn = P(gather(uOri, b.users)); // P(U)[u] = P(U[u]): the predictor is row-wise
    const iOn = P(gather(iOri, b.pos));
    const ui = cosineLoss(uOn, iT);
    const iu = cosineLoss(iOn, uT);
    const parts: Record<string, Tensor<"f32">> = { ui, iu };
    let cl: Tensor<"f32"> | null = null;
    feats.forEach(({ name, f }, k) => {
      const fOn = P(gather(f, b.pos));
      const toItem = cosineLoss(fOn, iT); // L_t / L_v
      const toSelf = cosineLoss(fOn, fT[k]); // L_tv / L_vt
      parts[name] = toItem;
      parts[`${name}Self`] = toSelf;
      const s = add(toItem, toSelf);
      cl = cl ? add(cl, s) : s;
    });
    const reg = scale(add(frobenius(uOri), frobenius(iOri)), 1 / this.numItems);
    parts.reg = reg;
    let loss = add(add(ui, iu), scale(reg, c.regWeight));
    if (cl) loss = add(loss, scale(cl, c.clWeight));
    return { loss, parts };
  }

  /** Scores use the predictor's outputs (`full_sort_predict`). */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const { users, items } = this.forward();
    return { users: this.predictor.forward(users), items: this.predictor.forward(items) };
  }

  /** Frees parameters and the graph. */
  override dispose(): void {
    super.dispose();
    this.adj.dispose();
  }
}
