/**
 * The classic CTR baselines on the shared toolkit (`src/nn/features.ts`, `src/nn/ctr.ts`),
 * as FuxiCTR/BARS configure them, each a few lines over the same field embeddings
 * E = [e_1 … e_F] `[B, F, d]` and x₀ = flatten(E):
 * ```
 * LR:      ŷ = b + Σ_f w_f[x_f]
 * FM:      ŷ = LR + ½ Σ_k ((Σ_f e_fk)² − Σ_f e_fk²)                 (Rendle 2010)
 * DNN:     ŷ = MLP(x₀)
 * DeepFM:  ŷ = LR + FM(E) + MLP(x₀)                                   (Guo et al. 2017)
 * DCN-v2:  x_{l+1} = x₀ ⊙ (W_l x_l + b_l) + x_l;                      (Wang et al. 2021)
 *          parallel ŷ = fc([x_L; MLP(x₀)]), stacked ŷ = fc(MLP(x_L))
 * DIN:     the behaviour field's vector u = Σ_i a(h_i, t) h_i (target attention with the
 *          target item t, unnormalised weights), then ŷ = LR + MLP(flatten(E with u))
 *                                                                      (Zhou et al. 2018)
 * L = BCE(ŷ, y) + (λ/2) Σ_{θ ∈ embedding_layer} ‖θ‖²
 * ```
 * Parameter names follow FuxiCTR (`embedding_layer.<field>.weight`, `lr_layer.*`,
 * `dnn.dnn.<i>.*`, `crossnet.cross_layers.<l>.*`, `fc.*`, `attention.<i>.*`).
 * @module
 */

import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { TargetAttention } from "../../nn/attention.ts";
import { CrossNetV2, DNN, FeatureLinear, fmInteraction } from "../../nn/ctr.ts";
import { type CtrBatch, ctrRows, FeatureEmbedding, type FeatureSpec } from "../../nn/features.ts";
import type { CtrTensors } from "../../train/ctr.ts";
import { add, scale, square } from "../../ops/core/elementwise.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat, reshape, slice } from "../../ops/core/shape.ts";
import type { Tensor } from "../../tensor.ts";

/** The baselines by runner name. */
export type CtrBaselineKind = "lr" | "fm" | "dnn" | "deepfm" | "dcnv2" | "din";

/** Hyper-parameters of the baselines (FuxiCTR-like defaults). */
export interface CtrBaselineConfig {
  /** d. Default 10. */
  embeddingDim?: number;
  /** DNN hidden widths. Default [400, 400, 400]. */
  dnnHidden?: number[];
  /** BatchNorm in the DNN. Default false. */
  batchNorm?: boolean;
  /** DNN dropout. Default 0. */
  netDropout?: number;
  /** λ of the embedding L2 penalty. Default 0.01. */
  embeddingRegularizer?: number;
  /** DCN-v2 cross layers. Default 3. */
  numCrossLayers?: number;
  /** DCN-v2: cross network and DNN side by side (default) or stacked. */
  structure?: "parallel" | "stacked";
  /** DIN: the behaviour sequence field. Default `history`. */
  historyField?: string;
  /** DIN: the target field whose table the behaviours share. Default `item_id`. */
  targetField?: string;
  /** DIN attention-unit hidden widths. Default [80, 40]. */
  attentionHidden?: number[];
  /** Initialisation seed. Default 2021. */
  seed?: number;
}

/** Defaults of {@link CtrBaselineConfig}. */
export const CTR_BASELINE_DEFAULTS: Required<CtrBaselineConfig> = {
  embeddingDim: 10,
  dnnHidden: [400, 400, 400],
  batchNorm: false,
  netDropout: 0,
  embeddingRegularizer: 0.01,
  numCrossLayers: 3,
  structure: "parallel",
  historyField: "history",
  targetField: "item_id",
  attentionHidden: [80, 40],
  seed: 2021,
};

/** LR, FM, DNN, DeepFM, DCN-v2 or DIN over the fields `specs`. */
export class CtrBaseline extends Module {
  /** Display name. */
  readonly name: string;
  /** Resolved hyper-parameters. */
  readonly cfg: Required<CtrBaselineConfig>;
  /** Field embeddings (absent for LR). */
  readonly embeddingLayer: FeatureEmbedding | null;
  /** Wide term (LR, FM, DeepFM, DIN). */
  readonly lrLayer: FeatureLinear | null;
  /** DCN-v2's cross network. */
  readonly crossnet: CrossNetV2 | null;
  /** The MLP. */
  readonly dnn: DNN | null;
  /** DCN-v2's output layer. */
  readonly fc: Linear | null;
  /** DIN's attention unit. */
  readonly attention: TargetAttention | null;

  /** A baseline of kind `kind`. */
  constructor(
    readonly kind: CtrBaselineKind,
    readonly specs: readonly FeatureSpec[],
    cfg: CtrBaselineConfig = {},
  ) {
    super();
    const c = this.cfg = { ...CTR_BASELINE_DEFAULTS, ...cfg };
    const names: Record<CtrBaselineKind, string> = {
      lr: "LR",
      fm: "FM",
      dnn: "DNN",
      deepfm: "DeepFM",
      dcnv2: "DCN-v2",
      din: "DIN",
    };
    if (!(kind in names)) {
      throw new Error(
        `wgrec CtrBaseline: kind '${kind}'; expected ${Object.keys(names).join(", ")}`,
      );
    }
    this.name = names[kind];
    const d = c.embeddingDim;
    const D = specs.length * d;
    const seed = c.seed;
    const opts = { batchNorm: c.batchNorm, dropout: c.netDropout, seed: seed + 3 };
    this.embeddingLayer = kind === "lr"
      ? null
      : this.child("embedding_layer", new FeatureEmbedding(specs, d, { seed }));
    this.lrLayer = kind === "dnn" || kind === "dcnv2"
      ? null
      : this.child("lr_layer", new FeatureLinear(specs, { seed: seed + 1 }));
    this.crossnet = kind === "dcnv2"
      ? this.child("crossnet", new CrossNetV2(D, c.numCrossLayers, seed + 2))
      : null;
    this.attention = null;
    if (kind === "din") {
      const h = specs.find((s) => s.name === c.historyField);
      if (h?.type !== "sequence" || h.share !== c.targetField) {
        throw new Error(
          `wgrec DIN: field '${c.historyField}' must be a sequence sharing the table of ` +
            `'${c.targetField}' (set historyField / targetField)`,
        );
      }
      this.attention = this.child(
        "attention",
        new TargetAttention(d, c.attentionHidden, { seed: seed + 4 }),
      );
    }
    const deep = kind === "dnn" || kind === "deepfm" || kind === "din" || kind === "dcnv2";
    const out = kind === "dcnv2" ? 0 : 1;
    this.dnn = deep ? this.child("dnn", new DNN(D, c.dnnHidden, out, opts)) : null;
    const last = c.dnnHidden.length ? c.dnnHidden[c.dnnHidden.length - 1] : D;
    this.fc = kind === "dcnv2"
      ? this.child(
        "fc",
        new Linear(c.structure === "parallel" ? D + last : last, 1, { seed: seed + 5 }),
      )
      : null;
  }

  /** Logits `[B, 1]`. */
  forward(b: CtrBatch): Tensor<"f32"> {
    const B = b.size;
    const wide = this.lrLayer?.forward(b) ?? null;
    if (this.kind === "lr") return wide!;
    let e = this.embeddingLayer!.forward(b); // [B, F, d]
    const d = this.cfg.embeddingDim;
    const F = this.specs.length;
    if (this.kind === "din") e = this.#din(b, e);
    const x0 = reshape(e, [B, F * d]);
    switch (this.kind) {
      case "fm":
        return add(wide!, fmInteraction(e));
      case "dnn":
        return this.dnn!.forward(x0);
      case "deepfm":
        return add(add(wide!, fmInteraction(e)), this.dnn!.forward(x0));
      case "din":
        return add(wide!, this.dnn!.forward(x0));
      default: {
        const xl = this.crossnet!.forward(x0);
        if (this.cfg.structure === "stacked") return this.fc!.forward(this.dnn!.forward(xl));
        return this.fc!.forward(concat([xl, this.dnn!.forward(x0)], 1));
      }
    }
  }

  /** Logits `[B]` of rows of a table (the CTR task's batches). */
  logits(t: CtrTensors): Tensor<"f32"> {
    return reshape(this.forward(ctrRows(this.specs, t.data, t.rows)), [t.size]);
  }

  /** E with the behaviour field's pooled vector replaced by target attention over it. */
  #din(b: CtrBatch, e: Tensor<"f32">): Tensor<"f32"> {
    const c = this.cfg;
    const emb = this.embeddingLayer!;
    const d = c.embeddingDim;
    const B = b.size;
    const F = this.specs.length;
    const seqs = this.specs.filter((s) => s.type === "sequence");
    const j = seqs.findIndex((s) => s.name === c.historyField);
    const spec = seqs[j];
    if (spec.type !== "sequence") throw new Error("unreachable");
    const L = spec.maxLen;
    const hist = emb.tableOf(c.historyField).lookup(b.sequences[j].ids, [B, L]); // [B, L, d]
    const fi = this.specs.findIndex((s) => s.name === c.targetField);
    const hi = this.specs.findIndex((s) => s.name === c.historyField);
    const t = reshape(slice(e, [0, fi, 0], [B, 1, d]), [B, d]);
    const u = reshape(this.attention!.forward(hist, t, [...b.sequences[j].lengths]), [B, 1, d]);
    const parts = [];
    if (hi > 0) parts.push(slice(e, [0, 0, 0], [B, hi, d]));
    parts.push(u);
    if (hi < F - 1) parts.push(slice(e, [0, hi + 1, 0], [B, F - hi - 1, d]));
    return concat(parts, 1);
  }

  /** `(λ/2) Σ ‖θ‖²` over the parameters named `…embedding_layer…` (null when λ = 0). */
  penalty(): Tensor<"f32"> | null {
    const lam = this.cfg.embeddingRegularizer;
    const ps = this.namedParameters().filter(([n]) => n.includes("embedding_layer"));
    if (lam === 0 || ps.length === 0) return null;
    return scale(ps.map(([, p]) => sum(square(p))).reduce((a, b) => add(a, b)), lam / 2);
  }
}
