/**
 * Selection with broadcasting (`shaders/where.wgsl`): `where(cond, a, b)` and
 * `maskedFill(x, mask, value)`. The kernel moves raw 32-bit words, so values may have any
 * dtype; f32 results are differentiable in the values (never in the condition).
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { type DType, fmt, type Shape, type Tensor } from "../../tensor.ts";
import { broadcastShapes, broadcastStrides, groups, launch, output } from "../common.ts";
import { sumTo } from "./reduce.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

const whereK = /* @__PURE__ */ kernel({
  name: "where",
  source: coreWgsl.where,
  defines: { COND_F32: "bool", FILL: "u32" },
  bindings: { c: "u32", a: "u32", b: "u32", out: "u32 rw" },
  uniforms: {
    n: "u32",
    rank: "u32",
    fill: "u32",
    shape: "u32x8",
    sc: "u32x8",
    sa: "u32x8",
    sb: "u32x8",
  },
  workgroupSize: [256],
});

/** The 32-bit word of `value` stored as `dtype`. */
function wordOf(op: string, value: number, dtype: DType, shape: Shape): number {
  const v = new DataView(new ArrayBuffer(4));
  if (dtype === "f32") v.setFloat32(0, value, true);
  else {
    const lo = dtype === "i32" ? -(2 ** 31) : 0;
    const hi = dtype === "i32" ? 2 ** 31 - 1 : 2 ** 32 - 1;
    if (!Number.isInteger(value) || value < lo || value > hi) {
      throw new Error(
        `wgrec ${op}: value ${value} does not fit input ${fmt(shape)} of dtype ${dtype}`,
      );
    }
    if (dtype === "i32") v.setInt32(0, value, true);
    else v.setUint32(0, value, true);
  }
  return v.getUint32(0, true);
}

/**
 * cond ? a : b elementwise, over the broadcast shape of all three. `fill` replaces operand
 * a (1) or b (2) by a constant word. Internal: no graph recording.
 */
function select<D extends DType>(
  op: string,
  cond: Tensor,
  a: Tensor<D> | null,
  b: Tensor<D> | null,
  dtype: D,
  fillWord = 0,
  watch = true,
): Tensor<D> {
  const shapes = [cond.shape, a?.shape ?? [], b?.shape ?? []];
  let shape: number[];
  try {
    shape = broadcastShapes(op, broadcastShapes(op, shapes[0], shapes[1]), shapes[2]);
  } catch {
    throw new Error(
      `wgrec ${op}: shapes ${shapes.map(fmt).join(", ")} (condition, then values) do not ` +
        `broadcast together`,
    );
  }
  if (shape.length > 8) throw new Error(`wgrec ${op}: rank ${shape.length} > 8 unsupported`);
  const out = output(op, shape, dtype);
  const src = (a ?? b)!;
  launch(op, whereK, {
    buffers: { c: cond.buffer, a: (a ?? src).buffer, b: (b ?? src).buffer, out: out.buffer },
    uniforms: {
      n: out.size,
      rank: shape.length,
      fill: fillWord,
      shape,
      sc: broadcastStrides(cond.shape, shape),
      sa: broadcastStrides(a?.shape ?? [], shape),
      sb: broadcastStrides(b?.shape ?? [], shape),
    },
    workgroups: groups(out.size),
    defines: { COND_F32: cond.dtype === "f32", FILL: a ? (b ? 0 : 2) : 1 },
  }, watch ? out : undefined);
  return out;
}

/**
 * `cond ? a : b` elementwise, broadcasting all three (NumPy rules). `cond` may have any dtype;
 * nonzero is true (for f32, −0 is false and NaN is true). `a` and `b` must share a dtype;
 * f32 results are differentiable in `a` and `b`.
 */
export function where<D extends DType>(cond: Tensor, a: Tensor<D>, b: Tensor<D>): Tensor<D> {
  if (a.dtype !== b.dtype) {
    throw new Error(
      `wgrec where: values ${fmt(a.shape)} (${a.dtype}) and ${fmt(b.shape)} (${b.dtype}) ` +
        `have different dtypes, expected the same`,
    );
  }
  const out = select("where", cond, a, b, a.dtype);
  return a.dtype === "f32" ? record(whereRules, out, "where", [cond, a, b], {}) : out;
}

/**
 * `x` with `value` wherever `mask` is nonzero (`mask` broadcasts to `x`'s shape; any dtype).
 * `value` may be ±Infinity (e.g. attention masks). Differentiable in `x` for f32.
 */
export function maskedFill<D extends DType>(x: Tensor<D>, mask: Tensor, value: number): Tensor<D> {
  const b = broadcastShapes("maskedFill", x.shape, mask.shape);
  if (b.length !== x.rank || b.some((d, i) => d !== x.shape[i])) {
    throw new Error(
      `wgrec maskedFill: mask ${fmt(mask.shape)} does not broadcast to input ${fmt(x.shape)}`,
    );
  }
  const word = wordOf("maskedFill", value, x.dtype, x.shape);
  // A fill of ±Inf is deliberate: numerics-check mode does not flag it.
  const out = select("maskedFill", mask, null, x, x.dtype, word, Number.isFinite(value));
  return x.dtype === "f32" ? record(whereRules, out, "maskedFill", [x, mask], { value }) : out;
}

/** Gradient of where: gy routed to a where cond holds and to b elsewhere, summed to shape. */
export function whereGrad(node: Node<"where">, gy: Tensor<"f32">): (Tensor<"f32"> | null)[] {
  const [cond, a, b] = node.inputs as [Tensor, Tensor<"f32">, Tensor<"f32">];
  const route = (g: Tensor<"f32">, shape: Shape) => {
    const r = sumTo(g, shape);
    if (r !== g) g.dispose();
    return r;
  };
  return [
    null,
    a.requiresGrad ? route(select("where backward", cond, gy, null, "f32"), a.shape) : null,
    b.requiresGrad ? route(select("where backward", cond, null, gy, "f32"), b.shape) : null,
  ];
}

/** Gradient of maskedFill: gy where the mask is zero, 0 where it was filled. */
export function maskedFillGrad(
  node: Node<"maskedFill">,
  gy: Tensor<"f32">,
): (Tensor<"f32"> | null)[] {
  const [, mask] = node.inputs;
  return [select("maskedFill backward", mask, null, gy, "f32"), null];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface WhereAttrs {
  /** Inputs: cond, a, b. */
  where: Record<never, never>;
  /** Inputs: x, mask. */
  maskedFill: { value: number };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const whereRules: RuleTable<keyof WhereAttrs> = {
  where: whereGrad,
  maskedFill: maskedFillGrad,
};
