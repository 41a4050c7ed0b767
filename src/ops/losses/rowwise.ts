/**
 * Row-wise dot products and the Frobenius norm as fused ops: one or two dispatches each way
 * instead of the four to seven of their compositions (`sum(mul(a, b), [1])`,
 * `sqrt(sum(square(x)))`), which matters where dispatches cost ~0.3 ms (software adapters) and
 * every BPR model calls them per batch (scores, MMRec's `EmbLoss`).
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, tensor } from "../../tensor.ts";
import { expectDtype, expectRank, expectSameShape, groups, launch, output } from "../common.ts";
import { assertKnownInRange, indexInfo } from "../index_check.ts";
import { add, mul, sqrt, square } from "../core/elementwise.ts";
import { MAX_SINGLE_LOOP, sum } from "../core/reduce.ts";
import { gather } from "../sparse/gather.ts";
import * as lossesWgsl from "../../../shaders/losses/wgsl.ts";

const rowDotK = /* @__PURE__ */ kernel({
  name: "row_dot",
  source: lossesWgsl.row_dot,
  bindings: { a: "f32", b: "f32", out: "f32 rw" },
  uniforms: { rows: "u32", d: "u32" },
  workgroupSize: [64],
});
const rowDotBwdK = /* @__PURE__ */ kernel({
  name: "row_dot_bwd",
  source: lossesWgsl.row_dot_bwd,
  bindings: { a: "f32", b: "f32", gy: "f32", ga: "f32 rw", gb: "f32 rw" },
  uniforms: { n: "u32", d: "u32" },
  workgroupSize: [256],
});
const sumSquaresK = /* @__PURE__ */ kernel({
  name: "sum_squares",
  source: lossesWgsl.sum_squares,
  defines: { SQUARE: "bool" },
  bindings: { x: "f32", out: "f32 rw" },
  uniforms: { n: "u32", chunk: "u32" },
  workgroupSize: [64],
});
const embNormK = /* @__PURE__ */ kernel({
  name: "emb_norm",
  source: lossesWgsl.emb_norm,
  defines: { PARTIAL: "bool" },
  bindings: { t: "f32", ids: "i32", partial: "f32 rw", norms: "f32 rw", out: "f32 rw" },
  uniforms: { b: "u32", d: "u32", lists: "u32", nb: "u32", chunk: "u32" },
  workgroupSize: [64],
});
const embNormBwdK = /* @__PURE__ */ kernel({
  name: "emb_norm_bwd",
  source: lossesWgsl.emb_norm_bwd,
  bindings: { t: "f32", cnt: "i32", norms: "f32", gy: "f32", g: "f32 rw" },
  uniforms: { rows: "u32", d: "u32", lists: "u32" },
  workgroupSize: [64],
});
const frobeniusBwdK = /* @__PURE__ */ kernel({
  name: "frobenius_bwd",
  source: lossesWgsl.frobenius_bwd,
  bindings: { x: "f32", norm: "f32", gy: "f32", gx: "f32 rw" },
  uniforms: { n: "u32" },
  workgroupSize: [256],
});

/** Elements each invocation of the norm's first pass sums (the second sums n / CHUNK). */
const CHUNK = 1024;

/** Row-wise dot products of two `[B, d]` tensors, `[B]`. */
export function rowDot(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
  const op = "rowDot";
  expectDtype(op, a, "f32", "left operand");
  expectDtype(op, b, "f32", "right operand");
  expectRank(op, a, 2);
  expectSameShape(op, a, b);
  const [rows, d] = a.shape;
  if (d > MAX_SINGLE_LOOP) return sum(mul(a, b), [1]); // one loop per row could not finish
  const out = output(op, [rows], "f32");
  launch(op, rowDotK, {
    buffers: { a: a.buffer, b: b.buffer, out: out.buffer },
    uniforms: { rows, d },
    workgroups: groups(rows, 64),
  }, out);
  return record(rowwiseRules, out, "rowDot", [a, b], {});
}

/** Gradient of {@link rowDot}: `gy[r] · b[r]` and `gy[r] · a[r]`, one kernel. */
export function rowDotGrad(node: Node<"rowDot">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const [a, b] = node.inputs as Tensor<"f32">[];
  const ga = output("rowDot backward", a.shape, "f32");
  const gb = output("rowDot backward", b.shape, "f32");
  launch("rowDot backward", rowDotBwdK, {
    buffers: { a: a.buffer, b: b.buffer, gy: gy.buffer, ga: ga.buffer, gb: gb.buffer },
    uniforms: { n: a.size, d: a.shape[1] },
    workgroups: groups(a.size),
  }, ga);
  return [ga, gb];
}

/** Frobenius norm `‖x‖` (MMRec's `torch.norm(x, p=2)`), a scalar `[]`. */
export function frobenius(x: Tensor<"f32">): Tensor<"f32"> {
  const op = "frobenius";
  expectDtype(op, x, "f32");
  const n = x.size;
  const blocks = Math.max(1, Math.ceil(n / CHUNK));
  if (blocks > MAX_SINGLE_LOOP) return sqrt(sum(square(x))); // the partials' loop is too long
  const partial = output(op, [blocks], "f32");
  launch(op, sumSquaresK, {
    buffers: { x: x.buffer, out: partial.buffer },
    uniforms: { n, chunk: CHUNK },
    workgroups: groups(blocks, 64),
    defines: { SQUARE: true },
  }, partial);
  const out = output(op, [], "f32");
  launch(op, sumSquaresK, {
    buffers: { x: partial.buffer, out: out.buffer },
    uniforms: { n: blocks, chunk: blocks },
    workgroups: [1],
    defines: { SQUARE: false },
  }, out);
  partial.dispose();
  return record(rowwiseRules, out, "frobenius", [x], {}, [out]);
}

/** Gradient of {@link frobenius}: `gy · x / ‖x‖` (0 for x = 0). */
export function frobeniusGrad(node: Node<"frobenius">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const [x] = node.inputs as Tensor<"f32">[];
  const gx = output("frobenius backward", x.shape, "f32");
  launch("frobenius backward", frobeniusBwdK, {
    buffers: { x: x.buffer, norm: node.saved[0].buffer, gy: gy.buffer, gx: gx.buffer },
    uniforms: { n: x.size },
    workgroups: groups(x.size),
  }, gx);
  return [gx];
}

/**
 * `Σ_j ‖t[lists_j]‖`, the sum of the Frobenius norms of a table's rows picked by each list
 * (MMRec's `EmbLoss` numerator over ego embeddings), without gathering them: two dispatches
 * forward, one backward (a dense table gradient). The lists are `[B]` i32 ids made on the host
 * (`indexTensor`); otherwise it composes `frobenius(gather(t, ids))`.
 */
export function embNormSum(t: Tensor<"f32">, lists: readonly Tensor<"i32">[]): Tensor<"f32"> {
  const op = "embNormSum";
  expectDtype(op, t, "f32", "table");
  expectRank(op, t, 2);
  const [rows, d] = t.shape;
  const b = lists[0]?.size ?? 0;
  if (lists.length === 0) throw new Error(`wgrec ${op}: no id lists`);
  for (const ids of lists) {
    expectDtype(op, ids, "i32", "ids");
    if (ids.rank !== 1 || ids.size !== b || b === 0) {
      throw new Error(
        `wgrec ${op}: lists ${lists.map((l) => fmt(l.shape)).join(", ")} must all be [B], B ≥ 1`,
      );
    }
    assertKnownInRange(op, ids, rows, `table ${fmt(t.shape)}`);
  }
  const hosts = lists.map((l) => indexInfo(l)?.host);
  const nb = Math.ceil((b * d) / CHUNK);
  if (!hosts.every((h) => h) || lists.length * nb > MAX_SINGLE_LOOP || d > MAX_SINGLE_LOOP) {
    return lists.map((l) => frobenius(gather(t, l))).reduce((x, y) => add(x, y));
  }
  const L = lists.length;
  const flat = new Int32Array(L * b);
  hosts.forEach((h, j) => flat.set(h!, j * b));
  const ids = tensor(flat, [L * b], "i32");
  const partial = output(op, [L * nb], "f32");
  const norms = output(op, [L], "f32");
  const out = output(op, [], "f32");
  const run = (p: boolean, n: number) =>
    launch(op, embNormK, {
      buffers: {
        t: t.buffer,
        ids: ids.buffer,
        partial: partial.buffer,
        norms: norms.buffer,
        out: out.buffer,
      },
      uniforms: { b, d, lists: L, nb, chunk: CHUNK },
      workgroups: groups(n, 64),
      defines: { PARTIAL: p },
    }, p ? partial : out);
  run(true, L * nb);
  run(false, 1);
  ids.dispose();
  partial.dispose();
  // Counts of each row in each list, for the backward (host data: no GPU sort).
  const cnt = new Int32Array(L * rows);
  for (let i = 0; i < flat.length; i++) cnt[Math.floor(i / b) * rows + flat[i]]++;
  return record(rowwiseRules, out, "embNormSum", [t, ...lists], {}, [
    norms,
    tensor(cnt, [L * rows], "i32"),
  ]);
}

/** Gradient of {@link embNormSum} w.r.t. the table (the ids get none). */
export function embNormSumGrad(
  node: Node<"embNormSum">,
  gy: Tensor<"f32">,
): (Tensor<"f32"> | null)[] {
  const [t, ...lists] = node.inputs as Tensor<"f32">[];
  const [norms, cnt] = node.saved;
  const [rows, d] = t.shape;
  const g = output("embNormSum backward", t.shape, "f32");
  launch("embNormSum backward", embNormBwdK, {
    buffers: { t: t.buffer, cnt: cnt.buffer, norms: norms.buffer, gy: gy.buffer, g: g.buffer },
    uniforms: { rows, d, lists: lists.length },
    workgroups: groups(rows, 64),
  }, g);
  return [g, ...lists.map(() => null)];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface RowwiseAttrs {
  /** Inputs: a, b `[B, d]`. */
  rowDot: Record<never, never>;
  /** Input: x (any shape); saved: the norm. */
  frobenius: Record<never, never>;
  /** Inputs: the table, then the id lists; saved: the norms, the per-list row counts. */
  embNormSum: Record<never, never>;
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const rowwiseRules: RuleTable<keyof RowwiseAttrs> = {
  rowDot: rowDotGrad,
  frobenius: frobeniusGrad,
  embNormSum: embNormSumGrad,
};
