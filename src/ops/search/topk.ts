/**
 * Top-k selection on the GPU.
 *
 * One kernel (`shaders/topk.wgsl`) does a *running* row-wise top-k: it merges a chunk of
 * scores into each row's current best list. On it sit
 * - {@link topk}: row-wise top-k of a tensor (k ≤ 128, any row length);
 * - {@link tiledTopK}: top-k over a score matrix that is never materialised — the caller
 *   computes one tile of scores at a time (row blocks × column tiles), memory stays bounded;
 * - {@link fullRankTopK} / {@link fullRankTopKDot}: full-ranking evaluation over all items
 *   with each user's training items masked, users in chunks, one readback per chunk.
 *
 * Order: larger score first, ties to the lower column index (deterministic). In `topk` and
 * `tiledTopK` NaN scores are skipped — masked and excluded entries are NaN — and rows with
 * fewer than k remaining entries are padded with value −Inf and index −1. Full ranking
 * refuses NaN or ±Inf scores: it names the op that made them in numerics-check mode, else
 * says "non-finite scores".
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { noGrad } from "../../autograd/tape.ts";
import { fmt, runtime, type Tensor, tensor, tidy, zeros } from "../../tensor.ts";
import { expectDtype, launch, output } from "../common.ts";
import { gather } from "../sparse/gather.ts";
import { matmul } from "../matmul/matmul.ts";
import * as searchWgsl from "../../../shaders/search/wgsl.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

/** Largest k the kernel supports. */
export const TOPK_MAX_K = 128;

function topkSpec(kc: number) {
  // Lists of kc entries per invocation in workgroup memory: 8·kc·WG bytes ≤ 16 KiB.
  return kernel({
    name: "topk",
    source: searchWgsl.topk,
    defines: { KC: "u32", EXCL_DIAG: "bool" },
    bindings: { x: "f32", vals: "f32 rw", idx: "i32 rw" },
    uniforms: { rows: "u32", len: "u32", k: "u32", col_off: "u32", row_off: "u32", init: "u32" },
    workgroupSize: [Math.min(64, 2048 / kc)],
  });
}
const specs = new Map<number, ReturnType<typeof topkSpec>>();

const maskK = /* @__PURE__ */ kernel({
  name: "topk_mask",
  source: searchWgsl.topk_mask,
  bindings: { scores: "f32 rw", ptr: "i32", items: "i32", users: "i32" },
  uniforms: { rows: "u32", len: "u32" },
  workgroupSize: [64],
});

// Full ranking: flags a score chunk holding NaN or ±Inf before the mask writes its NaNs (a
// NaN score would otherwise read as "masked" and vanish from every list).
const finiteK = /* @__PURE__ */ kernel({
  name: "check_finite",
  source: coreWgsl.check_finite,
  bindings: { x: "f32", flags: "atomic<u32> rw" },
  uniforms: { n: "u32", slot: "u32" },
  workgroupSize: [256],
});

function checkK(op: string, k: number): number {
  if (!Number.isInteger(k) || k < 1 || k > TOPK_MAX_K) {
    throw new Error(`wgrec ${op}: k = ${k} must be an integer in [1, ${TOPK_MAX_K}]`);
  }
  let kc = 8;
  while (kc < k) kc *= 2;
  return kc;
}

/** Options of {@link topkInto}. */
export interface MergeOptions {
  /** Global column index of the chunk's column 0. */
  colOff?: number;
  /** Global row index of the chunk's row 0 (for `excludeDiagonal`). */
  rowOff?: number;
  /** Merge with the lists already in `values`/`indices` (else start empty). */
  init?: boolean;
  /** Skip the entry whose global column equals its global row. */
  excludeDiagonal?: boolean;
}

/**
 * Merges the score chunk `x` (`rows × len`, row-major) into the running lists `values`
 * (`rows × k`, f32) and `indices` (i32). Building block of every top-k here; records no graph.
 */
export function topkInto(
  op: string,
  x: Tensor<"f32">,
  rows: number,
  len: number,
  k: number,
  values: Tensor<"f32">,
  indices: Tensor<"i32">,
  opts: MergeOptions = {},
): void {
  const kc = checkK(op, k);
  let spec = specs.get(kc);
  if (!spec) specs.set(kc, spec = topkSpec(kc));
  if (rows === 0) return;
  launch(op, spec, {
    buffers: { x: x.buffer, vals: values.buffer, idx: indices.buffer },
    uniforms: {
      rows,
      len,
      k,
      col_off: opts.colOff ?? 0,
      row_off: opts.rowOff ?? 0,
      init: opts.init ? 1 : 0,
    },
    workgroups: [rows],
    defines: { KC: kc, EXCL_DIAG: opts.excludeDiagonal ?? false },
  });
}

/** Values and i32 indices of a top-k. */
export type TopK = {
  /** Best scores, best first (−Inf where padded). */
  values: Tensor<"f32">;
  /** Their column indices (−1 where padded). */
  indices: Tensor<"i32">;
};

/**
 * Top-k along the last axis of `x` (`[..., L]`, any L ≥ 0, k ≤ 128): values `[..., k]` and
 * i32 indices, best first, ties to the lower index. NaN entries are skipped; when a row has
 * fewer than k other entries the rest is padded with −Inf / −1. Not differentiable.
 */
export function topk(x: Tensor<"f32">, k: number): TopK {
  expectDtype("topk", x, "f32");
  if (x.rank < 1) throw new Error(`wgrec topk: input ${fmt(x.shape)} must have rank ≥ 1`);
  checkK("topk", k);
  const len = x.shape[x.rank - 1];
  const rows = len === 0 ? x.shape.slice(0, -1).reduce((a, b) => a * b, 1) : x.size / len;
  const shape = [...x.shape.slice(0, -1), k];
  const values = output("topk", shape, "f32");
  const indices = output("topk", shape, "i32");
  topkInto("topk", x, rows, len, k, values, indices);
  return { values, indices };
}

/** Options of {@link tiledTopK}. */
export interface TiledTopKOptions {
  /** Rows per block (default: as many as fit the element budget). */
  rowBlock?: number;
  /** Columns per tile (default min(numCols, 65,536)). */
  colBlock?: number;
  /** Most score elements per tile (default 2^22, 16 MiB). */
  budget?: number;
  /** Skip column j == row i (self-exclusion when rows and columns index the same set). */
  excludeDiagonal?: boolean;
}

/**
 * Top-k of each row of a `numRows × numCols` score matrix that is produced tile by tile:
 * `score(r0, nr, c0, nc)` returns the `[nr, nc]` block at rows `r0…`, columns `c0…` (it runs
 * inside a scope, so its temporaries are freed; the returned block is freed after use). Each
 * row keeps a running top-k across column tiles, so no more than one tile of scores exists.
 */
export function tiledTopK(
  numRows: number,
  numCols: number,
  k: number,
  score: (r0: number, nr: number, c0: number, nc: number) => Tensor<"f32">,
  opts: TiledTopKOptions = {},
): TopK {
  checkK("tiledTopK", k);
  const values = output("tiledTopK", [numRows, k], "f32");
  const indices = output("tiledTopK", [numRows, k], "i32");
  const colBlock = Math.max(1, Math.min(numCols, opts.colBlock ?? 1 << 16));
  const budget = opts.budget ?? 1 << 22;
  const rowBlock = Math.max(
    1,
    Math.min(numRows, opts.rowBlock ?? Math.floor(budget / colBlock)),
  );
  const rt = runtime();
  for (let r0 = 0; r0 < numRows; r0 += rowBlock) {
    const nr = Math.min(rowBlock, numRows - r0);
    const whole = nr === numRows;
    const v = whole ? values : output("tiledTopK", [nr, k], "f32");
    const ix = whole ? indices : output("tiledTopK", [nr, k], "i32");
    if (numCols === 0) {
      // No columns: every list is padding.
      const empty = output("tiledTopK", [nr, 0], "f32");
      topkInto("tiledTopK", empty, nr, 0, k, v, ix);
      empty.dispose();
    }
    for (let c0 = 0; c0 < numCols; c0 += colBlock) {
      const nc = Math.min(colBlock, numCols - c0);
      const s = tidy(() => score(r0, nr, c0, nc));
      if (s.size !== nr * nc || s.dtype !== "f32") {
        throw new Error(
          `wgrec tiledTopK: score(${r0}, ${nr}, ${c0}, ${nc}) returned ${s.dtype} ` +
            `${fmt(s.shape)}, expected f32 [${nr}, ${nc}]`,
        );
      }
      topkInto("tiledTopK", s, nr, nc, k, v, ix, {
        colOff: c0,
        rowOff: r0,
        init: c0 > 0,
        excludeDiagonal: opts.excludeDiagonal,
      });
      s.dispose();
    }
    if (!whole) {
      rt.copy(v.buffer, 0, values.buffer, r0 * k * 4, nr * k * 4);
      rt.copy(ix.buffer, 0, indices.buffer, r0 * k * 4, nr * k * 4);
      v.dispose();
      ix.dispose();
    }
  }
  return { values, indices };
}

/** Per-user exclusion lists in CSR form (e.g. `Csr` from src/data): row u = items to skip. */
export interface ExcludeCsr {
  /** Row offsets, length numUsers + 1. */
  indptr: ArrayLike<number>;
  /** Item ids of every row, concatenated. */
  indices: ArrayLike<number>;
}

/** Options of {@link fullRankTopK}. */
export interface FullRankOptions {
  /** Number of items (columns of every score chunk). */
  numItems: number;
  /** Users to rank (default 0 … numUsers−1). */
  users?: ArrayLike<number>;
  /** Number of users when `users` is not given. */
  numUsers?: number;
  /** Items to mask per user (training interactions), indexed by user id. */
  exclude?: ExcludeCsr;
  /** Users per chunk (default: ⌊2^24 / numItems⌋, at least 1). */
  chunk?: number;
  /** Name used in error messages (default `fullRankTopK`; `recommend`, `evaluate`…). */
  op?: string;
}

// A chunk's scores held NaN or ±Inf. In numerics-check mode the watch names the op that made
// them (its check covers the scoring ops recorded so far); otherwise say what is wrong.
async function nonFinite(op: string, users: Int32Array): Promise<never> {
  const rt = runtime();
  if (rt.checkNumerics) await rt.checkNumericsNow();
  const shown = Array.from(users.subarray(0, 5)).join(", ") + (users.length > 5 ? ", …" : "");
  throw new Error(
    `wgrec ${op}: non-finite scores (NaN or Inf) for users [${shown}]; ranking them would ` +
      `silently drop items. The model's weights or inputs are probably non-finite: run with ` +
      `init({ checkNumerics: true }) to name the op that made them.`,
  );
}

function validateExclude(ex: ExcludeCsr, numItems: number, maxUser: number): void {
  const p = ex.indptr;
  const nu = p.length - 1;
  if (nu < 0 || p[0] !== 0 || p[nu] !== ex.indices.length) {
    throw new Error(
      `wgrec fullRankTopK: exclude.indptr (length ${p.length}) must start at 0 and end at ` +
        `exclude.indices.length (${ex.indices.length})`,
    );
  }
  for (let u = 0; u < nu; u++) {
    if (!(p[u + 1] >= p[u])) {
      throw new Error(`wgrec fullRankTopK: exclude.indptr decreases at row ${u}`);
    }
  }
  if (maxUser >= nu) {
    throw new Error(
      `wgrec fullRankTopK: user ${maxUser} has no row in exclude (${nu} rows); expected ` +
        `one indptr row per user`,
    );
  }
  for (let j = 0; j < ex.indices.length; j++) {
    const it = ex.indices[j];
    if (!Number.isInteger(it) || it < 0 || it >= numItems) {
      throw new Error(
        `wgrec fullRankTopK: excluded item ${it} at position ${j} is out of range for ` +
          `${numItems} items; expected 0 ≤ item < ${numItems}`,
      );
    }
  }
}

/**
 * Full-ranking top-k for evaluation. Users are processed in chunks: `score(users)` returns
 * the `[chunk, numItems]` scores of the given user ids (an i32 tensor, plus the same ids on
 * the host), the user's excluded items are masked, and the top-k item ids come back — one
 * readback per chunk, overlapped with the next chunk's GPU work. Returns one Int32Array per
 * user, best first, shorter than k when fewer unmasked items remain.
 */
export async function fullRankTopK(
  score: (users: Tensor<"i32">, ids: Int32Array) => Tensor<"f32">,
  k: number,
  opts: FullRankOptions,
): Promise<Int32Array[]> {
  const op = opts.op ?? "fullRankTopK";
  checkK(op, k);
  const numItems = opts.numItems;
  const users = Int32Array.from(
    opts.users ?? Array.from({ length: opts.numUsers ?? 0 }, (_, i) => i),
  );
  let maxUser = -1;
  for (const u of users) {
    if (!Number.isInteger(u) || u < 0) {
      throw new Error(`wgrec fullRankTopK: user id ${u} must be an integer ≥ 0`);
    }
    maxUser = Math.max(maxUser, u);
  }
  if (opts.exclude) validateExclude(opts.exclude, numItems, maxUser);
  const chunk = Math.max(1, opts.chunk ?? Math.floor((1 << 24) / Math.max(1, numItems)));
  const rt = runtime();
  const ex = opts.exclude && {
    ptr: tensor(Int32Array.from(opts.exclude.indptr), undefined, "i32"),
    items: tensor(Int32Array.from(opts.exclude.indices), undefined, "i32"),
  };
  const out: Int32Array[] = [];
  let pending: Promise<ArrayBuffer[]> | null = null;
  let pendingRows = 0;
  let pendingIds = new Int32Array(0);
  const drain = async () => {
    if (!pending) return;
    const [buf, flag] = await pending;
    if (new Uint32Array(flag)[0] !== 0) await nonFinite(op, pendingIds);
    const all = new Int32Array(buf);
    for (let r = 0; r < pendingRows; r++) {
      const row = all.subarray(r * k, (r + 1) * k);
      const n = row.indexOf(-1);
      out.push(row.slice(0, n < 0 ? k : n));
    }
    pending = null;
  };
  try {
    for (let u0 = 0; u0 < users.length; u0 += chunk) {
      const ids = users.subarray(u0, Math.min(users.length, u0 + chunk));
      const nr = ids.length;
      const [indices, flag] = noGrad(() =>
        tidy(() => {
          const ut = tensor(ids, [nr], "i32");
          const s = score(ut, ids);
          if (s.dtype !== "f32" || s.size !== nr * numItems) {
            throw new Error(
              `wgrec fullRankTopK: score returned ${s.dtype} ${fmt(s.shape)}, expected f32 ` +
                `[${nr}, ${numItems}]`,
            );
          }
          const flag = zeros([1], "u32");
          launch(op, finiteK, {
            buffers: { x: s.buffer, flags: flag.buffer },
            uniforms: { n: nr * numItems, slot: 0 },
            workgroups: [Math.ceil((nr * numItems) / 256)],
          });
          if (ex) {
            launch("fullRankTopK", maskK, {
              buffers: {
                scores: s.buffer,
                ptr: ex.ptr.buffer,
                items: ex.items.buffer,
                users: ut.buffer,
              },
              uniforms: { rows: nr, len: numItems },
              workgroups: [nr],
            });
          }
          const values = output("fullRankTopK", [nr, k], "f32");
          const idx = output("fullRankTopK", [nr, k], "i32");
          topkInto("fullRankTopK", s, nr, numItems, k, values, idx);
          return [idx, flag];
        })
      );
      // Start this chunk's readback, then finish the previous one while the GPU works.
      const next = rt.readBuffers([
        { buffer: indices.buffer, bytes: nr * k * 4 },
        { buffer: flag.buffer, bytes: 4 },
      ]);
      indices.dispose();
      flag.dispose();
      await drain();
      pending = next;
      pendingRows = nr;
      pendingIds = ids;
    }
    await drain();
  } finally {
    ex?.ptr.dispose();
    ex?.items.dispose();
  }
  return out;
}

/**
 * {@link fullRankTopK} with dot-product scores: user rows of `userEmb` `[U, d]` against every
 * row of `itemEmb` `[I, d]`.
 */
export function fullRankTopKDot(
  userEmb: Tensor<"f32">,
  itemEmb: Tensor<"f32">,
  k: number,
  opts: Omit<FullRankOptions, "numItems"> = {},
): Promise<Int32Array[]> {
  expectDtype("fullRankTopKDot", userEmb, "f32", "user embeddings");
  expectDtype("fullRankTopKDot", itemEmb, "f32", "item embeddings");
  if (userEmb.rank !== 2 || itemEmb.rank !== 2 || userEmb.shape[1] !== itemEmb.shape[1]) {
    throw new Error(
      `wgrec fullRankTopKDot: embeddings ${fmt(userEmb.shape)} and ${fmt(itemEmb.shape)} ` +
        `must be [U, d] and [I, d]`,
    );
  }
  const numUsers = userEmb.shape[0];
  const users = opts.users ?? [];
  for (let j = 0; j < users.length; j++) {
    const u = users[j];
    if (u >= numUsers) {
      throw new Error(
        `wgrec fullRankTopKDot: user ${u} is out of range for user embeddings ` +
          `${fmt(userEmb.shape)}`,
      );
    }
  }
  return fullRankTopK(
    (ut) => matmul(gather(userEmb, ut), itemEmb, { transB: true }),
    k,
    { numUsers, ...opts, numItems: itemEmb.shape[0] },
  );
}
