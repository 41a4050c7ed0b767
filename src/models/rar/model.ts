/**
 * RAR: "Recall-Augmented Ranking: Enhancing Click-Through Rate Prediction Accuracy with
 * Cross-Stage Data" (Huang et al., WWW'24; spec ../shared/specs/rar.md). No official code is
 * public: the design follows the spec's shapes, and the choices that are ours are marked (ours).
 * ```
 * E = FeatureEmbedding(x)                    [B, F, d]   fields of the base CTR model
 * e_t = E[item],  s_u = E[history]           (mean-pooled behaviours)
 * P_L[u'] = mean of u′'s last M training positives' item vectors     [U, d]   (ours, §3.1)
 * P_R(u) = the recall stage's list for u: N_R item ids (two-tower / item-CF, ./recall.ts)
 * look-alike users  L = topk_{u' ≠ u} score(s_u, P_L[u'])   k_L of them          (§3.1 u2u)
 * recall items      R = topk_{i ∈ P_R(u), i ≠ t} score(e_t, W_item[i])   k_R     (§3.1 i2i)
 *   score = −Hamming(sign(x W_h), sign(p W_h)) (SimHash, W_h frozen) or x·p (exact)  (§3.3)
 * r = CoInteraction(e_t, s_u, S),  S = [P_L[L]; W_item[R]]   [B, d]               (§3.1)
 * DIN:    ŷ = LR(x) + DNN([flatten(E with s_u ← Σ_i a(h_i, e_t) h_i); r])
 * DCN-v2: x₀ = [flatten(E); r],  ŷ = fc([CrossNet(x₀); DNN(x₀)])
 * L = BCE(ŷ, y) + λ_aux · mean_{i ∈ R} BCE(⟨r, W_item[i]⟩, 1[i ∈ positives(u)])
 *     + (λ/2) Σ ‖embedding tables‖²                                               (§3.1 joint)
 * ```
 * The recall stage is simulated on public data (§3.2, ./recall.ts): a two-tower model trained
 * with in-batch InfoNCE and item-CF give each user a recall list of N_R items; recall items are
 * picked from the request's own list by similarity to the target e_t (the spec's score
 * −Hamming(h(e_t), h(p))), the target itself left out (ours: so a training row cannot read its
 * own label off the list, which holds the user's training positives); look-alike users come
 * from a pool of every user's recent positives (ours). Selection runs on the GPU every batch,
 * over the ranking model's current item vectors. `variant` switches u2u / i2i off for the
 * ablation.
 * @module
 */

import { Module } from "../../nn/module.ts";
import { Linear } from "../../nn/linear.ts";
import { TargetAttention } from "../../nn/attention.ts";
import { CrossNetV2, DNN, FeatureLinear } from "../../nn/ctr.ts";
import { type CtrBatch, ctrRows, FeatureEmbedding, type FeatureSpec } from "../../nn/features.ts";
import type { CtrData } from "../../data/ctr.ts";
import type { CtrTensors } from "../../train/ctr.ts";
import { add, div, mul, scale, square } from "../../ops/core/elementwise.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat, reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { bceWithLogits } from "../../ops/losses/ranking.ts";
import { simhashPlanes } from "../../ops/search/hashing.ts";
import { keep, type Tensor, tensor } from "../../tensor.ts";
import { CoInteraction } from "./coint.ts";
import { selectFromLists, type SelectMethod, selectTopK } from "./select.ts";
import { auxLabels, type CrossStageData, crossStageData } from "./data.ts";
import {
  itemCfRecall,
  positives,
  type RecallLists,
  type RecallMethod,
  recallStage,
} from "./recall.ts";

/** Which cross-stage sets feed the co-interaction (the ablation). */
export type RarVariant = "none" | "u2u" | "i2i" | "both";

/** Hyper-parameters of {@link Rar}. */
export interface RarConfig {
  /** Base CTR model. Default din. */
  base?: "din" | "dcnv2";
  /** Cross-stage sets used. Default both. */
  variant?: RarVariant;
  /** Selection: SimHash + Hamming top-k (default) or exact inner product. */
  select?: SelectMethod;
  /** SimHash bits. Default 64. */
  bits?: number;
  /** k_L look-alike users. Default 10. */
  kUsers?: number;
  /** k_R recall items. Default 10. */
  kItems?: number;
  /** M: positives per user in the look-alike pool. Default 20. */
  poolLength?: number;
  /** Recall model making the users' lists (./recall.ts). Default both. */
  recall?: RecallMethod;
  /** N_R: items per recall list. Default 50. */
  recallLength?: number;
  /** Two-tower recall epochs. Default 10. */
  recallEpochs?: number;
  /** λ_aux. Default 0.1. */
  auxWeight?: number;
  /** d. Default 10. */
  embeddingDim?: number;
  /** DNN hidden widths. Default [200, 200]. */
  dnnHidden?: number[];
  /** DCN-v2 cross layers. Default 3. */
  numCrossLayers?: number;
  /** DIN activation-unit widths. Default [80, 40]. */
  attentionHidden?: number[];
  /** λ of the embedding L2 penalty. Default 0.01. */
  embeddingRegularizer?: number;
  /** The user field. Default user_id. */
  userField?: string;
  /** The target item field. Default item_id. */
  itemField?: string;
  /** The behaviour sequence (sharing the item table). Default history. */
  historyField?: string;
  /** Initialisation seed. Default 2021. */
  seed?: number;
}

/** Defaults of {@link RarConfig}. */
export const RAR_DEFAULTS: Required<RarConfig> = {
  base: "din",
  variant: "both",
  select: "simhash",
  bits: 64,
  kUsers: 10,
  kItems: 10,
  poolLength: 20,
  recall: "both",
  recallLength: 50,
  recallEpochs: 10,
  auxWeight: 0.1,
  embeddingDim: 10,
  dnnHidden: [200, 200],
  numCrossLayers: 3,
  attentionHidden: [80, 40],
  embeddingRegularizer: 0.01,
  userField: "user_id",
  itemField: "item_id",
  historyField: "history",
  seed: 2021,
};

/** RAR on a DIN or DCN-v2 base. */
export class Rar extends Module {
  /** Display name. */
  readonly name: string;
  /** Resolved hyper-parameters. */
  readonly cfg: Required<RarConfig>;
  /** Field embeddings (`embedding_layer.<field>.weight`). */
  readonly embeddingLayer: FeatureEmbedding;
  /** DIN's wide term. */
  readonly lrLayer: FeatureLinear | null;
  /** DIN's attention unit. */
  readonly attention: TargetAttention | null;
  /** DCN-v2's cross network. */
  readonly crossnet: CrossNetV2 | null;
  /** The DNN. */
  readonly dnn: DNN;
  /** DCN-v2's output layer. */
  readonly fc: Linear | null;
  /** The co-interaction module (absent for variant none). */
  readonly coInteraction: CoInteraction | null;
  /** Look-alike pool and positives, from the training table. */
  readonly cross: CrossStageData;
  readonly #planes: Tensor<"f32">;
  readonly #poolIds: Tensor<"i32">;
  readonly #poolMask: Tensor<"f32">;
  readonly #poolCount: Tensor<"f32">;
  readonly #recall: Tensor<"i32">;
  #aux: Tensor<"f32"> | null = null;

  /**
   * RAR over `specs`, its cross-stage data from the training table `train` and the recall
   * stage's lists `recall` (default: item-CF lists computed here; {@link Rar.create} runs the
   * configured recall stage first).
   */
  constructor(
    readonly specs: readonly FeatureSpec[],
    train: CtrData,
    cfg: RarConfig = {},
    recall?: RecallLists,
  ) {
    super();
    const c = this.cfg = { ...RAR_DEFAULTS, ...cfg };
    if (c.base !== "din" && c.base !== "dcnv2") {
      throw new Error(`wgrec Rar: base '${c.base}'; expected din or dcnv2`);
    }
    const h = specs.find((s) => s.name === c.historyField);
    if (h?.type !== "sequence" || h.share !== c.itemField) {
      throw new Error(
        `wgrec Rar: field '${c.historyField}' must be a sequence sharing the table of ` +
          `'${c.itemField}' (set historyField / itemField)`,
      );
    }
    if (!specs.some((s) => s.name === c.itemField && s.type === "categorical")) {
      throw new Error(`wgrec Rar: no categorical field '${c.itemField}' (set itemField)`);
    }
    this.name = `RAR-${c.base === "din" ? "DIN" : "DCN-v2"} (${c.variant})`;
    const d = c.embeddingDim;
    const seed = c.seed;
    const extra = c.variant === "none" ? 0 : d;
    const D = specs.length * d + extra;
    this.embeddingLayer = this.child("embedding_layer", new FeatureEmbedding(specs, d, { seed }));
    const din = c.base === "din";
    this.lrLayer = din
      ? this.child("lr_layer", new FeatureLinear(specs, { seed: seed + 1 }))
      : null;
    this.attention = din
      ? this.child("attention", new TargetAttention(d, c.attentionHidden, { seed: seed + 4 }))
      : null;
    this.crossnet = din
      ? null
      : this.child("crossnet", new CrossNetV2(D, c.numCrossLayers, seed + 2));
    this.dnn = this.child("dnn", new DNN(D, c.dnnHidden, din ? 1 : 0, { seed: seed + 3 }));
    const last = c.dnnHidden.length ? c.dnnHidden[c.dnnHidden.length - 1] : D;
    this.fc = din ? null : this.child("fc", new Linear(D + last, 1, { seed: seed + 5 }));
    this.coInteraction = extra
      ? this.child("co_interaction", new CoInteraction(d, seed + 6))
      : null;
    this.cross = crossStageData(train, c.userField, c.itemField, c.poolLength);
    const { users, poolLength: M, poolIds, poolLengths } = this.cross;
    const mask = new Float32Array(users * M);
    const count = new Float32Array(users);
    for (let u = 0; u < users; u++) {
      for (let j = 0; j < poolLengths[u]; j++) mask[u * M + j] = 1;
      count[u] = Math.max(1, poolLengths[u]);
    }
    this.#poolIds = keep(tensor(poolIds, [users, M], "i32"));
    this.#poolMask = keep(tensor(mask, [users, M, 1]));
    this.#poolCount = keep(tensor(count, [users, 1]));
    this.#planes = keep(simhashPlanes(d, c.bits, seed + 7));
    const lists = recall ??
      itemCfRecall(positives(train, c.userField, c.itemField), c.recallLength);
    if (lists.users !== users || lists.length <= c.kItems) {
      throw new Error(
        `wgrec Rar: recall lists of ${lists.users} users × ${lists.length}; expected ${users} ` +
          `users and more than kItems = ${c.kItems} items each`,
      );
    }
    this.#recall = keep(tensor(lists.ids, [users, lists.length], "i32"));
  }

  /** Runs the configured recall stage on `train` (./recall.ts), then builds the model. */
  static async create(
    specs: readonly FeatureSpec[],
    train: CtrData,
    cfg: RarConfig = {},
  ): Promise<Rar> {
    const c = { ...RAR_DEFAULTS, ...cfg };
    const usesRecall = c.variant === "i2i" || c.variant === "both";
    const lists = usesRecall
      ? await recallStage(train, c.userField, c.itemField, {
        method: c.recall,
        length: c.recallLength,
        epochs: c.recallEpochs,
        seed: c.seed,
      })
      : undefined;
    return new Rar(specs, train, cfg, lists);
  }

  /** Logits `[B]` of rows of a table (the CTR task's batches). */
  logits(t: CtrTensors): Tensor<"f32"> {
    const b = ctrRows(this.specs, t.data, t.rows);
    const ui = t.data.sparseNames.indexOf(this.cfg.userField);
    if (ui < 0) throw new Error(`wgrec Rar: no categorical field '${this.cfg.userField}'`);
    const nf = t.data.sparseNames.length;
    const users = Int32Array.from({ length: t.size }, (_, i) => t.data.sparse[t.rows[i] * nf + ui]);
    return reshape(this.forward(b, users), [t.size]);
  }

  /** Logits `[B, 1]` of a host batch whose rows belong to `users` (ids of the user field). */
  forward(b: CtrBatch, users: Int32Array): Tensor<"f32"> {
    const c = this.cfg;
    const B = b.size;
    const d = c.embeddingDim;
    const F = this.specs.length;
    const e = this.embeddingLayer.forward(b); // [B, F, d]
    const field = (name: string) => {
      const i = this.specs.findIndex((s) => s.name === name);
      return [i, reshape(slice(e, [0, i, 0], [B, 1, d]), [B, d])] as const;
    };
    const [, et] = field(c.itemField);
    const [hi, su] = field(c.historyField);
    let x = e;
    if (this.attention) {
      // DIN: the behaviour field's vector becomes target attention over the behaviours.
      const seqs = this.specs.filter((s) => s.type === "sequence");
      const j = seqs.findIndex((s) => s.name === c.historyField);
      const L = (seqs[j] as { maxLen: number }).maxLen;
      const table = this.embeddingLayer.tableOf(c.historyField);
      const hist = table.lookup(b.sequences[j].ids, [B, L]);
      const u = this.attention.forward(hist, et, [...b.sequences[j].lengths]);
      const parts = [];
      if (hi > 0) parts.push(slice(e, [0, 0, 0], [B, hi, d]));
      parts.push(reshape(u, [B, 1, d]));
      if (hi < F - 1) parts.push(slice(e, [0, hi + 1, 0], [B, F - hi - 1, d]));
      x = concat(parts, 1);
    }
    let x0 = reshape(x, [B, F * d]);
    this.#aux = null;
    if (this.coInteraction) {
      const cats = this.specs.filter((s) => s.type === "categorical");
      const ti = cats.findIndex((s) => s.name === c.itemField);
      const nc = cats.length;
      const targets = Int32Array.from({ length: B }, (_, i) => b.categorical[i * nc + ti]);
      x0 = concat([x0, this.#enrich(et, su, users, targets)], 1);
    }
    if (this.lrLayer) return add(this.lrLayer.forward(b), this.dnn.forward(x0));
    return this.fc!.forward(concat([this.crossnet!.forward(x0), this.dnn.forward(x0)], 1));
  }

  /** The item table `[V, d]` (one block: ML-sized vocabularies). */
  #itemTable(): Tensor<"f32"> {
    const t = this.embeddingLayer.tableOf(this.cfg.itemField);
    if (t.blocks.length !== 1) {
      throw new Error(`wgrec Rar: item table of ${t.rows} rows is split; recall needs one block`);
    }
    return t.blocks[0];
  }

  /** Look-alike pool vectors P_L `[U, d]`: masked means of each user's last M positives. */
  poolVectors(): Tensor<"f32"> {
    const rows = gather(this.#itemTable(), this.#poolIds); // [U, M, d]
    return div(sum(mul(rows, this.#poolMask), 1), this.#poolCount);
  }

  /** Selects the cross-stage sets and runs the co-interaction: r `[B, d]`. */
  #enrich(
    et: Tensor<"f32">,
    su: Tensor<"f32">,
    users: Int32Array,
    targets: Int32Array,
  ): Tensor<"f32"> {
    const c = this.cfg;
    const opts = { method: c.select, planes: this.#planes };
    const sets: Tensor<"f32">[] = [];
    if (c.variant === "u2u" || c.variant === "both") {
      const pool = this.poolVectors();
      const idx = selectTopK(su, pool, c.kUsers, { ...opts, exclude: users });
      sets.push(gather(pool, idx)); // [B, kL, d]
    }
    let recall: { idx: Tensor<"i32">; rows: Tensor<"f32"> } | null = null;
    if (c.variant === "i2i" || c.variant === "both") {
      const items = this.#itemTable();
      const lists = gather(this.#recall, tensor(users, [users.length], "i32")); // [B, N_R]
      const idx = selectFromLists(et, items, lists, c.kItems, {
        ...opts,
        exclude: tensor(targets, [targets.length], "i32"),
      });
      recall = { idx, rows: gather(items, idx) };
      sets.push(recall.rows);
    }
    const r = this.coInteraction!.forward(et, su, sets.length > 1 ? concat(sets, 1) : sets[0]);
    if (recall && this.training && c.auxWeight > 0) {
      // Recall-item supervision: ⟨r, e_i⟩ predicts whether the user clicked recall item i.
      const B = et.shape[0];
      const logits = reshape(matmul(recall.rows, reshape(r, [B, c.embeddingDim, 1])), [
        B * c.kItems,
      ]);
      const labels = auxLabels(this.cross, tensor(users, [B], "i32"), recall.idx);
      this.#aux = scale(bceWithLogits(logits, labels), c.auxWeight);
    }
    return r;
  }

  /** The auxiliary loss of the last training batch plus `(λ/2) Σ ‖embedding tables‖²`. */
  penalty(): Tensor<"f32"> | null {
    const lam = this.cfg.embeddingRegularizer;
    const ps = this.namedParameters().filter(([n]) => n.startsWith("embedding_layer"));
    const reg = lam === 0
      ? null
      : scale(ps.map(([, p]) => sum(square(p))).reduce((a, b) => add(a, b)), lam / 2);
    const aux = this.#aux;
    this.#aux = null;
    return reg && aux ? add(reg, aux) : reg ?? aux;
  }

  /** Frees parameters and the kept cross-stage tensors. */
  override dispose(): void {
    super.dispose();
    for (const t of [this.#planes, this.#poolIds, this.#poolMask, this.#poolCount, this.#recall]) {
      t.dispose();
    }
    this.cross.dispose();
  }
}
