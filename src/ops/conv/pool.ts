/**
 * Average and max pooling over 2-D windows (`shaders/conv/pool.wgsl`), NCHW or NHWC, with
 * stride and padding; the backward gathers per input pixel (`pool_backward.wgsl`: no atomics,
 * deterministic). Max pooling saves the argmax of each window.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import * as convWgsl from "../../../shaders/conv/wgsl.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, zeros } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import {
  describe,
  type Geometry,
  geometryUniforms,
  imageDims,
  imageShape,
  outLen,
  type Pair,
  pair,
  type WindowOptions,
} from "./geometry.ts";

const poolK = /* @__PURE__ */ kernel({
  name: "pool",
  source: convWgsl.pool,
  lib: [convWgsl.conv_common],
  bindings: { x: "f32", y: "f32 rw", argmax: "i32 rw" },
  defines: { NHWC: "bool", MAX: "bool" },
  uniforms: { total: "u32", g: "u32x8", s: "u32x8" },
  workgroupSize: [256],
});

const poolBwdK = /* @__PURE__ */ kernel({
  name: "pool_backward",
  source: convWgsl.pool_backward,
  lib: [convWgsl.conv_common],
  bindings: { gy: "f32", argmax: "i32", gx: "f32 rw" },
  defines: { NHWC: "bool", MAX: "bool" },
  uniforms: { total: "u32", g: "u32x8", s: "u32x8" },
  workgroupSize: [256],
});

/** Options of {@link avgPool2d} and {@link maxPool2d}. */
export interface Pool2dOptions extends Omit<WindowOptions, "dilation"> {
  /** Step between windows (default: the kernel size, as PyTorch). */
  stride?: Pair;
}

function pool(
  op: "avgPool2d" | "maxPool2d",
  x: Tensor<"f32">,
  kernelSize: Pair,
  opts: Pool2dOptions,
): Tensor<"f32"> {
  expectDtype(op, x, "f32");
  const layout = opts.layout ?? "NCHW";
  const [n, c, h, w] = imageDims(op, x.shape, layout);
  const [kh, kw] = pair(op, "kernel size", kernelSize, 1, 1);
  const stride = pair(op, "stride", opts.stride ?? [kh, kw], 1, 1);
  const pad = pair(op, "padding", opts.padding, 0, 0);
  const geo: Geometry = {
    n,
    c,
    h,
    w,
    oh: outLen(h, kh, stride[0], pad[0], 1),
    ow: outLen(w, kw, stride[1], pad[1], 1),
    kh,
    kw,
    stride,
    pad,
    dil: [1, 1],
    groups: 1,
    layout,
  };
  if (2 * pad[0] > kh || 2 * pad[1] > kw) {
    throw new Error(`wgrec ${op}: padding ${pad} must be at most half the kernel ${kh}×${kw}`);
  }
  if (geo.oh < 1 || geo.ow < 1) {
    throw new Error(
      `wgrec ${op}: input ${fmt(x.shape)} is smaller than the window (${describe(geo)})`,
    );
  }
  const isMax = op === "maxPool2d";
  const y = output(op, imageShape(n, c, geo.oh, geo.ow, layout), "f32");
  // Average pooling writes no argmax: a one-element stand-in fills the binding.
  const arg = isMax ? output(op, y.shape, "i32") : zeros([1], "i32");
  launch(op, poolK, {
    buffers: { x: x.buffer, y: y.buffer, argmax: arg.buffer },
    uniforms: { total: y.size, ...geometryUniforms(geo) },
    workgroups: groups(y.size),
    defines: { NHWC: layout === "NHWC", MAX: isMax },
  }, y);
  record(poolRules, y, "pool2d", [x], { geometry: geo, max: isMax }, [arg]);
  if (!y.node) arg.dispose();
  return y;
}

/**
 * Mean over kh×kw windows (zero padding counted, as PyTorch's default
 * `count_include_pad = True`). `x` is [n, c, h, w] or, with `layout: "NHWC"`, [n, h, w, c].
 */
export function avgPool2d(
  x: Tensor<"f32">,
  kernelSize: Pair,
  opts: Pool2dOptions = {},
): Tensor<"f32"> {
  return pool("avgPool2d", x, kernelSize, opts);
}

/** Maximum over kh×kw windows (padding never wins); the gradient goes to the first maximum. */
export function maxPool2d(
  x: Tensor<"f32">,
  kernelSize: Pair,
  opts: Pool2dOptions = {},
): Tensor<"f32"> {
  return pool("maxPool2d", x, kernelSize, opts);
}

/** Gradient of pooling: each input pixel gathers from the windows that used it. */
export function poolGrad(node: Node<"pool2d">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const geo = node.attrs.geometry;
  const [arg] = node.saved;
  const gx = output("pool2d backward", node.inputs[0].shape, "f32");
  launch("pool2d backward", poolBwdK, {
    buffers: { gy: gy.buffer, argmax: arg.buffer, gx: gx.buffer },
    uniforms: { total: gx.size, ...geometryUniforms(geo) },
    workgroups: groups(gx.size),
    defines: { NHWC: geo.layout === "NHWC", MAX: node.attrs.max },
  }, gx);
  return [gx];
}

/** Attributes of the pooling op kind (merged into `OpAttrs`). */
export interface PoolAttrs {
  /** Average or max pooling; saves the argmax (max) or a stand-in. */
  pool2d: { geometry: Geometry; max: boolean };
}

/** Gradient rule of pooling. */
export const poolRules: RuleTable<keyof PoolAttrs> = { pool2d: poolGrad };
