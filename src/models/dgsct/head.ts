/**
 * DG-SCT's AVE head (../shared/specs/dg-sct.md §3.3, the CMBS head of the official code) with
 * the official parameter names: the temporal module `temporal_attn` and `CMBS`.
 *
 *   a = a_fc(f_a),  v = Dropout(ReLU(v_fc(f_v)))                 [B, T, ·]
 *   a_r = BiLSTM_a(a) [B, T, d],  v_r = BiLSTM_v(v) [B, T, 2d]
 *   kv_v = Enc_v(v_r),  q_a = Dec_a(a_r, kv_v)        Enc: affine + 2 post-LN layers
 *   kv_a = Enc_a(a_r),  q_v = Dec_v(v_r, kv_a)        Dec: affine + 1 layer attending [kv; q]
 *   g_a = σ(w_a·kv_a),  g_v = σ(w_v·kv_v),  gate = g_a g_v
 *   v' = q_v + 0.1 g_a q_v,  a' = q_a + 0.1 g_v q_a
 *   av_score = (top4mean_T(video_cas(v')) + top4mean_T(audio_cas(a'))) / 2
 *   is_event = classifier((v' + a')/2),  event = event_classifier(max_T (v' + a')/2) + 0.3 av_score
 *   L = BCEℓ(is_event, fg) + BCEℓ(gate, fg) + CE(event, cls) + CE(av_score, cls)
 *
 * BCEℓ is `BCEWithLogitsLoss`, applied as the official code does to the gate too, although the
 * gate is already a product of sigmoids. The official module's unused parts are left out:
 * `AVInter`/`VAInter` (computed, never used), `video_norm`/`audio_norm`, and the decoder
 * layers' `self_attn`. The top-4 mean selects by a threshold at the 4th largest value (ties
 * past it would count twice; with real-valued scores they do not occur).
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { add, affine, ge, mul, neg, relu, scale, sigmoid } from "../../ops/core/elementwise.ts";
import { max } from "../../ops/core/minmax.ts";
import { sum } from "../../ops/core/reduce.ts";
import { concat, permute, reshape, slice } from "../../ops/core/shape.ts";
import { logSoftmax } from "../../ops/core/softmax.ts";
import { bceWithLogits } from "../../ops/losses/ranking.ts";
import { topk } from "../../ops/search/topk.ts";
import type { Tensor } from "../../tensor.ts";
import { MultiHeadAttention, TransformerEncoderLayer } from "../../nn/attention.ts";
import { dropout, Seeds } from "../../nn/dropout.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { LSTM } from "../../nn/rnn.ts";
import { ModuleList, Named } from "./backbone.ts";
import type { DgsctConfig } from "./config.ts";

/** Scores of the head. */
export interface HeadOutput {
  /** Per-segment event logits [B, T]. */
  isEvent: Tensor<"f32">;
  /** Video class logits [B, K]. */
  event: Tensor<"f32">;
  /** Audio-visual gate g_a g_v [B, T]. */
  avGate: Tensor<"f32">;
  /** Top-4 class activation score [B, K]. */
  avScore: Tensor<"f32">;
}

/** Mean of the k largest values along T of x [B, T, K] → [B, K] (gradient to those k). */
export function topKMean(x: Tensor<"f32">, k: number): Tensor<"f32"> {
  const [B, T, K] = x.shape;
  const kk = Math.min(k, T);
  const xt = permute(x, [0, 2, 1]); // [B, K, T]
  const mask = noGrad(() => {
    const kth = slice(topk(xt, kk).values, [0, 0, kk - 1], [B, K, 1]);
    return ge(xt, kth);
  });
  return scale(sum(mul(xt, mask), 2), 1 / kk);
}

/** Cross-entropy of logits [B, K] against one-hot rows [B, K], mean over B. */
export function crossEntropy(logits: Tensor<"f32">, onehot: Tensor<"f32">): Tensor<"f32"> {
  return scale(neg(sum(mul(onehot, logSoftmax(logits, -1)))), 1 / logits.shape[0]);
}

/** CMBS's `DecoderLayer`: attention of tgt over [memory; tgt], post-LN, ReLU FFN. */
class DecoderLayer extends Module {
  readonly attn: MultiHeadAttention;
  readonly linear1: Linear;
  readonly linear2: Linear;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  #seeds: Seeds;
  constructor(d: number, heads: number, ffn: number, readonly rate: number, seed: number) {
    super();
    this.attn = this.child(
      "multihead_attn",
      new MultiHeadAttention(d, heads, { dropout: rate, seed }),
    );
    this.linear1 = this.child("linear1", new Linear(d, ffn, { seed: seed + 11 }));
    this.linear2 = this.child("linear2", new Linear(ffn, d, { seed: seed + 13 }));
    this.norm1 = this.child("norm1", new LayerNorm(d));
    this.norm2 = this.child("norm2", new LayerNorm(d));
    this.#seeds = new Seeds(seed + 17);
  }
  #drop(x: Tensor<"f32">): Tensor<"f32"> {
    return this.training && this.rate > 0 ? dropout(x, this.rate, this.#seeds.next()) : x;
  }
  forward(tgt: Tensor<"f32">, memory: Tensor<"f32">): Tensor<"f32"> {
    const mem = concat([memory, tgt], 1);
    const h = this.norm1.forward(add(tgt, this.#drop(this.attn.forward(tgt, mem, mem))));
    const f = this.linear2.forward(this.#drop(this.linear1.forward(h, "relu")));
    return this.norm2.forward(add(h, this.#drop(f)));
  }
}

/** `InternalTemporalRelationModule` (affine + encoder) or `CrossModalRelationAttModule`. */
class Relation extends Module {
  readonly affine: Linear;
  readonly enc: TransformerEncoderLayer[] = [];
  readonly dec: DecoderLayer[] = [];
  constructor(inDim: number, c: DgsctConfig, decoder: boolean, seed: number) {
    super();
    this.affine = this.child("affine_matrix", new Linear(inDim, c.dModel, { seed }));
    if (decoder) {
      this.dec.push(new DecoderLayer(c.dModel, c.temporalHeads, c.ffn, c.dropout, seed + 100));
      this.child("decoder", new Named({ layers: new ModuleList(this.dec) }));
    } else {
      for (let i = 0; i < 2; i++) {
        this.enc.push(
          new TransformerEncoderLayer(c.dModel, c.temporalHeads, {
            dimFeedforward: c.ffn,
            dropout: c.dropout,
            seed: seed + 100 * (i + 1),
          }),
        );
      }
      this.child("encoder", new Named({ layers: new ModuleList(this.enc) }));
    }
  }
  forward(x: Tensor<"f32">, memory?: Tensor<"f32">): Tensor<"f32"> {
    let h = this.affine.forward(x);
    for (const l of this.enc) h = l.forward(h);
    for (const l of this.dec) h = l.forward(h, memory!);
    return h;
  }
}

/** `nn.Sequential(Linear(d, 1), Sigmoid)`. */
class Gated extends Module {
  readonly lin: Linear;
  constructor(d: number, seed: number) {
    super();
    this.lin = this.child("0", new Linear(d, 1, { seed }));
  }
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return sigmoid(this.lin.forward(x));
  }
}

/** `RNNEncoder`: the audio and visual bidirectional LSTMs. */
class RnnEncoder extends Module {
  readonly audioRnn: LSTM;
  readonly visualRnn: LSTM;
  constructor(aIn: number, vIn: number, d: number, seed: number) {
    super();
    this.audioRnn = this.child("audio_rnn", new LSTM(aIn, d / 2, { bidirectional: true, seed }));
    this.visualRnn = this.child(
      "visual_rnn",
      new LSTM(vIn, d, { bidirectional: true, seed: seed + 10 }),
    );
  }
}

/** `TemporalAttention`: per-segment features of both modalities → v', a', gate. */
export class TemporalAttention extends Module {
  #vFc: Linear;
  #aFc: Linear;
  #videoEncoder: Relation;
  #videoDecoder: Relation;
  #audioEncoder: Relation;
  #audioDecoder: Relation;
  #rnn: RnnEncoder;
  #audioGated: Gated;
  #videoGated: Gated;
  #seeds: Seeds;

  /** From the last stages' widths of the visual and audio backbones. */
  constructor(readonly c: DgsctConfig, vIn: number, aIn: number, seed: number) {
    super();
    const d = c.dModel;
    this.#vFc = this.child("v_fc", new Linear(vIn, c.videoFc, { seed }));
    this.#aFc = this.child("a_fc", new Linear(aIn, c.audioFc, { seed: seed + 2 }));
    // The official video encoder/decoder take `video_input_dim` (512) = 2d, the visual
    // BiLSTM's output width; here that width is written as 2d.
    this.#videoEncoder = this.child("video_encoder", new Relation(2 * d, c, false, seed + 1000));
    this.#videoDecoder = this.child("video_decoder", new Relation(2 * d, c, true, seed + 2000));
    this.#audioEncoder = this.child("audio_encoder", new Relation(d, c, false, seed + 3000));
    this.#audioDecoder = this.child("audio_decoder", new Relation(d, c, true, seed + 4000));
    this.#rnn = this.child(
      "audio_visual_rnn_layer",
      new RnnEncoder(c.audioFc, c.videoFc, d, seed + 5000),
    );
    this.#audioGated = this.child("audio_gated", new Gated(d, seed + 6000));
    this.#videoGated = this.child("video_gated", new Gated(d, seed + 6002));
    this.#seeds = new Seeds(seed + 6004);
  }

  /** f_v [B, T, Cv], f_a [B, T, Ca] → v' [B, T, d], a' [B, T, d], gate [B, T, 1]. */
  forward(fv: Tensor<"f32">, fa: Tensor<"f32">): [Tensor<"f32">, Tensor<"f32">, Tensor<"f32">] {
    const a = this.#aFc.forward(fa);
    let v = relu(this.#vFc.forward(fv));
    if (this.training && this.c.fcDropout > 0) v = dropout(v, this.c.fcDropout, this.#seeds.next());
    const ar = this.#rnn.audioRnn.forward(a).output; // [B, T, d]
    const vr = this.#rnn.visualRnn.forward(v).output; // [B, T, 2d]
    const kvV = this.#videoEncoder.forward(vr);
    const qA = this.#audioDecoder.forward(ar, kvV);
    const kvA = this.#audioEncoder.forward(ar);
    const qV = this.#videoDecoder.forward(vr, kvA);
    const ga = this.#audioGated.forward(kvA), gv = this.#videoGated.forward(kvV);
    const gate = mul(ga, gv);
    const vOut = mul(qV, affine(ga, 0.1, 1)); // q + 0.1·g·q
    const aOut = mul(qA, affine(gv, 0.1, 1));
    return [vOut, aOut, gate];
  }
}

/** `SupvLocalizeModule`: per-segment event logit and video class logits. */
class Localize extends Module {
  readonly classifier: Linear;
  readonly eventClassifier: Linear;
  constructor(d: number, K: number, seed: number) {
    super();
    this.classifier = this.child("classifier", new Linear(d, 1, { seed }));
    this.eventClassifier = this.child("event_classifier", new Linear(d, K, { seed: seed + 2 }));
  }
}

/** `CMBS`: class activation, top-4 scores, localisation. */
export class Cmbs extends Module {
  #audioCas: Linear;
  #videoCas: Linear;
  #localize: Localize;
  /** d → K classes. */
  constructor(d: number, readonly K: number, seed: number) {
    super();
    this.#localize = this.child("localize_module", new Localize(d, K, seed));
    this.#audioCas = this.child("audio_cas", new Linear(d, K, { seed: seed + 4 }));
    this.#videoCas = this.child("video_cas", new Linear(d, K, { seed: seed + 6 }));
  }

  /** v', a' [B, T, d] → is_event [B, T], event [B, K], av_score [B, K]. */
  forward(v: Tensor<"f32">, a: Tensor<"f32">): [Tensor<"f32">, Tensor<"f32">, Tensor<"f32">] {
    const [B, T] = v.shape;
    const sv = topKMean(this.#videoCas.forward(v), 4);
    const sa = topKMean(this.#audioCas.forward(a), 4);
    const avScore = scale(add(sv, sa), 0.5);
    const fused = scale(add(v, a), 0.5);
    const isEvent = reshape(this.#localize.classifier.forward(fused), [B, T]);
    const cls = this.#localize.eventClassifier.forward(max(fused, 1));
    return [isEvent, add(cls, scale(avScore, 0.3)), avScore];
  }
}

/** The AVE loss (§3.4): BCEℓ(is_event) + BCEℓ(gate) + CE(event) + CE(av_score), weights 1. */
export function aveLoss(
  h: HeadOutput,
  fg: Tensor<"f32">,
  onehot: Tensor<"f32">,
): { loss: Tensor<"f32">; parts: Record<string, Tensor<"f32">> } {
  const parts = {
    is_event: bceWithLogits(h.isEvent, fg),
    gate: bceWithLogits(h.avGate, fg),
    event: crossEntropy(h.event, onehot),
    cas: crossEntropy(h.avScore, onehot),
  };
  const loss = add(add(parts.is_event, parts.gate), add(parts.event, parts.cas));
  return { loss, parts };
}
