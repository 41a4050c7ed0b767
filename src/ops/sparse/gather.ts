/**
 * Embedding gather and its deterministic scatter-add backward.
 *
 * `gather(table, idx)` reads rows of a table; its gradient w.r.t. the table is
 * `scatterAdd(gy, idx, rows)`, computed without float atomics: a CSR inverse index is built
 * on the GPU ({@link buildCsr}) and each touched row is summed by one invocation per column in
 * ascending source order, so repeated backward passes give bit-identical gradients.
 *
 * Index validation: see `src/ops/index_check.ts`. In short, host data made into indices with
 * `indexTensor` is checked on upload; on the device an out-of-range id reads a zero row
 * (NaN row in numerics-check mode) and is reported by `checkIndices()`; it never reads
 * another row.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { type DType, fmt, runtime, type Tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { assertKnownInRange, indexGuard, watchIndexGuard } from "../index_check.ts";
import { buildCsr } from "../core/scan.ts";
import * as sparseWgsl from "../../../shaders/sparse/wgsl.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";

const gatherK = /* @__PURE__ */ kernel({
  name: "gather",
  source: sparseWgsl.gather,
  lib: [commonWgsl.index_guard],
  defines: { POISON: "bool" },
  bindings: { table: "u32", idx: "i32", out: "u32 rw", bad: "atomic<i32> rw" },
  uniforms: { n: "u32", row: "u32", rows: "u32", slot: "u32" },
  workgroupSize: [256],
});
const segsumK = /* @__PURE__ */ kernel({
  name: "gather_segsum",
  source: sparseWgsl.gather_segsum,
  bindings: { g: "f32", idx: "i32", row_ptr: "i32", perm: "i32", out: "f32 rw" },
  uniforms: { n: "u32", row: "u32", rows: "u32" },
  workgroupSize: [256],
});

function rowSize(shape: readonly number[]): number {
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/**
 * Rows of `table` (`[V, ...rest]`, any dtype) picked by `idx` (i32, any shape):
 * `out[..., :] = table[idx[...], :]`, shape `[...idx.shape, ...rest]`. Differentiable w.r.t.
 * an f32 table (deterministic scatter-add backward). Out-of-range ids: see the module notes.
 */
export function gather<D extends DType>(table: Tensor<D>, idx: Tensor<"i32">): Tensor<D> {
  expectDtype("gather", idx, "i32", "indices");
  if (table.rank < 1) {
    throw new Error(`wgrec gather: table ${fmt(table.shape)} must have rank ≥ 1 (rows first)`);
  }
  const rows = table.shape[0];
  assertKnownInRange("gather", idx, rows, `table ${fmt(table.shape)}`);
  const row = rowSize(table.shape);
  const out = output("gather", [...idx.shape, ...table.shape.slice(1)], table.dtype);
  const rt = runtime();
  const label = `'gather' (table ${fmt(table.shape)}, indices ${fmt(idx.shape)})`;
  const g = indexGuard(label);
  rt.dispatch(gatherK, {
    buffers: { table: table.buffer, idx: idx.buffer, out: out.buffer, bad: g.buffer },
    uniforms: { n: idx.size, row, rows, slot: g.slot },
    workgroups: groups(idx.size * row),
    defines: { POISON: rt.checkNumerics && table.dtype === "f32" },
  });
  watchIndexGuard(g.slot, label);
  if (rt.checkNumerics && out.dtype === "f32") rt.watch(out.buffer, out.size, label);
  return record(gatherRules, out, "gather", [table, idx], { rows });
}

/** Scatter-add without graph recording: values `[...idx.shape, ...rest]` → `[rows, ...rest]`. */
function scatterAddRaw(
  op: string,
  values: Tensor<"f32">,
  idx: Tensor<"i32">,
  rows: number,
  rest: readonly number[],
): Tensor<"f32"> {
  const row = rest.reduce((a, b) => a * b, 1);
  const out = output(op, [rows, ...rest], "f32");
  runtime().clear(out.buffer, out.size * 4);
  if (idx.size === 0 || row === 0) return out;
  const csr = buildCsr(idx, rows, { op });
  launch(op, segsumK, {
    buffers: {
      g: values.buffer,
      idx: idx.buffer,
      row_ptr: csr.rowPtr.buffer,
      perm: csr.perm.buffer,
      out: out.buffer,
    },
    uniforms: { n: idx.size, row, rows },
    workgroups: groups(idx.size * row),
  }, out);
  csr.rowPtr.dispose();
  csr.perm.dispose();
  return out;
}

/**
 * Deterministic scatter-add: `out[r, ...] = Σ_{i : idx[i] = r} values[i, ...]`, shape
 * `[numRows, ...rest]` for values `[...idx.shape, ...rest]`; rows nobody hits are zero. Sums
 * run in ascending position order (bit-reproducible). Differentiable w.r.t. `values`.
 * Out-of-range ids are dropped and reported by `checkIndices()`.
 */
export function scatterAdd(
  values: Tensor<"f32">,
  idx: Tensor<"i32">,
  numRows: number,
): Tensor<"f32"> {
  expectDtype("scatterAdd", values, "f32", "values");
  expectDtype("scatterAdd", idx, "i32", "indices");
  const lead = values.shape.slice(0, idx.rank);
  if (values.rank < idx.rank || lead.some((d, i) => d !== idx.shape[i])) {
    throw new Error(
      `wgrec scatterAdd: values ${fmt(values.shape)} must start with the indices' shape ` +
        `${fmt(idx.shape)}`,
    );
  }
  if (!Number.isInteger(numRows) || numRows < 0) {
    throw new Error(`wgrec scatterAdd: numRows ${numRows} must be an integer ≥ 0`);
  }
  assertKnownInRange("scatterAdd", idx, numRows, "an output");
  const out = scatterAddRaw("scatterAdd", values, idx, numRows, values.shape.slice(idx.rank));
  return record(gatherRules, out, "scatterAdd", [values, idx], { rows: numRows });
}

/** Gradient of {@link gather}: scatter-add of the output gradient into the table's rows. */
export function gatherGrad(node: Node<"gather">, gy: Tensor<"f32">): (Tensor<"f32"> | null)[] {
  const [table, idx] = node.inputs as [Tensor<"f32">, Tensor<"i32">];
  const g = scatterAddRaw("gather backward", gy, idx, node.attrs.rows, table.shape.slice(1));
  return [g, null];
}

/** Gradient of {@link scatterAdd}: gather of the output gradient. */
export function scatterAddGrad(
  node: Node<"scatterAdd">,
  gy: Tensor<"f32">,
): (Tensor<"f32"> | null)[] {
  // gy is [rows, ...rest]; gathering its rows gives values' shape [...idx.shape, ...rest].
  return [gather(gy, node.inputs[1] as Tensor<"i32">), null];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface GatherAttrs {
  /** Inputs: table, i32 indices (src/ops/gather.ts). `rows` = table rows. */
  gather: { rows: number };
  /** Inputs: values, i32 indices; `rows` = output rows. */
  scatterAdd: { rows: number };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const gatherRules: RuleTable<keyof GatherAttrs> = {
  gather: gatherGrad,
  scatterAdd: scatterAddGrad,
};
