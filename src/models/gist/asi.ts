/**
 * GIST's asymmetric similarity integration (ASI; spec gist.md, skeleton step 3). The paper's
 * architecture is not public; this is our design from the spec's description ("a
 * non-symmetric similarity between target ad ↔ source items, used both as attention bias and
 * as features"). With the target item t `[B, d_t]` (target domain) and the K source items
 * retrieved from the user's lifelong source sequence S `[B, K, d_s]` (source domain):
 * ```
 * σ_j = t W_a s_jᵀ                    bilinear, W_a [d_t, d_s]: σ(t, s) ≠ σ(s, t) in general
 * α   = softmax_j((t W_q)·(s_j W_k) / √d + σ_j)          σ as the attention bias
 * o   = Σ_j α_j (s_j W_v)                                 [B, d]
 * ASI(t, S) = [o; max_j σ_j; mean_j σ_j]                 [B, d + 2]  σ also as features
 * ```
 * @module
 */

import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { softmax } from "../../ops/core/softmax.ts";
import { add, scale } from "../../ops/core/elementwise.ts";
import { max } from "../../ops/core/minmax.ts";
import { mean } from "../../ops/core/reduce.ts";
import { concat, reshape } from "../../ops/core/shape.ts";
import { fmt, type Tensor } from "../../tensor.ts";

/** Asymmetric similarity integration: target attention over source items with σ as bias. */
export class AsymmetricSimilarity extends Module {
  /** W_a as a bias-free `d_t → d_s` map (so σ = (t W_a)·s). */
  readonly bilinear: Linear;
  /** W_q: `d_t → d`. */
  readonly query: Linear;
  /** W_k: `d_s → d`. */
  readonly key: Linear;
  /** W_v: `d_s → d`. */
  readonly value: Linear;

  /** Target width `dt`, source width `ds`, attention width `d`. */
  constructor(readonly dt: number, readonly ds: number, readonly d: number, seed = 0) {
    super();
    this.bilinear = this.child("bilinear", new Linear(dt, ds, { bias: false, seed }));
    this.query = this.child("query", new Linear(dt, d, { bias: false, seed: seed + 1 }));
    this.key = this.child("key", new Linear(ds, d, { bias: false, seed: seed + 2 }));
    this.value = this.child("value", new Linear(ds, d, { bias: false, seed: seed + 3 }));
  }

  /** σ `[B, 1, K]`: the asymmetric similarity of each target to its source items. */
  similarity(t: Tensor<"f32">, s: Tensor<"f32">): Tensor<"f32"> {
    const B = t.shape[0];
    return matmul(reshape(this.bilinear.forward(t), [B, 1, this.ds]), s, { transB: true });
  }

  /** Target `[B, d_t]`, source items `[B, K, d_s]` → `[B, d + 2]`. */
  forward(t: Tensor<"f32">, s: Tensor<"f32">): Tensor<"f32"> {
    const B = t.shape[0];
    if (
      t.rank !== 2 || t.shape[1] !== this.dt || s.rank !== 3 || s.shape[0] !== B ||
      s.shape[2] !== this.ds || s.shape[1] < 1
    ) {
      throw new Error(
        `wgrec AsymmetricSimilarity: target ${fmt(t.shape)}, source ${fmt(s.shape)}; expected ` +
          `[B, ${this.dt}] and [B, K ≥ 1, ${this.ds}]`,
      );
    }
    const sigma = this.similarity(t, s); // [B, 1, K]
    const q = reshape(this.query.forward(t), [B, 1, this.d]);
    const logits = add(
      scale(matmul(q, this.key.forward(s), { transB: true }), 1 / Math.sqrt(this.d)),
      sigma,
    );
    const o = reshape(matmul(softmax(logits), this.value.forward(s)), [B, this.d]);
    const flat = reshape(sigma, [B, s.shape[1]]);
    return concat([o, max(flat, 1, true), mean(flat, 1, true)], 1);
  }
}
