/**
 * SparCode (Su et al., SIGIR 2023, "Beyond Two-Tower Matching: Learning Sparse Retrievable
 * Cross-Interactions for Recommendation"; ../shared/specs/sparcode.md, cited as "spec §…").
 * The official code was never released (spec header), so this follows the architecture of the
 * paper's Figure 2 (spec §6.1), with the losses the spec marks unverified stated here.
 *
 * Forward, for a user u and an item i (spec §6.1 steps 1–4):
 * ```
 * e_u = E_user[u]                          user input (a user-ID embedding here)      [d]
 * t_1 … t_K = split(Tok(e_u))              tokenizer: MLP d → 2d → K·d, K = K_u tokens
 * q_k = PQ(t_k)                            M sub-vectors, each the nearest of N codes of its
 *                                          shared codebook; straight-through estimator
 * s_k = E(q_k, v_i) + b                    all-to-all encoder E (shared over tokens), v_i = E_item[i]
 * y(u, i) = Σ_k ReLU(s_k)                  ReLU & sum: sparse, non-negative contributions
 * ```
 * Loss on (u, p, n) triples: `L = BPR(y(u,p), y(u,n)) + λ_vq · L_pq + λ_sp · mean(y(u,p), y(u,n))`,
 * L_pq the VQ-VAE codebook + β·commitment loss of the quantizer, the last term an L1 on the
 * (non-negative) ReLU contributions: the spec's "sparsity-control term" (§6.1 "Losses", all
 * unverified in the paper). With it the bias can start positive (every unit alive, so BPR has a
 * gradient everywhere) and the entries that do not help ranking are driven to exact zeros, which
 * the index then drops; with b = 0 and no such term one ml-100k seed of three lost every unit.
 *
 * Inference (spec §6.1 step 5): every code id c ∈ [0, N^M) has a fixed vector q_c, so
 * `T[c, i] = ReLU(E(q_c, v_i) + b)` is precomputed; the non-zero entries form the inverted
 * index (./index.ts) and a user's score row is the sum of the posting lists of its K code ids.
 * @module
 */

import { Embedding } from "../../nn/embedding.ts";
import { xavierUniform } from "../../nn/init.ts";
import { MLP } from "../../nn/linear.ts";
import { ProductQuantizer } from "../../nn/vq.ts";
import { add, relu, scale } from "../../ops/core/elementwise.ts";
import { mean, sum } from "../../ops/core/reduce.ts";
import { broadcastTo, concat, reshape, transpose } from "../../ops/core/shape.ts";
import { bprLoss } from "../../ops/losses/ranking.ts";
import { Rng } from "../../random.ts";
import { type Tensor, tensor } from "../../tensor.ts";
import { type LossOutput, Recommender, type TripletTensors } from "../../train/fit.ts";
import { type Backbone, PairScorer } from "./scorer.ts";
import {
  allCodes,
  assertIndexFits,
  buildIndex,
  codeCounts,
  codeIds,
  type CodeSpace,
  denseScores,
  type InvertedIndex,
  serveScores,
} from "./index.ts";

/** SparCode hyper-parameters (the paper's values are not retrievable here: spec §6.1). */
export interface SparCodeConfig {
  /** Width d of users, items, tokens and codes. Default 32. */
  embeddingSize?: number;
  /** Tokens per user K_u. Default 4. */
  tokens?: number;
  /** PQ sub-spaces M (d must divide evenly). Default 2. */
  subspaces?: number;
  /** Codes per sub-space N (shared by all tokens). Default 16, so 256 code ids. */
  codes?: number;
  /** Interaction encoder backbone: "dnn" or "sa". Default "dnn". */
  backbone?: Backbone;
  /** Hidden widths of the DNN encoder. Default [64, 32]. */
  hidden?: number[];
  /** Attention heads of the SA backbone. Default 2. */
  heads?: number;
  /** Commitment weight β of the quantizer. Default 0.25. */
  beta?: number;
  /** Weight λ_vq of the quantizer loss. Default 1. */
  vqWeight?: number;
  /**
   * Initial bias b. Default 1: every ReLU unit starts alive. With b = 0 and no sparsity term
   * one of three ml-100k seeds collapsed (every ReLU(E(q, v) + b) at 0, so BPR had no gradient).
   */
  biasInit?: number;
  /** Weight λ_sp of the L1 sparsity term on the batch's ReLU contributions. Default 0.1. */
  sparsity?: number;
  /** Index threshold: keep T[c, i] > threshold. Default 0 (every non-zero entry). */
  threshold?: number;
  /** Initialisation seed. Default 999. */
  seed?: number;
}

/** Defaults of {@link SparCodeConfig}. */
export const SPARCODE_DEFAULTS: Required<SparCodeConfig> = {
  embeddingSize: 32,
  tokens: 4,
  subspaces: 2,
  codes: 16,
  backbone: "dnn",
  hidden: [64, 32],
  heads: 2,
  beta: 0.25,
  vqWeight: 1,
  biasInit: 1,
  sparsity: 0.1,
  threshold: 0,
  seed: 999,
};

/** SparCode over user and item IDs, trained on triples, served from an inverted index. */
export class SparCode extends Recommender {
  /** Display name. */
  readonly name: string = "SparCode";
  /** Resolved hyper-parameters. */
  readonly cfg: Required<SparCodeConfig>;
  /** Users U. */
  readonly numUsers: number;
  /** Items I. */
  readonly numItems: number;
  /** E_user [U, d] (`user_embedding`). */
  readonly userEmbedding: Embedding;
  /** E_item [I, d] (`item_embedding`). */
  readonly itemEmbedding: Embedding;
  /** Tok: d → 2d → K·d (`tokenizer`). */
  readonly tokenizer: MLP;
  /** Product quantizer, codebook [M, N, d/M] shared by all tokens (`quantizer`). */
  readonly quantizer: ProductQuantizer;
  /** E (`scorer`). */
  readonly scorer: PairScorer;
  /** b [1] (`bias`). */
  readonly bias: Tensor<"f32">;

  /** A model for `numUsers` × `numItems`. */
  constructor(numUsers: number, numItems: number, cfg: SparCodeConfig = {}) {
    super();
    const c = this.cfg = { ...SPARCODE_DEFAULTS, ...cfg };
    this.numUsers = numUsers;
    this.numItems = numItems;
    const d = c.embeddingSize;
    const rng = new Rng(c.seed);
    this.userEmbedding = this.child(
      "user_embedding",
      new Embedding(numUsers, d, xavierUniform(numUsers, d, rng)),
    );
    this.itemEmbedding = this.child(
      "item_embedding",
      new Embedding(numItems, d, xavierUniform(numItems, d, rng)),
    );
    const seed = rng.u32() % 100000;
    this.tokenizer = this.child("tokenizer", new MLP([d, 2 * d, c.tokens * d], "relu", seed));
    this.quantizer = this.child(
      "quantizer",
      new ProductQuantizer({
        numCodes: c.codes,
        dim: d,
        subspaces: c.subspaces,
        beta: c.beta,
        initBound: 1 / Math.sqrt(d),
        seed: seed + 3,
      }),
    );
    this.scorer = this.child(
      "scorer",
      new PairScorer({
        dim: d,
        backbone: c.backbone,
        hidden: c.hidden,
        heads: c.heads,
        seed: seed + 5,
      }),
    );
    this.bias = this.param("bias", tensor([c.biasInit], [1]));
  }

  /** The code space of the quantizer (M sub-spaces × N codes). */
  get space(): CodeSpace {
    return { codesPerSpace: this.cfg.codes, subspaces: this.cfg.subspaces };
  }

  /** Continuous tokens of users [n] → [n·K, d] (token k of user b in row b·K + k). */
  tokens(users: Tensor<"i32">): Tensor<"f32"> {
    const d = this.cfg.embeddingSize;
    const t = this.tokenizer.forward(this.userEmbedding.forward(users));
    return reshape(t, [users.size * this.cfg.tokens, d]);
  }

  /** y = Σ_k ReLU(E(q_k, v) + b) for quantised tokens q [B·K, d] and items [B] → [B]. */
  #score(q: Tensor<"f32">, items: Tensor<"i32">): Tensor<"f32"> {
    const { tokens: k, embeddingSize: d } = this.cfg;
    const b = items.size;
    const v = reshape(this.itemEmbedding.forward(items), [b, 1, d]);
    const vk = reshape(broadcastTo(v, [b, k, d]), [b * k, d]); // v repeated per token
    const s = relu(add(this.scorer.forward(q, vk), this.bias)); // ReLU(E(q_k, v) + b)
    return sum(reshape(s, [b, k]), 1); // Σ_k
  }

  /** BPR on quantised scores plus the quantizer loss (see the module header). */
  loss(b: TripletTensors): LossOutput {
    const pq = this.quantizer.forward(this.tokens(b.users)); // q_k = PQ(t_k), STE
    const yp = this.#score(pq.quantized, b.pos);
    const yn = this.#score(pq.quantized, b.neg);
    const bpr = bprLoss(yp, yn);
    const loss = add(bpr, scale(pq.loss, this.cfg.vqWeight));
    if (this.cfg.sparsity === 0) return { loss, parts: { bpr, pq: pq.loss } };
    // y ≥ 0 is the sum of the ReLU contributions, so mean(y) is their L1 per pair.
    const l1 = scale(add(mean(yp), mean(yn)), 0.5);
    return {
      loss: add(loss, scale(l1, this.cfg.sparsity)),
      parts: { bpr, pq: pq.loss, l1 },
    };
  }

  /** y(u, i) of aligned users and items [B] from the nearest codes (no quantizer update). */
  scorePairs(users: Tensor<"i32">, items: Tensor<"i32">): Tensor<"f32"> {
    const q = this.quantizer.lookup(this.quantizer.assign(this.tokens(users)));
    return this.#score(q, items);
  }

  /** Code ids [n, K] of users [n] (nearest codes, no update). */
  userCodeIds(users: Tensor<"i32">): Tensor<"i32"> {
    const codes = this.quantizer.assign(this.tokens(users)); // [n·K, M]
    return reshape(codeIds(codes, this.space), [users.size, this.cfg.tokens]);
  }

  /** Rows c0 … c0+n−1 of the table T[c, i] = ReLU(E(q_c, v_i) + b) → [n, I]. */
  codeTable(c0: number, n: number): Tensor<"f32"> {
    const m = this.cfg.subspaces;
    const codes = tensor(allCodes(this.space).subarray(c0 * m, (c0 + n) * m), [n, m], "i32");
    const q = this.quantizer.lookup(codes);
    return relu(add(this.scorer.table(q, this.itemEmbedding.weight), this.bias));
  }

  /** Code ids per chunk of the table (bounded by the scorer's per-pair memory). */
  tableChunk(): number {
    const per = this.numItems * this.scorer.pairWidth;
    return Math.max(1, Math.floor(2 ** 23 / per));
  }

  /** The full table T [N^M, I] (one tensor; fine for small catalogues). */
  fullTable(): Tensor<"f32"> {
    const nc = this.cfg.codes ** this.cfg.subspaces;
    const step = this.tableChunk();
    const parts: Tensor<"f32">[] = [];
    for (let c0 = 0; c0 < nc; c0 += step) parts.push(this.codeTable(c0, Math.min(step, nc - c0)));
    return parts.length === 1 ? parts[0] : concat(parts, 0);
  }

  /** Builds the inverted index of the current weights on the GPU. */
  buildIndex(opts: { threshold?: number; chunk?: number } = {}): Promise<InvertedIndex> {
    return buildIndex((c0, n) => this.codeTable(c0, n), this.space, this.numItems, {
      threshold: opts.threshold ?? this.cfg.threshold,
      chunk: opts.chunk ?? this.tableChunk(),
    });
  }

  /** Serving: item scores [n, I] of users [n] from `index` (built for this model). */
  serve(index: InvertedIndex, users: Tensor<"i32">): Tensor<"f32"> {
    assertIndexFits(index, this.space, this.numItems);
    return serveScores(index, this.userCodeIds(users));
  }

  /** Brute force: the same quantised model's scores [n, I] from its dense table. */
  bruteForce(table: Tensor<"f32">, users: Tensor<"i32">): Tensor<"f32"> {
    return denseScores(table, this.userCodeIds(users));
  }

  /** Full-ranking scores [n, I] of the quantised model (dense table; see {@link serve}). */
  override scoreUsers(users: Tensor<"i32">): Tensor<"f32"> {
    return this.bruteForce(this.fullTable(), users);
  }

  /**
   * Dot-product form of the quantised model, for full-ranking evaluation: users are code
   * counts [U, N^M], items the table's columns Tᵀ [I, N^M], so `users · itemsᵀ = Σ_k T[c_k]`.
   */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    const all = tensor(Int32Array.from({ length: this.numUsers }, (_, u) => u), undefined, "i32");
    return {
      users: codeCounts(this.userCodeIds(all), this.space),
      items: transpose(this.fullTable()),
    };
  }
}
