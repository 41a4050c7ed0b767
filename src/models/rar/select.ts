/**
 * RAR's cross-stage selection on the GPU (spec rar.md §3.1, §3.3): for each request, the k
 * pool rows nearest to its query vector, by
 * - `simhash`: codes h(x) = sign(x W_h) (W_h `[d, bits]` Gaussian, frozen), score
 *   −Hamming(h(q), h(p)) by XOR-popcount (`hammingTopK`), ties to the lower row;
 * - `dot`: exact inner product q·p (matmul tiles merged into a running top-k).
 * A query may exclude one pool row (its own user among the look-alike users). Selection is
 * not differentiable (it picks indices); the picked rows are gathered with gradients.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { maskedFill } from "../../ops/core/where.ts";
import { eq } from "../../ops/core/elementwise.ts";
import { slice } from "../../ops/core/shape.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { hammingTopK, simhash } from "../../ops/search/hashing.ts";
import { tiledTopK } from "../../ops/search/topk.ts";
import { fmt, type Tensor, tensor } from "../../tensor.ts";

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
