/**
 * DG-SCT (Duan et al., "Cross-modal Prompts: Adapting Large Pre-trained Models for
 * Audio-Visual Downstream Tasks", NeurIPS 2023; ../shared/specs/dg-sct.md) on AVE event
 * localisation, following the official `MMIL_Net.forward_swin` with its parameter names.
 * Per video: T segments, each an image and a log-mel "image".
 *
 *   f_v = swin.patch_embed(image),  f_a = htsat.patch_embed(log-mel)          §3.1
 *   for each stage, for each block pair (blk, blk_a), layer k:                 §3.2 step 7
 *     r_a = audio_adapter_blocks_p1[k](f_a ← f_v),  r_v = vis_adapter_blocks_p1[k](f_v ← f_a)
 *     f_v = f_v + norm1(attn(f_v)) + r_v                 (Swin-V2 res-post-norm half)
 *     f_a = blk_a(f_a) + r_a                             (the whole HTS-AT block)
 *     r_a = audio_adapter_blocks_p2[k](f_a ← f_v),  r_v = vis_adapter_blocks_p2[k](f_v ← f_a)
 *     f_v = f_v + norm2(mlp(f_v)) + r_v,   f_a = f_a + r_a
 *   then patch merging of both
 *   f_v = S_v · swin.norm(f_v),  f_a = S_a · f_a     S from the last p2 adapters   §3.3.1
 *   (v', a', gate) = temporal_attn(f_v, f_a);  (is_event, event, av_score) = CMBS(v', a')
 *   L = BCEℓ(is_event, fg) + BCEℓ(gate, fg) + CE(event, cls) + CE(av_score, cls)   §3.4
 *
 * The adapters (`adapter.ts`), backbones (`backbone.ts`) and head (`head.ts`) document their
 * own equations. `adapt`: "dgsct" trains adapters + head over frozen backbones (§3.4
 * "Trainable"); "frozen" trains the head alone; "finetune" trains backbones + head, no
 * adapters. Without adapters there is no spatial map S, so the last stage is mean-pooled (the
 * official code's commented-out alternative). Both backbones here have equal depths, so block
 * pairs are one-to-one (the official code pairs every third Swin block of stage 3 with an
 * HTS-AT block, §3.1). Temporal attention sits after the encoders, as in the AVE code, not
 * inside the adapter as the paper draws it (§3.2, a code-vs-paper difference).
 * @module
 */

import { add } from "../../ops/core/elementwise.ts";
import { mean } from "../../ops/core/reduce.ts";
import { reshape } from "../../ops/core/shape.ts";
import { matmul } from "../../ops/matmul/matmul.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { freeze } from "../../nn/adapt.ts";
import { Module } from "../../nn/module.ts";
import { type AdapterOutput, DgsctAdapter } from "./adapter.ts";
import { Backbone, ModuleList } from "./backbone.ts";
import type { DgsctConfig } from "./config.ts";
import { aveLoss, Cmbs, type HeadOutput, TemporalAttention } from "./head.ts";

/** A batch of videos: B·T segment images and log-mel images, labels per segment. */
export interface AveBatch {
  /** Videos B. */
  videos: number;
  /** Images [B·T, 3, side, side]. */
  images: Tensor<"f32">;
  /** Log-mel "images" [B·T, 1, frames, mels]. */
  mels: Tensor<"f32">;
  /** Foreground per segment [B, T] (1 = event on). */
  fg: Tensor<"f32">;
  /** One-hot event class per video [B, K]. */
  onehot: Tensor<"f32">;
}

/** DG-SCT on AVE (`MMIL_Net`). */
export class Dgsct extends Module {
  /** Visual backbone (Swin-V2-like). */
  readonly swin: Backbone;
  /** Audio backbone (HTS-AT-like). */
  readonly htsat: Backbone;
  /** Adapters per block pair (empty unless adapt = "dgsct"): audio/visual × p1/p2. */
  readonly audioP1: DgsctAdapter[] = [];
  /** See {@link audioP1}. */
  readonly visP1: DgsctAdapter[] = [];
  /** See {@link audioP1}. */
  readonly audioP2: DgsctAdapter[] = [];
  /** See {@link audioP1}. */
  readonly visP2: DgsctAdapter[] = [];
  /** The temporal module. */
  readonly temporal: TemporalAttention;
  /** The CMBS head. */
  readonly cmbs: Cmbs;

  /** Built from the config (`seed` seeds everything); freezes as `adapt` says. */
  constructor(readonly cfg: DgsctConfig) {
    super();
    const c = cfg;
    if (c.melFrames !== c.mels) {
      throw new Error(
        `wgrec Dgsct: the log-mel image must be square (melFrames ${c.melFrames} = mels ${c.mels})`,
      );
    }
    const common = { depths: c.depths, heads: c.heads };
    this.swin = this.child(
      "swin",
      new Backbone({
        ...common,
        inChannels: 3,
        side: c.side,
        patch: c.visualPatch,
        dims: c.visualDims,
        postNorm: true,
        seed: c.seed + 10_000,
      }),
    );
    this.htsat = this.child(
      "htsat",
      new Backbone({
        ...common,
        inChannels: 1,
        side: c.mels,
        patch: c.audioPatch,
        dims: c.audioDims,
        postNorm: false,
        seed: c.seed + 20_000,
      }),
    );
    if (c.adapt === "dgsct") {
      let k = 0;
      this.swin.layers.forEach((sv, i) => {
        const sa = this.htsat.layers[i];
        for (let j = 0; j < sv.blocks.length; j++, k++) {
          const mk = (x: typeof sv, y: typeof sv, s: number) =>
            new DgsctAdapter({
              tokens: x.tokens,
              dim: x.dim,
              guideTokens: y.tokens,
              guideDim: y.dim,
              numTokens: c.numTokens,
              downsample: c.adapterDownsample,
              groups: c.convGroups,
            }, c.seed + 30_000 + 1000 * k + 100 * s);
          this.audioP1.push(mk(sa, sv, 0));
          this.visP1.push(mk(sv, sa, 1));
          this.audioP2.push(mk(sa, sv, 2));
          this.visP2.push(mk(sv, sa, 3));
        }
      });
      this.child("audio_adapter_blocks_p1", new ModuleList(this.audioP1));
      this.child("vis_adapter_blocks_p1", new ModuleList(this.visP1));
      this.child("audio_adapter_blocks_p2", new ModuleList(this.audioP2));
      this.child("vis_adapter_blocks_p2", new ModuleList(this.visP2));
    }
    const last = c.visualDims.length - 1;
    this.temporal = this.child(
      "temporal_attn",
      new TemporalAttention(c, c.visualDims[last], c.audioDims[last], c.seed + 40_000),
    );
    this.cmbs = this.child("CMBS", new Cmbs(c.dModel, c.classes, c.seed + 50_000));
    if (c.adapt !== "finetune") freeze(this, "swin.**", "htsat.**");
  }

  /** Scores of a batch of B videos. */
  forward(b: AveBatch): HeadOutput {
    const c = this.cfg, B = b.videos, T = c.segments;
    if (b.images.shape[0] !== B * T || b.mels.shape[0] !== B * T) {
      throw new Error(
        `wgrec Dgsct: images ${fmt(b.images.shape)} and mels ${fmt(b.mels.shape)} must hold ` +
          `videos × segments = ${B * T} segments`,
      );
    }
    let fv = this.swin.embed(b.images);
    let fa = this.htsat.embed(b.mels);
    const adapters = this.audioP1.length > 0;
    let k = 0;
    let sv: AdapterOutput | null = null, sa: AdapterOutput | null = null;
    this.swin.layers.forEach((stage, i) => {
      const stageA = this.htsat.layers[i];
      stage.blocks.forEach((blk, j) => {
        const blkA = stageA.blocks[j];
        if (!adapters) {
          fv = add(fv, blk.attnPart(fv));
          fv = add(fv, blk.mlpPart(fv));
          fa = blkA.forward(fa);
          return;
        }
        const ra1 = this.audioP1[k].forward(fa, fv), rv1 = this.visP1[k].forward(fv, fa);
        fv = add(add(fv, blk.attnPart(fv)), rv1.out);
        fa = add(blkA.forward(fa), ra1.out);
        sa = this.audioP2[k].forward(fa, fv);
        sv = this.visP2[k].forward(fv, fa);
        fv = add(add(fv, blk.mlpPart(fv)), sv.out);
        fa = add(fa, sa.out);
        k++;
      });
      if (stage.downsample) fv = stage.downsample.forward(fv);
      if (stageA.downsample) fa = stageA.downsample.forward(fa);
    });
    fv = this.swin.norm!.forward(fv);
    const pool = (x: Tensor<"f32">, s: AdapterOutput | null) =>
      s ? matmul(s.spatial, x) : mean(x, 1);
    const pv = reshape(pool(fv, sv), [B, T, fv.shape[2]]);
    const pa = reshape(pool(fa, sa), [B, T, fa.shape[2]]);
    const [v, a, gate] = this.temporal.forward(pv, pa);
    const [isEvent, event, avScore] = this.cmbs.forward(v, a);
    return { isEvent, event, avGate: reshape(gate, [B, T]), avScore };
  }

  /** The AVE loss of a batch and its four terms. */
  loss(b: AveBatch): { loss: Tensor<"f32">; parts: Record<string, Tensor<"f32">> } {
    return aveLoss(this.forward(b), b.fg, b.onehot);
  }
}
