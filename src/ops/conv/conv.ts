/**
 * 2-D convolution and transposed convolution (NCHW or NHWC, any stride, padding, dilation and
 * groups) as im2col + matmul: the columns [groups, n·oh·ow, (c/groups)·kh·kw] times the
 * weight, through the same matmul kernels and per-adapter selection as `matmul`
 * (register-blocked on software adapters, workgroup-tiled on hardware GPUs; see
 * `src/ops/matmul/select.ts`). A 1×1, stride-1, unpadded NHWC convolution needs no columns at
 * all. Weights use PyTorch's layouts: conv [Cout, Cin/groups, kh, kw], transposed conv
 * [Cin, Cout/groups, kh, kw]. Differentiable in input, weight and bias through the recorded
 * im2col/col2im, matmul, permute and reshape ops.
 * @module
 */

import { fmt, type Tensor } from "../../tensor.ts";
import { expectDtype } from "../common.ts";
import { add } from "../core/elementwise.ts";
import { permute, reshape } from "../core/shape.ts";
import { linear, matmul } from "../matmul/matmul.ts";
import {
  type ConvLayout,
  describe,
  type Geometry,
  imageDims,
  outLen,
  type Pair,
  pair,
  type WindowOptions,
} from "./geometry.ts";
import { col2im, im2col } from "./im2col.ts";

/** Options of {@link conv2d}. */
export interface Conv2dOptions extends WindowOptions {
  /** Channel groups (default 1): input and output channels split into this many blocks. */
  groups?: number;
}

/** Options of {@link convTranspose2d}. */
export interface ConvTranspose2dOptions extends Conv2dOptions {
  /** Extra rows/columns on the bottom/right of the output (default 0, < stride or dilation). */
  outputPadding?: Pair;
}

function checkWeight(op: string, w: Tensor, b: Tensor | null, lead: number, cout: number): void {
  expectDtype(op, w, "f32", "weight");
  if (w.rank !== 4) throw new Error(`wgrec ${op}: weight ${fmt(w.shape)} must have rank 4`);
  if (b) {
    expectDtype(op, b, "f32", "bias");
    if (b.rank !== 1 || b.shape[0] !== cout) {
      throw new Error(
        `wgrec ${op}: bias ${fmt(b.shape)} does not fit weight ${fmt(w.shape)}, expected [${cout}]`,
      );
    }
  }
  if (w.shape[0] !== lead) throw new Error(`wgrec ${op}: weight ${fmt(w.shape)} (internal)`);
}

/** Adds a per-channel bias to an image in `layout`. */
function addBias(y: Tensor<"f32">, b: Tensor<"f32">, layout: ConvLayout): Tensor<"f32"> {
  return add(y, layout === "NCHW" ? reshape(b, [1, b.shape[0], 1, 1]) : b);
}

/**
 * [groups, n·h·w, c/groups] rows of an image → the image: [n, h, w, c] or [n, c, h, w].
 * (The layout step between the matmul's row-major result and the caller's layout.)
 */
function rowsToImage(
  y: Tensor<"f32">,
  n: number,
  h: number,
  w: number,
  groups: number,
  layout: ConvLayout,
): Tensor<"f32"> {
  const cg = y.shape[2];
  if (layout === "NHWC") {
    const t = groups === 1 ? y : permute(y, [1, 0, 2]);
    return reshape(t, [n, h, w, groups * cg]);
  }
  const t = permute(reshape(y, [groups, n, h * w, cg]), [1, 0, 3, 2]);
  return reshape(t, [n, groups * cg, h, w]);
}

/** The inverse layout step: an image → [groups, n·h·w, c/groups]. */
function imageToRows(x: Tensor<"f32">, groups: number, layout: ConvLayout): Tensor<"f32"> {
  const [n, c, h, w] = imageDims("convTranspose2d", x.shape, layout);
  const cg = c / groups;
  if (layout === "NHWC") {
    const r = reshape(x, [n * h * w, groups, cg]);
    return groups === 1 ? reshape(r, [1, n * h * w, cg]) : permute(r, [1, 0, 2]);
  }
  const t = permute(reshape(x, [n, groups, cg, h * w]), [1, 0, 3, 2]);
  return reshape(t, [groups, n * h * w, cg]);
}

/**
 * Cross-correlation of `x` ([n, c, h, w] or [n, h, w, c]) with `w` [Cout, c/groups, kh, kw],
 * plus an optional bias [Cout]: PyTorch's `conv2d`. Output [n, Cout, oh, ow] (or NHWC) with
 * oh = ⌊(h + 2·pad − dil·(kh − 1) − 1) / stride⌋ + 1.
 */
export function conv2d(
  x: Tensor<"f32">,
  w: Tensor<"f32">,
  b: Tensor<"f32"> | null = null,
  opts: Conv2dOptions = {},
): Tensor<"f32"> {
  const op = "conv2d";
  expectDtype(op, x, "f32", "input");
  const layout = opts.layout ?? "NCHW";
  const [n, c, h, wd] = imageDims(op, x.shape, layout);
  const G = opts.groups ?? 1;
  const [cout, cg, kh, kw] = w.rank === 4 ? w.shape : [0, 0, 0, 0];
  checkWeight(op, w, b, cout, cout);
  const geo: Geometry = {
    n,
    c,
    h,
    w: wd,
    oh: 0,
    ow: 0,
    kh,
    kw,
    stride: pair(op, "stride", opts.stride, 1, 1),
    pad: pair(op, "padding", opts.padding, 0, 0),
    dil: pair(op, "dilation", opts.dilation, 1, 1),
    groups: G,
    layout,
  };
  geo.oh = outLen(h, kh, geo.stride[0], geo.pad[0], geo.dil[0]);
  geo.ow = outLen(wd, kw, geo.stride[1], geo.pad[1], geo.dil[1]);
  if (!Number.isInteger(G) || G < 1 || c % G || cout % G || cg * G !== c) {
    throw new Error(
      `wgrec ${op}: input ${fmt(x.shape)} (${layout}) and weight ${fmt(w.shape)} with ` +
        `groups ${G}: expected weight [Cout, ${c / G}, kh, kw] with Cout and ${c} divisible ` +
        `by ${G}`,
    );
  }
  if (geo.oh < 1 || geo.ow < 1) {
    throw new Error(
      `wgrec ${op}: input ${fmt(x.shape)} is smaller than the window (${describe(geo)})`,
    );
  }
  const direct = kh === 1 && kw === 1 && geo.stride.join() === "1,1" && geo.pad.join() === "0,0";
  if (G === 1) {
    // [n·oh·ow, c·kh·kw] · [Cout, c·kh·kw]ᵀ + b: the fused linear kernel, rows in NHWC order.
    const cols = direct && layout === "NHWC"
      ? reshape(x, [n * h * wd, c])
      : reshape(im2col(x, geo), [n * geo.oh * geo.ow, cg * kh * kw]);
    const y = linear(cols, reshape(w, [cout, cg * kh * kw]), b);
    if (layout === "NHWC") return reshape(y, [n, geo.oh, geo.ow, cout]);
    return reshape(
      permute(reshape(y, [n, geo.oh * geo.ow, cout]), [0, 2, 1]),
      [n, cout, geo.oh, geo.ow],
    );
  }
  const cols = im2col(x, geo);
  const y = matmul(cols, reshape(w, [G, cout / G, cg * kh * kw]), { transB: true });
  const img = rowsToImage(y, n, geo.oh, geo.ow, G, layout);
  return b ? addBias(img, b, layout) : img;
}

/**
 * Transposed convolution (the gradient of conv2d with respect to its input): `x`
 * [n, Cin, h, w] (or NHWC), `w` [Cin, Cout/groups, kh, kw], optional bias [Cout]; PyTorch's
 * `conv_transpose2d`. Output size (h − 1)·stride − 2·pad + dil·(kh − 1) + outputPadding + 1.
 */
export function convTranspose2d(
  x: Tensor<"f32">,
  w: Tensor<"f32">,
  b: Tensor<"f32"> | null = null,
  opts: ConvTranspose2dOptions = {},
): Tensor<"f32"> {
  const op = "convTranspose2d";
  expectDtype(op, x, "f32", "input");
  const layout = opts.layout ?? "NCHW";
  const [n, cin, h, wd] = imageDims(op, x.shape, layout);
  const G = opts.groups ?? 1;
  const [wcin, coutg, kh, kw] = w.rank === 4 ? w.shape : [0, 0, 0, 0];
  checkWeight(op, w, b, wcin, coutg * G);
  if (!Number.isInteger(G) || G < 1 || wcin !== cin || cin % G) {
    throw new Error(
      `wgrec ${op}: input ${fmt(x.shape)} (${layout}) and weight ${fmt(w.shape)} with groups ` +
        `${G}: expected weight [${cin}, Cout/groups, kh, kw] with ${cin} divisible by ${G}`,
    );
  }
  const stride = pair(op, "stride", opts.stride, 1, 1);
  const pad = pair(op, "padding", opts.padding, 0, 0);
  const dil = pair(op, "dilation", opts.dilation, 1, 1);
  const opad = pair(op, "outputPadding", opts.outputPadding, 0, 0);
  if (opad[0] >= Math.max(stride[0], dil[0]) || opad[1] >= Math.max(stride[1], dil[1])) {
    throw new Error(`wgrec ${op}: outputPadding ${opad} must be < stride or dilation`);
  }
  const oh = (h - 1) * stride[0] - 2 * pad[0] + dil[0] * (kh - 1) + opad[0] + 1;
  const ow = (wd - 1) * stride[1] - 2 * pad[1] + dil[1] * (kw - 1) + opad[1] + 1;
  if (oh < 1 || ow < 1) {
    throw new Error(`wgrec ${op}: input ${fmt(x.shape)} gives an empty output ${oh}×${ow}`);
  }
  // The conv whose input is our output and whose output grid is our input grid.
  const geo: Geometry = {
    n,
    c: coutg * G,
    h: oh,
    w: ow,
    oh: h,
    ow: wd,
    kh,
    kw,
    stride,
    pad,
    dil,
    groups: G,
    layout,
  };
  const rows = imageToRows(x, G, layout); // [G, n·h·w, Cin/G]
  const cols = matmul(rows, reshape(w, [G, cin / G, coutg * kh * kw])); // [G, n·h·w, Cout/G·kh·kw]
  const img = col2im(cols, geo);
  return b ? addBias(img, b, layout) : img;
}
