/**
 * Pretraining objectives of the survey (../shared/specs/survey-building-blocks.md §1a), as
 * reusable pieces beside the ones that live elsewhere (MLM masking in `nn/mlm.ts`, residual
 * quantisation in `nn/vq.ts`):
 *
 * - {@link ClipObjective}: CLIP's symmetric InfoNCE with a learnable temperature,
 *   `τ = exp(−logit_scale)`, logit_scale initialised at ln(1/0.07) and clamped at ln 100;
 * - {@link MaskedFeatureModel}: masked feature modelling (MAE-style reconstruction of masked
 *   rows of a feature table or of masked positions of a sequence), a learned mask token and an
 *   MSE or cosine loss over the masked rows only;
 * - {@link semanticIds}: residual-quantiser codes made unique per item by a last collision
 *   level (TIGER's recipe), the item "semantic IDs" of generative retrieval.
 * @module
 */

import { exp, maximum, neg, square, sub } from "../ops/core/elementwise.ts";
import { mean } from "../ops/core/reduce.ts";
import { where } from "../ops/core/where.ts";
import { infoNce } from "../ops/losses/infonce.ts";
import { cosineLoss } from "../ops/losses/similarity.ts";
import { gather } from "../ops/sparse/gather.ts";
import type { Rng } from "../random.ts";
import { full, type Tensor, tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** CLIP's contrastive objective over paired rows with a learned temperature. */
export class ClipObjective extends Module {
  /** log(1/τ) (CLIP's `logit_scale`), a one-element parameter. */
  readonly logitScale: Tensor<"f32">;

  /** Starts at τ = `temperature` (CLIP: 0.07). */
  constructor(temperature = 0.07) {
    super();
    if (!(temperature > 0)) {
      throw new Error(`wgrec ClipObjective: temperature ${temperature}, expected > 0`);
    }
    this.logitScale = this.param("logit_scale", tensor([Math.log(1 / temperature)], [1]));
  }

  /** Symmetric InfoNCE of a [B, d] against b [B, d] (row i pairs with row i), cosine logits. */
  forward(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
    // τ = exp(−min(s, ln 100)) ≥ 0.01, as CLIP clamps the scale.
    const tau = exp(maximum(neg(this.logitScale), full([1], -Math.log(100))));
    return infoNce(a, b, { temperature: tau, symmetric: true, normalize: true });
  }
}

/** Options of {@link MaskedFeatureModel}. */
export interface MaskedFeatureOptions {
  /** Share of rows masked per call. Default 0.15. */
  rate?: number;
  /** "mse" (MAE) or "cosine" (1 − cos) between reconstruction and target. Default "mse". */
  loss?: "mse" | "cosine";
}

/**
 * Masked feature modelling: {@link mask} replaces a random share of the rows of x [N, d] by a
 * learned mask token; an encoder then reconstructs them and {@link loss} scores the
 * reconstruction on the masked rows only.
 */
export class MaskedFeatureModel extends Module {
  /** The mask token [d] (`mask_token`), zero at start. */
  readonly maskToken: Tensor<"f32">;
  readonly #rate: number;
  readonly #loss: "mse" | "cosine";

  /** For rows of width `dim`. */
  constructor(readonly dim: number, opts: MaskedFeatureOptions = {}) {
    super();
    this.#rate = opts.rate ?? 0.15;
    if (!(this.#rate > 0 && this.#rate < 1)) {
      throw new Error(`wgrec MaskedFeatureModel: rate ${this.#rate}, expected in (0, 1)`);
    }
    this.#loss = opts.loss ?? "mse";
    this.maskToken = this.param("mask_token", full([dim], 0));
  }

  /** Picks ⌈rate·n⌉ distinct rows of n (at least one), ascending. */
  pick(n: number, rng: Rng): Int32Array {
    const k = Math.max(1, Math.ceil(this.#rate * n));
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rng.uniform() * (n - i));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return Int32Array.from(idx.slice(0, k)).sort();
  }

  /** x [N, d] with the rows in `rows` replaced by the mask token. */
  mask(x: Tensor<"f32">, rows: Int32Array): Tensor<"f32"> {
    if (x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new Error(`wgrec MaskedFeatureModel: input [${x.shape}], expected [N, ${this.dim}]`);
    }
    const flags = new Float32Array(x.shape[0]);
    for (const r of rows) {
      if (!(r >= 0 && r < flags.length)) {
        throw new Error(`wgrec MaskedFeatureModel: row ${r} of ${flags.length}`);
      }
      flags[r] = 1;
    }
    const m = tensor(flags, [x.shape[0], 1]);
    return where(m, this.maskToken, x);
  }

  /** Reconstruction loss of `pred` against `target` (both [N, d]) on `rows`. */
  loss(pred: Tensor<"f32">, target: Tensor<"f32">, rows: Int32Array): Tensor<"f32"> {
    const idx = tensor(rows, [rows.length], "i32");
    const p = gather(pred, idx);
    const t = gather(target, idx);
    if (this.#loss === "cosine") return cosineLoss(p, t);
    return mean(square(sub(p, t)));
  }
}

/**
 * Semantic IDs from residual-quantiser codes [N, L] (row-major): items whose L codes collide
 * get a last level 0, 1, 2, … in row order, so every item's id tuple [N, L + 1] is unique.
 */
export function semanticIds(codes: Int32Array, levels: number): Int32Array {
  if (!Number.isInteger(levels) || levels < 1 || codes.length % levels !== 0) {
    throw new Error(
      `wgrec semanticIds: ${codes.length} codes for ${levels} levels, expected a multiple`,
    );
  }
  const n = codes.length / levels;
  const out = new Int32Array(n * (levels + 1));
  const seen = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const row = codes.subarray(i * levels, (i + 1) * levels);
    const key = row.join(",");
    const c = seen.get(key) ?? 0;
    seen.set(key, c + 1);
    out.set(row, i * (levels + 1));
    out[i * (levels + 1) + levels] = c;
  }
  return out;
}
