/**
 * Attention layers on the fused attention op (`src/ops/attention.ts`): multi-head attention
 * with projections, the Transformer encoder layer (post-LN and pre-LN), additive attention
 * pooling (NAML/NRMS) and DIN-style target attention. Parameter names and layouts follow
 * PyTorch (`torch.nn.MultiheadAttention`, `torch.nn.TransformerEncoderLayer`), so PyTorch
 * state dicts load by name.
 * @module
 */

import { attention } from "../ops/attention/attention.ts";
import { add, mul, sigmoid, sub, tanh } from "../ops/core/elementwise.ts";
import { LayerNorm } from "./norm.ts";
import { dropout, Seeds } from "./dropout.ts";
import { matmul } from "../ops/matmul/matmul.ts";
import { sum } from "../ops/core/reduce.ts";
import { broadcastTo, concat, reshape, slice } from "../ops/core/shape.ts";
import { fmt, randUniform, type Tensor, tensor, zeros } from "../tensor.ts";
import { activate, type Activation, Linear } from "./linear.ts";
import { Module } from "./module.ts";

/** Masking and extras of one attention call (see `AttentionOptions` of the op). */
export interface AttentionCallOptions {
  /** Valid keys per batch entry, [B] (padding after them is ignored). */
  keyLengths?: Tensor<"i32"> | readonly number[];
  /** Query i sees keys j ≤ i (prefix keys always). */
  causal?: boolean;
  /** Additive score bias broadcastable to [B, H, Lq, Lk]. */
  bias?: Tensor<"f32">;
  /** Prefix key/value tokens (prompt tuning) per head: [P, H, Dh] or [B, P, H, Dh]. */
  prefixKey?: Tensor<"f32">;
  /** Prefix values; see `prefixKey`. */
  prefixValue?: Tensor<"f32">;
}

function fail(layer: string, what: string): never {
  throw new Error(`wgrec ${layer}: ${what}`);
}

/** x·Wᵀ + b for x [B, L, in] and W [out, in]. */
function project(x: Tensor<"f32">, w: Tensor<"f32">, b: Tensor<"f32"> | null): Tensor<"f32"> {
  const y = matmul(x, w, { transB: true });
  return b ? add(y, b) : y;
}

/**
 * Multi-head attention with input and output projections, as `torch.nn.MultiheadAttention`
 * with `batch_first=True`: inputs [B, L, E], parameters `in_proj_weight` [3E, E] and
 * `in_proj_bias` [3E] (or `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when the key or
 * value width differs from E), `out_proj.weight`, `out_proj.bias`. Heads are split by a
 * reshape (layout "blhd"), so no permute is needed.
 */
export class MultiHeadAttention extends Module {
  /** embedDim / numHeads. */
  readonly headDim: number;
  /** Packed q, k, v projections [3E, E] (when key and value widths are E). */
  readonly inProjWeight: Tensor<"f32"> | null = null;
  /** Separate projections [E, E], [E, kdim], [E, vdim] (other key/value widths). */
  readonly qProjWeight: Tensor<"f32"> | null = null;
  /** See {@link qProjWeight}. */
  readonly kProjWeight: Tensor<"f32"> | null = null;
  /** See {@link qProjWeight}. */
  readonly vProjWeight: Tensor<"f32"> | null = null;
  /** q, k, v projection biases [3E] (null without biases). */
  readonly inProjBias: Tensor<"f32"> | null;
  /** Output projection. */
  readonly outProj: Linear;
  /** Dropout rate of the attention probabilities (training mode). */
  readonly dropout: number;
  /** Widths of the query, key and value inputs. */
  readonly inputDims: readonly [number, number, number];
  /**
   * Updates added to the q, k and v projections (LoRA branches, see `nn/adapt.ts`); each
   * returns null when it has nothing to add.
   */
  readonly deltas: ({ forward(x: Tensor<"f32">): Tensor<"f32"> | null } | null)[] = [
    null,
    null,
    null,
  ];
  #seeds: Seeds;

  /**
   * PyTorch's init: Xavier-uniform projections, zero biases. `dropout` applies to the
   * attention probabilities in training mode.
   */
  constructor(readonly embedDim: number, readonly numHeads: number, opts: {
    kdim?: number;
    vdim?: number;
    bias?: boolean;
    dropout?: number;
    seed?: number;
  } = {}) {
    super();
    if (!Number.isInteger(embedDim / numHeads) || numHeads < 1) {
      fail("MultiHeadAttention", `embedDim ${embedDim} is not divisible by numHeads ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    const seed = opts.seed ?? 0;
    const kdim = opts.kdim ?? embedDim;
    const vdim = opts.vdim ?? embedDim;
    this.inputDims = [embedDim, kdim, vdim];
    const xavier = (o: number, i: number, s: number) => {
      const a = Math.sqrt(6 / (o + i));
      return randUniform([o, i], s, -a, a);
    };
    if (kdim === embedDim && vdim === embedDim) {
      this.inProjWeight = this.param("in_proj_weight", xavier(3 * embedDim, embedDim, seed));
    } else {
      this.qProjWeight = this.param("q_proj_weight", xavier(embedDim, embedDim, seed));
      this.kProjWeight = this.param("k_proj_weight", xavier(embedDim, kdim, seed + 1));
      this.vProjWeight = this.param("v_proj_weight", xavier(embedDim, vdim, seed + 2));
    }
    this.inProjBias = opts.bias === false
      ? null
      : this.param("in_proj_bias", zeros([3 * embedDim]));
    this.outProj = this.child(
      "out_proj",
      new Linear(embedDim, embedDim, { bias: opts.bias !== false, seed: seed + 3 }),
    );
    if (this.outProj.bias) {
      const z = zeros([embedDim]);
      this.setParameter("out_proj.bias", z);
      z.dispose();
    }
    this.dropout = opts.dropout ?? 0;
    this.#seeds = new Seeds(seed);
  }

  /** Rows [from, from + E) of the packed input projection (weight and bias). */
  #part(i: number): [Tensor<"f32">, Tensor<"f32"> | null] {
    const E = this.embedDim;
    const w = [this.qProjWeight, this.kProjWeight, this.vProjWeight][i] ??
      slice(this.inProjWeight!, [i * E, 0], [E, E]);
    const b = this.inProjBias ? slice(this.inProjBias, [i * E], [E]) : null;
    return [w, b];
  }

  /**
   * Attention of `query` [B, Lq, E] over `key` [B, Lk, kdim] / `value` [B, Lk, vdim]
   * (self-attention when key and value are omitted) → [B, Lq, E].
   */
  forward(
    query: Tensor<"f32">,
    key?: Tensor<"f32">,
    value?: Tensor<"f32">,
    opts: AttentionCallOptions = {},
  ): Tensor<"f32"> {
    const E = this.embedDim;
    const H = this.numHeads;
    const Dh = this.headDim;
    if (query.rank !== 3 || query.shape[2] !== E) {
      fail("MultiHeadAttention", `query ${fmt(query.shape)}, expected [B, L, ${E}]`);
    }
    const [B, Lq] = query.shape;
    let q: Tensor<"f32">, k: Tensor<"f32">, v: Tensor<"f32">;
    if (
      (key === undefined || key === query) && (value === undefined || value === query) &&
      this.inProjWeight
    ) {
      // Self-attention: one projection to [B, L, 3, H, Dh], then the three slices.
      let qkv = matmul(query, this.inProjWeight, { transB: true });
      if (this.inProjBias) qkv = add(qkv, this.inProjBias);
      const r = reshape(qkv, [B, Lq, 3, H, Dh]);
      [q, k, v] = [0, 1, 2].map((i) =>
        reshape(slice(r, [0, 0, i, 0, 0], [B, Lq, 1, H, Dh]), [B, Lq, H, Dh])
      );
    } else {
      const kk = key ?? query;
      const vv = value ?? kk;
      if (kk.rank !== 3 || vv.rank !== 3 || kk.shape[0] !== B || vv.shape[0] !== B) {
        fail(
          "MultiHeadAttention",
          `key ${fmt(kk.shape)} / value ${fmt(vv.shape)} do not fit query ${fmt(query.shape)}`,
        );
      }
      const heads = (x: Tensor<"f32">, i: number) => {
        const [w, b] = this.#part(i);
        return reshape(project(x, w, b), [x.shape[0], x.shape[1], H, Dh]);
      };
      [q, k, v] = [heads(query, 0), heads(kk, 1), heads(vv, 2)];
    }
    const inputs = [query, key ?? query, value ?? key ?? query];
    [q, k, v] = [q, k, v].map((t, i) => {
      const d = this.deltas[i]?.forward(inputs[i]);
      return d ? add(t, reshape(d, t.shape)) : t;
    });
    const o = attention(q, k, v, {
      layout: "blhd",
      keyLengths: opts.keyLengths,
      causal: opts.causal,
      bias: opts.bias,
      prefixKey: opts.prefixKey,
      prefixValue: opts.prefixValue,
      dropout: this.training ? this.dropout : 0,
      seed: this.#seeds.next(),
    });
    return this.outProj.forward(reshape(o, [B, Lq, E]));
  }
}

/** Options of {@link TransformerEncoderLayer}. */
export interface TransformerEncoderLayerOptions {
  /** Hidden width of the feed-forward block (PyTorch's default 2048). */
  dimFeedforward?: number;
  /** Dropout (training mode) on attention probabilities, after attention and in the FFN. */
  dropout?: number;
  /** FFN activation. */
  activation?: Extract<Activation, "relu" | "gelu">;
  /** Pre-LN (`norm_first=True`) instead of post-LN. */
  normFirst?: boolean;
  /** ε of both layer norms. */
  layerNormEps?: number;
  /** Seed of the initial weights and of the dropout masks. */
  seed?: number;
}

/**
 * `torch.nn.TransformerEncoderLayer` with `batch_first=True`: self-attention and a two-layer
 * feed-forward block, each with a residual connection and layer norm, after (post-LN, the
 * default) or before (pre-LN) the block. Parameters: `self_attn.*`, `linear1.*`, `linear2.*`,
 * `norm1.*`, `norm2.*`.
 */
export class TransformerEncoderLayer extends Module {
  /** Self-attention block. */
  readonly selfAttn: MultiHeadAttention;
  /** Feed-forward input layer (dModel → dimFeedforward). */
  readonly linear1: Linear;
  /** Feed-forward output layer (dimFeedforward → dModel). */
  readonly linear2: Linear;
  /** Norm of the attention block. */
  readonly norm1: Module & { forward(x: Tensor<"f32">): Tensor<"f32"> };
  /** Norm of the feed-forward block. */
  readonly norm2: Module & { forward(x: Tensor<"f32">): Tensor<"f32"> };
  /** Dropout rate (training mode). */
  readonly dropout: number;
  /** Feed-forward activation. */
  readonly activation: "relu" | "gelu";
  /** Pre-LN when true, post-LN otherwise. */
  readonly normFirst: boolean;
  /** Adapter on the attention block's output, before its residual (Houlsby), or null. */
  adapterAttn: Module & { forward(x: Tensor<"f32">): Tensor<"f32"> } | null = null;
  /** Adapter on the feed-forward block's output, before its residual, or null. */
  adapterFfn: Module & { forward(x: Tensor<"f32">): Tensor<"f32"> } | null = null;
  #seeds: Seeds;

  /** A layer of width dModel with nHead heads; PyTorch's initialisation. */
  constructor(dModel: number, nHead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const seed = opts.seed ?? 0;
    const ff = opts.dimFeedforward ?? 2048;
    const eps = opts.layerNormEps ?? 1e-5;
    this.dropout = opts.dropout ?? 0.1;
    this.activation = opts.activation ?? "relu";
    this.normFirst = opts.normFirst ?? false;
    this.selfAttn = this.child(
      "self_attn",
      new MultiHeadAttention(dModel, nHead, { dropout: this.dropout, seed }),
    );
    this.linear1 = this.child("linear1", new Linear(dModel, ff, { seed: seed + 11 }));
    this.linear2 = this.child("linear2", new Linear(ff, dModel, { seed: seed + 13 }));
    this.norm1 = this.child("norm1", new LayerNorm(dModel, eps));
    this.norm2 = this.child("norm2", new LayerNorm(dModel, eps));
    this.#seeds = new Seeds(seed + 17);
  }

  #drop(x: Tensor<"f32">): Tensor<"f32"> {
    return this.training ? dropout(x, this.dropout, this.#seeds.next()) : x;
  }

  #sa(x: Tensor<"f32">, opts: AttentionCallOptions): Tensor<"f32"> {
    const h = this.#drop(this.selfAttn.forward(x, x, x, opts));
    return this.adapterAttn ? this.adapterAttn.forward(h) : h;
  }

  #ff(x: Tensor<"f32">): Tensor<"f32"> {
    const h = this.#drop(activate(this.linear1.forward(x), this.activation));
    const y = this.#drop(this.linear2.forward(h));
    return this.adapterFfn ? this.adapterFfn.forward(y) : y;
  }

  /** x [B, L, dModel] → [B, L, dModel]; `keyLengths` masks padded positions as keys. */
  forward(x: Tensor<"f32">, opts: AttentionCallOptions = {}): Tensor<"f32"> {
    if (this.normFirst) {
      const h = add(x, this.#sa(this.norm1.forward(x), opts));
      return add(h, this.#ff(this.norm2.forward(h)));
    }
    const h = this.norm1.forward(add(x, this.#sa(x, opts)));
    return this.norm2.forward(add(h, this.#ff(h)));
  }
}

/** Host mask [B, L, 1]: 1 for positions below each length, else 0. */
function lengthMask(lengths: readonly number[], L: number, layer: string): Tensor<"f32"> {
  const m = new Float32Array(lengths.length * L);
  lengths.forEach((n, b) => {
    if (!Number.isInteger(n) || n < 0 || n > L) {
      fail(layer, `length ${n} of batch entry ${b}, expected an integer in [0, ${L}]`);
    }
    m.fill(1, b * L, b * L + n);
  });
  return tensor(m, [lengths.length, L, 1]);
}

/**
 * Additive attention pooling (NAML, NRMS): a_i = qᵀ tanh(W h_i + b), α = softmax over the
 * valid positions, out = Σ α_i h_i. Input [B, L, E] → [B, E]. Runs as one fused attention
 * call with a single learned query (scale 1); a sequence of length 0 pools to 0.
 */
export class AdditiveAttentionPooling extends Module {
  /** h ↦ W h + b, [E] → [hidden]. */
  readonly proj: Linear;
  /** The learned query q [hidden]. */
  readonly query: Tensor<"f32">;

  /** Pooling of `dim`-wide vectors through a `hidden`-wide scoring layer. */
  constructor(readonly dim: number, readonly hidden: number, seed = 0) {
    super();
    this.proj = this.child("proj", new Linear(dim, hidden, { seed }));
    const a = 1 / Math.sqrt(hidden);
    this.query = this.param("query", randUniform([hidden], seed + 1, -a, a));
  }

  /** h [B, L, E] (positions past `lengths[b]` are padding) → [B, E]. */
  forward(h: Tensor<"f32">, lengths?: Tensor<"i32"> | readonly number[]): Tensor<"f32"> {
    if (h.rank !== 3 || h.shape[2] !== this.dim) {
      fail("AdditiveAttentionPooling", `input ${fmt(h.shape)}, expected [B, L, ${this.dim}]`);
    }
    const [B, L, E] = h.shape;
    const keys = reshape(tanh(this.proj.forward(h)), [B, L, 1, this.hidden]);
    const q = broadcastTo(reshape(this.query, [1, 1, 1, this.hidden]), [B, 1, 1, this.hidden]);
    const out = attention(q, keys, reshape(h, [B, L, 1, E]), {
      layout: "blhd",
      scale: 1,
      keyLengths: lengths,
    });
    return reshape(out, [B, E]);
  }
}

/**
 * DIN-style target attention (Zhou et al. 2018): each behaviour h_i is weighted by an MLP
 * "activation unit" of [h_i, t, h_i − t, h_i ⊙ t] with the target t, and the user vector is
 * Σ_i w_i h_i over the valid behaviours. As in DIN the weights are not normalised (keeping the
 * intensity of interest), unless `softmax` is set: then α = softmax(w) over the valid
 * behaviours, pooled by the fused attention kernel (the weights enter as its additive bias).
 */
export class TargetAttention extends Module {
  /** The activation unit's MLP layers (4·dim → … → 1). */
  readonly layers: Linear[];

  /**
   * Target attention over `dim`-wide behaviours with an activation unit of `hidden` widths
   * (DIN's 80, 40 by default; sigmoid between layers unless `activation` says otherwise).
   */
  constructor(
    readonly dim: number,
    hidden: readonly number[] = [80, 40],
    readonly opts: { activation?: Activation; softmax?: boolean; seed?: number } = {},
  ) {
    super();
    const sizes = [4 * dim, ...hidden, 1];
    const seed = opts.seed ?? 0;
    this.layers = sizes.slice(1).map((n, i) =>
      this.child(String(i), new Linear(sizes[i], n, { seed: seed + 7 * i }))
    );
  }

  /** Unnormalised weights [B, L, 1] of behaviours h [B, L, E] for targets t [B, E]. */
  weights(h: Tensor<"f32">, t: Tensor<"f32">): Tensor<"f32"> {
    const [B, L, E] = h.shape;
    const tt = broadcastTo(reshape(t, [B, 1, E]), [B, L, E]);
    let x = concat([h, tt, sub(h, tt), mul(h, tt)], 2);
    const act = this.opts.activation ?? "sigmoid";
    this.layers.forEach((l, i) => {
      x = l.forward(x);
      if (i < this.layers.length - 1) x = act === "sigmoid" ? sigmoid(x) : activate(x, act);
    });
    return x;
  }

  /** Behaviours h [B, L, E] with `lengths` valid each, targets t [B, E] → [B, E]. */
  forward(h: Tensor<"f32">, t: Tensor<"f32">, lengths: readonly number[]): Tensor<"f32"> {
    if (
      h.rank !== 3 || h.shape[2] !== this.dim || t.rank !== 2 || t.shape[0] !== h.shape[0] ||
      t.shape[1] !== this.dim
    ) {
      fail(
        "TargetAttention",
        `behaviours ${fmt(h.shape)} / target ${fmt(t.shape)}, expected [B, L, ${this.dim}] / ` +
          `[B, ${this.dim}]`,
      );
    }
    const [B, L, E] = h.shape;
    const w = this.weights(h, t);
    if (this.opts.softmax) {
      // softmax(0·0 + w)·h: a one-dimensional zero query and keys carry nothing but the bias.
      const z = (n: number) => zeros([B, n, 1, 1]);
      const out = attention(z(1), z(L), reshape(h, [B, L, 1, E]), {
        layout: "blhd",
        bias: reshape(w, [B, 1, 1, L]),
        keyLengths: lengths,
      });
      return reshape(out, [B, E]);
    }
    return sum(mul(mul(w, lengthMask(lengths, L, "TargetAttention")), h), 1);
  }
}
