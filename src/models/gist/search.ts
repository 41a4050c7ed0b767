/**
 * GIST's lifelong source-sequence search (spec gist.md, skeleton step 2): for each request
 * (user u, target item t), the K items of u's source sequence S_u (1k–10k long) whose joint
 * embeddings score highest against the target's query q_t:
 * ```
 * R(u, t) = topK_{s ∈ S_u} q_t · z_s        (hard search, SIM-style; exported tables, frozen)
 * ```
 * On the GPU: the sequences of a block of requests are padded into an id tile, their rows of
 * the table gathered tile by tile (`[rows, cols, d]`, bounded by `budget`), scored by a
 * batched matmul against the queries, padding masked, and merged into a running top-K
 * (`tiledTopK`), so no request's whole sequence of vectors need exist at once. Returned ids
 * are source item ids (positions mapped back on the host), −1 where a sequence is shorter
 * than K. Ties go to the earlier position.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { maskedFill } from "../../ops/core/where.ts";
import { reshape, slice } from "../../ops/core/shape.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { tiledTopK } from "../../ops/search/topk.ts";
import { fmt, keep, readAll, type Tensor, tensor, tidy } from "../../tensor.ts";
import type { Csr } from "./data.ts";

/** Options of {@link lifelongSearch}. */
export interface SearchOptions {
  /** Requests per block (one readback each). Default 1024. */
  block?: number;
  /** Most gathered floats per tile (rows × cols × d). Default 2^23 (32 MiB). */
  budget?: number;
  /**
   * Per request, how many items of its sequence (from the start) it may see: the engagements
   * before the request's time when `seq` holds whole time-ordered histories. Default all.
   */
  limit?: Int32Array;
}

// The [lo, hi) of request b's visible sequence.
function span(seq: Csr, users: Int32Array, b: number, limit?: Int32Array): [number, number] {
  const u = users[b];
  const lo = seq.indptr[u];
  const hi = seq.indptr[u + 1];
  return [lo, limit ? Math.min(hi, lo + Math.max(0, limit[b])) : hi];
}

/**
 * Top-K source items per request. `table` `[N, d]` holds the joint embeddings (rows of the
 * source items); `queries` `[B, d]` one query per request; `users[b]` indexes the request's row
 * of `seq` (CSR of source item ids). Returns `[B · K]` ids, best first per request.
 */
export async function lifelongSearch(
  table: Tensor<"f32">,
  queries: Tensor<"f32">,
  seq: Csr,
  users: Int32Array,
  k: number,
  o: SearchOptions = {},
): Promise<Int32Array> {
  const [N, d] = table.shape;
  const B = queries.shape[0];
  if (
    table.rank !== 2 || queries.rank !== 2 || queries.shape[1] !== d || users.length !== B ||
    !(k >= 1) || (o.limit !== undefined && o.limit.length !== B)
  ) {
    throw new Error(
      `wgrec gist lifelongSearch: table ${fmt(table.shape)}, queries ${fmt(queries.shape)}, ` +
        `${users.length} users, k = ${k}${o.limit ? `, ${o.limit.length} limits` : ""}; ` +
        `expected [N, d], [B, d], B users (and limits) and k ≥ 1`,
    );
  }
  const U = seq.indptr.length - 1;
  for (const u of users) {
    if (!(u >= 0 && u < U)) {
      throw new Error(`wgrec gist lifelongSearch: user ${u} has no sequence (${U} rows)`);
    }
  }
  for (const s of seq.indices) {
    if (!(s >= 0 && s < N)) {
      throw new Error(
        `wgrec gist lifelongSearch: sequence item ${s} is outside the table [${N}, ${d}]`,
      );
    }
  }
  const out = new Int32Array(B * k).fill(-1);
  const block = o.block ?? 1024;
  const budget = o.budget ?? 1 << 23;
  for (let r0 = 0; r0 < B; r0 += block) {
    const nr = Math.min(block, B - r0);
    let L = 1;
    for (let b = 0; b < nr; b++) {
      const [lo, hi] = span(seq, users, r0 + b, o.limit);
      L = Math.max(L, hi - lo);
    }
    const ids = new Int32Array(nr * L);
    const pad = new Float32Array(nr * L);
    for (let b = 0; b < nr; b++) {
      const [lo, hi] = span(seq, users, r0 + b, o.limit);
      ids.set(seq.indices.subarray(lo, hi), b * L);
      pad.fill(1, b * L + hi - lo, (b + 1) * L);
    }
    const cols = Math.max(1, Math.min(L, Math.floor(budget / d)));
    const rows = Math.max(1, Math.floor(budget / (cols * d)));
    const pos = noGrad(() =>
      tidy(() => {
        const idT = tensor(ids, [nr, L], "i32");
        const padT = tensor(pad, [nr, L]);
        const q = slice(queries, [r0, 0], [nr, d]);
        const top = tiledTopK(nr, L, k, (a, m, c0, nc) => {
          const z = gather(table, slice(idT, [a, c0], [m, nc])); // [m, nc, d]
          const s = matmul(z, reshape(slice(q, [a, 0], [m, d]), [m, d, 1])); // [m, nc, 1]
          return maskedFill(reshape(s, [m, nc]), slice(padT, [a, c0], [m, nc]), NaN);
        }, { rowBlock: rows, colBlock: cols });
        top.values.dispose();
        return keep(top.indices);
      })
    );
    const [p] = await readAll([pos]);
    pos.dispose();
    for (let b = 0; b < nr; b++) {
      for (let j = 0; j < k; j++) {
        const at = p[b * k + j];
        if (at >= 0) out[(r0 + b) * k + j] = ids[b * L + at];
      }
    }
  }
  return out;
}

/** CPU reference of {@link lifelongSearch} (same order and ties). */
export function lifelongSearchCpu(
  table: Float32Array,
  d: number,
  queries: Float32Array,
  seq: Csr,
  users: Int32Array,
  k: number,
  limit?: Int32Array,
): Int32Array {
  const out = new Int32Array(users.length * k).fill(-1);
  users.forEach((_, b) => {
    const s = seq.indices.subarray(...span(seq, users, b, limit));
    const sc = Array.from(s, (id, j) => {
      let v = 0;
      for (let c = 0; c < d; c++) v += queries[b * d + c] * table[id * d + c];
      return { v: Math.fround(v), j, id };
    });
    sc.sort((x, y) => y.v - x.v || x.j - y.j);
    sc.slice(0, k).forEach((x, j) => (out[b * k + j] = x.id));
  });
  return out;
}
