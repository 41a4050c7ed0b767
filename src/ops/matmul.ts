/**
 * Batched matmul with transposed operands.
 * @module
 */

import { kernel } from "../gpu/kernel.ts";
import { type Node, record } from "../graph.ts";
import { fmt, runtime, type Tensor } from "../tensor.ts";
import { expectDtype, launch, output } from "./common.ts";
import { sumTo } from "./reduce.ts";

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use Aᵀ (A stored as [..., K, M]). */
  transA?: boolean;
  /** Use Bᵀ (B stored as [..., N, K]). */
  transB?: boolean;
}

const naiveK = kernel({
  name: "matmul_naive",
  bindings: { a: "f32", b: "f32", c: "f32 rw" },
  uniforms: { m: "u32", n: "u32", k: "u32", batch: "u32", stride_a: "u32", stride_b: "u32" },
  workgroupSize: [8, 8],
});

/** Shapes of a matmul call, checked. */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
  batch: number;
  batchA: number;
  batchB: number;
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

/** C = op(A) · op(B), batched over a leading axis (a batch of one broadcasts). */
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
  const c = output("matmul", s.out, "f32");
  if (s.k === 0) {
    return record(zeroFill(c), "matmul", [a, b], { transA, transB });
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
  return record(c, "matmul", [a, b], { transA, transB });
}

function zeroFill(c: Tensor<"f32">): Tensor<"f32"> {
  runtime().clear(c.buffer, c.size * 4);
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
