/**
 * Layer norm over the last axis (`shaders/layernorm.wgsl`), saving each row's mean and
 * 1/std for a fused backward (`shaders/layernorm_backward.wgsl`); the γ/β gradients are
 * reduced over rows in a fixed order (`shaders/layernorm_backward_params.wgsl`), so they are
 * deterministic.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { expectDtype, launch, output } from "../common.ts";
import { reduceAxis } from "./reduce.ts";
import { rowLaunch } from "../rows.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

const fwdK = /* @__PURE__ */ kernel({
  name: "layernorm",
  source: coreWgsl.layernorm,
  lib: [coreWgsl.wg_sum],
  defines: { SMALL: "bool", GAMMA: "bool", BETA: "bool" },
  bindings: { x: "f32", gamma: "f32", beta: "f32", y: "f32 rw", stats: "f32 rw" },
  uniforms: { rows: "u32", n: "u32", eps: "f32" },
  workgroupSize: [256],
});

const bwdK = /* @__PURE__ */ kernel({
  name: "layernorm_backward",
  source: coreWgsl.layernorm_backward,
  defines: { SMALL: "bool", GAMMA: "bool" },
  bindings: { x: "f32", gamma: "f32", stats: "f32", gy: "f32", gx: "f32 rw" },
  uniforms: { rows: "u32", n: "u32" },
  workgroupSize: [256],
});

const paramsK = /* @__PURE__ */ kernel({
  name: "layernorm_backward_params",
  source: coreWgsl.layernorm_backward_params,
  bindings: { x: "f32", stats: "f32", gy: "f32", pg: "f32 rw", pb: "f32 rw" },
  uniforms: { rows: "u32", n: "u32", chunk: "u32" },
  workgroupSize: [64],
});

/** Row blocks of the γ/β gradient's first stage (fixed by the shape: deterministic). */
const MAX_BLOCKS = 1024;

function checkParam(x: Tensor, p: Tensor | undefined, what: string): void {
  if (!p) return;
  expectDtype("layerNorm", p, "f32", what);
  const n = x.shape[x.rank - 1];
  if (p.rank !== 1 || p.shape[0] !== n) {
    throw new Error(
      `wgrec layerNorm: ${what} ${fmt(p.shape)} does not match input ${fmt(x.shape)}, ` +
        `expected [${n}]`,
    );
  }
}

/**
 * (x − mean) / sqrt(var + eps) · γ + β over the last axis (biased variance, as PyTorch's
 * `layer_norm`); `gamma` and `beta` have shape [last dim] and are optional.
 */
export function layerNorm(
  x: Tensor<"f32">,
  gamma?: Tensor<"f32">,
  beta?: Tensor<"f32">,
  eps = 1e-5,
): Tensor<"f32"> {
  expectDtype("layerNorm", x, "f32");
  if (x.rank === 0) {
    throw new Error(`wgrec layerNorm: input ${fmt(x.shape)} has rank 0, expected rank ≥ 1`);
  }
  checkParam(x, gamma, "gamma");
  checkParam(x, beta, "beta");
  if (!(eps >= 0) || !Number.isFinite(eps)) {
    throw new Error(`wgrec layerNorm: eps ${eps} for input ${fmt(x.shape)}, expected ≥ 0`);
  }
  const n = x.shape[x.rank - 1];
  const rows = n === 0 ? 0 : x.size / n;
  const y = output("layerNorm", x.shape, "f32");
  const stats = output("layerNorm", [...x.shape.slice(0, -1), 2], "f32");
  const { workgroups, small } = rowLaunch(rows, n);
  launch("layerNorm", fwdK, {
    buffers: {
      x: x.buffer,
      // Absent parameters are not read; x stands in for their bindings.
      gamma: (gamma ?? x).buffer,
      beta: (beta ?? x).buffer,
      y: y.buffer,
      stats: stats.buffer,
    },
    uniforms: { rows, n, eps },
    workgroups,
    defines: { SMALL: small, GAMMA: !!gamma, BETA: !!beta },
  }, y);
  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  record(layerNormRules, y, "layerNorm", inputs, { eps, gamma: !!gamma, beta: !!beta }, [stats]);
  if (!y.node) stats.dispose();
  return y;
}

/** Gradient of layerNorm: one fused kernel for x, a deterministic two-stage sum for γ and β. */
export function layerNormGrad(
  node: Node<"layerNorm">,
  gy: Tensor<"f32">,
): (Tensor<"f32"> | null)[] {
  const [x, ...params] = node.inputs as Tensor<"f32">[];
  const gamma = node.attrs.gamma ? params[0] : undefined;
  const beta = node.attrs.beta ? params[params.length - 1] : undefined;
  const [stats] = node.saved as Tensor<"f32">[];
  const n = x.shape[x.rank - 1];
  const rows = n === 0 ? 0 : x.size / n;
  let gx: Tensor<"f32"> | null = null;
  if (x.requiresGrad) {
    gx = output("layerNorm backward", x.shape, "f32");
    const { workgroups, small } = rowLaunch(rows, n);
    launch("layerNorm backward", bwdK, {
      buffers: {
        x: x.buffer,
        gamma: (gamma ?? x).buffer,
        stats: stats.buffer,
        gy: gy.buffer,
        gx: gx.buffer,
      },
      uniforms: { rows, n },
      workgroups,
      defines: { SMALL: small, GAMMA: !!gamma },
    }, gx);
  }
  let gGamma: Tensor<"f32"> | null = null;
  let gBeta: Tensor<"f32"> | null = null;
  if (gamma?.requiresGrad || beta?.requiresGrad) {
    const blocks = Math.max(1, Math.min(MAX_BLOCKS, Math.ceil(rows / 32)));
    const chunk = Math.max(1, Math.ceil(rows / blocks));
    const pg = output("layerNorm backward", [blocks, n], "f32");
    const pb = output("layerNorm backward", [blocks, n], "f32");
    launch("layerNorm backward", paramsK, {
      buffers: { x: x.buffer, stats: stats.buffer, gy: gy.buffer, pg: pg.buffer, pb: pb.buffer },
      uniforms: { rows, n, chunk },
      workgroups: [Math.ceil(n / 64), blocks],
    });
    gGamma = reduceAxis("layerNorm backward", 0, pg, 0);
    gBeta = reduceAxis("layerNorm backward", 0, pb, 0);
    pg.dispose();
    pb.dispose();
    if (!gamma?.requiresGrad) {
      gGamma?.dispose();
      gGamma = null;
    }
    if (!beta?.requiresGrad) {
      gBeta?.dispose();
      gBeta = null;
    }
  }
  return [gx, ...(gamma ? [gGamma] : []), ...(beta ? [gBeta] : [])];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface LayerNormAttrs {
  /** Saves the row mean and 1/std, [..., 2]; inputs are x then γ and β when given. */
  layerNorm: { eps: number; gamma: boolean; beta: boolean };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const layerNormRules: RuleTable<keyof LayerNormAttrs> = {
  layerNorm: layerNormGrad,
};
