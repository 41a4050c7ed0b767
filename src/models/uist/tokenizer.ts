/**
 * UIST's semantic tokenizer (Liu et al., WWW 2024, "Discrete Semantic Tokenization for Deep
 * CTR Prediction"; ../shared/specs/uist.md §5.1 Stage A/B, cited as "spec §…"). One class serves
 * both sides:
 *
 * - **item tokenizer** (Stage A): an item's content tokens (title words, genres) → a learned
 *   token table → additive attention pooling → e;
 * - **user tokenizer** (Stage B): a user's click history → the *exported* item embeddings
 *   (a frozen table) → the same pooling → e.
 *
 * Then residual quantisation and a decoder (spec §5.1):
 * ```
 * h_1 … h_L = Emb[x_1 … x_L]                      input sequence                    [L, d]
 * e = Σ_j softmax_j(wᵀ tanh(W h_j + b)) h_j       AdditiveAttention                 [d]
 * r_1 = e;  c_l = argmin_j ‖r_l − C_l[j]‖;  q_l = C_l[c_l];  r_{l+1} = r_l − q_l
 * s = Σ_l q_l                                     state fed to the decoder
 * L = gen·CE(Dec(s), x) + quant·Σ_l [β·MSE(sg(q_l), r_l) + MSE(q_l, sg(r_l))] + recon·mean‖e − s‖²
 * ```
 * No straight-through estimator by default (the official code, spec §5.1): `q_l =
 * onehot(c_l)·C_l`, so the decoder's gradient reaches the codebooks and the encoder learns only
 * through the commitment and reconstruction terms; `straightThrough: true` is the standard
 * RQ-VAE variant (a documented deviation).
 *
 * Deviation (stated): the decoder is a linear bag-of-words head `Dec(s) = W_dec s + b` whose CE
 * is averaged over the sequence's tokens, not a BART decoder (spec §5.3 allows skipping the
 * transformer; the library has no seq2seq decoder). Dead-code reset is on when `deadAfter` > 0
 * (the official threshold counts usage; here a code unused for `deadAfter` steps is reset to a
 * random current embedding). k-means init is off, as in the final official code.
 * @module
 */

import { Embedding } from "../../nn/embedding.ts";
import { AdditiveAttentionPooling } from "../../nn/attention.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { type QuantizeResult, ResidualQuantizer } from "../../nn/vq.ts";
import { add, scale, square, sub } from "../../ops/core/elementwise.ts";
import { mean, sum } from "../../ops/core/reduce.ts";
import { reshape } from "../../ops/core/shape.ts";
import { logSoftmax } from "../../ops/core/softmax.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { indexTensor } from "../../ops/index_check.ts";
import type { Tensor } from "../../tensor.ts";
import { Rng } from "../../random.ts";
import { writeNpy } from "../../io/npy.ts";

/** Options of {@link SemanticTokenizer}. */
export interface TokenizerConfig {
  /** Input vocabulary V (text tokens for items, items for users). */
  vocabSize: number;
  /** Width d. Default 64. */
  dim?: number;
  /** Hidden width of the additive attention. Default 256 (spec), use less for small d. */
  attnHidden?: number;
  /** RQ depth L. Default 3. */
  depth?: number;
  /** Total codes over all levels (split evenly: `numCodes/depth` per level). Default 192. */
  numCodes?: number;
  /** Commitment cost β. Default 0.25. */
  beta?: number;
  /** Straight-through RQ (false: the official no-STE variant). Default false. */
  straightThrough?: boolean;
  /** Loss weights gen / quant / recon. Default 1 each (official). */
  genWeight?: number;
  /** Weight of Σ_l quantisation losses. */
  quantWeight?: number;
  /** Weight of mean ‖e − s‖². */
  reconWeight?: number;
  /** Reset codes unused for this many steps (0 = never). Default 0. */
  deadAfter?: number;
  /** Fixed input table [V, d] (the user tokenizer's exported item embeddings), else learned. */
  inputTable?: Float32Array;
  /** Seed. Default 0. */
  seed?: number;
}

/** A batch of padded sequences: ids [B, L] (padding ignored), lengths per row. */
export interface TokenBatch {
  /** Ids, row-major [B, L]. */
  ids: Int32Array;
  /** Valid length of each row (≥ 1). */
  lengths: number[];
  /** Padded length L. */
  maxLen: number;
}

/** Loss and outputs of one tokenizer pass. */
export interface TokenizerOutput {
  /** The weighted total. */
  loss: Tensor<"f32">;
  /** Unweighted parts: gen (CE), quant (Σ_l codebook + β·commitment), recon. */
  parts: { gen: Tensor<"f32">; quant: Tensor<"f32">; recon: Tensor<"f32"> };
  /** e [B, d]. */
  embedding: Tensor<"f32">;
  /** RQ output (codes [B, L], counts, …). */
  rq: QuantizeResult;
}

/** Encoder → additive attention pooling → residual quantiser → bag-of-words decoder. */
export class SemanticTokenizer extends Module {
  /** Resolved settings. */
  readonly cfg: Required<Omit<TokenizerConfig, "inputTable">>;
  /** Input token table [V, d] (`embedding`; frozen when given). */
  readonly embedding: Embedding;
  /** Additive attention pooling (`pool`). */
  readonly pool: AdditiveAttentionPooling;
  /** Residual quantiser (`rq`), `depth` levels of `numCodes/depth` codes. */
  readonly rq: ResidualQuantizer;
  /** Bag-of-words decoder d → V (`decoder`). */
  readonly decoder: Linear;

  /** A tokenizer; see {@link TokenizerConfig}. */
  constructor(cfg: TokenizerConfig) {
    super();
    const c = this.cfg = {
      dim: 64,
      attnHidden: 256,
      depth: 3,
      numCodes: 192,
      beta: 0.25,
      straightThrough: false,
      genWeight: 1,
      quantWeight: 1,
      reconWeight: 1,
      deadAfter: 0,
      seed: 0,
      ...cfg,
    };
    if (c.numCodes % c.depth !== 0 || c.numCodes < c.depth) {
      throw new Error(
        `wgrec SemanticTokenizer: numCodes ${c.numCodes} must split evenly over depth ${c.depth}`,
      );
    }
    const d = c.dim;
    let init = cfg.inputTable;
    if (init && init.length !== c.vocabSize * d) {
      throw new Error(
        `wgrec SemanticTokenizer: inputTable has ${init.length} values, expected ` +
          `[${c.vocabSize}, ${d}]`,
      );
    }
    if (!init) {
      const rng = new Rng(c.seed);
      init = Float32Array.from({ length: c.vocabSize * d }, () => 0.1 * rng.normal());
    }
    this.embedding = this.child("embedding", new Embedding(c.vocabSize, d, init));
    if (cfg.inputTable) this.embedding.weight.requiresGrad = false;
    this.pool = this.child("pool", new AdditiveAttentionPooling(d, c.attnHidden, c.seed + 1));
    this.rq = this.child(
      "rq",
      new ResidualQuantizer({
        levels: c.depth,
        numCodes: c.numCodes / c.depth,
        dim: d,
        beta: c.beta,
        straightThrough: c.straightThrough,
        deadAfter: c.deadAfter,
        initBound: 1 / Math.sqrt(d),
        seed: c.seed + 2,
      }),
    );
    this.decoder = this.child("decoder", new Linear(d, c.vocabSize, { seed: c.seed + 3 }));
  }

  /** Trainable parameters (a frozen input table is left out). */
  override parameters(): Tensor<"f32">[] {
    return super.parameters().filter((p) => p.requiresGrad);
  }

  /** e [B, d] of a batch (embedding → additive attention pooling over the valid positions). */
  encode(b: TokenBatch): Tensor<"f32"> {
    const n = b.lengths.length;
    if (b.ids.length !== n * b.maxLen || b.lengths.some((l) => l < 1 || l > b.maxLen)) {
      throw new Error(
        `wgrec SemanticTokenizer: ${b.ids.length} ids for ${n} rows of length ${b.maxLen}; ` +
          `every row needs 1 … ${b.maxLen} valid ids (a user or item with no tokens has nothing ` +
          `to encode)`,
      );
    }
    const ids = indexTensor(b.ids, this.cfg.vocabSize, [n * b.maxLen]);
    const h = reshape(this.embedding.forward(ids), [n, b.maxLen, this.cfg.dim]);
    return this.pool.forward(h, b.lengths);
  }

  /** The loss of a batch (spec §5.1 `worker.py`), in training mode also dead-code resets. */
  forward(b: TokenBatch): TokenizerOutput {
    const c = this.cfg;
    const e = this.encode(b);
    const rq = this.rq.forward(e);
    const s = rq.quantized; // Σ_l q_l (no-STE) or e + sg(Σq − e) (STE)
    // gen: CE of every valid input token under the bag-of-words decoder of s.
    const logp = reshape(logSoftmax(this.decoder.forward(s)), [-1, 1]);
    const flat: number[] = [];
    b.lengths.forEach((len, r) => {
      for (let j = 0; j < len; j++) flat.push(r * c.vocabSize + b.ids[r * b.maxLen + j]);
    });
    const gen = scale(mean(gather(logp, indexTensor(flat, b.lengths.length * c.vocabSize))), -1);
    const recon = scale(sum(square(sub(e, s))), 1 / b.lengths.length); // mean_b ‖e − s‖²
    const loss = add(
      add(scale(gen, c.genWeight), scale(rq.loss, c.quantWeight)),
      scale(recon, c.reconWeight),
    );
    return { loss, parts: { gen, quant: rq.loss, recon }, embedding: e, rq };
  }

  /** Codes [B, depth] of a batch (nearest codes, nothing updated). */
  codes(b: TokenBatch): Tensor<"i32"> {
    return this.rq.assign(this.encode(b));
  }

  /** The codebook of each level, [codes per level, d]. */
  codebooks(): Tensor<"f32">[] {
    return this.rq.levels.map((l) => l.codebook);
  }
}

/** Pads sequences into a {@link TokenBatch} (empty sequences refused). */
export function tokenBatch(seqs: readonly ArrayLike<number>[], maxLen?: number): TokenBatch {
  const L = maxLen ?? Math.max(1, ...seqs.map((s) => s.length));
  const ids = new Int32Array(seqs.length * L);
  const lengths = seqs.map((s, r) => {
    if (s.length === 0) {
      throw new Error(
        `wgrec tokenBatch: sequence ${r} is empty; a user or item needs at least one token`,
      );
    }
    const n = Math.min(L, s.length);
    // Keep the most recent L (histories are in time order).
    for (let j = 0; j < n; j++) ids[r * L + j] = s[s.length - n + j];
    return n;
  });
  return { ids, lengths, maxLen: L };
}

/** `.npy` files of an export: codes [N, depth] int32 and codebooks [depth, K, d] float32. */
export function exportNpy(
  codes: Int32Array,
  depth: number,
  codebooks: Float32Array,
  codesPerLevel: number,
): { codes: Uint8Array; codebooks: Uint8Array } {
  if (codes.length % depth !== 0 || codebooks.length % (depth * codesPerLevel) !== 0) {
    throw new Error(
      `wgrec exportNpy: ${codes.length} codes / ${codebooks.length} codebook values do not ` +
        `fit depth ${depth} × ${codesPerLevel} codes`,
    );
  }
  const d = codebooks.length / (depth * codesPerLevel);
  return {
    codes: writeNpy({ shape: [codes.length / depth, depth], data: codes }),
    codebooks: writeNpy({ shape: [depth, codesPerLevel, d], data: codebooks }),
  };
}
