/**
 * LightGCN-style propagation read at a batch's rows, as one op:
 * `propagateRows(Â, H⁰, L, S) = mean(H⁰, ÂH⁰, …, Â^L H⁰)[S]` for a set S of distinct rows.
 *
 * A training step reads the propagated table only at its users and items, so the last product
 * need only make the rows in S, and the backward's first product `Âᵀ G` only reads the rows of
 * G in S (the rest are zero): it runs over Âᵀ's columns restricted to S, a CSR built on the GPU
 * per step that keeps each row's entry order. On a power-law graph with batch 2048 about 60% of
 * the entries touch S, so two of the 2L products cost 60%. Both give the composed ops' result
 * bit for bit: the same sums in the same order, less the terms that are exactly zero. The
 * backward is Horner's scheme, `∂H⁰ = G' + Âᵀ(G' + Âᵀ(… + Âᵀ G'))` with `G' = G / (L + 1)`
 * scattered to S, one product per layer.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, noGrad, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, tensor, zeros } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { indexTensor } from "../index_check.ts";
import { add, scale } from "../core/elementwise.ts";
import { MAX_SINGLE_LOOP } from "../core/reduce.ts";
import { gather } from "./gather.ts";
import { balancedRowOrder, type SparseMatrix } from "./sparse.ts";
import { spmm, spmmColumnQuads, spmmCsr, spmmEpilogues, spmmOrder } from "./spmm.ts";
import * as sparseWgsl from "../../../shaders/sparse/wgsl.ts";

const subsetK = /* @__PURE__ */ kernel({
  name: "col_subset",
  source: sparseWgsl.col_subset,
  bindings: {
    row_ptr: "i32",
    order: "i32",
    col: "i32",
    val: "f32",
    pos: "i32",
    sub_col: "i32 rw",
    sub_val: "f32 rw",
  },
  uniforms: { rows: "u32" },
  workgroupSize: [64],
});
const meanK = /* @__PURE__ */ kernel({
  name: "rows_mean",
  source: sparseWgsl.rows_mean,
  defines: { P: "u32" },
  bindings: {
    ids: "i32",
    h0: "f32",
    h1: "f32",
    h2: "f32",
    h3: "f32",
    last: "f32",
    out: "f32 rw",
  },
  uniforms: { k: "u32", d: "u32", scale: "f32" },
  workgroupSize: [64],
});
const rowsAddK = /* @__PURE__ */ kernel({
  name: "rows_add",
  source: sparseWgsl.rows_add,
  bindings: { ids: "i32", g: "f32", x: "f32 rw" },
  uniforms: { n: "u32", d: "u32" },
  workgroupSize: [256],
});

/** Distinct rows of a square matrix that a batch reads (see {@link rowSubset}). */
export interface RowSubset {
  /** `[k]` the distinct rows, in the order the kernels take them. */
  readonly ids: Tensor<"i32">;
  /** `[rows]` each row's position in `ids`, −1 for rows outside the subset. */
  readonly pos: Tensor<"i32">;
  /** k. */
  readonly size: number;
}

/**
 * The distinct rows of `a` named in `lists` (host ids, checked), and where each list entry
 * sits among them (`at[i]`, indices into {@link propagateRows}' result). Rows are ordered by
 * length in groups as `spmm` takes them ({@link balancedRowOrder}) when the matrix has host
 * offsets. The tensors are ordinary ones (a `tidy` scope frees them).
 */
export function rowSubset(
  a: SparseMatrix,
  lists: readonly ArrayLike<number>[],
): { subset: RowSubset; at: Tensor<"i32">[] } {
  const m = a.shape[0];
  const pos = new Int32Array(m).fill(-1);
  const seen: number[] = [];
  lists.forEach((l, li) => {
    for (let i = 0; i < l.length; i++) {
      const v = l[i];
      if (!Number.isInteger(v) || v < 0 || v >= m) {
        throw new Error(
          `wgrec rowSubset: id ${v} at position ${i} of list ${li} is out of range; expected ` +
            `0 ≤ id < ${m} (rows of ${a})`,
        );
      }
      if (pos[v] < 0) pos[v] = 0, seen.push(v);
    }
  });
  const ptr = a.hostRowPtr;
  let ids: Int32Array;
  if (ptr) {
    const sub = new Int32Array(seen.length + 1);
    seen.forEach((r, i) => sub[i + 1] = sub[i] + ptr[r + 1] - ptr[r]);
    ids = balancedRowOrder(sub).map((i) => seen[i]);
  } else {
    ids = Int32Array.from(seen).sort();
  }
  ids.forEach((r, s) => pos[r] = s);
  const k = ids.length;
  if (k === 0) throw new Error(`wgrec rowSubset: the lists name no row of ${a}`);
  const subset = {
    ids: tensor(ids, [k], "i32"),
    pos: tensor(pos, [m], "i32"),
    size: k,
  };
  const at = lists.map((l) => {
    const q = new Int32Array(l.length); // (a loop: TypedArray.from with a map function is slow)
    for (let i = 0; i < l.length; i++) q[i] = pos[l[i]];
    return indexTensor(q, k);
  });
  return { subset, at };
}

/**
 * `mean(H⁰, ÂH⁰, …, Â^L H⁰)` at the rows of `subset` (`[k, d]`, row s for `subset.ids[s]`):
 * `gather(lightGcnPropagate(a, h0, layers), ids)` with the same bits and less work (see the
 * module notes). Differentiable w.r.t. `h0`.
 */
export function propagateRows(
  a: SparseMatrix,
  h0: Tensor<"f32">,
  layers: number,
  subset: RowSubset,
): Tensor<"f32"> {
  expectDtype("propagateRows", h0, "f32", "embeddings");
  const [m, n] = a.shape;
  if (m !== n || h0.rank !== 2 || h0.shape[0] !== m) {
    throw new Error(
      `wgrec propagateRows: ${a} must be square and H⁰ ${fmt(h0.shape)} must be [${n}, d]`,
    );
  }
  if (!Number.isInteger(layers) || layers < 0) {
    throw new Error(`wgrec propagateRows: layers ${layers} must be an integer ≥ 0`);
  }
  if (subset.pos.size !== m) {
    throw new Error(
      `wgrec propagateRows: the subset was built for ${subset.pos.size} rows, not ${m}`,
    );
  }
  const out = noGrad(() => forwardRaw(a, h0, layers, subset));
  return record(propagateRules, out, "propagateRows", [h0], { matrix: a, layers, subset }, [
    subset.ids,
    subset.pos,
  ]);
}

function forwardRaw(a: SparseMatrix, h0: Tensor<"f32">, layers: number, s: RowSubset) {
  const d = h0.shape[1];
  if (layers === 0) return gather(h0, s.ids);
  const hs = [h0]; // the full layers before the last
  for (let l = 1; l < layers; l++) hs.push(spmm(a, hs[l - 1]));
  const compact = spmmColumnQuads(d, true) > 0;
  const full = compact ? null : spmm(a, hs[layers - 1]);
  const last = full ? gather(full, s.ids) : spmmCsr(a, hs[layers - 1], {
    order: s.ids,
    compact: true,
  });
  full?.dispose();
  let out: Tensor<"f32">;
  if (layers <= 4 && d <= MAX_SINGLE_LOOP) { // one kernel for the mean (a loop over d)
    out = output("propagateRows", [s.size, d], "f32");
    launch("propagateRows", meanK, {
      buffers: {
        ids: s.ids.buffer,
        h0: hs[0].buffer,
        h1: hs[Math.min(1, layers - 1)].buffer,
        h2: hs[Math.min(2, layers - 1)].buffer,
        h3: hs[Math.min(3, layers - 1)].buffer,
        last: last.buffer,
        out: out.buffer,
      },
      uniforms: { k: s.size, d, scale: 1 / (layers + 1) },
      workgroups: groups(s.size, 64),
      defines: { P: layers },
    }, out);
  } else { // the composed ops' order: ((h⁰ + h¹) + …) + last, then the scale
    let acc = gather(h0, s.ids);
    for (const h of [...hs.slice(1).map((h) => gather(h, s.ids)), last]) {
      const next = add(acc, h);
      acc.dispose();
      if (h !== last) h.dispose();
      acc = next;
    }
    out = scale(acc, 1 / (layers + 1));
    acc.dispose();
  }
  last.dispose();
  for (const h of hs.slice(1)) h.dispose();
  return out;
}

/** Gradient of {@link propagateRows}: `Σ_l (Âᵀ)^l G'` by Horner's scheme. */
export function propagateRowsGrad(
  node: Node<"propagateRows">,
  gy: Tensor<"f32">,
): Tensor<"f32">[] {
  const { matrix: a, layers, subset: s } = node.attrs;
  const [m] = a.shape;
  const d = gy.shape[1];
  if (layers === 0) {
    const t = zeros([m, d]);
    addRows(t, s.ids, gy);
    return [t];
  }
  const at = a.transpose();
  const g = scale(gy, 1 / (layers + 1));
  const order = spmmOrder(at);
  const fused = spmmEpilogues(at, d, order !== null);
  const addG = { pos: s.pos, add: g };
  // The first product reads G' at S only; each product then adds G' (the layer's own term).
  let t: Tensor<"f32">;
  if (fused) t = columnSubsetProduct(at, s, g, order);
  else {
    const full = zeros([m, d]);
    addRows(full, s.ids, g);
    t = spmm(at, full);
    full.dispose();
    addRows(t, s.ids, g);
  }
  for (let l = layers - 1; l >= 1; l--) {
    const next: Tensor<"f32"> = fused ? spmmCsr(at, t, { order, addRows: addG }) : spmm(at, t);
    if (!fused) addRows(next, s.ids, g);
    t.dispose();
    t = next;
  }
  g.dispose();
  return [t];
}

// Âᵀ[:, S] · g + G': the product with a matrix zero outside S's rows, over Âᵀ's entries in
// those columns only (selected per call, in each row's entry order: see col_subset.wgsl).
function columnSubsetProduct(
  at: SparseMatrix,
  s: RowSubset,
  g: Tensor<"f32">,
  order: Tensor<"i32"> | null,
): Tensor<"f32"> {
  const [m] = at.shape;
  const subCol = output("propagateRows", [at.nnz], "i32");
  const subVal = output("propagateRows", [at.nnz], "f32");
  launch("propagateRows", subsetK, {
    buffers: {
      row_ptr: at.rowPtr.buffer,
      order: at.rowOrder.buffer,
      col: at.colIdx.buffer,
      val: at.values.buffer,
      pos: s.pos.buffer,
      sub_col: subCol.buffer,
      sub_val: subVal.buffer,
    },
    uniforms: { rows: m },
    workgroups: groups(m, 64),
  });
  const sub = {
    shape: [m, s.size] as const,
    rowPtr: at.rowPtr,
    colIdx: subCol,
    values: subVal,
    maxRowCount: at.maxRowCount,
  };
  const y = spmmCsr(sub, g, { order, sentinel: true, addRows: { pos: s.pos, add: g } });
  for (const t of [subCol, subVal]) t.dispose();
  return y;
}

// x[ids[s]] += g[s], in place.
function addRows(x: Tensor<"f32">, ids: Tensor<"i32">, g: Tensor<"f32">): void {
  const d = g.shape[1];
  launch("propagateRows", rowsAddK, {
    buffers: { ids: ids.buffer, g: g.buffer, x: x.buffer },
    uniforms: { n: g.size, d },
    workgroups: groups(g.size),
  }, x);
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface PropagateAttrs {
  /** Input: H⁰; the matrix, the layer count and the rows are attributes. */
  propagateRows: { matrix: SparseMatrix; layers: number; subset: RowSubset };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const propagateRules: RuleTable<keyof PropagateAttrs> = {
  propagateRows: propagateRowsGrad,
};
