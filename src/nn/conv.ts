/**
 * Convolution layers with PyTorch's parameter names and initialisation (so weights interchange
 * as is): Conv2d, ConvTranspose2d, BatchNorm (any rank, channel axis 1 or last) with running
 * statistics, and pooling layers. Kernels: `src/ops/conv/`.
 * @module
 */

import { noGrad } from "../autograd/tape.ts";
import { conv2d, type Conv2dOptions, convTranspose2d } from "../ops/conv/conv.ts";
import type { ConvLayout, Pair } from "../ops/conv/geometry.ts";
import { batchNorm } from "../ops/conv/batchnorm.ts";
import { avgPool2d, maxPool2d, type Pool2dOptions } from "../ops/conv/pool.ts";
import { keep, ones, randUniform, type Tensor, zeros } from "../tensor.ts";
import { Module } from "./module.ts";

/** Options of {@link Conv2d} and {@link ConvTranspose2d}. */
export interface ConvLayerOptions {
  /** Step (default 1). */
  stride?: Pair;
  /** Zero padding (default 0). */
  padding?: Pair;
  /** Tap spacing (default 1). */
  dilation?: Pair;
  /** Channel groups (default 1). */
  groups?: number;
  /** With a bias (default true). */
  bias?: boolean;
  /** Image layout of inputs and outputs (default NCHW). */
  layout?: ConvLayout;
  /** Extra output rows/columns (transposed conv only). */
  outputPadding?: Pair;
  /** Seed of the initialisation. */
  seed?: number;
}

function kpair(k: Pair): [number, number] {
  return typeof k === "number" ? [k, k] : [k[0], k[1]];
}

/**
 * PyTorch's `nn.Conv2d`: `weight` [out, in/groups, kh, kw], `bias` [out]; init
 * U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5, as PyTorch).
 */
export class Conv2d extends Module {
  /** Weight, [out, in/groups, kh, kw]. */
  readonly weight: Tensor<"f32">;
  /** Bias, [out], or null. */
  readonly bias: Tensor<"f32"> | null;
  readonly #opts: Conv2dOptions;

  /** A conv of `inChannels` → `outChannels` with a `kernelSize` window. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: ConvLayerOptions = {},
  ) {
    super();
    const [kh, kw] = kpair(kernelSize);
    const g = opts.groups ?? 1;
    const bound = 1 / Math.sqrt((inChannels / g) * kh * kw);
    const seed = opts.seed ?? 0;
    this.weight = this.param(
      "weight",
      randUniform([outChannels, inChannels / g, kh, kw], seed, -bound, bound),
    );
    this.bias = opts.bias === false
      ? null
      : this.param("bias", randUniform([outChannels], seed + 1, -bound, bound));
    this.#opts = { ...opts };
  }

  /** Applies the conv to [n, in, h, w] (or NHWC). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return conv2d(x, this.weight, this.bias, this.#opts);
  }
}

/**
 * PyTorch's `nn.ConvTranspose2d`: `weight` [in, out/groups, kh, kw], `bias` [out]; init as
 * PyTorch (fan-in computed from weight dim 1: (out/groups)·kh·kw).
 */
export class ConvTranspose2d extends Module {
  /** Weight, [in, out/groups, kh, kw]. */
  readonly weight: Tensor<"f32">;
  /** Bias, [out], or null. */
  readonly bias: Tensor<"f32"> | null;
  readonly #opts: ConvLayerOptions;

  /** A transposed conv of `inChannels` → `outChannels`. */
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: ConvLayerOptions = {},
  ) {
    super();
    const [kh, kw] = kpair(kernelSize);
    const g = opts.groups ?? 1;
    const bound = 1 / Math.sqrt((outChannels / g) * kh * kw);
    const seed = opts.seed ?? 0;
    this.weight = this.param(
      "weight",
      randUniform([inChannels, outChannels / g, kh, kw], seed, -bound, bound),
    );
    this.bias = opts.bias === false
      ? null
      : this.param("bias", randUniform([outChannels], seed + 1, -bound, bound));
    this.#opts = { ...opts };
  }

  /** Applies the transposed conv to [n, in, h, w] (or NHWC). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return convTranspose2d(x, this.weight, this.bias, this.#opts);
  }
}

/**
 * PyTorch's `nn.BatchNorm1d/2d` (one class: the channel axis is 1, or −1 for channels-last):
 * `weight` γ = 1, `bias` β = 0, buffers `running_mean` = 0 and `running_var` = 1 updated in
 * training with `momentum` (unbiased variance), read in evaluation.
 */
export class BatchNorm extends Module {
  /** γ, [C]. */
  readonly weight: Tensor<"f32">;
  /** β, [C]. */
  readonly bias: Tensor<"f32">;
  /** Running mean buffer, [C] (not a parameter). */
  readonly runningMean: Tensor<"f32">;
  /** Running variance buffer, [C] (not a parameter). */
  readonly runningVar: Tensor<"f32">;

  /** Over `numFeatures` channels at `axis` (default 1). */
  constructor(
    readonly numFeatures: number,
    readonly opts: { eps?: number; momentum?: number; axis?: number } = {},
  ) {
    super();
    this.weight = this.param("weight", ones([numFeatures]));
    this.bias = this.param("bias", zeros([numFeatures]));
    this.runningMean = keep(zeros([numFeatures]));
    this.runningVar = keep(ones([numFeatures]));
  }

  /** Normalises x (batch statistics in training, running ones in evaluation). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return batchNorm(x, {
      gamma: this.weight,
      beta: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      eps: this.opts.eps,
      momentum: this.opts.momentum,
      axis: this.opts.axis,
    });
  }

  /** Frees parameters and running buffers. */
  override dispose(): void {
    super.dispose();
    noGrad(() => {
      this.runningMean.dispose();
      this.runningVar.dispose();
    });
  }
}

/** PyTorch's `nn.AvgPool2d` (count_include_pad = True). */
export class AvgPool2d extends Module {
  /** A kh×kw average pool. */
  constructor(readonly kernelSize: Pair, readonly opts: Pool2dOptions = {}) {
    super();
  }
  /** Pools [n, c, h, w] (or NHWC). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
}

/** PyTorch's `nn.MaxPool2d`. */
export class MaxPool2d extends Module {
  /** A kh×kw max pool. */
  constructor(readonly kernelSize: Pair, readonly opts: Pool2dOptions = {}) {
    super();
  }
  /** Pools [n, c, h, w] (or NHWC). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
}
