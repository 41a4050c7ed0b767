/**
 * VBPR (He & McAuley, AAAI 2016) as in MMRec: item = [ID embedding ‖ Linear(features)], user
 * embedding of twice the width, dot-product score, BPR + `reg_weight · EmbLoss(u, p, n)`
 * (MMRec's VBPR without LayerNorm).
 * @module
 */

import { Linear } from "../../nn/linear.ts";
import { xavierNormal, xavierUniform } from "../../nn/init.ts";
import { add, scale } from "../../ops/core/elementwise.ts";
import { bprLoss } from "../../ops/losses/ranking.ts";
import { frobenius, rowDot } from "../../ops/losses/similarity.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { concat } from "../../ops/core/shape.ts";
import { Rng } from "../../random.ts";
import { type Tensor, tensor } from "../../tensor.ts";
import type { Interactions } from "../../data/types.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";

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
