/**
 * Recurrent layers with PyTorch's parameter names (batch-first): a shared toolkit for sequence
 * models (LSTUR's GRU user encoder, LSTM-based models).
 * @module
 */

import { GRU_MAX_HIDDEN, gruSequence } from "../ops/rnn/gru.ts";
import { lstm, type LstmResult, type LstmWeights } from "../ops/rnn/lstm.ts";
import { linear } from "../ops/matmul/matmul.ts";
import { reshape, slice } from "../ops/core/shape.ts";
import { fmt, randUniform, type Tensor, zeros } from "../tensor.ts";
import { Module } from "./module.ts";

/** Result of a recurrent layer over a batch of sequences. */
export interface RnnOutput {
  /** Every step's state, [B, T, H] (carried unchanged past a sequence's length). */
  output: Tensor<"f32">;
  /** Each sequence's last state, [B, H] (PyTorch's `h_n[0]`). */
  hidden: Tensor<"f32">;
}

/**
 * A one-layer, batch-first GRU with PyTorch's parameter names and layout (`weight_ih_l0`
 * [3H, I], `weight_hh_l0` [3H, H], `bias_ih_l0`, `bias_hh_l0`; gates r, z, n) and init
 * U(−1/√H, 1/√H). The input projection of all steps is one matmul; the recurrence is the
 * fused `gruSequence` op (src/ops/rnn/gru.ts).
 */
export class GRU extends Module {
  /** W_ih, [3H, I]. */
  readonly weightIh: Tensor<"f32">;
  /** W_hh, [3H, H]. */
  readonly weightHh: Tensor<"f32">;
  /** b_ih, [3H]. */
  readonly biasIh: Tensor<"f32">;
  /** b_hh, [3H]. */
  readonly biasHh: Tensor<"f32">;

  /** A GRU from `inputSize` features to a `hiddenSize` state. */
  constructor(readonly inputSize: number, readonly hiddenSize: number, seed = 0) {
    super();
    if (!(hiddenSize >= 1 && hiddenSize <= GRU_MAX_HIDDEN)) {
      throw new Error(`wgrec GRU: hidden size ${hiddenSize}, expected 1…${GRU_MAX_HIDDEN}`);
    }
    const a = 1 / Math.sqrt(hiddenSize);
    const H3 = 3 * hiddenSize;
    this.weightIh = this.param("weight_ih_l0", randUniform([H3, inputSize], seed, -a, a));
    this.weightHh = this.param("weight_hh_l0", randUniform([H3, hiddenSize], seed + 1, -a, a));
    this.biasIh = this.param("bias_ih_l0", randUniform([H3], seed + 2, -a, a));
    this.biasHh = this.param("bias_hh_l0", randUniform([H3], seed + 3, -a, a));
  }

  /**
   * x [B, T, I] → states [B, T, H] and last states [B, H]. `h0` [B, H] defaults to zeros;
   * `lengths` (per sequence, 0…T) marks padding after each sequence.
   */
  forward(
    x: Tensor<"f32">,
    h0?: Tensor<"f32">,
    lengths?: Tensor<"i32"> | readonly number[],
  ): RnnOutput {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new Error(`wgrec GRU: input ${fmt(x.shape)}, expected [B, T, ${this.inputSize}]`);
    }
    const [B, T] = x.shape;
    const H = this.hiddenSize;
    if (T === 0) throw new Error(`wgrec GRU: input ${fmt(x.shape)} has no steps`);
    const gi = linear(x, this.weightIh, this.biasIh);
    const output = gruSequence(gi, this.weightHh, this.biasHh, h0 ?? zeros([B, H]), lengths);
    const hidden = reshape(slice(output, [0, T - 1, 0], [B, 1, H]), [B, H]);
    return { output, hidden };
  }
}

/** Options of {@link LSTM}. */
export interface LstmOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Run a reverse direction too and concatenate (default false). */
  bidirectional?: boolean;
  /** With biases (default true). */
  bias?: boolean;
  /** Seed of the initialisation. */
  seed?: number;
}

/**
 * PyTorch's `nn.LSTM(batch_first=True)`: parameters `weight_ih_l{k}[_reverse]` [4H, in],
 * `weight_hh_l{k}[_reverse]` [4H, H], `bias_ih_l{k}[_reverse]`, `bias_hh_l{k}[_reverse]` (gates
 * i, f, g, o), init U(−1/√H, 1/√H), zero initial state. The ops are in `src/ops/rnn/lstm.ts`.
 */
export class LSTM extends Module {
  /** Weights per layer, one entry per direction. */
  readonly weights: LstmWeights[][] = [];

  /** An LSTM from `inputSize` features to `hiddenSize` per direction. */
  constructor(readonly inputSize: number, readonly hiddenSize: number, opts: LstmOptions = {}) {
    super();
    const layers = opts.numLayers ?? 1;
    const dirs = opts.bidirectional ? 2 : 1;
    const H = hiddenSize;
    const a = 1 / Math.sqrt(H);
    let seed = opts.seed ?? 0;
    for (let l = 0; l < layers; l++) {
      const inDim = l === 0 ? inputSize : dirs * H;
      const layer: LstmWeights[] = [];
      for (let d = 0; d < dirs; d++) {
        const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
        const u = (name: string, shape: number[]) =>
          this.param(name + sfx, randUniform(shape, seed++, -a, a));
        layer.push({
          weightIh: u("weight_ih", [4 * H, inDim]),
          weightHh: u("weight_hh", [4 * H, H]),
          biasIh: opts.bias === false ? null : u("bias_ih", [4 * H]),
          biasHh: opts.bias === false ? null : u("bias_hh", [4 * H]),
        });
      }
      this.weights.push(layer);
    }
  }

  /** x [B, T, in] → states [B, T, H·dirs] and the final h and c [layers·dirs, B, H]. */
  forward(x: Tensor<"f32">): LstmResult {
    return lstm(x, this.weights);
  }
}
