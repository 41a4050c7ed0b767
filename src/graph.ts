/**
 * The recorded graph: which op made a tensor, from which inputs, with which attributes.
 *
 * `OpAttrs` is the closed set of differentiable op kinds; `src/autograd.ts` holds a table
 * typed `{ [K in OpKind]: GradRule<K> }`, so adding a kind here without its gradient rule
 * fails to compile.
 * @module
 */

import type { Tensor } from "./tensor.ts";
import type { SparseMatrix } from "./ops/sparse.ts";

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

/** Attributes of each differentiable op kind. */
export interface OpAttrs {
  /** `alpha`, `beta`: parameters of `affine` (αx+β) and `pow` (x^α). */
  unary: { op: UnaryOp; alpha: number; beta: number };
  /** Broadcasting binary op. */
  binary: { op: BinaryOp };
  /** Batched matmul with transposed operands. */
  matmul: { transA: boolean; transB: boolean };
  /** Fused x·wᵀ + b with an activation (src/ops/matmul.ts `linear`). */
  linear: { act: "none" | "relu" | "gelu" | "tanh" | "sigmoid" };
  /** `scale` turns the sum into a mean. */
  sum: { axes: number[]; keepDims: boolean; scale?: number };
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
  /**
   * Fused InfoNCE (src/ops/losses.ts). Inputs: A, P, then N when `negatives`, then τ when
   * `tau` is null (a tensor). Saves the statistics buffer (τ, inverse norms, lses) and ids.
   */
  infonce: {
    normalize: boolean;
    symmetric: boolean;
    negatives: boolean;
    masked: boolean;
    tau: number | null;
  };
  /** Inputs: pos [B], neg [B, K]. Saves the row lses, then logQPos and logQNeg when given. */
  sampledSoftmax: { temperature: number; logQPos: boolean; logQNeg: boolean };
  /** Inputs: pos [B], neg [B] or [B, K]. */
  bpr: Record<never, never>;
  /**
   * Fused attention (src/ops/attention.ts). Inputs: q, k, v (keys/values already holding the
   * `npre` prefix tokens), then the bias and the i32 key lengths when given. Saves the
   * per-row log-sum-exp.
   */
  attention: {
    scale: number;
    causal: boolean;
    npre: number;
    dropout: number;
    seed: number;
    layout: "bhld" | "blhd";
  };
  /** Inputs: codebook, codes (i32). Gradient to the codebook only (scatter-add). */
  codeLookup: { numCodes: number; subspaces: number };
  /** `log`: log-softmax. Saves nothing: the backward reads the output. */
  softmax: { log: boolean };
  /** logsumexp over the last axis; the backward reads the input and the output. */
  logSumExp: Record<never, never>;
  /** Saves the row mean and 1/std, [..., 2]; inputs are x then γ and β when given. */
  layerNorm: { eps: number; gamma: boolean; beta: boolean };
  /** `axis` null: over every element. Saves the i32 index of the extremum. */
  max: { axis: number | null };
  /** As `max`, for the minimum. */
  min: { axis: number | null };
  /** Inputs: cond, a, b. */
  where: Record<never, never>;
  /** Inputs: x, mask. */
  maskedFill: { value: number };
  /** Inputs: table, i32 indices (src/ops/gather.ts). `rows` = table rows. */
  gather: { rows: number };
  /** Inputs: values, i32 indices; `rows` = output rows. */
  scatterAdd: { rows: number };
  /** Input: the dense operand; the constant sparse matrix is an attribute. */
  spmm: { matrix: SparseMatrix };
}

/** A differentiable op kind. */
export type OpKind = keyof OpAttrs;

/** How a tensor was made. */
export interface Node<K extends OpKind = OpKind> {
  /** The op kind (selects the gradient rule). */
  readonly kind: K;
  /** Inputs in the op's argument order (non-differentiable ones too). */
  readonly inputs: readonly Tensor[];
  /** The op's attributes. */
  readonly attrs: OpAttrs[K];
  /** Extra tensors the backward needs (e.g. softmax output, layer-norm statistics). */
  readonly saved: readonly Tensor[];
}

let gradDepth = 0;

/** Whether ops currently record the graph. */
export function recording(): boolean {
  return gradDepth === 0;
}

/** Runs `fn` without recording the graph (inference, optimizer steps, backward rules). */
export function noGrad<T>(fn: () => T): T {
  gradDepth++;
  try {
    return fn();
  } finally {
    gradDepth--;
  }
}

/**
 * Attaches a node to `out` when recording and some input requires a gradient.
 * Returns `out`.
 */
export function record<K extends OpKind, T extends Tensor>(
  out: T,
  kind: K,
  inputs: readonly Tensor[],
  attrs: OpAttrs[K],
  saved: readonly Tensor[] = [],
): T {
  if (gradDepth === 0 && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { kind, inputs, attrs, saved };
  }
  return out;
}
