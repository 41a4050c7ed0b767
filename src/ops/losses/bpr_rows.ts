/**
 * BPR read straight from the rows of one table: `bprRows(t, users, pos, neg)` equals
 * `bprLoss(rowDot(t[users], t[pos]), rowDot(t[users], t[neg]))` (mean over the B triples) in one
 * forward kernel and one backward kernel, instead of three gathers, two dot products and their
 * scatter-add backwards (about 15 dispatches; each costs ~0.3 ms on a software adapter). The
 * gradient is a dense table gradient, summed per row over the triples that name it (a CSR of the
 * ids, sorted on the host when they came from the host).
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { expectDtype, expectRank, groups, launch, output } from "../common.ts";
import { assertKnownInRange, indexInfo, indexTensor } from "../index_check.ts";
import { buildCsr } from "../core/scan.ts";
import { MAX_SINGLE_LOOP, reduceAxis } from "../core/reduce.ts";
import { concat } from "../core/shape.ts";
import { gather } from "../sparse/gather.ts";
import { bprLoss } from "./ranking.ts";
import { rowDot } from "./rowwise.ts";
import * as lossesWgsl from "../../../shaders/losses/wgsl.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";

const fwdK = /* @__PURE__ */ kernel({
  name: "bpr_rows_fwd",
  source: lossesWgsl.bpr_rows_fwd,
  lib: [commonWgsl.numerics],
  bindings: {
    t: "f32",
    users: "i32",
    pos: "i32",
    neg: "i32",
    diff: "f32 rw",
    loss: "f32 rw",
  },
  uniforms: { n: "u32", d: "u32" },
  workgroupSize: [64],
});
const bwdK = /* @__PURE__ */ kernel({
  name: "bpr_rows_bwd",
  source: lossesWgsl.bpr_rows_bwd,
  lib: [commonWgsl.numerics],
  bindings: {
    t: "f32",
    ids: "i32",
    diff: "f32",
    gy: "f32",
    row_ptr: "i32",
    perm: "i32",
    g: "f32 rw",
  },
  uniforms: { n: "u32", d: "u32", rows: "u32" },
  workgroupSize: [64],
});

/**
 * Mean BPR loss `−log σ(⟨t_u, t_p⟩ − ⟨t_u, t_n⟩)` over triples of row ids of one `[rows, d]`
 * table (a joint users-then-items table, or the rows `propagateRows` returns). Differentiable
 * w.r.t. the table.
 */
export function bprRows(
  t: Tensor<"f32">,
  users: Tensor<"i32">,
  pos: Tensor<"i32">,
  neg: Tensor<"i32">,
): Tensor<"f32"> {
  const op = "bprRows";
  expectDtype(op, t, "f32", "table");
  expectRank(op, t, 2);
  const b = users.size;
  for (const [name, ids] of [["users", users], ["pos", pos], ["neg", neg]] as const) {
    expectDtype(op, ids, "i32", name);
    if (ids.rank !== 1 || ids.size !== b || b === 0) {
      throw new Error(
        `wgrec ${op}: users ${fmt(users.shape)}, pos ${fmt(pos.shape)} and neg ` +
          `${fmt(neg.shape)} must be the same [B], B ≥ 1`,
      );
    }
    assertKnownInRange(op, ids, t.shape[0], `table ${fmt(t.shape)}`);
  }
  const d = t.shape[1];
  if (3 * b > MAX_SINGLE_LOOP || d > MAX_SINGLE_LOOP) { // a row's loop could pass the limit
    return bprLoss(
      rowDot(gather(t, users), gather(t, pos)),
      rowDot(gather(t, users), gather(t, neg)),
    );
  }
  const diff = output(op, [b], "f32");
  const loss = output(op, [b], "f32");
  launch(op, fwdK, {
    buffers: {
      t: t.buffer,
      users: users.buffer,
      pos: pos.buffer,
      neg: neg.buffer,
      diff: diff.buffer,
      loss: loss.buffer,
    },
    uniforms: { n: b, d },
    workgroups: groups(b, 64),
  }, loss);
  const out = reduceAxis(op, 0, loss, 0, 1 / b);
  loss.dispose();
  return record(bprRowsRules, out, "bprRows", [t, users, pos, neg], {}, [diff]);
}

/** Gradient of {@link bprRows} w.r.t. the table (ids get none). */
export function bprRowsGrad(node: Node<"bprRows">, gy: Tensor<"f32">): (Tensor<"f32"> | null)[] {
  const op = "bprRows backward";
  const [t, users, pos, neg] = node.inputs as [
    Tensor<"f32">,
    Tensor<"i32">,
    Tensor<"i32">,
    Tensor<"i32">,
  ];
  const [rows, d] = t.shape;
  const b = users.size;
  const hosts = [users, pos, neg].map((x) => indexInfo(x)?.host);
  // The CSR of the concatenated ids: sorted on the host when all three came from the host.
  let all: Tensor<"i32">;
  if (hosts.every((h) => h)) {
    const flat = new Int32Array(3 * b);
    hosts.forEach((h, j) => flat.set(h!, j * b));
    all = indexTensor(flat, rows);
  } else all = concat([users, pos, neg], 0);
  const csr = buildCsr(all, rows, { op });
  const g = output(op, [rows, d], "f32");
  launch(op, bwdK, {
    buffers: {
      t: t.buffer,
      ids: all.buffer,
      diff: node.saved[0].buffer,
      gy: gy.buffer,
      row_ptr: csr.rowPtr.buffer,
      perm: csr.perm.buffer,
      g: g.buffer,
    },
    uniforms: { n: b, d, rows },
    workgroups: groups(rows * Math.ceil(d / 16), 64), // 16 columns per invocation
  }, g);
  for (const x of [all, csr.rowPtr, csr.perm]) x.dispose();
  return [g, null, null, null];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface BprRowsAttrs {
  /** Inputs: table, users, pos, neg (i32 row ids); saved: neg − pos per triple. */
  bprRows: Record<never, never>;
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const bprRowsRules: RuleTable<keyof BprRowsAttrs> = {
  bprRows: bprRowsGrad,
};
