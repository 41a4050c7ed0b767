/**
 * Vector-quantization kernels: fused nearest-code search (L2 and cosine) and top-k nearest
 * codes, code lookup with a scatter-add gradient, deterministic per-code counts and sums,
 * EMA codebook updates, dead-code reset, Lloyd updates, and TOC channel scoring.
 *
 * Layout. A codebook is `[M, d]`, or `[B, M, ds]` for B sub-spaces (product quantization):
 * sub-space b of an input row `x[i]` is `x[i, b·ds .. (b+1)·ds]`, so inputs are `[N, B·ds]`
 * and codes are `[N]` (one sub-space) or `[N, B]`, dtype i32.
 *
 * Ties. Every search breaks ties by the lowest code index (`argmin` semantics), both in the
 * fused kernels and in the unfused reference path. Scores for L2 are `‖e‖² − 2x·e` (the row's
 * `‖x‖²` is added only for the returned distances), so codes that are exact duplicates tie
 * exactly. Cosine scores are `−x·e/‖e‖`; a zero code scores 0 (cosine similarity 0).
 *
 * Determinism. No float atomics anywhere: per-code sums are accumulated by one workgroup per
 * code scanning the assignments in order, so repeated runs give bit-identical results.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, zeros } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { currentAdapterClass, matmul } from "../matmul/matmul.ts";
import { reshape } from "../core/shape.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";
import * as vqWgsl from "../../../shaders/vq/wgsl.ts";

/** Distance used to pick codes. */
export type VqMetric = "l2" | "cosine";

const nearestK = /* @__PURE__ */ kernel({
  name: "vq_nearest",
  source: vqWgsl.vq_nearest,
  lib: [vqWgsl.vq_order],
  defines: { COSINE: "bool", DIST: "bool" },
  bindings: { x: "f32", codes: "f32", enorm: "f32", xnorm: "f32", idx: "i32 rw", dist: "f32 rw" },
  uniforms: { n: "u32", m: "u32", d: "u32", nb: "u32", x_row: "u32", x_bat: "u32" },
  workgroupSize: [16, 16],
});

// x4 / e4 view the same buffers as x / codes as vec4 (read when every row is 16-byte aligned).
const nearestRbK = /* @__PURE__ */ kernel({
  name: "vq_nearest_rb",
  source: vqWgsl.vq_nearest_rb,
  defines: { RM: "u32", RN: "u32", VEC: "bool", KTAIL: "bool", COSINE: "bool", DIST: "bool" },
  lib: [commonWgsl.tile4, commonWgsl.quad],
  bindings: {
    x: "f32",
    x4: "vec4<f32>",
    codes: "f32",
    e4: "vec4<f32>",
    enorm: "f32",
    xnorm: "f32",
    idx: "i32 rw",
    dist: "f32 rw",
  },
  uniforms: { n: "u32", m: "u32", d: "u32", nb: "u32", x_row: "u32", x_bat: "u32" },
  workgroupSize: [8],
});

const topkK = /* @__PURE__ */ kernel({
  name: "vq_topk",
  source: vqWgsl.vq_topk,
  lib: [vqWgsl.vq_order],
  defines: { COSINE: "bool", DIST: "bool", K: "u32" },
  bindings: { x: "f32", codes: "f32", enorm: "f32", xnorm: "f32", idx: "i32 rw", dist: "f32 rw" },
  uniforms: { n: "u32", m: "u32", d: "u32", nb: "u32", x_row: "u32", x_bat: "u32" },
  workgroupSize: [32],
});

const sqnormK = /* @__PURE__ */ kernel({
  name: "vq_sqnorm",
  source: vqWgsl.vq_sqnorm,
  defines: { INV: "bool" },
  bindings: { x: "f32", out: "f32 rw" },
  uniforms: { n: "u32", nb: "u32", d: "u32", x_row: "u32", x_bat: "u32" },
  workgroupSize: [64],
});

const argminK = /* @__PURE__ */ kernel({
  name: "vq_argmin",
  source: vqWgsl.vq_argmin,
  lib: [vqWgsl.vq_order],
  defines: { COSINE: "bool" },
  bindings: { dots: "f32", enorm: "f32", idx: "i32 rw" },
  uniforms: { n: "u32", m: "u32" },
  workgroupSize: [64],
});

const lookupK = /* @__PURE__ */ kernel({
  name: "vq_lookup",
  source: vqWgsl.vq_lookup,
  bindings: { codes: "f32", idx: "i32", out: "f32 rw" },
  uniforms: { n: "u32", m: "u32", d: "u32", nb: "u32" },
  workgroupSize: [256],
});

const sumsK = /* @__PURE__ */ kernel({
  name: "vq_code_sums",
  source: vqWgsl.vq_code_sums,
  defines: { JT: "u32" },
  bindings: { idx: "i32", x: "f32", sums: "f32 rw", cnt: "f32 rw" },
  uniforms: { n: "u32", m: "u32", d: "u32", nb: "u32", x_row: "u32", x_bat: "u32" },
  workgroupSize: [64],
});

const emaCountsK = /* @__PURE__ */ kernel({
  name: "ema_counts",
  source: vqWgsl.ema_counts,
  bindings: { cnt: "f32", count: "f32 rw" },
  uniforms: { m: "u32", decay: "f32", eps: "f32" },
  workgroupSize: [256],
});

const emaWeightsK = /* @__PURE__ */ kernel({
  name: "ema_weights",
  source: vqWgsl.ema_weights,
  bindings: { sums: "f32", count: "f32", weight: "f32 rw", codes: "f32 rw" },
  uniforms: { n: "u32", d: "u32", decay: "f32" },
  workgroupSize: [256],
});

const centroidsK = /* @__PURE__ */ kernel({
  name: "vq_centroids",
  source: vqWgsl.vq_centroids,
  bindings: { sums: "f32", cnt: "f32", codes: "f32 rw" },
  uniforms: { n: "u32", d: "u32" },
  workgroupSize: [256],
});

const resetK = /* @__PURE__ */ kernel({
  name: "vq_reset",
  source: vqWgsl.vq_reset,
  defines: { EMA: "bool" },
  bindings: {
    cnt: "f32",
    x: "f32",
    count: "f32",
    idle: "u32 rw",
    codes: "f32 rw",
    weight: "f32 rw",
    reset: "atomic<u32> rw",
  },
  uniforms: {
    n: "u32",
    m: "u32",
    d: "u32",
    nb: "u32",
    x_row: "u32",
    x_bat: "u32",
    limit: "u32",
    seed: "u32",
  },
  workgroupSize: [64],
});

/** Problem size of an input / codebook pair (see the module layout notes). */
export interface VqShape {
  /** Rows. */
  n: number;
  /** Codes per sub-space. */
  m: number;
  /** Dims per sub-space. */
  d: number;
  /** Sub-spaces. */
  nb: number;
}

/** Checks `x` [N, B·ds] against a codebook [M, d] or [B, M, ds] and returns the sizes. */
export function vqShape(op: string, x: Tensor, codebook: Tensor): VqShape {
  expectDtype(op, x, "f32", "input");
  expectDtype(op, codebook, "f32", "codebook");
  if (codebook.rank !== 2 && codebook.rank !== 3) {
    throw new Error(
      `wgrec ${op}: codebook ${fmt(codebook.shape)} must be [M, d] or [B, M, d/B]`,
    );
  }
  const [nb, m, d] = codebook.rank === 2 ? [1, ...codebook.shape] : codebook.shape;
  if (m === 0 || d === 0) {
    throw new Error(`wgrec ${op}: codebook ${fmt(codebook.shape)} has no codes or no dims`);
  }
  if (x.rank !== 2 || x.shape[1] !== nb * d) {
    throw new Error(
      `wgrec ${op}: input ${fmt(x.shape)} does not fit codebook ${fmt(codebook.shape)}, ` +
        `expected [N, ${nb * d}]`,
    );
  }
  return { n: x.shape[0], m, d, nb };
}

function metricDefines(metric: VqMetric) {
  if (metric !== "l2" && metric !== "cosine") {
    throw new Error(`wgrec vq: unknown metric '${metric}', expected 'l2' or 'cosine'`);
  }
  return metric === "cosine";
}

/** Per-row norms of strided sub-vectors: ‖v‖² or (inv) 1/‖v‖. Internal. */
function rowNorms(
  x: Tensor<"f32">,
  rows: number,
  nb: number,
  d: number,
  xRow: number,
  inv: boolean,
): Tensor<"f32"> {
  const out = output("vq norms", [rows * nb], "f32");
  launch("vq norms", sqnormK, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: { n: rows, nb, d, x_row: xRow, x_bat: d },
    workgroups: groups(rows * nb, 64),
    defines: { INV: inv },
  }, out);
  return out;
}

/** ‖e‖² (L2) or 1/‖e‖ (cosine) of every code. */
function codeNorms(codebook: Tensor<"f32">, s: VqShape, cosine: boolean): Tensor<"f32"> {
  return rowNorms(codebook, s.nb * s.m, 1, s.d, s.d, cosine);
}

/** Options of {@link nearestCode} and {@link topKCodes}. */
export interface NearestOptions {
  /** "l2" (default) or "cosine". */
  metric?: VqMetric;
  /** Also return distances: ‖x − e‖² (L2) or 1 − cos (cosine). Default false. */
  distances?: boolean;
  /**
   * Fused kernel of {@link nearestCode}: "tiled" (workgroup-memory tiles, for hardware GPUs),
   * "regblock" (register blocks, for CPU-backed adapters such as lavapipe) or "auto" (default:
   * by adapter, as `matmul` does).
   */
  kernel?: "auto" | "tiled" | "regblock";
}

/** Smallest of 1, 2, 4, 8 covering `quads`, at most `cap`. */
function quads(n: number, cap: number): number {
  let q = 1;
  while (q < cap && q < n) q *= 2;
  return q;
}

/**
 * Register-block shape of vq_nearest_rb: up to 16 rows × 16 codes per invocation, with fewer
 * rows when that would leave fewer than 4 workgroups of 8 to share between CPU threads. (On
 * lavapipe 32 × 32 blocks ran no faster here and took ~30 s to compile, 16 × 16 ~4 s.)
 */
export function nearestBlock(s: VqShape): { rm: number; rn: number } {
  const rn = quads(Math.ceil(s.m / 4), 4);
  let rm = quads(Math.ceil(s.n / 4), 4);
  while (rm > 1 && Math.ceil(s.n / (4 * rm)) * s.nb < 32) rm /= 2;
  return { rm, rn };
}

/** Result of a code search. */
export interface NearestResult {
  /** Code indices (i32): [N] or [N, B] (nearest), [N, K] or [N, B, K] (top-k). */
  codes: Tensor<"i32">;
  /** Distances of the same shape, when asked for. */
  distances: Tensor<"f32"> | null;
}

/**
 * Nearest code of every row (fused distance + argmin; the N×M distance matrix is never
 * stored). Ties go to the lowest index. `x` [N, d] with a codebook [M, d] gives codes [N];
 * `x` [N, B·ds] with a codebook [B, M, ds] gives codes [N, B] (one search per sub-space).
 */
export function nearestCode(
  x: Tensor<"f32">,
  codebook: Tensor<"f32">,
  opts: NearestOptions = {},
): NearestResult {
  const s = vqShape("nearestCode", x, codebook);
  const cosine = metricDefines(opts.metric ?? "l2");
  const wantDist = opts.distances ?? false;
  const shape = codebook.rank === 2 ? [s.n] : [s.n, s.nb];
  const codes = output("nearestCode", shape, "i32");
  const dist = wantDist ? output("nearestCode", shape, "f32") : null;
  if (s.n === 0) return { codes, distances: dist };
  const en = codeNorms(codebook, s, cosine);
  const xn = wantDist ? rowNorms(x, s.n, s.nb, s.d, s.nb * s.d, cosine) : en;
  // An unused binding still needs its own buffer (writable bindings may not alias).
  const spare = output("vq spare", [1], "f32");
  const buffers = {
    x: x.buffer,
    x4: x.buffer,
    codes: codebook.buffer,
    e4: codebook.buffer,
    enorm: en.buffer,
    xnorm: xn.buffer,
    idx: codes.buffer,
    dist: (dist ?? spare).buffer,
  };
  const uniforms = { n: s.n, m: s.m, d: s.d, nb: s.nb, x_row: s.nb * s.d, x_bat: s.d };
  const which = opts.kernel ?? "auto";
  if (which === "regblock" || (which === "auto" && currentAdapterClass() === "software")) {
    const vec = s.d % 4 === 0;
    const { rm, rn } = nearestBlock(s);
    launch("nearestCode", nearestRbK, {
      buffers,
      uniforms,
      workgroups: [Math.ceil((Math.ceil(s.n / (4 * rm)) * s.nb) / 8)],
      defines: { RM: rm, RN: rn, VEC: vec, KTAIL: s.d % 4 !== 0, COSINE: cosine, DIST: wantDist },
    }, dist ?? undefined);
  } else {
    launch("nearestCode", nearestK, {
      buffers,
      uniforms,
      workgroups: [Math.ceil(s.n / 64), s.nb],
      defines: { COSINE: cosine, DIST: wantDist },
    }, dist ?? undefined);
  }
  if (xn !== en) xn.dispose();
  en.dispose();
  spare.dispose();
  return { codes, distances: dist };
}

/** Largest K of {@link topKCodes}. */
export const MAX_TOPK = 32;

/**
 * The `k` nearest codes of every row, best first (ties → lower index): codes [N, k] for a
 * codebook [M, d], [N, B, k] for [B, M, ds]. 1 ≤ k ≤ min(M, 32).
 */
export function topKCodes(
  x: Tensor<"f32">,
  codebook: Tensor<"f32">,
  k: number,
  opts: NearestOptions = {},
): NearestResult {
  const s = vqShape("topKCodes", x, codebook);
  if (!Number.isInteger(k) || k < 1 || k > Math.min(s.m, MAX_TOPK)) {
    throw new Error(
      `wgrec topKCodes: k = ${k} for codebook ${fmt(codebook.shape)}, expected an integer in ` +
        `[1, ${Math.min(s.m, MAX_TOPK)}]`,
    );
  }
  const cosine = metricDefines(opts.metric ?? "l2");
  const wantDist = opts.distances ?? false;
  const shape = codebook.rank === 2 ? [s.n, k] : [s.n, s.nb, k];
  const codes = output("topKCodes", shape, "i32");
  const dist = wantDist ? output("topKCodes", shape, "f32") : null;
  if (s.n === 0) return { codes, distances: dist };
  const en = codeNorms(codebook, s, cosine);
  const xn = wantDist ? rowNorms(x, s.n, s.nb, s.d, s.nb * s.d, cosine) : en;
  // An unused binding still needs its own buffer (writable bindings may not alias).
  const spare = output("vq spare", [1], "f32");
  launch("topKCodes", topkK, {
    buffers: {
      x: x.buffer,
      codes: codebook.buffer,
      enorm: en.buffer,
      xnorm: xn.buffer,
      idx: codes.buffer,
      dist: (dist ?? spare).buffer,
    },
    uniforms: { n: s.n, m: s.m, d: s.d, nb: s.nb, x_row: s.nb * s.d, x_bat: s.d },
    workgroups: [s.n * s.nb],
    defines: { COSINE: cosine, DIST: wantDist, K: k },
  }, dist ?? undefined);
  if (xn !== en) xn.dispose();
  en.dispose();
  spare.dispose();
  return { codes, distances: dist };
}

/**
 * The unfused path, kept as a reference and a benchmark baseline: the full N×M matrix of dot
 * products `x·Eᵀ` through `matmul`, then a row argmin of `‖e‖² − 2x·e` (or `−x·e/‖e‖`).
 * Codebook [M, d] only. Same tie rule as {@link nearestCode}.
 */
export function nearestCodeUnfused(
  x: Tensor<"f32">,
  codebook: Tensor<"f32">,
  opts: { metric?: VqMetric } = {},
): Tensor<"i32"> {
  const s = vqShape("nearestCodeUnfused", x, codebook);
  if (codebook.rank !== 2) {
    throw new Error(
      `wgrec nearestCodeUnfused: codebook ${fmt(codebook.shape)} must be [M, d]`,
    );
  }
  const cosine = metricDefines(opts.metric ?? "l2");
  const codes = output("nearestCodeUnfused", [s.n], "i32");
  if (s.n === 0) return codes;
  const en = codeNorms(codebook, s, cosine);
  const dots = matmul(x, codebook, { transB: true });
  launch("nearestCodeUnfused", argminK, {
    buffers: { dots: dots.buffer, enorm: en.buffer, idx: codes.buffer },
    uniforms: { n: s.n, m: s.m },
    workgroups: [s.n],
    defines: { COSINE: cosine },
  });
  dots.dispose();
  en.dispose();
  return codes;
}

function checkCodes(op: string, codes: Tensor, s: { n: number; nb: number }, cb: Tensor) {
  expectDtype(op, codes, "i32", "codes");
  const ok = cb.rank === 2
    ? (codes.rank === 1 && codes.shape[0] === s.n) ||
      (codes.rank === 2 && codes.shape[0] === s.n && codes.shape[1] === 1)
    : codes.rank === 2 && codes.shape[0] === s.n && codes.shape[1] === s.nb;
  if (!ok) {
    throw new Error(
      `wgrec ${op}: codes ${fmt(codes.shape)} do not fit codebook ${fmt(cb.shape)} and ` +
        `${s.n} rows, expected ${cb.rank === 2 ? `[${s.n}]` : `[${s.n}, ${s.nb}]`}`,
    );
  }
}

/**
 * Looks codes up: rows `codebook[codes[i]]` → [N, d], or for a codebook [B, M, ds] and codes
 * [N, B] the concatenation of the B looked-up sub-vectors → [N, B·ds]. Differentiable with
 * respect to the codebook (the gradient is a deterministic scatter-add of the output
 * gradient into the chosen rows). Indices are not read back to the host: an index outside
 * [0, M) yields a NaN row (flagged in numerics-check mode) and never an out-of-range read.
 */
export function codeLookup(codebook: Tensor<"f32">, codes: Tensor<"i32">): Tensor<"f32"> {
  expectDtype("codeLookup", codebook, "f32", "codebook");
  if (codebook.rank !== 2 && codebook.rank !== 3) {
    throw new Error(
      `wgrec codeLookup: codebook ${fmt(codebook.shape)} must be [M, d] or [B, M, d/B]`,
    );
  }
  const [nb, m, d] = codebook.rank === 2 ? [1, ...codebook.shape] : codebook.shape;
  const n = codes.shape[0] ?? 0;
  checkCodes("codeLookup", codes, { n, nb }, codebook);
  const out = output("codeLookup", [n, nb * d], "f32");
  launch("codeLookup", lookupK, {
    buffers: { codes: codebook.buffer, idx: codes.buffer, out: out.buffer },
    uniforms: { n, m, d, nb },
    workgroups: groups(n * nb * d),
  }, out);
  return record(vqRules, out, "codeLookup", [codebook, codes], { numCodes: m, subspaces: nb });
}

/** Gradient of {@link codeLookup}: the output gradient summed into each chosen code's row. */
export function codeLookupGrad(
  node: Node<"codeLookup">,
  gy: Tensor<"f32">,
): (Tensor<"f32"> | null)[] {
  const [cb, codes] = node.inputs as [Tensor<"f32">, Tensor<"i32">];
  const st = codeStats(codes, gy, node.attrs.numCodes);
  st.counts.dispose();
  return [reshape(st.sums, cb.shape), null];
}

/** Per-code statistics of an assignment. */
export interface CodeStats {
  /** Rows assigned to each code: [M] or [B, M] (f32). */
  counts: Tensor<"f32">;
  /** Sum of the rows (sub-vectors) assigned to each code: [M, ds] or [B, M, ds]. */
  sums: Tensor<"f32">;
}

/**
 * Counts and sums per code (the one-hot products `Eᵀ·1` and `Eᵀ·X` of an EMA step, and the
 * scatter-add of a lookup's gradient), computed deterministically: one workgroup per code
 * scans the assignments in row order (cost O(M·N + N·d)). `codes` [N] or [N, B] with values
 * in [0, numCodes) — other values are counted nowhere; `x` [N, B·ds]. Not differentiable.
 */
export function codeStats(codes: Tensor<"i32">, x: Tensor<"f32">, numCodes: number): CodeStats {
  expectDtype("codeStats", codes, "i32", "codes");
  expectDtype("codeStats", x, "f32", "input");
  if (!Number.isInteger(numCodes) || numCodes < 1) {
    throw new Error(`wgrec codeStats: numCodes = ${numCodes}, expected a positive integer`);
  }
  const n = codes.shape[0] ?? 0;
  const nb = codes.rank === 2 ? codes.shape[1] : 1;
  if (codes.rank < 1 || codes.rank > 2 || x.rank !== 2 || x.shape[0] !== n || x.shape[1] % nb) {
    throw new Error(
      `wgrec codeStats: codes ${fmt(codes.shape)} and input ${fmt(x.shape)} do not fit, ` +
        `expected codes [N] or [N, B] and input [N, B·d]`,
    );
  }
  const d = x.shape[1] / nb;
  const lead = codes.rank === 2 && nb > 1 ? [nb] : [];
  const counts = output("codeStats", [...lead, numCodes], "f32");
  const sums = output("codeStats", [...lead, numCodes, d], "f32");
  launch("codeStats", sumsK, {
    buffers: { idx: codes.buffer, x: x.buffer, sums: sums.buffer, cnt: counts.buffer },
    uniforms: { n, m: numCodes, d, nb, x_row: nb * d, x_bat: d },
    workgroups: [numCodes * nb],
    defines: { JT: Math.max(1, Math.ceil(d / 64)) },
  }, sums);
  return { counts, sums };
}

/** EMA state of a codebook: smoothed counts [B·M] and weights [B·M·d]. */
export interface EmaState {
  /** Smoothed counts N per code. */
  count: Tensor<"f32">;
  /** EMA weights W (same layout as the codebook). */
  weight: Tensor<"f32">;
}

/**
 * One EMA codebook step, in place, for `B` sub-spaces of `M` codes (B = 1 for a plain
 * codebook), from batch counts `n` and sums `S` (see {@link codeStats}):
 * `N ← γN + (1−γ)n`, Laplace smoothing `N ← (N+ε)/(ΣN+Mε)·ΣN` per sub-space,
 * `W ← γW + (1−γ)S`, `codebook = W / N`.
 */
export function emaUpdate(
  codebook: Tensor<"f32">,
  state: EmaState,
  batch: CodeStats,
  decay: number,
  eps: number,
): void {
  expectDtype("emaUpdate", codebook, "f32", "codebook");
  const [nb, m, d] = codebook.rank === 2 ? [1, ...codebook.shape] : codebook.shape;
  if (
    state.count.size !== nb * m || state.weight.size !== codebook.size ||
    batch.counts.size !== nb * m || batch.sums.size !== codebook.size
  ) {
    throw new Error(
      `wgrec emaUpdate: codebook ${fmt(codebook.shape)} with state count ` +
        `${fmt(state.count.shape)}, weight ${fmt(state.weight.shape)} and batch counts ` +
        `${fmt(batch.counts.shape)}, sums ${fmt(batch.sums.shape)} do not fit`,
    );
  }
  if (!(decay >= 0 && decay <= 1) || !(eps >= 0)) {
    throw new Error(`wgrec emaUpdate: decay ${decay} / eps ${eps}, expected 0≤γ≤1 and ε≥0`);
  }
  launch("emaUpdate", emaCountsK, {
    buffers: { cnt: batch.counts.buffer, count: state.count.buffer },
    uniforms: { m, decay, eps },
    workgroups: [nb],
  }, state.count);
  launch("emaUpdate", emaWeightsK, {
    buffers: {
      sums: batch.sums.buffer,
      count: state.count.buffer,
      weight: state.weight.buffer,
      codes: codebook.buffer,
    },
    uniforms: { n: codebook.size, d, decay },
    workgroups: groups(codebook.size),
  }, codebook);
}

/**
 * One Lloyd step in place: every code with members moves to the mean of its rows; empty
 * clusters stay. `stats` from {@link codeStats} of the current assignment.
 */
export function centroidUpdate(codebook: Tensor<"f32">, stats: CodeStats): void {
  const d = codebook.shape[codebook.rank - 1];
  if (stats.sums.size !== codebook.size || stats.counts.size * d !== codebook.size) {
    throw new Error(
      `wgrec centroidUpdate: codebook ${fmt(codebook.shape)} and stats ` +
        `${fmt(stats.counts.shape)} / ${fmt(stats.sums.shape)} do not fit`,
    );
  }
  launch("centroidUpdate", centroidsK, {
    buffers: { sums: stats.sums.buffer, cnt: stats.counts.buffer, codes: codebook.buffer },
    uniforms: { n: codebook.size, d },
    workgroups: groups(codebook.size),
  }, codebook);
}

/** Arguments of {@link resetDeadCodes}. */
export interface DeadCodeArgs {
  /** The codebook, updated in place. */
  codebook: Tensor<"f32">;
  /** Batch counts per code ([M] or [B, M]) from {@link codeStats}. */
  counts: Tensor<"f32">;
  /** Steps without an assignment, per code (u32 [B·M], updated in place). */
  idle: Tensor<"u32">;
  /** Current inputs [N, B·ds]: dead codes are reset to random rows of it. */
  x: Tensor<"f32">;
  /** A code idle for this many consecutive steps is reset. */
  after: number;
  /** Seed of this step's random row choice. */
  seed: number;
  /** EMA state to keep consistent (`weight = row · count`), when the codebook is EMA. */
  ema?: EmaState;
}

/**
 * Dead-code detection and reset, on the GPU without readback: codes with no assignment for
 * `after` consecutive calls are overwritten with random rows of the current input (a hash
 * of (seed, code) picks the row). Returns a u32 [1] tensor with the number of codes reset.
 */
export function resetDeadCodes(a: DeadCodeArgs): Tensor<"u32"> {
  const cb = a.codebook;
  const [nb, m, d] = cb.rank === 2 ? [1, ...cb.shape] : cb.shape;
  expectDtype("resetDeadCodes", a.idle, "u32", "idle counters");
  if (
    a.counts.size !== nb * m || a.idle.size !== nb * m || a.x.rank !== 2 || a.x.shape[1] !== nb * d
  ) {
    throw new Error(
      `wgrec resetDeadCodes: codebook ${fmt(cb.shape)}, counts ${fmt(a.counts.shape)}, idle ` +
        `${fmt(a.idle.shape)} and input ${fmt(a.x.shape)} do not fit`,
    );
  }
  if (!Number.isInteger(a.after) || a.after < 1) {
    throw new Error(`wgrec resetDeadCodes: after = ${a.after}, expected an integer ≥ 1`);
  }
  const reset = zeros([1], "u32");
  if (a.x.shape[0] === 0) return reset;
  const spare = output("vq spare", [1], "f32");
  launch("resetDeadCodes", resetK, {
    buffers: {
      cnt: a.counts.buffer,
      x: a.x.buffer,
      count: (a.ema?.count ?? a.counts).buffer,
      idle: a.idle.buffer,
      codes: cb.buffer,
      weight: (a.ema?.weight ?? spare).buffer,
      reset: reset.buffer,
    },
    uniforms: {
      n: a.x.shape[0],
      m,
      d,
      nb,
      x_row: nb * d,
      x_bat: d,
      limit: a.after,
      seed: a.seed >>> 0,
    },
    workgroups: groups(nb * m, 64),
    defines: { EMA: a.ema !== undefined },
  }, cb);
  spare.dispose();
  return reset;
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface VqAttrs {
  /** Inputs: codebook, codes (i32). Gradient to the codebook only (scatter-add). */
  codeLookup: { numCodes: number; subspaces: number };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const vqRules: RuleTable<keyof VqAttrs> = {
  codeLookup: codeLookupGrad,
};
