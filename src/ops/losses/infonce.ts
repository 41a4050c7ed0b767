/**
 * In-batch InfoNCE (one-way or symmetric, optional L2 normalisation, fixed or learnable
 * temperature, shared extra negatives, duplicate-id masking). Fused kernels
 * (`shaders/losses/infonce_*.wgsl`) stream over the negatives with an online log-sum-exp: the
 * B×B (or B×M) logit matrix is never stored, so memory stays O(B·d). Two families:
 * register-blocked kernels (16 rows × 16 keys per invocation, `*_rb.wgsl`) on CPU adapters
 * when d % 4 = 0, and one-row-per-invocation kernels staging keys in workgroup memory
 * elsewhere. The backward recomputes the logits (one pass per input that needs a gradient),
 * as flash attention does; keys go through in blocks because llvmpipe ends an invocation
 * after 65535 loop iterations in total.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, runtime, type Tensor } from "../../tensor.ts";
import { expectDtype, expectRank, expectSameShape, groups, launch, output } from "../common.ts";
import { div } from "../core/elementwise.ts";
import { adapterClass } from "../matmul/select.ts";
import { reduceAxis } from "../core/reduce.ts";
import { reshape } from "../core/shape.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";
import * as lossesWgsl from "../../../shaders/losses/wgsl.ts";

// --- InfoNCE ------------------------------------------------------------------------------

/** Rows per workgroup of the InfoNCE kernels (one invocation per row). */
const ROWS_WG = 64;
/** Keys per online-LSE step of the InfoNCE kernels (dims go 16 at a time). */
const TILE_K = 32;
/** Norm floor of the L2 normalisation, as F.normalize. */
const NORM_EPS = 1e-12;

const rnormK = /* @__PURE__ */ kernel({
  name: "infonce_rnorm",
  source: lossesWgsl.infonce_rnorm,
  defines: { EPS: "f32" },
  bindings: { x: "f32", st: "f32 rw" },
  uniforms: { rows: "u32", d: "u32", off: "u32" },
  workgroupSize: [ROWS_WG],
});

const fwdK = /* @__PURE__ */ kernel({
  name: "infonce_fwd",
  source: lossesWgsl.infonce_fwd,
  defines: { TK: "u32", NORM: "bool", MASK: "bool", D16: "bool", EPS: "f32" },
  lib: [lossesWgsl.infonce_common],
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

const bwdK = /* @__PURE__ */ kernel({
  name: "infonce_bwd",
  source: lossesWgsl.infonce_bwd,
  defines: { NORM: "bool", MASK: "bool", TAU: "bool", EPS: "f32", TK: "u32", D16: "bool" },
  lib: [lossesWgsl.infonce_common],
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

const fwdRbK = /* @__PURE__ */ kernel({
  name: "infonce_fwd_rb",
  source: lossesWgsl.infonce_fwd_rb,
  defines: { NORM: "bool", MASK: "bool" },
  lib: [commonWgsl.tile4, lossesWgsl.infonce_rb_common],
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

const bwdRbK = /* @__PURE__ */ kernel({
  name: "infonce_bwd_rb",
  source: lossesWgsl.infonce_bwd_rb,
  defines: { NORM: "bool", MASK: "bool", TAU: "bool", EPS: "f32" },
  lib: [commonWgsl.tile4, lossesWgsl.infonce_rb_common],
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
  return record(infoNceRules, out, "infonce", inputs, {
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

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface InfoNceAttrs {
  /**
   * Fused InfoNCE (src/ops/losses.ts). Inputs: A, P, then N when `negatives`, then τ when
   * `tau` is null (a tensor). Saves the statistics buffer (τ, inverse norms, lses) and ids.
   */
  infonce: {
    normalize: boolean;
    symmetric: boolean;
    negatives: boolean;
    masked: boolean;
    tau: number | null;
  };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const infoNceRules: RuleTable<keyof InfoNceAttrs> = {
  infonce: infonceGrad,
};
