/**
 * Masked-language modelling (BERT, Devlin et al. 2019), reusable by any text encoder:
 * {@link maskTokens} picks 15% of the real tokens of each row and replaces 80% of them by
 * `[MASK]`, 10% by a random word and leaves 10% unchanged (all three are predicted), and
 * {@link MlmHead} scores the picked positions against the vocabulary through the encoder's
 * word-embedding table (tied weights, BERT's `cls.predictions`: dense → GELU → LayerNorm →
 * decoder + bias), with the cross-entropy as its loss.
 * @module
 */

import { gather } from "../ops/sparse/gather.ts";
import { neg } from "../ops/core/elementwise.ts";
import { mean } from "../ops/core/reduce.ts";
import { reshape } from "../ops/core/shape.ts";
import { logSoftmax } from "../ops/core/softmax.ts";
import { linear } from "../ops/matmul/matmul.ts";
import type { Rng } from "../random.ts";
import { fmt, type Tensor, tensor, zeros } from "../tensor.ts";
import { Linear } from "./linear.ts";
import { Module } from "./module.ts";
import { LayerNorm } from "./norm.ts";

/** Options of {@link maskTokens}; the defaults are BERT's. */
export interface MaskOptions {
  /** Vocabulary size (random replacements are drawn from [firstWord, vocabSize)). */
  vocabSize: number;
  /** Id of `[MASK]`. */
  maskId: number;
  /** Ids below this are special (padding, `[CLS]`, …): never picked, never drawn. Default 0. */
  firstWord?: number;
  /** Share of a row's real tokens picked for prediction. Default 0.15. */
  prob?: number;
  /** Of the picked, the share replaced by `[MASK]`. Default 0.8. */
  maskShare?: number;
  /** Of the picked, the share replaced by a random word. Default 0.1 (the rest stay). */
  randomShare?: number;
  /** Pick at least one token of every row that has a word (short titles). Default true. */
  atLeastOne?: boolean;
}

/** The masked batch. */
export interface MaskedBatch {
  /** Input ids with the replacements, same layout as the given ids. */
  inputs: Int32Array;
  /** Flat positions (row · L + column) of the picked tokens, ascending. */
  positions: Int32Array;
  /** The original id at each picked position (the prediction target). */
  targets: Int32Array;
}

/**
 * Masks `ids` (row-major [rows, L]; ids below `firstWord` are special and never picked).
 * Every real token is picked independently with probability `prob` (BERT's Bernoulli
 * masking); a picked token becomes `[MASK]` with probability `maskShare`, a random word with
 * probability `randomShare`, else stays.
 */
export function maskTokens(
  ids: Int32Array,
  L: number,
  rng: Rng,
  opts: MaskOptions,
): MaskedBatch {
  const first = opts.firstWord ?? 0;
  const prob = opts.prob ?? 0.15;
  const maskShare = opts.maskShare ?? 0.8;
  const randomShare = opts.randomShare ?? 0.1;
  if (!(L >= 1) || ids.length % L !== 0) {
    throw new Error(`wgrec maskTokens: ${ids.length} ids are not rows of length L = ${L}`);
  }
  if (
    !(prob > 0 && prob <= 1) || !(maskShare >= 0 && randomShare >= 0) ||
    maskShare + randomShare > 1
  ) {
    throw new Error(
      `wgrec maskTokens: prob ${prob}, maskShare ${maskShare}, randomShare ${randomShare}; ` +
        `expected 0 < prob ≤ 1 and maskShare + randomShare ≤ 1`,
    );
  }
  if (!(opts.vocabSize > first) || opts.maskId < 0 || opts.maskId >= opts.vocabSize) {
    throw new Error(
      `wgrec maskTokens: vocabSize ${opts.vocabSize}, maskId ${opts.maskId}, firstWord ${first}`,
    );
  }
  const inputs = ids.slice();
  const positions: number[] = [];
  const rows = ids.length / L;
  for (let r = 0; r < rows; r++) {
    const picked: number[] = [];
    const words: number[] = [];
    for (let c = 0; c < L; c++) {
      const p = r * L + c;
      const id = ids[p];
      if (id < 0 || id >= opts.vocabSize) {
        throw new Error(
          `wgrec maskTokens: id ${id} at row ${r}, column ${c} is outside the vocabulary of ` +
            `${opts.vocabSize}`,
        );
      }
      if (id < first) continue;
      words.push(p);
      if (rng.uniform() < prob) picked.push(p);
    }
    if (picked.length === 0 && words.length > 0 && (opts.atLeastOne ?? true)) {
      picked.push(words[rng.int(words.length)]);
    }
    for (const p of picked) {
      const u = rng.uniform();
      if (u < maskShare) inputs[p] = opts.maskId;
      else if (u < maskShare + randomShare) {
        inputs[p] = first + rng.int(opts.vocabSize - first);
      }
      positions.push(p);
    }
  }
  const pos = Int32Array.from(positions);
  return { inputs, positions: pos, targets: pos.map((p) => ids[p]) };
}

/**
 * BERT's MLM head over hidden states [B, L, E]: h ↦ LayerNorm(GELU(h Wᵀ + b)) scored against
 * the word-embedding table (tied) plus a bias. Parameters `transform.dense.*`,
 * `transform.LayerNorm.*`, `bias` (BERT's `cls.predictions` names).
 */
export class MlmHead extends Module {
  /** The dense transform. */
  readonly dense: Linear;
  /** Its layer norm. */
  readonly norm: LayerNorm;
  /** Output bias, [V]. */
  readonly bias: Tensor<"f32">;

  /** A head for width `dim` over a vocabulary of `vocabSize`. */
  constructor(readonly dim: number, readonly vocabSize: number, seed = 0, eps = 1e-12) {
    super();
    const transform = this.child("transform", new MlmTransform(dim, seed, eps));
    this.dense = transform.dense;
    this.norm = transform.norm;
    this.bias = this.param("bias", zeros([vocabSize]));
  }

  /** Vocabulary logits [M, V] of hidden rows `h` [M, E], with the word table `words` [V, E]. */
  logits(h: Tensor<"f32">, words: Tensor<"f32">): Tensor<"f32"> {
    if (words.rank !== 2 || words.shape[0] !== this.vocabSize || words.shape[1] !== this.dim) {
      throw new Error(
        `wgrec MlmHead: word table ${fmt(words.shape)}, expected [${this.vocabSize}, ${this.dim}]`,
      );
    }
    const t = this.norm.forward(this.dense.forward(h, "gelu"));
    return linear(t, words, this.bias);
  }

  /**
   * Mean cross-entropy of the picked positions: `hidden` [B, L, E], `positions` and `targets`
   * from {@link maskTokens}. Returns the loss and the logits [M, V] (for accuracy).
   */
  loss(
    hidden: Tensor<"f32">,
    words: Tensor<"f32">,
    batch: Pick<MaskedBatch, "positions" | "targets">,
  ): { loss: Tensor<"f32">; logits: Tensor<"f32"> } {
    if (hidden.rank !== 3 || hidden.shape[2] !== this.dim) {
      throw new Error(`wgrec MlmHead: hidden ${fmt(hidden.shape)}, expected [B, L, ${this.dim}]`);
    }
    const [B, L] = hidden.shape;
    const M = batch.positions.length;
    if (M === 0) throw new Error("wgrec MlmHead: no masked position in the batch");
    batch.positions.forEach((p, i) => {
      if (p < 0 || p >= B * L) {
        throw new Error(`wgrec MlmHead: position ${p} (entry ${i}) outside [0, ${B * L})`);
      }
    });
    const rows = gather(reshape(hidden, [B * L, this.dim]), tensor(batch.positions, [M], "i32"));
    const logits = this.logits(rows, words);
    const V = this.vocabSize;
    const flat = Int32Array.from(batch.targets, (t, i) => i * V + t);
    const picked = gather(reshape(logSoftmax(logits, 1), [M * V, 1]), tensor(flat, [M], "i32"));
    return { loss: neg(mean(picked)), logits };
  }
}

/** dense + LayerNorm (BERT's `transform`). */
class MlmTransform extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  constructor(dim: number, seed: number, eps: number) {
    super();
    this.dense = this.child("dense", new Linear(dim, dim, { seed }));
    this.norm = this.child("LayerNorm", new LayerNorm(dim, eps));
  }
}
