/**
 * The GRU recurrence as one op (`shaders/rnn/gru_fwd.wgsl`, `gru_bwd.wgsl`): one workgroup per
 * sequence steps through time with its hidden state in workgroup memory, so a whole sequence
 * costs one dispatch per chunk of steps instead of a matmul per step. The input projection
 * gi = x W_ihᵀ + b_ih is an ordinary (batched) matmul outside the op, and the backward leaves
 * the weight gradient dW_hh = Σ_t dghₜᵀ hₜ₋₁ to one matmul over all steps.
 *
 * Gate order and equations are PyTorch's `nn.GRU` (r, z, n):
 * ```
 * r = σ(gi_r + W_hr h + b_hr)   z = σ(gi_z + W_hz h + b_hz)
 * n = tanh(gi_n + r ⊙ (W_hn h + b_hn))   h' = (1 − z) ⊙ n + z ⊙ h
 * ```
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, noGrad, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, tensor, zeros } from "../../tensor.ts";
import { expectDtype, launch, output } from "../common.ts";
import { concat, reshape, slice } from "../core/shape.ts";
import { matmul } from "../matmul/matmul.ts";
import { sum } from "../core/reduce.ts";
import * as rnnWgsl from "../../../shaders/rnn/wgsl.ts";

/** Widest hidden state the kernels hold in workgroup memory (4 units per invocation × 64). */
export const GRU_MAX_HIDDEN = 256;

const WG = 64;

/**
 * Loop iterations one invocation may run per dispatch (software adapters stop an invocation
 * after 65,535): the recurrence is split into chunks of steps that fit. Tests lower it to
 * exercise the chunking on tiny shapes.
 */
export const gruTuning: { loopBudget: number } = { loopBudget: 16384 };

const fwdK = /* @__PURE__ */ kernel({
  name: "gru_fwd",
  source: rnnWgsl.gru_fwd,
  lib: [rnnWgsl.seq, rnnWgsl.gru_common],
  defines: { VEC: "bool" },
  bindings: {
    gi: "f32",
    whh: "f32",
    whh4: "vec4<f32>",
    bhh: "f32",
    h0: "f32",
    lens: "i32",
    out: "f32 rw",
    gates: "f32 rw",
  },
  uniforms: { batch: "u32", steps: "u32", hidden: "u32", t0: "u32", t1: "u32" },
  workgroupSize: [WG],
});

const bwdK = /* @__PURE__ */ kernel({
  name: "gru_bwd",
  source: rnnWgsl.gru_bwd,
  lib: [rnnWgsl.seq, rnnWgsl.gru_common],
  bindings: {
    gy: "f32",
    gates: "f32",
    whh: "f32",
    hprev: "f32",
    lens: "i32",
    dgi: "f32 rw",
    dgh: "f32 rw",
    dh: "f32 rw",
  },
  uniforms: { batch: "u32", steps: "u32", hidden: "u32", t0: "u32", t1: "u32" },
  workgroupSize: [WG],
});

/** Steps per dispatch so that no invocation loops more than the budget. */
function chunkSteps(H: number, perUnit: number): number {
  return Math.max(1, Math.floor(gruTuning.loopBudget / (Math.ceil(H / WG) * (perUnit + 4))));
}

function fail(what: string): never {
  throw new Error(`wgrec gruSequence: ${what}`);
}

/**
 * Runs the GRU recurrence over `gi` [B, T, 3H] (the input projection x W_ihᵀ + b_ih, gates
 * r, z, n) with recurrent weight `whh` [3H, H], bias `bhh` [3H] and initial state `h0` [B, H].
 * Returns every step's state [B, T, H]. With `lengths` (per sequence, 0…T) the state is carried
 * unchanged past a sequence's length, so `out[:, T − 1]` is each sequence's last state
 * (PyTorch's `h_n` of a packed sequence) and a length-0 sequence keeps h0.
 */
export function gruSequence(
  gi: Tensor<"f32">,
  whh: Tensor<"f32">,
  bhh: Tensor<"f32">,
  h0: Tensor<"f32">,
  lengths?: Tensor<"i32"> | readonly number[],
): Tensor<"f32"> {
  expectDtype("gruSequence", gi, "f32", "gi");
  expectDtype("gruSequence", whh, "f32", "whh");
  expectDtype("gruSequence", bhh, "f32", "bhh");
  expectDtype("gruSequence", h0, "f32", "h0");
  if (gi.rank !== 3 || gi.shape[2] % 3 !== 0 || gi.shape[2] === 0) {
    fail(`gi ${fmt(gi.shape)}, expected [B, T, 3H] with H ≥ 1`);
  }
  const [B, T, H3] = gi.shape;
  const H = H3 / 3;
  if (H > GRU_MAX_HIDDEN) fail(`hidden size ${H} is above the kernels' ${GRU_MAX_HIDDEN}`);
  if (whh.rank !== 2 || whh.shape[0] !== H3 || whh.shape[1] !== H) {
    fail(`whh ${fmt(whh.shape)} does not fit gi ${fmt(gi.shape)}, expected [${H3}, ${H}]`);
  }
  if (bhh.rank !== 1 || bhh.shape[0] !== H3) fail(`bhh ${fmt(bhh.shape)}, expected [${H3}]`);
  if (h0.rank !== 2 || h0.shape[0] !== B || h0.shape[1] !== H) {
    fail(`h0 ${fmt(h0.shape)} does not fit gi ${fmt(gi.shape)}, expected [${B}, ${H}]`);
  }
  let lens: Tensor<"i32">;
  if (lengths === undefined || Array.isArray(lengths)) {
    const host = lengths ?? new Array<number>(B).fill(T);
    if (host.length !== B) fail(`${host.length} lengths for ${B} sequences`);
    host.forEach((n, b) => {
      if (!Number.isInteger(n) || n < 0 || n > T) {
        fail(`length ${n} of sequence ${b}, expected an integer in [0, ${T}]`);
      }
    });
    lens = tensor(Int32Array.from(host), [B], "i32");
  } else {
    lens = lengths as Tensor<"i32">;
    expectDtype("gruSequence", lens, "i32", "lengths");
    if (lens.rank !== 1 || lens.shape[0] !== B) {
      fail(`lengths ${fmt(lens.shape)}, expected [${B}]`);
    }
  }
  const out = output("gruSequence", [B, T, H], "f32");
  const gates = output("gruSequence", [B, T, 4 * H], "f32");
  const step = chunkSteps(H, H);
  for (let t0 = 0; t0 < T && B > 0; t0 += step) {
    launch("gruSequence", fwdK, {
      buffers: {
        gi: gi.buffer,
        whh: whh.buffer,
        whh4: whh.buffer,
        bhh: bhh.buffer,
        h0: h0.buffer,
        lens: lens.buffer,
        out: out.buffer,
        gates: gates.buffer,
      },
      uniforms: { batch: B, steps: T, hidden: H, t0, t1: Math.min(T, t0 + step) },
      defines: { VEC: H % 4 === 0 },
      workgroups: [B],
    }, out);
  }
  record(gruRules, out, "gruSequence", [gi, whh, bhh, h0, lens], { hidden: H }, [gates]);
  if (!out.node) {
    gates.dispose();
    if (lens !== lengths) lens.dispose();
  }
  return out;
}

/** Gradients of gi, whh, bhh, h0 (lengths: none). */
export function gruSequenceGrad(
  node: Node<"gruSequence">,
  gy: Tensor<"f32">,
  y: Tensor,
): (Tensor<"f32"> | null)[] {
  const [gi, whh, bhh, h0, lens] = node.inputs as [
    Tensor<"f32">,
    Tensor<"f32">,
    Tensor<"f32">,
    Tensor<"f32">,
    Tensor<"i32">,
  ];
  const [gates] = node.saved as Tensor<"f32">[];
  const [B, T, H3] = gi.shape;
  const H = node.attrs.hidden;
  return noGrad(() => {
    const out = y as Tensor<"f32">;
    // h_{t−1} of every step: h0, then the outputs shifted by one.
    const first = reshape(h0, [B, 1, H]);
    const shifted = T === 1 ? first : slice(out, [0, 0, 0], [B, T - 1, H]);
    const hprev = T === 1 ? first : concat([first, shifted], 1);
    const dgi = output("gruSequence backward", [B, T, H3], "f32");
    const dgh = output("gruSequence backward", [B, T, H3], "f32");
    const dh = zeros([B, H]);
    const step = chunkSteps(H, 3 * H);
    for (let t1 = T; t1 > 0 && B > 0; t1 -= step) {
      launch("gruSequence backward", bwdK, {
        buffers: {
          gy: gy.buffer,
          gates: gates.buffer,
          whh: whh.buffer,
          hprev: hprev.buffer,
          lens: lens.buffer,
          dgi: dgi.buffer,
          dgh: dgh.buffer,
          dh: dh.buffer,
        },
        uniforms: { batch: B, steps: T, hidden: H, t0: Math.max(0, t1 - step), t1 },
        workgroups: [B],
      }, dgi);
    }
    const flat = reshape(dgh, [B * T, H3]);
    const hflat = reshape(hprev, [B * T, H]);
    const gW = whh.requiresGrad ? matmul(flat, hflat, { transA: true }) : null;
    const gB = bhh.requiresGrad ? sum(flat, 0) : null;
    // Temporaries go back to the pool (queued work keeps its buffers valid).
    for (const t of new Set([first, shifted, hprev, hflat, flat, dgh])) t.dispose();
    if (!gi.requiresGrad) dgi.dispose();
    if (!h0.requiresGrad) dh.dispose();
    return [gi.requiresGrad ? dgi : null, gW, gB, h0.requiresGrad ? dh : null, null];
  });
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface GruAttrs {
  /** Inputs gi, whh, bhh, h0, lengths (i32); saves the gates (r, z, n, W_hn h + b_hn). */
  gruSequence: { hidden: number };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const gruRules: RuleTable<keyof GruAttrs> = {
  gruSequence: gruSequenceGrad,
};
