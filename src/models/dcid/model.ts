/**
 * DCID (Uni-Code, NeurIPS 2023; ../shared/specs/dcid-toc.md §1.3, following the official code
 * `CMG/code/src/main_model_2.py` + `pretrain.py`). Per modality m ∈ {a, v, t}:
 *
 *   text  x_t = BiLSTM(tokens)                               (`Text_ar_lstm`, trained jointly)
 *   z_v = TRM_v(VSE(x_v)),  z_a = TRM_a(x_a),  z_t = TRM_t(x_t)     semantic, [B, T, D]
 *   ψ_a = ReLU(W x_a),  ψ_t = ReLU(W x_t),  (ψ_v, c_v) = VideoEncoder(x_v)   specific
 *   ẑ_m = z_m + sg(e[argmin_k ‖sg(z_m) − e_k‖] − z_m)        shared EMA codebook e [M, D]
 *   L_commit,m = 2β‖z_m − sg(ẑ_m)‖² + Σ_{m'≠m} (β/2)‖z_m − sg(ẑ_m')‖²       (MSEs)
 *   L_cmcm = ½ Σ_{(x,y) ∈ {av, at, tv}} InfoNCE over S_xy = P_x log P_yᵀ + P_y log P_xᵀ
 *   L_cpc = Cross-CPC(z_a, z_v, z_t) (six cross pairs, three self pairs ×0.1)
 *   L_MI,m = CLUB_m(ẑ_m; ψ_m) (c_v for video), its net trained 5× per batch on sg inputs
 *   L_recon = MSE(Dec_a(ψ_a, ẑ_a), x_a) + MSE(Dec_v(ψ_v, ẑ_v), x_v) + MSE(Dec_t(ψ_t, ẑ_t), x_t)
 *   L = L_recon + Σ_m L_commit,m + Σ_m L_MI,m + L_cpc + L_cmcm       (all weights 1)
 *
 * One pretraining step as the code runs it: `miIters` (5) encoder passes, each updating the
 * EMA codebook (training mode) and stepping every CLUB net once on its log-likelihood, then a
 * sixth pass for the main loss, gradients clipped to 0.5 per sub-model (`Text_ar_lstm`,
 * `Encoder`, `CPC`, `Decoder`), one Adam step (lr 4e-4); the CLUB nets are not in it.
 *
 * Differences from the code, kept small and named: f32 instead of f64; the dead-code reset is
 * the shared GPU one (`MultiModalQuantizer`, a code unused by every modality for 300 forwards
 * restarts at a random current input, where the code copies a random recently used code plus
 * U(±1/1024) noise); CMCM's global shift is a constant in the backward (it cancels up to the
 * 1e-5 in the denominator); distances are clamped at 0 before CMCM's square root.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { backward } from "../../autograd/backward.ts";
import { add, div, minimum, mul, neg, sqrt, square } from "../../ops/core/elementwise.ts";
import { mean, sum } from "../../ops/core/reduce.ts";
import { reshape } from "../../ops/core/shape.ts";
import { keep, type Tensor, tensor, tidy } from "../../tensor.ts";
import { Module } from "../../nn/module.ts";
import { Adam } from "../../nn/optim.ts";
import { LSTM } from "../../nn/rnn.ts";
import { MultiModalQuantizer } from "../../nn/vq.ts";
import type { Rng } from "../../random.ts";
import type { DcidConfig } from "./config.ts";
import {
  LinearDecoder,
  SpecificEncoder,
  TemporalModule,
  VideoDecoder,
  VideoEncoder,
  VideoSemanticEncoder,
} from "./layers.ts";
import { Club, cmcm, CrossCpc, softCodes } from "./losses.ts";

/** A batch of clips: audio [B, T, A], video [B, T, 7, 7, V], text tokens [B, T, W]. */
export interface AvtBatch {
  /** Audio features. */
  audio: Tensor<"f32">;
  /** Video feature maps, channels last. */
  video: Tensor<"f32">;
  /** Text token vectors (the BiLSTM's input). */
  text: Tensor<"f32">;
}

/** What the encoder gives for a batch (one entry per modality in a, v, t order). */
export interface EncoderOutput {
  /** Semantic features z_m [B, T, D]. */
  semantic: Tensor<"f32">[];
  /** Straight-through quantized ẑ_m [B, T, D]. */
  quantized: Tensor<"f32">[];
  /** Code indices [B·T] (i32). */
  codes: Tensor<"i32">[];
  /** Specific features ψ: audio [B, T, d], video result [B·T, 3, 3, H], text [B, T, d]. */
  specific: Tensor<"f32">[];
  /** CLUB targets: ψ_a, c_v [B, T, V], ψ_t. */
  clubTarget: Tensor<"f32">[];
  /** Commitment losses (scalars). */
  commit: Tensor<"f32">[];
  /** CMCM loss (scalar). */
  cmcm: Tensor<"f32">;
}

/**
 * The code's EMA codebook of three modalities: M codes of width D, 0.5/0.25/0.25 mixing,
 * commitment 2β (own) + β/2 (each other modality), reset after `resetAfter` idle forwards.
 */
export function dcidQuantizer(c: DcidConfig, seed: number): MultiModalQuantizer {
  return new MultiModalQuantizer({
    numCodes: c.numCodes,
    dim: c.hidden,
    beta: c.beta,
    decay: c.decay,
    eps: c.eps,
    selfWeight: 0.5,
    ownCommit: 2,
    crossCommit: 1,
    deadAfter: c.resetAfter,
    initBound: c.initBound,
    seed,
  });
}

/**
 * `AVT_VQVAE_Encoder`: semantic and specific branches of the three modalities and the shared
 * quantizer `Cross_quantizer` (EMA codebook, buffers, not parameters).
 */
export class DcidEncoder extends Module {
  /** Specific video branch `Video_encoder`. */
  readonly videoEncoder: VideoEncoder;
  /** Specific audio branch `Audio_encoder`. */
  readonly audioEncoder: SpecificEncoder;
  /** Specific text branch `Text_encoder`. */
  readonly textEncoder: SpecificEncoder;
  /** The shared EMA codebook `Cross_quantizer`. */
  readonly quantizer: MultiModalQuantizer;
  /** Channel + spatial attention `video_semantic_encoder`. */
  readonly videoSemantic: VideoSemanticEncoder;
  /** Temporal transformers of a, v, t (`*_self_att`). */
  readonly temporal: TemporalModule[];

  /** Built from the config; `textIn` is the width of the text features (BiLSTM output). */
  constructor(readonly cfg: DcidConfig, textIn: number, seed: number) {
    super();
    const c = cfg;
    this.videoEncoder = this.child(
      "Video_encoder",
      new VideoEncoder(c.videoDim, c.videoHidden, seed),
    );
    this.audioEncoder = this.child(
      "Audio_encoder",
      new SpecificEncoder("audio_linear", c.audioDim, c.specificDim, seed + 20),
    );
    this.textEncoder = this.child(
      "Text_encoder",
      new SpecificEncoder("text_linear", textIn, c.specificDim, seed + 21),
    );
    this.quantizer = this.child("Cross_quantizer", dcidQuantizer(c, seed + 22));
    this.videoSemantic = this.child(
      "video_semantic_encoder",
      new VideoSemanticEncoder(c.videoDim, seed + 30),
    );
    const trm = (name: string, inDim: number, s: number) =>
      this.child(name, new TemporalModule(inDim, c.hidden, c.heads, c.ffn, c.layers, c.dropout, s));
    // Official construction order: video, text, audio.
    const v = trm("video_self_att", c.videoDim, seed + 40);
    const t = trm("text_self_att", textIn, seed + 440);
    const a = trm("audio_self_att", c.audioDim, seed + 840);
    this.temporal = [a, v, t];
  }

  /** Semantic features z_a, z_v, z_t [B, T, D] (the inputs of the codebook). */
  semantic(audio: Tensor<"f32">, video: Tensor<"f32">, textFeat: Tensor<"f32">): Tensor<"f32">[] {
    return [
      this.temporal[0].forward(audio),
      this.temporal[1].forward(this.videoSemantic.forward(video)),
      this.temporal[2].forward(textFeat),
    ];
  }

  /** Semantic features z_m of one modality (0 a, 1 v, 2 t; text = BiLSTM features). */
  semanticOf(m: number, x: Tensor<"f32">): Tensor<"f32"> {
    return this.temporal[m].forward(m === 1 ? this.videoSemantic.forward(x) : x);
  }

  /** Quantized features of one modality without touching the codebook (downstream use). */
  quantize(z: Tensor<"f32">, quantizer = this.quantizer): Tensor<"f32"> {
    const [B, T, D] = z.shape;
    const vq = quantizer.vq;
    const q = noGrad(() => vq.lookup(vq.assign(reshape(z, [B * T, D]))));
    return reshape(q, [B, T, D]);
  }

  /**
   * The full forward (training mode: one EMA update and a dead-code tick). `withCmcm` false
   * skips CMCM (H-DCID's code sets it to 0) and reports a zero.
   */
  forward(
    audio: Tensor<"f32">,
    video: Tensor<"f32">,
    textFeat: Tensor<"f32">,
    withCmcm = true,
  ): EncoderOutput {
    const { result, club } = this.videoEncoder.forward(video);
    const semantic = this.semantic(audio, video, textFeat);
    const aEnc = this.audioEncoder.forward(audio);
    const tEnc = this.textEncoder.forward(textFeat);
    const [B, T, D] = semantic[0].shape;
    // CMCM reads the codebook before this forward's EMA update, as the code does.
    const soft = withCmcm ? semantic.map((z) => softCodes(z, this.quantizer.codebook)) : [];
    const loss = withCmcm ? cmcm(soft[0], soft[1], soft[2]) : tensor([0], []);
    const q = this.quantizer.forward(semantic.map((z) => reshape(z, [B * T, D])));
    return {
      semantic,
      quantized: q.quantized.map((x) => reshape(x, [B, T, D])),
      codes: q.codes,
      specific: [aEnc, result, tEnc],
      clubTarget: [aEnc, club, tEnc],
      commit: q.losses,
      cmcm: loss,
    };
  }
}

/** `AVT_VQVAE_Decoder` (reconstruction part): `Audio_decoder`, `Video_decoder`, `Text_decoder`. */
export class DcidDecoder extends Module {
  /** `Audio_decoder`. */
  readonly audio: LinearDecoder;
  /** `Video_decoder`. */
  readonly video: VideoDecoder;
  /** `Text_decoder`. */
  readonly text: LinearDecoder;

  /** From the config; `textIn` is the reconstructed text width. */
  constructor(cfg: DcidConfig, textIn: number, seed: number) {
    super();
    const c = cfg;
    this.video = this.child(
      "Video_decoder",
      new VideoDecoder(c.videoHidden, c.videoDim, c.hidden, seed),
    );
    this.audio = this.child(
      "Audio_decoder",
      new LinearDecoder("audio", c.specificDim, c.audioDim, c.hidden, seed + 10),
    );
    this.text = this.child(
      "Text_decoder",
      new LinearDecoder("text", c.specificDim, textIn, c.hidden, seed + 20),
    );
  }

  /** MSE reconstruction losses [a, v, t]. */
  forward(x: Tensor<"f32">[], enc: EncoderOutput): Tensor<"f32">[] {
    const [a, v, t] = enc.quantized;
    const recon = [
      this.audio.forward(enc.specific[0], a),
      this.video.forward(enc.specific[1], v),
      this.text.forward(enc.specific[2], t),
    ];
    return recon.map((r, m) => mean(square(add(r, neg(x[m])))));
  }
}

/** Random draws of one step: the CPC step t and each CLUB's negative permutation. */
export interface StepDraws {
  /** CPC context step, 1 ≤ t ≤ T − 2. */
  t: number;
  /** Negatives of the CLUB estimate per modality (a, v, t), each a permutation of 0…B−1. */
  perms: number[][];
}

/** Named losses of a step (scalars). */
export type DcidLosses = Record<string, Tensor<"f32">>;

/**
 * What the pretraining loops (protocol.ts, the runner) and the cross-modal protocol need of a
 * model of this family (DCID, H-DCID).
 */
export interface CmgModel extends Module {
  /** Sizes and hyper-parameters. */
  readonly cfg: DcidConfig;
  /**
   * One training batch as the code runs it: the CLUB inner loop (its own optimizers), then
   * the main pass; returns the total (`loss`) and every term, with the graph recorded.
   * `epoch` (from 0) drives H-DCID's schedule.
   */
  stepLoss(x: AvtBatch, rng: Rng, epoch: number): DcidLosses;
  /** After the main backward: per-sub-model clipping, CLUB nets' gradients dropped. */
  afterBackward(): void;
  /** Frozen features of modality m (0 a, 1 v, 2 t) per level, quantized or continuous. */
  levels(x: AvtBatch, m: number, quantized: boolean): Tensor<"f32">[];
  /** The EMA quantizers, one per level. */
  quantizers(): MultiModalQuantizer[];
  /** The main optimizer's sub-models under their official names. */
  mainModules(): [string, Module][];
}

/** Draws a step's randomness from `rng`. */
export function drawStep(rng: Rng, batch: number, seqLen: number): StepDraws {
  const perm = (): number[] =>
    Array.from(rng.shuffle(Int32Array.from({ length: batch }, (_, i) => i)) as Int32Array);
  return { t: 1 + Math.floor(rng.uniform() * (seqLen - 2)), perms: [perm(), perm(), perm()] };
}

/** Scales gradients of `params` by min(1, c / (‖g‖ + 1e-6)) (`clip_grad_norm_`). */
export function clipGradNorm(params: Tensor<"f32">[], c: number): void {
  const gs = params.filter((p) => p.grad);
  if (!gs.length || !(c > 0)) return;
  const factor = noGrad(() =>
    tidy(() => {
      let sq: Tensor<"f32"> | null = null;
      for (const p of gs) sq = sq ? add(sq, sum(square(p.grad!))) : sum(square(p.grad!));
      const norm = add(sqrt(sq!), tensor([1e-6], []));
      return keep(minimum(div(tensor([c], []), norm), tensor([1], [])));
    })
  );
  noGrad(() => {
    for (const p of gs) {
      const g = keep(mul(p.grad!, factor));
      p.grad!.dispose();
      p.grad = g;
    }
  });
  factor.dispose();
}

/**
 * The DCID pretraining model: `Text_ar_lstm`, `Encoder`, `CPC`, `Decoder` (the main optimizer's
 * parameters) and the three CLUB nets with their own Adam (`mi`, not children: the main step
 * never moves them).
 */
export class Dcid extends Module implements CmgModel {
  /** The text BiLSTM `Text_ar_lstm` (trained jointly). */
  readonly textLstm: LSTM;
  /** `Encoder`. */
  readonly encoder: DcidEncoder;
  /** `CPC` (Cross-CPC). */
  readonly cpc: CrossCpc;
  /** `Decoder`. */
  readonly decoder: DcidDecoder;
  /** CLUB nets for a, v, t (`Audio_mi_net`, `Video_mi_net`, `Text_mi_net`). */
  readonly mi: Club[];
  readonly #miOpt: Adam[];

  /** DCID at the given sizes. */
  constructor(readonly cfg: DcidConfig, seed = 43) {
    super();
    const c = cfg;
    const textIn = 2 * c.textLstmHidden;
    this.textLstm = this.child(
      "Text_ar_lstm",
      new LSTM(c.textDim, c.textLstmHidden, { numLayers: 2, bidirectional: true, seed }),
    );
    this.encoder = this.child("Encoder", new DcidEncoder(c, textIn, seed + 1000));
    this.cpc = this.child("CPC", new CrossCpc(c.hidden, c.cpcLayers, c.cpcSelfWeight, seed + 3000));
    this.decoder = this.child("Decoder", new DcidDecoder(c, textIn, seed + 4000));
    const ydims = [c.specificDim, c.videoDim, c.specificDim];
    this.mi = ydims.map((y, m) => new Club(c.hidden, y, c.clubHidden, seed + 5000 + 100 * m));
    this.#miOpt = this.mi.map((n) => new Adam(n.parameters(), { lr: c.miLr }));
  }

  /** The text features: the BiLSTM over the token vectors, [B, T, 2·hidden]. */
  textFeatures(text: Tensor<"f32">): Tensor<"f32"> {
    return this.textLstm.forward(text).output;
  }

  /**
   * The CLUB inner loop of one batch (`mi_first_forward` × miIters): each iteration runs the
   * encoder (updating the EMA codebook) and steps every CLUB net once on −log-likelihood of its
   * detached inputs (video, text, audio order). Returns the last iteration's −lld per modality.
   */
  trainMi(x: AvtBatch, textFeat: Tensor<"f32">): Tensor<"f32">[] {
    let last: Tensor<"f32">[] = [];
    for (let i = 0; i < this.cfg.miIters; i++) {
      for (const t of last) t.dispose();
      // As the code's zero_grad at the start of mi_first_forward: the CLUB nets may hold
      // gradients of an earlier main loss.
      for (const n of this.mi) n.zeroGrad();
      last = tidy(() => {
        const enc = noGrad(() => this.encoder.forward(x.audio, x.video, textFeat));
        const out: Tensor<"f32">[] = [];
        for (const m of [1, 2, 0]) {
          const lld = neg(this.mi[m].loglikeli(enc.quantized[m], enc.clubTarget[m]));
          backward(lld);
          this.#miOpt[m].step();
          this.mi[m].zeroGrad();
          out[m] = keep(noGrad(() => lld));
        }
        return out;
      });
    }
    return last;
  }

  /**
   * Main loss of a batch (`mi_second_forward`): one encoder pass (EMA update), the CLUB
   * estimates, Cross-CPC, reconstruction; records the graph. Returns the total and each term.
   */
  mainLoss(x: AvtBatch, textFeat: Tensor<"f32">, draws: StepDraws): DcidLosses {
    const enc = this.encoder.forward(x.audio, x.video, textFeat);
    const mods = ["audio", "video", "text"];
    const parts: DcidLosses = {};
    mods.forEach((m, i) => {
      const perm = tensor(Int32Array.from(draws.perms[i]), [draws.perms[i].length], "i32");
      parts[`mi_${m}`] = this.mi[i].miEst(enc.quantized[i], enc.clubTarget[i], perm);
      parts[`commit_${m}`] = enc.commit[i];
    });
    parts.cpc = this.cpc.forward(enc.semantic, draws.t);
    const recon = this.decoder.forward([x.audio, x.video, textFeat], enc);
    mods.forEach((m, i) => (parts[`recon_${m}`] = recon[i]));
    parts.cmcm = enc.cmcm;
    parts.loss = Object.values(parts).reduce((a, b) => add(a, b));
    return parts;
  }

  /** Main-optimizer parameter groups, clipped separately as the code does. */
  groups(): Tensor<"f32">[][] {
    return [this.cpc, this.encoder, this.textLstm, this.decoder].map((m) => m.parameters());
  }

  /** Gradient clipping per sub-model, then drops the CLUB nets' main-loss gradients. */
  clipAndDropMi(): void {
    for (const g of this.groups()) clipGradNorm(g, this.cfg.clip);
    for (const n of this.mi) n.zeroGrad();
  }

  /** {@link CmgModel.stepLoss}: text features, CLUB inner loop, main pass. */
  stepLoss(x: AvtBatch, rng: Rng, _epoch: number): DcidLosses {
    const tf = this.textFeatures(x.text);
    this.trainMi(x, tf).forEach((t) => t.dispose());
    return this.mainLoss(x, tf, drawStep(rng, x.audio.shape[0], x.audio.shape[1]));
  }

  /** {@link CmgModel.afterBackward}. */
  afterBackward(): void {
    this.clipAndDropMi();
  }

  /** {@link CmgModel.levels}: the one level's ẑ_m (or z_m). */
  levels(x: AvtBatch, m: number, quantized: boolean): Tensor<"f32">[] {
    const input = [x.audio, x.video, x.text][m];
    const z = this.encoder.semanticOf(m, m === 2 ? this.textFeatures(input) : input);
    return [quantized ? this.encoder.quantize(z) : z];
  }

  /** {@link CmgModel.quantizers}. */
  quantizers(): MultiModalQuantizer[] {
    return [this.encoder.quantizer];
  }

  /** {@link CmgModel.mainModules}. */
  mainModules(): [string, Module][] {
    return [
      ["Text_ar_lstm", this.textLstm],
      ["Encoder", this.encoder],
      ["CPC", this.cpc],
      ["Decoder", this.decoder],
    ];
  }

  /** Frees parameters, buffers and the CLUB nets. */
  override dispose(): void {
    super.dispose();
    for (const n of this.mi) n.dispose();
  }
}
