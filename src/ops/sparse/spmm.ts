/**
 * Sparse × dense products on the GPU: `spmm(A, x)` (differentiable w.r.t. x, backward through
 * the cached transpose) and the internal `spmmCsr` it and `propagateRows` run on: a scalar
 * kernel, and a vec4 kernel with rows in a balanced order (`SparseMatrix.rowOrder`), products
 * at a subset of rows, a column-restricted CSR with gaps and a fused row epilogue.
 * @module
 */

import { kernel, type KernelSpec } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, runtime, type Tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { MAX_SINGLE_LOOP, reduceAxis } from "../core/reduce.ts";
import { reshape } from "../core/shape.ts";
import { adapterClass } from "../matmul/select.ts";
import type { SparseMatrix } from "./sparse.ts";
import * as sparseWgsl from "../../../shaders/sparse/wgsl.ts";

const spmmK = /* @__PURE__ */ kernel({
  name: "spmm",
  source: sparseWgsl.spmm,
  bindings: { row_ptr: "i32", col: "i32", val: "f32", x: "f32", out: "f32 rw" },
  uniforms: { m: "u32", d: "u32", chunk: "u32", nb: "u32" },
  workgroupSize: [256],
});
/**
 * The vec4 spmm kernel: four columns per load, CV vec4 groups per invocation, rows in a given
 * order when ORDERED (see the shader's header). Exported for benchmarks of row orders.
 */
export const spmmVec4K: KernelSpec<
  "row_ptr" | "order" | "col" | "val" | "x" | "pos" | "add" | "out",
  { m: "u32"; d4: "u32"; chunk: "u32"; nb: "u32" },
  { CV: "u32"; ORDERED: "bool"; COMPACT: "bool"; SENTINEL: "bool"; ADD_ROWS: "bool" }
> = /* @__PURE__ */ kernel({
  name: "spmm_vec4",
  source: sparseWgsl.spmm_vec4,
  bindings: {
    row_ptr: "i32",
    order: "i32",
    col: "i32",
    val: "f32",
    x: "vec4<f32>",
    pos: "i32",
    add: "vec4<f32>",
    out: "vec4<f32> rw",
  },
  uniforms: { m: "u32", d4: "u32", chunk: "u32", nb: "u32" },
  defines: { CV: "u32", ORDERED: "bool", COMPACT: "bool", SENTINEL: "bool", ADD_ROWS: "bool" },
  workgroupSize: [64],
});
/** The CSR arrays a product reads (a {@link SparseMatrix}, or one built for a single product). */
export interface CsrView {
  /** `[rows, cols]`. */
  readonly shape: readonly [number, number];
  /** `[rows + 1]` row offsets. */
  readonly rowPtr: Tensor<"i32">;
  /** `[≥ nnz]` column of each entry. */
  readonly colIdx: Tensor<"i32">;
  /** `[≥ nnz]` value of each entry. */
  readonly values: Tensor<"f32">;
  /** Most entries in one row, or a bound on it. */
  readonly maxRowCount: number;
}

function spmmRaw(a: SparseMatrix, x: Tensor<"f32">): Tensor<"f32"> {
  return spmmCsr(a, x, { order: spmmOrder(a) });
}

/** The row order `spmm` takes for `a`, or null for natural order. */
export function spmmOrder(a: SparseMatrix): Tensor<"i32"> | null {
  // Small products (per-batch matrices) skip the order: building it costs more than it saves.
  return (spmmUseOrder ?? a.nnz >= ORDER_MIN_NNZ) ? a.rowOrder : null;
}

/** Variants of {@link spmmCsr}. */
export interface SpmmCsrOptions {
  /** Rows in this order (see {@link balancedRowOrder}); default natural order. */
  order?: Tensor<"i32"> | null;
  /** Only the rows in `order`: row `order[s]` of the product is row s of the result. */
  compact?: boolean;
  /** A row's entries also end at the first column id −1 (a CSR with gaps). */
  sentinel?: boolean;
  /** Adds `add[pos[r]]` to row r where `pos[r] ≥ 0` (vec4 kernel, rows within one loop). */
  addRows?: { pos: Tensor<"i32">; add: Tensor<"f32"> };
}

/** Whether {@link spmmCsr} takes `sentinel` and `addRows` for `a` at width `d` (vec4, one block). */
export function spmmEpilogues(a: CsrView, d: number, ordered: boolean): boolean {
  return spmmColumnQuads(d, ordered) > 0 && a.maxRowCount <= MAX_SINGLE_LOOP;
}

/**
 * `A · x` for CSR arrays, no gradient (see {@link SpmmCsrOptions}). Internal: the caller
 * vouches for the arrays (ids in range), the order (distinct rows) and the positions.
 */
export function spmmCsr(
  a: CsrView,
  x: Tensor<"f32">,
  opts: SpmmCsrOptions = {},
): Tensor<"f32"> {
  const { order = null, compact = false, sentinel = false, addRows } = opts;
  const m = compact ? order!.size : a.shape[0];
  const d = x.rank === 1 ? 1 : x.shape[1];
  const shape = x.rank === 1 ? [m] : [m, d];
  // Rows longer than one loop may run are summed in blocks (software adapters stop long
  // loops silently), then the block partials are reduced in order: still deterministic.
  const nb = Math.max(1, Math.ceil(a.maxRowCount / MAX_SINGLE_LOOP));
  const out = output("spmm", nb > 1 ? [nb, m * d] : shape, "f32");
  const chunk = nb > 1 ? MAX_SINGLE_LOOP : 0xffffffff;
  const cv = spmmColumnQuads(d, order !== null);
  if ((sentinel || addRows) && !spmmEpilogues(a, d, order !== null)) {
    throw new Error(`wgrec spmm: sentinels and added rows need the vec4 kernel and one block`);
  }
  if (cv > 0) {
    launch("spmm", spmmVec4K, {
      buffers: {
        row_ptr: a.rowPtr.buffer,
        order: (order ?? a.rowPtr).buffer, // unread unless ORDERED (and so on below)
        col: a.colIdx.buffer,
        val: a.values.buffer,
        x: x.buffer,
        pos: (addRows?.pos ?? a.rowPtr).buffer,
        add: (addRows?.add ?? x).buffer,
        out: out.buffer,
      },
      uniforms: { m, d4: d / 4, chunk, nb },
      workgroups: groups((nb * m * d) / (4 * cv), 64),
      defines: {
        CV: cv,
        ORDERED: order !== null,
        COMPACT: compact,
        SENTINEL: sentinel,
        ADD_ROWS: addRows !== undefined,
      },
    }, out);
  } else {
    if (compact) {
      throw new Error(`wgrec spmm: a product at a subset of rows needs a width divisible by 4`);
    }
    launch("spmm", spmmK, {
      buffers: {
        row_ptr: a.rowPtr.buffer,
        col: a.colIdx.buffer,
        val: a.values.buffer,
        x: x.buffer,
        out: out.buffer,
      },
      uniforms: { m, d, chunk, nb },
      workgroups: groups(nb * m * d),
    }, out);
  }
  if (nb === 1) return out;
  const summed = reduceAxis("spmm", 0, out, 0);
  out.dispose();
  const res = reshape(summed, shape);
  if (res !== summed) summed.dispose();
  return res;
}

/** Entries from which `spmm` takes a matrix's rows in {@link SparseMatrix.rowOrder}. */
export const ORDER_MIN_NNZ = 1 << 16;

/**
 * Vec4 column groups per invocation of the vec4 spmm kernel for width `d`, 0 for the scalar
 * kernel (d not a multiple of 4). Software adapters take up to 16 groups (64 columns: one
 * index load feeds 64 products) when the rows come in descending length (`ordered`; SIMD
 * lanes then loop about equally long), else up to 4; hardware GPUs 1 (neighbouring lanes,
 * neighbouring columns). `setSpmmColumnQuads` overrides the choice (tests, benchmarks).
 */
export function spmmColumnQuads(d: number, ordered = false): number {
  if (d % 4 !== 0) return 0;
  const d4 = d / 4;
  const soft = adapterClass(runtime().gpu.adapter.description) === "software";
  const want = spmmCvOverride ?? (soft ? (ordered ? 16 : 4) : 1);
  let cv = 1;
  while (cv * 2 <= want && d4 % (cv * 2) === 0) cv *= 2;
  return want === 0 ? 0 : cv;
}

let spmmCvOverride: number | null = null;
let spmmUseOrder: boolean | null = null;

/**
 * Forces the spmm kernel: 0 = scalar, 1/2/4/8/16 = vec4 with up to that many groups per
 * invocation (fewer where the width does not divide), null = by adapter; `ordered` true or false
 * takes rows in `SparseMatrix.rowOrder` or in natural order whatever the size, null = from
 * {@link ORDER_MIN_NNZ} entries. For tests and benches.
 */
export function setSpmmColumnQuads(
  cv: 0 | 1 | 2 | 4 | 8 | 16 | null,
  ordered: boolean | null = null,
): void {
  spmmCvOverride = cv;
  spmmUseOrder = ordered;
}

/**
 * Sparse × dense: `A · x` for `A` `[m, n]` and `x` `[n, d]` (or `[n]`), deterministic (each
 * output sums its row's entries in order). Differentiable w.r.t. `x`: the backward multiplies
 * by `Aᵀ`, built once on the GPU and cached on `A`.
 */
export function spmm(a: SparseMatrix, x: Tensor<"f32">): Tensor<"f32"> {
  expectDtype("spmm", x, "f32", "dense operand");
  if ((x.rank !== 1 && x.rank !== 2) || x.shape[0] !== a.shape[1]) {
    throw new Error(
      `wgrec spmm: sparse ${fmt(a.shape)} · dense ${fmt(x.shape)} do not fit; expected dense ` +
        `[${a.shape[1]}, d] or [${a.shape[1]}]`,
    );
  }
  return record(spmmRules, spmmRaw(a, x), "spmm", [x], { matrix: a });
}

/** Gradient of {@link spmm}: `Aᵀ · gy`. */
export function spmmGrad(node: Node<"spmm">, gy: Tensor<"f32">): Tensor<"f32">[] {
  return [spmmRaw(node.attrs.matrix.transpose(), gy)];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface SpmmAttrs {
  /** Input: the dense operand; the constant sparse matrix is an attribute. */
  spmm: { matrix: SparseMatrix };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const spmmRules: RuleTable<keyof SpmmAttrs> = {
  spmm: spmmGrad,
};
