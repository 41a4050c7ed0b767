/**
 * Music-PAW on the pretraining task (`src/train/pretrain.ts`): batches of training clips,
 * crops drawn from the batch's seeded generator (so a resumed run draws the same ones), the
 * hierarchical (or the baseline's two-view) InfoNCE, and the linear probe of whole-clip
 * features h^0 on the style labels as the validation metric. Unlabelled clips (a WAV folder
 * without subfolders) are probed by the self-supervised loss on held-out clips instead.
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { Rng } from "../../random.ts";
import { type Tensor, tensor, tidy } from "../../tensor.ts";
import type { LossOutput } from "../../train/loop.ts";
import type { PretrainModel } from "../../train/pretrain.ts";
import type { MusicSet } from "./clips.ts";
import { type MusicPawConfig, resolveMusicPaw } from "./config.ts";
import {
  type Augment,
  type Crops,
  DEFAULT_AUGMENT,
  levelCrops,
  twoViews,
  usableFrames,
  wholeClips,
} from "./crops.ts";
import { MIN_CROP_FRAMES, type MusicLoss, MusicPaw } from "./model.ts";
import { accuracy, fitLinearProbe } from "./probe.ts";

/** Options of {@link MusicPawTask} beyond the model's. */
export interface MusicPawTaskOptions extends MusicPawConfig {
  /** Augmentation of every crop (default {@link DEFAULT_AUGMENT}). */
  augment?: Augment;
  /** Baseline: each view's length as a fraction of the clip (default 0.75). */
  viewFrac?: number;
  /** Clips per embedding pass of the probe (default 32). */
  embedBatch?: number;
}

/** Refuses clips too short for the hierarchy (before any GPU buffer exists); mel width. */
function checkSet(set: MusicSet, opts: MusicPawTaskOptions): number {
  const levels = resolveMusicPaw({ ...opts, nMels: set.mel.nMels }).levels;
  const finest = usableFrames(set.mel.frames, levels) / 2 ** (levels - 1);
  if (finest < MIN_CROP_FRAMES) {
    throw new Error(
      `wgrec musicpaw: ${set.name}: clips of ${set.mel.frames} frames are too short for ` +
        `${levels} levels (level ${levels - 1} parts would have ${finest} frames, expected ` +
        `at least ${MIN_CROP_FRAMES}); use longer clips or fewer levels`,
    );
  }
  if (set.split.train.length < 2) {
    throw new Error(
      `wgrec musicpaw: ${set.name} has ${set.split.train.length} training clips, expected ≥ 2`,
    );
  }
  return set.mel.nMels;
}

const up = (c: Crops): Tensor<"f32"> => tensor(c.data, c.shape);

/** Music-PAW (or its baseline) with its clips: a `PretrainModel`. */
export class MusicPawTask extends MusicPaw implements PretrainModel {
  /** Display name. */
  readonly name: string;
  /** Training clips. */
  readonly numSamples: number;
  /** Probe accuracy (labelled) or held-out loss (unlabelled). */
  readonly probeMetric: { name: string; mode: "max" | "min" };
  readonly #set: MusicSet;
  readonly #aug: Augment;
  readonly #viewFrac: number;
  readonly #embedBatch: number;

  /** The model over `set` (its mel width must equal `nMels`). */
  constructor(set: MusicSet, opts: MusicPawTaskOptions = {}) {
    super({ ...opts, nMels: checkSet(set, opts) });
    this.#set = set;
    this.#aug = opts.augment ?? DEFAULT_AUGMENT;
    this.#viewFrac = opts.viewFrac ?? 0.75;
    this.#embedBatch = opts.embedBatch ?? 32;
    this.name = this.cfg.objective === "paw" ? "Music-PAW" : "Clip InfoNCE";
    this.numSamples = set.split.train.length;
    this.probeMetric = set.labels && set.classes.length >= 2
      ? { name: "probe_acc", mode: "max" }
      : { name: "ssl_loss", mode: "min" };
  }

  /** The loss of clips `clips` (set indices), crops drawn from `rng`. */
  lossOfClips(clips: Int32Array, rng: Rng): MusicLoss {
    const m = this.#set.mel;
    if (this.cfg.objective === "paw") {
      return this.hierarchicalLoss(levelCrops(m, clips, this.cfg.levels, rng, this.#aug).map(up));
    }
    const [a, b] = twoViews(m, clips, this.#viewFrac, rng, this.#aug);
    return this.clipLoss(up(a), up(b));
  }

  /** Loss of a batch of training rows (indices into the training split). */
  loss(rows: Int32Array, rng: Rng): LossOutput {
    return this.lossOfClips(rows.map((r) => this.#set.split.train[r]), rng);
  }

  /** Probe features h^0 [n, D] of clips `clips` (whole, not augmented). */
  async embedClips(clips: Int32Array): Promise<Float32Array> {
    const D = this.cfg.dim, out = new Float32Array(clips.length * D);
    const was = this.training;
    this.eval();
    try {
      for (let lo = 0; lo < clips.length; lo += this.#embedBatch) {
        const part = clips.subarray(lo, lo + this.#embedBatch);
        const h = noGrad(() => tidy(() => this.embed(up(wholeClips(this.#set.mel, part)))));
        out.set(await h.read(), lo * D);
        h.dispose();
      }
    } finally {
      this.train(was);
    }
    return out;
  }

  /** Linear-probe accuracy on `split` (fitted on the training clips), or the held-out loss. */
  async probe(split: "valid" | "test"): Promise<Record<string, number>> {
    const s = this.#set;
    const rows = s.split[split].length > 0 ? s.split[split] : s.split.train;
    if (this.probeMetric.name === "ssl_loss") return { ssl_loss: await this.#heldOutLoss(rows) };
    const y = s.labels!;
    const xs = await this.embedClips(s.split.train);
    const xe = await this.embedClips(rows);
    const probe = fitLinearProbe(
      xs,
      s.split.train.map((i) => y[i]),
      this.cfg.dim,
      s.classes.length,
    );
    return {
      probe_acc: accuracy(probe.predict(xe), rows.map((i) => y[i])),
      probe_train_acc: accuracy(probe.predict(xs), s.split.train.map((i) => y[i])),
    };
  }

  async #heldOutLoss(rows: Int32Array): Promise<number> {
    const rng = new Rng(12345); // the same crops every time
    let sum = 0, batches = 0;
    for (let lo = 0; lo < rows.length; lo += 64) {
      const part = rows.subarray(lo, lo + 64);
      if (part.length < 2) break;
      const l = noGrad(() => tidy(() => this.lossOfClips(part, rng).loss));
      sum += (await l.read())[0];
      l.dispose();
      batches++;
    }
    return sum / Math.max(1, batches);
  }
}
