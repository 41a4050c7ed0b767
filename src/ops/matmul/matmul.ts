/**
 * Batched matmul with transposed operands, and `linear` (matmul + bias + activation in one
 * pass). The kernel comes from {@link selectMatmul}: a register-blocked kernel, with large
 * blocks on CPU-backed adapters and small ones on hardware GPUs (where it measured faster than
 * the workgroup-memory tiled kernel, which stays as a fallback). The naive kernel stays as
 * {@link matmulReference}, for tests.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import {
  type Node,
  noGrad,
  type OpAttrs,
  record,
  recording,
  type RuleTable,
} from "../../autograd/tape.ts";
import { fmt, runtime, type Shape, sizeOf, type Tensor } from "../../tensor.ts";
import { expectDtype, launch, output } from "../common.ts";
import { gelu, unaryGrad } from "../core/elementwise.ts";
import { sum, sumTo } from "../core/reduce.ts";
import { slice } from "../core/shape.ts";
import {
  type AdapterClass,
  adapterClass,
  type MatmulConfig,
  type MatmulProblem,
  REGBLOCK_WG,
  selectMatmul,
} from "./select.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";
import * as matmulWgsl from "../../../shaders/matmul/wgsl.ts";

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use Aᵀ (A stored as [..., K, M]). */
  transA?: boolean;
  /** Use Bᵀ (B stored as [..., N, K]). */
  transB?: boolean;
}

/** Activations {@link linear} fuses into the matmul's store. */
export type LinearActivation = OpAttrs["linear"]["act"];

const ACT_CODE: Record<LinearActivation, number> = {
  none: 0,
  relu: 1,
  gelu: 2,
  tanh: 3,
  sigmoid: 4,
};

const naiveK = /* @__PURE__ */ kernel({
  name: "matmul_naive",
  source: matmulWgsl.matmul_naive,
  defines: { TRANS_A: "bool", TRANS_B: "bool" },
  bindings: { a: "f32", b: "f32", c: "f32 rw" },
  uniforms: { m: "u32", n: "u32", k: "u32", batch: "u32", stride_a: "u32", stride_b: "u32" },
  workgroupSize: [8, 8],
});

// `a`/`a4` and `b`/`b4` are the same buffers seen as f32 and as vec4 (the kernel picks per
// define which view it reads).
const regblockK = /* @__PURE__ */ kernel({
  name: "matmul_regblock",
  source: matmulWgsl.matmul_regblock,
  defines: {
    RM: "u32",
    RN: "u32",
    TRANS_A: "bool",
    TRANS_B: "bool",
    VA: "bool",
    VB: "bool",
    KTAIL: "bool",
    BIAS: "bool",
    ACT: "u32",
  },
  lib: [commonWgsl.tile4, commonWgsl.quad],
  bindings: {
    a: "f32",
    a4: "vec4<f32>",
    b: "f32",
    b4: "vec4<f32>",
    bias: "f32",
    c: "vec4<f32> rw",
  },
  uniforms: {
    m: "u32",
    n: "u32",
    k: "u32",
    n4: "u32",
    nbn: "u32",
    stride_a: "u32",
    stride_b: "u32",
  },
  workgroupSize: [REGBLOCK_WG],
});

const tiledK = /* @__PURE__ */ kernel({
  name: "matmul_tiled",
  source: matmulWgsl.matmul_tiled,
  defines: {
    TR: "u32",
    TILE: "u32",
    ST: "u32",
    SH: "u32",
    TRANS_A: "bool",
    TRANS_B: "bool",
    BIAS: "bool",
    ACT: "u32",
  },
  bindings: { a: "f32", b: "f32", bias: "f32", c: "f32 rw" },
  uniforms: { m: "u32", n: "u32", k: "u32", stride_a: "u32", stride_b: "u32" },
  workgroupSize: [16, 16],
});

const MAX_WG = 65535;

/** Shapes of a matmul call, checked. */
export interface MatmulShape {
  /** Rows of op(A) and C. */
  m: number;
  /** Columns of op(B) and C. */
  n: number;
  /** Inner dimension. */
  k: number;
  /** Batch of the result (1 for rank-2 operands). */
  batch: number;
  /** Batch of A (1 when rank 2 or broadcast). */
  batchA: number;
  /** Batch of B (1 when rank 2 or broadcast). */
  batchB: number;
  /** Shape of C. */
  out: number[];
}

/** Checks operand shapes and returns the problem size. */
export function matmulShape(a: Tensor, b: Tensor, transA: boolean, transB: boolean): MatmulShape {
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new Error(
      `wgrec matmul: operands ${fmt(a.shape)} and ${fmt(b.shape)} must have rank 2 or 3`,
    );
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [k2, n] = transB ? [bc, br] : [br, bc];
  const batchA = a.rank === 3 ? a.shape[0] : 1;
  const batchB = b.rank === 3 ? b.shape[0] : 1;
  if (k !== k2 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) {
    throw new Error(
      `wgrec matmul: ${fmt(a.shape)}${transA ? "ᵀ" : ""} · ${fmt(b.shape)}${transB ? "ᵀ" : ""}` +
        ` do not fit (inner dims ${k} vs ${k2}, batches ${batchA} vs ${batchB})`,
    );
  }
  // Broadcast rule: a batch of 1 takes the other side's (which may be 0, an empty batch).
  const batch = batchA === 1 ? batchB : batchA;
  const out = a.rank === 3 || b.rank === 3 ? [batch, m, n] : [m, n];
  return { m, n, k, batch, batchA, batchB, out };
}

let cachedClass: { description: string; cls: AdapterClass } | null = null;

/** The class of the current runtime's adapter (see {@link adapterClass}). */
export function currentAdapterClass(): AdapterClass {
  const d = runtime().gpu.adapter.description;
  if (cachedClass?.description !== d) cachedClass = { description: d, cls: adapterClass(d) };
  return cachedClass.cls;
}

/** A kernel launch: operands as stored, the problem, and the epilogue. */
interface Gemm {
  a: Tensor<"f32">;
  b: Tensor<"f32">;
  p: MatmulProblem;
  /** Elements between consecutive batch matrices (0 broadcasts one matrix). */
  strideA: number;
  strideB: number;
  bias: Tensor<"f32"> | null;
  act: LinearActivation;
}

/** The problem of a checked shape; a batch-broadcast B with plain A folds the batch into M. */
function gemmOf(
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  s: MatmulShape,
  transA: boolean,
  transB: boolean,
  bias: Tensor<"f32"> | null,
  act: LinearActivation,
): Gemm {
  // [batch, M, K] · [K, N]: the batch's rows are contiguous, so it is one [batch·M, K] matmul.
  if (s.batchB === 1 && s.batchA > 1 && !transA) {
    const p = { m: s.m * s.batch, n: s.n, k: s.k, batch: 1, transA, transB };
    return { a, b, p, strideA: 0, strideB: 0, bias, act };
  }
  const p = { m: s.m, n: s.n, k: s.k, batch: s.batch, transA, transB };
  return {
    a,
    b,
    p,
    strideA: s.batchA === 1 ? 0 : s.m * s.k,
    strideB: s.batchB === 1 ? 0 : s.k * s.n,
    bias,
    act,
  };
}

/** Runs one gemm with the given kernel into a new tensor of shape `out` (not recorded). */
function runGemm(g: Gemm, out: Shape, cfg: MatmulConfig): Tensor<"f32"> {
  const { p } = g;
  const ok = cfg.family === "regblock"
    ? [1, 2, 4, 8].includes(cfg.rm) && [1, 2, 4, 8].includes(cfg.rn)
    : cfg.family === "tiled" && [1, 2, 4].includes(cfg.tr);
  if (!ok) {
    throw new Error(
      `wgrec matmul: kernel config ${JSON.stringify(cfg)} is invalid, expected regblock with ` +
        `rm, rn in 1, 2, 4, 8 or tiled with tr in 1, 2, 4`,
    );
  }
  if (p.m * p.n * p.batch === 0) return output("matmul", out, "f32");
  return cfg.family === "regblock" ? runRegblock(g, out, cfg.rm, cfg.rn) : runTiled(g, out, cfg.tr);
}

function runRegblock(g: Gemm, out: Shape, rm: number, rn: number): Tensor<"f32"> {
  const { p } = g;
  const n4 = Math.ceil(p.n / 4);
  // C rows are vec4s: when N % 4 != 0 the kernel writes rows padded to 4·n4, cropped below.
  const padded = n4 * 4 !== p.n;
  const rt = runtime();
  if (padded && (sizeOf(out) / p.n) * n4 * 16 > rt.pool.maxBinding) {
    // The padded temporary would not fit one binding though the output does: the tiled
    // kernel writes the exact shape.
    return runTiled(g, out, 1);
  }
  const c = output("matmul", padded ? [...out.slice(0, -1), n4 * 4] : out, "f32");
  const nbn = Math.ceil(n4 / rn);
  const blocks = Math.ceil(p.m / (4 * rm)) * nbn;
  let x = Math.ceil(blocks / REGBLOCK_WG);
  let y = 1;
  if (x > MAX_WG) {
    y = Math.ceil(x / MAX_WG);
    x = Math.ceil(x / y);
  }
  launch("matmul", regblockK, {
    buffers: {
      a: g.a.buffer,
      a4: g.a.buffer,
      b: g.b.buffer,
      b4: g.b.buffer,
      bias: (g.bias ?? g.a).buffer,
      c: c.buffer,
    },
    uniforms: {
      m: p.m,
      n: p.n,
      k: p.k,
      n4,
      nbn,
      stride_a: g.strideA,
      stride_b: g.strideB,
    },
    workgroups: [x, y, p.batch],
    defines: {
      RM: rm,
      RN: rn,
      TRANS_A: p.transA,
      TRANS_B: p.transB,
      // vec4 loads along the contiguous axis of each operand when it is a multiple of 4.
      VA: (p.transA ? p.m : p.k) % 4 === 0,
      VB: (p.transB ? p.k : p.n) % 4 === 0,
      KTAIL: p.k % 4 !== 0,
      BIAS: g.bias !== null,
      ACT: ACT_CODE[g.act],
    },
  }, padded ? undefined : c);
  if (!padded) return c;
  // Numerics mode: the label gives the real output shape. The pad columns repeat column N − 1
  // (the kernel clamps B's column), so they flag nothing the real ones do not.
  if (rt.checkNumerics) rt.watch(c.buffer, c.size, `'matmul' (output ${fmt(out)})`);
  const cropped = noGrad(() => slice(c, out.map(() => 0), out));
  cropped.op = "matmul";
  c.dispose();
  return cropped;
}

function runTiled(g: Gemm, out: Shape, tr: number): Tensor<"f32"> {
  const { p } = g;
  const c = output("matmul", out, "f32");
  const tile = 16 * tr;
  launch("matmul", tiledK, {
    buffers: { a: g.a.buffer, b: g.b.buffer, bias: (g.bias ?? g.a).buffer, c: c.buffer },
    uniforms: { m: p.m, n: p.n, k: p.k, stride_a: g.strideA, stride_b: g.strideB },
    workgroups: [Math.ceil(p.n / tile), Math.ceil(p.m / tile), p.batch],
    defines: {
      TR: tr,
      TILE: tile,
      ST: tile + 1,
      SH: 16 * (tile + 1),
      TRANS_A: p.transA,
      TRANS_B: p.transB,
      BIAS: g.bias !== null,
      ACT: ACT_CODE[g.act],
    },
  }, c);
  return c;
}

/**
 * C = op(A) · op(B), batched over a leading axis (a batch of one broadcasts). The kernel and
 * its blocking come from {@link selectMatmul} for the runtime's adapter and this shape.
 */
export function matmul(
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  opts: MatmulOptions = {},
): Tensor<"f32"> {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  expectDtype("matmul", a, "f32", "left operand");
  expectDtype("matmul", b, "f32", "right operand");
  const s = matmulShape(a, b, transA, transB);
  const g = gemmOf(a, b, s, transA, transB, null, "none");
  const c = runGemm(g, s.out, selectMatmul(g.p, currentAdapterClass()));
  return record(matmulRules, c, "matmul", [a, b], { transA, transB });
}

/**
 * {@link matmul} with a kernel configuration chosen by the caller instead of the selector
 * (tests and benchmarks use it to run either family on any adapter). Not differentiable.
 */
export function matmulWith(
  cfg: MatmulConfig,
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  opts: MatmulOptions = {},
): Tensor<"f32"> {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  expectDtype("matmul", a, "f32", "left operand");
  expectDtype("matmul", b, "f32", "right operand");
  const s = matmulShape(a, b, transA, transB);
  return runGemm(gemmOf(a, b, s, transA, transB, null, "none"), s.out, cfg);
}

/** {@link matmul} with the naive one-output-per-invocation kernel: the tests' GPU reference. */
export function matmulReference(
  a: Tensor<"f32">,
  b: Tensor<"f32">,
  opts: MatmulOptions = {},
): Tensor<"f32"> {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  expectDtype("matmul", a, "f32", "left operand");
  expectDtype("matmul", b, "f32", "right operand");
  const s = matmulShape(a, b, transA, transB);
  const c = output("matmul", s.out, "f32");
  if (s.k === 0) {
    runtime().clear(c.buffer, c.size * 4);
    return c;
  }
  launch("matmul", naiveK, {
    buffers: { a: a.buffer, b: b.buffer, c: c.buffer },
    uniforms: {
      m: s.m,
      n: s.n,
      k: s.k,
      batch: s.batch,
      stride_a: s.batchA === 1 ? 0 : s.m * s.k,
      stride_b: s.batchB === 1 ? 0 : s.k * s.n,
    },
    workgroups: [Math.ceil(s.n / 8), Math.ceil(s.m / 8), s.batch],
    defines: { TRANS_A: transA, TRANS_B: transB },
  }, c);
  return c;
}

/** Gradient of matmul (see the derivation in each case); batch-broadcast operands are summed. */
export function matmulGrad(node: Node<"matmul">, gy: Tensor<"f32">): (Tensor<"f32"> | null)[] {
  const [a, b] = node.inputs as Tensor<"f32">[];
  const { transA, transB } = node.attrs;
  let ga: Tensor<"f32"> | null = null;
  let gb: Tensor<"f32"> | null = null;
  if (a.requiresGrad) {
    // C = A·B → dA = dC·Bᵀ;  C = Aᵀ·B → dA = B·dCᵀ;  C = A·Bᵀ → dA = dC·B;  C = Aᵀ·Bᵀ → dA = Bᵀ·dCᵀ
    ga = transA
      ? matmul(b, gy, { transA: transB, transB: true })
      : matmul(gy, b, { transB: !transB });
    ga = sumTo(ga, a.shape);
  }
  if (b.requiresGrad) {
    // C = A·B → dB = Aᵀ·dC;  C = Aᵀ·B → dB = A·dC;  C = A·Bᵀ → dB = dCᵀ·A;  C = Aᵀ·Bᵀ → dB = dCᵀ·Aᵀ
    gb = transB
      ? matmul(gy, a, { transA: true, transB: transA })
      : matmul(a, gy, { transA: !transA });
    gb = sumTo(gb, b.shape);
  }
  return [ga, gb];
}

// --- linear -------------------------------------------------------------------------------

/**
 * y = act(x · wᵀ + b) in one kernel pass: x [..., K] (rank 2 or 3), w [N, K] (PyTorch's
 * Linear layout), b [N] or null. Differentiable. GELU's gradient needs its input, so while
 * gradients are being recorded GELU is applied as a separate op after the fused bias.
 */
export function linear(
  x: Tensor<"f32">,
  w: Tensor<"f32">,
  b: Tensor<"f32"> | null = null,
  act: LinearActivation = "none",
): Tensor<"f32"> {
  expectDtype("linear", x, "f32", "input");
  expectDtype("linear", w, "f32", "weight");
  if (x.rank < 2 || x.rank > 3 || w.rank !== 2 || x.shape[x.rank - 1] !== w.shape[1]) {
    throw new Error(
      `wgrec linear: input ${fmt(x.shape)} and weight ${fmt(w.shape)} do not fit, expected ` +
        `input [..., K] (rank 2 or 3) and weight [N, K]`,
    );
  }
  if (b) {
    expectDtype("linear", b, "f32", "bias");
    if (b.rank !== 1 || b.shape[0] !== w.shape[0]) {
      throw new Error(
        `wgrec linear: bias ${fmt(b.shape)} does not fit weight ${fmt(w.shape)}, expected ` +
          `[${w.shape[0]}]`,
      );
    }
  }
  if (!(act in ACT_CODE)) throw new Error(`wgrec linear: unknown activation '${act}'`);
  const inputs = b ? [x, w, b] : [x, w];
  const grads = recording() && inputs.some((t) => t.requiresGrad);
  if (act === "gelu" && grads) return gelu(linear(x, w, b, "none"));
  const s = matmulShape(x, w, false, true);
  const g = gemmOf(x, w, s, false, true, b, act);
  const y = runGemm(g, s.out, selectMatmul(g.p, currentAdapterClass()));
  return record(matmulRules, y, "linear", inputs, { act });
}

/** Gradient of {@link linear}: through the activation (from y), then dx = g·w, dw = gᵀ·x, db = Σg. */
export function linearGrad(
  node: Node<"linear">,
  gy: Tensor<"f32">,
  y: Tensor,
): (Tensor<"f32"> | null)[] {
  const [x, w, b] = node.inputs as Tensor<"f32">[];
  const { act } = node.attrs;
  // relu, tanh and sigmoid derivatives read only y (relu's sign of x is y's), so the unary
  // backward kernel gets y in the place of its input.
  const gz = act === "none" ? gy : unaryGrad(
    {
      kind: "unary",
      inputs: [y],
      attrs: { op: act, alpha: 1, beta: 0 },
      saved: [],
      rule: unaryGrad,
    },
    gy,
    y,
  )[0];
  const n = w.shape[0];
  const kdim = w.shape[1];
  const rows = x.size / kdim;
  const gx = x.requiresGrad ? matmul(gz, w) : null;
  let gw: Tensor<"f32"> | null = null;
  if (w.requiresGrad) {
    // dw = gzᵀ · x over all rows: both are contiguous [rows, ·], whatever the rank of x.
    const p = { m: n, n: kdim, k: rows, batch: 1, transA: true, transB: false };
    const g: Gemm = { a: gz, b: x, p, strideA: 0, strideB: 0, bias: null, act: "none" };
    gw = runGemm(g, [n, kdim], selectMatmul(p, currentAdapterClass()));
  }
  const gb = b?.requiresGrad ? sum(gz, x.rank === 3 ? [0, 1] : [0]) : null;
  if (gz !== gy) gz.dispose();
  return b ? [gx, gw, gb] : [gx, gw];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface MatmulAttrs {
  /** Batched matmul with transposed operands. */
  matmul: { transA: boolean; transB: boolean };
  /** Fused x·wᵀ + b with an activation (src/ops/matmul.ts `linear`). */
  linear: { act: "none" | "relu" | "gelu" | "tanh" | "sigmoid" };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const matmulRules: RuleTable<keyof MatmulAttrs> = {
  matmul: matmulGrad,
  linear: linearGrad,
};
