/**
 * Softmax, log-softmax and logsumexp over an axis (`shaders/softmax.wgsl`), with fused
 * backward kernels (`shaders/softmax_backward.wgsl`). The kernels work on the last axis;
 * another axis is moved there with a permute.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { expectDtype, launch, normAxis, output } from "../common.ts";
import { rowLaunch } from "../rows.ts";
import { permute } from "./shape.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

const fwdK = /* @__PURE__ */ kernel({
  name: "softmax",
  source: coreWgsl.softmax,
  defines: { LOG: "bool", LSE: "bool", SMALL: "bool" },
  bindings: { x: "f32", y: "f32 rw" },
  uniforms: { rows: "u32", n: "u32" },
  workgroupSize: [256],
});

const bwdK = /* @__PURE__ */ kernel({
  name: "softmax_backward",
  source: coreWgsl.softmax_backward,
  lib: [coreWgsl.wg_sum],
  defines: { MODE: "u32", SMALL: "bool" },
  bindings: { x: "f32", y: "f32", gy: "f32", gx: "f32 rw" },
  uniforms: { rows: "u32", n: "u32" },
  workgroupSize: [256],
});

function checkInput(op: string, x: Tensor, axis: number): number {
  expectDtype(op, x, "f32");
  if (x.rank === 0) {
    throw new Error(`wgrec ${op}: input ${fmt(x.shape)} has rank 0, expected rank ≥ 1`);
  }
  return normAxis(op, axis, x.rank);
}

/** `perm` moving `axis` to the end. */
function toLast(rank: number, axis: number): number[] {
  return [...[...Array(rank).keys()].filter((i) => i !== axis), axis];
}

function rowsOf(x: Tensor): { rows: number; n: number } {
  const n = x.shape[x.rank - 1];
  return { rows: n === 0 ? x.size : x.size / n, n };
}

function softmaxLast(op: string, x: Tensor<"f32">, log: boolean): Tensor<"f32"> {
  const { rows, n } = rowsOf(x);
  const y = output(op, x.shape, "f32");
  const { workgroups, small } = rowLaunch(rows, n);
  launch(op, fwdK, {
    buffers: { x: x.buffer, y: y.buffer },
    uniforms: { rows, n },
    workgroups,
    defines: { LOG: log, LSE: false, SMALL: small },
  }, y);
  return record(softmaxRules, y, "softmax", [x], { log });
}

function softmaxAxis(op: string, x: Tensor<"f32">, axis: number, log: boolean): Tensor<"f32"> {
  const ax = checkInput(op, x, axis);
  if (ax === x.rank - 1) return softmaxLast(op, x, log);
  const perm = toLast(x.rank, ax);
  const inv: number[] = [];
  perm.forEach((p, i) => (inv[p] = i));
  const xt = permute(x, perm);
  const yt = softmaxLast(op, xt, log);
  const y = permute(yt, inv);
  // The permuted copies stay alive only when the graph needs them.
  if (!y.node) {
    xt.dispose();
    yt.dispose();
  }
  return y;
}

/** e^x / Σ e^x along `axis` (the last by default), computed stably. */
export function softmax(x: Tensor<"f32">, axis = -1): Tensor<"f32"> {
  return softmaxAxis("softmax", x, axis, false);
}

/** log softmax along `axis` (the last by default): x − logsumexp(x), computed stably. */
export function logSoftmax(x: Tensor<"f32">, axis = -1): Tensor<"f32"> {
  return softmaxAxis("logSoftmax", x, axis, true);
}

/**
 * log Σ e^x along `axis` (the last by default), computed stably; −Inf for an empty axis,
 * as in PyTorch.
 */
export function logSumExp(x: Tensor<"f32">, axis = -1, keepDims = false): Tensor<"f32"> {
  const op = "logSumExp";
  const ax = checkInput(op, x, axis);
  const outShape = keepDims
    ? x.shape.map((d, i) => (i === ax ? 1 : d))
    : x.shape.filter((_, i) => i !== ax);
  // Moving the axis last keeps the other axes in order, so no permute back is needed.
  const xt = ax === x.rank - 1 ? x : permute(x, toLast(x.rank, ax));
  const rows = sizeOfShape(outShape);
  const n = x.shape[ax];
  const y = output(op, outShape, "f32");
  const { workgroups, small } = rowLaunch(rows, n);
  launch(op, fwdK, {
    buffers: { x: xt.buffer, y: y.buffer },
    uniforms: { rows, n },
    workgroups,
    defines: { LOG: false, LSE: true, SMALL: small },
  }, y);
  if (xt === x) return record(softmaxRules, y, "logSumExp", [x], {});
  // Record against the permuted input, whose own node routes the gradient back to x.
  const yr = record(softmaxRules, y, "logSumExp", [xt], {});
  if (!yr.node) xt.dispose();
  return yr;
}

function sizeOfShape(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

function launchBackward(
  op: string,
  x: Tensor<"f32">,
  y: Tensor<"f32">,
  gy: Tensor<"f32">,
  mode: 0 | 1 | 2,
): Tensor<"f32"> {
  const { rows, n } = rowsOf(x);
  const gx = output(op, x.shape, "f32");
  const { workgroups, small } = rowLaunch(rows, n);
  launch(op, bwdK, {
    buffers: { x: x.buffer, y: y.buffer, gy: gy.buffer, gx: gx.buffer },
    uniforms: { rows, n },
    workgroups,
    defines: { MODE: mode, SMALL: small },
  }, gx);
  return gx;
}

/** Gradient of softmax / log-softmax, from the output alone (one fused kernel). */
export function softmaxGrad(node: Node<"softmax">, gy: Tensor<"f32">, y: Tensor): Tensor<"f32">[] {
  const yf = y as Tensor<"f32">;
  const op = node.attrs.log ? "logSoftmax backward" : "softmax backward";
  // x is not read in modes 0 and 1: y is bound in its place.
  return [launchBackward(op, yf, yf, gy, node.attrs.log ? 1 : 0)];
}

/** Gradient of logsumexp: gy · softmax(x), with softmax(x) = e^(x − y). */
export function logSumExpGrad(
  node: Node<"logSumExp">,
  gy: Tensor<"f32">,
  y: Tensor,
): Tensor<"f32">[] {
  const x = node.inputs[0] as Tensor<"f32">;
  return [launchBackward("logSumExp backward", x, y as Tensor<"f32">, gy, 2)];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface SoftmaxAttrs {
  /** `log`: log-softmax. Saves nothing: the backward reads the output. */
  softmax: { log: boolean };
  /** logsumexp over the last axis; the backward reads the input and the output. */
  logSumExp: Record<never, never>;
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const softmaxRules: RuleTable<keyof SoftmaxAttrs> = {
  softmax: softmaxGrad,
  logSumExp: logSumExpGrad,
};
