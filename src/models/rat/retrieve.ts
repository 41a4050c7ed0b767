/**
 * RAT's retrieval (../shared/specs/rat.md): exact field match × IDF summed over fields,
 * `score(q, d) = Σ_f [q_f = d_f] · log(N / count_f(q_f))`, over a chunked DB with a running
 * top-k, zero scores dropped, and same-group exclusion for the 10-fold protocol (a query never
 * retrieves rows of its own fold) or self-exclusion. One tile of (queries × DB rows) is scored
 * at a time and merged into a running top-k, so memory is bounded by the tile.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { noGrad } from "../../autograd/tape.ts";
import { fmt, runtime, type Tensor, tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../../ops/common.ts";
import { indexGuard, watchIndexGuard } from "../../ops/index_check.ts";
import { TOPK_MAX_K } from "../../ops/search/topk.ts";
import { MAX_LOOP } from "../../ops/core/reduce.ts";

import { checkGroups, type RetrievalOptions } from "../../ops/search/hashing.ts";
import * as ratWgsl from "../../../shaders/rat/wgsl.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";

const countK = /* @__PURE__ */ kernel({
  name: "rat_retrieve_count",
  source: ratWgsl.rat_retrieve_count,
  lib: [commonWgsl.index_guard],
  bindings: { ids: "i32", off: "i32", cnt: "atomic<i32> rw", bad: "atomic<i32> rw" },
  uniforms: { n: "u32", f: "u32", slot: "u32" },
  workgroupSize: [256],
});
const idfK = /* @__PURE__ */ kernel({
  name: "rat_retrieve_idf",
  source: ratWgsl.rat_retrieve_idf,
  lib: [commonWgsl.index_guard],
  bindings: { ids: "i32", off: "i32", cnt: "i32", used: "i32", w: "f32 rw", bad: "atomic<i32> rw" },
  uniforms: { n: "u32", f: "u32", total: "u32", slot: "u32" },
  workgroupSize: [256],
});
// Scores and a running top-k per (query, DB chunk), then a merge per query: the score matrix
// is never written (the two-pass form of the tiled top-k, specialised to RAT's scores).
const scanK = /* @__PURE__ */ kernel({
  name: "rat_retrieve_topk",
  source: ratWgsl.rat_retrieve_topk,
  defines: { GROUPS: "bool", KC: "u32", FQ: "u32" },
  bindings: {
    q: "i32",
    w: "f32",
    db: "i32",
    qg: "i32",
    dg: "i32",
    cand_v: "f32 rw",
    cand_i: "i32 rw",
  },
  uniforms: {
    f: "u32",
    r0: "u32",
    nr: "u32",
    c0: "u32",
    n: "u32",
    chunk: "u32",
    nch: "u32",
    k: "u32",
  },
  workgroupSize: [64],
});
const mergeK = /* @__PURE__ */ kernel({
  name: "rat_retrieve_merge",
  source: ratWgsl.rat_retrieve_merge,
  defines: { KC: "u32" },
  bindings: { cand_v: "f32", cand_i: "i32", vals: "f32 rw", idx: "i32 rw" },
  uniforms: { r0: "u32", nr: "u32", nch: "u32", k: "u32", init: "u32" },
  workgroupSize: [64],
});
/**
 * Loop iterations per invocation: lavapipe stops loops silently, and 32,768 (with the nested
 * insertion loop) already lost rows in tests.
 */
const LOOP = MAX_LOOP;

/** Options of {@link ratRetrieve}. */
export interface RatOptions extends RetrievalOptions {
  /** Vocabulary size of each field: ids of field f lie in `[0, vocabSizes[f])`. */
  vocabSizes: readonly number[];
  /** Fields that take part in the score (default all). */
  fields?: readonly number[];
}

/** RAT retrieval result. */
export type RatResult = {
  /** `[q, k]` i32 DB rows, best first; −1 where fewer than k rows score above 0. */
  indices: Tensor<"i32">;
  /** `[q, k]` f32 scores (−Inf where padded). */
  scores: Tensor<"f32">;
};

/**
 * RAT's retrieval (BM25_topk_retrieval_v4): for each query row of `query` `[q, F]` (i32
 * field ids), the top-k rows of `db` `[n, F]` by `Σ_f [q_f = d_f] · IDF_f(q_f)` with
 * `IDF_f(v) = log(n / count_f(v))` counted over `db`. Rows scoring 0 are dropped (index −1;
 * the original's −1 reads the last DB row in NumPy — here it stays −1 for the caller to mask).
 * Ties go to the lower DB row. Ids outside a field's vocabulary are reported by
 * `checkIndices()` and never match.
 */
export function ratRetrieve(
  query: Tensor<"i32">,
  db: Tensor<"i32">,
  k: number,
  opts: RatOptions,
): RatResult {
  expectDtype("ratRetrieve", query, "i32", "query rows");
  expectDtype("ratRetrieve", db, "i32", "DB rows");
  const f = opts.vocabSizes.length;
  if (query.rank !== 2 || db.rank !== 2 || query.shape[1] !== f || db.shape[1] !== f) {
    throw new Error(
      `wgrec ratRetrieve: query ${fmt(query.shape)} and DB ${fmt(db.shape)} must be [q, F] ` +
        `and [n, F] with F = ${f} (one vocabulary size per field)`,
    );
  }
  const off = new Int32Array(f + 1);
  opts.vocabSizes.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0) {
      throw new Error(`wgrec ratRetrieve: vocabSizes[${i}] = ${v} must be an integer ≥ 0`);
    }
    off[i + 1] = off[i] + v;
  });
  const used = new Int32Array(f);
  for (const x of opts.fields ?? [...Array(f).keys()]) {
    if (!Number.isInteger(x) || x < 0 || x >= f) {
      throw new Error(`wgrec ratRetrieve: field ${x} is out of range for ${f} fields`);
    }
    used[x] = 1;
  }
  const [nq] = query.shape;
  const ndb = db.shape[0];
  const g = opts.exclude;
  checkGroups("ratRetrieve", g, nq, ndb);
  return noGrad(() => {
    const rt = runtime();
    const offT = tensor(off, [f + 1], "i32");
    const usedT = tensor(used, [f], "i32");
    const cnt = output("ratRetrieve", [off[f]], "i32");
    rt.clear(cnt.buffer, off[f] * 4);
    const dbLabel = `'ratRetrieve' (DB ${fmt(db.shape)}, vocabularies [${opts.vocabSizes}])`;
    const gd = indexGuard(dbLabel);
    launch("ratRetrieve", countK, {
      buffers: { ids: db.buffer, off: offT.buffer, cnt: cnt.buffer, bad: gd.buffer },
      uniforms: { n: ndb, f, slot: gd.slot },
      workgroups: groups(ndb * f),
    });
    watchIndexGuard(gd.slot, dbLabel);
    const qLabel = `'ratRetrieve' (query ${fmt(query.shape)}, vocabularies [${opts.vocabSizes}])`;
    const gq = indexGuard(qLabel);
    const w = output("ratRetrieve", [nq, f], "f32");
    launch("ratRetrieve", idfK, {
      buffers: {
        ids: query.buffer,
        off: offT.buffer,
        cnt: cnt.buffer,
        used: usedT.buffer,
        w: w.buffer,
        bad: gq.buffer,
      },
      uniforms: { n: nq, f, total: ndb, slot: gq.slot },
      workgroups: groups(nq * f),
    });
    watchIndexGuard(gq.slot, qLabel);
    if (!Number.isInteger(k) || k < 1 || k > TOPK_MAX_K) {
      throw new Error(`wgrec ratRetrieve: k = ${k} must be an integer in [1, ${TOPK_MAX_K}]`);
    }
    let kc = 8;
    while (kc < k) kc *= 2;
    // Rows per invocation (≤ LOOP field compares), chunks per DB block (≤ LOOP merged entries).
    const chunk = Math.max(1, Math.min(opts.dbChunk ?? 512, Math.floor(LOOP / Math.max(f, 1))));
    const blockRows = chunk * Math.max(1, Math.floor(LOOP / k));
    const nchMax = Math.ceil(Math.min(Math.max(ndb, 1), blockRows) / chunk);
    const rows = Math.max(1, Math.min(nq, opts.queryChunk ?? Math.floor((1 << 22) / (nchMax * k))));
    const values = output("ratRetrieve", [nq, k], "f32");
    const indices = output("ratRetrieve", [nq, k], "i32");
    const cv = output("ratRetrieve", [rows * nchMax * k], "f32");
    const ci = output("ratRetrieve", [rows * nchMax * k], "i32");
    for (let r0 = 0; r0 < nq; r0 += rows) {
      const nr = Math.min(rows, nq - r0);
      // An empty DB still runs one (empty) block, so every list is written as padding.
      for (let c0 = 0; c0 === 0 || c0 < ndb; c0 += blockRows) {
        const n = Math.min(blockRows, ndb - c0);
        const nch = Math.max(1, Math.ceil(n / chunk));
        launch("ratRetrieve", scanK, {
          buffers: {
            q: query.buffer,
            w: w.buffer,
            db: db.buffer,
            qg: (g?.query ?? query).buffer,
            dg: (g?.db ?? query).buffer,
            cand_v: cv.buffer,
            cand_i: ci.buffer,
          },
          uniforms: { f, r0, nr, c0, n: c0 + n, chunk, nch, k },
          workgroups: groups(Math.ceil(nr / 4) * nch, 64),
          defines: { GROUPS: g !== undefined, KC: kc, FQ: Math.max(4, Math.ceil(f / 4) * 4) },
        });
        launch("ratRetrieve", mergeK, {
          buffers: {
            cand_v: cv.buffer,
            cand_i: ci.buffer,
            vals: values.buffer,
            idx: indices.buffer,
          },
          uniforms: { r0, nr, nch, k, init: c0 > 0 ? 1 : 0 },
          workgroups: groups(nr, 64),
          defines: { KC: kc },
        });
      }
    }
    for (const t of [offT, usedT, cnt, w, cv, ci]) t.dispose();
    return { indices, scores: values };
  });
}
