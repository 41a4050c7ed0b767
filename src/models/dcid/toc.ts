/**
 * TOC's channel selection (../shared/specs/dcid-toc.md): per-dimension similarity and
 * variance statistics of a codebook, and the top-k channels by their weighted score.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../../ops/common.ts";
import * as dcidWgsl from "../../../shaders/dcid/wgsl.ts";

const tocScoreK = /* @__PURE__ */ kernel({
  name: "toc_score",
  source: dcidWgsl.toc_score,
  bindings: { e: "f32", sim: "f32 rw", vari: "f32 rw", score: "f32 rw" },
  uniforms: { m: "u32", d: "u32", w_sim: "f32", w_var: "f32" },
  workgroupSize: [64],
});

const tocRankK = /* @__PURE__ */ kernel({
  name: "toc_rank",
  source: dcidWgsl.toc_rank,
  defines: { DESC: "bool" },
  bindings: { score: "f32", sel: "i32 rw" },
  uniforms: { d: "u32", k: "u32", off: "u32" },
  workgroupSize: [64],
});

/** TOC channel statistics of a codebook [M, D]. */
export interface TocScores {
  /** Mean product over ordered code pairs i ≠ j, per dimension [D]. */
  sim: Tensor<"f32">;
  /** Unbiased variance over codes, per dimension [D]. */
  variance: Tensor<"f32">;
  /** `wSim·sim + wVar·variance` (default −0.7·sim + 0.3·var) [D]. */
  score: Tensor<"f32">;
}

/**
 * TOC (training-free codebook optimisation) channel scores of a codebook [M, D], M ≥ 2:
 * per dimension the mean inter-code product `((ΣE)² − ΣE²)/(M(M−1))`, the unbiased
 * variance, and the score `−0.7·sim + 0.3·var` (weights as in the reference code).
 */
export function tocScores(codebook: Tensor<"f32">, wSim = -0.7, wVar = 0.3): TocScores {
  expectDtype("tocScores", codebook, "f32", "codebook");
  if (codebook.rank !== 2 || codebook.shape[0] < 2) {
    throw new Error(
      `wgrec tocScores: codebook ${fmt(codebook.shape)} must be [M, D] with M ≥ 2`,
    );
  }
  const [m, d] = codebook.shape;
  const sim = output("tocScores", [d], "f32");
  const variance = output("tocScores", [d], "f32");
  const score = output("tocScores", [d], "f32");
  launch("tocScores", tocScoreK, {
    buffers: { e: codebook.buffer, sim: sim.buffer, vari: variance.buffer, score: score.buffer },
    uniforms: { m, d, w_sim: wSim, w_var: wVar },
    workgroups: [d],
  }, score);
  return { sim, variance, score };
}

/**
 * TOC channel selection: with `q = ⌊k/(a+b)⌋`, the `q·a` highest-scoring dimensions (best
 * first) followed by the `q·b` lowest-scoring ones (lowest first), ties → lower index, as an
 * i32 index tensor [q·(a+b)] for slicing quantized vectors. The two lists may overlap when
 * q·(a+b) > D, as in the reference code. `scores` [D] from {@link tocScores}.
 */
export function tocSelect(scores: Tensor<"f32">, k: number, a = 1, b = 0): Tensor<"i32"> {
  expectDtype("tocSelect", scores, "f32", "scores");
  if (scores.rank !== 1) {
    throw new Error(`wgrec tocSelect: scores ${fmt(scores.shape)} must be [D]`);
  }
  const d = scores.shape[0];
  if (![k, a, b].every((v) => Number.isInteger(v) && v >= 0) || a + b === 0) {
    throw new Error(`wgrec tocSelect: k=${k}, a=${a}, b=${b} must be integers ≥ 0 with a+b > 0`);
  }
  const q = Math.floor(k / (a + b));
  const top = q * a;
  const bottom = q * b;
  if (top > d || bottom > d) {
    throw new Error(
      `wgrec tocSelect: ${top} top / ${bottom} bottom channels of scores ${fmt(scores.shape)}`,
    );
  }
  const sel = output("tocSelect", [top + bottom], "i32");
  for (const [count, off, desc] of [[top, 0, true], [bottom, top, false]] as const) {
    if (count === 0) continue;
    launch("tocSelect", tocRankK, {
      buffers: { score: scores.buffer, sel: sel.buffer },
      uniforms: { d, k: count, off },
      workgroups: groups(d, 64),
      defines: { DESC: desc },
    });
  }
  return sel;
}
