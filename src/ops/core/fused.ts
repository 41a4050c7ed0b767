/**
 * Fused elementwise chains: an expression over up to five tensors (broadcasting) runs as one
 * kernel (`shaders/core/fused.wgsl`) instead of one dispatch and one temporary per op.
 *
 * ```ts
 * // DCN-v2's cross layer x0 ⊙ h + x in one dispatch (and one per input in backward):
 * const cross = fx.add(fx.mul(fx.input(0), fx.input(1)), fx.input(2));
 * const y = fused(cross, [x0, h, x]);
 * ```
 *
 * The expression compiles once (cached per root node) into a straight-line register program
 * that the kernel interprets, so every expression shares one pipeline per rank. The gradient of
 * each input is itself an expression (reverse mode over the expression DAG, in terms of the
 * inputs and the output gradient), compiled and run the same way, then summed back over
 * broadcast dims. Build expressions once, at module level, so their programs are reused.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, tensor } from "../../tensor.ts";
import {
  broadcastShapes,
  broadcastStrides,
  collapseDims,
  expectDtype,
  groups,
  launch,
  output,
} from "../common.ts";
import { BINARY_CODE, type BinaryOp, UNARY_CODE, type UnaryOp } from "./elementwise.ts";
import { sumTo } from "./reduce.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

/** A node of an elementwise expression (build them with {@link fx}). */
export type Expr =
  | { readonly kind: "input"; readonly index: number }
  | { readonly kind: "const"; readonly value: number }
  | {
    readonly kind: "unary";
    readonly op: UnaryOp;
    readonly x: Expr;
    readonly alpha: number;
    readonly beta: number;
  }
  | { readonly kind: "binary"; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr }
  /** f'(x) given y = f(x): appears in gradient expressions. */
  | {
    readonly kind: "dunary";
    readonly op: UnaryOp;
    readonly x: Expr;
    readonly y: Expr;
    readonly alpha: number;
  };

type Arg = Expr | number;
const lift = (e: Arg): Expr => (typeof e === "number" ? { kind: "const", value: e } : e);
const un = (op: UnaryOp, alpha = 1, beta = 0) => (x: Arg): Expr => ({
  kind: "unary",
  op,
  x: lift(x),
  alpha,
  beta,
});
const bin = (op: BinaryOp) => (a: Arg, b: Arg): Expr => ({
  kind: "binary",
  op,
  a: lift(a),
  b: lift(b),
});

/** A unary builder of {@link fx}. */
export type UnaryBuilder = (x: Expr | number) => Expr;
/** A binary builder of {@link fx}. */
export type BinaryBuilder = (a: Expr | number, b: Expr | number) => Expr;

/** The expression builders of {@link fx}. */
export interface ExprBuilders {
  /** The `i`-th input tensor of {@link fused}. */
  input(i: number): Expr;
  /** A constant. */
  constant(value: number): Expr;
  /** −x */
  neg: UnaryBuilder;
  /** eˣ */
  exp: UnaryBuilder;
  /** Natural logarithm. */
  log: UnaryBuilder;
  /** Square root. */
  sqrt: UnaryBuilder;
  /** max(x, 0) */
  relu: UnaryBuilder;
  /** GELU (erf form). */
  gelu: UnaryBuilder;
  /** Logistic sigmoid. */
  sigmoid: UnaryBuilder;
  /** Hyperbolic tangent. */
  tanh: UnaryBuilder;
  /** |x| */
  abs: UnaryBuilder;
  /** x² */
  square: UnaryBuilder;
  /** log σ(x) */
  logSigmoid: UnaryBuilder;
  /** log(1 + eˣ) */
  softplus: UnaryBuilder;
  /** αx + β */
  affine(x: Expr | number, alpha: number, beta?: number): Expr;
  /** x^p for a constant p. */
  powScalar(x: Expr | number, p: number): Expr;
  /** a + b */
  add: BinaryBuilder;
  /** a − b */
  sub: BinaryBuilder;
  /** a · b */
  mul: BinaryBuilder;
  /** a / b */
  div: BinaryBuilder;
  /** a^b */
  pow: BinaryBuilder;
  /** max(a, b); the gradient goes to a on ties. */
  max: BinaryBuilder;
  /** min(a, b); the gradient goes to a on ties. */
  min: BinaryBuilder;
  /** 1 where a ≥ b (no gradient). */
  ge: BinaryBuilder;
  /** 1 where a > b (no gradient). */
  gt: BinaryBuilder;
  /** 1 where a = b (no gradient). */
  eq: BinaryBuilder;
}

/** Expression builders; numbers stand for constants. */
export const fx: ExprBuilders = {
  /** The `i`-th input tensor of {@link fused}. */
  input: (i: number): Expr => ({ kind: "input", index: i }),
  /** A constant. */
  constant: (value: number): Expr => ({ kind: "const", value }),
  neg: un("neg"),
  exp: un("exp"),
  log: un("log"),
  sqrt: un("sqrt"),
  relu: un("relu"),
  gelu: un("gelu"),
  sigmoid: un("sigmoid"),
  tanh: un("tanh"),
  abs: un("abs"),
  square: un("square"),
  logSigmoid: un("logsigmoid"),
  softplus: un("softplus"),
  /** αx + β */
  affine: (x: Arg, alpha: number, beta = 0): Expr => un("affine", alpha, beta)(x),
  /** x^p for a constant p. */
  powScalar: (x: Arg, p: number): Expr => un("pow", p)(x),
  add: bin("add"),
  sub: bin("sub"),
  mul: bin("mul"),
  div: bin("div"),
  pow: bin("pow"),
  max: bin("max"),
  min: bin("min"),
  ge: bin("ge"),
  gt: bin("gt"),
  eq: bin("eq"),
};

/** Most inputs of a fused expression (the kernel has six slots; backward adds the gradient). */
export const MAX_FUSED_INPUTS = 5;
const REGISTERS = 32;
const SLOTS = 6;

const fusedK = /* @__PURE__ */ kernel({
  name: "fused",
  source: coreWgsl.fused,
  lib: [commonWgsl.numerics, commonWgsl.elementwise_fns],
  defines: { RANK: "u32" },
  bindings: {
    x0: "f32",
    x1: "f32",
    x2: "f32",
    x3: "f32",
    x4: "f32",
    x5: "f32",
    prog: "i32",
    out: "f32 rw",
  },
  uniforms: {
    n: "u32",
    len: "u32",
    res: "u32",
    nin: "u32",
    shape: "u32x8",
    s0: "u32x8",
    s1: "u32x8",
    s2: "u32x8",
    s3: "u32x8",
    s4: "u32x8",
    s5: "u32x8",
  },
  workgroupSize: [256],
});

/** A compiled expression: instruction words, result register, inputs read. */
interface Program {
  words: Int32Array;
  len: number;
  res: number;
  nin: number;
}

/** Nodes reachable from `root`, children before parents (shared nodes once). */
function postOrder(root: Expr): Expr[] {
  const seen = new Set<Expr>();
  const out: Expr[] = [];
  const visit = (e: Expr) => {
    if (seen.has(e)) return;
    seen.add(e);
    if (e.kind === "unary") visit(e.x);
    else if (e.kind === "binary") visit(e.a), visit(e.b);
    else if (e.kind === "dunary") visit(e.x), visit(e.y);
    out.push(e);
  };
  visit(root);
  return out;
}

const operands = (e: Expr): Expr[] =>
  e.kind === "unary"
    ? [e.x]
    : e.kind === "binary"
    ? [e.a, e.b]
    : e.kind === "dunary"
    ? [e.x, e.y]
    : [];

/** Compiles `root` over `nin` inputs, reusing registers after their last read. */
function compile(root: Expr, nin: number): Program {
  const order = postOrder(root).filter((e) => e.kind !== "input");
  const lastUse = new Map<Expr, number>();
  order.forEach((e, t) => operands(e).forEach((o) => lastUse.set(o, t)));
  const reg = new Map<Expr, number>();
  const free: number[] = [];
  let next = nin;
  const words = new Int32Array(3 * order.length);
  const f32 = new Float32Array(words.buffer);
  const regOf = (e: Expr): number => {
    if (e.kind === "input") return e.index;
    return reg.get(e)!;
  };
  order.forEach((e, t) => {
    let code: number;
    let a = 0, b = 0, alpha = 0, beta = 0;
    switch (e.kind) {
      case "const":
        code = 96, alpha = e.value;
        break;
      case "unary":
        code = UNARY_CODE[e.op], a = regOf(e.x), alpha = e.alpha, beta = e.beta;
        break;
      case "binary":
        code = 32 + BINARY_CODE[e.op], a = regOf(e.a), b = regOf(e.b);
        break;
      case "dunary":
        code = 64 + UNARY_CODE[e.op], a = regOf(e.x), b = regOf(e.y), alpha = e.alpha;
        break;
      default:
        throw new Error("unreachable");
    }
    // Operands read for the last time free their registers (inputs keep theirs).
    for (const o of new Set(operands(e))) {
      if (o.kind !== "input" && lastUse.get(o) === t && reg.has(o)) free.push(reg.get(o)!);
    }
    const dst = free.length ? free.pop()! : next++;
    if (dst >= REGISTERS) {
      throw new Error(
        `wgrec fused: the expression needs more than ${REGISTERS} registers ` +
          `(${order.length} nodes); split it into smaller fused calls`,
      );
    }
    reg.set(e, dst);
    words[3 * t] = code | (a << 8) | (b << 16) | (dst << 24);
    f32[3 * t + 1] = alpha;
    f32[3 * t + 2] = beta;
  });
  return { words, len: order.length, res: regOf(root), nin };
}

/** Reverse mode over the DAG: each input's gradient in terms of the inputs and gy = input(nin). */
export function gradientExprs(root: Expr, nin: number): (Expr | null)[] {
  const order = postOrder(root);
  const adj = new Map<Expr, Expr>([[root, fx.input(nin)]]);
  const acc = (e: Expr, g: Expr) => {
    const prev = adj.get(e);
    adj.set(e, prev ? fx.add(prev, g) : g);
  };
  for (let t = order.length - 1; t >= 0; t--) {
    const e = order[t];
    const g = adj.get(e);
    if (!g) continue;
    switch (e.kind) {
      case "input":
      case "const":
        break;
      case "unary":
        acc(e.x, fx.mul(g, { kind: "dunary", op: e.op, x: e.x, y: e, alpha: e.alpha }));
        break;
      case "dunary":
        throw new Error("wgrec fused: gradients of gradient expressions are not supported");
      case "binary": {
        const { a, b } = e;
        switch (e.op) {
          case "add":
            acc(a, g), acc(b, g);
            break;
          case "sub":
            acc(a, g), acc(b, fx.neg(g));
            break;
          case "mul":
            acc(a, fx.mul(g, b)), acc(b, fx.mul(g, a));
            break;
          case "div":
            acc(a, fx.div(g, b)), acc(b, fx.neg(fx.div(fx.mul(g, e), b)));
            break;
          case "pow":
            // d/da = b·a^(b−1), d/db = y·log a (as the binary op's rule).
            acc(a, fx.mul(g, fx.mul(b, fx.pow(a, fx.affine(b, 1, -1)))));
            acc(b, fx.mul(g, fx.mul(e, fx.log(a))));
            break;
          case "max":
          case "min": {
            const m = e.op === "max" ? fx.ge(a, b) : fx.ge(b, a); // ties go to a
            acc(a, fx.mul(g, m)), acc(b, fx.mul(g, fx.affine(m, -1, 1)));
            break;
          }
          default:
            break; // comparisons: zero gradient
        }
      }
    }
  }
  // fx.input(i) may be built more than once: every node reading input i adds to its gradient.
  return Array.from({ length: nin }, (_, i) =>
    order
      .filter((e) => e.kind === "input" && e.index === i && adj.has(e))
      .map((e) => adj.get(e)!)
      .reduce<Expr | null>((s, g) => (s ? fx.add(s, g) : g), null));
}

const forwardCache = new WeakMap<Expr, Program>();
const gradCache = new WeakMap<Expr, (Program | null)[]>();

function run(
  op: string,
  p: Program,
  inputs: readonly Tensor<"f32">[],
  shape: number[],
): Tensor<"f32"> {
  const out = output(op, shape, "f32");
  if (out.size === 0) return out;
  const strides = inputs.map((x) => broadcastStrides(x.shape, shape));
  const c = collapseDims(shape, strides);
  if (c.shape.length > 8) throw new Error(`wgrec ${op}: rank ${c.shape.length} > 8 unsupported`);
  const same = inputs.every((x) => x.size === out.size);
  const s = Array.from({ length: SLOTS }, (_, k) => c.strides[k] ?? []);
  const buf = (k: number) => (inputs[k] ?? inputs[0]).buffer;
  const prog = tensor(p.words, [p.words.length], "i32");
  launch(op, fusedK, {
    buffers: {
      x0: buf(0),
      x1: buf(1),
      x2: buf(2),
      x3: buf(3),
      x4: buf(4),
      x5: buf(5),
      prog: prog.buffer,
      out: out.buffer,
    },
    uniforms: {
      n: out.size,
      len: p.len,
      res: p.res,
      nin: inputs.length,
      shape: c.shape,
      s0: s[0],
      s1: s[1],
      s2: s[2],
      s3: s[3],
      s4: s[4],
      s5: s[5],
    },
    workgroups: groups(out.size),
    defines: { RANK: same ? 0 : c.shape.length },
  }, out);
  prog.dispose();
  return out;
}

/**
 * Evaluates `expr` elementwise over `inputs` (f32, NumPy broadcasting) in one dispatch;
 * differentiable with respect to every input.
 */
export function fused(expr: Expr, inputs: readonly Tensor<"f32">[]): Tensor<"f32"> {
  const nodes = postOrder(expr);
  const nin = nodes.reduce((m, e) => (e.kind === "input" ? Math.max(m, e.index + 1) : m), 0);
  if (inputs.length < 1 || inputs.length > MAX_FUSED_INPUTS || inputs.length < nin) {
    throw new Error(
      `wgrec fused: ${inputs.length} inputs given; the expression reads ${nin} ` +
        `(expected 1 to ${MAX_FUSED_INPUTS}, at least as many as it reads)`,
    );
  }
  inputs.forEach((x, i) => expectDtype("fused", x, "f32", `input ${i}`));
  const shape = inputs.slice(1).reduce<number[]>(
    (s, x) => broadcastShapes("fused", s, x.shape),
    [...inputs[0].shape],
  );
  let p = forwardCache.get(expr);
  if (!p) forwardCache.set(expr, p = compile(expr, inputs.length));
  const out = run("fused", p, inputs, shape);
  return record(fusedRules, out, "fused", [...inputs], { expr });
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface FusedAttrs {
  /** Inputs: the expression's tensors. */
  fused: { expr: Expr };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const fusedRules: RuleTable<keyof FusedAttrs> = {
  fused: (node, gy) => {
    const inputs = node.inputs as Tensor<"f32">[];
    const expr = node.attrs.expr;
    let progs = gradCache.get(expr);
    if (!progs) {
      progs = gradientExprs(expr, inputs.length).map((g) =>
        g ? compile(g, inputs.length + 1) : null
      );
      gradCache.set(expr, progs);
    }
    return inputs.map((x, i) => {
      const p = progs[i];
      if (!x.requiresGrad || !p) return null;
      // A gradient that is gy itself (sums, differences) needs no kernel.
      const g = p.len === 0 && p.res === inputs.length
        ? gy
        : run(`fused backward (input ${i}, ${fmt(x.shape)})`, p, [...inputs, gy], [...gy.shape]);
      return sumTo(g, x.shape);
    });
  },
};
