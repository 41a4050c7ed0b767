/**
 * The recorded graph: which op made a tensor, from which inputs, with which attributes.
 *
 * `OpAttrs` is the closed set of differentiable op kinds; `src/autograd.ts` holds a table
 * typed `{ [K in OpKind]: GradRule<K> }`, so adding a kind here without its gradient rule
 * fails to compile.
 * @module
 */

import type { Tensor } from "../tensor.ts";
import type { ElementwiseAttrs } from "../ops/core/elementwise.ts";
import type { FusedAttrs } from "../ops/core/fused.ts";
import type { MatmulAttrs } from "../ops/matmul/matmul.ts";
import type { ReduceAttrs } from "../ops/core/reduce.ts";
import type { ShapeAttrs } from "../ops/core/shape.ts";
import type { InfoNceAttrs } from "../ops/losses/infonce.ts";
import type { RankingLossAttrs } from "../ops/losses/ranking.ts";
import type { AttentionOpAttrs } from "../ops/attention/attention.ts";
import type { VqAttrs } from "../ops/vq/vq.ts";
import type { SoftmaxAttrs } from "../ops/core/softmax.ts";
import type { LayerNormAttrs } from "../ops/core/layernorm.ts";
import type { MinMaxAttrs } from "../ops/core/minmax.ts";
import type { WhereAttrs } from "../ops/core/where.ts";
import type { GatherAttrs } from "../ops/sparse/gather.ts";
import type { SpmmAttrs } from "../ops/sparse/spmm.ts";
import type { PropagateAttrs } from "../ops/sparse/propagate.ts";
import type { RowwiseAttrs } from "../ops/losses/rowwise.ts";
import type { BprRowsAttrs } from "../ops/losses/bpr_rows.ts";
import type { ConvAttrs } from "../ops/conv/rules.ts";
import type { LstmAttrs } from "../ops/rnn/lstm.ts";
import type { GruAttrs } from "../ops/rnn/gru.ts";

/**
 * Attributes of each differentiable op kind: the union of what each ops family declares
 * beside its kernels. A family added here must also add its rules in `rules.ts` (the table
 * there is typed over every kind, so a missing rule fails to compile).
 */
export interface OpAttrs
  extends
    ElementwiseAttrs,
    FusedAttrs,
    MatmulAttrs,
    ReduceAttrs,
    ShapeAttrs,
    InfoNceAttrs,
    RankingLossAttrs,
    AttentionOpAttrs,
    VqAttrs,
    SoftmaxAttrs,
    LayerNormAttrs,
    MinMaxAttrs,
    WhereAttrs,
    GatherAttrs,
    SpmmAttrs,
    PropagateAttrs,
    RowwiseAttrs,
    BprRowsAttrs,
    ConvAttrs,
    LstmAttrs,
    GruAttrs {}

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
  /** The kind's gradient rule, from its op family's table (a method: bivariant in `node`). */
  rule(node: Node<K>, gy: Tensor<"f32">, y: Tensor): readonly (Tensor<"f32"> | null)[];
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
 * Attaches a node to `out` when recording and some input requires a gradient; the node
 * carries its kind's rule from the op family's table (`rules`), so `backward` needs no
 * global table and a bundle keeps only the families an app calls. Returns `out`.
 */
export function record<K extends OpKind, T extends Tensor>(
  rules: RuleTable<K>,
  out: T,
  kind: K,
  inputs: readonly Tensor[],
  attrs: OpAttrs[K],
  saved: readonly Tensor[] = [],
): T {
  if (gradDepth === 0 && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { kind, inputs, attrs, saved, rule: rules[kind] };
  }
  return out;
}

/** A gradient rule: one gradient (or null) per input, given the output's gradient. */
export type GradRule<K extends OpKind> = (
  node: Node<K>,
  gy: Tensor<"f32">,
  y: Tensor,
) => readonly (Tensor<"f32"> | null)[];

/** The rules of a set of op kinds, one per kind. */
export type RuleTable<K extends OpKind> = { readonly [P in K]: GradRule<P> };
