/**
 * Fused scaled-dot-product attention (`shaders/attention_fwd.wgsl`) with fused backward
 * kernels (`shaders/attention_bwd_dq.wgsl`, `shaders/attention_bwd_dkv.wgsl`) and, for long
 * sequences on software adapters, a chunked backward through the matmul kernels (see
 * {@link attentionBackward}).
 *
 * out_i = Σ_t p̃_it v_t,  p_it = softmax_t(scale · q_i·k_t + bias_it) over the keys visible to
 * query i, and p̃ = p with dropout applied. The forward streams over keys with an online
 * softmax, so the Lq×Lk score matrix is never stored; it saves one log-sum-exp per query row,
 * and the backward recomputes the probabilities from it. Memory is linear in the lengths.
 *
 * Masking is structural (key lengths, causality); masked scores are skipped, never set to
 * −Inf. A query row that sees no key at all ("fully masked": a key length of 0 and no prefix
 * keys) has output 0, and every gradient through it is 0.
 * @module
 */

import { kernel, type KernelSpec } from "../../gpu/kernel.ts";
import { type Node, type OpAttrs, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, runtime, Tensor, tensor, zeros } from "../../tensor.ts";
import { broadcastStrides, expectDtype, groups, launch, output } from "../common.ts";
import { adapterClass } from "../matmul/select.ts";
import { add } from "../core/elementwise.ts";
import { matmul } from "../matmul/matmul.ts";
import { sumTo } from "../core/reduce.ts";
import { broadcastTo, concat, permute, reshape, slice } from "../core/shape.ts";
import * as attentionWgsl from "../../../shaders/attention/wgsl.ts";
import * as commonWgsl from "../../../shaders/common/wgsl.ts";

/** Largest head dimension (of queries/keys and of values) the kernels accept. */
export const MAX_HEAD_DIM = 256;

/** Memory layout of queries, keys, values and the output. */
export type AttentionLayout = "bhld" | "blhd";

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** Multiplier of q·k; default 1/√D. */
  scale?: number;
  /**
   * Causal mask, aligned top-left as PyTorch's `is_causal`: query i sees main keys j ≤ i.
   * Prefix keys are always visible.
   */
  causal?: boolean;
  /**
   * Number of valid (unpadded) main keys per batch entry, [B]: an i32 tensor (values are
   * clamped to [0, Lk] on the GPU; they are thresholds, never indices) or a host array
   * (checked). Prefix keys are never masked.
   */
  keyLengths?: Tensor<"i32"> | readonly number[];
  /**
   * Additive score bias broadcastable to [B, H, Lq, Lk] (over the main keys; prefix keys get
   * none). Differentiable. Values must be finite: mask with `keyLengths`/`causal`.
   */
  bias?: Tensor<"f32">;
  /**
   * Extra key/value tokens placed before the keys (prompt tuning, prefix tuning):
   * [H, P, D] or [B, H, P, D] in layout "bhld", [P, H, D] or [B, P, H, D] in "blhd" (without
   * the batch axis they are shared by the batch). Differentiable. Give both or neither.
   */
  prefixKey?: Tensor<"f32">;
  /** Prefix values; see `prefixKey`. */
  prefixValue?: Tensor<"f32">;
  /**
   * Dropout rate on the attention probabilities (0 ≤ rate < 1, default 0). The mask is a hash
   * of (seed, batch·head, query, key), the same in forward and backward; kept entries are
   * scaled by 1/(1 − rate).
   */
  dropout?: number;
  /** Seed of the dropout mask (a u32; default 0). Use a new seed per step. */
  seed?: number;
  /** "bhld" (default): tensors are [B, H, L, D]; "blhd": [B, L, H, D] (no head permutes). */
  layout?: AttentionLayout;
}

const UNIFORMS = {
  bh: "u32",
  heads: "u32",
  lq: "u32",
  lk: "u32",
  npre: "u32",
  /** Row (or key) quads per batch·head. */
  nq: "u32",
  /** Column groups per row quad. */
  groups: "u32",
  /** Option bits: see FLAG. */
  flags: "u32",
  scale: "f32",
  seed: "u32",
  keep_thresh: "u32",
  drop_scale: "f32",
  bst: "u32x8",
} as const;

/**
 * Inputs of the kernels. q, k, v (and the output gradient) are bound as vec4 arrays: aligned
 * rows are read a vec4 at a time, others a component at a time (one binding each). The key
 * lengths, log-sum-exp and Δ reach the backward kernels packed in one u32 buffer (`aux`, built
 * by attention_bwd_delta), so that every kernel binds at most 8 storage buffers, WebGPU's
 * default `maxStorageBuffersPerShaderStage`.
 */
const INPUTS = {
  q: "vec4<f32>",
  k: "vec4<f32>",
  v: "vec4<f32>",
  bias: "f32",
} as const;

/**
 * Option bits of the `flags` uniform (uniform branches in the kernels rather than defines, so
 * that a model compiles a handful of pipelines, not one per option combination).
 */
const FLAG = {
  causal: 1,
  bias: 2,
  lens: 4,
  dropout: 8,
  blhd: 16,
  needDk: 32,
  writeDs: 64,
  needDv: 128,
} as const;

/** Row (or key) quads per invocation of the fused kernels (the RM define). */
const ROW_QUADS = 2;

/** One SIMD pass of a CPU adapter per workgroup; wider on hardware GPUs. */
const WG_SOFTWARE = 8;
const WG_HARDWARE = 64;

function specs(wg: number) {
  return {
    fwd: kernel({
      name: "attention_fwd",
      source: attentionWgsl.attention_fwd,
      defines: { D_QK: "u32", D_V: "u32", VQ: "bool", VV: "bool", RV: "u32", RM: "u32" },
      lib: [
        commonWgsl.tile4,
        attentionWgsl.attention_flags,
        attentionWgsl.attention_hash,
        attentionWgsl.attention_common,
      ],
      bindings: { ...INPUTS, lens: "i32", out: "f32 rw", lse: "f32 rw" },
      uniforms: UNIFORMS,
      workgroupSize: [wg],
    }),
    delta: kernel({
      name: "attention_bwd_delta",
      source: attentionWgsl.attention_bwd_delta,
      lib: [attentionWgsl.attention_flags],
      defines: { D_QK: "u32", D_V: "u32", VQ: "bool", VV: "bool" },
      bindings: { go: "f32", y: "f32", lse: "u32", lens: "i32", aux: "u32 rw" },
      uniforms: UNIFORMS,
      workgroupSize: [64],
    }),
    dq: kernel({
      name: "attention_bwd_dq",
      source: attentionWgsl.attention_bwd_dq,
      defines: { D_QK: "u32", D_V: "u32", VQ: "bool", VV: "bool", RC: "u32", RM: "u32" },
      lib: [
        commonWgsl.tile4,
        attentionWgsl.attention_flags,
        attentionWgsl.attention_hash,
        attentionWgsl.attention_aux,
        attentionWgsl.attention_common,
        attentionWgsl.attention_bwd_common,
      ],
      bindings: {
        ...INPUTS,
        go: "vec4<f32>",
        aux: "u32",
        dq: "f32 rw",
        ds_out: "f32 rw",
      },
      uniforms: UNIFORMS,
      workgroupSize: [wg],
    }),
    dkv: kernel({
      name: "attention_bwd_dkv",
      source: attentionWgsl.attention_bwd_dkv,
      defines: { D_QK: "u32", D_V: "u32", VQ: "bool", VV: "bool", RC: "u32", RM: "u32" },
      lib: [
        commonWgsl.tile4,
        attentionWgsl.attention_flags,
        attentionWgsl.attention_hash,
        attentionWgsl.attention_aux,
        attentionWgsl.attention_common,
        attentionWgsl.attention_bwd_common,
      ],
      bindings: {
        ...INPUTS,
        go: "vec4<f32>",
        aux: "u32",
        dk: "f32 rw",
        dv: "f32 rw",
      },
      uniforms: UNIFORMS,
      workgroupSize: [wg],
    }),
  };
}
// Pure calls (bundlers drop the kernels of an app that never runs attention).
const SPECS = {
  software: /* @__PURE__ */ specs(WG_SOFTWARE),
  hardware: /* @__PURE__ */ specs(WG_HARDWARE),
};

/** Uniforms of the chunked backward's elementwise kernels: the chunk's first row and rows. */
const CHUNK_UNIFORMS = { ...UNIFORMS, c0: "u32", rows: "u32" } as const;
const CHUNK = {
  probs: /* @__PURE__ */ kernel({
    name: "attention_bwd_probs",
    source: attentionWgsl.attention_bwd_probs,
    lib: [attentionWgsl.attention_flags, attentionWgsl.attention_aux, attentionWgsl.attention_hash],
    bindings: { s: "f32 rw", aux: "u32", bias: "f32", pd: "f32 rw" },
    uniforms: CHUNK_UNIFORMS,
    workgroupSize: [64],
  }),
  dscore: /* @__PURE__ */ kernel({
    name: "attention_bwd_dscore",
    source: attentionWgsl.attention_bwd_dscore,
    lib: [attentionWgsl.attention_flags, attentionWgsl.attention_aux, attentionWgsl.attention_hash],
    bindings: { p: "f32", dp: "f32 rw", aux: "u32", ds_out: "f32 rw" },
    uniforms: CHUNK_UNIFORMS,
    workgroupSize: [64],
  }),
};

/**
 * The attention kernel specs, software and hardware variants (for tests and tools that check
 * binding counts against device limits).
 */
export const attentionKernels: readonly KernelSpec[] = /* @__PURE__ */ (() => [
  ...[SPECS.software, SPECS.hardware].flatMap((k) => Object.values(k)),
  CHUNK.probs,
  CHUNK.dscore,
])();

/**
 * How the backward runs. "fused": the fused kernels (attention_bwd_dq/dkv), which recompute
 * the scores in both. "chunked": blocks of query rows through the matmul kernels — S = Q_c·Kᵀ,
 * probabilities, dV += P̃ᵀ·dO_c, dP = dO_c·Vᵀ, dS, dQ_c = dS·K, dK += dSᵀ·Q_c — holding
 * B·H·rows·Lk floats of scores at a time (at most `chunkFloats` per matrix, so memory stays
 * linear in the lengths). On llvmpipe (bench/results/attention.md) it takes ~20% less driver
 * CPU than the fused backward at L = 512 and ~28% at L = 1024, ~4% (noise) at L = 256, but
 * holds about 3× the memory. "auto" (default): chunked on software adapters when Lq and Lk
 * are both at least `chunkMinLength`, and always on SwiftShader (see {@link autoChunked}),
 * else fused.
 */
export const attentionBackward: {
  path: "auto" | "fused" | "chunked";
  chunkFloats: number;
  chunkMinLength: number;
} = { path: "auto", chunkFloats: 2 ** 22, chunkMinLength: 512 };

/**
 * The "auto" choice of backward path for sequences of (shorter) length `len`. Chromium's
 * SwiftShader takes its GPU process down compiling the fused backward kernels (measured with
 * Chromium's Debian build: the process exits while the first attention backward compiles,
 * and every later call fails with "Instance dropped"), so it always gets the chunked path,
 * whose kernels are small.
 */
function autoChunked(len: number): boolean {
  const description = runtime().gpu.adapter.description;
  if (/swiftshader/i.test(description)) return true;
  return adapterClass(description) === "software" && len >= attentionBackward.chunkMinLength;
}

/**
 * Kernels for the current adapter. The kernels keep 4 rows × up to 16 column quads of their
 * output in registers: right for CPU adapters (llvmpipe, SwiftShader), where registers are
 * the only fast memory; hardware GPUs get wider workgroups and 4 column quads.
 */
function tuning(): { k: typeof SPECS.software; maxQuads: number } {
  return adapterClass(runtime().gpu.adapter.description) === "software"
    ? { k: SPECS.software, maxQuads: 16 }
    : { k: SPECS.hardware, maxQuads: 4 };
}

/** Column grouping of an output `width` wide: quads per invocation and number of groups. */
function columns(width: number, maxQuads: number): { quads: number; groups: number } {
  const n4 = Math.ceil(width / 4);
  const quads = Math.min(maxQuads, n4);
  return { quads, groups: Math.ceil(n4 / quads) };
}

/** Dims of a [B, H, L, D] or [B, L, H, D] tensor. */
interface Dims {
  b: number;
  h: number;
  l: number;
  d: number;
}

function dimsOf(t: Tensor, layout: AttentionLayout): Dims {
  const [b, x, y, d] = t.shape;
  return layout === "bhld" ? { b, h: x, l: y, d } : { b, h: y, l: x, d };
}

function layoutShape(layout: AttentionLayout, b: number, h: number, l: number, d: number) {
  return layout === "bhld" ? [b, h, l, d] : [b, l, h, d];
}

function fail(what: string): never {
  throw new Error(`wgrec attention: ${what}`);
}

/**
 * Fused multi-head scaled-dot-product attention: softmax(scale·QKᵀ + bias, masked)·V per
 * batch entry and head, with optional prefix keys/values, key padding, causal mask and
 * dropout (see {@link AttentionOptions}). q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv]
 * → [B, H, Lq, Dv] (or all [B, L, H, ·] with `layout: "blhd"`). Differentiable in q, k, v,
 * bias and the prefixes.
 */
export function attention(
  q: Tensor<"f32">,
  k: Tensor<"f32">,
  v: Tensor<"f32">,
  opts: AttentionOptions = {},
): Tensor<"f32"> {
  const layout = opts.layout ?? "bhld";
  if (layout !== "bhld" && layout !== "blhd") fail(`unknown layout '${layout}'`);
  for (const [t, n] of [[q, "query"], [k, "key"], [v, "value"]] as const) {
    expectDtype("attention", t, "f32", n);
    if (t.rank !== 4) {
      fail(`${n} ${fmt(t.shape)} has rank ${t.rank}, expected rank 4 (layout ${layout})`);
    }
  }
  const dq = dimsOf(q, layout);
  const dk = dimsOf(k, layout);
  const dv = dimsOf(v, layout);
  const shapes = `query ${fmt(q.shape)}, key ${fmt(k.shape)}, value ${fmt(v.shape)}`;
  if (dk.b !== dq.b || dv.b !== dq.b || dk.h !== dq.h || dv.h !== dq.h) {
    fail(`batch and head dims of ${shapes} differ (layout ${layout})`);
  }
  if (dk.d !== dq.d) fail(`query and key head dims differ: ${shapes}`);
  if (dv.l !== dk.l) fail(`key and value lengths differ: ${shapes}`);
  if (dq.d < 1 || dq.d > MAX_HEAD_DIM || dv.d < 1 || dv.d > MAX_HEAD_DIM) {
    fail(`head dims of ${shapes} must be in [1, ${MAX_HEAD_DIM}]`);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(dq.d);
  if (!Number.isFinite(scale)) fail(`scale ${scale} for ${shapes}, expected a finite number`);
  const rate = opts.dropout ?? 0;
  if (!(rate >= 0 && rate < 1)) fail(`dropout rate ${rate} for ${shapes}, expected 0 ≤ rate < 1`);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    fail(`seed ${seed}, expected an integer in [0, 2^32)`);
  }
  const { b: B, h: H, l: Lq } = dq;
  const Lk = dk.l;
  const bias = opts.bias;
  if (bias) {
    expectDtype("attention", bias, "f32", "bias");
    const target = [B, H, Lq, Lk];
    const off = 4 - bias.rank;
    if (off < 0 || bias.shape.some((d, i) => d !== 1 && d !== target[i + off])) {
      fail(`bias ${fmt(bias.shape)} does not broadcast to [B, H, Lq, Lk] = ${fmt(target)}`);
    }
  }
  let lens: Tensor<"i32"> | undefined;
  let ownLens = false;
  if (opts.keyLengths !== undefined) {
    const kl = opts.keyLengths;
    if (!(kl instanceof Tensor)) {
      const arr = kl as readonly number[];
      if (arr.length !== B) {
        fail(`keyLengths has ${arr.length} entries for ${shapes}, expected B = ${B}`);
      }
      for (const x of arr) {
        if (!Number.isInteger(x) || x < 0 || x > Lk) {
          fail(`key length ${x} for ${shapes}, expected an integer in [0, ${Lk}]`);
        }
      }
      lens = tensor(Int32Array.from(arr), [B], "i32");
      ownLens = true;
    } else {
      lens = kl;
      expectDtype("attention", lens, "i32", "keyLengths");
      if (lens.rank !== 1 || lens.shape[0] !== B) {
        fail(`keyLengths ${fmt(lens.shape)} for ${shapes}, expected [${B}]`);
      }
    }
  }

  // Prefix tokens are concatenated in front of the keys (a copy of O(L·D), small next to the
  // attention itself); the concat and broadcast record their own gradients.
  let kk = k;
  let vv = v;
  let npre = 0;
  const pk = opts.prefixKey;
  const pv = opts.prefixValue;
  if (pk || pv) {
    if (!pk || !pv) fail("give both prefixKey and prefixValue, or neither");
    expectDtype("attention", pk, "f32", "prefixKey");
    expectDtype("attention", pv, "f32", "prefixValue");
    const P = pk.shape[layout === "bhld" ? pk.rank - 2 : pk.rank - 3];
    const want = (d: number) => layoutShape(layout, B, H, P, d);
    const fits = (t: Tensor, d: number) => {
      const full = want(d);
      const s = t.rank === 3 ? [1, ...t.shape] : t.shape;
      return (t.rank === 3 || t.rank === 4) &&
        s.every((x, i) => x === full[i] || (i === 0 && x === 1));
    };
    if (!fits(pk, dq.d) || !fits(pv, dv.d)) {
      fail(
        `prefixKey ${fmt(pk.shape)} / prefixValue ${fmt(pv.shape)} do not fit ${shapes}, ` +
          `expected ${fmt(want(dq.d).slice(1))} / ${fmt(want(dv.d).slice(1))} with an optional ` +
          `batch axis (layout ${layout})`,
      );
    }
    const axis = layout === "bhld" ? 2 : 1;
    const expand = (t: Tensor<"f32">, d: number) => {
      const t4 = t.rank === 3 ? reshape(t, [1, ...t.shape]) : t;
      return broadcastTo(t4, want(d));
    };
    kk = concat([expand(pk, dq.d), k], axis);
    vv = concat([expand(pv, dv.d), v], axis);
    npre = P;
  }
  return attentionCore(q, kk, vv, bias, lens, ownLens, {
    scale,
    causal: opts.causal ?? false,
    npre,
    dropout: rate,
    seed,
    layout,
  });
}

/** Attributes of the `attention` graph node. */
export type AttentionAttrs = OpAttrs["attention"];

interface Launch {
  buffers: Record<string, Tensor>;
  uniforms: Record<string, number | number[]>;
  defines: Record<string, number | boolean>;
  wg: number;
  bh: number;
}

/** Uniforms, defines and absent-input stand-ins shared by the kernels. */
function setup(
  q: Tensor<"f32">,
  k: Tensor<"f32">,
  v: Tensor<"f32">,
  bias: Tensor<"f32"> | undefined,
  lens: Tensor<"i32"> | undefined,
  a: AttentionAttrs,
) {
  const { b: B, h: H, l: Lq, d: D } = dimsOf(q, a.layout);
  const { l: Lk, d: Dv } = dimsOf(v, a.layout);
  // An empty bias (no main keys) is never read.
  const useBias = bias && Lk > a.npre ? bias : undefined;
  const bst = useBias ? broadcastStrides(useBias.shape, [B, H, Lq, Lk - a.npre]) : [0, 0, 0, 0];
  const thresh = Math.min(Math.round(a.dropout * 2 ** 32), 0xffffffff);
  return {
    // Absent inputs are not read; q stands in for their bindings.
    buffers: {
      q: q.buffer,
      k: k.buffer,
      v: v.buffer,
      bias: (useBias ?? q).buffer,
    },
    lens: (lens ?? q).buffer,
    uniforms: {
      bh: B * H,
      heads: H,
      lq: Lq,
      lk: Lk,
      npre: a.npre,
      nq: 0,
      groups: 0,
      flags: (a.causal ? FLAG.causal : 0) | (useBias ? FLAG.bias : 0) | (lens ? FLAG.lens : 0) |
        (a.dropout > 0 ? FLAG.dropout : 0) | (a.layout === "blhd" ? FLAG.blhd : 0),
      scale: a.scale,
      seed: a.seed,
      keep_thresh: thresh,
      drop_scale: 1 / (1 - a.dropout),
      bst,
    },
    defines: { D_QK: D, D_V: Dv, VQ: D % 4 === 0, VV: Dv % 4 === 0 },
    dims: { B, H, Lq, Lk, D, Dv },
  };
}

/** The recorded op on keys that already include the `npre` prefix tokens. */
function attentionCore(
  q: Tensor<"f32">,
  k: Tensor<"f32">,
  v: Tensor<"f32">,
  bias: Tensor<"f32"> | undefined,
  lens: Tensor<"i32"> | undefined,
  ownLens: boolean,
  attrs: AttentionAttrs,
): Tensor<"f32"> {
  const s = setup(q, k, v, bias, lens, attrs);
  const { B, H, Lq, Dv } = s.dims;
  const out = output("attention", layoutShape(attrs.layout, B, H, Lq, Dv), "f32");
  const lse = output("attention", [B, H, Lq], "f32");
  const { k: K, maxQuads } = tuning();
  const col = columns(Dv, maxQuads);
  // Two row quads per invocation (each key/value tile then serves 8 rows); the backward
  // kernels do the same with query rows and with keys. Always 2, even where Lq ≤ 4 leaves the
  // second quad empty (its rows are clamped and not stored): one pipeline per head-dim pair
  // instead of two, and compiles dominate small problems on software adapters.
  const rm = ROW_QUADS;
  const nq = Math.ceil(Lq / (4 * rm));
  launch("attention", K.fwd, {
    buffers: { ...s.buffers, lens: s.lens, out: out.buffer, lse: lse.buffer },
    uniforms: { ...s.uniforms, nq, groups: col.groups },
    workgroups: groups(B * H * nq * col.groups, K.fwd.workgroupSize[0]),
    defines: { ...s.defines, RV: col.quads, RM: rm },
  }, out);
  const inputs: Tensor[] = [q, k, v, ...(bias ? [bias] : []), ...(lens ? [lens] : [])];
  record(attentionRules, out, "attention", inputs, attrs, [lse]);
  if (!out.node) {
    lse.dispose();
    if (ownLens) lens!.dispose();
  }
  return out;
}

/**
 * Gradient of attention: Δ and dq (plus the score gradient when the bias needs one) from the
 * query-side kernel, then dk and dv from the key-side kernel.
 */
export function attentionGrad(
  node: Node<"attention">,
  gy: Tensor<"f32">,
  y: Tensor,
): (Tensor<"f32"> | null)[] {
  const [q, k, v] = node.inputs as Tensor<"f32">[];
  const rest = node.inputs.slice(3);
  const a = node.attrs;
  const bias = rest.find((t): t is Tensor<"f32"> => t.dtype === "f32");
  const lens = rest.find((t): t is Tensor<"i32"> => t.dtype === "i32");
  const [lse] = node.saved as Tensor<"f32">[];
  const s = setup(q, k, v, bias, lens, a);
  const { B, H, Lq, Lk } = s.dims;
  const { k: K } = tuning();
  const needBias = !!bias?.requiresGrad && Lk > a.npre;
  // [lens | lse | Δ] as u32 bits (see attention_bwd_delta.wgsl).
  const aux = output("attention backward", [B + 2 * B * H * Lq], "u32");
  launch("attention backward (delta)", K.delta, {
    buffers: { go: gy.buffer, y: y.buffer, lse: lse.buffer, lens: s.lens, aux: aux.buffer },
    uniforms: s.uniforms,
    workgroups: groups(Math.max(B * H * Lq, B), 64),
    defines: s.defines,
  });
  const chunked = attentionBackward.path === "chunked" ||
    (attentionBackward.path === "auto" && autoChunked(Math.min(Lq, Lk)));
  const need = { q: q.requiresGrad, k: k.requiresGrad, v: v.requiresGrad, ds: needBias };
  const g = chunked
    ? chunkedGrad(q, k, v, gy, aux, s, a, need)
    : fusedGrad(q, k, v, gy, aux, s, need);
  aux.dispose();
  let gb: Tensor<"f32"> | null = null;
  if (bias?.requiresGrad) {
    gb = g.ds ? sumTo(g.ds, bias.shape) : zeros(bias.shape);
    if (g.ds && gb !== g.ds) g.ds.dispose();
  }
  return [g.q, g.k, g.v, ...(bias ? [gb] : []), ...(lens ? [null] : [])];
}

type Setup = ReturnType<typeof setup>;
type Need = { q: boolean; k: boolean; v: boolean; ds: boolean };
interface Grads {
  q: Tensor<"f32"> | null;
  k: Tensor<"f32"> | null;
  v: Tensor<"f32"> | null;
  /** Score gradient of the main keys [B, H, Lq, Lk − npre], when `need.ds`. */
  ds: Tensor<"f32"> | null;
}

/** The fused backward: dq (and ds) from the query-side kernel, dk and dv from the key side. */
function fusedGrad(
  q: Tensor<"f32">,
  k: Tensor<"f32">,
  v: Tensor<"f32">,
  gy: Tensor<"f32">,
  aux: Tensor<"u32">,
  s: Setup,
  need: Need,
): Grads {
  const { B, H, Lq, Lk, D, Dv } = s.dims;
  const { k: K, maxQuads } = tuning();
  const a = { npre: s.uniforms.npre };
  const needBias = need.ds;
  const common = { ...s.buffers, go: gy.buffer, aux: aux.buffer };
  let gq: Tensor<"f32"> | null = null;
  let ds: Tensor<"f32"> | null = null;
  if (need.q || needBias) {
    gq = output("attention backward", q.shape, "f32");
    if (needBias) {
      ds = output("attention backward", [B, H, Lq, Lk - a.npre], "f32");
      runtime().clear(ds.buffer, ds.size * 4);
    }
    const col = columns(D, maxQuads);
    const rm = ROW_QUADS;
    const nq = Math.ceil(Lq / (4 * rm));
    // Without a bias gradient ds_out is not written; a small stand-in fills its binding.
    const dsOut = ds ?? output("attention backward", [1], "f32");
    launch("attention backward (dq)", K.dq, {
      buffers: { ...common, dq: gq.buffer, ds_out: dsOut.buffer },
      uniforms: {
        ...s.uniforms,
        nq,
        groups: col.groups,
        flags: s.uniforms.flags | (needBias ? FLAG.writeDs : 0),
      },
      workgroups: groups(B * H * nq * col.groups, K.dq.workgroupSize[0]),
      defines: { ...s.defines, RC: col.quads, RM: rm },
    }, gq);
    if (!ds) dsOut.dispose();
    if (!need.q) gq = dispose(gq);
  }
  // dk and dv: one pass of the key-side kernel (column group g holds quads g·RC.. of both).
  let gk: Tensor<"f32"> | null = null;
  let gv: Tensor<"f32"> | null = null;
  if (need.k || need.v) {
    gk = output("attention backward", need.k ? k.shape : [1], "f32");
    gv = output("attention backward", need.v ? v.shape : [1], "f32");
    const col = columns(Math.max(D, Dv), maxQuads);
    const rm = ROW_QUADS;
    const nq = Math.ceil(Lk / (4 * rm));
    launch("attention backward (dk, dv)", K.dkv, {
      buffers: { ...common, dk: gk.buffer, dv: gv.buffer },
      uniforms: {
        ...s.uniforms,
        nq,
        groups: col.groups,
        flags: s.uniforms.flags | (need.k ? FLAG.needDk : 0) |
          (need.v ? FLAG.needDv : 0),
      },
      workgroups: groups(B * H * nq * col.groups, K.dkv.workgroupSize[0]),
      defines: { ...s.defines, RC: col.quads, RM: rm },
    }, need.k ? gk : gv);
    // The stand-in of an output that is not needed (its binding only).
    if (!need.k) gk = dispose(gk);
    if (!need.v) gv = dispose(gv);
  }
  return { q: gq, k: gk, v: gv, ds };
}

/** [B·H, L, d] copy of a [B, H, L, d] or [B, L, H, d] tensor. */
function heads3(t: Tensor<"f32">, layout: AttentionLayout): Tensor<"f32"> {
  const { b, h, l, d } = dimsOf(t, layout);
  const u = layout === "blhd" ? permute(t, [0, 2, 1, 3]) : t;
  const r = reshape(u, [b * h, l, d]); // (a copy: the rank changes)
  if (u !== t) u.dispose();
  return r;
}

/** Back from [B·H, L, d] to the layout's shape (consumes `t`). */
function unheads3(t: Tensor<"f32">, layout: AttentionLayout, b: number, h: number) {
  const [, l, d] = t.shape;
  const r = reshape(t, [b, h, l, d]);
  if (r !== t) t.dispose();
  if (layout === "bhld") return r;
  const p = permute(r, [0, 2, 1, 3]);
  r.dispose();
  return p;
}

/** acc + x (consumes both; acc may be null). */
function accumulate(acc: Tensor<"f32"> | null, x: Tensor<"f32">): Tensor<"f32"> {
  if (!acc) return x;
  const r = add(acc, x);
  acc.dispose();
  x.dispose();
  return r;
}

/**
 * The chunked backward (see {@link attentionBackward}): for blocks of query rows, the score,
 * probability and gradient matrices of the block go through the matmul kernels and two
 * elementwise kernels (attention_bwd_probs, attention_bwd_dscore).
 */
function chunkedGrad(
  q: Tensor<"f32">,
  k: Tensor<"f32">,
  v: Tensor<"f32">,
  gy: Tensor<"f32">,
  aux: Tensor<"u32">,
  s: Setup,
  a: AttentionAttrs,
  need: Need,
): Grads {
  const { B, H, Lq, Lk } = s.dims;
  const BH = B * H;
  const rows = Math.max(1, Math.min(Lq, Math.floor(attentionBackward.chunkFloats / (BH * Lk))));
  const [q3, k3, v3, g3] = [q, k, v, gy].map((t) => heads3(t as Tensor<"f32">, a.layout));
  const ds = need.ds ? output("attention backward", [B, H, Lq, Lk - a.npre], "f32") : null;
  const standIn = output("attention backward", [1], "f32");
  const dqs: Tensor<"f32">[] = [];
  let dk: Tensor<"f32"> | null = null;
  let dv: Tensor<"f32"> | null = null;
  const flags = s.uniforms.flags | (ds ? FLAG.writeDs : 0);
  for (let c0 = 0; c0 < Lq; c0 += rows) {
    const n = Math.min(rows, Lq - c0);
    const uniforms = { ...s.uniforms, flags, c0, rows: n };
    const workgroups = groups(BH * n * Lk, 64);
    const qc = n === Lq ? q3 : slice(q3, [0, c0, 0], [BH, n, -1]);
    const gc = n === Lq ? g3 : slice(g3, [0, c0, 0], [BH, n, -1]);
    // Scores → probabilities in place (p̃ with dropout in its own buffer).
    const p = matmul(qc, k3, { transB: true });
    const pd = a.dropout > 0 ? output("attention backward", p.shape, "f32") : null;
    launch("attention backward (probs)", CHUNK.probs, {
      buffers: { s: p.buffer, aux: aux.buffer, bias: s.buffers.bias, pd: (pd ?? standIn).buffer },
      uniforms,
      workgroups,
    });
    if (need.v) dv = accumulate(dv, matmul(pd ?? p, gc, { transA: true }));
    pd?.dispose();
    if (need.q || need.k || ds) {
      // dO·Vᵀ → scale·dS in place.
      const dsc = matmul(gc, v3, { transB: true });
      launch("attention backward (dscore)", CHUNK.dscore, {
        buffers: { p: p.buffer, dp: dsc.buffer, aux: aux.buffer, ds_out: (ds ?? standIn).buffer },
        uniforms,
        workgroups,
      });
      if (need.q) dqs.push(matmul(dsc, k3));
      if (need.k) dk = accumulate(dk, matmul(dsc, qc, { transA: true }));
      dsc.dispose();
    }
    p.dispose();
    if (qc !== q3) qc.dispose();
    if (gc !== g3) gc.dispose();
  }
  standIn.dispose();
  for (const t of [q3, k3, v3, g3]) t.dispose();
  let gq: Tensor<"f32"> | null = null;
  if (need.q) {
    gq = dqs.length === 1 ? dqs[0] : concat(dqs, 1);
    if (dqs.length > 1) dqs.forEach((t) => t.dispose());
    gq = unheads3(gq, a.layout, B, H);
  }
  return {
    q: gq,
    k: dk && unheads3(dk, a.layout, B, H),
    v: dv && unheads3(dv, a.layout, B, H),
    ds,
  };
}

function dispose(t: Tensor): null {
  t.dispose();
  return null;
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface AttentionOpAttrs {
  /**
   * Fused attention (src/ops/attention.ts). Inputs: q, k, v (keys/values already holding the
   * `npre` prefix tokens), then the bias and the i32 key lengths when given. Saves the
   * per-row log-sum-exp.
   */
  attention: {
    scale: number;
    causal: boolean;
    npre: number;
    dropout: number;
    seed: number;
    layout: "bhld" | "blhd";
  };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const attentionRules: RuleTable<keyof AttentionOpAttrs> = {
  attention: attentionGrad,
};
