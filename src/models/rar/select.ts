/**
 * RAR's cross-stage selection on the GPU (spec rar.md §3.1, §3.3): for each request, the k
 * pool rows nearest to its query vector, by
 * - `simhash`: codes h(x) = sign(x W_h) (W_h `[d, bits]` Gaussian, frozen), score
 *   −Hamming(h(q), h(p)) by XOR-popcount (`hammingTopK`), ties to the lower row;
 * - `dot`: exact inner product q·p (matmul tiles merged into a running top-k).
 * A query may exclude one pool row (its own user among the look-alike users). Selection is
 * not differentiable (it picks indices); the picked rows are gathered with gradients.
 *
 * {@link selectFromLists} selects from a per-request pool instead (each request's own recall
 * list, the recall stage's output): scores by `shaders/rar/pool_hamming.wgsl` (XOR-popcount of
 * the gathered SimHash codes) or `pool_dot.wgsl`, a row top-k, the item ids by `pool_pick.wgsl`.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { maskedFill } from "../../ops/core/where.ts";
import { eq } from "../../ops/core/elementwise.ts";
import { slice } from "../../ops/core/shape.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { hammingTopK, simhash } from "../../ops/search/hashing.ts";
import { tiledTopK } from "../../ops/search/topk.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { reshape } from "../../ops/core/shape.ts";
import { topk } from "../../ops/search/topk.ts";
import { kernel } from "../../gpu/kernel.ts";
import { groups, launch, output } from "../../ops/common.ts";
import { fmt, type Tensor, tensor } from "../../tensor.ts";
import * as rarWgsl from "../../../shaders/rar/wgsl.ts";

/** How rows are selected. */
export type SelectMethod = "simhash" | "dot";

/** Options of {@link selectTopK}. */
export interface SelectOptions {
  /** `simhash` (default) or `dot`. */
  method?: SelectMethod;
  /** SimHash hyperplanes `[d, bits]` (required for `simhash`). */
  planes?: Tensor<"f32">;
  /** Per query, a pool row it must not select (−1: none), e.g. the request's own user. */
  exclude?: Int32Array;
}

/**
 * Indices `[q, k]` i32 of the k pool rows (`pool` `[n, d]`) nearest to each query (`queries`
 * `[q, d]`), best first. Needs k ≤ n − 1 when excluding (so no list is padded with −1).
 */
export function selectTopK(
  queries: Tensor<"f32">,
  pool: Tensor<"f32">,
  k: number,
  opts: SelectOptions = {},
): Tensor<"i32"> {
  const [nq, d] = queries.shape;
  const n = pool.shape[0];
  const ex = opts.exclude;
  if (
    queries.rank !== 2 || pool.rank !== 2 || pool.shape[1] !== d ||
    k > n - (ex ? 1 : 0) || (ex !== undefined && ex.length !== nq)
  ) {
    throw new Error(
      `wgrec rar selectTopK: queries ${fmt(queries.shape)}, pool ${fmt(pool.shape)}, k = ${k}` +
        `${ex ? `, ${ex.length} exclusions` : ""}; expected [q, d], [n, d], k ≤ n` +
        `${ex ? " − 1 and one exclusion per query" : ""}`,
    );
  }
  return noGrad(() => {
    if ((opts.method ?? "simhash") === "simhash") {
      if (!opts.planes) throw new Error("wgrec rar selectTopK: simhash needs planes [d, bits]");
      const qc = simhash(queries, opts.planes);
      const pc = simhash(pool, opts.planes);
      const groups = ex
        ? {
          query: tensor(ex, [nq], "i32"),
          db: tensor(Int32Array.from({ length: n }, (_, i) => i), [n], "i32"),
        }
        : undefined;
      const top = hammingTopK(qc, pc, k, { exclude: groups });
      top.distances.dispose();
      qc.dispose();
      pc.dispose();
      groups?.query.dispose();
      groups?.db.dispose();
      return top.indices;
    }
    const exF = ex ? Float32Array.from(ex) : null;
    const top = tiledTopK(nq, n, k, (r0, nr, c0, nc) => {
      const s = matmul(slice(queries, [r0, 0], [nr, d]), slice(pool, [c0, 0], [nc, d]), {
        transB: true,
      });
      if (!exF) return s;
      const cols = Float32Array.from({ length: nc }, (_, j) => c0 + j);
      const mask = eq(tensor(exF.subarray(r0, r0 + nr), [nr, 1]), tensor(cols, [1, nc]));
      return maskedFill(s, mask, NaN); // NaN scores are skipped by the top-k
    });
    top.values.dispose();
    return top.indices;
  });
}

const poolHammingK = /* @__PURE__ */ kernel({
  name: "rar_pool_hamming",
  source: rarWgsl.pool_hamming,
  bindings: { q: "u32", p: "u32", ids: "i32", ex: "i32", out: "f32 rw" },
  uniforms: { n: "u32", per: "u32", words: "u32", skip: "f32" },
  workgroupSize: [256],
});

const poolDotK = /* @__PURE__ */ kernel({
  name: "rar_pool_dot",
  source: rarWgsl.pool_dot,
  bindings: { q: "f32", p: "f32", ids: "i32", ex: "i32", out: "f32 rw" },
  uniforms: { n: "u32", per: "u32", d: "u32", skip: "f32" },
  workgroupSize: [256],
});

const poolPickK = /* @__PURE__ */ kernel({
  name: "rar_pool_pick",
  source: rarWgsl.pool_pick,
  bindings: { idx: "i32", ids: "i32", item: "i32 rw" },
  uniforms: { n: "u32", k: "u32", per: "u32" },
  workgroupSize: [256],
});

/**
 * Item ids `[q, k]` i32 picked from each request's own pool: `lists` `[q, N]` i32 item ids
 * (rows of `table` `[V, d]`), ranked by similarity of their table rows to the request's query
 * `[q, d]` (SimHash −Hamming, or exact dot), best first, ties to the earlier list position.
 * `exclude` `[q]` i32 leaves that item out of its request's pool (the target itself), so
 * k ≤ N − 1; lists are expected to hold distinct items (a list with repeats of the excluded
 * item can leave fewer than k: those picks are −1). Not differentiable.
 */
export function selectFromLists(
  queries: Tensor<"f32">,
  table: Tensor<"f32">,
  lists: Tensor<"i32">,
  k: number,
  opts: { method?: SelectMethod; planes?: Tensor<"f32">; exclude: Tensor<"i32"> },
): Tensor<"i32"> {
  const op = "rar selectFromLists";
  const [nq, d] = queries.shape;
  const N = lists.shape[1];
  const ex = opts.exclude;
  if (
    queries.rank !== 2 || table.rank !== 2 || table.shape[1] !== d || lists.rank !== 2 ||
    lists.shape[0] !== nq || ex.rank !== 1 || ex.shape[0] !== nq || k < 1 || k > N - 1
  ) {
    throw new Error(
      `wgrec ${op}: queries ${fmt(queries.shape)}, table ${fmt(table.shape)}, lists ` +
        `${fmt(lists.shape)}, exclude ${fmt(ex.shape)}, k = ${k}; expected [q, d], [V, d], ` +
        `[q, N], [q] and 1 ≤ k ≤ N − 1`,
    );
  }
  return noGrad(() => {
    const n = nq * N;
    const flat = reshape(lists, [n]);
    const scores = output(op, [nq, N], "f32");
    const common = { ids: flat.buffer, ex: ex.buffer, out: scores.buffer };
    if ((opts.method ?? "simhash") === "simhash") {
      if (!opts.planes) throw new Error(`wgrec ${op}: simhash needs planes [d, bits]`);
      const q = simhash(queries, opts.planes);
      const p = gather(simhash(table, opts.planes), flat);
      launch(op, poolHammingK, {
        buffers: { q: q.buffer, p: p.buffer, ...common },
        uniforms: { n, per: N, words: q.shape[1], skip: NaN },
        workgroups: groups(n),
      });
    } else {
      const p = gather(table, flat);
      launch(op, poolDotK, {
        buffers: { q: queries.buffer, p: p.buffer, ...common },
        uniforms: { n, per: N, d, skip: NaN },
        workgroups: groups(n),
      });
    }
    const top = topk(scores, k);
    const item = output(op, [nq, k], "i32");
    launch(op, poolPickK, {
      buffers: { idx: top.indices.buffer, ids: flat.buffer, item: item.buffer },
      uniforms: { n: nq * k, k, per: N },
      workgroups: groups(nq * k),
    });
    return item;
  });
}
