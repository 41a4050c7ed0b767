/**
 * The DG-SCT adapter (../shared/specs/dg-sct.md §3.2, class `VisualAdapter` of the official
 * code, used in both directions) with the official parameter names. For target tokens
 * x [n, N_x, C] guided by the other modality's tokens y [n, N_y, C_y]:
 *
 *   y'  = fc(conv_adapter(y))                 token axis N_y → N_x (1×1 conv), then C_y → C
 *   A1  = softmax_N(P y'ᵀ),  P' = P + A1 y'    prompts P = my_tokens [T, C]
 *   A2  = softmax_T(x P'ᵀ),  x ← x + gate_av · A2 P'
 *   ā   = mean_N y'
 *   M_c = σ(W_c ReLU(W_b mean_N(ReLU(W_a1 ā) ⊙ ReLU(W_v1 x))))           [n, 1, C]
 *   x_c = x ⊙ (M_c + 1)
 *   s   = W_s (ReLU(W_v2 x_c) ⊙ ReLU(W_a2 ā))                               [n, N, 1]
 *   M_s = σ(s),  S = softmax_N(tanh s)ᵀ                                      S: [n, 1, N]
 *   x   ← x ⊙ (α M_c + β M_s + 1 − α),  α = 0.3, β = 0.05
 *   out = gate · LN_post(BN2(up(ReLU(BN1(down(LN_before x))))))              grouped 1×1 convs
 *
 * W_a1 = `fc_affine_audio_1`, W_v1 = `fc_affine_video_1`, W_b = `fc_affine_bottleneck`,
 * W_c = `fc_affine_v_c_att`, W_v2 = `fc_affine_video_2`, W_a2 = `fc_affine_audio_2`,
 * W_s = `fc_affine_v_s_att`. The official module also holds `gate_tk`, which its forward never
 * uses; it is left out here. Tokens stay channels-last, so a grouped 1×1 conv is one matmul
 * per channel group (the `Conv2d` keeps the official weight [Cout, Cin/g, 1, 1]) and
 * BatchNorm2d's statistics over (batch, tokens) are BatchNorm's over the last axis.
 * @module
 */

import { add, affine, mul, relu, sigmoid, tanh } from "../../ops/core/elementwise.ts";
import { mean } from "../../ops/core/reduce.ts";
import { concat, permute, reshape, slice } from "../../ops/core/shape.ts";
import { softmax } from "../../ops/core/softmax.ts";
import { linear, matmul } from "../../ops/matmul/matmul.ts";
import { fmt, randUniform, type Tensor, zeros } from "../../tensor.ts";
import { BatchNorm, Conv2d } from "../../nn/conv.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { LayerNorm } from "../../nn/norm.ts";

/** Gating weights of channel (α) and spatial (β) attention, hard-coded in the official code. */
export const ALPHA = 0.3;
/** See {@link ALPHA}. */
export const BETA = 0.05;

/** Sizes of one adapter: target tokens/width, guide tokens/width and the flags. */
export interface AdapterDims {
  /** Target tokens N_x and width C. */
  tokens: number;
  /** Target width C. */
  dim: number;
  /** Guide tokens N_y. */
  guideTokens: number;
  /** Guide width C_y. */
  guideDim: number;
  /** Prompt tokens T. */
  numTokens: number;
  /** Bottleneck reduction (C → C / r). */
  downsample: number;
  /** Groups of the 1×1 convs. */
  groups: number;
}

/** What an adapter gives: its residual and the spatial map S used to pool the last stage. */
export interface AdapterOutput {
  /** gate · bottleneck(x gated), [n, N_x, C]. */
  out: Tensor<"f32">;
  /** S = softmax_N(tanh s)ᵀ, [n, 1, N_x]. */
  spatial: Tensor<"f32">;
}

/** One DG-SCT adapter (`VisualAdapter`, bottleneck kind, multimodal). */
export class DgsctAdapter extends Module {
  /** 1×1 conv over the token axis N_y → N_x, weight [N_x, N_y, 1, 1]. */
  readonly convAdapter: Conv2d;
  /** C_y → C. */
  readonly fc: Linear;
  /** W_a1, W_v1 (C → C), W_b (C → C/2), W_v2, W_a2 (C → C/2), W_s (C/2 → 1), W_c (C/2 → C). */
  readonly a1: Linear;
  /** See {@link a1}. */
  readonly v1: Linear;
  /** See {@link a1}. */
  readonly bottleneck: Linear;
  /** See {@link a1}. */
  readonly v2: Linear;
  /** See {@link a1}. */
  readonly a2: Linear;
  /** See {@link a1}. */
  readonly sAtt: Linear;
  /** See {@link a1}. */
  readonly cAtt: Linear;
  /** Output gate (init 0). */
  readonly gate: Tensor<"f32">;
  /** Prompt tokens P [T, C] (init U(0, 1)). */
  readonly tokens: Tensor<"f32">;
  /** Prompt gate (init 0). */
  readonly gateAv: Tensor<"f32">;
  /** Grouped 1×1 convs C → C/r → C, no bias. */
  readonly down: Conv2d;
  /** See {@link down}. */
  readonly up: Conv2d;
  /** BatchNorm after each conv. */
  readonly bn1: BatchNorm;
  /** See {@link bn1}. */
  readonly bn2: BatchNorm;
  /** LayerNorms before and after the bottleneck. */
  readonly lnBefore: LayerNorm;
  /** See {@link lnBefore}. */
  readonly lnPost: LayerNorm;

  /** An adapter of the given sizes, seeded. */
  constructor(readonly d: AdapterDims, seed: number) {
    super();
    const C = d.dim, h = C / 2, r = C / d.downsample;
    if (!Number.isInteger(r) || r % d.groups !== 0 || C % d.groups !== 0 || C % 2 !== 0) {
      throw new Error(
        `wgrec DgsctAdapter: width ${C} must be even and split into ${d.groups} groups at C and ` +
          `at C/${d.downsample}`,
      );
    }
    const s = (k: number) => seed + 7 * k;
    this.convAdapter = this.child(
      "conv_adapter",
      new Conv2d(d.guideTokens, d.tokens, 1, { seed: s(0) }),
    );
    this.fc = this.child("fc", new Linear(d.guideDim, C, { seed: s(1) }));
    this.a1 = this.child("fc_affine_audio_1", new Linear(C, C, { seed: s(2) }));
    this.v1 = this.child("fc_affine_video_1", new Linear(C, C, { seed: s(3) }));
    this.bottleneck = this.child("fc_affine_bottleneck", new Linear(C, h, { seed: s(4) }));
    this.v2 = this.child("fc_affine_video_2", new Linear(C, h, { seed: s(5) }));
    this.a2 = this.child("fc_affine_audio_2", new Linear(C, h, { seed: s(6) }));
    this.sAtt = this.child("fc_affine_v_s_att", new Linear(h, 1, { seed: s(7) }));
    this.cAtt = this.child("fc_affine_v_c_att", new Linear(h, C, { seed: s(8) }));
    this.gate = this.param("gate", zeros([1]));
    this.tokens = this.param("my_tokens", randUniform([d.numTokens, C], s(9), 0, 1));
    this.gateAv = this.param("gate_av", zeros([1]));
    const conv = { groups: d.groups, bias: false, layout: "NHWC" } as const;
    this.down = this.child("down_sampler", new Conv2d(C, r, 1, { ...conv, seed: s(10) }));
    this.up = this.child("up_sampler", new Conv2d(r, C, 1, { ...conv, seed: s(11) }));
    this.bn1 = this.child("bn1", new BatchNorm(r, { axis: -1 }));
    this.bn2 = this.child("bn2", new BatchNorm(C, { axis: -1 }));
    this.lnBefore = this.child("ln_before", new LayerNorm(C));
    this.lnPost = this.child("ln_post", new LayerNorm(C));
  }

  /**
   * A grouped 1×1 conv on channels-last tokens [n, N, Cin] as one matmul per group (the
   * conv's weight [Cout, Cin/g, 1, 1] read as [Cout, Cin/g] rows per group).
   */
  #grouped(x: Tensor<"f32">, conv: Conv2d): Tensor<"f32"> {
    const g = this.d.groups, [n, N, cin] = x.shape, cout = conv.outChannels;
    const w = reshape(conv.weight, [cout, cin / g]);
    const parts = Array.from({ length: g }, (_, i) =>
      linear(
        slice(x, [0, 0, (i * cin) / g], [n, N, cin / g]),
        slice(w, [(i * cout) / g, 0], [cout / g, cin / g]),
        null,
      ));
    return concat(parts, 2);
  }

  /** x [n, N_x, C] guided by y [n, N_y, C_y]. */
  forward(x: Tensor<"f32">, y: Tensor<"f32">): AdapterOutput {
    const d = this.d;
    const [n, N, C] = x.shape;
    if (
      x.rank !== 3 || y.rank !== 3 || N !== d.tokens || C !== d.dim || y.shape[0] !== n ||
      y.shape[1] !== d.guideTokens || y.shape[2] !== d.guideDim
    ) {
      throw new Error(
        `wgrec DgsctAdapter: x ${fmt(x.shape)} and guide ${fmt(y.shape)}, expected ` +
          `[n, ${d.tokens}, ${d.dim}] and [n, ${d.guideTokens}, ${d.guideDim}]`,
      );
    }
    // 1. Project the guide: the 1×1 conv treats tokens as channels (N_y → N_x), then C_y → C.
    const w = reshape(this.convAdapter.weight, [d.tokens, d.guideTokens]);
    const yt = linear(permute(y, [0, 2, 1]), w, this.convAdapter.bias); // [n, C_y, N_x]
    const yp = this.fc.forward(permute(yt, [0, 2, 1])); // y' [n, N_x, C]
    // 2. Cross-modal prompts.
    const a1 = softmax(matmul(this.tokens, yp, { transB: true }), -1); // [n, T, N]
    const pp = add(this.tokens, matmul(a1, yp)); // P' [n, T, C]
    const a2 = softmax(matmul(x, pp, { transB: true }), -1); // [n, N, T]
    const xp = add(x, mul(this.gateAv, matmul(a2, pp)));
    // 3. Guided channel attention.
    const abar = reshape(mean(yp, 1), [n, 1, C]); // ā
    const q = mean(mul(this.a1.forward(abar, "relu"), this.v1.forward(xp, "relu")), 1);
    const mc = reshape(sigmoid(this.cAtt.forward(this.bottleneck.forward(q, "relu"))), [n, 1, C]);
    const xc = mul(xp, affine(mc, 1, 1));
    // 4. Guided spatial attention.
    const s = this.sAtt.forward(mul(this.v2.forward(xc, "relu"), this.a2.forward(abar, "relu")));
    const ms = sigmoid(s); // [n, N, 1]
    const spatial = softmax(reshape(tanh(s), [n, 1, N]), -1);
    // 5. Gating: x ⊙ (α M_c + β M_s + 1 − α).
    const g = add(affine(mc, ALPHA, 1 - ALPHA), affine(ms, BETA));
    const xg = mul(xp, g);
    // 6. Bottleneck: LN → grouped 1×1 conv → BN → ReLU → grouped 1×1 conv → BN → LN, × gate.
    const z = this.#grouped(this.lnBefore.forward(xg), this.down);
    const zr = relu(this.bn1.forward(z));
    const o = this.bn2.forward(this.#grouped(zr, this.up));
    const out = mul(this.gate, this.lnPost.forward(o));
    return { out, spatial };
  }
}
