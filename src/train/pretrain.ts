/**
 * The self-supervised pretraining task on the generic loop: the model's own loss (contrastive
 * or reconstruction) over shuffled batches of its samples (items, sequences…), with a
 * downstream probe as the validation metric (e.g. zero-shot Recall@20 of the learnt item
 * features), so early stopping and the best-epoch choice follow what the features are for.
 * @module
 */

import type { Module } from "../nn/module.ts";
import { Rng } from "../random.ts";
import type { LossOutput, Task } from "./loop.ts";

/** A model pretrained on its own samples. */
export interface PretrainModel extends Module {
  /** Display name. */
  readonly name: string;
  /** Number of training samples (rows the batches index). */
  readonly numSamples: number;
  /** The probe's metric and whether larger is better. */
  readonly probeMetric: { name: string; mode: "max" | "min" };
  /**
   * Loss of a batch of sample indices (records the graph); `rng` is seeded per batch from the
   * epoch's generator (masks, augmentations), so a resumed run draws the same ones. `epoch`
   * (from 0) is for models with a schedule of their own (H-DCID adds its level 2 later).
   */
  loss(rows: Int32Array, rng: Rng, epoch: number): LossOutput;
  /** The downstream probe on a split (e.g. zero-shot ranking with the current features). */
  probe(split: "valid" | "test"): Promise<Record<string, number>>;
  /** Optional: after each batch's backward, before the step (e.g. per-sub-model clipping). */
  afterBackward?(): void;
}

/** The pretraining task: shuffled sample batches, the model's loss, its probe. */
export function pretrainTask(
  model: PretrainModel,
): Task<{ rows: Int32Array; seed: number; epoch: number }> {
  const n = model.numSamples;
  return {
    name: model.name,
    module: model,
    trainable: model.parameters().length > 0,
    metric: model.probeMetric,
    steps: (b) => Math.ceil(n / b),
    *batches(b: number, rng: Rng, epoch: number) {
      const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
      for (let lo = 0; lo < n; lo += b) {
        yield { rows: perm.slice(lo, lo + b), seed: rng.u32(), epoch };
      }
    },
    size: (b) => b.rows.length,
    loss: (b) => model.loss(b.rows, new Rng(b.seed), b.epoch),
    evaluate: (split) => model.probe(split),
    afterBackward: model.afterBackward ? () => model.afterBackward!() : undefined,
  };
}
