/**
 * Layout ops: reshape, permute/transpose, slice, concat, broadcast. All but reshape go
 * through one strided-copy kernel (`shaders/strided_copy.wgsl`); every op works on every
 * dtype (the kernel copies 32-bit words).
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { type DType, fmt, runtime, type Shape, sizeOf, type Tensor, zeros } from "../../tensor.ts";
import {
  broadcastShapes,
  broadcastStrides,
  collapseDims,
  groups,
  launch,
  normAxis,
  output,
  stridesOf,
} from "../common.ts";
import { sumTo } from "./reduce.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

const copyK = /* @__PURE__ */ kernel({
  name: "strided_copy",
  source: coreWgsl.strided_copy,
  defines: { RANK: "u32" },
  bindings: { x: "u32", out: "u32 rw" },
  uniforms: {
    n: "u32",
    src_off: "u32",
    dst_off: "u32",
    shape: "u32x8",
    src_stride: "u32x8",
    dst_stride: "u32x8",
  },
  workgroupSize: [256],
});

function stridedCopy(
  op: string,
  x: Tensor,
  out: Tensor,
  shape: Shape,
  src: { off: number; stride: readonly number[] },
  dst: { off: number; stride: readonly number[] },
): void {
  if (shape.length > 8) throw new Error(`wgrec ${op}: rank ${shape.length} > 8 unsupported`);
  const n = sizeOf(shape);
  const c = collapseDims(shape, [src.stride, dst.stride]);
  if (c.shape.length === 0 || (c.shape.length === 1 && c.strides.every((st) => st[0] === 1))) {
    // One contiguous range (concat or slice along the first axis): a buffer copy, no dispatch
    // (on a software adapter a memcpy, several times faster than the kernel).
    const rt = runtime();
    rt.copy(x.buffer, src.off * 4, out.buffer, dst.off * 4, n * 4);
    if (rt.checkNumerics && out.dtype === "f32") {
      rt.watch(out.buffer, out.size, `'${op}' (output ${fmt(out.shape)})`);
    }
    return;
  }
  launch(op, copyK, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: {
      n,
      src_off: src.off,
      dst_off: dst.off,
      shape: c.shape,
      src_stride: c.strides[0],
      dst_stride: c.strides[1],
    },
    workgroups: groups(n),
    defines: { RANK: c.shape.length },
  }, out.dtype === "f32" ? out : undefined);
}

/** Same data, new shape (one dim may be −1). Returns `x` itself when the shape is unchanged. */
export function reshape<D extends DType>(x: Tensor<D>, shape: Shape): Tensor<D> {
  const free = shape.indexOf(-1);
  const s = [...shape];
  if (free >= 0) {
    const known = sizeOf(shape.filter((_, i) => i !== free));
    s[free] = known === 0 ? 0 : x.size / known;
  }
  if (sizeOf(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`wgrec reshape: cannot reshape ${fmt(x.shape)} (${x.size}) to ${fmt(shape)}`);
  }
  if (s.length === x.rank && s.every((d, i) => d === x.shape[i])) return x;
  const out = output("reshape", s, x.dtype);
  runtime().copy(x.buffer, 0, out.buffer, 0, x.size * 4);
  return record(shapeRules, out, "reshape", [x], {});
}

/** Permutes the axes: `out.shape[i] = x.shape[perm[i]]`. */
export function permute<D extends DType>(x: Tensor<D>, perm: readonly number[]): Tensor<D> {
  if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) {
    throw new Error(`wgrec permute: [${perm.join(", ")}] is not a permutation of ${x.rank} axes`);
  }
  const shape = perm.map((p) => x.shape[p]);
  const out = output("permute", shape, x.dtype);
  const st = stridesOf(x.shape);
  stridedCopy("permute", x, out, shape, { off: 0, stride: perm.map((p) => st[p]) }, {
    off: 0,
    stride: stridesOf(shape),
  });
  return record(shapeRules, out, "permute", [x], { perm: [...perm] });
}

/** Swaps the last two axes. */
export function transpose<D extends DType>(x: Tensor<D>): Tensor<D> {
  if (x.rank < 2) throw new Error(`wgrec transpose: input ${fmt(x.shape)} has rank < 2`);
  const perm = [...x.shape.keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return permute(x, perm);
}

/** The block `x[begin[i] : begin[i] + size[i]]` (size −1 = to the end). */
export function slice<D extends DType>(
  x: Tensor<D>,
  begin: readonly number[],
  size: readonly number[],
): Tensor<D> {
  if (begin.length !== x.rank || size.length !== x.rank) {
    throw new Error(`wgrec slice: begin/size must have ${x.rank} entries for ${fmt(x.shape)}`);
  }
  const sz = size.map((s, i) => (s === -1 ? x.shape[i] - begin[i] : s));
  sz.forEach((s, i) => {
    if (begin[i] < 0 || s < 0 || begin[i] + s > x.shape[i]) {
      throw new Error(
        `wgrec slice: [${begin.join(", ")}] + [${sz.join(", ")}] is outside ${fmt(x.shape)}`,
      );
    }
  });
  const st = stridesOf(x.shape);
  const out = output("slice", sz, x.dtype);
  const off = begin.reduce((a, b, i) => a + b * st[i], 0);
  stridedCopy("slice", x, out, sz, { off, stride: st }, { off: 0, stride: stridesOf(sz) });
  return record(shapeRules, out, "slice", [x], { begin: [...begin], size: sz });
}

/** Joins tensors along `axis` (all other dims equal). */
export function concat<D extends DType>(xs: readonly Tensor<D>[], axis = 0): Tensor<D> {
  if (xs.length === 0) throw new Error("wgrec concat: no inputs");
  const ax = normAxis("concat", axis, xs[0].rank);
  for (const t of xs) {
    if (
      t.dtype !== xs[0].dtype || t.rank !== xs[0].rank ||
      t.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])
    ) {
      throw new Error(
        `wgrec concat: ${t.dtype} ${fmt(t.shape)} does not match ${xs[0].dtype} ` +
          `${fmt(xs[0].shape)} outside axis ${ax}`,
      );
    }
  }
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((a, t) => a + t.shape[ax], 0);
  const out = output("concat", shape, xs[0].dtype);
  const ost = stridesOf(shape);
  let at = 0;
  for (const t of xs) {
    stridedCopy("concat", t, out, t.shape, { off: 0, stride: stridesOf(t.shape) }, {
      off: at * ost[ax],
      stride: ost,
    });
    at += t.shape[ax];
  }
  return record(shapeRules, out, "concat", xs, { axis: ax });
}

/** Repeats `x` along broadcast dims to `shape`. */
export function broadcastTo<D extends DType>(x: Tensor<D>, shape: Shape): Tensor<D> {
  const b = broadcastShapes("broadcastTo", x.shape, shape);
  if (b.length !== shape.length || b.some((d, i) => d !== shape[i])) {
    throw new Error(`wgrec broadcastTo: ${fmt(x.shape)} does not broadcast to ${fmt(shape)}`);
  }
  if (x.rank === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const out = output("broadcastTo", shape, x.dtype);
  stridedCopy("broadcastTo", x, out, shape, { off: 0, stride: broadcastStrides(x.shape, shape) }, {
    off: 0,
    stride: stridesOf(shape),
  });
  return record(shapeRules, out, "broadcastTo", [x], {});
}

/** Gradient of reshape. */
export const reshapeGrad = (n: Node<"reshape">, gy: Tensor<"f32">): Tensor<"f32">[] => [
  reshape(gy, n.inputs[0].shape),
];

/** Gradient of permute: the inverse permutation. */
export function permuteGrad(n: Node<"permute">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const inv: number[] = [];
  n.attrs.perm.forEach((p, i) => (inv[p] = i));
  return [permute(gy, inv)];
}

/** Gradient of slice: the output gradient placed in a zero tensor of the input's shape. */
export function sliceGrad(n: Node<"slice">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const x = n.inputs[0];
  const gx = zeros(x.shape);
  const st = stridesOf(x.shape);
  const off = n.attrs.begin.reduce((a, b, i) => a + b * st[i], 0);
  stridedCopy("slice backward", gy, gx, gy.shape, { off: 0, stride: stridesOf(gy.shape) }, {
    off,
    stride: st,
  });
  return [gx];
}

/** Gradient of concat: the slices of the output gradient. */
export function concatGrad(n: Node<"concat">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const ax = n.attrs.axis;
  let at = 0;
  return n.inputs.map((t) => {
    const begin = t.shape.map((_, i) => (i === ax ? at : 0));
    at += t.shape[ax];
    return t.requiresGrad ? slice(gy, begin, t.shape) : null;
  }) as Tensor<"f32">[];
}

/** Gradient of broadcastTo. */
export const broadcastToGrad = (n: Node<"broadcastTo">, gy: Tensor<"f32">): Tensor<"f32">[] => [
  sumTo(gy, n.inputs[0].shape),
];

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface ShapeAttrs {
  /** Axis permutation. */
  permute: { perm: number[] };
  /** New shape, same data. */
  reshape: Record<never, never>;
  /** Block of the input. */
  slice: { begin: number[]; size: number[] };
  /** Concatenation along an axis. */
  concat: { axis: number };
  /** Broadcast to a larger shape. */
  broadcastTo: Record<never, never>;
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const shapeRules: RuleTable<keyof ShapeAttrs> = {
  permute: permuteGrad,
  reshape: reshapeGrad,
  slice: sliceGrad,
  concat: concatGrad,
  broadcastTo: broadcastToGrad,
};
