/**
 * Retrieval kernels of the retrieval-augmented CTR models.
 *
 * - RAR: {@link simhash} codes (signs of random projections packed into u32 words) and
 *   {@link hammingTopK} (smallest Hamming distance first).
 * - RAT: {@link ratRetrieve}, exact field match × IDF summed over fields
 *   (`score(q, d) = Σ_f [q_f = d_f] · log(N / count_f(q_f))`, see ../shared/specs/rat.md),
 *   over a chunked DB with a running top-k, zero scores dropped, and same-group exclusion
 *   for the 10-fold protocol (a query never retrieves rows of its own fold) or self-exclusion.
 *
 * Both score one tile of (queries × DB rows) at a time and merge it into a running top-k
 * (`tiledTopK`), so memory is bounded by the tile. Ties go to the lower DB row.
 * @module
 */

import { kernel } from "../gpu/kernel.ts";
import { noGrad } from "../graph.ts";
import { fmt, randNormal, runtime, type Tensor, tensor } from "../tensor.ts";
import { expectDtype, groups, launch, output } from "./common.ts";
import { affine } from "./elementwise.ts";
import { indexGuard, watchIndexGuard } from "./index_check.ts";
import { tiledTopK, type TopK } from "./topk.ts";

const simhashK = kernel({
  name: "simhash",
  bindings: { x: "f32", planes: "f32", out: "u32 rw" },
  uniforms: { n: "u32", d: "u32", bits: "u32", words: "u32" },
  workgroupSize: [64],
});
const hammingK = kernel({
  name: "hamming",
  bindings: { q: "u32", db: "u32", qg: "i32", dg: "i32", out: "f32 rw" },
  uniforms: { words: "u32", r0: "u32", nr: "u32", c0: "u32", nc: "u32" },
  workgroupSize: [256],
});
const countK = kernel({
  name: "rat_retrieve_count",
  bindings: { ids: "i32", off: "i32", cnt: "atomic<i32> rw", bad: "atomic<i32> rw" },
  uniforms: { n: "u32", f: "u32", slot: "u32" },
  workgroupSize: [256],
});
const idfK = kernel({
  name: "rat_retrieve_idf",
  bindings: { ids: "i32", off: "i32", cnt: "i32", used: "i32", w: "f32 rw", bad: "atomic<i32> rw" },
  uniforms: { n: "u32", f: "u32", total: "u32", slot: "u32" },
  workgroupSize: [256],
});
const ratK = kernel({
  name: "rat_retrieve",
  bindings: { q: "i32", w: "f32", db: "i32", qg: "i32", dg: "i32", out: "f32 rw" },
  uniforms: { f: "u32", r0: "u32", nr: "u32", c0: "u32", nc: "u32" },
  workgroupSize: [256],
});

/** Gaussian hyperplanes `[d, bits]` for {@link simhash} (frozen, seeded). */
export function simhashPlanes(d: number, bits: number, seed: number): Tensor<"f32"> {
  return randNormal([d, bits], seed);
}

/**
 * SimHash codes of the rows of `x` `[n, d]` with hyperplanes `planes` `[d, bits]`: bit b is
 * `x · planes[:, b] > 0`, packed into `⌈bits/32⌉` u32 words per row (bit b in word ⌊b/32⌋ at
 * position b mod 32). Returns `[n, words]` u32.
 */
export function simhash(x: Tensor<"f32">, planes: Tensor<"f32">): Tensor<"u32"> {
  expectDtype("simhash", x, "f32");
  expectDtype("simhash", planes, "f32", "planes");
  if (x.rank !== 2 || planes.rank !== 2 || x.shape[1] !== planes.shape[0] || planes.shape[1] < 1) {
    throw new Error(
      `wgrec simhash: input ${fmt(x.shape)} and planes ${fmt(planes.shape)} must be [n, d] ` +
        `and [d, bits] with bits ≥ 1`,
    );
  }
  const [n, d] = x.shape;
  const bits = planes.shape[1];
  const words = Math.ceil(bits / 32);
  const out = output("simhash", [n, words], "u32");
  launch("simhash", simhashK, {
    buffers: { x: x.buffer, planes: planes.buffer, out: out.buffer },
    uniforms: { n, d, bits, words },
    workgroups: groups(n * words, 64),
  });
  return out;
}

/** Group ids that exclude pairs: query i never retrieves DB row j when `query[i] = db[j] ≥ 0`. */
export interface ExcludeGroups {
  /** `[numQueries]` i32 group of each query (−1: exclude nothing). */
  query: Tensor<"i32">;
  /** `[numDb]` i32 group of each DB row. */
  db: Tensor<"i32">;
}

/** Tiling options shared by the retrieval ops. */
export interface RetrievalOptions {
  /** Pairs to exclude (folds, or self with group = row id when queries are the DB). */
  exclude?: ExcludeGroups;
  /** DB rows per tile (default 65,536). */
  dbChunk?: number;
  /** Queries per tile (default: as many as fit 2^22 scores). */
  queryChunk?: number;
}

function checkGroups(op: string, g: ExcludeGroups | undefined, nq: number, ndb: number) {
  if (!g) return;
  expectDtype(op, g.query, "i32", "query groups");
  expectDtype(op, g.db, "i32", "DB groups");
  if (g.query.size !== nq || g.db.size !== ndb) {
    throw new Error(
      `wgrec ${op}: groups ${fmt(g.query.shape)} and ${fmt(g.db.shape)} must have one id per ` +
        `query (${nq}) and per DB row (${ndb})`,
    );
  }
}

/** Hamming top-k result. */
export type HammingTopK = {
  /** `[q, k]` i32 DB rows, nearest first (−1 where fewer than k rows remain). */
  indices: Tensor<"i32">;
  /** `[q, k]` f32 Hamming distances (+Inf where padded). */
  distances: Tensor<"f32">;
};

/**
 * The k DB codes nearest to each query code in Hamming distance (ties to the lower row):
 * `queries` `[q, words]` and `db` `[n, words]` u32 (from {@link simhash}).
 */
export function hammingTopK(
  queries: Tensor<"u32">,
  db: Tensor<"u32">,
  k: number,
  opts: RetrievalOptions = {},
): HammingTopK {
  expectDtype("hammingTopK", queries, "u32", "query codes");
  expectDtype("hammingTopK", db, "u32", "DB codes");
  if (queries.rank !== 2 || db.rank !== 2 || queries.shape[1] !== db.shape[1]) {
    throw new Error(
      `wgrec hammingTopK: codes ${fmt(queries.shape)} and ${fmt(db.shape)} must be ` +
        `[q, words] and [n, words]`,
    );
  }
  const [nq, words] = queries.shape;
  const ndb = db.shape[0];
  const g = opts.exclude;
  checkGroups("hammingTopK", g, nq, ndb);
  return noGrad(() => {
    const top = tiledTopK(nq, ndb, k, (r0, nr, c0, nc) => {
      const out = output("hammingTopK", [nr, nc], "f32");
      launch("hammingTopK", hammingK, {
        buffers: {
          q: queries.buffer,
          db: db.buffer,
          qg: (g?.query ?? queries).buffer,
          dg: (g?.db ?? queries).buffer,
          out: out.buffer,
        },
        uniforms: { words, r0, nr, c0, nc },
        workgroups: groups(nr * nc),
        defines: { GROUPS: g !== undefined },
      });
      return out;
    }, { colBlock: opts.dbChunk, rowBlock: opts.queryChunk });
    // −1·s + 0, not −s: a distance of 0 comes out as +0.
    const distances = affine(top.values, -1, 0);
    top.values.dispose();
    return { indices: top.indices, distances };
  });
}

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
    const top: TopK = tiledTopK(nq, ndb, k, (r0, nr, c0, nc) => {
      const out = output("ratRetrieve", [nr, nc], "f32");
      launch("ratRetrieve", ratK, {
        buffers: {
          q: query.buffer,
          w: w.buffer,
          db: db.buffer,
          qg: (g?.query ?? query).buffer,
          dg: (g?.db ?? query).buffer,
          out: out.buffer,
        },
        uniforms: { f, r0, nr, c0, nc },
        workgroups: groups(nr * nc),
        defines: { GROUPS: g !== undefined },
      });
      return out;
    }, { colBlock: opts.dbChunk, rowBlock: opts.queryChunk });
    for (const t of [offT, usedT, cnt, w]) t.dispose();
    return { indices: top.indices, scores: top.values };
  });
}
