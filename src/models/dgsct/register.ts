/**
 * Registers DG-SCT with the runner (`deno task train --model dgsct`): AVE-style segment
 * classification on the seeded audio-visual generator (AVE is not here), run as the runner's
 * "pretrain" task with AVE segment accuracy as the validation metric (the loss is supervised).
 * `--data` is not used: the settings size the generated videos.
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num, nums, str } from "../../runner/settings.ts";
import { type AdaptMode, dgsctConfig } from "./config.ts";
import { DgsctTask, makeAveSplits } from "./task.ts";

register({
  name: "dgsct",
  title: "DG-SCT",
  task: "pretrain",
  about: "DG-SCT (Duan et al., NeurIPS 2023): audio- and visual-guided spatial-channel adapters " +
    "with cross-modal prompts in frozen backbones; AVE event localisation",
  data: "none (--data is refused): the seeded audio-visual generator (trainVideos, evalVideos)",
  loadData: (spec, c) => {
    if (spec) {
      throw new Error(
        `wgrec dgsct: --data ${spec}: this model reads no --data (its videos come from the ` +
          `seeded generator: size them with --set trainVideos, evalVideos, dataSeed)`,
      );
    }
    return {
      description: `seeded audio-visual event generator (seed ${c.dataSeed}, valid +1, test +2): ` +
        `${c.trainVideos} training and ${c.evalVideos}+${c.evalVideos} valid/test videos, ` +
        `${c.classes} event classes + background (AVE is not here)`,
    };
  },
  settings: {
    adapt: str("dgsct", "dgsct: adapters + head; frozen: head only; finetune: all, no adapters", [
      "dgsct",
      "frozen",
      "finetune",
    ]),
    trainVideos: int(160, "generated training videos"),
    evalVideos: int(80, "generated validation and test videos (each)"),
    dataSeed: int(7, "seed of the generated videos (valid +1, test +2)"),
    classes: int(8, "event classes (background is one more label)"),
    samples: int(4000, "audio samples per 1 s segment"),
    side: int(16, "image side"),
    visualDims: nums([32, 64], "visual stage widths (each doubles)"),
    audioDims: nums([16, 32], "audio stage widths (each doubles)"),
    depths: nums([1, 1], "blocks per stage (both backbones)"),
    heads: nums([2, 4], "attention heads per stage"),
    mels: int(32, "mel bands = log-mel frames (a square audio image)"),
    numTokens: int(32, "prompt tokens per adapter (num_tokens)"),
    dModel: int(32, "temporal model width d (paper 256)"),
    ffn: int(64, "temporal transformer FFN width (paper 1024)"),
    videoFc: int(64, "visual FC width (paper 512)"),
    audioFc: int(32, "audio FC width (paper 128)"),
    dropout: num(0.1, "temporal transformer dropout"),
  },
  training: {
    epochs: 12,
    batchSize: 8,
    lr: 5e-4,
    lrSchedule: "step",
    lrEvery: 3,
    lrDecay: 0.35,
    patience: 20,
    logEvery: 8,
  },
  tiny: {
    trainVideos: 8,
    evalVideos: 4,
    visualDims: [16],
    audioDims: [16],
    depths: [1],
    heads: [2],
    mels: 16,
    numTokens: 4,
    dModel: 8,
    ffn: 16,
    videoFc: 8,
    audioFc: 8,
  },
  async build({ config: c, log }) {
    const cfg = dgsctConfig({
      adapt: c.adapt as AdaptMode,
      classes: c.classes,
      side: c.side,
      visualDims: c.visualDims,
      audioDims: c.audioDims,
      depths: c.depths,
      heads: c.heads,
      mels: c.mels,
      melFrames: c.mels,
      audioPatch: c.mels / 4,
      visualPatch: c.side / 4,
      numTokens: c.numTokens,
      dModel: c.dModel,
      ffn: c.ffn,
      videoFc: c.videoFc,
      audioFc: c.audioFc,
      dropout: c.dropout,
      seed: c.seed,
    });
    const splits = await makeAveSplits(cfg, {
      trainVideos: c.trainVideos,
      evalVideos: c.evalVideos,
      dataSeed: c.dataSeed,
      samples: c.samples,
    });
    const task = new DgsctTask(splits, cfg);
    const n = task.counts();
    log(`dgsct adapt=${cfg.adapt}: ${n.trainable} trainable of ${n.total} parameters`);
    return task;
  },
});
