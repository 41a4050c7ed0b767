/**
 * DCID's objectives besides reconstruction and commitment (../shared/specs/dcid-toc.md §1.3):
 * CMCM over soft code assignments, Cross-CPC with LSTM contexts, and the CLUB mutual-information
 * upper bound with its variational net, each as the official code computes it.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import {
  add,
  affine,
  exp,
  log,
  mul,
  neg,
  relu,
  scale,
  sqrt,
  square,
  sub,
  tanh,
} from "../../ops/core/elementwise.ts";
import { mean, sum } from "../../ops/core/reduce.ts";
import { max } from "../../ops/core/minmax.ts";
import { reshape, slice } from "../../ops/core/shape.ts";
import { logSoftmax, softmax } from "../../ops/core/softmax.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { type Tensor, tensor } from "../../tensor.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { LSTM } from "../../nn/rnn.ts";
import { Named } from "./layers.ts";

/**
 * Soft code assignment of each clip, `P = mean_T softmax_M(−√d)` with d the squared distances
 * of the (non-detached) features [B, T, D] to the codebook [M, D] (a constant here): [B, M].
 * Distances are clamped at 0 before the root (f32 rounding can make them slightly negative).
 */
export function softCodes(z: Tensor<"f32">, codebook: Tensor<"f32">): Tensor<"f32"> {
  const [B, T, D] = z.shape;
  const M = codebook.shape[0];
  const flat = reshape(z, [B * T, D]);
  // A copy: the EMA update rewrites the codebook in place after this forward, and the backward
  // must see the codes the forward used.
  const cb = noGrad(() => scale(codebook, 1));
  const e2 = noGrad(() => reshape(sum(square(cb), 1), [1, M]));
  const d = add(
    add(sum(square(flat), 1, true), e2),
    scale(matmul(flat, cb, { transB: true }), -2),
  );
  const p = softmax(neg(sqrt(relu(d))), -1);
  return mean(reshape(p, [B, T, M]), 1);
}

/** [B, B] identity, to pick diagonals. */
function eye(b: number): Tensor<"f32"> {
  const a = new Float32Array(b * b);
  for (let i = 0; i < b; i++) a[i * b + i] = 1;
  return tensor(a, [b, b]);
}

/**
 * One CMCM pair: `S = P_x log(P_y + 1e-10)ᵀ + P_y log(P_x + 1e-10)ᵀ` (B×B) and
 * `L = −(1/B) Σ_i log(exp(S_ii + c) / (Σ_j exp(S_ij + c) + 1e-5))` with the code's global shift
 * `c = max(−S)`, held constant here (it cancels but for the 1e-5: a gradient of that order).
 */
export function cmcmPair(px: Tensor<"f32">, py: Tensor<"f32">): Tensor<"f32"> {
  const B = px.shape[0];
  const lx = log(affine(px, 1, 1e-10));
  const ly = log(affine(py, 1, 1e-10));
  const s = add(matmul(px, ly, { transB: true }), matmul(py, lx, { transB: true }));
  const c = noGrad(() => max(neg(s)));
  const sc = add(s, c);
  const diag = sum(mul(sc, eye(B)), 1);
  const lse = log(affine(sum(exp(sc), 1), 1, 1e-5));
  return scale(sum(sub(diag, lse)), -1 / B);
}

/** CMCM of three modalities, `0.5·(L_av + L_at + L_tv)`, from soft codes [B, M] each. */
export function cmcm(pa: Tensor<"f32">, pv: Tensor<"f32">, pt: Tensor<"f32">): Tensor<"f32"> {
  return scale(add(add(cmcmPair(pa, pv), cmcmPair(pa, pt)), cmcmPair(pt, pv)), 0.5);
}

/**
 * `Cross_CPC_AVT` (K = 1): per modality a 2-layer LSTM context over z_{≤t} and a linear
 * prediction p = W c_t; logits `S_{x←y} = z^x_{t+1} (p^y)ᵀ` (raw dot products), row-wise
 * log-softmax, and `nce = −(1/B) Σ_pairs w·Σ_i log_softmax(S)_ii` over the six cross pairs
 * (w = 1) and three self pairs (w = 0.1). Inputs are the continuous semantic features.
 */
export class CrossCpc extends Module {
  /** Context LSTMs of a, v, t. */
  readonly lstms: LSTM[];
  /** Predictions W_k of a, v, t (K = 1). */
  readonly predictors: Linear[];

  /** On D-wide features with `layers`-layer context LSTMs. */
  constructor(d: number, layers: number, readonly selfWeight: number, seed: number) {
    super();
    const names = ["audio", "video", "text"];
    this.lstms = names.map((n, i) =>
      this.child(`${n}_context_lstm`, new LSTM(d, d, { numLayers: layers, seed: seed + 10 * i }))
    );
    this.predictors = names.map((n, i) => {
      const l = new Linear(d, d, { seed: seed + 5 + 10 * i });
      this.child(`${n}_predictors`, new Named({ 0: l }));
      return l;
    });
  }

  /** The loss at step t (1 ≤ t ≤ T − 2) for z_a, z_v, z_t [B, T, D]. */
  forward(zs: readonly Tensor<"f32">[], t: number): Tensor<"f32"> {
    const [B, T, D] = zs[0].shape;
    if (!(Number.isInteger(t) && t >= 0 && t + 1 < T)) {
      throw new Error(`wgrec DCID CPC: step ${t} outside 0…${T - 2}`);
    }
    const preds = zs.map((z, m) => {
      const ctx = this.lstms[m].forward(slice(z, [0, 0, 0], [B, t + 1, D])).output;
      return this.predictors[m].forward(reshape(slice(ctx, [0, t, 0], [B, 1, D]), [B, D]));
    });
    const targets = zs.map((z) => reshape(slice(z, [0, t + 1, 0], [B, 1, D]), [B, D]));
    const id = eye(B);
    let total: Tensor<"f32"> | null = null;
    for (let x = 0; x < 3; x++) {
      for (let y = 0; y < 3; y++) {
        const s = matmul(targets[x], preds[y], { transB: true });
        const term = scale(sum(mul(logSoftmax(s, -1), id)), x === y ? this.selfWeight : 1);
        total = total ? add(total, term) : term;
      }
    }
    return scale(total!, -1 / B);
  }
}

/** An MLP with PyTorch `Sequential` numbering 0, 2, 4, 6 (ReLU between). */
export class Mlp4 extends Named {
  /** The linear layers in order. */
  readonly ls: Linear[];
  /** Layers sizes[0] → sizes[1] → …. */
  constructor(sizes: number[], seed: number) {
    const ls = sizes.slice(1).map((n, i) => new Linear(sizes[i], n, { seed: seed + i }));
    super(Object.fromEntries(ls.map((l, i) => [String(2 * i), l])));
    this.ls = ls;
  }
  /** Applies the stack. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    let h = x;
    this.ls.forEach((l, i) => (h = l.forward(h, i < this.ls.length - 1 ? "relu" : "none")));
    return h;
  }
}

/**
 * `CLUBSample_group`: q(y|x) = N(μ(x), exp(logvar(x))) with μ and logvar MLPs
 * x → h → h → h → y (logvar ends in tanh). {@link loglikeli} trains it (on detached inputs, with
 * its own optimizer); {@link miEst} is the bound added to the main loss, with one shuffled
 * negative and the means over T taken before the division, as the code.
 */
export class Club extends Module {
  /** μ net `p_mu`. */
  readonly mu: Mlp4;
  /** log-variance net `p_logvar` (tanh applied after). */
  readonly logvar: Mlp4;

  /** x_dim → y_dim with hidden width h. */
  constructor(xDim: number, yDim: number, h: number, seed: number) {
    super();
    this.mu = this.child("p_mu", new Mlp4([xDim, h, h, h, yDim], seed));
    this.logvar = this.child("p_logvar", new Mlp4([xDim, h, h, h, yDim], seed + 10));
  }

  /** μ and logvar of x [B, T, xDim]. */
  muLogvar(x: Tensor<"f32">): [Tensor<"f32">, Tensor<"f32">] {
    return [this.mu.forward(x), tanh(this.logvar.forward(x))];
  }

  /** Log-likelihood `mean_{b,t} Σ_d [−(μ − y)²/exp(logvar) − logvar] / 2`. */
  loglikeli(x: Tensor<"f32">, y: Tensor<"f32">): Tensor<"f32"> {
    const [mu, lv] = this.muLogvar(x);
    const per = sub(neg(mul(square(sub(mu, y)), exp(neg(lv)))), lv);
    const rows = per.size / per.shape[per.rank - 1];
    return scale(sum(per), 0.5 / rows);
  }

  /**
   * The MI estimate: `pos = −mean_T (μ − y)² / exp(mean_T logvar)`, `neg` the same with
   * y of clip `perm[b]`, `I = mean_B (Σ_d pos − Σ_d neg) / 2`. `perm` is i32 [B].
   */
  miEst(x: Tensor<"f32">, y: Tensor<"f32">, perm: Tensor<"i32">): Tensor<"f32"> {
    const [mu, lv] = this.muLogvar(x);
    const inv = exp(neg(mean(lv, 1))); // [B, Y]
    const yp = gather(y, perm);
    const pos = mul(mean(square(sub(mu, y)), 1), inv);
    const negv = mul(mean(square(sub(mu, yp)), 1), inv);
    return scale(sum(sub(negv, pos)), 0.5 / x.shape[0]);
  }
}
