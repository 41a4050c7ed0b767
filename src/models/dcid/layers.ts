/**
 * DCID's encoders and decoders (../shared/specs/dcid-toc.md §1.3; `main_model_2.py` of the
 * official code), with the official module names: the video semantic encoder (channel and
 * spatial attention), the per-modality temporal transformer, the modality-specific encoders
 * (the video one a conv stack with a residual stack) and the reconstruction decoders. Video
 * maps stay channels-last ([B·T, h, w, C]) throughout: the conv kernels take NHWC directly.
 * @module
 */

import { add, mul, relu, sigmoid, tanh } from "../../ops/core/elementwise.ts";
import { mean } from "../../ops/core/reduce.ts";
import { broadcastTo, concat, reshape } from "../../ops/core/shape.ts";
import { softmax } from "../../ops/core/softmax.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { avgPool2d } from "../../ops/conv/pool.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { TransformerEncoderLayer } from "../../nn/attention.ts";
import { Conv2d, ConvTranspose2d } from "../../nn/conv.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";

const NHWC = { layout: "NHWC" } as const;

/** Registers modules under given names (PyTorch's `nn.Sequential`/`ModuleList` numbering). */
export class Named extends Module {
  /** Children by name. */
  constructor(items: Record<string, Module>) {
    super();
    for (const [k, m] of Object.entries(items)) this.child(k, m);
  }
}

/**
 * `Video_Semantic_Encoder`: SE channel attention `v_c = v ⊙ σ(W2 ReLU(W1 GAP(v))) + v`, then
 * spatial attention `s = softmax_p tanh(w·(ReLU(A_self v_c[p]) ⊙ ReLU(A_ave GAP(v))))` pooling
 * `Σ_p s_p v_c[p]`: [B, T, h, w, V] → [B, T, V].
 */
export class VideoSemanticEncoder extends Module {
  /** SE squeeze `se_layer.0` (V → V/8). */
  readonly se1: Linear;
  /** SE excite `se_layer.2` (V/8 → V). */
  readonly se2: Linear;
  /** `affine_video_ave` (V → V/2) on the pooled map. */
  readonly ave: Linear;
  /** `affine_video_self` (V → V/2) per position. */
  readonly self: Linear;
  /** `ave_v_att` (V/2 → 1): spatial scores. */
  readonly att: Linear;

  /** For V video channels (SE reduction 8). */
  constructor(readonly v: number, seed: number) {
    super();
    const r = Math.max(1, Math.floor(v / 8));
    this.se1 = new Linear(v, r, { bias: false, seed });
    this.se2 = new Linear(r, v, { bias: false, seed: seed + 1 });
    this.child("se_layer", new Named({ 0: this.se1, 2: this.se2 }));
    this.ave = this.child("affine_video_ave", new Linear(v, v / 2, { seed: seed + 2 }));
    this.self = this.child("affine_video_self", new Linear(v, v / 2, { seed: seed + 3 }));
    this.att = this.child("ave_v_att", new Linear(v / 2, 1, { seed: seed + 4 }));
  }

  /** [B, T, h, w, V] → [B, T, V]. */
  forward(video: Tensor<"f32">): Tensor<"f32"> {
    const [B, T, h, w, V] = video.shape;
    const n = B * T;
    const P = h * w;
    const v = reshape(video, [n, P, V]);
    const g = mean(v, 1); // GAP, [n, V]
    const a = sigmoid(this.se2.forward(this.se1.forward(g, "relu")));
    const vc = add(mul(v, reshape(a, [n, 1, V])), v);
    const qAve = this.ave.forward(g, "relu");
    const q = this.self.forward(vc, "relu");
    const sq = mul(q, reshape(qAve, [n, 1, V / 2]));
    const s = softmax(reshape(tanh(this.att.forward(sq)), [n, 1, P]), -1);
    return reshape(matmul(s, vc), [B, T, V]);
  }
}

/**
 * `InternalTemporalRelationModule`: `affine_matrix` (in → D), then `encoder.layers.{0,1}`
 * post-LN transformer layers (4 heads, FFN 1024, ReLU, dropout 0.1). [B, T, in] → [B, T, D].
 */
export class TemporalModule extends Module {
  /** `affine_matrix` (in → D). */
  readonly affine: Linear;
  /** Post-LN layers `encoder.layers.*`. */
  readonly layers: TransformerEncoderLayer[];

  /** in → d with `layers` transformer layers. */
  constructor(
    inDim: number,
    d: number,
    heads: number,
    ffn: number,
    n: number,
    drop: number,
    seed: number,
  ) {
    super();
    this.affine = this.child("affine_matrix", new Linear(inDim, d, { seed }));
    this.layers = Array.from(
      { length: n },
      (_, i) =>
        new TransformerEncoderLayer(d, heads, {
          dimFeedforward: ffn,
          dropout: drop,
          seed: seed + 100 * (i + 1),
        }),
    );
    const list = new Named(Object.fromEntries(this.layers.map((l, i) => [String(i), l])));
    this.child("encoder", new Named({ layers: list }));
  }

  /** [B, T, in] → [B, T, D]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    let h = this.affine.forward(x);
    for (const l of this.layers) h = l.forward(h);
    return h;
  }
}

/**
 * `ResidualStack` of one `ResidualLayer` (ReLU, 3×3 conv, ReLU, 1×1 conv, no biases) and a final
 * ReLU. The code's first ReLU is in place (`nn.ReLU(True)`), so it also rectifies the residual
 * branch's input: the layer computes `r + block(r)` with `r = ReLU(x)`; kept as the code runs.
 */
export class ResidualStack extends Module {
  /** 3×3 conv `stack.0.res_block.1`. */
  readonly conv3: Conv2d;
  /** 1×1 conv `stack.0.res_block.3`. */
  readonly conv1: Conv2d;

  /** On c channels (in = h = res_h). */
  constructor(c: number, seed: number) {
    super();
    this.conv3 = new Conv2d(c, c, 3, { padding: 1, bias: false, layout: "NHWC", seed });
    this.conv1 = new Conv2d(c, c, 1, { bias: false, layout: "NHWC", seed: seed + 1 });
    const layer = new Named({ res_block: new Named({ 1: this.conv3, 3: this.conv1 }) });
    this.child("stack", new Named({ 0: layer }));
  }

  /** [n, h, w, c] → same. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    const r = relu(x);
    return relu(add(r, this.conv1.forward(relu(this.conv3.forward(r)))));
  }
}

/**
 * `Video_Encoder` (the specific branch ψ_v): conv 3×3 (V → H/2) + ReLU, conv 3×3 (→ H) + ReLU,
 * conv 1×1, residual stack → `result` [B·T, h−4, w−4, H]; `club` = FF(AvgPool3×3(result))
 * [B, T, V] (H → H/2 → V), the feature CLUB compares with the video codes.
 */
export class VideoEncoder extends Module {
  /** `conv_stack.0`: 3×3, V → H/2. */
  readonly c0: Conv2d;
  /** `conv_stack.2`: 3×3, H/2 → H. */
  readonly c2: Conv2d;
  /** `conv_stack.4`: 1×1, H → H. */
  readonly c4: Conv2d;
  /** Residual stack. */
  readonly res: ResidualStack;
  /** `feed_forward.0`: H → H/2. */
  readonly ff0: Linear;
  /** `feed_forward.2`: H/2 → V. */
  readonly ff2: Linear;

  /** V input channels, H hidden channels. */
  constructor(v: number, hdim: number, seed: number) {
    super();
    this.c0 = new Conv2d(v, hdim / 2, 3, { ...NHWC, seed });
    this.c2 = new Conv2d(hdim / 2, hdim, 3, { ...NHWC, seed: seed + 2 });
    this.c4 = new Conv2d(hdim, hdim, 1, { ...NHWC, seed: seed + 4 });
    this.res = new ResidualStack(hdim, seed + 6);
    this.child("conv_stack", new Named({ 0: this.c0, 2: this.c2, 4: this.c4, 5: this.res }));
    this.ff0 = new Linear(hdim, hdim / 2, { seed: seed + 8 });
    this.ff2 = new Linear(hdim / 2, v, { seed: seed + 9 });
    this.child("feed_forward", new Named({ 0: this.ff0, 2: this.ff2 }));
  }

  /** [B, T, h, w, V] → result [B·T, h−4, w−4, H] and club feature [B, T, V]. */
  forward(video: Tensor<"f32">): { result: Tensor<"f32">; club: Tensor<"f32"> } {
    const [B, T, h, w, V] = video.shape;
    if (h !== 7 || w !== 7) {
      throw new Error(`wgrec DCID Video_Encoder: video ${fmt(video.shape)}, expected a 7×7 grid`);
    }
    const x = reshape(video, [B * T, h, w, V]);
    const y = this.res.forward(
      this.c4.forward(relu(this.c2.forward(relu(this.c0.forward(x))))),
    );
    const pooled = reshape(avgPool2d(y, 3, { stride: 1, layout: "NHWC" }), [B, T, -1]);
    return { result: y, club: this.ff2.forward(this.ff0.forward(pooled, "relu")) };
  }
}

/** `Audio_Encoder` / `Text_Encoder`: ReLU(Linear(in → d)) under the given name. */
export class SpecificEncoder extends Module {
  /** The linear layer. */
  readonly lin: Linear;
  /** `name` is `audio_linear` or `text_linear`. */
  constructor(name: string, inDim: number, d: number, seed: number) {
    super();
    this.lin = this.child(name, new Linear(inDim, d, { seed }));
  }
  /** [B, T, in] → [B, T, d]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return this.lin.forward(x, "relu");
  }
}

/** `Audio_Decoder` / `Text_Decoder`: `rec(concat(lin(ẑ), ψ(x)))`. */
export class LinearDecoder extends Module {
  /** The linear layer. */
  readonly lin: Linear;
  /** `*_rec`: (2d → out). */
  readonly rec: Linear;
  /** `prefix` is `audio` or `text`; d the specific width, out the reconstructed width. */
  constructor(prefix: string, d: number, out: number, vq: number, seed: number) {
    super();
    this.rec = this.child(`${prefix}_rec`, new Linear(2 * d, out, { seed }));
    this.lin = this.child(`${prefix}_linear`, new Linear(vq, d, { seed: seed + 1 }));
  }
  /** ψ [B, T, d], ẑ [B, T, D] → [B, T, out]. */
  forward(spec: Tensor<"f32">, vq: Tensor<"f32">): Tensor<"f32"> {
    return this.rec.forward(concat([this.lin.forward(vq), spec], 2));
  }
}

/**
 * `Video_Decoder`: `video_linear(ẑ)` tiled over the 3×3 grid and concatenated (first) with the
 * specific result, then ConvT 3×3 (→ H/2), residual stack, ConvT 3×3 (→ V), ReLU, ConvT 1×1.
 */
export class VideoDecoder extends Module {
  /** The linear layer. */
  readonly lin: Linear;
  /** `inverse_conv_block.0`: ConvT 3×3, H + D → H/2. */
  readonly t0: ConvTranspose2d;
  /** Residual stack. */
  readonly res: ResidualStack;
  /** `inverse_conv_block.2`: ConvT 3×3, H/2 → V. */
  readonly t2: ConvTranspose2d;
  /** `inverse_conv_block.4`: ConvT 1×1, V → V. */
  readonly t4: ConvTranspose2d;

  /** H specific channels, V output channels, D code width. */
  constructor(hdim: number, v: number, d: number, seed: number) {
    super();
    this.t0 = new ConvTranspose2d(hdim + d, hdim / 2, 3, { ...NHWC, seed });
    this.res = new ResidualStack(hdim / 2, seed + 2);
    this.t2 = new ConvTranspose2d(hdim / 2, v, 3, { ...NHWC, seed: seed + 4 });
    this.t4 = new ConvTranspose2d(v, v, 1, { ...NHWC, seed: seed + 6 });
    this.child(
      "inverse_conv_block",
      new Named({ 0: this.t0, 1: this.res, 2: this.t2, 4: this.t4 }),
    );
    this.lin = this.child("video_linear", new Linear(d, d, { seed: seed + 8 }));
  }

  /** result [B·T, h, w, H], ẑ [B, T, D] → [B, T, h+4, w+4, V]. */
  forward(result: Tensor<"f32">, vq: Tensor<"f32">): Tensor<"f32"> {
    const [n, h, w] = result.shape;
    const [B, T, D] = vq.shape;
    const tiled = broadcastTo(reshape(this.lin.forward(vq), [n, 1, 1, D]), [n, h, w, D]);
    const x = concat([tiled, result], 3);
    const y = this.t4.forward(relu(this.t2.forward(this.res.forward(this.t0.forward(x)))));
    return reshape(y, [B, T, ...y.shape.slice(1)]);
  }
}
