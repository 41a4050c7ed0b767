/**
 * RAT, the retrieval-augmented transformer for CTR (../shared/specs/rat.md §4.2, the official
 * `RAT_m2.py`; variants `RAT_m0` = JM, `RAT_m1` = CE, `RAT_m3` = PA). Each target row comes
 * with its top-K retrieved training rows (retrieval: `retrieve.ts`, batches: `data.ts`).
 *
 * ```
 * E = Emb(X)                        X [(1+K), F] per sample, row 0 the target      [B, T, F, d]
 * Y = LabelEmb(y), y = 2 ([MASK]) for the target, the retrieved row's 0/1 label   [B, T, 1, d]
 * x = Dropout([Y; E])               S = F + 1 tokens per row, T = 1 + K rows       [B, T, S, d]
 * RAT (cascaded), per block:
 *   x = MHA_intra(LN(x)) + x        attention over the S fields of each row
 *   x = MHA_cross(LN(x)) + x        attention over the T rows, per field
 *   x = FFN(x) + x                  FFN = Linear(d, d·s) → GELU → Linear(d·s, d) (no LN)
 * JM: one pre-LN Transformer over all T·S tokens (+ final LN).
 * CE: an intra Transformer per row, its label tokens → a cross Transformer over T rows.
 * PA: per block, out = ½(MHA_intra(LN₁x) + MHA_cross(LN₂x)) with a shared W_q; x = FFN(out) + x.
 * ŷ = fc(x[:, 0, 0]) + DNN(flatten(E[:, 0])) + LR(X[:, 0])     logit of the target (§4.2)
 * L = BCE(ŷ, y) + (λ_emb / 2) Σ_{θ ∈ embedding_layer} ‖θ‖²  (§4.3)
 * ```
 * MHA: `to_qkv` (no bias) to h heads of width dh, scaled by dh^-½, softmax, `to_out` (absent
 * when h = 1 and dh = d). Deviation from the official code (spec §4.2): rows the retrieval
 * left empty (score 0) are masked out as keys of the cross-row attention, where the code
 * attends to the DB's last row (NumPy's index −1). Parameter names follow the official
 * modules (`encoder.encoder.<l>.intra_attention.fn.to_qkv.weight`, …).
 * @module
 */

import { Module } from "../../nn/module.ts";
import { Embedding } from "../../nn/embedding.ts";
import { Linear } from "../../nn/linear.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { DNN, FeatureLinear } from "../../nn/ctr.ts";
import { dropout } from "../../nn/dropout.ts";
import { type CtrBatch, FeatureEmbedding, type FeatureSpec } from "../../nn/features.ts";
import { attention } from "../../ops/attention/attention.ts";
import { add, gelu, scale, square } from "../../ops/core/elementwise.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat, permute, reshape, slice } from "../../ops/core/shape.ts";
import { Rng } from "../../random.ts";
import { type Tensor, tensor } from "../../tensor.ts";
import type { CtrData } from "../../data/ctr.ts";
import type { CtrTensors } from "../../train/ctr.ts";
import { ratInput, type RatRetrieval } from "./data.ts";

/** RAT hyper-parameters (spec §4.3, the ML-Tag column by default). */
export interface RatConfig {
  /** `rat` (cascaded, default), `jm` (joint), `ce` (cross-encoder), `pa` (parallel). */
  variant?: "rat" | "jm" | "ce" | "pa";
  /** d, `embedding_dim`. Default 10. */
  embeddingDim?: number;
  /** Heads h, `num_heads`. Default 2. */
  numHeads?: number;
  /** Head width dh, `dim_head`. Default 10. */
  dimHead?: number;
  /** Blocks, `depth`. Default 4. */
  depth?: number;
  /** FFN width factor, `scale_dim`. Default 4. */
  scaleDim?: number;
  /** Dropout on the token embeddings, `emb_dropout`. Default 0. */
  embDropout?: number;
  /** DNN hidden widths, `dnn_hidden_units`. Default [400, 400, 400]. */
  dnnHidden?: number[];
  /** BatchNorm in the DNN. Default false. */
  batchNorm?: boolean;
  /** DNN dropout, `net_dropout`. Default 0. */
  netDropout?: number;
  /** Add the LR (wide) term, `use_wide`. Default true. */
  useWide?: boolean;
  /** λ_emb, `embedding_regularizer`. Default 0.03. */
  embeddingRegularizer?: number;
  /** Retrieved rows K per sample, `topK`. Default 5. */
  topK?: number;
  /** Initialisation seed. Default 2021. */
  seed?: number;
}

/** Defaults of {@link RatConfig}. */
export const RAT_DEFAULTS: Required<RatConfig> = {
  variant: "rat",
  embeddingDim: 10,
  numHeads: 2,
  dimHead: 10,
  depth: 4,
  scaleDim: 4,
  embDropout: 0,
  dnnHidden: [400, 400, 400],
  batchNorm: false,
  netDropout: 0,
  useWide: true,
  embeddingRegularizer: 0.03,
  topK: 5,
  seed: 2021,
};

/** One batch of RAT inputs: B samples of T = 1 + K rows each, target first. */
export interface RatInput {
  /** B. */
  size: number;
  /** K. */
  k: number;
  /** The B·T rows, sample-major (row `b·T + t`); missing retrievals hold any valid row. */
  rows: CtrBatch;
  /** Label token ids [B·T]: 2 for targets, the retrieved rows' 0/1 labels. */
  labelIds: Int32Array;
  /** Retrieved rows per sample (0 … K), [B]: rows past `1 + lens[b]` are masked. */
  lens: Int32Array;
  /** Target labels [B]. */
  labels: Float32Array;
}

/** `PreNorm(Attention)` of the official code: LN, then multi-head attention. */
export class RatAttention extends Module {
  /** LN (`norm`). */
  readonly norm: LayerNorm;
  /** q, k, v projections `[3·h·dh, d]`, no bias (`fn.to_qkv`); PA keeps only k, v here. */
  readonly toQkv: Linear | null;
  /** PA: the block's shared W_q and own W_k, W_v. */
  readonly pa: { q: Linear; k: Linear; v: Linear } | null;
  /** Output projection (`fn.to_out.0`), null when h = 1 and dh = d. */
  readonly toOut: Linear | null;

  /** Over width `d`; `pa` gives PA's shared/own projections (their `to_qkv` is absent). */
  constructor(
    readonly d: number,
    readonly heads: number,
    readonly dimHead: number,
    seed: number,
    pa: { q: Linear; k: Linear; v: Linear } | null = null,
  ) {
    super();
    const inner = heads * dimHead;
    this.norm = this.child("norm", new LayerNorm(d));
    const fn = this.child("fn", new AttentionParams());
    this.pa = pa;
    this.toQkv = pa ? null : fn.add("to_qkv", new Linear(d, 3 * inner, { bias: false, seed }));
    // PA's projections are registered once, by the block (W_q, W_k_s, …), not here.
    this.toOut = heads === 1 && dimHead === d
      ? null
      : fn.add("to_out.0", new Linear(inner, d, { seed: seed + 1 }));
  }

  /** x `[N, L, d]` → `[N, L, d]`; `keyLengths` [N] masks keys past each length. */
  forward(x: Tensor<"f32">, keyLengths?: readonly number[]): Tensor<"f32"> {
    const [N, L] = x.shape;
    const h = this.norm.forward(x);
    // PA (the official RAT_m3) splits its h·dh projections into h/2 heads of 2·dh.
    const [H, Dh] = this.pa ? [this.heads / 2, 2 * this.dimHead] : [this.heads, this.dimHead];
    let q: Tensor<"f32">, k: Tensor<"f32">, v: Tensor<"f32">;
    if (this.pa) {
      [q, k, v] = [this.pa.q, this.pa.k, this.pa.v].map((l) =>
        reshape(l.forward(h), [N, L, H, Dh])
      );
    } else {
      const qkv = reshape(this.toQkv!.forward(h), [N, L, 3, H, Dh]);
      [q, k, v] = [0, 1, 2].map((i) =>
        reshape(slice(qkv, [0, 0, i, 0, 0], [N, L, 1, H, Dh]), [N, L, H, Dh])
      );
    }
    const o = attention(q, k, v, {
      layout: "blhd",
      scale: this.dimHead ** -0.5,
      keyLengths,
    });
    const y = reshape(o, [N, L, H * Dh]);
    return this.toOut ? this.toOut.forward(y) : y;
  }
}

/** A bare container, so parameter names read `fn.to_qkv.weight` as in the official code. */
class AttentionParams extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.child(name, m);
  }
}

/** `FeedForward`: Linear(d, d·s) → GELU → Linear(d·s, d) (`net.0`, `net.3`). */
export class RatFeedForward extends Module {
  /** First layer. */
  readonly l1: Linear;
  /** Second layer. */
  readonly l2: Linear;
  /** d → hidden → d. */
  constructor(d: number, hidden: number, seed: number) {
    super();
    const net = this.child("net", new AttentionParams());
    this.l1 = net.add("0", new Linear(d, hidden, { seed }));
    this.l2 = net.add("3", new Linear(hidden, d, { seed: seed + 1 }));
  }
  /** x → Linear(GELU(Linear(x))). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return this.l2.forward(gelu(this.l1.forward(x)));
  }
}

/** Pre-LN Transformer of the official JM/CE code: (attn + x, PreNorm FFN + x)ᴸ, final LN. */
export class RatTransformer extends Module {
  /** Attention of each layer (`layers.<l>.0`). */
  readonly attn: RatAttention[] = [];
  /** Pre-LN FFN of each layer (`layers.<l>.1`). */
  readonly ff: { norm: LayerNorm; ff: RatFeedForward }[] = [];
  /** Final LN (`norm`). */
  readonly norm: LayerNorm;
  /** `depth` layers of width d. */
  constructor(
    d: number,
    depth: number,
    heads: number,
    dimHead: number,
    hidden: number,
    seed: number,
  ) {
    super();
    const layers = this.child("layers", new AttentionParams());
    for (let l = 0; l < depth; l++) {
      this.attn.push(layers.add(`${l}.0`, new RatAttention(d, heads, dimHead, seed + 100 * l)));
      const pre = layers.add(`${l}.1`, new AttentionParams());
      const norm = pre.add("norm", new LayerNorm(d));
      const ff = pre.add("fn", new RatFeedForward(d, hidden, seed + 100 * l + 50));
      this.ff.push({ norm, ff });
    }
    this.norm = this.child("norm", new LayerNorm(d));
  }
  /** x `[N, L, d]` → `[N, L, d]`; `keyLengths` masks keys past each length. */
  forward(x: Tensor<"f32">, keyLengths?: readonly number[]): Tensor<"f32"> {
    this.attn.forEach((a, l) => {
      x = add(a.forward(x, keyLengths), x);
      x = add(this.ff[l].ff.forward(this.ff[l].norm.forward(x)), x);
    });
    return this.norm.forward(x);
  }
}

/** One cascaded (RAT) or parallel (PA) block over `[B, T, S, d]` held as `[B·T, S, d]`. */
export class RatBlock extends Module {
  /** Attention over the fields of each row (`intra_attention`). */
  readonly intra: RatAttention;
  /** Attention over the rows, per field (`cross_attention`). */
  readonly cross: RatAttention;
  /** FFN (`mlp`). */
  readonly mlp: RatFeedForward;
  /** A block of the configured variant (PA: shared W_q). */
  constructor(cfg: Required<RatConfig>, seed: number) {
    super();
    const { embeddingDim: d, numHeads: h, dimHead: dh } = cfg;
    let pa: { q: Linear; k: Linear; v: Linear } | null = null;
    let paCross: { q: Linear; k: Linear; v: Linear } | null = null;
    if (cfg.variant === "pa") {
      const inner = h * dh;
      const lin = (name: string, s: number) =>
        this.child(name, new Linear(d, inner, { bias: false, seed: seed + s }));
      const q = lin("W_q", 1);
      pa = { q, k: lin("W_k_s", 2), v: lin("W_v_s", 3) };
      paCross = { q, k: lin("W_k_t", 4), v: lin("W_v_t", 5) };
    }
    // Official registration order: cross_attention, then intra_attention.
    this.cross = this.child("cross_attention", new RatAttention(d, h, dh, seed + 10, paCross));
    this.intra = this.child("intra_attention", new RatAttention(d, h, dh, seed + 20, pa));
    this.mlp = this.child("mlp", new RatFeedForward(d, d * cfg.scaleDim, seed + 30));
  }

  /** x `[B·T, S, d]` → `[B·T, S, d]`; `crossLengths` [B·S] masks missing rows. */
  forward(
    x: Tensor<"f32">,
    B: number,
    T: number,
    crossLengths: number[],
    pa: boolean,
  ): Tensor<"f32"> {
    const [, S, d] = x.shape;
    const toCross = (y: Tensor<"f32">) =>
      reshape(permute(reshape(y, [B, T, S, d]), [0, 2, 1, 3]), [B * S, T, d]);
    const fromCross = (y: Tensor<"f32">) =>
      reshape(permute(reshape(y, [B, S, T, d]), [0, 2, 1, 3]), [B * T, S, d]);
    if (pa) {
      const s = this.intra.forward(x);
      const t = fromCross(this.cross.forward(toCross(x), crossLengths));
      return add(this.mlp.forward(scale(add(s, t), 0.5)), x);
    }
    let y = add(this.intra.forward(x), x);
    y = toCross(y);
    y = add(this.cross.forward(y, crossLengths), y);
    y = add(this.mlp.forward(y), y);
    return fromCross(y);
  }
}

/** RAT and its variants (spec §4.2). */
export class Rat extends Module {
  /** Display name. */
  readonly name: string;
  /** The resolved hyper-parameters. */
  readonly cfg: Required<RatConfig>;
  /** Field embeddings (`embedding_layer`). */
  readonly embeddingLayer: FeatureEmbedding;
  /** Label token table `[3, d]` (`label_embedding_layer`): 0, 1, 2 = [MASK]. */
  readonly labelEmbeddingLayer: Embedding;
  /** RAT / PA blocks (`encoder.encoder.<l>`). */
  readonly blocks: RatBlock[] = [];
  /** JM's joint Transformer (`encoder`), CE's intra and cross Transformers. */
  readonly transformers: RatTransformer[] = [];
  /** DNN on the target's flattened field embeddings (`dnn`). */
  readonly dnn: DNN | null;
  /** Wide term (`lr_layer`), no bias. */
  readonly lrLayer: FeatureLinear | null;
  /** Readout of the target's label token (`fc`). */
  readonly fc: Linear;
  #calls = 0;
  #db: CtrData | null = null;
  #retrieval = new Map<CtrData, RatRetrieval>();

  /** RAT over the fields `specs`. */
  constructor(readonly specs: readonly FeatureSpec[], cfg: RatConfig = {}) {
    super();
    this.cfg = { ...RAT_DEFAULTS, ...cfg };
    const c = this.cfg;
    const v = c.variant;
    if (!["rat", "jm", "ce", "pa"].includes(v)) {
      throw new Error(`wgrec Rat: variant '${v}'; expected rat, jm, ce or pa`);
    }
    if (v === "pa" && c.numHeads % 2 !== 0) {
      throw new Error(`wgrec Rat: PA splits numHeads ${c.numHeads} in two; give an even number`);
    }
    this.name = v === "rat" ? "RAT" : `RAT_${v.toUpperCase()}`;
    const d = c.embeddingDim;
    const seed = c.seed;
    this.embeddingLayer = this.child("embedding_layer", new FeatureEmbedding(specs, d, { seed }));
    const rng = new Rng(seed + 1);
    const lab = new Float32Array(3 * d).map(() => rng.normal());
    this.labelEmbeddingLayer = this.child("label_embedding_layer", new Embedding(3, d, lab));
    const hidden = d * c.scaleDim;
    if (v === "rat" || v === "pa") {
      const enc = this.child("encoder", new AttentionParams()).add(
        "encoder",
        new AttentionParams(),
      );
      for (let l = 0; l < c.depth; l++) {
        this.blocks.push(enc.add(String(l), new RatBlock(c, seed + 1000 * (l + 1))));
      }
    } else {
      const names = v === "jm" ? ["encoder"] : ["intra_transformer", "cross_transformer"];
      names.forEach((n, i) => {
        const t = new RatTransformer(
          d,
          c.depth,
          c.numHeads,
          c.dimHead,
          hidden,
          seed + 7000 * (i + 1),
        );
        this.transformers.push(this.child(n, t));
      });
    }
    const F = specs.length;
    this.dnn = c.dnnHidden.length
      ? this.child(
        "dnn",
        new DNN(F * d, c.dnnHidden, 1, {
          batchNorm: c.batchNorm,
          dropout: c.netDropout,
          seed: seed + 5,
        }),
      )
      : null;
    this.lrLayer = c.useWide
      ? this.child("lr_layer", new FeatureLinear(specs, { seed: seed + 6, useBias: false }))
      : null;
    this.fc = this.child("fc", new Linear(d, 1, { seed: seed + 7 }));
  }

  /** Logits `[B, 1]` of the target rows. */
  forward(inp: RatInput): Tensor<"f32"> {
    const c = this.cfg;
    const d = c.embeddingDim;
    const B = inp.size;
    const T = 1 + inp.k;
    const F = this.specs.length;
    const S = F + 1;
    if (inp.rows.size !== B * T || inp.labelIds.length !== B * T || inp.lens.length !== B) {
      throw new Error(
        `wgrec Rat: ${inp.rows.size} rows, ${inp.labelIds.length} label ids and ` +
          `${inp.lens.length} lengths for B = ${B}, K = ${inp.k}; expected B·(1+K), B·(1+K), B`,
      );
    }
    const e = this.embeddingLayer.forward(inp.rows); // [B·T, F, d]
    const y = this.labelEmbeddingLayer.forward(tensor(inp.labelIds, [B * T], "i32"));
    let x = concat([reshape(y, [B * T, 1, d]), e], 1); // [B·T, S, d], label token first
    if (this.training) x = dropout(x, c.embDropout, c.seed * 31 + this.#calls++);
    const rowsOf = (b: number) => 1 + Math.min(inp.k, inp.lens[b]);
    let read: Tensor<"f32">; // the target's label token [B, d]
    if (c.variant === "rat" || c.variant === "pa") {
      const crossLengths = Array.from({ length: B * S }, (_, i) => rowsOf(Math.floor(i / S)));
      for (const blk of this.blocks) x = blk.forward(x, B, T, crossLengths, c.variant === "pa");
      read = reshape(slice(reshape(x, [B, T * S * d]), [0, 0], [B, d]), [B, d]);
    } else if (c.variant === "jm") {
      // Tokens row-major (t, s): the valid rows are a prefix of (1 + lens)·S tokens.
      const lens = Array.from({ length: B }, (_, b) => rowsOf(b) * S);
      x = this.transformers[0].forward(reshape(x, [B, T * S, d]), lens);
      read = reshape(slice(x, [0, 0, 0], [B, 1, d]), [B, d]);
    } else {
      x = this.transformers[0].forward(x); // per row over its S tokens
      const tokens = reshape(slice(x, [0, 0, 0], [B * T, 1, d]), [B, T, d]);
      const lens = Array.from({ length: B }, (_, b) => rowsOf(b));
      x = this.transformers[1].forward(tokens, lens);
      read = reshape(slice(x, [0, 0, 0], [B, 1, d]), [B, d]);
    }
    let logit = this.fc.forward(read);
    if (this.dnn) {
      const target = slice(reshape(e, [B, T * F * d]), [0, 0], [B, F * d]);
      logit = add(logit, this.dnn.forward(target));
    }
    if (this.lrLayer) {
      const w = reshape(this.lrLayer.forward(inp.rows), [B, T]);
      logit = add(logit, slice(w, [0, 0], [B, 1]));
    }
    return logit;
  }

  /**
   * The retrieval DB (the training table) and the retrieval of each table the model will
   * score (train, valid, test), for {@link logits}.
   */
  useRetrieval(db: CtrData, tables: readonly (readonly [CtrData, RatRetrieval])[]): this {
    this.#db = db;
    this.#retrieval = new Map(tables);
    return this;
  }

  /** Logits `[B]` of rows of a table given to {@link useRetrieval} (the CTR task's batches). */
  logits(t: CtrTensors): Tensor<"f32"> {
    const ret = this.#retrieval.get(t.data);
    if (!ret || !this.#db) {
      throw new Error(
        `wgrec Rat: no retrieval for this table (${t.data.numRows} rows); call useRetrieval ` +
          `with the training table and the retrieval of every table to score`,
      );
    }
    const inp = ratInput(this.specs, t.data, t.rows, ret, this.#db);
    return reshape(this.forward(inp), [t.size]);
  }

  /** `(λ/2) Σ ‖θ‖²` over every parameter whose name contains `embedding_layer` (spec §4.3). */
  penalty(): Tensor<"f32"> | null {
    const lam = this.cfg.embeddingRegularizer;
    if (lam === 0) return null;
    const ps = this.namedParameters().filter(([n]) => n.includes("embedding_layer"));
    return scale(ps.map(([, p]) => sum(square(p))).reduce((a, b) => add(a, b)), lam / 2);
  }
}
