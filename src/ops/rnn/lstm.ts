/**
 * LSTM (PyTorch's `nn.LSTM` semantics: gates i, f, g, o; uni- or bidirectional; stacked;
 * batch-first [B, T, ·]). Per layer and direction the input projection of every step is one
 * fused linear (x W_ihᵀ + b_ih + b_hh); the recurrence is then one op, {@link lstmSequence}
 * (`shaders/rnn/lstm_fwd.wgsl`, `lstm_bwd.wgsl`): one workgroup per sequence steps through
 * time with h in workgroup memory, so a sequence costs one dispatch per chunk of steps, not a
 * matmul, an add and a cell kernel per step. (Per-step dispatches were the cost: on lavapipe
 * each small matmul dispatch spent ~100 ms of CPU in the driver, so the per-step form ran
 * B = 16, T = 32 at 0.18× tfjs-webgpu; bench/results/conv_rnn.md.) Hidden sizes above
 * {@link LSTM_MAX_HIDDEN} keep the per-step form: h_{t−1} W_hhᵀ by the matmul kernels and one
 * fused cell kernel (`lstm_cell.wgsl`, gradient `lstm_cell_backward.wgsl`) per step.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import * as rnnWgsl from "../../../shaders/rnn/wgsl.ts";
import { type Node, noGrad, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, zeros } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { add } from "../core/elementwise.ts";
import { concat, reshape, slice } from "../core/shape.ts";
import { linear, matmul } from "../matmul/matmul.ts";

/** Widest hidden state the sequence kernels hold in workgroup memory (4 units × 64 lanes). */
export const LSTM_MAX_HIDDEN = 256;

const WG = 64;

/**
 * Loop iterations one invocation may run per dispatch (software adapters stop an invocation
 * after 65,535): the recurrence is split into chunks of steps that fit. Tests lower it to
 * exercise the chunking on tiny shapes; `fused: false` forces the per-step form.
 */
export const lstmTuning: { loopBudget: number; fused: boolean } = {
  loopBudget: 16384,
  fused: true,
};

const seqUniforms = {
  batch: "u32",
  steps: "u32",
  hidden: "u32",
  t0: "u32",
  t1: "u32",
  rev: "u32",
} as const;

const fwdK = /* @__PURE__ */ kernel({
  name: "lstm_fwd",
  source: rnnWgsl.lstm_fwd,
  lib: [rnnWgsl.lstm_common, rnnWgsl.seq, rnnWgsl.lstm_seq_common],
  defines: { VEC: "bool" },
  bindings: { gi: "f32", whh: "f32", whh4: "vec4<f32>", out: "f32 rw", gates: "f32 rw" },
  uniforms: seqUniforms,
  workgroupSize: [WG],
});

const bwdK = /* @__PURE__ */ kernel({
  name: "lstm_bwd",
  source: rnnWgsl.lstm_bwd,
  lib: [rnnWgsl.lstm_common, rnnWgsl.seq, rnnWgsl.lstm_seq_common],
  bindings: {
    gy: "f32",
    gates: "f32",
    out: "f32",
    whh: "f32",
    dgi: "f32 rw",
    carry: "f32 rw",
  },
  uniforms: seqUniforms,
  workgroupSize: [WG],
});

const cellK = /* @__PURE__ */ kernel({
  name: "lstm_cell",
  source: rnnWgsl.lstm_cell,
  lib: [rnnWgsl.lstm_common],
  bindings: { gates: "f32", c_prev: "f32", out: "f32 rw" },
  uniforms: { batch: "u32", hidden: "u32" },
  workgroupSize: [256],
});

const cellBwdK = /* @__PURE__ */ kernel({
  name: "lstm_cell_backward",
  source: rnnWgsl.lstm_cell_backward,
  lib: [rnnWgsl.lstm_common],
  bindings: { gates: "f32", c_prev: "f32", gout: "f32", ggates: "f32 rw", gc_prev: "f32 rw" },
  uniforms: { batch: "u32", hidden: "u32" },
  workgroupSize: [256],
});

/**
 * One LSTM step from gate pre-activations `gates` [B, 4H] (order i, f, g, o) and the previous
 * cell `cPrev` [B, H]: returns [B, 2H] = [h | c]. Differentiable in both inputs.
 */
export function lstmCell(gates: Tensor<"f32">, cPrev: Tensor<"f32">): Tensor<"f32"> {
  expectDtype("lstmCell", gates, "f32", "gates");
  expectDtype("lstmCell", cPrev, "f32", "cPrev");
  const [b, h] = cPrev.rank === 2 ? cPrev.shape : [-1, -1];
  if (gates.rank !== 2 || b < 0 || gates.shape[0] !== b || gates.shape[1] !== 4 * h) {
    throw new Error(
      `wgrec lstmCell: gates ${fmt(gates.shape)} and cPrev ${fmt(cPrev.shape)} do not fit, ` +
        `expected gates [B, 4H] and cPrev [B, H]`,
    );
  }
  const out = output("lstmCell", [b, 2 * h], "f32");
  launch("lstmCell", cellK, {
    buffers: { gates: gates.buffer, c_prev: cPrev.buffer, out: out.buffer },
    uniforms: { batch: b, hidden: h },
    workgroups: groups(b * h),
  }, out);
  return record(lstmRules, out, "lstmCell", [gates, cPrev], {});
}

/** Gradient of {@link lstmCell}: one kernel gives the gate and previous-cell gradients. */
export function lstmCellGrad(node: Node<"lstmCell">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const [gates, cPrev] = node.inputs;
  const [b, h] = cPrev.shape;
  const gg = output("lstmCell backward", gates.shape, "f32");
  const gc = output("lstmCell backward", cPrev.shape, "f32");
  launch("lstmCell backward", cellBwdK, {
    buffers: {
      gates: gates.buffer,
      c_prev: cPrev.buffer,
      gout: gy.buffer,
      ggates: gg.buffer,
      gc_prev: gc.buffer,
    },
    uniforms: { batch: b, hidden: h },
    workgroups: groups(b * h),
  }, gg);
  return [gg, gc];
}

/** Steps per dispatch so that no invocation loops more than the budget. */
function chunkSteps(H: number, perUnit: number): number {
  return Math.max(1, Math.floor(lstmTuning.loopBudget / (Math.ceil(H / WG) * (perUnit + 4))));
}

/**
 * The LSTM recurrence as one op over `gi` [B, T, 4H] (every step's x W_ihᵀ + b_ih + b_hh, gates
 * i, f, g, o) with recurrent weight `whh` [4H, H], from zero state; `reverse` walks t = T − 1
 * down to 0 (the backward direction of a bidirectional LSTM). Returns every step's
 * [h | c] as [B, T, 2H]. Differentiable in gi and whh. H ≤ {@link LSTM_MAX_HIDDEN}.
 */
export function lstmSequence(
  gi: Tensor<"f32">,
  whh: Tensor<"f32">,
  reverse = false,
): Tensor<"f32"> {
  expectDtype("lstmSequence", gi, "f32", "gi");
  expectDtype("lstmSequence", whh, "f32", "whh");
  const H = whh.rank === 2 ? whh.shape[1] : -1;
  if (
    gi.rank !== 3 || whh.rank !== 2 || H < 1 || whh.shape[0] !== 4 * H ||
    gi.shape[2] !== 4 * H
  ) {
    throw new Error(
      `wgrec lstmSequence: gi ${fmt(gi.shape)} and whh ${fmt(whh.shape)} do not fit, ` +
        `expected gi [B, T, 4H] and whh [4H, H] with H ≥ 1`,
    );
  }
  if (H > LSTM_MAX_HIDDEN) {
    throw new Error(
      `wgrec lstmSequence: hidden size ${H} is above the kernels' ${LSTM_MAX_HIDDEN}`,
    );
  }
  const [B, T] = gi.shape;
  const out = output("lstmSequence", [B, T, 2 * H], "f32");
  const gates = output("lstmSequence", [B, T, 4 * H], "f32");
  const step = chunkSteps(H, H);
  for (let t0 = 0; t0 < T && B > 0; t0 += step) {
    launch("lstmSequence", fwdK, {
      buffers: {
        gi: gi.buffer,
        whh: whh.buffer,
        whh4: whh.buffer,
        out: out.buffer,
        gates: gates.buffer,
      },
      uniforms: { batch: B, steps: T, hidden: H, t0, t1: Math.min(T, t0 + step), rev: +reverse },
      defines: { VEC: H % 4 === 0 },
      workgroups: [B],
    }, out);
  }
  record(lstmRules, out, "lstmSequence", [gi, whh], { reverse }, [gates]);
  if (!out.node) gates.dispose();
  return out;
}

/** Gradients of {@link lstmSequence}: dgi from the kernel, dW_hh = Σ_t dgiₜᵀ h_prev(t). */
export function lstmSequenceGrad(
  node: Node<"lstmSequence">,
  gy: Tensor<"f32">,
  y: Tensor,
): (Tensor<"f32"> | null)[] {
  const [gi, whh] = node.inputs as Tensor<"f32">[];
  const [gates] = node.saved as Tensor<"f32">[];
  const [B, T, H4] = gi.shape;
  const H = H4 / 4;
  const rev = node.attrs.reverse;
  return noGrad(() => {
    const out = y as Tensor<"f32">;
    const dgi = output("lstmSequence backward", [B, T, H4], "f32");
    const carry = zeros([B, 2 * H]);
    const step = chunkSteps(H, 4 * H);
    for (let t1 = T; t1 > 0 && B > 0; t1 -= step) {
      launch("lstmSequence backward", bwdK, {
        buffers: {
          gy: gy.buffer,
          gates: gates.buffer,
          out: out.buffer,
          whh: whh.buffer,
          dgi: dgi.buffer,
          carry: carry.buffer,
        },
        uniforms: {
          batch: B,
          steps: T,
          hidden: H,
          t0: Math.max(0, t1 - step),
          t1,
          rev: +rev,
        },
        workgroups: [B],
      }, dgi);
    }
    carry.dispose();
    let gW: Tensor<"f32"> | null = null;
    if (whh.requiresGrad) {
      // h_prev of every step: zero at the first processed step, else the neighbouring h.
      const temps: Tensor<"f32">[] = [];
      const temp = <T extends Tensor<"f32">>(t: T) => (temps.push(t), t);
      const z = temp(zeros([B, 1, H]));
      let hprev = z;
      if (T > 1) {
        const hs = temp(slice(out, rev ? [0, 1, 0] : [0, 0, 0], [B, T - 1, H]));
        hprev = temp(concat(rev ? [hs, z] : [z, hs], 1));
      }
      const flat = temp(reshape(dgi, [B * T, H4]));
      const hflat = temp(reshape(hprev, [B * T, H]));
      gW = matmul(flat, hflat, { transA: true });
      for (const t of new Set(temps)) t.dispose();
    }
    if (!gi.requiresGrad) dgi.dispose();
    return [gi.requiresGrad ? dgi : null, gW];
  });
}

/** The weights of one layer and direction, PyTorch's names and shapes. */
export interface LstmWeights {
  /** [4H, in]. */
  weightIh: Tensor<"f32">;
  /** [4H, H]. */
  weightHh: Tensor<"f32">;
  /** [4H] or null. */
  biasIh: Tensor<"f32"> | null;
  /** [4H] or null. */
  biasHh: Tensor<"f32"> | null;
}

/** Result of {@link lstm}. */
export interface LstmResult {
  /** Last layer's hidden states, [B, T, H·directions] (directions concatenated, forward first). */
  output: Tensor<"f32">;
  /** Final hidden state of every layer and direction, [layers·directions, B, H]. */
  h: Tensor<"f32">;
  /** Final cell state, as `h`. */
  c: Tensor<"f32">;
}

/** One direction of one layer over x [B, T, in]: the hidden states [B, T, H] and final (h, c). */
function direction(x: Tensor<"f32">, w: LstmWeights, reverse: boolean) {
  const [B, T] = x.shape;
  const H = w.weightHh.shape[1];
  const bias = w.biasIh && w.biasHh ? add(w.biasIh, w.biasHh) : (w.biasIh ?? w.biasHh);
  const pre = linear(x, w.weightIh, bias); // [B, T, 4H]: every step's input projection at once
  if (lstmTuning.fused && H <= LSTM_MAX_HIDDEN) {
    const y = lstmSequence(pre, w.weightHh, reverse); // [B, T, 2H] = [h | c] per step
    const last = reverse ? 0 : T - 1;
    return {
      out: slice(y, [0, 0, 0], [B, T, H]),
      h: reshape(slice(y, [0, last, 0], [B, 1, H]), [B, H]),
      c: reshape(slice(y, [0, last, H], [B, 1, H]), [B, H]),
    };
  }
  let h: Tensor<"f32"> | null = null;
  let c: Tensor<"f32"> = zeros([B, H]);
  const hs: Tensor<"f32">[] = new Array(T);
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s;
    const pt = reshape(slice(pre, [0, t, 0], [B, 1, 4 * H]), [B, 4 * H]);
    const gates = h ? add(pt, linear(h, w.weightHh)) : pt; // h_0 = 0 adds nothing
    const hc = lstmCell(gates, c);
    h = slice(hc, [0, 0], [B, H]);
    c = slice(hc, [0, H], [B, H]);
    hs[t] = reshape(h, [B, 1, H]);
  }
  return { out: concat(hs, 1), h: h!, c };
}

/**
 * Runs a stacked, optionally bidirectional LSTM over `x` [B, T, in] (batch first, zero initial
 * state). `layers[l]` holds the weights of layer l: one entry per direction (forward, then
 * reverse). Differentiable in x and every weight.
 */
export function lstm(x: Tensor<"f32">, layers: readonly (readonly LstmWeights[])[]): LstmResult {
  expectDtype("lstm", x, "f32", "input");
  if (x.rank !== 3 || x.shape[1] < 1) {
    throw new Error(`wgrec lstm: input ${fmt(x.shape)}, expected [B, T ≥ 1, in] (batch first)`);
  }
  const dirs = layers[0]?.length ?? 0;
  if (dirs < 1 || dirs > 2 || layers.some((l) => l.length !== dirs)) {
    throw new Error(`wgrec lstm: give 1 or 2 directions per layer, the same for every layer`);
  }
  let inp = x;
  const hN: Tensor<"f32">[] = [];
  const cN: Tensor<"f32">[] = [];
  layers.forEach((ws, l) => {
    const H = ws[0].weightHh.shape[1];
    for (const w of ws) {
      const ok = w.weightIh.rank === 2 && w.weightIh.shape[0] === 4 * H &&
        w.weightIh.shape[1] === inp.shape[2] && w.weightHh.rank === 2 &&
        w.weightHh.shape[0] === 4 * H && w.weightHh.shape[1] === H &&
        [w.biasIh, w.biasHh].every((b) => !b || (b.rank === 1 && b.shape[0] === 4 * H));
      if (!ok) {
        throw new Error(
          `wgrec lstm: layer ${l} weights ih ${fmt(w.weightIh.shape)}, hh ` +
            `${fmt(w.weightHh.shape)} for input ${fmt(inp.shape)}, expected ih ` +
            `[4H, ${inp.shape[2]}], hh [4H, H], biases [4H]`,
        );
      }
    }
    const runs = ws.map((w, d) => direction(inp, w, d === 1));
    inp = runs.length === 1 ? runs[0].out : concat(runs.map((r) => r.out), 2);
    for (const r of runs) {
      hN.push(reshape(r.h, [1, ...r.h.shape]));
      cN.push(reshape(r.c, [1, ...r.c.shape]));
    }
  });
  return { output: inp, h: concat(hN, 0), c: concat(cN, 0) };
}

/** Attributes of the LSTM op kinds (merged into `OpAttrs`). */
export interface LstmAttrs {
  /** One fused LSTM step: inputs gates [B, 4H] and c_prev [B, H], output [B, 2H] = [h | c]. */
  lstmCell: Record<never, never>;
  /** The whole recurrence: inputs gi [B, T, 4H] and whh [4H, H], output [B, T, 2H]; saves the gates. */
  lstmSequence: { reverse: boolean };
}

/** Gradient rules of the LSTM op kinds. */
export const lstmRules: RuleTable<keyof LstmAttrs> = {
  lstmCell: lstmCellGrad,
  lstmSequence: lstmSequenceGrad,
};
