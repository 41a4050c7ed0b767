/**
 * The recorded graph: which op made a tensor, from which inputs, with which attributes.
 *
 * `OpAttrs` is the closed set of differentiable op kinds; `src/autograd.ts` holds a table
 * typed `{ [K in OpKind]: GradRule<K> }`, so adding a kind here without its gradient rule
 * fails to compile.
 * @module
 */

import type { Tensor } from "./tensor.ts";

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
  binary: { op: BinaryOp };
  matmul: { transA: boolean; transB: boolean };
  /** `scale` turns the sum into a mean. */
  sum: { axes: number[]; keepDims: boolean; scale?: number };
  permute: { perm: number[] };
  reshape: Record<never, never>;
  slice: { begin: number[]; size: number[] };
  concat: { axis: number };
  broadcastTo: Record<never, never>;
}

/** A differentiable op kind. */
export type OpKind = keyof OpAttrs;

/** How a tensor was made. */
export interface Node<K extends OpKind = OpKind> {
  readonly kind: K;
  /** Inputs in the op's argument order (non-differentiable ones too). */
  readonly inputs: readonly Tensor[];
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
