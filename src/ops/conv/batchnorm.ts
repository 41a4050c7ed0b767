/**
 * Batch normalisation over a channel axis (`shaders/conv/batchnorm_*.wgsl`): per-channel batch
 * statistics in training (two-pass variance, running buffers updated in place with PyTorch's
 * momentum rule and unbiased running variance), the running statistics in evaluation. The
 * backward is one workgroup per channel giving dγ, dβ and dx together.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";
import * as convWgsl from "../../../shaders/conv/wgsl.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, zeros } from "../../tensor.ts";
import { expectDtype, groups, launch, normAxis, output } from "../common.ts";

const statsK = /* @__PURE__ */ kernel({
  name: "batchnorm_stats",
  source: convWgsl.batchnorm_stats,
  lib: [coreWgsl.wg_sum, convWgsl.batchnorm_common],
  bindings: { x: "f32", rmean: "f32 rw", rvar: "f32 rw", stats: "f32 rw" },
  defines: { TRAIN: "bool", UPDATE: "bool" },
  uniforms: { outer: "u32", c: "u32", inner: "u32", eps: "f32", momentum: "f32" },
  workgroupSize: [256],
});

const applyK = /* @__PURE__ */ kernel({
  name: "batchnorm_apply",
  source: convWgsl.batchnorm_apply,
  bindings: { x: "f32", stats: "f32", gamma: "f32", beta: "f32", y: "f32 rw" },
  defines: { GAMMA: "bool", BETA: "bool" },
  uniforms: { total: "u32", c: "u32", inner: "u32" },
  workgroupSize: [256],
});

const bwdK = /* @__PURE__ */ kernel({
  name: "batchnorm_backward",
  source: convWgsl.batchnorm_backward,
  lib: [coreWgsl.wg_sum, convWgsl.batchnorm_common],
  bindings: {
    x: "f32",
    gy: "f32",
    stats: "f32",
    gamma: "f32",
    gx: "f32 rw",
    ggamma: "f32 rw",
    gbeta: "f32 rw",
  },
  uniforms: { outer: "u32", c: "u32", inner: "u32" },
  defines: { TRAIN: "bool", GAMMA: "bool", BETA: "bool", GX: "bool" },
  workgroupSize: [256],
});

/** Per-thread loop bound of the channel reductions (lavapipe's loop cap is 65,535). */
const MAX_PER_CHANNEL = 256 * 60000;

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Weight γ [C] (optional). */
  gamma?: Tensor<"f32">;
  /** Bias β [C] (optional). */
  beta?: Tensor<"f32">;
  /** Running mean [C]: updated in place in training, read in evaluation. */
  runningMean?: Tensor<"f32">;
  /** Running variance [C], as `runningMean`. */
  runningVar?: Tensor<"f32">;
  /** Batch statistics (true) or running statistics (false). Default true. */
  training?: boolean;
  /** Running-average factor (PyTorch's default 0.1). */
  momentum?: number;
  /** Variance floor (default 1e-5). */
  eps?: number;
  /** Channel axis (default 1, NCHW; −1 for channels-last). */
  axis?: number;
}

/**
 * PyTorch's `batch_norm`: (x − mean_c)/sqrt(var_c + eps)·γ_c + β_c over the channel axis,
 * with batch statistics (biased variance) in training and the running ones otherwise.
 * Differentiable in x, γ and β.
 */
export function batchNorm(x: Tensor<"f32">, opts: BatchNormOptions = {}): Tensor<"f32"> {
  const op = "batchNorm";
  expectDtype(op, x, "f32");
  if (x.rank < 2) throw new Error(`wgrec ${op}: input ${fmt(x.shape)} must have rank ≥ 2`);
  const axis = normAxis(op, opts.axis ?? 1, x.rank);
  const c = x.shape[axis];
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const training = opts.training ?? true;
  const eps = opts.eps ?? 1e-5;
  const momentum = opts.momentum ?? 0.1;
  for (const [what, p] of Object.entries(opts)) {
    if (p && typeof p === "object") {
      expectDtype(op, p as Tensor, "f32", what);
      if ((p as Tensor).rank !== 1 || (p as Tensor).shape[0] !== c) {
        throw new Error(
          `wgrec ${op}: ${what} ${fmt((p as Tensor).shape)} does not fit input ${fmt(x.shape)} ` +
            `(axis ${axis}), expected [${c}]`,
        );
      }
    }
  }
  const { runningMean: rm, runningVar: rv } = opts;
  if (!training && !(rm && rv)) {
    throw new Error(`wgrec ${op}: evaluation mode needs runningMean and runningVar`);
  }
  if ((rm === undefined) !== (rv === undefined)) {
    throw new Error(`wgrec ${op}: give both runningMean and runningVar, or neither`);
  }
  if (training && outer * inner < 2 && rm) {
    throw new Error(`wgrec ${op}: input ${fmt(x.shape)} has one value per channel in training`);
  }
  if (outer * inner > MAX_PER_CHANNEL) {
    throw new Error(`wgrec ${op}: ${outer * inner} values per channel exceeds ${MAX_PER_CHANNEL}`);
  }
  const stats = output(op, [c, 2], "f32");
  // Absent running buffers are never touched; one-element stand-ins fill their bindings.
  const stand = rm ? null : [zeros([1]), zeros([1])];
  launch(op, statsK, {
    buffers: {
      x: x.buffer,
      rmean: (rm ?? stand![0]).buffer,
      rvar: (rv ?? stand![1]).buffer,
      stats: stats.buffer,
    },
    uniforms: { outer, c, inner, eps, momentum },
    workgroups: [c],
    defines: { TRAIN: training, UPDATE: training && !!rm },
  });
  stand?.forEach((t) => t.dispose());
  const y = output(op, x.shape, "f32");
  const { gamma, beta } = opts;
  launch(op, applyK, {
    buffers: {
      x: x.buffer,
      stats: stats.buffer,
      gamma: (gamma ?? x).buffer,
      beta: (beta ?? x).buffer,
      y: y.buffer,
    },
    uniforms: { total: x.size, c, inner },
    workgroups: groups(x.size),
    defines: { GAMMA: !!gamma, BETA: !!beta },
  }, y);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  const attrs = { outer, c, inner, training, gamma: !!gamma, beta: !!beta };
  record(batchNormRules, y, "batchNorm", inputs, attrs, [stats]);
  if (!y.node) stats.dispose();
  return y;
}

/** Gradient of batch norm: one kernel, one workgroup per channel. */
export function batchNormGrad(
  node: Node<"batchNorm">,
  gy: Tensor<"f32">,
): (Tensor<"f32"> | null)[] {
  const [x, ...params] = node.inputs as Tensor<"f32">[];
  const { outer, c, inner, training } = node.attrs;
  const gamma = node.attrs.gamma ? params[0] : undefined;
  const hasBeta = node.attrs.beta;
  const [stats] = node.saved;
  const gx = output("batchNorm backward", x.shape, "f32");
  const gg = output("batchNorm backward", [c], "f32");
  const gb = output("batchNorm backward", [c], "f32");
  launch("batchNorm backward", bwdK, {
    buffers: {
      x: x.buffer,
      gy: gy.buffer,
      stats: stats.buffer,
      gamma: (gamma ?? x).buffer,
      gx: gx.buffer,
      ggamma: gg.buffer,
      gbeta: gb.buffer,
    },
    uniforms: { outer, c, inner },
    workgroups: [c],
    defines: { TRAIN: training, GAMMA: !!gamma, BETA: hasBeta, GX: true },
  }, gx);
  if (!gamma) gg.dispose();
  if (!hasBeta) gb.dispose();
  return [gx, ...(gamma ? [gg] : []), ...(hasBeta ? [gb] : [])];
}

/** Attributes of the batch-norm op kind (merged into `OpAttrs`). */
export interface BatchNormAttrs {
  /** Saves the per-channel [mean, rstd]; inputs are x then γ and β when given. */
  batchNorm: {
    outer: number;
    c: number;
    inner: number;
    training: boolean;
    gamma: boolean;
    beta: boolean;
  };
}

/** Gradient rule of batch norm. */
export const batchNormRules: RuleTable<keyof BatchNormAttrs> = {
  batchNorm: batchNormGrad,
};
