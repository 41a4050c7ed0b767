/**
 * Sparse matrices (CSR) on the GPU, their row order and transpose, the normalised user–item
 * adjacency of LightGCN-style models, and the item–item kNN graph of multimodal recommenders
 * (AlignRec / MMRec, see ../shared/specs/alignrec.md). Products with dense matrices: `spmm.ts`.
 *
 * A {@link SparseMatrix} is valid by construction: it is built from host data whose ids are
 * checked ({@link SparseMatrix.fromCOO}, {@link SparseMatrix.fromCSR}, {@link bipartiteAdjacency})
 * or on the GPU from such a matrix ({@link SparseMatrix.transpose}, {@link knnGraph}), so the
 * kernels never see an id out of range. Its values are constants (no gradient); `spmm` is
 * differentiable w.r.t. the dense operand. The matrix owns its tensors: they outlive `tidy`
 * scopes until {@link SparseMatrix.dispose}.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { noGrad } from "../../autograd/tape.ts";
import { fmt, keep, readAll, runtime, type Tensor, tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { gather } from "./gather.ts";
import { matmul } from "../matmul/matmul.ts";
import { buildCsr, csrRowIds } from "../core/scan.ts";
import { reshape, slice } from "../core/shape.ts";
import { tiledTopK } from "../search/topk.ts";
import * as sparseWgsl from "../../../shaders/sparse/wgsl.ts";

const lengthKeysK = /* @__PURE__ */ kernel({
  name: "row_length_keys",
  source: sparseWgsl.row_length_keys,
  bindings: { row_ptr: "i32", key: "i32 rw" },
  uniforms: { rows: "u32", longest: "u32" },
  workgroupSize: [256],
});
const degreeK = /* @__PURE__ */ kernel({
  name: "knn_degree",
  source: sparseWgsl.knn_degree,
  bindings: { row_ptr: "i32", val: "f32", deg: "f32 rw" },
  uniforms: { rows: "u32" },
  workgroupSize: [256],
});
const weightsK = /* @__PURE__ */ kernel({
  name: "knn_weights",
  source: sparseWgsl.knn_weights,
  defines: { NORM: "u32" },
  bindings: { row_of: "i32", col: "i32", val: "f32", deg: "f32", out: "f32 rw" },
  uniforms: { nnz: "u32" },
  workgroupSize: [256],
});
const normalizeK = /* @__PURE__ */ kernel({
  name: "knn_normalize",
  source: sparseWgsl.knn_normalize,
  bindings: { x: "f32", out: "f32 rw" },
  uniforms: { n: "u32", d: "u32" },
  workgroupSize: [64],
});

/** Host CSR arrays of a {@link SparseMatrix}. */
export interface CsrArrays {
  /** Row offsets, length rows + 1. */
  rowPtr: Int32Array;
  /** Column of each entry. */
  colIdx: Int32Array;
  /** Value of each entry. */
  values: Float32Array;
}

/** Options of the {@link SparseMatrix} constructors. */
export interface SparseOptions {
  /** The matrix equals its transpose: `transpose()` returns it and builds nothing. */
  symmetric?: boolean;
}

// Wraps GPU CSR tensors built in this module from valid ids (kept private: no id check), with
// bounds on the longest column and row (spmm splits rows by them: see MAX_SINGLE_LOOP).
let wrapValid: (
  shape: readonly [number, number],
  rowPtr: Tensor<"i32">,
  colIdx: Tensor<"i32">,
  values: Tensor<"f32">,
  symmetric: boolean,
  maxColCount: number,
  maxRowCount: number,
) => SparseMatrix;

/** A CSR sparse matrix `[rows, cols]` on the GPU with constant f32 values. */
export class SparseMatrix {
  #t: SparseMatrix | null = null;
  #order: Tensor<"i32"> | null = null;
  #hostPtr: Int32Array | null = null;
  #tensors: Tensor[];

  private constructor(
    /** `[rows, cols]`. */
    readonly shape: readonly [number, number],
    /** `[rows + 1]` row offsets. */
    readonly rowPtr: Tensor<"i32">,
    /** `[nnz]` column of each entry (ascending within a row when built here). */
    readonly colIdx: Tensor<"i32">,
    /** `[nnz]` value of each entry. */
    readonly values: Tensor<"f32">,
    /** Whether the matrix is known to be symmetric. */
    readonly symmetric: boolean,
    /** Most entries in one column, or a bound on it (fewer sort passes in `transpose`). */
    readonly maxColCount: number,
    /** Most entries in one row, or a bound on it (`spmm` sums longer rows in blocks). */
    readonly maxRowCount: number,
  ) {
    this.#tensors = [rowPtr, colIdx, values];
    for (const t of this.#tensors) keep(t);
  }

  /**
   * `[rows]` row ids in the order the spmm kernels take them ({@link balancedRowOrder}),
   * built on the GPU at first use and owned by the matrix.
   */
  get rowOrder(): Tensor<"i32"> {
    if (!this.#order) {
      this.#order = keep(noGrad(() => balancedOrderGpu(this.rowPtr, this.maxRowCount)));
      this.#tensors.push(this.#order);
    }
    return this.#order;
  }

  /** The row offsets on the host when the matrix was built from host data, else null. */
  get hostRowPtr(): Int32Array | null {
    return this.#hostPtr;
  }

  /** Number of stored entries. */
  get nnz(): number {
    return this.colIdx.size;
  }

  /**
   * A matrix from coordinate lists (host data). Ids are checked; entries are ordered by row,
   * then column (duplicates are kept and add up in products).
   */
  static fromCOO(
    rows: ArrayLike<number>,
    cols: ArrayLike<number>,
    vals: ArrayLike<number>,
    shape: readonly [number, number],
    opts: SparseOptions = {},
  ): SparseMatrix {
    const [m, n] = checkShape("fromCOO", shape);
    const nnz = rows.length;
    if (cols.length !== nnz || vals.length !== nnz) {
      throw new Error(
        `wgrec SparseMatrix.fromCOO: rows (${nnz}), cols (${cols.length}) and vals ` +
          `(${vals.length}) must have the same length`,
      );
    }
    checkIds("fromCOO", "row", rows, m);
    checkIds("fromCOO", "column", cols, n);
    // Two stable counting sorts: by column, then by row.
    const byCol = countingOrder(cols, n, null);
    const order = countingOrder(rows, m, byCol.order);
    const rowPtr = order.ptr;
    const colIdx = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    for (let j = 0; j < nnz; j++) {
      colIdx[j] = cols[order.order[j]];
      values[j] = vals[order.order[j]];
    }
    const counts = { col: byCol.maxCount, row: order.maxCount };
    return SparseMatrix.#upload(shape, { rowPtr, colIdx, values }, opts, counts);
  }

  /** A matrix from CSR arrays (host data), checked: monotone offsets, columns in range. */
  static fromCSR(
    rowPtr: ArrayLike<number>,
    colIdx: ArrayLike<number>,
    values: ArrayLike<number>,
    shape: readonly [number, number],
    opts: SparseOptions = {},
  ): SparseMatrix {
    const [m, n] = checkShape("fromCSR", shape);
    const nnz = colIdx.length;
    if (rowPtr.length !== m + 1 || rowPtr[0] !== 0 || rowPtr[m] !== nnz || values.length !== nnz) {
      throw new Error(
        `wgrec SparseMatrix.fromCSR: rowPtr (length ${rowPtr.length}) must have ${m + 1} ` +
          `offsets from 0 to nnz = ${nnz}, and values (${values.length}) one per column id`,
      );
    }
    for (let r = 0; r < m; r++) {
      if (!(rowPtr[r + 1] >= rowPtr[r])) {
        throw new Error(`wgrec SparseMatrix.fromCSR: rowPtr decreases at row ${r}`);
      }
    }
    checkIds("fromCSR", "column", colIdx, n);
    let maxRow = 0;
    for (let r = 0; r < m; r++) maxRow = Math.max(maxRow, rowPtr[r + 1] - rowPtr[r]);
    const colCount = new Int32Array(n);
    let maxCol = 0;
    for (let j = 0; j < nnz; j++) maxCol = Math.max(maxCol, ++colCount[colIdx[j]]);
    return SparseMatrix.#upload(
      shape,
      {
        rowPtr: Int32Array.from(rowPtr),
        colIdx: Int32Array.from(colIdx),
        values: Float32Array.from(values),
      },
      opts,
      { col: maxCol, row: maxRow },
    );
  }

  // `longest`: the most entries in one column and in one row, counted from the host data.
  static #upload(
    shape: readonly [number, number],
    a: CsrArrays,
    o: SparseOptions,
    longest: { col: number; row: number },
  ): SparseMatrix {
    const m = new SparseMatrix(
      [shape[0], shape[1]],
      tensor(a.rowPtr, [a.rowPtr.length], "i32"),
      tensor(a.colIdx, [a.colIdx.length], "i32"),
      tensor(a.values, [a.values.length], "f32"),
      o.symmetric ?? false,
      longest.col,
      longest.row,
    );
    m.#hostPtr = a.rowPtr;
    return m;
  }

  static {
    wrapValid = (shape, rowPtr, colIdx, values, symmetric, maxColCount, maxRowCount) =>
      new SparseMatrix(
        [shape[0], shape[1]],
        rowPtr,
        colIdx,
        values,
        symmetric,
        maxColCount,
        maxRowCount,
      );
  }

  /**
   * The transpose `[cols, rows]`, built once on the GPU (CSR inverse of the column ids) and
   * cached; a symmetric matrix is its own transpose. Owned by this matrix.
   */
  transpose(): SparseMatrix {
    if (this.symmetric) return this;
    if (this.#t) return this.#t;
    const t = noGrad(() => {
      const rowOf = csrRowIds(this.rowPtr, this.nnz);
      const csr = buildCsr(this.colIdx, this.shape[1], {
        op: "SparseMatrix.transpose",
        maxRowLength: this.maxColCount,
      });
      const col = gather(rowOf, csr.perm);
      const val = gather(this.values, csr.perm);
      rowOf.dispose();
      csr.perm.dispose();
      return new SparseMatrix(
        [this.shape[1], this.shape[0]],
        csr.rowPtr,
        col,
        val,
        false,
        this.maxRowCount,
        this.maxColCount,
      );
    });
    t.#t = this;
    this.#t = t;
    return t;
  }

  /** Copies the CSR arrays back to the host (one readback). */
  async toHost(): Promise<CsrArrays> {
    const [rowPtr, colIdx, values] = await readAll(
      [this.rowPtr, this.colIdx, this.values] as const,
    );
    return { rowPtr, colIdx, values };
  }

  /** Frees the matrix's tensors and its cached transpose. */
  dispose(): void {
    const t = this.#t;
    this.#t = null;
    for (const x of this.#tensors) x.dispose();
    if (t && t.#t === this) {
      t.#t = null;
      t.dispose();
    }
  }

  /** `SparseMatrix([rows, cols], nnz)`. */
  toString(): string {
    return `SparseMatrix(${fmt(this.shape)}, nnz ${this.nnz})`;
  }
}

function checkShape(op: string, shape: readonly number[]): [number, number] {
  if (
    shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d >= 0 && d < 2 ** 31)
  ) {
    throw new Error(`wgrec SparseMatrix.${op}: shape ${fmt(shape)} must be [rows, cols]`);
  }
  return [shape[0], shape[1]];
}

function checkIds(op: string, what: string, ids: ArrayLike<number>, bound: number): void {
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (!Number.isInteger(v) || v < 0 || v >= bound) {
      throw new Error(
        `wgrec SparseMatrix.${op}: ${what} id ${v} at position ${i} is out of range; ` +
          `expected 0 ≤ ${what} < ${bound}`,
      );
    }
  }
}

/**
 * Row ids for the spmm kernels from CSR offsets: by descending length (ties by id) in groups of
 * {@link ROW_GROUP}, so a software adapter's SIMD lanes (one row each) loop about equally long,
 * and the groups in bit-reversed order. lavapipe splits a dispatch's workgroups into one
 * contiguous share per thread: in length order the first share would get the long rows and the
 * other thread would idle (measured 1.25 of 2 threads busy); bit reversal gives every share of
 * 2^k threads the same mix of long and short rows. `SparseMatrix.rowOrder` is this order, built
 * on the GPU.
 */
export function balancedRowOrder(ptr: Int32Array): Int32Array {
  const m = ptr.length - 1;
  let max = 0;
  for (let r = 0; r < m; r++) max = Math.max(max, ptr[r + 1] - ptr[r]);
  const keys = Int32Array.from({ length: m }, (_, r) => max - (ptr[r + 1] - ptr[r]));
  const sorted = countingOrder(keys, max + 1, null).order;
  return balancedSlots(m).map((i) => sorted[i]);
}

/** Rows of equal length rank that {@link balancedRowOrder} keeps together (SIMD width). */
export const ROW_GROUP = 8;

// Position p of the balanced order takes the row of rank slots[p] in length order: the full
// groups in bit-reversed order, then a partial last group (so that every group stays aligned).
function balancedSlots(m: number): Int32Array {
  const full = Math.floor(m / ROW_GROUP);
  let bits = 0;
  while (1 << bits < full) bits++;
  const slots = Int32Array.from({ length: m }, (_, i) => i); // the partial group stays last
  let at = 0;
  for (let i = 0; i < 1 << bits; i++) {
    let g = 0; // i with its `bits` low bits reversed
    for (let b = 0; b < bits; b++) g |= ((i >> b) & 1) << (bits - 1 - b);
    if (g >= full) continue;
    for (let j = 0; j < ROW_GROUP; j++) slots[at++] = g * ROW_GROUP + j;
  }
  return slots;
}

// balancedRowOrder on the GPU: a stable sort of the rows by descending length (the CSR inverse
// of their length keys), then the slots. `longest` bounds the row lengths.
function balancedOrderGpu(rowPtr: Tensor<"i32">, longest: number): Tensor<"i32"> {
  const m = rowPtr.size - 1;
  const key = output("SparseMatrix.rowOrder", [m], "i32");
  launch("SparseMatrix.rowOrder", lengthKeysK, {
    buffers: { row_ptr: rowPtr.buffer, key: key.buffer },
    uniforms: { rows: m, longest },
    workgroups: groups(m),
  });
  const csr = buildCsr(key, longest + 1, { op: "SparseMatrix.rowOrder", maxRowLength: m });
  const slots = tensor(balancedSlots(m), [m], "i32");
  const order = gather(csr.perm, slots);
  for (const t of [key, csr.rowPtr, csr.perm, slots]) t.dispose();
  return order;
}

/** Stable counting sort of positions (`within`, or 0…n−1) by `keys`, plus offsets. */
function countingOrder(
  keys: ArrayLike<number>,
  bound: number,
  within: Int32Array | null,
): { order: Int32Array; ptr: Int32Array; maxCount: number } {
  const n = keys.length;
  const ptr = new Int32Array(bound + 1);
  for (let i = 0; i < n; i++) ptr[keys[i] + 1]++;
  let maxCount = 0;
  for (let r = 0; r < bound; r++) {
    maxCount = Math.max(maxCount, ptr[r + 1]);
    ptr[r + 1] += ptr[r];
  }
  const cur = ptr.slice(0, bound);
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = within ? within[j] : j;
    order[cur[keys[i]]++] = i;
  }
  return { order, ptr, maxCount };
}

// --- graphs ---------------------------------------------------------------------------------

/** User–item interactions with 0-based ids (structurally the `Interactions` of src/data). */
export interface InteractionList {
  /** User id of each interaction. */
  users: ArrayLike<number>;
  /** Item id of each interaction. */
  items: ArrayLike<number>;
  /** Number of users. */
  numUsers: number;
  /** Number of items. */
  numItems: number;
}

/** Distinct (user, item) pairs sorted by user then item, with degrees. */
function distinctPairs(inter: InteractionList) {
  const { numUsers: nu, numItems: ni } = inter;
  if (inter.users.length !== inter.items.length) {
    throw new Error(
      `wgrec bipartiteAdjacency: users (${inter.users.length}) and items ` +
        `(${inter.items.length}) must have the same length`,
    );
  }
  checkIds("bipartiteAdjacency", "user", inter.users, nu);
  checkIds("bipartiteAdjacency", "item", inter.items, ni);
  const byItem = countingOrder(inter.items, ni, null);
  const sorted = countingOrder(inter.users, nu, byItem.order).order;
  const u: number[] = [];
  const i: number[] = [];
  for (const j of sorted) {
    const a = inter.users[j];
    const b = inter.items[j];
    if (u.length && u[u.length - 1] === a && i[i.length - 1] === b) continue;
    u.push(a);
    i.push(b);
  }
  const du = new Float64Array(nu);
  const di = new Float64Array(ni);
  for (let j = 0; j < u.length; j++) {
    du[u[j]]++;
    di[i[j]]++;
  }
  return { u: Int32Array.from(u), i: Int32Array.from(i), du, di };
}

/**
 * The normalised bipartite adjacency of LightGCN / MMRec: `Â = D^-½ A D^-½` with
 * `A = [[0, R], [Rᵀ, 0]]` (`(U+I) × (U+I)`, users first, no self-loops), R the binary
 * interaction matrix (repeated pairs count once), D the degrees; `Â[u, U+i] = 1/√(d_u·d_i)`.
 * Built on the host (O(nnz)) and uploaded; symmetric, so its transpose is itself.
 */
export function bipartiteAdjacency(inter: InteractionList): SparseMatrix {
  const { u, i, du, di } = distinctPairs(inter);
  const nu = inter.numUsers;
  const n = nu + inter.numItems;
  const e = u.length;
  const rows = new Int32Array(2 * e);
  const cols = new Int32Array(2 * e);
  const vals = new Float32Array(2 * e);
  for (let j = 0; j < e; j++) {
    const w = 1 / Math.sqrt(du[u[j]] * di[i[j]]);
    rows[j] = u[j];
    cols[j] = nu + i[j];
    rows[e + j] = nu + i[j];
    cols[e + j] = u[j];
    vals[j] = vals[e + j] = w;
  }
  return SparseMatrix.fromCOO(rows, cols, vals, [n, n], { symmetric: true });
}

/**
 * The user→item block `R̂ = Â[:U, U:]` of {@link bipartiteAdjacency} (`U × I`, entries
 * `1/√(d_u·d_i)`), used to pool item embeddings into users. Its transpose is built on demand.
 */
export function normalizedUserItem(inter: InteractionList): SparseMatrix {
  const { u, i, du, di } = distinctPairs(inter);
  const vals = new Float32Array(u.length);
  for (let j = 0; j < u.length; j++) vals[j] = 1 / Math.sqrt(du[u[j]] * di[i[j]]);
  return SparseMatrix.fromCOO(u, i, vals, [inter.numUsers, inter.numItems]);
}

/** Row L2 normalisation (zero or non-finite rows → zero rows). */
export function rowL2Normalize(x: Tensor<"f32">): Tensor<"f32"> {
  expectDtype("rowL2Normalize", x, "f32");
  if (x.rank !== 2) throw new Error(`wgrec rowL2Normalize: input ${fmt(x.shape)} must be 2-D`);
  const out = output("rowL2Normalize", x.shape, "f32");
  launch("rowL2Normalize", normalizeK, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: { n: x.shape[0], d: x.shape[1] },
    workgroups: groups(x.shape[0], 64),
  }, out);
  return out;
}

/** Edge normalisation of {@link normalizeEdges} and {@link knnGraph}. */
export type EdgeNorm = "sym" | "rw" | "none";

// A matrix's bounds on its longest column and row.
function bounds(a: SparseMatrix): [number, number] {
  return [a.maxColCount, a.maxRowCount];
}

/**
 * Normalises a square matrix's values by its row sums d: `'sym'` gives `d_r^-½ · v · d_c^-½`,
 * `'rw'` gives `v / d_r`, `'none'` copies. Rows whose sum is not positive get weight 0.
 */
export function normalizeEdges(a: SparseMatrix, norm: EdgeNorm): SparseMatrix {
  if (a.shape[0] !== a.shape[1]) {
    throw new Error(`wgrec normalizeEdges: matrix ${fmt(a.shape)} must be square`);
  }
  const rows = a.shape[0];
  return noGrad(() => {
    const rowPtr = copyOf(a.rowPtr);
    const col = copyOf(a.colIdx);
    if (norm === "none") {
      return wrapValid(a.shape, rowPtr, col, copyOf(a.values), a.symmetric, ...bounds(a));
    }
    const deg = output("normalizeEdges", [rows], "f32");
    launch("normalizeEdges", degreeK, {
      buffers: { row_ptr: a.rowPtr.buffer, val: a.values.buffer, deg: deg.buffer },
      uniforms: { rows },
      workgroups: groups(rows),
    });
    const rowOf = csrRowIds(a.rowPtr, a.nnz);
    const w = output("normalizeEdges", [a.nnz], "f32");
    launch("normalizeEdges", weightsK, {
      buffers: {
        row_of: rowOf.buffer,
        col: a.colIdx.buffer,
        val: a.values.buffer,
        deg: deg.buffer,
        out: w.buffer,
      },
      uniforms: { nnz: a.nnz },
      workgroups: groups(a.nnz),
      defines: { NORM: norm === "sym" ? 1 : 2 },
    }, w);
    deg.dispose();
    rowOf.dispose();
    return wrapValid(a.shape, rowPtr, col, w, a.symmetric && norm === "sym", ...bounds(a));
  });
}

function copyOf<T extends Tensor>(t: T): T {
  const c = output("copy", t.shape, t.dtype) as T;
  runtime().copy(t.buffer, 0, c.buffer, 0, t.size * 4);
  return c;
}

/** Options of {@link knnGraph}. */
export interface KnnOptions {
  /** Edge normalisation (default `'sym'`, AlignRec's). */
  norm?: EdgeNorm;
  /** `'similarity'` keeps the cosine values as weights (AlignRec); `'binary'` uses 1. */
  weights?: "similarity" | "binary";
  /** Leave out self-similarity (default false: self is usually among the top k). */
  excludeSelf?: boolean;
  /** Columns per similarity tile (default 65,536). */
  colBlock?: number;
  /** Most similarity elements per tile (default 2^22). */
  budget?: number;
}

/**
 * The item–item kNN graph of MMRec / AlignRec from features `x` `[I, d]`: cosine
 * similarities `X̂ X̂ᵀ` (rows L2-normalised; a zero or non-finite row has similarity 0 with
 * everything) computed tile by tile — row blocks × column tiles, running top-k per row, so
 * I × I never exists — then the top `k` per row (ties to the lower item id) as a
 * `[I, I]` matrix with `min(k, I)` entries per row (one fewer with `excludeSelf`), weighted
 * and normalised as asked. With AlignRec's defaults ('similarity', 'sym') the weights are
 * `w_ij = d_i^-½ s_ij d_j^-½`, d = row sums of the kept similarities; not symmetrised.
 */
export function knnGraph(x: Tensor<"f32">, k: number, opts: KnnOptions = {}): SparseMatrix {
  expectDtype("knnGraph", x, "f32", "features");
  if (x.rank !== 2) throw new Error(`wgrec knnGraph: features ${fmt(x.shape)} must be [I, d]`);
  const [n, d] = x.shape;
  const per = Math.min(k, opts.excludeSelf ? n - 1 : n);
  if (!Number.isInteger(k) || k < 1) {
    throw new Error(`wgrec knnGraph: k = ${k} must be a positive integer`);
  }
  return noGrad(() => {
    const xn = rowL2Normalize(x);
    const tiles = new Map<number, Tensor<"f32">>();
    const colTile = (c0: number, nc: number) => {
      let t = tiles.get(c0);
      if (!t) tiles.set(c0, t = keep(nc === n ? xn : slice(xn, [c0, 0], [nc, d])));
      return t;
    };
    const kk = Math.max(1, per);
    const top = tiledTopK(n, n, kk, (r0, nr, c0, nc) => {
      const rows = nr === n ? xn : slice(xn, [r0, 0], [nr, d]);
      return matmul(rows, colTile(c0, nc), { transB: true });
    }, { excludeDiagonal: opts.excludeSelf, colBlock: opts.colBlock, budget: opts.budget });
    for (const t of tiles.values()) if (t !== xn) t.dispose();
    xn.dispose();
    // No similarity is NaN, so every row holds exactly `per` entries, a prefix of its list.
    const nnz = n * per;
    const rp = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) rp[i] = i * per;
    const col = per === 0 ? output("knnGraph", [0], "i32") : reshape(top.indices, [nnz]);
    const val = opts.weights === "binary"
      ? tensor(new Float32Array(nnz).fill(1), [nnz])
      : per === 0
      ? output("knnGraph", [0], "f32")
      : reshape(top.values, [nnz]);
    top.indices.dispose();
    top.values.dispose();
    // Each row holds `per` distinct columns, so no column has more than n entries.
    const s = wrapValid([n, n], tensor(rp, [n + 1], "i32"), col, val, false, n, per);
    const norm = opts.norm ?? "sym";
    if (norm === "none") return s;
    const out = normalizeEdges(s, norm);
    s.dispose();
    return out;
  });
}
