/**
 * Prefix sums and CSR construction on the GPU, without float atomics and without readbacks.
 *
 * {@link exclusiveScan} is a multi-level block scan (1,024 values per workgroup, recursing on
 * the block totals), so it serves arrays of millions of entries. {@link buildCsr} turns an
 * index array into compressed sparse rows — the inverse index that scatter-add, the gather
 * backward and sparse transposes need:
 *
 * 1. count per row with integer atomics (out-of-range ids are dropped and flagged),
 * 2. exclusive scan of the counts → `rowPtr`,
 * 3. fill: each source position claims a slot of its row with an atomic cursor,
 * 4. sort each row's slots by source position with a segmented merge sort (log₂ of the
 *    longest row passes, each a binary search per entry),
 *
 * so the result is the same bits on every run: row r lists, in ascending order, the positions
 * i with `idx[i] == r`.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { fmt, runtime, type Tensor, tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { indexGuard, indexInfo, watchIndexGuard } from "../index_check.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";
import * as sparseWgsl from "../../../shaders/sparse/wgsl.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";

const BLOCK = 1024; // WG 256 × 4 items
const blockK = /* @__PURE__ */ kernel({
  name: "scan_block",
  source: coreWgsl.scan_block,
  defines: { MULTI: "bool" },
  bindings: { src: "i32", dst: "i32 rw", sums: "i32 rw" },
  uniforms: { n: "u32", m: "u32" },
  workgroupSize: [256],
});
const addK = /* @__PURE__ */ kernel({
  name: "scan_add",
  source: coreWgsl.scan_add,
  bindings: { dst: "i32 rw", sums: "i32" },
  uniforms: { m: "u32", block: "u32" },
  workgroupSize: [256],
});
const countK = /* @__PURE__ */ kernel({
  name: "csr_count",
  source: sparseWgsl.csr_count,
  lib: [commonWgsl.index_guard],
  bindings: { idx: "i32", cnt: "atomic<i32> rw", bad: "atomic<i32> rw" },
  uniforms: { n: "u32", rows: "u32", slot: "u32" },
  workgroupSize: [256],
});
const fillK = /* @__PURE__ */ kernel({
  name: "csr_fill",
  source: sparseWgsl.csr_fill,
  bindings: { idx: "i32", row_ptr: "i32", cursor: "atomic<i32> rw", perm: "i32 rw" },
  uniforms: { n: "u32", rows: "u32" },
  workgroupSize: [256],
});
const sortK = /* @__PURE__ */ kernel({
  name: "csr_sort",
  source: sparseWgsl.csr_sort,
  bindings: { idx: "i32", row_ptr: "i32", src: "i32", dst: "i32 rw" },
  uniforms: { rows: "u32", w: "u32" },
  workgroupSize: [256],
});
const rowsK = /* @__PURE__ */ kernel({
  name: "csr_rows",
  source: sparseWgsl.csr_rows,
  bindings: { row_ptr: "i32", row_of: "i32 rw" },
  uniforms: { nnz: "u32", rows: "u32" },
  workgroupSize: [256],
});

/** Scans the first `n` values of `src` into `dst[0 .. m)` (values past `n` count as 0). */
function scanInto(src: Tensor, n: number, dst: Tensor, m: number): void {
  const blocks = Math.ceil(m / BLOCK);
  if (blocks <= 1) {
    // `sums` is not written without MULTI, but WebGPU forbids binding `dst` to it as well.
    const unused = output("exclusiveScan", [1], "i32");
    launch("exclusiveScan", blockK, {
      buffers: { src: src.buffer, dst: dst.buffer, sums: unused.buffer },
      uniforms: { n, m },
      workgroups: [1],
      defines: { MULTI: false },
    });
    unused.dispose();
    return;
  }
  const sums = output("exclusiveScan", [blocks], "i32");
  const offs = output("exclusiveScan", [blocks], "i32");
  launch("exclusiveScan", blockK, {
    buffers: { src: src.buffer, dst: dst.buffer, sums: sums.buffer },
    uniforms: { n, m },
    workgroups: [blocks],
    defines: { MULTI: true },
  });
  scanInto(sums, blocks, offs, blocks);
  launch("exclusiveScan", addK, {
    buffers: { dst: dst.buffer, sums: offs.buffer },
    uniforms: { m, block: BLOCK },
    workgroups: groups(m),
  });
  sums.dispose();
  offs.dispose();
}

/**
 * Exclusive prefix sum of a 1-D i32 tensor `[n]`, returned as `[n + 1]`: `out[0] = 0`,
 * `out[i] = x[0] + … + x[i−1]`, and `out[n]` is the total. Exact (integer) and deterministic.
 */
export function exclusiveScan(x: Tensor<"i32">): Tensor<"i32"> {
  expectDtype("exclusiveScan", x, "i32");
  if (x.rank !== 1) {
    throw new Error(`wgrec exclusiveScan: input ${fmt(x.shape)} must be 1-D`);
  }
  const out = output("exclusiveScan", [x.size + 1], "i32");
  scanInto(x, x.size, out, x.size + 1);
  return out;
}

/** Compressed sparse rows of an index array (see {@link buildCsr}). */
export type CsrIndex = {
  /** `[numRows + 1]`: row r owns `perm[rowPtr[r] .. rowPtr[r+1])`; `rowPtr[numRows]` = valid ids. */
  rowPtr: Tensor<"i32">;
  /**
   * `[n]`: source positions grouped by row, ascending within a row. Only the first
   * `rowPtr[numRows]` entries are meaningful (fewer than n when ids were out of range).
   */
  perm: Tensor<"i32">;
};

/** Options of {@link buildCsr}. */
export interface BuildCsrOptions {
  /** Op named in index errors (default `buildCsr`). */
  op?: string;
  /**
   * An upper bound on the longest row when the caller knows one (fewer sort passes); by
   * default the bound recorded by `indexTensor`, else the number of ids.
   */
  maxRowLength?: number;
}

/**
 * Builds the CSR inverse of an index array: for `idx` (any shape, n ids in `[0, numRows)`),
 * row r lists the flat positions i with `idx[i] == r`, in ascending order. On the GPU,
 * deterministically (integer atomics only for counting and slot claims; the final order is
 * sorted); ids out of range are dropped and recorded for {@link checkIndices}. Indices made by
 * `indexTensor` from host data are sorted on the host instead when the arrays are small
 * ({@link HOST_CSR_MAX}): the same arrays, uploaded, without the ~10 dispatches of the GPU
 * build (each costs ~0.3 ms on a software adapter).
 */
export function buildCsr(
  idx: Tensor<"i32">,
  numRows: number,
  opts: BuildCsrOptions = {},
): CsrIndex {
  const op = opts.op ?? "buildCsr";
  expectDtype(op, idx, "i32", "indices");
  if (!Number.isInteger(numRows) || numRows < 0 || numRows >= 2 ** 31) {
    throw new Error(`wgrec ${op}: numRows ${numRows} must be an integer in [0, 2^31)`);
  }
  const n = idx.size;
  const info = indexInfo(idx);
  if (info && info.max < numRows && numRows + n <= HOST_CSR_MAX) {
    return hostCsr(info.host, numRows);
  }
  const rt = runtime();
  const cnt = output(op, [numRows], "i32");
  rt.clear(cnt.buffer, numRows * 4);
  const label = `'${op}' (indices ${fmt(idx.shape)} for ${numRows} rows)`;
  const g = indexGuard(label);
  launch(op, countK, {
    buffers: { idx: idx.buffer, cnt: cnt.buffer, bad: g.buffer },
    uniforms: { n, rows: numRows, slot: g.slot },
    workgroups: groups(n),
  });
  watchIndexGuard(g.slot, label);
  const rowPtr = output(op, [numRows + 1], "i32");
  scanInto(cnt, numRows, rowPtr, numRows + 1);
  // Reuse the counts as the fill cursors.
  rt.clear(cnt.buffer, numRows * 4);
  let perm = output(op, [n], "i32");
  launch(op, fillK, {
    buffers: { idx: idx.buffer, row_ptr: rowPtr.buffer, cursor: cnt.buffer, perm: perm.buffer },
    uniforms: { n, rows: numRows },
    workgroups: groups(n),
  });
  cnt.dispose();
  const maxLen = Math.min(n, opts.maxRowLength ?? indexInfo(idx)?.maxDup ?? n);
  if (maxLen > 1) {
    let other = output(op, [n], "i32");
    for (let w = 1; w < maxLen; w *= 2) {
      launch(op, sortK, {
        buffers: { idx: idx.buffer, row_ptr: rowPtr.buffer, src: perm.buffer, dst: other.buffer },
        uniforms: { rows: numRows, w },
        workgroups: groups(n),
      });
      [perm, other] = [other, perm];
    }
    other.dispose();
  }
  return { rowPtr, perm };
}

/** Largest `numRows + n` that {@link buildCsr} sorts on the host (4 MiB of uploads). */
export const HOST_CSR_MAX = 1 << 20;

// The CSR inverse by a counting sort on the host (ascending positions within a row).
function hostCsr(ids: Int32Array, numRows: number): CsrIndex {
  const ptr = new Int32Array(numRows + 1);
  for (const v of ids) ptr[v + 1]++;
  for (let r = 0; r < numRows; r++) ptr[r + 1] += ptr[r];
  const cur = ptr.slice(0, numRows);
  const perm = new Int32Array(ids.length);
  ids.forEach((v, i) => perm[cur[v]++] = i);
  return { rowPtr: tensor(ptr, [numRows + 1], "i32"), perm: tensor(perm, [ids.length], "i32") };
}

/** Row id of every entry of a CSR matrix: `[nnz]`, `out[e] = r` for `rowPtr[r] ≤ e < rowPtr[r+1]`. */
export function csrRowIds(rowPtr: Tensor<"i32">, nnz: number): Tensor<"i32"> {
  const rows = rowPtr.size - 1;
  const out = output("csrRowIds", [nnz], "i32");
  if (rows > 0) {
    launch("csrRowIds", rowsK, {
      buffers: { row_ptr: rowPtr.buffer, row_of: out.buffer },
      uniforms: { nnz, rows },
      workgroups: groups(nnz),
    });
  }
  return out;
}
