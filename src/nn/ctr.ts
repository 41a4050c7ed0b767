/**
 * CTR building blocks on the feature layer (`features.ts`): the wide (LR) term, the FM
 * interaction, DCN-v2's cross network (stacked or parallel to the DNN), and the DNN with
 * optional BatchNorm and dropout. DIN's target attention is `TargetAttention` in
 * `attention.ts`.
 * ```
 * LR:     y = b + Σ_f w_f[x_f]  (numeric: Σ x_f · w_f)
 * FM:     y = ½ Σ_k ((Σ_f e_fk)² − Σ_f e_fk²)
 * Cross:  x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l
 * DNN:    h_{l+1} = dropout(act(BN(W_l h_l + b_l)))
 * ```
 * @module
 */

import { Module } from "./module.ts";
import { add, div, mul, scale, sqrt, square, sub } from "../ops/core/elementwise.ts";
import { dropout } from "./dropout.ts";
import { mean, sum } from "../ops/core/reduce.ts";
import { fused, fx } from "../ops/core/fused.ts";
import { reshape } from "../ops/core/shape.ts";
import { noGrad } from "../autograd/tape.ts";
import { full, keep, ones, runtime, type Tensor, zeros } from "../tensor.ts";
import { activate, type Activation, Linear } from "./linear.ts";
import { type CtrBatch, FeatureEmbedding, type FeatureEmbeddingOptions } from "./features.ts";
import type { FeatureSpec } from "./features.ts";

/**
 * The wide term: a 1-wide embedding per field summed, plus a bias (FuxiCTR's `LR_Layer`):
 * `[B, 1]`. Parameters `embedding_layer.<field>.weight`, `bias`.
 */
export class FeatureLinear extends Module {
  /** The 1-wide field tables. */
  readonly embedding: FeatureEmbedding;
  /** b, or null (`useBias: false`, as RAT's wide part). */
  readonly bias: Tensor<"f32"> | null;

  /** A wide term over `specs`. */
  constructor(
    specs: readonly FeatureSpec[],
    opts: FeatureEmbeddingOptions & { useBias?: boolean } = {},
  ) {
    super();
    this.embedding = this.child("embedding_layer", new FeatureEmbedding(specs, 1, opts));
    this.bias = opts.useBias === false ? null : this.param("bias", zeros([1]));
  }

  /** Σ_f w_f[x_f] (+ b), `[B, 1]`. */
  forward(b: CtrBatch): Tensor<"f32"> {
    const y = reshape(sum(this.embedding.forward(b), 1), [b.size, 1]);
    return this.bias ? add(y, this.bias) : y;
  }
}

/** FM's second-order term of field embeddings E `[B, F, d]` → `[B, 1]`. */
export function fmInteraction(e: Tensor<"f32">): Tensor<"f32"> {
  const s = sum(e, 1); // Σ_f e_f  [B, d]
  const q = sum(square(e), 1); // Σ_f e_f²  [B, d]
  return scale(sum(sub(square(s), q), 1, true), 0.5);
}

const CROSS = fx.add(fx.mul(fx.input(0), fx.input(1)), fx.input(2)); // x0 ⊙ h + x

/** DCN-v2's cross network (full-rank): `x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l`. */
export class CrossNetV2 extends Module {
  /** W_l, b_l (`cross_layers.<l>`). */
  readonly layers: Linear[];

  /** `numLayers` cross layers of width `dim`. */
  constructor(readonly dim: number, numLayers: number, seed = 0) {
    super();
    this.layers = Array.from(
      { length: numLayers },
      (_, l) => this.child(`cross_layers.${l}`, new Linear(dim, dim, { seed: seed + 31 * l })),
    );
  }

  /** x_0 `[B, D]` → x_L `[B, D]`. */
  forward(x0: Tensor<"f32">): Tensor<"f32"> {
    let x = x0;
    for (const l of this.layers) x = fused(CROSS, [x0, l.forward(x), x]);
    return x;
  }
}

/**
 * BatchNorm over the batch axis of `[B, n]` (PyTorch's `BatchNorm1d`: `weight`, `bias`;
 * running statistics with momentum 0.1, used in evaluation mode).
 */
export class BatchNorm1d extends Module {
  /** γ. */
  readonly weight: Tensor<"f32">;
  /** β. */
  readonly bias: Tensor<"f32">;
  /** Running mean (not trained). */
  readonly runningMean: Tensor<"f32">;
  /** Running (unbiased) variance (not trained). */
  readonly runningVar: Tensor<"f32">;

  /** Over `n` features. */
  constructor(readonly n: number, readonly eps = 1e-5, readonly momentum = 0.1) {
    super();
    this.weight = this.param("weight", ones([n]));
    this.bias = this.param("bias", zeros([n]));
    this.runningMean = keep(zeros([n]));
    this.runningVar = keep(ones([n]));
  }

  /** Normalises `[B, n]` with batch statistics (training) or running ones (evaluation). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    if (!this.training) {
      const sd = noGrad(() => sqrt(add(this.runningVar, full([this.n], this.eps))));
      return add(mul(div(sub(x, this.runningMean), sd), this.weight), this.bias);
    }
    const mu = mean(x, 0, true);
    const xc = sub(x, mu);
    const v = mean(square(xc), 0, true);
    const y = div(xc, sqrt(add(v, full([1, this.n], this.eps))));
    const B = x.shape[0];
    noGrad(() => {
      const m = this.momentum;
      const nm = add(scale(this.runningMean, 1 - m), scale(reshape(mu, [this.n]), m));
      const unbiased = scale(reshape(v, [this.n]), B > 1 ? B / (B - 1) : 1);
      const nv = add(scale(this.runningVar, 1 - m), scale(unbiased, m));
      const rt = runtime();
      rt.copy(nm.buffer, 0, this.runningMean.buffer, 0, this.n * 4);
      rt.copy(nv.buffer, 0, this.runningVar.buffer, 0, this.n * 4);
    });
    return add(mul(y, this.weight), this.bias);
  }

  /** Frees parameters and the running statistics. */
  override dispose(): void {
    super.dispose();
    this.runningMean.dispose();
    this.runningVar.dispose();
  }
}

/** Options of {@link DNN}. */
export interface DnnOptions {
  /** Hidden activation. Default relu. */
  activation?: Activation;
  /** BatchNorm after each hidden linear layer. Default false. */
  batchNorm?: boolean;
  /** Dropout after each hidden activation (training mode). Default 0. */
  dropout?: number;
  /** Seed of weights and dropout masks. */
  seed?: number;
}

/**
 * FuxiCTR's `MLP_Layer`: hidden layers Linear → (BN) → act → (dropout), then a linear output
 * layer of width `outDim` (none when `outDim` is 0). Parameters `dnn.<i>.weight/bias` for the
 * linear layers, `bn.<i>.*` for the norms.
 */
export class DNN extends Module {
  /** The linear layers (hidden ones, then the output layer when present). */
  readonly linears: Linear[];
  /** BatchNorm of each hidden layer, when on. */
  readonly norms: BatchNorm1d[];
  #calls = 0;

  /** `inDim` → `hidden` … → `outDim`. */
  constructor(
    readonly inDim: number,
    readonly hidden: readonly number[],
    readonly outDim: number,
    readonly opts: DnnOptions = {},
  ) {
    super();
    const sizes = [inDim, ...hidden, ...(outDim > 0 ? [outDim] : [])];
    const seed = opts.seed ?? 0;
    this.linears = sizes.slice(1).map((n, i) =>
      this.child(`dnn.${i}`, new Linear(sizes[i], n, { seed: seed + 13 * i }))
    );
    this.norms = opts.batchNorm
      ? hidden.map((n, i) => this.child(`bn.${i}`, new BatchNorm1d(n)))
      : [];
  }

  /** `[B, inDim]` → `[B, outDim]` (or the last hidden width). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    const act = this.opts.activation ?? "relu";
    const rate = this.training ? this.opts.dropout ?? 0 : 0;
    let h = x;
    this.linears.forEach((l, i) => {
      if (i >= this.hidden.length) return void (h = l.forward(h));
      if (this.norms.length) h = activate(this.norms[i].forward(l.forward(h)), act);
      else h = l.forward(h, act);
      h = dropout(h, rate, (this.opts.seed ?? 0) * 7919 + this.#calls++);
    });
    return h;
  }
}
