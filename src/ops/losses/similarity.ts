/**
 * Similarities and norms composed from existing ops: row-wise and all-pairs cosine similarity,
 * the cosine alignment loss, row L2 normalisation; and (fused, from `rowwise.ts`) the Frobenius
 * norm and row-wise dot products.
 * @module
 */

import { fmt, full, type Tensor } from "../../tensor.ts";
import { expectDtype, expectRank, expectSameShape } from "../common.ts";
import { affine, div, maximum, mul, sqrt, square } from "../core/elementwise.ts";
import { matmul } from "../matmul/matmul.ts";
import { mean, sum } from "../core/reduce.ts";
import { reshape } from "../core/shape.ts";

function rowNorms(x: Tensor<"f32">, eps: number): Tensor<"f32"> {
  // ‖x_i‖ floored at eps, shape [B, 1].
  const ss = sum(square(x), [1], true);
  return sqrt(maximum(ss, full([1], eps * eps)));
}

function checkPair(op: string, a: Tensor, b: Tensor): void {
  expectDtype(op, a, "f32", "left operand");
  expectDtype(op, b, "f32", "right operand");
  expectRank(op, a, 2);
  expectSameShape(op, a, b);
}

/**
 * Row-wise cosine similarity [B] of a and b [B, d]:
 * `a_i·b_i / (max(‖a_i‖, eps)·max(‖b_i‖, eps))` (PyTorch ≥ 1.12's `F.cosine_similarity`).
 */
export function cosineSimilarity(a: Tensor<"f32">, b: Tensor<"f32">, eps = 1e-8): Tensor<"f32"> {
  checkPair("cosineSimilarity", a, b);
  const dot = sum(mul(a, b), [1], true);
  const c = div(div(dot, rowNorms(a, eps)), rowNorms(b, eps));
  return reshape(c, [a.shape[0]]);
}

/** Alignment loss `1 − mean_i cos(a_i, b_i)` (AlignRec's UIA cosine loss). */
export function cosineLoss(a: Tensor<"f32">, b: Tensor<"f32">, eps = 1e-8): Tensor<"f32"> {
  checkPair("cosineLoss", a, b);
  return affine(mean(cosineSimilarity(a, b, eps)), -1, 1);
}

/** Rows scaled to unit L2 norm (norms floored at eps, as F.normalize). */
export function l2NormalizeRows(x: Tensor<"f32">, eps = 1e-12): Tensor<"f32"> {
  expectDtype("l2NormalizeRows", x, "f32");
  expectRank("l2NormalizeRows", x, 2);
  return div(x, rowNorms(x, eps));
}

/** All-pairs cosine similarity [B, C] of the rows of a [B, d] and b [C, d] (default b = a). */
export function cosineSimilarityMatrix(a: Tensor<"f32">, b: Tensor<"f32"> = a): Tensor<"f32"> {
  expectRank("cosineSimilarityMatrix", a, 2);
  expectRank("cosineSimilarityMatrix", b, 2);
  if (a.shape[1] !== b.shape[1]) {
    throw new Error(
      `wgrec cosineSimilarityMatrix: ${fmt(a.shape)} and ${fmt(b.shape)} differ in width`,
    );
  }
  const an = l2NormalizeRows(a);
  return matmul(an, b === a ? an : l2NormalizeRows(b), { transB: true });
}

export { frobenius, rowDot } from "./rowwise.ts";
