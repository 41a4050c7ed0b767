/**
 * Max / min over an axis with their indices (`shaders/argmax.wgsl`): `max` and `min` are
 * differentiable (the gradient goes to the first extremal element, as PyTorch's `max(dim)`),
 * `argmax` and `argmin` return i32 indices (first index on ties). NaN propagates: it counts as
 * larger (for max) or smaller (for min) than every number.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, runtime, type Shape, type Tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, normAxis, output } from "../common.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

const argK = /* @__PURE__ */ kernel({
  name: "argmax",
  source: coreWgsl.argmax,
  defines: { ROW: "bool", MIN: "bool" },
  bindings: { x: "f32", val: "f32 rw", idx: "i32 rw" },
  uniforms: { outer: "u32", red: "u32", inner: "u32" },
  workgroupSize: [256],
});

const backK = /* @__PURE__ */ kernel({
  name: "max_backward",
  source: coreWgsl.max_backward,
  bindings: { idx: "i32", gy: "f32", gx: "f32 rw" },
  uniforms: { outer: "u32", red: "u32", inner: "u32" },
  workgroupSize: [256],
});

/** x viewed as [outer, red, inner] around `axis` (null: every element is reduced). */
function geometry(shape: Shape, axis: number | null) {
  const prod = (s: Shape) => s.reduce((a, b) => a * b, 1);
  if (axis === null) return { outer: 1, red: prod(shape), inner: 1 };
  return {
    outer: prod(shape.slice(0, axis)),
    red: shape[axis],
    inner: prod(shape.slice(axis + 1)),
  };
}

function extremum(
  op: string,
  x: Tensor<"f32">,
  axis: number | undefined,
  keepDims: boolean,
  min: boolean,
): { val: Tensor<"f32">; idx: Tensor<"i32">; ax: number | null } {
  expectDtype(op, x, "f32");
  const ax = axis === undefined ? null : normAxis(op, axis, x.rank);
  if (ax !== null && x.rank === 0) {
    throw new Error(`wgrec ${op}: input ${fmt(x.shape)} has rank 0; omit the axis`);
  }
  const { outer, red, inner } = geometry(x.shape, ax);
  if (red === 0) {
    throw new Error(
      `wgrec ${op}: cannot reduce an empty ${ax === null ? "tensor" : `axis ${ax}`} of ` +
        `${fmt(x.shape)}, expected at least one element`,
    );
  }
  const outShape = x.shape
    .map((d, i) => (ax === null || i === ax ? (keepDims ? 1 : -1) : d))
    .filter((d) => d >= 0);
  const val = output(op, outShape, "f32");
  const idx = output(op, outShape, "i32");
  const row = inner === 1;
  launch(op, argK, {
    buffers: { x: x.buffer, val: val.buffer, idx: idx.buffer },
    uniforms: { outer, red, inner },
    workgroups: row ? [outer] : groups(outer * inner),
    defines: { ROW: row, MIN: min },
  }, val);
  return { val, idx, ax };
}

/**
 * Maximum along `axis` (every element when omitted). Differentiable: the gradient goes to the
 * first maximal element. Use {@link argmax} for the indices.
 */
export function max(x: Tensor<"f32">, axis?: number, keepDims = false): Tensor<"f32"> {
  const { val, idx, ax } = extremum("max", x, axis, keepDims, false);
  record(minMaxRules, val, "max", [x], { axis: ax }, [idx]);
  if (!val.node) idx.dispose();
  return val;
}

/**
 * Minimum along `axis` (every element when omitted). Differentiable: the gradient goes to the
 * first minimal element. Use {@link argmin} for the indices.
 */
export function min(x: Tensor<"f32">, axis?: number, keepDims = false): Tensor<"f32"> {
  const { val, idx, ax } = extremum("min", x, axis, keepDims, true);
  record(minMaxRules, val, "min", [x], { axis: ax }, [idx]);
  if (!val.node) idx.dispose();
  return val;
}

/** Index of the first maximum along `axis` (of the flattened tensor when omitted). */
export function argmax(x: Tensor<"f32">, axis?: number, keepDims = false): Tensor<"i32"> {
  const { val, idx } = extremum("argmax", x, axis, keepDims, false);
  val.dispose();
  return idx;
}

/** Index of the first minimum along `axis` (of the flattened tensor when omitted). */
export function argmin(x: Tensor<"f32">, axis?: number, keepDims = false): Tensor<"i32"> {
  const { val, idx } = extremum("argmin", x, axis, keepDims, true);
  val.dispose();
  return idx;
}

/** Gradient of `max` / `min`: gy scattered to the saved indices, zeros elsewhere. */
export function maxGrad(node: Node<"max" | "min">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const x = node.inputs[0];
  const [idx] = node.saved;
  const { outer, red, inner } = geometry(x.shape, node.attrs.axis);
  const op = `${node.kind} backward`;
  const gx = output(op, x.shape, "f32");
  runtime().clear(gx.buffer, gx.size * 4);
  launch(op, backK, {
    buffers: { idx: idx.buffer, gy: gy.buffer, gx: gx.buffer },
    uniforms: { outer, red, inner },
    workgroups: groups(outer * inner),
  }, gx);
  return [gx];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface MinMaxAttrs {
  /** `axis` null: over every element. Saves the i32 index of the extremum. */
  max: { axis: number | null };
  /** As `max`, for the minimum. */
  min: { axis: number | null };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const minMaxRules: RuleTable<keyof MinMaxAttrs> = {
  max: maxGrad,
  min: maxGrad,
};
