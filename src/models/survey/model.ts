/**
 * TextRec: the retrieval model of the survey's adaptation comparison
 * (../shared/specs/survey-building-blocks.md §2, issue 20 item 3). One pretrained text encoder
 * (OLEO's L3H4E64 {@link TextEncoder}, MLM on the item text), adapted by one of the four
 * strategies ({@link adaptEncoder}), is the item tower; users are free embeddings:
 *
 *   t_i = pool(Enc_θ(text_i))            [CLS] state of the adapted encoder    (E)
 *   v_i = W · dropout(t_i) + b           trainable projection E → d
 *   s(u, i) = e_uᵀ v_i                   e_u ∈ ℝ^d, a user embedding
 *   L = −mean log σ(s(u, p) − s(u, n)) + λ (‖e_u‖ + ‖v_p‖ + ‖v_n‖) / B    (BPR, MMRec's EmbLoss)
 *
 * With `frozen`, θ never changes, so t_i is computed once and cached ({@link FrozenFeatures});
 * the other strategies run the encoder on the batch's distinct items each step, through the
 * strategy's additions (adapters, LoRA branches, per-layer prefixes).
 *
 * Full fine-tuning may scale the learning rate per layer (the survey's per-layer multipliers,
 * issue 20; layer-wise decay ξ as in BEiT/ELECTRA fine-tuning): with N encoder layers, layer i
 * (from 0) trains at lr·ξ^(N−i), the embeddings at lr·ξ^(N+1), the new head and the user
 * embeddings at lr. {@link TextRec.paramGroups} gives these groups to the training loop.
 * @module
 */

import { add, scale } from "../../ops/core/elementwise.ts";
import { concat } from "../../ops/core/shape.ts";
import { bprLoss } from "../../ops/losses/ranking.ts";
import { frobenius, rowDot } from "../../ops/losses/similarity.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { xavierUniform } from "../../nn/init.ts";
import { Linear } from "../../nn/linear.ts";
import { dropout, Seeds } from "../../nn/dropout.ts";
import { FrozenFeatures, type ParamGroup } from "../../nn/adapt.ts";
import {
  adaptEncoder,
  type AdaptEncoderOptions,
  type AdaptStrategy,
  type EncoderAdaptation,
} from "../../nn/adapt_strategy.ts";
import { Rng } from "../../random.ts";
import { type Tensor, tensor } from "../../tensor.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";
import type { TextEncoder } from "../oleo/text_encoder.ts";
import type { TokenRows } from "../oleo/tokenizer.ts";

/** TextRec settings. */
export interface TextRecConfig extends AdaptEncoderOptions {
  /** Adaptation strategy. Default "lora". */
  adapt?: AdaptStrategy;
  /** Width d of user and item vectors. Default 64. */
  dim?: number;
  /** Dropout on the pooled text vector before the projection. Default 0.1. */
  dropout?: number;
  /** λ of the embedding L2 term. Default 1e-4. */
  regWeight?: number;
  /**
   * finetune only: layer-wise learning-rate decay ξ ∈ (0, 1]; layer i of N trains at
   * lr·ξ^(N−i), the embeddings at lr·ξ^(N+1). Default 1 (one rate everywhere).
   */
  layerDecay?: number;
}

/** Defaults of {@link TextRecConfig}. */
export const TEXTREC_DEFAULTS = {
  adapt: "lora" as AdaptStrategy,
  dim: 64,
  dropout: 0.1,
  regWeight: 1e-4,
  layerDecay: 1,
  bottleneck: 16,
  prefixTokens: 8,
  rank: 8,
  alpha: 16,
};

/** Encoder text tower + user embeddings, BPR; the encoder adapted by one strategy. */
export class TextRec extends Recommender {
  /** Display name. */
  readonly name = "TextRec";
  /** The pretrained encoder (`encoder.*`, adapted in place). */
  readonly encoder: TextEncoder;
  /** What the strategy did. */
  readonly adaptation: EncoderAdaptation;
  /** User embeddings [U, d] (`user_embedding`). */
  readonly userEmb: Tensor<"f32">;
  /** E → d on live encoder output (every strategy but frozen), else null. */
  readonly proj: Linear | null;
  /** frozen: the cached [CLS] vectors through the projection, else null. */
  readonly frozen: FrozenFeatures | null;
  readonly #tokens: TokenRows;
  readonly #numItems: number;
  readonly #dropout: number;
  readonly #reg: number;
  readonly #layerDecay: number;
  #seeds: Seeds;

  /**
   * A model over `numUsers` users and the items whose token rows are `tokens` (row i = item i),
   * around a pretrained `encoder` (owned from now on; adapted in place).
   */
  constructor(
    numUsers: number,
    tokens: TokenRows,
    encoder: TextEncoder,
    cfg: TextRecConfig = {},
  ) {
    super();
    const c = { ...TEXTREC_DEFAULTS, ...cfg };
    const seed = c.seed ?? 0;
    const ni = this.#numItems = tokens.lengths.length;
    if (tokens.L > encoder.maxLength) {
      throw new Error(
        `wgrec TextRec: token rows of ${tokens.L}, longer than the encoder's ${encoder.maxLength}`,
      );
    }
    this.#tokens = tokens;
    this.#dropout = c.dropout;
    this.#reg = c.regWeight;
    if (!(c.layerDecay > 0 && c.layerDecay <= 1)) {
      throw new Error(`wgrec TextRec: layerDecay ${c.layerDecay}; expected a number in (0, 1]`);
    }
    if (c.layerDecay !== 1 && c.adapt !== "finetune") {
      throw new Error(
        `wgrec TextRec: layerDecay ${c.layerDecay} scales fine-tuned encoder layers; ` +
          `expected adapt=finetune (got adapt=${c.adapt}) or layerDecay 1`,
      );
    }
    this.#layerDecay = c.layerDecay;
    this.#seeds = new Seeds(seed + 3);
    this.encoder = this.child("encoder", encoder);
    // The MLM head is pretraining-only: frozen in every strategy, so counts stay honest.
    this.adaptation = adaptEncoder(encoder, c.adapt, { ...c, unused: ["cls.**"] });
    const E = encoder.hidden;
    const d = c.dim;
    const rng = new Rng(seed);
    this.userEmb = this.param(
      "user_embedding",
      tensor(xavierUniform(numUsers, d, rng), [numUsers, d]),
    );
    if (this.adaptation.encoderTrains) {
      this.proj = this.child("item_proj", new Linear(E, d, { seed: seed + 1 }));
      this.frozen = null;
    } else {
      // Representation transfer: encode every item once, train only the projection.
      // (FrozenFeatures owns the cached vectors and frees them with the model.)
      const t = encoder.encodeAll(tokens);
      this.frozen = this.child("item_proj", new FrozenFeatures(t, [E, d], "none", c.dropout, seed));
      this.proj = null;
    }
    if (ni === 0) throw new Error("wgrec TextRec: no items");
  }

  /**
   * The optimizer's parameter groups (read by the training loop): with layer decay ξ < 1,
   * `encoder.layers.i.*` at ξ^(N−i) and the rest of the encoder at ξ^(N+1); everything else
   * (user embeddings, projection) at the base rate. Empty when ξ = 1.
   */
  paramGroups(): ParamGroup[] {
    const xi = this.#layerDecay;
    if (xi === 1) return [];
    const N = this.encoder.layers.length;
    return [
      ...this.encoder.layers.map((_, i) => ({
        match: `encoder.layers.${i}.**`,
        lrScale: xi ** (N - i),
      })),
      { match: "encoder.**", lrScale: xi ** (N + 1) },
    ];
  }

  /** t_i = pool(Enc(text_i)) for items `rows` (host indices), through the adaptation. */
  encodeItems(rows: ArrayLike<number>): Tensor<"f32"> {
    const { L } = this.#tokens;
    const n = rows.length;
    const ids = new Int32Array(n * L);
    const lengths = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const r = rows[k];
      ids.set(this.#tokens.ids.subarray(r * L, (r + 1) * L), k * L);
      lengths[k] = this.#tokens.lengths[r];
    }
    const keyLengths = tensor(lengths, [n], "i32");
    let h = this.encoder.embed(tensor(ids, [n, L], "i32"));
    this.encoder.layers.forEach((layer, i) => {
      h = layer.forward(h, { keyLengths, ...this.adaptation.layerOptions(i) });
    });
    return this.encoder.pool(h);
  }

  /** v_i for items `rows` (host indices) in the current mode. */
  #itemVectors(rows: Int32Array): Tensor<"f32"> {
    if (this.frozen) return this.frozen.forward(tensor(rows, [rows.length], "i32"));
    let t = this.encodeItems(rows);
    if (this.training) t = dropout(t, this.#dropout, this.#seeds.next());
    return this.proj!.forward(t);
  }

  /** BPR over the batch; the encoder runs once on the batch's distinct items. */
  loss(b: TripletTensors): LossOutput {
    const { pos, neg } = b.host;
    const local = new Int32Array(this.#numItems).fill(-1);
    const distinct: number[] = [];
    const at = (i: number) =>
      local[i] >= 0 ? local[i] : (distinct.push(i), local[i] = distinct.length - 1);
    const p = Int32Array.from(pos, at);
    const n = Int32Array.from(neg, at);
    const items = this.#itemVectors(Int32Array.from(distinct));
    const u = gather(this.userEmb, b.users);
    const vp = gather(items, tensor(p, [p.length], "i32"));
    const vn = gather(items, tensor(n, [n.length], "i32"));
    const bpr = bprLoss(rowDot(u, vp), rowDot(u, vn));
    const norms = add(add(frobenius(u), frobenius(vp)), frobenius(vn));
    const reg = scale(norms, this.#reg / b.size);
    return { loss: add(bpr, reg), parts: { bpr, reg } };
  }

  /** User embeddings and every item's vector (evaluation mode, 256 items at a time). */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const was = this.training;
    this.eval();
    try {
      const parts: Tensor<"f32">[] = [];
      if (this.frozen) parts.push(this.frozen.forward());
      else {
        for (let lo = 0; lo < this.#numItems; lo += 256) {
          const hi = Math.min(this.#numItems, lo + 256);
          parts.push(this.#itemVectors(Int32Array.from({ length: hi - lo }, (_, k) => lo + k)));
        }
      }
      const items = parts.length === 1 ? parts[0] : concat(parts, 0);
      return { users: scale(this.userEmb, 1), items };
    } finally {
      this.train(was);
    }
  }
}
