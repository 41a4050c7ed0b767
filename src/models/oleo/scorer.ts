/**
 * Stage-2 scoring of GreenRec / OLEO (spec §4.2: "Scoring: dot product (matching models) or
 * predictor MLP (CTR)"; "CTR predictors: DCN (cross_num 3, DNN [1000,1000,1000], dropout 0.1),
 * DIN, DeepFM"). A scorer maps the user vector u [n, d] (from the user encoder), the candidate
 * vector v [n, d] (a frozen item vector for OLEO, projected) and, for DIN, the user's history
 * vectors h [n, Lh, d] with their mask, to one logit per pair; the impression task takes the
 * 1-positive + 4-negative softmax cross-entropy over these logits and evaluation ranks by them.
 *
 * The spec names the predictors but not how u and v become their fields; ours (stated):
 * ```
 * dot     s = u · v
 * dcn     x₀ = [u; v; u ⊙ v]  (3d; the ⊙ field gives the cross net the matching signal at layer 0)
 *         x_{l+1} = x₀ ⊙ (W_l x_l + b_l) + x_l  (3 layers)
 *         s = fc([x_L; DNN(x₀)])                 (DCN-v2 parallel, as ctrbase's DCN-v2)
 * deepfm  fields E = [u, v] (two dense fields of width d)
 *         s = w·[u; v] + b  +  FM(E)  +  DNN([u; v])     with FM(E) = ½ Σ_k((u+v)² − u² − v²)_k = u·v,
 *         so DeepFM is the dot product plus a first-order and a deep term
 * din     a = Σ_i mask_i · g(h_i, v) · h_i       (DIN's activation unit g over [h; v; h − v; h ⊙ v],
 *                                               unnormalised weights, padding masked out)
 *         s = DNN([u; a; v])                     (the DIN paper's MLP over user, pooled
 *                                               behaviours and candidate; no wide term)
 * ```
 * DNN = Linear → ReLU → dropout per hidden layer (spec: [1000, 1000, 1000], dropout 0.1), then a
 * linear output. Every block is the CTR toolkit's (`nn/ctr.ts`: CrossNetV2, DNN, fmInteraction;
 * `nn/attention.ts`: TargetAttention's activation unit); parameter names follow FuxiCTR as
 * ctrbase does (`crossnet.cross_layers.<l>.*`, `dnn.dnn.<i>.*`, `fc.*`, `lr.*`, `attention.<i>.*`).
 * @module
 */

import { add, mul } from "../../ops/core/elementwise.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat, reshape } from "../../ops/core/shape.ts";
import { rowDot } from "../../ops/losses/similarity.ts";
import type { Tensor } from "../../tensor.ts";
import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { CrossNetV2, DNN, fmInteraction } from "../../nn/ctr.ts";
import { TargetAttention } from "../../nn/attention.ts";

/** The scorer kinds: the dot product or a CTR predictor. */
export type ScorerKind = "dot" | "dcn" | "deepfm" | "din";

/** The scorer kinds, in order. */
export const SCORER_KINDS: readonly ScorerKind[] = ["dot", "dcn", "deepfm", "din"];

/** Predictor hyper-parameters (spec §4.2 for DCN; the same DNN for DeepFM and DIN). */
export interface ScorerConfig {
  /** Which scorer. */
  kind: ScorerKind;
  /** Width d of u and v. */
  dim: number;
  /** DNN hidden widths. Spec (DCN): [1000, 1000, 1000]. */
  hidden: readonly number[];
  /** DNN dropout in training mode. Spec (DCN): 0.1. */
  dropout: number;
  /** DCN cross layers. Spec: 3. */
  crossLayers?: number;
  /** DIN activation-unit widths. Default [80, 40] (DIN's). */
  attentionHidden?: readonly number[];
  /** Seed. */
  seed: number;
}

/** What a scorer sees for n (user, candidate) pairs. */
export interface ScoreInputs {
  /** User vectors [n, d]. */
  u: Tensor<"f32">;
  /** Candidate vectors [n, d]. */
  v: Tensor<"f32">;
  /** The users' history vectors [n, Lh, d] (DIN). */
  h: Tensor<"f32">;
  /** 1 on valid history entries, [n, Lh]. */
  mask: Tensor<"f32">;
}

/** One logit per (u, v) pair: the dot product or a CTR predictor over [u, v] (and history). */
export class NewsScorer extends Module {
  /** DCN's cross network (`crossnet.*`). */
  readonly crossnet: CrossNetV2 | null = null;
  /** The DNN (`dnn.*`): DCN's deep tower, DeepFM's and DIN's MLP. */
  readonly dnn: DNN | null = null;
  /** DCN's output layer over [x_L; DNN(x₀)] (`fc.*`). */
  readonly fc: Linear | null = null;
  /** DeepFM's first-order term w·[u; v] + b (`lr.*`). */
  readonly lr: Linear | null = null;
  /** DIN's activation unit (`attention.*`). */
  readonly attention: TargetAttention | null = null;

  /** A scorer of kind `c.kind` over width `c.dim`. */
  constructor(readonly c: ScorerConfig) {
    super();
    const d = c.dim, s = c.seed;
    const opts = { dropout: c.dropout, seed: s + 3 };
    const last = c.hidden.length ? c.hidden[c.hidden.length - 1] : 0;
    switch (c.kind) {
      case "dot":
        break;
      case "dcn":
        this.crossnet = this.child("crossnet", new CrossNetV2(3 * d, c.crossLayers ?? 3, s + 2));
        this.dnn = this.child("dnn", new DNN(3 * d, c.hidden, 0, opts));
        this.fc = this.child("fc", new Linear(3 * d + (last || 3 * d), 1, { seed: s + 5 }));
        break;
      case "deepfm":
        this.lr = this.child("lr", new Linear(2 * d, 1, { seed: s + 1 }));
        this.dnn = this.child("dnn", new DNN(2 * d, c.hidden, 1, opts));
        break;
      case "din":
        this.attention = this.child(
          "attention",
          new TargetAttention(d, c.attentionHidden ?? [80, 40], { seed: s + 4 }),
        );
        this.dnn = this.child("dnn", new DNN(3 * d, c.hidden, 1, opts));
        break;
      default:
        throw new Error(
          `wgrec NewsScorer: scorer '${c.kind}', expected ${SCORER_KINDS.join(", ")}`,
        );
    }
  }

  /** Whether the scorer reads the history vectors (only DIN). */
  get needsHistory(): boolean {
    return this.c.kind === "din";
  }

  /** Logits [n] of the pairs. */
  forward({ u, v, h, mask }: ScoreInputs): Tensor<"f32"> {
    const n = u.shape[0];
    switch (this.c.kind) {
      case "dot":
        return rowDot(u, v);
      case "dcn": {
        const x0 = concat([u, v, mul(u, v)], 1);
        const xl = this.crossnet!.forward(x0);
        return reshape(this.fc!.forward(concat([xl, this.dnn!.forward(x0)], 1)), [n]);
      }
      case "deepfm": {
        const x = concat([u, v], 1);
        const fm = fmInteraction(reshape(x, [n, 2, u.shape[1]])); // fields [u, v]: = u · v
        return reshape(add(add(this.lr!.forward(x), fm), this.dnn!.forward(x)), [n]);
      }
      default: {
        const [, L] = mask.shape;
        const w = this.attention!.weights(h, v); // [n, Lh, 1]
        const a = sum(mul(mul(w, reshape(mask, [n, L, 1])), h), 1); // [n, d]
        return reshape(this.dnn!.forward(concat([u, a, v], 1)), [n]);
      }
    }
  }
}
