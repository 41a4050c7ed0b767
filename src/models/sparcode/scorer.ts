/**
 * The all-to-all interaction encoder E(q, v) → scalar of SparCode (../shared/specs/sparcode.md
 * §6.1 step 3), shared by the SparCode model (q = a quantised user token) and the all-to-all
 * baseline (q = the user vector itself). Two backbones from the paper's tables:
 *
 * - `dnn`: DSSM-like, the inputs concatenated into an MLP, `E = MLP([q; v])`;
 * - `sa`: self-attention over the two-token sequence [q, v] (one post-LN Transformer encoder
 *   layer, no dropout), then the mean of the two outputs through a linear head.
 *
 * {@link PairScorer.table} scores every (query row × item) pair without materialising the
 * pairs' concatenation for `dnn`: the first layer splits as `W[q; v] + b = W_q q + (W_v v + b)`,
 * so `H₁ = act(A[:, None] + B[None])` with `A = Q W_qᵀ`, `B = V W_vᵀ + b` (one matmul per side).
 * @module
 */

import { Module } from "../../nn/module.ts";
import { activate, Linear, MLP } from "../../nn/linear.ts";
import { TransformerEncoderLayer } from "../../nn/attention.ts";
import { add } from "../../ops/core/elementwise.ts";
import { mean } from "../../ops/core/reduce.ts";
import { broadcastTo, concat, reshape, slice } from "../../ops/core/shape.ts";
import { linear, matmul } from "../../ops/matmul/matmul.ts";
import { fmt, type Tensor } from "../../tensor.ts";

/** Backbone of the interaction encoder. */
export type Backbone = "dnn" | "sa";

/** Options of {@link PairScorer}. */
export interface PairScorerOptions {
  /** Width d of q and v. */
  dim: number;
  /** Backbone. Default "dnn". */
  backbone?: Backbone;
  /** Hidden widths of the DNN (or of the SA head's feed-forward block: first entry). */
  hidden?: readonly number[];
  /** Attention heads of the SA backbone (must divide d). Default 2. */
  heads?: number;
  /** Seed of the initial weights. */
  seed?: number;
}

/** E(q, v): one scalar per (q, v) row pair. */
export class PairScorer extends Module {
  /** Backbone. */
  readonly backbone: Backbone;
  /** Width of q and v. */
  readonly dim: number;
  /** The DNN `mlp` ([2d, …hidden, 1]), when backbone = dnn. */
  readonly mlp: MLP | null;
  /** The encoder layer, when backbone = sa. */
  readonly encoder: TransformerEncoderLayer | null;
  /** The SA head (d → 1), when backbone = sa. */
  readonly head: Linear | null;

  /** A scorer with PyTorch's initialisation from `seed`. */
  constructor(opts: PairScorerOptions) {
    super();
    this.dim = opts.dim;
    this.backbone = opts.backbone ?? "dnn";
    const hidden = opts.hidden ?? [64, 32];
    const seed = opts.seed ?? 0;
    if (this.backbone === "dnn") {
      this.mlp = this.child("mlp", new MLP([2 * opts.dim, ...hidden, 1], "relu", seed));
      this.encoder = null;
      this.head = null;
    } else if (this.backbone === "sa") {
      this.mlp = null;
      this.encoder = this.child(
        "encoder",
        new TransformerEncoderLayer(opts.dim, opts.heads ?? 2, {
          dimFeedforward: hidden[0] ?? 2 * opts.dim,
          dropout: 0,
          seed,
        }),
      );
      this.head = this.child("head", new Linear(opts.dim, 1, { seed: seed + 101 }));
    } else {
      throw new Error(`wgrec PairScorer: backbone '${opts.backbone}', expected 'dnn' or 'sa'`);
    }
  }

  /** E over aligned rows: q [P, d], v [P, d] → [P]. */
  forward(q: Tensor<"f32">, v: Tensor<"f32">): Tensor<"f32"> {
    const d = this.dim;
    if (q.rank !== 2 || v.rank !== 2 || q.shape[1] !== d || v.shape.join() !== q.shape.join()) {
      throw new Error(
        `wgrec PairScorer: q ${fmt(q.shape)} and v ${fmt(v.shape)}, expected both [P, ${d}]`,
      );
    }
    const p = q.shape[0];
    if (this.mlp) return reshape(this.mlp.forward(concat([q, v], 1)), [p]);
    const seq = reshape(concat([q, v], 1), [p, 2, d]); // tokens [q, v]
    const h = this.encoder!.forward(seq);
    const pooled = reshape(mean(h, 1), [p, d]);
    return reshape(this.head!.forward(pooled), [p]);
  }

  /** E of every pair (row of q [n, d]) × (row of v [I, d]) → [n, I]. */
  table(q: Tensor<"f32">, v: Tensor<"f32">): Tensor<"f32"> {
    const d = this.dim;
    if (q.rank !== 2 || v.rank !== 2 || q.shape[1] !== d || v.shape[1] !== d) {
      throw new Error(
        `wgrec PairScorer.table: q ${fmt(q.shape)} and v ${fmt(v.shape)}, expected [n, ${d}] ` +
          `and [I, ${d}]`,
      );
    }
    const [n, ni] = [q.shape[0], v.shape[0]];
    if (this.mlp) {
      const [first, ...rest] = this.mlp.layers;
      const h1 = first.outFeatures;
      const wq = slice(first.weight, [0, 0], [h1, d]);
      const wv = slice(first.weight, [0, d], [h1, d]);
      const a = matmul(q, wq, { transB: true }); // [n, h1]
      const b = linear(v, wv, first.bias, "none"); // [I, h1]
      let h = add(reshape(a, [n, 1, h1]), reshape(b, [1, ni, h1]));
      h = reshape(activate(h, rest.length ? this.mlp.act : "none"), [n * ni, h1]);
      rest.forEach((l, i) => (h = l.forward(h, i < rest.length - 1 ? this.mlp!.act : "none")));
      return reshape(h, [n, ni]);
    }
    const qq = reshape(broadcastTo(reshape(q, [n, 1, d]), [n, ni, d]), [n * ni, d]);
    const vv = reshape(broadcastTo(reshape(v, [1, ni, d]), [n, ni, d]), [n * ni, d]);
    return reshape(this.forward(qq, vv), [n, ni]);
  }

  /** Scalars the {@link table} holds per (query row, item) pair while it runs (for chunking). */
  get pairWidth(): number {
    return this.mlp ? this.mlp.layers[0].outFeatures : 8 * this.dim;
  }
}
