/**
 * DCID and H-DCID as the runner's pretraining task: the seeded audio-visual-text generator as
 * data (pretraining on every clip, labels unused, as the code concatenates all splits), the
 * code's training step (CLUB inner loop, per-sub-model clipping through the loop's
 * `afterBackward`), and the cross-modal generalisation probe as the validation metric: the
 * `Semantic_Decoder` head trained on modality A of the train clips, tested on modality B of
 * the valid (or test) clips, V→A and A→V, optionally after TOC's channel selection.
 * @module
 */

import { Module } from "../../nn/module.ts";
import type { LossOutput } from "../../train/loop.ts";
import type { PretrainModel } from "../../train/pretrain.ts";
import type { Rng } from "../../random.ts";
import type { Tensor } from "../../tensor.ts";
import { DCID_DEFAULTS, type DcidConfig, smallDcid } from "./config.ts";
import type { AvtData } from "./data.ts";
import type { CmgModel } from "./model.ts";
import { batchOf, features, type Modality, tocChannels, transfer } from "./protocol.ts";

/** Model sizes by the runner's `scale` setting. */
export const SCALES = ["full", "small", "tiny"] as const;

/** The config of a scale: the official sizes, {@link smallDcid}, or a smoke-test size. */
export function dcidAtScale(
  scale: (typeof SCALES)[number],
  over: Partial<DcidConfig> = {},
): DcidConfig {
  if (scale === "full") return { ...DCID_DEFAULTS, ...over };
  if (scale === "small") return smallDcid({ numCodes: 64, ...over });
  return smallDcid({
    seqLen: 4,
    audioDim: 8,
    videoDim: 8,
    textDim: 8,
    textLstmHidden: 4,
    hidden: 16,
    specificDim: 16,
    videoHidden: 16,
    numCodes: 16,
    ffn: 32,
    layers: 1,
    clubHidden: 8,
    ...over,
  });
}

/** Probe settings of {@link CmgPretrain}. */
export interface ProbeOptions {
  /** Event classes of the data. */
  classes: number;
  /** Head epochs (the code: 50 for AVE). */
  headEpochs: number;
  /** Head learning rate. */
  headLr: number;
  /** TOC (K, a, b) applied to the frozen codes at evaluation, or null. */
  toc: [number, number, number] | null;
  /** Seed of the head. */
  seed: number;
}

/**
 * A DCID-family model on the generator as a {@link PretrainModel}. Its parameters are the main
 * optimizer's sub-models (official names) plus each codebook's EMA buffers (`embedding`,
 * `ema_weight`, `ema_count`, registered without gradients so the optimizer never moves them),
 * so the best-valid snapshot, model.safetensors and checkpoints carry the codebooks with the
 * encoder that made them. The CLUB nets and their optimizers are not saved (a resumed run
 * restarts them).
 */
export class CmgPretrain extends Module implements PretrainModel {
  /** Samples: every clip. */
  readonly numSamples: number;
  /** Mean of V→A and A→V accuracy (%/100), larger is better. */
  readonly probeMetric = { name: "transfer", mode: "max" as const };
  readonly #split: Int32Array[];

  /** `data`'s clips split 3:1:1 into head-train / valid / test for the probe. */
  constructor(
    readonly name: string,
    readonly model: CmgModel,
    readonly data: AvtData,
    readonly probeOpts: ProbeOptions,
  ) {
    super();
    for (const [n, m] of model.mainModules()) this.child(n, m);
    model.quantizers().forEach((q, l) => {
      const pre = `Encoder.Cross_quantizer${l ? `_${l + 1}` : ""}.`;
      const bufs: [string, Tensor<"f32"> | undefined][] = [
        ["embedding", q.codebook],
        ["ema_weight", q.vq.ema?.weight],
        ["ema_count", q.vq.ema?.count],
      ];
      for (const [n, t] of bufs) {
        if (!t) continue;
        this.param(pre + n, t);
        t.requiresGrad = false;
      }
    });
    const n = data.labels.length;
    this.numSamples = n;
    const a = Math.floor(n * 3 / 5);
    const b = Math.floor(n * 4 / 5);
    if (a < 1 || b === a || n === b) {
      throw new Error(`wgrec ${name}: ${n} clips; the probe needs at least 5 (split 3:1:1)`);
    }
    const range = (lo: number, hi: number) =>
      Int32Array.from({ length: hi - lo }, (_, i) => lo + i);
    this.#split = [range(0, a), range(a, b), range(b, n)];
  }

  /** The code's step on clips `rows` (CLUB inner loop, then the main loss). */
  loss(rows: Int32Array, rng: Rng, epoch: number): LossOutput {
    const { loss, ...parts } = this.model.stepLoss(batchOf(this.data, rows), rng, epoch);
    return { loss, parts };
  }

  /** Per-sub-model clipping (the code's `clip_grad_norm_` per model). */
  afterBackward(): void {
    this.model.afterBackward();
  }

  /** V→A, A→V (and their mean, `transfer`) on the valid or test clips. */
  async probe(split: "valid" | "test"): Promise<Record<string, number>> {
    const o = this.probeOpts;
    const [train, valid, test] = this.#split;
    const rows = split === "valid" ? valid : test;
    const lab = (r: Int32Array) => r.map((i) => this.data.labels[i]);
    const wasTraining = this.model.training;
    this.model.eval();
    try {
      const f = {
        quantized: true,
        channels: o.toc ? await tocChannels(this.model, ...o.toc) : undefined,
      };
      const out: Record<string, number> = {};
      const dirs: [Modality, Modality, string][] = [["video", "audio", "v2a"], [
        "audio",
        "video",
        "a2v",
      ]];
      for (const [a, b, key] of dirs) {
        const xa = features(this.model, this.data, train, a, f);
        const xb = features(this.model, this.data, rows, b, f);
        try {
          const head = { epochs: o.headEpochs, batch: 40, lr: o.headLr, seed: o.seed };
          [out[key]] = await transfer(
            xa,
            lab(train),
            [{ x: xb, labels: lab(rows) }],
            o.classes,
            head,
          );
        } finally {
          xa.dispose();
          xb.dispose();
        }
      }
      out.transfer = (out.v2a + out.a2v) / 2;
      return out;
    } finally {
      this.model.train(wasTraining);
    }
  }

  /** Frees the model (parameters, buffers, CLUB nets). */
  override dispose(): void {
    this.model.dispose();
  }
}
