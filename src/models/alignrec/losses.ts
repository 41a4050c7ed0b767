/**
 * AlignRec's own loss (../shared/specs/alignrec.md): the similarity-preservation term.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { expectDtype, expectRank } from "../../ops/common.ts";
import { scale, sqrt, square, sub } from "../../ops/core/elementwise.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { sum } from "../../ops/core/reduce.ts";
import { cosineSimilarityMatrix } from "../../ops/losses/similarity.ts";

/**
 * AlignRec's similarity-preservation loss `‖X Xᵀ − cos(F, F)‖_F / B` for X [B, d] and fixed
 * features F [B, f]: the target cosine matrix is computed without gradient, and the norm is
 * the plain (not squared) Frobenius norm. Builds B×B matrices (B is a training batch).
 */
export function simPreservationLoss(x: Tensor<"f32">, feats: Tensor<"f32">): Tensor<"f32"> {
  const op = "simPreservationLoss";
  expectDtype(op, x, "f32", "x");
  expectDtype(op, feats, "f32", "feats");
  expectRank(op, x, 2);
  expectRank(op, feats, 2);
  if (x.shape[0] !== feats.shape[0]) {
    throw new Error(`wgrec ${op}: x ${fmt(x.shape)} and feats ${fmt(feats.shape)} differ in rows`);
  }
  const target = noGrad(() => cosineSimilarityMatrix(feats));
  const diff = sub(matmul(x, x, { transB: true }), target);
  return scale(sqrt(sum(square(diff))), 1 / x.shape[0]);
}
