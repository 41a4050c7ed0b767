/**
 * Contrastive and ranking losses.
 *
 * - {@link infoNce}: in-batch InfoNCE (one-way or symmetric, optional L2 normalisation,
 *   fixed or learnable temperature, shared extra negatives, duplicate-id masking). Fused
 *   kernels (`shaders/infonce_*.wgsl`) stream over the negatives with an online log-sum-exp:
 *   the B×B (or B×M) logit matrix is never stored, so memory stays O(B·d). Two families:
 *   register-blocked kernels (16 rows × 16 keys per invocation, `*_rb.wgsl`) on CPU adapters
 *   when d % 4 = 0, and one-row-per-invocation kernels staging keys in workgroup memory
 *   elsewhere. The backward recomputes the logits (one pass per input that needs a gradient),
 *   as flash attention does; keys go through in blocks because llvmpipe ends an invocation
 *   after 65535 loop iterations in total.
 * - {@link sampledSoftmaxLoss} (1 positive + K sampled negatives, optional log-q correction)
 *   and {@link bprLoss} (−log σ(s⁺ − s⁻)): fused forward and backward row kernels.
 * - {@link bceWithLogits}, {@link cosineSimilarity}, {@link cosineLoss},
 *   {@link cosineSimilarityMatrix} and {@link simPreservationLoss} (AlignRec's `L_sim`):
 *   composed from existing ops, which fuse nothing worth a kernel here.
 * @module
 */

import { kernel } from "../gpu/kernel.ts";
import { type Node, noGrad, record } from "../graph.ts";
import { fmt, full, runtime, type Tensor } from "../tensor.ts";
import { expectDtype, expectRank, expectSameShape, groups, launch, output } from "./common.ts";
import {
  add,
  affine,
  div,
  maximum,
  mul,
  neg,
  scale,
  softplus,
  sqrt,
  square,
  sub,
} from "./elementwise.ts";
import { matmul } from "./matmul.ts";
import { adapterClass } from "./matmul_select.ts";
import { mean, reduceAxis, sum } from "./reduce.ts";
import { reshape } from "./shape.ts";

// --- InfoNCE ------------------------------------------------------------------------------

/** Rows per workgroup of the InfoNCE kernels (one invocation per row). */
const ROWS_WG = 64;
/** Keys per online-LSE step of the InfoNCE kernels (dims go 16 at a time). */
const TILE_K = 32;
/** Norm floor of the L2 normalisation, as F.normalize. */
const NORM_EPS = 1e-12;

const rnormK = kernel({
  name: "infonce_rnorm",
  bindings: { x: "f32", st: "f32 rw" },
  uniforms: { rows: "u32", d: "u32", off: "u32" },
  workgroupSize: [ROWS_WG],
});

const fwdK = kernel({
  name: "infonce_fwd",
  lib: ["infonce_common"],
  bindings: { x: "f32", k: "f32", ids: "i32", st: "f32 rw", loss: "f32 rw", state: "f32 rw" },
  uniforms: {
    rows: "u32",
    d: "u32",
    kb: "u32",
    ke: "u32",
    diag: "u32",
    first: "u32",
    last: "u32",
    off_x: "u32",
    off_k: "u32",
    off_lse: "u32",
    off_loss: "u32",
  },
  workgroupSize: [ROWS_WG],
});

const bwdK = kernel({
  name: "infonce_bwd",
  lib: ["infonce_common"],
  bindings: { x: "f32", k: "f32", ids: "i32", st: "f32", gx: "f32 rw", tpart: "f32 rw" },
  uniforms: {
    rows: "u32",
    d: "u32",
    kb: "u32",
    ke: "u32",
    diag: "u32",
    last: "u32",
    off_x: "u32",
    off_k: "u32",
    off_lse_row: "u32",
    off_lse_k: "u32",
    off_t: "u32",
    wr: "f32",
    wk: "f32",
    tw: "f32",
  },
  workgroupSize: [ROWS_WG],
});

/** Invocations per workgroup of the register-blocked kernels (one 8-lane SIMD pass on llvmpipe). */
const RB_WG = 8;
/** Rows (and keys per step) of one invocation of the register-blocked kernels. */
const RB_ROWS = 16;

const fwdRbK = kernel({
  name: "infonce_fwd_rb",
  lib: ["tile4", "infonce_rb_common"],
  bindings: {
    x4: "vec4<f32>",
    k4: "vec4<f32>",
    ids: "i32",
    st: "f32 rw",
    loss: "f32 rw",
    state: "f32 rw",
  },
  uniforms: {
    rows: "u32",
    d4: "u32",
    kb: "u32",
    ke: "u32",
    diag: "u32",
    first: "u32",
    last: "u32",
    off_x: "u32",
    off_k: "u32",
    off_lse: "u32",
    off_loss: "u32",
  },
  workgroupSize: [RB_WG],
});

const bwdRbK = kernel({
  name: "infonce_bwd_rb",
  lib: ["tile4", "infonce_rb_common"],
  bindings: {
    x4: "vec4<f32>",
    k4: "vec4<f32>",
    ids: "i32",
    st: "f32",
    gx4: "vec4<f32> rw",
    tpart: "f32 rw",
  },
  uniforms: {
    rows: "u32",
    d4: "u32",
    kb: "u32",
    ke: "u32",
    diag: "u32",
    last: "u32",
    off_x: "u32",
    off_k: "u32",
    off_lse_row: "u32",
    off_lse_k: "u32",
    off_t: "u32",
    wr: "f32",
    wk: "f32",
    tw: "f32",
  },
  workgroupSize: [RB_WG],
});

/**
 * Whether to use the register-blocked kernels: on adapters that run compute on a CPU, where
 * they are several times faster, when rows are vec4-aligned. Elsewhere the one-row-per-
 * invocation kernels stage keys in workgroup memory, the usual GPU tiling.
 */
function useRegblock(d: number): boolean {
  // Above 4096 dims the backward's per-row tail alone would crowd the loop budget.
  return d % 4 === 0 && d <= 4096 &&
    adapterClass(runtime().gpu.adapter.description) === "software";
}

/**
 * llvmpipe (the software Vulkan driver) ends an invocation after 65535 loop iterations in
 * total, so the kernels take the keys in blocks sized to stay below that, with a margin.
 */
const LOOP_BUDGET = 60000;
/** Widest rows the kernels take (one tile of 32 keys must fit the loop budget). */
const MAX_D = 8192;

/** Key blocks [kb, ke) of at most the keys that fit the loop budget at `perKey` iterations. */
function keyBlocks(n: number, perKey: number, reserve: number): [number, number][] {
  const fit = Math.floor((LOOP_BUDGET - reserve) / perKey / TILE_K) * TILE_K;
  const step = Math.max(TILE_K, fit);
  const out: [number, number][] = [];
  for (let kb = 0; kb < n; kb += step) out.push([kb, Math.min(n, kb + step)]);
  return out;
}

/** Options of {@link infoNce}. */
export interface InfoNceOptions {
  /** τ > 0: a number, or a one-element tensor to learn it (its gradient is computed). */
  temperature: number | Tensor<"f32">;
  /** L2-normalise the rows of A, P and N first (cosine logits). Default true. */
  normalize?: boolean;
  /** Average the A→P and P→A losses (CLIP). Default false: A→P only. */
  symmetric?: boolean;
  /** Extra negatives N [M, d] shared by every row (both directions when symmetric). */
  negatives?: Tensor<"f32">;
  /**
   * Item ids [B] (i32): a batch column j ≠ i with ids[j] = ids[i] is a false negative of
   * row i and is left out of its denominator (in both directions).
   */
  ids?: Tensor<"i32">;
}

/**
 * Layout of the scalar/statistics buffer shared by the InfoNCE kernels:
 * [τ, upstream gradient, pad, pad, 1/‖A_i‖ (B), 1/‖P_i‖ (B), 1/‖N_m‖ (M), lse A→P (B), lse P→A (B)].
 */
function stLayout(b: number, m: number) {
  const a = 4;
  const p = a + b;
  const n = p + b;
  const l1 = n + m;
  const l2 = l1 + b;
  return { a, p, n, l1, l2, size: l2 + b };
}

/**
 * InfoNCE over row pairs (A_i, P_i), mean over the batch:
 * `L = mean_i −log( e^{z_ii} / Σ_j e^{z_ij} )`, `z_ij = â_i·p̂_j / τ`, with the columns j
 * running over P (and the extra negatives N); symmetric adds the P→A direction and halves.
 * Matches `F.cross_entropy(A Pᵀ/τ, arange(B))` (and its transpose), without building the
 * B×B matrix. Returns a scalar; differentiable in A, P, N and a tensor τ.
 */
export function infoNce(
  a: Tensor<"f32">,
  p: Tensor<"f32">,
  opts: InfoNceOptions,
): Tensor<"f32"> {
  const op = "infoNce";
  expectDtype(op, a, "f32", "A");
  expectDtype(op, p, "f32", "P");
  expectRank(op, a, 2);
  expectSameShape(op, a, p);
  const [b, d] = a.shape;
  if (b === 0 || d === 0) {
    throw new Error(`wgrec ${op}: A ${fmt(a.shape)} is empty, expected at least one row and dim`);
  }
  if (d > MAX_D) {
    throw new Error(`wgrec ${op}: A ${fmt(a.shape)} is wider than ${MAX_D} dims`);
  }
  const n = opts.negatives;
  if (n) {
    expectDtype(op, n, "f32", "negatives");
    if (n.rank !== 2 || n.shape[1] !== d) {
      throw new Error(
        `wgrec ${op}: negatives ${fmt(n.shape)} do not fit A ${fmt(a.shape)}, expected [M, ${d}]`,
      );
    }
  }
  const ids = opts.ids;
  if (ids) {
    expectDtype(op, ids, "i32", "ids");
    if (ids.rank !== 1 || ids.shape[0] !== b) {
      throw new Error(
        `wgrec ${op}: ids ${fmt(ids.shape)} do not fit A ${fmt(a.shape)}, expected [${b}]`,
      );
    }
  }
  const tau = opts.temperature;
  if (typeof tau === "number") {
    if (!(tau > 0) || !Number.isFinite(tau)) {
      throw new Error(`wgrec ${op}: temperature ${tau} is invalid, expected a finite τ > 0`);
    }
  } else {
    expectDtype(op, tau, "f32", "temperature");
    if (tau.size !== 1) {
      throw new Error(`wgrec ${op}: temperature ${fmt(tau.shape)} must have one element`);
    }
  }
  const normalize = opts.normalize ?? true;
  const symmetric = opts.symmetric ?? false;
  const m = n ? n.shape[0] : 0;
  const L = stLayout(b, m);
  const rt = runtime();

  const st = output(op, [L.size], "f32");
  rt.clear(st.buffer, L.size * 4);
  if (typeof tau === "number") rt.upload(st.buffer, new Float32Array([tau]));
  else rt.copy(tau.buffer, 0, st.buffer, 0, 4);
  const defines = { TK: TILE_K, NORM: normalize, MASK: !!ids, D16: d % 16 === 0, EPS: NORM_EPS };
  if (normalize) {
    const parts: [Tensor, number, number][] = [[a, b, L.a], [p, b, L.p]];
    if (n && m > 0) parts.push([n, m, L.n]);
    for (const [x, rows, off] of parts) {
      launch(op, rnormK, {
        buffers: { x: x.buffer, st: st.buffer },
        uniforms: { rows, d, off },
        workgroups: groups(rows, ROWS_WG),
        defines: { EPS: NORM_EPS },
      });
    }
  }
  const rowLoss = output(op, [symmetric ? 2 * b : b], "f32");
  const state = output(op, [3 * b], "f32");
  const chunks = Math.ceil(d / 16);
  const rb = useRegblock(d);
  // Loop iterations per key (and reserved per block) of each kernel, for the block sizes.
  const perKey = rb ? (2 * d / 4 + 2) / RB_ROWS : chunks + 4;
  const reserve = rb ? 64 : 2 * chunks;
  const dirs: [Tensor, Tensor, number, number, number][] = [[a, p, L.a, L.p, L.l1]];
  if (symmetric) dirs.push([p, a, L.p, L.a, L.l2]);
  dirs.forEach(([x, k1, offX, offK1, offLse], i) => {
    // The batch keys (the positive among them), then the shared negatives.
    const blocks: [Tensor, number, number, number, number][] = [];
    for (const [kb, ke] of keyBlocks(b, perKey, reserve)) blocks.push([k1, kb, ke, 1, offK1]);
    if (n) {
      for (const [kb, ke] of keyBlocks(m, perKey, reserve)) blocks.push([n, kb, ke, 0, L.n]);
    }
    blocks.forEach(([k, kb, ke, diag, offK], j) => {
      const common = {
        rows: b,
        kb,
        ke,
        diag,
        first: j === 0 ? 1 : 0,
        last: j === blocks.length - 1 ? 1 : 0,
        off_x: offX,
        off_k: offK,
        off_lse: offLse,
        off_loss: i * b,
      };
      const bufs = {
        ids: (ids ?? x).buffer,
        st: st.buffer,
        loss: rowLoss.buffer,
        state: state.buffer,
      };
      const out = j === blocks.length - 1 ? rowLoss : undefined;
      if (rb) {
        launch(op, fwdRbK, {
          buffers: { x4: x.buffer, k4: k.buffer, ...bufs },
          uniforms: { ...common, d4: d / 4 },
          workgroups: groups(Math.ceil(b / RB_ROWS), RB_WG),
          defines: { NORM: normalize, MASK: !!ids },
        }, out);
      } else {
        launch(op, fwdK, {
          buffers: { x: x.buffer, k: k.buffer, ...bufs },
          uniforms: { ...common, d },
          workgroups: groups(b, ROWS_WG),
          defines,
        }, out);
      }
    });
  });
  state.dispose();
  const out = reduceAxis(op, 0, rowLoss, 0, 1 / rowLoss.size);
  rowLoss.dispose();
  const inputs: Tensor[] = [a, p];
  if (n) inputs.push(n);
  if (typeof tau !== "number") inputs.push(tau);
  const saved: Tensor[] = [st];
  if (ids) saved.push(ids);
  return record(out, "infonce", inputs, {
    normalize,
    symmetric,
    negatives: !!n,
    masked: !!ids,
    tau: typeof tau === "number" ? tau : null,
  }, saved);
}

/**
 * Gradient of {@link infoNce}: one fused row pass per input that needs it (A, P, N), each
 * recomputing its logits from the saved log-sum-exps; the τ gradient comes from per-row
 * partial sums of those passes.
 */
export function infonceGrad(
  node: Node<"infonce">,
  gy: Tensor<"f32">,
): (Tensor<"f32"> | null)[] {
  const op = "infoNce backward";
  const { normalize, symmetric, negatives, masked, tau } = node.attrs;
  const [a, p] = node.inputs as Tensor<"f32">[];
  const n = negatives ? node.inputs[2] as Tensor<"f32"> : null;
  const tauT = tau === null ? node.inputs[negatives ? 3 : 2] as Tensor<"f32"> : null;
  const [st, ids] = node.saved as [Tensor<"f32">, Tensor<"i32">?];
  const [b, d] = a.shape;
  const m = n ? n.shape[0] : 0;
  const L = stLayout(b, m);
  const rt = runtime();
  rt.copy(gy.buffer, 0, st.buffer, 4, 4);
  const w1 = symmetric ? 1 / (2 * b) : 1 / b;
  const w2 = symmetric ? 1 / (2 * b) : 0;
  const needTau = !!tauT?.requiresGrad;
  const tpart = needTau ? output(op, [2 * b], "f32") : null;
  if (tpart) rt.clear(tpart.buffer, tpart.size * 4);

  type Block = {
    k: Tensor<"f32">;
    n: number;
    diag: boolean;
    offK: number;
    offLseK: number;
    wr: number;
    wk: number;
    tw: number;
  };
  const chunks = Math.ceil(d / 16);
  const run = (x: Tensor<"f32">, offX: number, offLseRow: number, offT: number, bl: Block[]) => {
    const gx = output(op, x.shape, "f32");
    rt.clear(gx.buffer, gx.size * 4);
    const withTau = tpart !== null && bl.some((k) => k.tw !== 0);
    // An unused tpart binding still needs a buffer distinct from gx (two writable bindings
    // of one buffer are invalid).
    const tp = tpart ?? output(op, [1], "f32");
    const rb = useRegblock(d);
    const perKey = rb ? (2 * d / 4 + 2) / RB_ROWS : 2 * chunks + 4;
    // The last block's normalisation tail walks each row twice (16 rows per rb invocation).
    const reserve = rb ? 8 * d + 64 : 2 * d + 2 * chunks;
    const todo = bl.flatMap((k) =>
      keyBlocks(k.n, perKey, reserve).map(([kb, ke]) => ({ ...k, kb, ke }))
    );
    const rows = x.shape[0];
    todo.forEach((k, j) => {
      const uniforms = {
        rows,
        kb: k.kb,
        ke: k.ke,
        diag: k.diag ? 1 : 0,
        last: j === todo.length - 1 ? 1 : 0,
        off_x: offX,
        off_k: k.offK,
        off_lse_row: offLseRow,
        off_lse_k: k.offLseK,
        off_t: offT,
        wr: k.wr,
        wk: k.wk,
        tw: k.tw,
      };
      const bufs = { ids: (ids ?? x).buffer, st: st.buffer, tpart: tp.buffer };
      const out = j === todo.length - 1 ? gx : undefined;
      const defs = { NORM: normalize, MASK: masked, TAU: withTau, EPS: NORM_EPS };
      if (rb) {
        launch(op, bwdRbK, {
          buffers: { x4: x.buffer, k4: k.k.buffer, gx4: gx.buffer, ...bufs },
          uniforms: { ...uniforms, d4: d / 4 },
          workgroups: groups(Math.ceil(rows / RB_ROWS), RB_WG),
          defines: defs,
        }, out);
      } else {
        launch(op, bwdK, {
          buffers: { x: x.buffer, k: k.k.buffer, gx: gx.buffer, ...bufs },
          uniforms: { ...uniforms, d },
          workgroups: groups(rows, ROWS_WG),
          defines: { ...defs, TK: TILE_K, D16: d % 16 === 0 },
        }, out);
      }
    });
    if (tp !== tpart) tp.dispose();
    return gx;
  };

  // A pass: row i of S = ÂP̂ᵀ/τ (both directions' coefficients) and of U = ÂN̂ᵀ/τ. It also
  // carries the τ terms of S and U, so it runs whenever τ needs a gradient.
  let ga: Tensor<"f32"> | null = null;
  if (a.requiresGrad || needTau) {
    const bl: Block[] = [{
      k: p,
      n: b,
      diag: true,
      offK: L.p,
      offLseK: L.l2,
      wr: w1,
      wk: w2,
      tw: 1,
    }];
    if (n) bl.push({ k: n, n: m, diag: false, offK: L.n, offLseK: 0, wr: w1, wk: 0, tw: 1 });
    ga = run(a, L.a, L.l1, 0, bl);
  }
  // P pass: column j of S and, when symmetric, row j of V = P̂N̂ᵀ/τ (whose τ terms it adds).
  let gp: Tensor<"f32"> | null = null;
  if (p.requiresGrad || (needTau && symmetric && m > 0)) {
    const bl: Block[] = [{
      k: a,
      n: b,
      diag: true,
      offK: L.a,
      offLseK: L.l1,
      wr: w2,
      wk: w1,
      tw: 0,
    }];
    if (n && symmetric) {
      bl.push({ k: n, n: m, diag: false, offK: L.n, offLseK: 0, wr: w2, wk: 0, tw: 1 });
    }
    gp = run(p, L.p, L.l2, b, bl);
  }
  // N pass: column m of U (against A) and, when symmetric, of V (against P).
  let gn: Tensor<"f32"> | null = null;
  if (n && n.requiresGrad) {
    const bl: Block[] = [{
      k: a,
      n: b,
      diag: false,
      offK: L.a,
      offLseK: L.l1,
      wr: 0,
      wk: w1,
      tw: 0,
    }];
    if (symmetric) {
      bl.push({ k: p, n: b, diag: false, offK: L.p, offLseK: L.l2, wr: 0, wk: w2, tw: 0 });
    }
    gn = m > 0 ? run(n, L.n, 0, 0, bl) : output(op, n.shape, "f32");
  }
  let gtau: Tensor<"f32"> | null = null;
  if (tpart && tauT) {
    // ∂L/∂τ = −Σ coefficient·z / τ.
    const s = reduceAxis(op, 0, tpart, 0, -1);
    tpart.dispose();
    gtau = reshape(div(reshape(s, [1]), reshape(tauT, [1])), tauT.shape);
  }
  // Passes run only for τ's partial sums give no input gradient.
  if (ga && !a.requiresGrad) ga = drop(ga);
  if (gp && !p.requiresGrad) gp = drop(gp);
  const grads: (Tensor<"f32"> | null)[] = [ga, gp];
  if (n) grads.push(gn);
  if (tauT) grads.push(gtau);
  return grads;
}

function drop(t: Tensor): null {
  t.dispose();
  return null;
}

// --- Sampled softmax --------------------------------------------------------------------------

const ssFwdK = kernel({
  name: "sampled_softmax_fwd",
  bindings: {
    pos: "f32",
    neg: "f32",
    lqp: "f32",
    lqn: "f32",
    lse_out: "f32 rw",
    loss: "f32 rw",
  },
  uniforms: { rows: "u32", k: "u32", inv_tau: "f32" },
  workgroupSize: [64],
});

const ssBwdK = kernel({
  name: "sampled_softmax_bwd",
  bindings: {
    pos: "f32",
    neg: "f32",
    lqp: "f32",
    lqn: "f32",
    lse_in: "f32",
    gy: "f32",
    gpos: "f32 rw",
    gneg: "f32 rw",
  },
  uniforms: { rows: "u32", k: "u32", inv_tau: "f32" },
  workgroupSize: [64],
});

/** Options of {@link sampledSoftmaxLoss}. */
export interface SampledSoftmaxOptions {
  /** Logit temperature τ (logits are divided by it). Default 1. */
  temperature?: number;
  /** log q of each sampled negative [B, K]: the logit becomes s − log q (sampling-bias correction). */
  logQNeg?: Tensor<"f32">;
  /** log q of each positive [B], subtracted from its logit likewise (in-batch sampling). */
  logQPos?: Tensor<"f32">;
}

/**
 * Sampled softmax cross-entropy with the positive at index 0, mean over rows:
 * `mean_i −log softmax([s⁺_i, s⁻_i1 … s⁻_iK])_0`, each logit optionally corrected by −log q
 * and divided by τ. `pos` [B], `neg` [B, K]. Equals `F.cross_entropy(cat([pos, neg]), 0)`.
 */
export function sampledSoftmaxLoss(
  pos: Tensor<"f32">,
  neg: Tensor<"f32">,
  opts: SampledSoftmaxOptions = {},
): Tensor<"f32"> {
  const op = "sampledSoftmaxLoss";
  expectDtype(op, pos, "f32", "pos");
  expectDtype(op, neg, "f32", "neg");
  if (pos.rank !== 1 || neg.rank !== 2 || neg.shape[0] !== pos.shape[0] || pos.shape[0] === 0) {
    throw new Error(
      `wgrec ${op}: pos ${fmt(pos.shape)} and neg ${fmt(neg.shape)} do not fit, expected ` +
        `[B] and [B, K] with B ≥ 1`,
    );
  }
  const [b, k] = neg.shape;
  const { logQNeg, logQPos } = opts;
  if (logQNeg) {
    expectDtype(op, logQNeg, "f32", "logQNeg");
    expectSameShape(op, logQNeg, neg);
  }
  if (logQPos) {
    expectDtype(op, logQPos, "f32", "logQPos");
    expectSameShape(op, logQPos, pos);
  }
  const tau = opts.temperature ?? 1;
  if (!(tau > 0) || !Number.isFinite(tau)) {
    throw new Error(`wgrec ${op}: temperature ${tau} is invalid, expected a finite τ > 0`);
  }
  const lse = output(op, [b], "f32");
  const rowLoss = output(op, [b], "f32");
  launch(op, ssFwdK, {
    buffers: {
      pos: pos.buffer,
      neg: neg.buffer,
      lqp: (logQPos ?? pos).buffer,
      lqn: (logQNeg ?? neg).buffer,
      lse_out: lse.buffer,
      loss: rowLoss.buffer,
    },
    uniforms: { rows: b, k, inv_tau: 1 / tau },
    workgroups: groups(b, 64),
    defines: { LOGQ_POS: !!logQPos, LOGQ_NEG: !!logQNeg },
  }, rowLoss);
  const out = reduceAxis(op, 0, rowLoss, 0, 1 / b);
  rowLoss.dispose();
  const saved: Tensor[] = [lse];
  if (logQPos) saved.push(logQPos);
  if (logQNeg) saved.push(logQNeg);
  return record(out, "sampledSoftmax", [pos, neg], {
    temperature: tau,
    logQPos: !!logQPos,
    logQNeg: !!logQNeg,
  }, saved);
}

/** Gradient of {@link sampledSoftmaxLoss}: one fused row kernel for both score inputs. */
export function sampledSoftmaxGrad(
  node: Node<"sampledSoftmax">,
  gy: Tensor<"f32">,
): Tensor<"f32">[] {
  const op = "sampledSoftmaxLoss backward";
  const [pos, neg] = node.inputs as Tensor<"f32">[];
  const { temperature, logQPos, logQNeg } = node.attrs;
  const lse = node.saved[0];
  const lqp = logQPos ? node.saved[1] : pos;
  const lqn = logQNeg ? node.saved[logQPos ? 2 : 1] : neg;
  const [b, k] = neg.shape;
  const gpos = output(op, pos.shape, "f32");
  const gneg = output(op, neg.shape, "f32");
  launch(op, ssBwdK, {
    buffers: {
      pos: pos.buffer,
      neg: neg.buffer,
      lqp: lqp.buffer,
      lqn: lqn.buffer,
      lse_in: lse.buffer,
      gy: gy.buffer,
      gpos: gpos.buffer,
      gneg: gneg.buffer,
    },
    uniforms: { rows: b, k, inv_tau: 1 / temperature },
    workgroups: groups(b, 64),
    defines: { LOGQ_POS: logQPos, LOGQ_NEG: logQNeg },
  }, gneg);
  return [gpos, gneg];
}

// --- BPR --------------------------------------------------------------------------------

const bprFwdK = kernel({
  name: "bpr_fwd",
  bindings: { pos: "f32", neg: "f32", loss: "f32 rw" },
  uniforms: { n: "u32", k: "u32" },
  workgroupSize: [256],
});

const bprBwdK = kernel({
  name: "bpr_bwd",
  bindings: { pos: "f32", neg: "f32", gy: "f32", gpos: "f32 rw", gneg: "f32 rw" },
  uniforms: { rows: "u32", k: "u32" },
  workgroupSize: [64],
});

/**
 * BPR loss `mean −log σ(s⁺ − s⁻)` over all pairs. `pos` [B]; `neg` [B] (one negative per
 * positive) or [B, K] (K negatives per positive, each pair counted once).
 */
export function bprLoss(pos: Tensor<"f32">, neg: Tensor<"f32">): Tensor<"f32"> {
  const op = "bprLoss";
  expectDtype(op, pos, "f32", "pos");
  expectDtype(op, neg, "f32", "neg");
  const b = pos.shape[0];
  const fits = pos.rank === 1 && b > 0 && neg.shape[0] === b &&
    (neg.rank === 1 || (neg.rank === 2 && neg.shape[1] > 0));
  if (!fits) {
    throw new Error(
      `wgrec ${op}: pos ${fmt(pos.shape)} and neg ${fmt(neg.shape)} do not fit, expected ` +
        `[B] and [B] or [B, K] with B, K ≥ 1`,
    );
  }
  const k = neg.rank === 2 ? neg.shape[1] : 1;
  const pairLoss = output(op, [b * k], "f32");
  launch(op, bprFwdK, {
    buffers: { pos: pos.buffer, neg: neg.buffer, loss: pairLoss.buffer },
    uniforms: { n: b * k, k },
    workgroups: groups(b * k),
  }, pairLoss);
  const out = reduceAxis(op, 0, pairLoss, 0, 1 / (b * k));
  pairLoss.dispose();
  return record(out, "bpr", [pos, neg], {});
}

/** Gradient of {@link bprLoss}: one fused row kernel for both score inputs. */
export function bprGrad(node: Node<"bpr">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const op = "bprLoss backward";
  const [pos, neg] = node.inputs as Tensor<"f32">[];
  const b = pos.shape[0];
  const k = neg.size / b;
  const gpos = output(op, pos.shape, "f32");
  const gneg = output(op, neg.shape, "f32");
  launch(op, bprBwdK, {
    buffers: {
      pos: pos.buffer,
      neg: neg.buffer,
      gy: gy.buffer,
      gpos: gpos.buffer,
      gneg: gneg.buffer,
    },
    uniforms: { rows: b, k },
    workgroups: groups(b, 64),
  }, gneg);
  return [gpos, gneg];
}

// --- Composed losses ----------------------------------------------------------------------

/**
 * Binary cross-entropy on logits, mean over all elements (PyTorch's
 * `BCEWithLogitsLoss`): `softplus(x) − x·y`, or with `posWeight` w
 * `(1 − y)·x + (1 + (w − 1)·y)·softplus(−x)`. Stable for any |x|.
 */
export function bceWithLogits(
  logits: Tensor<"f32">,
  targets: Tensor<"f32">,
  opts: { posWeight?: number } = {},
): Tensor<"f32"> {
  expectDtype("bceWithLogits", logits, "f32", "logits");
  expectDtype("bceWithLogits", targets, "f32", "targets");
  expectSameShape("bceWithLogits", logits, targets);
  const w = opts.posWeight;
  if (w === undefined) return mean(sub(softplus(logits), mul(logits, targets)));
  const lin = sub(logits, mul(targets, logits));
  return mean(add(lin, mul(affine(targets, w - 1, 1), softplus(neg(logits)))));
}

function rowNorms(x: Tensor<"f32">, eps: number): Tensor<"f32"> {
  // ‖x_i‖ floored at eps, shape [B, 1].
  const ss = sum(square(x), [1], true);
  return sqrt(maximum(ss, full([1], eps * eps)));
}

function checkPair(op: string, a: Tensor, b: Tensor): void {
  expectDtype(op, a, "f32", "left operand");
  expectDtype(op, b, "f32", "right operand");
  expectRank(op, a, 2);
  expectSameShape(op, a, b);
}

/**
 * Row-wise cosine similarity [B] of a and b [B, d]:
 * `a_i·b_i / (max(‖a_i‖, eps)·max(‖b_i‖, eps))` (PyTorch ≥ 1.12's `F.cosine_similarity`).
 */
export function cosineSimilarity(a: Tensor<"f32">, b: Tensor<"f32">, eps = 1e-8): Tensor<"f32"> {
  checkPair("cosineSimilarity", a, b);
  const dot = sum(mul(a, b), [1], true);
  const c = div(div(dot, rowNorms(a, eps)), rowNorms(b, eps));
  return reshape(c, [a.shape[0]]);
}

/** Alignment loss `1 − mean_i cos(a_i, b_i)` (AlignRec's UIA cosine loss). */
export function cosineLoss(a: Tensor<"f32">, b: Tensor<"f32">, eps = 1e-8): Tensor<"f32"> {
  checkPair("cosineLoss", a, b);
  return affine(mean(cosineSimilarity(a, b, eps)), -1, 1);
}

/** Rows scaled to unit L2 norm (norms floored at eps, as F.normalize). */
export function l2NormalizeRows(x: Tensor<"f32">, eps = 1e-12): Tensor<"f32"> {
  expectDtype("l2NormalizeRows", x, "f32");
  expectRank("l2NormalizeRows", x, 2);
  return div(x, rowNorms(x, eps));
}

/** All-pairs cosine similarity [B, C] of the rows of a [B, d] and b [C, d] (default b = a). */
export function cosineSimilarityMatrix(a: Tensor<"f32">, b: Tensor<"f32"> = a): Tensor<"f32"> {
  expectRank("cosineSimilarityMatrix", a, 2);
  expectRank("cosineSimilarityMatrix", b, 2);
  if (a.shape[1] !== b.shape[1]) {
    throw new Error(
      `wgrec cosineSimilarityMatrix: ${fmt(a.shape)} and ${fmt(b.shape)} differ in width`,
    );
  }
  const an = l2NormalizeRows(a);
  return matmul(an, b === a ? an : l2NormalizeRows(b), { transB: true });
}

/**
 * AlignRec's similarity-preservation loss `‖X Xᵀ − cos(F, F)‖_F / B` for X [B, d] and fixed
 * features F [B, f]: the target cosine matrix is computed without gradient, and the norm is
 * the plain (not squared) Frobenius norm. Builds B×B matrices (B is a training batch).
 */
export function simPreservationLoss(x: Tensor<"f32">, feats: Tensor<"f32">): Tensor<"f32"> {
  const op = "simPreservationLoss";
  expectDtype(op, x, "f32", "x");
  expectDtype(op, feats, "f32", "feats");
  expectRank(op, x, 2);
  expectRank(op, feats, 2);
  if (x.shape[0] !== feats.shape[0]) {
    throw new Error(`wgrec ${op}: x ${fmt(x.shape)} and feats ${fmt(feats.shape)} differ in rows`);
  }
  const target = noGrad(() => cosineSimilarityMatrix(feats));
  const diff = sub(matmul(x, x, { transB: true }), target);
  return scale(sqrt(sum(square(diff))), 1 / x.shape[0]);
}
