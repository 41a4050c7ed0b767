/**
 * Window geometry shared by the conv family (conv2d, transposed conv, pooling): options
 * normalised to pairs, output sizes, and the uniform arrays the kernels read.
 * @module
 */

import { fmt, type Shape } from "../../tensor.ts";

/** Image layout: channels second (PyTorch's default) or last. */
export type ConvLayout = "NCHW" | "NHWC";

/** A scalar or a (y, x) pair. */
export type Pair = number | readonly [number, number];

/** Options of a windowed op over an image. */
export interface WindowOptions {
  /** Step between windows (default 1; pooling defaults to the kernel size). */
  stride?: Pair;
  /** Zero padding on each side (default 0). */
  padding?: Pair;
  /** Spacing between kernel taps (default 1). */
  dilation?: Pair;
  /** Image layout (default NCHW). */
  layout?: ConvLayout;
}

/** The full geometry of one windowed op: image, output grid, kernel, stride, pad, dilation. */
export interface Geometry {
  /** Batch. */
  n: number;
  /** Channels of the image. */
  c: number;
  /** Image height. */
  h: number;
  /** Image width. */
  w: number;
  /** Output grid height. */
  oh: number;
  /** Output grid width. */
  ow: number;
  /** Kernel height. */
  kh: number;
  /** Kernel width. */
  kw: number;
  /** Stride (y, x). */
  stride: [number, number];
  /** Padding (y, x). */
  pad: [number, number];
  /** Dilation (y, x). */
  dil: [number, number];
  /** Channel groups. */
  groups: number;
  /** Image layout. */
  layout: ConvLayout;
}

/** A pair from a scalar or pair option, checked to be integers ≥ `min`. */
export function pair(
  op: string,
  what: string,
  v: Pair | undefined,
  dflt: number,
  min: number,
): [number, number] {
  const p: [number, number] = v === undefined
    ? [dflt, dflt]
    : typeof v === "number"
    ? [v, v]
    : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new Error(`wgrec ${op}: ${what} ${JSON.stringify(v)}, expected integers ≥ ${min}`);
  }
  return p;
}

/** [n, c, h, w] of a rank-4 image in `layout`. */
export function imageDims(op: string, shape: Shape, layout: ConvLayout): number[] {
  if (shape.length !== 4) {
    throw new Error(`wgrec ${op}: input ${fmt(shape)} must have rank 4 (${layout})`);
  }
  const [a, b, c, d] = shape;
  return layout === "NCHW" ? [a, b, c, d] : [a, d, b, c];
}

/** The shape of an image [n, c, h, w] in `layout`. */
export function imageShape(n: number, c: number, h: number, w: number, l: ConvLayout): number[] {
  return l === "NCHW" ? [n, c, h, w] : [n, h, w, c];
}

/** Output length of a window sweep (floor mode, as PyTorch). */
export function outLen(len: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((len + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** The `g` and `s` uniform arrays of the conv kernels (`shaders/conv/conv_common.wgsl`). */
export function geometryUniforms(g: Geometry): { g: number[]; s: number[] } {
  return {
    g: [g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw],
    s: [...g.stride, ...g.pad, ...g.dil, g.groups, 0],
  };
}

/** Describes a geometry for error messages and attributes. */
export function describe(g: Geometry): string {
  return `kernel ${g.kh}×${g.kw}, stride ${g.stride.join("×")}, padding ${g.pad.join("×")}, ` +
    `dilation ${g.dil.join("×")}, groups ${g.groups}, ${g.layout}`;
}
