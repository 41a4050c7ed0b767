/**
 * LSTM (PyTorch's `nn.LSTM` semantics: gates i, f, g, o; uni- or bidirectional; stacked;
 * batch-first [B, T, ·]). Per layer and direction the input projection of every step is one
 * fused linear (x W_ihᵀ + b_ih + b_hh); each step then adds h_{t−1} W_hhᵀ (the matmul kernels)
 * and runs one fused cell kernel (`shaders/rnn/lstm_cell.wgsl`) producing [h | c]. Everything
 * is recorded, so the sequence back-propagates through time by the autograd; the cell's own
 * gradient is `lstm_cell_backward.wgsl`.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import * as rnnWgsl from "../../../shaders/rnn/wgsl.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, type Tensor, zeros } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { add } from "../core/elementwise.ts";
import { concat, reshape, slice } from "../core/shape.ts";
import { linear } from "../matmul/matmul.ts";

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
}

/** Gradient rules of the LSTM op kinds. */
export const lstmRules: RuleTable<keyof LstmAttrs> = { lstmCell: lstmCellGrad };
