/**
 * Ranking and pointwise losses: {@link sampledSoftmaxLoss} (1 positive + K sampled negatives,
 * optional log-q correction) and {@link bprLoss} (−log σ(s⁺ − s⁻)) as fused forward and
 * backward row kernels; {@link bceWithLogits} composed from elementwise ops.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { expectDtype, expectSameShape, groups, launch, output } from "../common.ts";
import { mean, reduceAxis } from "../core/reduce.ts";
import { type Expr, fused, fx } from "../core/fused.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";
import * as lossesWgsl from "../../../shaders/losses/wgsl.ts";

// --- Sampled softmax --------------------------------------------------------------------------

const ssFwdK = /* @__PURE__ */ kernel({
  name: "sampled_softmax_fwd",
  source: lossesWgsl.sampled_softmax_fwd,
  lib: [lossesWgsl.sampled_softmax_common],
  defines: { LOGQ_POS: "bool", LOGQ_NEG: "bool" },
  bindings: {
    pos: "f32",
    neg: "f32",
    lqp: "f32",
    lqn: "f32",
    lse_out: "f32 rw",
    loss: "f32 rw",
  },
  uniforms: { rows: "u32", k: "u32", inv_tau: "f32" },
  workgroupSize: [64],
});

const ssBwdK = /* @__PURE__ */ kernel({
  name: "sampled_softmax_bwd",
  source: lossesWgsl.sampled_softmax_bwd,
  lib: [lossesWgsl.sampled_softmax_common],
  defines: { LOGQ_POS: "bool", LOGQ_NEG: "bool" },
  bindings: {
    pos: "f32",
    neg: "f32",
    lqp: "f32",
    lqn: "f32",
    lse_in: "f32",
    gy: "f32",
    gpos: "f32 rw",
    gneg: "f32 rw",
  },
  uniforms: { rows: "u32", k: "u32", inv_tau: "f32" },
  workgroupSize: [64],
});

/** Options of {@link sampledSoftmaxLoss}. */
export interface SampledSoftmaxOptions {
  /** Logit temperature τ (logits are divided by it). Default 1. */
  temperature?: number;
  /** log q of each sampled negative [B, K]: the logit becomes s − log q (sampling-bias correction). */
  logQNeg?: Tensor<"f32">;
  /** log q of each positive [B], subtracted from its logit likewise (in-batch sampling). */
  logQPos?: Tensor<"f32">;
}

/**
 * Sampled softmax cross-entropy with the positive at index 0, mean over rows:
 * `mean_i −log softmax([s⁺_i, s⁻_i1 … s⁻_iK])_0`, each logit optionally corrected by −log q
 * and divided by τ. `pos` [B], `neg` [B, K]. Equals `F.cross_entropy(cat([pos, neg]), 0)`.
 */
export function sampledSoftmaxLoss(
  pos: Tensor<"f32">,
  neg: Tensor<"f32">,
  opts: SampledSoftmaxOptions = {},
): Tensor<"f32"> {
  const op = "sampledSoftmaxLoss";
  expectDtype(op, pos, "f32", "pos");
  expectDtype(op, neg, "f32", "neg");
  if (pos.rank !== 1 || neg.rank !== 2 || neg.shape[0] !== pos.shape[0] || pos.shape[0] === 0) {
    throw new Error(
      `wgrec ${op}: pos ${fmt(pos.shape)} and neg ${fmt(neg.shape)} do not fit, expected ` +
        `[B] and [B, K] with B ≥ 1`,
    );
  }
  const [b, k] = neg.shape;
  const { logQNeg, logQPos } = opts;
  if (logQNeg) {
    expectDtype(op, logQNeg, "f32", "logQNeg");
    expectSameShape(op, logQNeg, neg);
  }
  if (logQPos) {
    expectDtype(op, logQPos, "f32", "logQPos");
    expectSameShape(op, logQPos, pos);
  }
  const tau = opts.temperature ?? 1;
  if (!(tau > 0) || !Number.isFinite(tau)) {
    throw new Error(`wgrec ${op}: temperature ${tau} is invalid, expected a finite τ > 0`);
  }
  const lse = output(op, [b], "f32");
  const rowLoss = output(op, [b], "f32");
  launch(op, ssFwdK, {
    buffers: {
      pos: pos.buffer,
      neg: neg.buffer,
      lqp: (logQPos ?? pos).buffer,
      lqn: (logQNeg ?? neg).buffer,
      lse_out: lse.buffer,
      loss: rowLoss.buffer,
    },
    uniforms: { rows: b, k, inv_tau: 1 / tau },
    workgroups: groups(b, 64),
    defines: { LOGQ_POS: !!logQPos, LOGQ_NEG: !!logQNeg },
  }, rowLoss);
  const out = reduceAxis(op, 0, rowLoss, 0, 1 / b);
  rowLoss.dispose();
  const saved: Tensor[] = [lse];
  if (logQPos) saved.push(logQPos);
  if (logQNeg) saved.push(logQNeg);
  return record(rankingLossRules, out, "sampledSoftmax", [pos, neg], {
    temperature: tau,
    logQPos: !!logQPos,
    logQNeg: !!logQNeg,
  }, saved);
}

/** Gradient of {@link sampledSoftmaxLoss}: one fused row kernel for both score inputs. */
export function sampledSoftmaxGrad(
  node: Node<"sampledSoftmax">,
  gy: Tensor<"f32">,
): Tensor<"f32">[] {
  const op = "sampledSoftmaxLoss backward";
  const [pos, neg] = node.inputs as Tensor<"f32">[];
  const { temperature, logQPos, logQNeg } = node.attrs;
  const lse = node.saved[0];
  const lqp = logQPos ? node.saved[1] : pos;
  const lqn = logQNeg ? node.saved[logQPos ? 2 : 1] : neg;
  const [b, k] = neg.shape;
  const gpos = output(op, pos.shape, "f32");
  const gneg = output(op, neg.shape, "f32");
  launch(op, ssBwdK, {
    buffers: {
      pos: pos.buffer,
      neg: neg.buffer,
      lqp: lqp.buffer,
      lqn: lqn.buffer,
      lse_in: lse.buffer,
      gy: gy.buffer,
      gpos: gpos.buffer,
      gneg: gneg.buffer,
    },
    uniforms: { rows: b, k, inv_tau: 1 / temperature },
    workgroups: groups(b, 64),
    defines: { LOGQ_POS: logQPos, LOGQ_NEG: logQNeg },
  }, gneg);
  return [gpos, gneg];
}

// --- BPR --------------------------------------------------------------------------------

const bprFwdK = /* @__PURE__ */ kernel({
  name: "bpr_fwd",
  source: lossesWgsl.bpr_fwd,
  lib: [commonWgsl.numerics],
  bindings: { pos: "f32", neg: "f32", loss: "f32 rw" },
  uniforms: { n: "u32", k: "u32" },
  workgroupSize: [256],
});

const bprBwdK = /* @__PURE__ */ kernel({
  name: "bpr_bwd",
  source: lossesWgsl.bpr_bwd,
  lib: [commonWgsl.numerics],
  bindings: { pos: "f32", neg: "f32", gy: "f32", gpos: "f32 rw", gneg: "f32 rw" },
  uniforms: { rows: "u32", k: "u32" },
  workgroupSize: [64],
});

/**
 * BPR loss `mean −log σ(s⁺ − s⁻)` over all pairs. `pos` [B]; `neg` [B] (one negative per
 * positive) or [B, K] (K negatives per positive, each pair counted once).
 */
export function bprLoss(pos: Tensor<"f32">, neg: Tensor<"f32">): Tensor<"f32"> {
  const op = "bprLoss";
  expectDtype(op, pos, "f32", "pos");
  expectDtype(op, neg, "f32", "neg");
  const b = pos.shape[0];
  const fits = pos.rank === 1 && b > 0 && neg.shape[0] === b &&
    (neg.rank === 1 || (neg.rank === 2 && neg.shape[1] > 0));
  if (!fits) {
    throw new Error(
      `wgrec ${op}: pos ${fmt(pos.shape)} and neg ${fmt(neg.shape)} do not fit, expected ` +
        `[B] and [B] or [B, K] with B, K ≥ 1`,
    );
  }
  const k = neg.rank === 2 ? neg.shape[1] : 1;
  const pairLoss = output(op, [b * k], "f32");
  launch(op, bprFwdK, {
    buffers: { pos: pos.buffer, neg: neg.buffer, loss: pairLoss.buffer },
    uniforms: { n: b * k, k },
    workgroups: groups(b * k),
  }, pairLoss);
  const out = reduceAxis(op, 0, pairLoss, 0, 1 / (b * k));
  pairLoss.dispose();
  return record(rankingLossRules, out, "bpr", [pos, neg], {});
}

/** Gradient of {@link bprLoss}: one fused row kernel for both score inputs. */
export function bprGrad(node: Node<"bpr">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const op = "bprLoss backward";
  const [pos, neg] = node.inputs as Tensor<"f32">[];
  const b = pos.shape[0];
  const k = neg.size / b;
  const gpos = output(op, pos.shape, "f32");
  const gneg = output(op, neg.shape, "f32");
  launch(op, bprBwdK, {
    buffers: {
      pos: pos.buffer,
      neg: neg.buffer,
      gy: gy.buffer,
      gpos: gpos.buffer,
      gneg: gneg.buffer,
    },
    uniforms: { rows: b, k },
    workgroups: groups(b, 64),
  }, gneg);
  return [gpos, gneg];
}

// --- Composed losses ----------------------------------------------------------------------

// Per element: softplus(x) − x·y; with a positive weight w, x − x·y + (1 + (w − 1)·y)·softplus(−x).
const BCE = fx.sub(fx.softplus(fx.input(0)), fx.mul(fx.input(0), fx.input(1)));
const bceWeighted = new Map<number, Expr>();
function bceWeightedExpr(w: number): Expr {
  let e = bceWeighted.get(w);
  if (!e) {
    const [x, y] = [fx.input(0), fx.input(1)];
    e = fx.add(fx.sub(x, fx.mul(y, x)), fx.mul(fx.affine(y, w - 1, 1), fx.softplus(fx.neg(x))));
    bceWeighted.set(w, e);
  }
  return e;
}

/**
 * Binary cross-entropy on logits, mean over all elements (PyTorch's
 * `BCEWithLogitsLoss`): `softplus(x) − x·y`, or with `posWeight` w
 * `(1 − y)·x + (1 + (w − 1)·y)·softplus(−x)`. Stable for any |x|.
 */
export function bceWithLogits(
  logits: Tensor<"f32">,
  targets: Tensor<"f32">,
  opts: { posWeight?: number } = {},
): Tensor<"f32"> {
  expectDtype("bceWithLogits", logits, "f32", "logits");
  expectDtype("bceWithLogits", targets, "f32", "targets");
  expectSameShape("bceWithLogits", logits, targets);
  const w = opts.posWeight;
  if (w === undefined) return mean(fused(BCE, [logits, targets]));
  return mean(fused(bceWeightedExpr(w), [logits, targets]));
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface RankingLossAttrs {
  /** Inputs: pos [B], neg [B, K]. Saves the row lses, then logQPos and logQNeg when given. */
  sampledSoftmax: { temperature: number; logQPos: boolean; logQNeg: boolean };
  /** Inputs: pos [B], neg [B] or [B, K]. */
  bpr: Record<never, never>;
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const rankingLossRules: RuleTable<keyof RankingLossAttrs> = {
  sampledSoftmax: sampledSoftmaxGrad,
  bpr: bprGrad,
};
