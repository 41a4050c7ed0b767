/**
 * RAR's co-interaction module (spec rar.md §3.1): set-to-set cross-attention from the request
 * to the cross-stage sets. Queries are the target item e_t and the user summary s_u; keys and
 * values are the selected set S (look-alike users and/or recall items, `[B, n, d]`):
 * ```
 * Q = [e_t; s_u] W_qᵀ                    [B, 2, d]
 * K = S W_kᵀ,  V = S W_vᵀ                 [B, n, d]
 * A = softmax(Q Kᵀ / √d)                  [B, 2, n]   (over the set)
 * r = W_o · flatten(A V) + b_o            [B, d]      (the enriched user vector)
 * ```
 * The paper's exact parameterisation is not public (no code); this single-head form with the
 * two queries concatenated is our choice, consistent with the spec's shapes.
 * @module
 */

import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { softmax } from "../../ops/core/softmax.ts";
import { scale } from "../../ops/core/elementwise.ts";
import { concat, reshape } from "../../ops/core/shape.ts";
import { fmt, type Tensor } from "../../tensor.ts";

/** Set-to-set cross-attention producing the enriched user vector `r` `[B, d]`. */
export class CoInteraction extends Module {
  /** W_q (no bias). */
  readonly query: Linear;
  /** W_k (no bias). */
  readonly key: Linear;
  /** W_v (no bias). */
  readonly value: Linear;
  /** W_o, b_o: `2d → d`. */
  readonly out: Linear;

  /** Over `d`-wide vectors, parameters seeded from `seed`. */
  constructor(readonly dim: number, seed = 0) {
    super();
    this.query = this.child("query", new Linear(dim, dim, { bias: false, seed }));
    this.key = this.child("key", new Linear(dim, dim, { bias: false, seed: seed + 1 }));
    this.value = this.child("value", new Linear(dim, dim, { bias: false, seed: seed + 2 }));
    this.out = this.child("out", new Linear(2 * dim, dim, { seed: seed + 3 }));
  }

  /** Target `[B, d]`, user summary `[B, d]`, selected set `[B, n, d]` → r `[B, d]`. */
  forward(target: Tensor<"f32">, user: Tensor<"f32">, set: Tensor<"f32">): Tensor<"f32"> {
    const d = this.dim;
    const B = target.shape[0];
    if (
      target.rank !== 2 || target.shape[1] !== d || user.rank !== 2 || user.shape[0] !== B ||
      user.shape[1] !== d || set.rank !== 3 || set.shape[0] !== B || set.shape[2] !== d ||
      set.shape[1] < 1
    ) {
      throw new Error(
        `wgrec CoInteraction: target ${fmt(target.shape)}, user ${fmt(user.shape)}, set ` +
          `${fmt(set.shape)}; expected [B, ${d}], [B, ${d}], [B, n ≥ 1, ${d}]`,
      );
    }
    const q = this.query.forward(concat([reshape(target, [B, 1, d]), reshape(user, [B, 1, d])], 1));
    const k = this.key.forward(set);
    const v = this.value.forward(set);
    const a = softmax(scale(matmul(q, k, { transB: true }), 1 / Math.sqrt(d))); // [B, 2, n]
    return this.out.forward(reshape(matmul(a, v), [B, 2 * d]));
  }
}
