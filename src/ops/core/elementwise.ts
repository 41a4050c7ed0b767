/**
 * Elementwise ops: unary (`shaders/unary.wgsl`) and broadcasting binary
 * (`shaders/binary.wgsl`), with their gradient rules.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import type { Tensor } from "../../tensor.ts";
import {
  broadcastShapes,
  broadcastStrides,
  collapseDims,
  expectDtype,
  groups,
  launch,
  output,
} from "../common.ts";
import { sumTo } from "./reduce.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

/** Code of each unary op in `unary_fn` / `unary_dfn` (shaders/common/elementwise_fns.wgsl). */
export const UNARY_CODE: Record<UnaryOp, number> = {
  neg: 0,
  exp: 1,
  log: 2,
  sqrt: 3,
  relu: 4,
  gelu: 5,
  sigmoid: 6,
  tanh: 7,
  abs: 8,
  square: 9,
  affine: 10,
  pow: 11,
  logsigmoid: 12,
  softplus: 13,
};

const unaryK = /* @__PURE__ */ kernel({
  name: "unary",
  source: coreWgsl.unary,
  lib: [commonWgsl.numerics, commonWgsl.elementwise_fns],
  defines: { OP: "u32" },
  bindings: { x: "f32", y: "f32 rw" },
  uniforms: { n: "u32", alpha: "f32", beta: "f32" },
  workgroupSize: [256],
});

const unaryBackK = /* @__PURE__ */ kernel({
  name: "unary_backward",
  source: coreWgsl.unary_backward,
  lib: [commonWgsl.numerics, commonWgsl.elementwise_fns],
  defines: { OP: "u32" },
  bindings: { x: "f32", y: "f32", gy: "f32", gx: "f32 rw" },
  uniforms: { n: "u32", alpha: "f32", beta: "f32" },
  workgroupSize: [256],
});

/** Applies a unary op (`alpha`, `beta` parametrise `affine` and `pow`). */
export function unary(op: UnaryOp, x: Tensor<"f32">, alpha = 1, beta = 0): Tensor<"f32"> {
  expectDtype(op, x, "f32");
  const y = output(op, x.shape, "f32");
  launch(op, unaryK, {
    buffers: { x: x.buffer, y: y.buffer },
    uniforms: { n: x.size, alpha, beta },
    workgroups: groups(x.size),
    defines: { OP: UNARY_CODE[op] },
  }, y);
  return record(elementwiseRules, y, "unary", [x], { op, alpha, beta });
}

/** −x */
export const neg = (x: Tensor<"f32">): Tensor<"f32"> => unary("neg", x);
/** eˣ */
export const exp = (x: Tensor<"f32">): Tensor<"f32"> => unary("exp", x);
/** Natural logarithm. */
export const log = (x: Tensor<"f32">): Tensor<"f32"> => unary("log", x);
/** Square root. */
export const sqrt = (x: Tensor<"f32">): Tensor<"f32"> => unary("sqrt", x);
/** max(x, 0) */
export const relu = (x: Tensor<"f32">): Tensor<"f32"> => unary("relu", x);
/** GELU with the exact (erf) form, as PyTorch's default. */
export const gelu = (x: Tensor<"f32">): Tensor<"f32"> => unary("gelu", x);
/** Logistic sigmoid. */
export const sigmoid = (x: Tensor<"f32">): Tensor<"f32"> => unary("sigmoid", x);
/** Hyperbolic tangent. */
export const tanh = (x: Tensor<"f32">): Tensor<"f32"> => unary("tanh", x);
/** |x| */
export const abs = (x: Tensor<"f32">): Tensor<"f32"> => unary("abs", x);
/** x² */
export const square = (x: Tensor<"f32">): Tensor<"f32"> => unary("square", x);
/** log σ(x), computed without overflow. */
export const logSigmoid = (x: Tensor<"f32">): Tensor<"f32"> => unary("logsigmoid", x);
/** log(1 + eˣ), computed without overflow. */
export const softplus = (x: Tensor<"f32">): Tensor<"f32"> => unary("softplus", x);
/** αx + β */
export const affine = (x: Tensor<"f32">, alpha: number, beta = 0): Tensor<"f32"> =>
  unary("affine", x, alpha, beta);
/** αx */
export const scale = (x: Tensor<"f32">, alpha: number): Tensor<"f32"> => unary("affine", x, alpha);
/** x^p for a constant p (NaN for negative x and fractional p, as in PyTorch). */
export const powScalar = (x: Tensor<"f32">, p: number): Tensor<"f32"> => unary("pow", x, p);

/** Gradient of a unary op. */
export function unaryGrad(node: Node<"unary">, gy: Tensor<"f32">, y: Tensor): Tensor<"f32">[] {
  const [x] = node.inputs as Tensor<"f32">[];
  const { op, alpha, beta } = node.attrs;
  const gx = output(`${op} backward`, x.shape, "f32");
  launch(`${op} backward`, unaryBackK, {
    buffers: { x: x.buffer, y: y.buffer, gy: gy.buffer, gx: gx.buffer },
    uniforms: { n: x.size, alpha, beta },
    workgroups: groups(x.size),
    defines: { OP: UNARY_CODE[op] },
  }, gx);
  return [gx];
}

/** Code of each binary op in `binary_fn` (shaders/common/elementwise_fns.wgsl). */
export const BINARY_CODE: Record<BinaryOp, number> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  pow: 4,
  max: 5,
  min: 6,
  ge: 7,
  gt: 8,
  eq: 9,
};

const binaryK = /* @__PURE__ */ kernel({
  name: "binary",
  source: coreWgsl.binary,
  lib: [commonWgsl.numerics, commonWgsl.elementwise_fns],
  defines: { OP: "u32", SAME: "bool", RANK: "u32" },
  bindings: { a: "f32", b: "f32", out: "f32 rw" },
  uniforms: { n: "u32", shape: "u32x8", sa: "u32x8", sb: "u32x8" },
  workgroupSize: [256],
});

/** Applies a binary op with NumPy broadcasting. */
export function binary(op: BinaryOp, a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
  expectDtype(op, a, "f32", "left operand");
  expectDtype(op, b, "f32", "right operand");
  const shape = broadcastShapes(op, a.shape, b.shape);
  if (shape.length > 8) throw new Error(`wgrec ${op}: rank ${shape.length} > 8 unsupported`);
  const out = output(op, shape, "f32");
  const same = a.size === out.size && b.size === out.size;
  const c = collapseDims(shape, [
    broadcastStrides(a.shape, shape),
    broadcastStrides(b.shape, shape),
  ]);
  launch(op, binaryK, {
    buffers: { a: a.buffer, b: b.buffer, out: out.buffer },
    uniforms: { n: out.size, shape: c.shape, sa: c.strides[0], sb: c.strides[1] },
    workgroups: groups(out.size),
    defines: { OP: BINARY_CODE[op], SAME: same, RANK: same ? 0 : c.shape.length },
  }, out);
  return record(elementwiseRules, out, "binary", [a, b], { op });
}

/** a + b (broadcasting) */
export const add = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("add", a, b);
/** a − b (broadcasting) */
export const sub = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("sub", a, b);
/** a · b elementwise (broadcasting) */
export const mul = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("mul", a, b);
/** a / b elementwise (broadcasting) */
export const div = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("div", a, b);
/** a^b elementwise (broadcasting) */
export const pow = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("pow", a, b);
/** max(a, b) elementwise (broadcasting); the gradient goes to a on ties. */
export const maximum = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("max", a, b);
/** 1 where a ≥ b, else 0 (broadcasting; no gradient). */
export const ge = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("ge", a, b);
/** 1 where a > b, else 0 (broadcasting; no gradient). */
export const gt = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("gt", a, b);
/** 1 where a = b, else 0 (broadcasting; no gradient). */
export const eq = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("eq", a, b);
/** min(a, b) elementwise (broadcasting); the gradient goes to a on ties. */
export const minimum = (a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> => binary("min", a, b);

/** Gradient of a binary op: each operand's share, summed back to its own shape. */
export function binaryGrad(node: Node<"binary">, gy: Tensor<"f32">, y: Tensor): Tensor<"f32">[] {
  const [a, b] = node.inputs as Tensor<"f32">[];
  const need = [a.requiresGrad, b.requiresGrad];
  let ga: Tensor<"f32"> | null = null;
  let gb: Tensor<"f32"> | null = null;
  switch (node.attrs.op) {
    case "add":
      ga = gy;
      gb = gy;
      break;
    case "sub":
      ga = gy;
      gb = need[1] ? neg(gy) : null;
      break;
    case "mul":
      ga = need[0] ? mul(gy, b) : null;
      gb = need[1] ? mul(gy, a) : null;
      break;
    case "div":
      ga = need[0] ? div(gy, b) : null;
      gb = need[1] ? neg(div(mul(gy, y as Tensor<"f32">), b)) : null;
      break;
    case "pow":
      // d/da a^b = b·a^(b−1) = b·y/a (0 where a = 0 and b > 1); d/db = y·log a.
      ga = need[0] ? mul(gy, mul(b, powGradBase(a, b))) : null;
      gb = need[1] ? mul(gy, mul(y as Tensor<"f32">, log(a))) : null;
      break;
    case "max":
    case "min": {
      // m = 1 where a wins (ties go to a).
      const m = node.attrs.op === "max" ? binary("ge", a, b) : binary("ge", b, a);
      ga = need[0] ? mul(gy, m) : null;
      gb = need[1] ? mul(gy, affine(m, -1, 1)) : null;
      break;
    }
    case "ge":
    case "gt":
    case "eq":
      break; // piecewise constant: zero gradient
  }
  return [
    ga && need[0] ? sumTo(ga, a.shape) : ga,
    gb && need[1] ? sumTo(gb, b.shape) : gb,
  ].map((g) => g ?? null) as Tensor<"f32">[];
}

// a^(b−1) computed as pow(a, b − 1) elementwise.
function powGradBase(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
  return binary("pow", a, affine(b, 1, -1));
}

/** Unary elementwise ops (`shaders/unary.wgsl`). */
export type UnaryOp =
  | "neg"
  | "exp"
  | "log"
  | "sqrt"
  | "relu"
  | "gelu"
  | "sigmoid"
  | "tanh"
  | "abs"
  | "square"
  | "affine"
  | "pow"
  | "logsigmoid"
  | "softplus";

/** Binary elementwise ops with broadcasting (`shaders/binary.wgsl`). */
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "max"
  | "min"
  | "ge"
  | "gt"
  | "eq";

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface ElementwiseAttrs {
  /** `alpha`, `beta`: parameters of `affine` (αx+β) and `pow` (x^α). */
  unary: { op: UnaryOp; alpha: number; beta: number };
  /** Broadcasting binary op. */
  binary: { op: BinaryOp };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const elementwiseRules: RuleTable<keyof ElementwiseAttrs> = {
  unary: (n, gy, y) => unaryGrad(n, gy, y),
  binary: (n, gy, y) => binaryGrad(n, gy, y),
};
