/**
 * SparCode's inverted index (../shared/specs/sparcode.md §6.1 step 5, §6.3), built and served
 * on the GPU.
 *
 * Offline: every (code, item) score `T[c, i] = ReLU(E(q_c, v_i) + b)` of the quantised model is
 * computed a chunk of codes at a time (the caller's scorer), and the entries above a threshold
 * (default 0: exactly the non-zero ReLU outputs) become CSR posting lists, code → [(item,
 * score)], items ascending. Two passes over each chunk: count per code, exclusive scan, then a
 * deterministic fill (a workgroup scan of the keep flags, no atomics).
 *
 * Online: a query's K code ids select K posting lists, which one workgroup per query
 * scatter-adds into a dense row of item scores in token order, then top-K. Because the lists
 * hold the table's values and the sums run in the same order, serving equals the dense sum
 * `Σ_k T[c_k, :]` of the same table exactly (see {@link denseScores}).
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { noGrad } from "../../autograd/tape.ts";
import { fmt, keep, runtime, type Tensor, tidy } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../../ops/common.ts";
import { indexGuard, watchIndexGuard } from "../../ops/index_check.ts";
import { exclusiveScan } from "../../ops/core/scan.ts";
import { add } from "../../ops/core/elementwise.ts";
import { concat, reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { type TopK, topk } from "../../ops/search/topk.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";
import * as sparcodeWgsl from "../../../shaders/sparcode/wgsl.ts";

const WG = 256;
/** Longest item axis: every kernel loop runs ≤ len / 256 iterations (lavapipe's 65,535 cap). */
export const MAX_INDEX_ITEMS = WG * 65535;

const countK = /* @__PURE__ */ kernel({
  name: "sparcode_count",
  source: sparcodeWgsl.sparcode_count,
  bindings: { table: "f32", cnt: "i32 rw" },
  uniforms: { rows: "u32", len: "u32", row0: "u32", thr: "f32" },
  workgroupSize: [WG],
});
const fillK = /* @__PURE__ */ kernel({
  name: "sparcode_fill",
  source: sparcodeWgsl.sparcode_fill,
  bindings: { table: "f32", ptr: "i32", items: "i32 rw", vals: "f32 rw" },
  uniforms: { rows: "u32", len: "u32", row0: "u32", thr: "f32" },
  workgroupSize: [WG],
});
const serveK = /* @__PURE__ */ kernel({
  name: "sparcode_serve",
  source: sparcodeWgsl.sparcode_serve,
  lib: [commonWgsl.index_guard],
  bindings: {
    codes: "i32",
    ptr: "i32",
    items: "i32",
    vals: "f32",
    scores: "f32 rw",
    bad: "atomic<i32> rw",
  },
  uniforms: { nq: "u32", k: "u32", len: "u32", ncodes: "u32", slot: "u32" },
  workgroupSize: [WG],
});
const countsK = /* @__PURE__ */ kernel({
  name: "sparcode_counts",
  source: sparcodeWgsl.sparcode_counts,
  bindings: { ids: "i32", counts: "f32 rw" },
  uniforms: { nq: "u32", k: "u32", ncodes: "u32" },
  workgroupSize: [64],
});
const idsK = /* @__PURE__ */ kernel({
  name: "sparcode_code_ids",
  source: sparcodeWgsl.sparcode_code_ids,
  lib: [commonWgsl.index_guard],
  bindings: { codes: "i32", ids: "i32 rw", bad: "atomic<i32> rw" },
  uniforms: { n: "u32", m: "u32", ncodes: "u32", slot: "u32" },
  workgroupSize: [64],
});

/** The codebook an index was built for: M sub-spaces of N codes, N^M code ids. */
export interface CodeSpace {
  /** Codes per sub-space N. */
  codesPerSpace: number;
  /** Sub-spaces M. */
  subspaces: number;
}

/** Number of code ids N^M of a code space (throws past 2^24: no index would fit). */
export function numCodeIds(s: CodeSpace): number {
  const c = s.codesPerSpace ** s.subspaces;
  if (!Number.isInteger(c) || c < 1 || c > 2 ** 24) {
    throw new Error(
      `wgrec SparCode: ${s.codesPerSpace}^${s.subspaces} code combinations, expected 1 … 2^24 ` +
        `(the index has one posting list per combination)`,
    );
  }
  return c;
}

/**
 * Code id of every token from its product-quantisation codes `[n, M]` (i32, each in [0, N)):
 * `Σ_m codes[t, m]·N^(M−1−m)`, sub-space 0 most significant. A sub-code outside the codebook
 * gives −1 and is reported by `checkIndices()` naming this op.
 */
export function codeIds(codes: Tensor<"i32">, space: CodeSpace): Tensor<"i32"> {
  expectDtype("codeIds", codes, "i32", "codes");
  numCodeIds(space);
  if (codes.rank !== 2 || codes.shape[1] !== space.subspaces) {
    throw new Error(
      `wgrec codeIds: codes ${fmt(codes.shape)}, expected [n, ${space.subspaces}] ` +
        `(one code per sub-space)`,
    );
  }
  const n = codes.shape[0];
  const ids = output("codeIds", [n], "i32");
  if (n === 0) return ids;
  const label = `'codeIds' (codes ${fmt(codes.shape)} for ${space.codesPerSpace} codes per ` +
    `sub-space)`;
  const g = indexGuard(label);
  launch("codeIds", idsK, {
    buffers: { codes: codes.buffer, ids: ids.buffer, bad: g.buffer },
    uniforms: { n, m: space.subspaces, ncodes: space.codesPerSpace, slot: g.slot },
    workgroups: groups(n, 64),
  });
  watchIndexGuard(g.slot, label);
  return ids;
}

/**
 * How often each code id occurs among each query's tokens: ids `[B, K]` → counts `[B, N^M]`
 * (f32), so that `counts · T` is the dense score `Σ_k T[ids[:, k], :]` (ids outside the code
 * space count nowhere). Not differentiable.
 */
export function codeCounts(ids: Tensor<"i32">, space: CodeSpace): Tensor<"f32"> {
  checkQuery("codeCounts", ids);
  const nc = numCodeIds(space);
  const [nq, k] = ids.shape;
  const counts = output("codeCounts", [nq, nc], "f32");
  runtime().clear(counts.buffer, nq * nc * 4);
  launch("codeCounts", countsK, {
    buffers: { ids: ids.buffer, counts: counts.buffer },
    uniforms: { nq, k, ncodes: nc },
    workgroups: groups(nq, 64),
  });
  return counts;
}

/** All N^M code combinations as codes `[N^M, M]` (row c has id c), on the host. */
export function allCodes(space: CodeSpace): Int32Array {
  const c = numCodeIds(space);
  const m = space.subspaces;
  const out = new Int32Array(c * m);
  for (let id = 0; id < c; id++) {
    let r = id;
    for (let j = m - 1; j >= 0; j--) {
      out[id * m + j] = r % space.codesPerSpace;
      r = Math.floor(r / space.codesPerSpace);
    }
  }
  return out;
}

/** A CSR inverted index: code id → posting list of (item, score), items ascending. */
export interface InvertedIndex {
  /** The code space it was built for. */
  space: CodeSpace;
  /** Items of the catalogue. */
  numItems: number;
  /** Entries kept (scores > threshold). */
  nnz: number;
  /** Threshold the entries passed. */
  threshold: number;
  /** `[N^M + 1]` i32 list offsets. */
  ptr: Tensor<"i32">;
  /** `[max(nnz, 1)]` i32 item of each entry. */
  items: Tensor<"i32">;
  /** `[max(nnz, 1)]` f32 score of each entry. */
  vals: Tensor<"f32">;
}

/** Options of {@link buildIndex}. */
export interface BuildIndexOptions {
  /** Keep entries with score > threshold. Default 0 (the non-zero ReLU outputs). */
  threshold?: number;
  /** Codes scored per chunk (default: as many as fit 2^24 scores). */
  chunk?: number;
}

/**
 * Builds the inverted index on the GPU. `scoreChunk(c0, n)` returns the `[n, numItems]` scores
 * of code ids c0 … c0+n−1 (an owned tensor; it is disposed here). Chunks are scored twice
 * (count, then fill) unless all of them fit 2^25 scores, when they are kept in between. One
 * readback (the entry count).
 */
export async function buildIndex(
  scoreChunk: (c0: number, n: number) => Tensor<"f32">,
  space: CodeSpace,
  numItems: number,
  opts: BuildIndexOptions = {},
): Promise<InvertedIndex> {
  const nc = numCodeIds(space);
  if (!Number.isInteger(numItems) || numItems < 1 || numItems > MAX_INDEX_ITEMS) {
    throw new Error(
      `wgrec buildIndex: ${numItems} items, expected an integer in [1, ${MAX_INDEX_ITEMS}]`,
    );
  }
  const thr = opts.threshold ?? 0;
  if (!Number.isFinite(thr)) throw new Error(`wgrec buildIndex: threshold ${thr} must be finite`);
  const chunk = Math.max(1, Math.min(nc, opts.chunk ?? Math.floor(2 ** 24 / numItems)));
  const cacheAll = nc * numItems <= 2 ** 25;
  const cached: Tensor<"f32">[] = [];
  const table = (c0: number, n: number, i: number): Tensor<"f32"> => {
    if (cached[i]) return cached[i];
    const t = noGrad(() => tidy(() => scoreChunk(c0, n)));
    if (t.rank !== 2 || t.shape[0] !== n || t.shape[1] !== numItems || t.dtype !== "f32") {
      throw new Error(
        `wgrec buildIndex: scoreChunk(${c0}, ${n}) returned ${t.dtype} ${fmt(t.shape)}, ` +
          `expected f32 [${n}, ${numItems}]`,
      );
    }
    if (cacheAll) cached[i] = keep(t);
    return t;
  };
  const done = (t: Tensor) => {
    if (!cacheAll) t.dispose();
  };
  const cnt = keep(output("buildIndex", [nc], "i32"));
  for (let c0 = 0, i = 0; c0 < nc; c0 += chunk, i++) {
    const n = Math.min(chunk, nc - c0);
    const t = table(c0, n, i);
    launch("buildIndex", countK, {
      buffers: { table: t.buffer, cnt: cnt.buffer },
      uniforms: { rows: n, len: numItems, row0: c0, thr },
      workgroups: [n],
    });
    done(t);
  }
  const ptr = keep(exclusiveScan(cnt));
  cnt.dispose();
  const nnz = (await slice(ptr, [nc], [1]).read())[0];
  const items = keep(output("buildIndex", [Math.max(nnz, 1)], "i32"));
  const vals = keep(output("buildIndex", [Math.max(nnz, 1)], "f32"));
  for (let c0 = 0, i = 0; c0 < nc; c0 += chunk, i++) {
    const n = Math.min(chunk, nc - c0);
    const t = table(c0, n, i);
    launch("buildIndex", fillK, {
      buffers: { table: t.buffer, ptr: ptr.buffer, items: items.buffer, vals: vals.buffer },
      uniforms: { rows: n, len: numItems, row0: c0, thr },
      workgroups: [n],
    });
    t.dispose();
  }
  return { space, numItems, nnz, threshold: thr, ptr, items, vals };
}

/** Throws unless `ids` `[B, K]` (K ≥ 1) are code ids of `index`'s code space. */
function checkQuery(op: string, ids: Tensor<"i32">): void {
  expectDtype(op, ids, "i32", "code ids");
  if (ids.rank !== 2) {
    throw new Error(`wgrec ${op}: code ids ${fmt(ids.shape)}, expected [queries, K]`);
  }
  if (ids.shape[1] === 0) {
    throw new Error(
      `wgrec ${op}: code ids ${fmt(ids.shape)}: a query with no tokens has no posting list ` +
        `to read, expected K ≥ 1 tokens per query`,
    );
  }
}

/**
 * Serves queries from the index: dense item scores `[B, numItems]` where row b is the sum of
 * the posting lists of its code ids `ids[b, :]` (i32 in [0, N^M)), added in token order. An id
 * outside the index adds nothing and is reported by `checkIndices()`.
 */
export function serveScores(index: InvertedIndex, ids: Tensor<"i32">): Tensor<"f32"> {
  checkQuery("serveScores", ids);
  const [nq, k] = ids.shape;
  const nc = numCodeIds(index.space);
  const scores = output("serveScores", [nq, index.numItems], "f32");
  if (nq === 0) return scores;
  const label = `'serveScores' (code ids ${fmt(ids.shape)}, index of ${nc} codes)`;
  const g = indexGuard(label);
  launch("serveScores", serveK, {
    buffers: {
      codes: ids.buffer,
      ptr: index.ptr.buffer,
      items: index.items.buffer,
      vals: index.vals.buffer,
      scores: scores.buffer,
      bad: g.buffer,
    },
    uniforms: { nq, k, len: index.numItems, ncodes: nc, slot: g.slot },
    workgroups: [nq],
  }, scores);
  watchIndexGuard(g.slot, label);
  return scores;
}

/**
 * Top-`k` items of each query from the index (serving: scatter-add, then top-K), queries in
 * chunks of `chunk` (default: as many as fit one storage binding, 2^25 scores).
 */
export function serveTopK(
  index: InvertedIndex,
  ids: Tensor<"i32">,
  k: number,
  chunk?: number,
): TopK {
  checkQuery("serveTopK", ids);
  const [nq, kk] = ids.shape;
  const step = Math.max(1, chunk ?? Math.floor(2 ** 25 / index.numItems));
  return noGrad(() => {
    const parts: TopK[] = [];
    for (let q0 = 0; q0 < Math.max(nq, 1); q0 += step) {
      const n = Math.min(step, nq - q0);
      const sub = nq <= step ? ids : slice(ids, [q0, 0], [n, kk]);
      const s = serveScores(index, sub);
      parts.push(topk(s, k));
      s.dispose();
      if (sub !== ids) sub.dispose();
    }
    if (parts.length === 1) return parts[0];
    return {
      values: concat(parts.map((p) => p.values), 0),
      indices: concat(parts.map((p) => p.indices), 0),
    };
  });
}

/**
 * The brute-force reference of serving: `Σ_k T[ids[:, k], :]` from a dense table `[N^M, I]`
 * (rows gathered, added in token order: the same sums as {@link serveScores} when the index
 * keeps every non-zero entry of T).
 */
export function denseScores(table: Tensor<"f32">, ids: Tensor<"i32">): Tensor<"f32"> {
  expectDtype("denseScores", table, "f32", "table");
  if (ids.rank !== 2 || ids.shape[1] === 0) {
    throw new Error(`wgrec denseScores: code ids ${fmt(ids.shape)}, expected [queries, K ≥ 1]`);
  }
  const [nq, k] = ids.shape;
  return noGrad(() => {
    let acc: Tensor<"f32"> | null = null;
    for (let j = 0; j < k; j++) {
      const col = reshape(slice(ids, [0, j], [nq, 1]), [nq]);
      const rows = gather(table, col);
      acc = acc ? add(acc, rows) : rows;
    }
    return acc!;
  });
}

/** Bytes the index occupies on the device (offsets, items, scores). */
export function indexBytes(index: InvertedIndex): number {
  return 4 * (index.ptr.size + index.items.size + index.vals.size);
}

/** Frees the index buffers. */
export function disposeIndex(index: InvertedIndex): void {
  index.ptr.dispose();
  index.items.dispose();
  index.vals.dispose();
}

/** Checks that an index was built for `space` (same N and M) and `numItems` items. */
export function assertIndexFits(index: InvertedIndex, space: CodeSpace, numItems: number): void {
  const a = index.space;
  if (
    a.codesPerSpace !== space.codesPerSpace || a.subspaces !== space.subspaces ||
    index.numItems !== numItems
  ) {
    throw new Error(
      `wgrec SparCode: the index was built for ${a.subspaces} sub-spaces × ${a.codesPerSpace} ` +
        `codes and ${index.numItems} items, the model has ${space.subspaces} × ` +
        `${space.codesPerSpace} codes and ${numItems} items: rebuild the index`,
    );
  }
}
