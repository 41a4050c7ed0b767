/**
 * Locality-sensitive hashing for retrieval (RAR and other retrieval-augmented models):
 * {@link simhash} codes (signs of random projections packed into u32 words) and
 * {@link hammingTopK} (smallest Hamming distance first), scored one tile of
 * (queries × DB rows) at a time and merged into a running top-k (`tiledTopK`), so memory is
 * bounded by the tile. Ties go to the lower DB row. Also the group-exclusion options shared
 * by the retrieval kernels (RAT's field-match retrieval is in `src/models/rat/`).
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { noGrad } from "../../autograd/tape.ts";
import { fmt, randNormal, type Tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { affine } from "../core/elementwise.ts";
import { tiledTopK } from "./topk.ts";
import * as searchWgsl from "../../../shaders/search/wgsl.ts";

const simhashK = /* @__PURE__ */ kernel({
  name: "simhash",
  source: searchWgsl.simhash,
  bindings: { x: "f32", planes: "f32", out: "u32 rw" },
  uniforms: { n: "u32", d: "u32", bits: "u32", words: "u32" },
  workgroupSize: [64],
});
const hammingK = /* @__PURE__ */ kernel({
  name: "hamming",
  source: searchWgsl.hamming,
  defines: { GROUPS: "bool" },
  bindings: { q: "u32", db: "u32", qg: "i32", dg: "i32", out: "f32 rw" },
  uniforms: { words: "u32", r0: "u32", nr: "u32", c0: "u32", nc: "u32" },
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

/** Validates the group ids of an exclusion against the query and DB row counts. */
export function checkGroups(op: string, g: ExcludeGroups | undefined, nq: number, ndb: number) {
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
