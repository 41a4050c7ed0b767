/**
 * im2col and its adjoint col2im (`shaders/conv/im2col.wgsl`, `col2im.wgsl`): the two layout
 * ops that turn convolutions into matmuls. Each is the other's gradient, so conv2d and its
 * transpose are differentiable through them and the matmul kernels.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import * as convWgsl from "../../../shaders/conv/wgsl.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { describe, type Geometry, geometryUniforms, imageShape } from "./geometry.ts";

const im2colK = /* @__PURE__ */ kernel({
  name: "im2col",
  source: convWgsl.im2col,
  lib: [convWgsl.conv_common],
  bindings: { x: "f32", cols: "f32 rw" },
  defines: { NHWC: "bool" },
  uniforms: { total: "u32", g: "u32x8", s: "u32x8" },
  workgroupSize: [256],
});

const col2imK = /* @__PURE__ */ kernel({
  name: "col2im",
  source: convWgsl.col2im,
  lib: [convWgsl.conv_common],
  bindings: { cols: "f32", img: "f32 rw" },
  defines: { NHWC: "bool" },
  uniforms: { total: "u32", g: "u32x8", s: "u32x8" },
  workgroupSize: [256],
});

/** Shape of the columns of a geometry: [groups, n·oh·ow, (c/groups)·kh·kw]. */
export function colsShape(g: Geometry): number[] {
  return [g.groups, g.n * g.oh * g.ow, (g.c / g.groups) * g.kh * g.kw];
}

/** Checks a geometry's image against a tensor and its sizes against the kernel's limits. */
function checkGeometry(op: string, g: Geometry): void {
  const vals = [g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.groups];
  if (!vals.every((v) => Number.isInteger(v) && v >= 0) || g.c % g.groups !== 0) {
    throw new Error(`wgrec ${op}: invalid geometry (${describe(g)}, image ${g.c} channels)`);
  }
  if (g.kh * g.kw > 4096) {
    throw new Error(`wgrec ${op}: kernel ${g.kh}×${g.kw} has more than 4096 taps`);
  }
}

/** The columns of image `x` (shape of `g`'s image) for the windows of `g`. Differentiable. */
export function im2col(x: Tensor<"f32">, g: Geometry): Tensor<"f32"> {
  expectDtype("im2col", x, "f32");
  checkGeometry("im2col", g);
  const want = imageShape(g.n, g.c, g.h, g.w, g.layout);
  if (x.shape.join() !== want.join()) {
    throw new Error(`wgrec im2col: input ${fmt(x.shape)}, expected ${fmt(want)} (${describe(g)})`);
  }
  const cols = output("im2col", colsShape(g), "f32");
  launch("im2col", im2colK, {
    buffers: { x: x.buffer, cols: cols.buffer },
    uniforms: { total: cols.size, ...geometryUniforms(g) },
    workgroups: groups(cols.size),
    defines: { NHWC: g.layout === "NHWC" },
  }, cols);
  return record(im2colRules, cols, "im2col", [x], { geometry: g });
}

/**
 * Sums columns back into an image of `g`'s shape (each pixel gathers every entry that reads
 * it): the adjoint of {@link im2col}, and the scatter step of a transposed convolution.
 * Differentiable.
 */
export function col2im(cols: Tensor<"f32">, g: Geometry): Tensor<"f32"> {
  expectDtype("col2im", cols, "f32");
  checkGeometry("col2im", g);
  const want = colsShape(g);
  if (cols.shape.join() !== want.join()) {
    throw new Error(
      `wgrec col2im: columns ${fmt(cols.shape)}, expected ${fmt(want)} (${describe(g)})`,
    );
  }
  const img = output("col2im", imageShape(g.n, g.c, g.h, g.w, g.layout), "f32");
  launch("col2im", col2imK, {
    buffers: { cols: cols.buffer, img: img.buffer },
    uniforms: { total: img.size, ...geometryUniforms(g) },
    workgroups: groups(img.size),
    defines: { NHWC: g.layout === "NHWC" },
  }, img);
  return record(im2colRules, img, "col2im", [cols], { geometry: g });
}

/** Attributes of this family's layout op kinds (merged into `OpAttrs`). */
export interface Im2colAttrs {
  /** Image → columns of a window geometry. */
  im2col: { geometry: Geometry };
  /** Columns → image (sum over the windows that read each pixel). */
  col2im: { geometry: Geometry };
}

/** Gradient rules: each op's gradient is the other op. */
export const im2colRules: RuleTable<keyof Im2colAttrs> = {
  im2col: (n: Node<"im2col">, gy) => [col2im(gy, n.attrs.geometry)],
  col2im: (n: Node<"col2im">, gy) => [im2col(gy, n.attrs.geometry)],
};
