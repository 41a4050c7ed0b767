/**
 * H-DCID (arXiv 2403.05168 v1; ../shared/specs/dcid-toc.md §1.4, following the official code
 * `TOC_H-DCID`: `AVT_MLVQVAE_Encoder/Decoder`, `Cross_MLVQEmbeddingEMA_AVT`, `pretrain_ml.py`).
 * DCID's level 1, plus a second level built on the modality-specific features:
 *
 *   level 1  z¹_m, ẑ¹_m, ψ_a, ψ_t, (ψ_v, c_v) exactly as DCID (no CMCM: the code sets it to 0)
 *   level 2  z²_a = TRM²_a(ψ_a),  z²_v = TRM²_v(c_v),  z²_t = TRM²_t(ψ_t)          [B, T, D]
 *            ψ²_a = ReLU(W ψ_a),  ψ²_v = ReLU(W c_v),  ψ²_t = ReLU(W ψ_t)     (`*_encoder_2`)
 *            ẑ²_m from a second EMA codebook (same mixing, commitment and reset as level 1)
 *            recon²_m = MSE(Dec²_m(ψ²_m, ẑ²_m), ψ_a | c_v | ψ_t)  (level-1 specific features,
 *                       not detached)                                          (`*_decoder_2`)
 *            MI²_m = CLUB²_m(ẑ²_m; ψ²_m),  cpc² = Cross-CPC² on z²
 *   L = L¹ for epochs 0…2,   L = L¹ + 0.3·L² from epoch 3   (L^ℓ = recon + commit + MI + cpc)
 *
 * The level-2 CLUB nets are stepped from epoch 3 on only; both codebooks' EMA runs at every
 * encoder pass. Downstream the features are [ẑ¹_m, ẑ²_m] (TOC per level, then concatenated).
 *
 * Differences from the code: the two codebooks are two quantizers (`Cross_quantizer`,
 * `Cross_quantizer_2`) where the code stacks them in one `embedding [2, M, D]` buffer; before
 * epoch 3 the level-2 terms (logged, not in the loss, in the code) are not computed.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { backward } from "../../autograd/backward.ts";
import { add, neg, scale, square, sub } from "../../ops/core/elementwise.ts";
import { mean } from "../../ops/core/reduce.ts";
import { reshape } from "../../ops/core/shape.ts";
import { keep, type Tensor, tensor, tidy } from "../../tensor.ts";
import { Module } from "../../nn/module.ts";
import { Adam } from "../../nn/optim.ts";
import { LSTM } from "../../nn/rnn.ts";
import type { MultiModalQuantizer } from "../../nn/vq.ts";
import type { Rng } from "../../random.ts";
import type { DcidConfig } from "./config.ts";
import { LinearDecoder, SpecificEncoder, TemporalModule } from "./layers.ts";
import { Club, CrossCpc } from "./losses.ts";
import {
  type AvtBatch,
  clipGradNorm,
  type CmgModel,
  DcidDecoder,
  DcidEncoder,
  type DcidLosses,
  dcidQuantizer,
  drawStep,
  type EncoderOutput,
  type StepDraws,
} from "./model.ts";

/** Level 2 of the encoder's output (a, v, t order). */
export interface Level2Output {
  /** z²_m [B, T, D]. */
  semantic: Tensor<"f32">[];
  /** Straight-through ẑ²_m [B, T, D]. */
  quantized: Tensor<"f32">[];
  /** ψ²_m (`*_encoder_result_2`): the decoders' and CLUB's input [B, T, d]. */
  specific: Tensor<"f32">[];
  /** What level 2 reconstructs: ψ_a, c_v, ψ_t. */
  target: Tensor<"f32">[];
  /** Commitment losses (scalars). */
  commit: Tensor<"f32">[];
}

const MODS = ["audio", "video", "text"];

/** `AVT_MLVQVAE_Encoder`: DCID's encoder plus the level-2 branches and codebook. */
export class HdcidEncoder extends DcidEncoder {
  /** `Audio_encoder_2`, `Video_encoder_2`, `Text_encoder_2` (`Simple_Encoder`). */
  readonly encoders2: SpecificEncoder[];
  /** `audio_self_att_2`, `video_self_att_2`, `text_self_att_2`. */
  readonly temporal2: TemporalModule[];
  /** The level-2 EMA codebook. */
  readonly quantizer2: MultiModalQuantizer;

  /** From the config; `textIn` is the BiLSTM feature width. */
  constructor(cfg: DcidConfig, textIn: number, seed: number) {
    super(cfg, textIn, seed);
    const c = cfg;
    const enc = (name: string, d: number, s: number) =>
      this.child(name, new SpecificEncoder("input_linear", d, d, seed + s));
    const v2 = enc("Video_encoder_2", c.videoDim, 50);
    const a2 = enc("Audio_encoder_2", c.specificDim, 51);
    const t2 = enc("Text_encoder_2", c.specificDim, 52);
    this.encoders2 = [a2, v2, t2];
    this.quantizer2 = this.child("Cross_quantizer_2", dcidQuantizer(c, seed + 23));
    const trm = (name: string, inDim: number, s: number) =>
      this.child(name, new TemporalModule(inDim, c.hidden, c.heads, c.ffn, c.layers, c.dropout, s));
    const v = trm("video_self_att_2", c.videoDim, seed + 1240);
    const t = trm("text_self_att_2", c.specificDim, seed + 1640);
    const a = trm("audio_self_att_2", c.specificDim, seed + 2040);
    this.temporal2 = [a, v, t];
  }

  /** Both levels (training mode: both codebooks' EMA update and dead-code tick). */
  forwardLevels(
    audio: Tensor<"f32">,
    video: Tensor<"f32">,
    textFeat: Tensor<"f32">,
  ): { l1: EncoderOutput; l2: Level2Output } {
    const l1 = this.forward(audio, video, textFeat, false);
    const target = l1.clubTarget; // ψ_a, c_v, ψ_t
    const semantic = target.map((f, m) => this.temporal2[m].forward(f));
    const specific = target.map((f, m) => this.encoders2[m].forward(f));
    const [B, T, D] = semantic[0].shape;
    const q = this.quantizer2.forward(semantic.map((z) => reshape(z, [B * T, D])));
    return {
      l1,
      l2: {
        semantic,
        quantized: q.quantized.map((x) => reshape(x, [B, T, D])),
        specific,
        target,
        commit: q.losses,
      },
    };
  }

  /** Level-2 semantic features z²_m of one modality from its raw input (downstream use). */
  semantic2Of(m: number, x: Tensor<"f32">): Tensor<"f32"> {
    const f = m === 0
      ? this.audioEncoder.forward(x)
      : m === 1
      ? this.videoEncoder.forward(x).club
      : this.textEncoder.forward(x);
    return this.temporal2[m].forward(f);
  }
}

/** `AVT_MLVQVAE_Decoder`: DCID's decoders plus `*_decoder_2` (`Simple_Decoder`). */
export class HdcidDecoder extends DcidDecoder {
  /** `Audio_decoder_2`, `Video_decoder_2`, `Text_decoder_2`. */
  readonly decoders2: LinearDecoder[];

  /** From the config; `textIn` is the reconstructed text width. */
  constructor(cfg: DcidConfig, textIn: number, seed: number) {
    super(cfg, textIn, seed);
    const c = cfg;
    const dec = (name: string, d: number, s: number) =>
      this.child(name, new LinearDecoder("simple", d, d, c.hidden, seed + s));
    const v = dec("Video_decoder_2", c.videoDim, 30);
    const a = dec("Audio_decoder_2", c.specificDim, 32);
    const t = dec("Text_decoder_2", c.specificDim, 34);
    this.decoders2 = [a, v, t];
  }

  /** Level-2 MSE reconstruction losses [a, v, t] of the level-1 specific features. */
  forward2(l2: Level2Output): Tensor<"f32">[] {
    return this.decoders2.map((d, m) => {
      const r = d.forward(l2.specific[m], l2.quantized[m]);
      return mean(square(sub(r, l2.target[m])));
    });
  }
}

/** Random draws of an H-DCID step: one set per level (each CPC draws its own step). */
export interface HdcidDraws {
  /** Level 1. */
  level1: StepDraws;
  /** Level 2. */
  level2: StepDraws;
}

/**
 * The H-DCID pretraining model: `Text_ar_lstm`, `Encoder`, `CPC`, `CPC_2`, `Decoder` (main
 * optimizer, each clipped separately) and six CLUB nets with their own Adam (not children).
 */
export class Hdcid extends Module implements CmgModel {
  /** `Text_ar_lstm`. */
  readonly textLstm: LSTM;
  /** `Encoder`. */
  readonly encoder: HdcidEncoder;
  /** `CPC` (level 1). */
  readonly cpc: CrossCpc;
  /** `CPC_2` (level 2). */
  readonly cpc2: CrossCpc;
  /** `Decoder`. */
  readonly decoder: HdcidDecoder;
  /** Level-1 CLUB nets a, v, t (`*_mi_net`). */
  readonly mi: Club[];
  /** Level-2 CLUB nets a, v, t (`*_mi_net_2`). */
  readonly mi2: Club[];
  readonly #miOpt: Adam[];
  readonly #miOpt2: Adam[];

  /** H-DCID at the given sizes. */
  constructor(readonly cfg: DcidConfig, seed = 43) {
    super();
    const c = cfg;
    const textIn = 2 * c.textLstmHidden;
    this.textLstm = this.child(
      "Text_ar_lstm",
      new LSTM(c.textDim, c.textLstmHidden, { numLayers: 2, bidirectional: true, seed }),
    );
    this.encoder = this.child("Encoder", new HdcidEncoder(c, textIn, seed + 1000));
    this.cpc = this.child("CPC", new CrossCpc(c.hidden, c.cpcLayers, c.cpcSelfWeight, seed + 3000));
    this.cpc2 = this.child(
      "CPC_2",
      new CrossCpc(c.hidden, c.cpcLayers, c.cpcSelfWeight, seed + 3500),
    );
    this.decoder = this.child("Decoder", new HdcidDecoder(c, textIn, seed + 4000));
    // CLUB targets: level 1 ψ_a, c_v, ψ_t; level 2 ψ²_m of the same widths.
    const ydims = [c.specificDim, c.videoDim, c.specificDim];
    this.mi = ydims.map((y, m) => new Club(c.hidden, y, c.clubHidden, seed + 5000 + 100 * m));
    this.mi2 = ydims.map((y, m) => new Club(c.hidden, y, c.clubHidden, seed + 6000 + 100 * m));
    this.#miOpt = this.mi.map((n) => new Adam(n.parameters(), { lr: c.miLr }));
    this.#miOpt2 = this.mi2.map((n) => new Adam(n.parameters(), { lr: c.miLr }));
  }

  /** Whether level 2 is in the loss (and its CLUB nets train) at `epoch`. */
  level2On(epoch: number): boolean {
    return epoch >= this.cfg.level2From;
  }

  /** The text features: the BiLSTM over the token vectors, [B, T, 2·hidden]. */
  textFeatures(text: Tensor<"f32">): Tensor<"f32"> {
    return this.textLstm.forward(text).output;
  }

  /**
   * The CLUB inner loop (`mi_first_forward` × miIters): each iteration runs the encoder (both
   * codebooks' EMA) and steps the level-1 CLUB nets once (video, text, audio), then, from
   * epoch `level2From`, the level-2 ones. Returns the last −lld per net (level 1, then 2).
   */
  trainMi(x: AvtBatch, textFeat: Tensor<"f32">, epoch: number): Tensor<"f32">[] {
    const on2 = this.level2On(epoch);
    let last: Tensor<"f32">[] = [];
    for (let i = 0; i < this.cfg.miIters; i++) {
      for (const t of last) t.dispose();
      for (const n of [...this.mi, ...this.mi2]) n.zeroGrad();
      last = tidy(() => {
        const { l1, l2 } = noGrad(() => this.encoder.forwardLevels(x.audio, x.video, textFeat));
        const out: Tensor<"f32">[] = [];
        const fit = (nets: Club[], opts: Adam[], q: Tensor<"f32">[], y: Tensor<"f32">[]) => {
          for (const m of [1, 2, 0]) {
            const lld = neg(nets[m].loglikeli(q[m], y[m]));
            backward(lld);
            opts[m].step();
            nets[m].zeroGrad();
            out.push(keep(noGrad(() => lld)));
          }
        };
        fit(this.mi, this.#miOpt, l1.quantized, l1.clubTarget);
        if (on2) fit(this.mi2, this.#miOpt2, l2.quantized, l2.specific);
        return out;
      });
    }
    return last;
  }

  /**
   * Main loss (`mi_second_forward` and the schedule): level-1 terms, and from epoch
   * `level2From` the level-2 terms (suffix `_2`) weighted by `level2Weight`.
   */
  mainLoss(x: AvtBatch, textFeat: Tensor<"f32">, draws: HdcidDraws, epoch: number): DcidLosses {
    const { l1, l2 } = this.encoder.forwardLevels(x.audio, x.video, textFeat);
    const perm = (p: number[]) => tensor(Int32Array.from(p), [p.length], "i32");
    const parts: DcidLosses = {};
    MODS.forEach((m, i) => {
      parts[`mi_${m}`] = this.mi[i].miEst(
        l1.quantized[i],
        l1.clubTarget[i],
        perm(draws.level1.perms[i]),
      );
      parts[`commit_${m}`] = l1.commit[i];
    });
    parts.cpc = this.cpc.forward(l1.semantic, draws.level1.t);
    const recon = this.decoder.forward([x.audio, x.video, textFeat], l1);
    MODS.forEach((m, i) => (parts[`recon_${m}`] = recon[i]));
    let loss = Object.values(parts).reduce((a, b) => add(a, b));
    if (this.level2On(epoch)) {
      const p2: DcidLosses = {};
      MODS.forEach((m, i) => {
        p2[`mi_${m}_2`] = this.mi2[i].miEst(
          l2.quantized[i],
          l2.specific[i],
          perm(draws.level2.perms[i]),
        );
        p2[`commit_${m}_2`] = l2.commit[i];
      });
      p2.cpc_2 = this.cpc2.forward(l2.semantic, draws.level2.t);
      const recon2 = this.decoder.forward2(l2);
      MODS.forEach((m, i) => (p2[`recon_${m}_2`] = recon2[i]));
      loss = add(loss, scale(Object.values(p2).reduce((a, b) => add(a, b)), this.cfg.level2Weight));
      Object.assign(parts, p2);
    }
    parts.loss = loss;
    return parts;
  }

  /** Draws one step's randomness (CPC step and CLUB negatives of each level). */
  draw(rng: Rng, batch: number): HdcidDraws {
    const T = this.cfg.seqLen;
    return { level1: drawStep(rng, batch, T), level2: drawStep(rng, batch, T) };
  }

  /** Main-optimizer parameter groups, clipped separately as the code does. */
  groups(): Tensor<"f32">[][] {
    return [this.cpc, this.cpc2, this.encoder, this.textLstm, this.decoder].map((m) =>
      m.parameters()
    );
  }

  /** {@link CmgModel.stepLoss}. */
  stepLoss(x: AvtBatch, rng: Rng, epoch: number): DcidLosses {
    const tf = this.textFeatures(x.text);
    this.trainMi(x, tf, epoch).forEach((t) => t.dispose());
    return this.mainLoss(x, tf, this.draw(rng, x.audio.shape[0]), epoch);
  }

  /** {@link CmgModel.afterBackward}: clipping per sub-model; CLUB nets' gradients dropped. */
  afterBackward(): void {
    for (const g of this.groups()) clipGradNorm(g, this.cfg.clip);
    for (const n of [...this.mi, ...this.mi2]) n.zeroGrad();
  }

  /** {@link CmgModel.levels}: [ẑ¹_m, ẑ²_m] (or z). */
  levels(x: AvtBatch, m: number, quantized: boolean): Tensor<"f32">[] {
    const e = this.encoder;
    const input = [x.audio, x.video, x.text][m];
    const inp = m === 2 ? this.textFeatures(input) : input;
    const z1 = e.semanticOf(m, inp);
    const z2 = e.semantic2Of(m, inp);
    return quantized ? [e.quantize(z1), e.quantize(z2, e.quantizer2)] : [z1, z2];
  }

  /** {@link CmgModel.quantizers}. */
  quantizers(): MultiModalQuantizer[] {
    return [this.encoder.quantizer, this.encoder.quantizer2];
  }

  /** {@link CmgModel.mainModules}. */
  mainModules(): [string, Module][] {
    return [
      ["Text_ar_lstm", this.textLstm],
      ["Encoder", this.encoder],
      ["CPC", this.cpc],
      ["CPC_2", this.cpc2],
      ["Decoder", this.decoder],
    ];
  }

  /** Frees parameters, buffers and the CLUB nets. */
  override dispose(): void {
    super.dispose();
    for (const n of [...this.mi, ...this.mi2]) n.dispose();
  }
}
