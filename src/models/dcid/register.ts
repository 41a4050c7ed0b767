/**
 * DCID and H-DCID in the runner (pretraining task): `deno task train --model dcid|hdcid
 * --set clips=240 --set scale=small [--set toc=true]`. The data is the seeded
 * audio-visual-text generator (the spec's VGGSound features are not here); `--data` is not
 * read. The valid metric is the cross-modal transfer accuracy (mean of V→A and A→V).
 * @module
 */

import { register } from "../../runner/registry.ts";
import { bool, int, num, str } from "../../runner/settings.ts";
import { generateAvt } from "./data.ts";
import { Dcid } from "./model.ts";
import { Hdcid } from "./hdcid.ts";
import { CmgPretrain, dcidAtScale, SCALES } from "./task.ts";

const settings = {
  clips: int(240, "generated clips (pretraining uses all; the probe splits them 3:1:1)"),
  classes: int(6, "event classes of the generator"),
  scale: str("small", "sizes: full (the official shapes), small or tiny", SCALES),
  codes: int(0, "codebook size M (0: the scale's: full 400, small 64, tiny 16)"),
  miIters: int(5, "CLUB inner iterations per batch, each a full encoder pass"),
  dropout: num(0.1, "dropout of the temporal transformers"),
  dataSeed: int(1, "seed of the generator"),
  toc: bool(false, "apply TOC channel selection to the frozen codes at evaluation"),
  tocK: int(0, "TOC channels K per level (0: 7/8 of D, the AVE DCID ratio 224/256)"),
  tocA: int(1, "TOC a: share of highest-score channels"),
  tocB: int(1, "TOC b: share of lowest-score channels"),
  headEpochs: int(40, "epochs of the probe's Semantic_Decoder head"),
  headLr: num(1e-3, "learning rate of the probe's head"),
};

const noData = "this model reads no --data (its clips come from the seeded generator: " +
  "size them with --set clips, classes, scale, dataSeed)";

for (const hier of [false, true]) {
  register({
    name: hier ? "hdcid" : "dcid",
    title: hier ? "H-DCID" : "DCID",
    task: "pretrain",
    about: hier
      ? "H-DCID (arXiv 2403.05168 v1): DCID + a second codebook level on the specific " +
        "features, + 0.3·level 2 from epoch 3"
      : "DCID / Uni-Code (Xia et al., NeurIPS 2023): unified audio-visual-text codebook, " +
        "CMCM, Cross-CPC, CLUB",
    data: "none: the seeded audio-visual-text generator (--set clips, scale); --data is refused",
    loadData: (spec, c) => {
      if (spec) throw new Error(`wgrec ${hier ? "hdcid" : "dcid"}: --data ${spec}: ${noData}`);
      return {
        description: `seeded audio-visual-text generator (seed ${c.dataSeed}): ${c.clips} clips, ` +
          `${c.classes} event classes, ${c.scale} sizes; probe split 3:1:1 (VGGSound is not here)`,
      };
    },
    settings: {
      ...settings,
      ...(hier ? { level2From: int(3, "first epoch (from 0) with level 2 in the loss") } : {}),
    },
    training: { lr: 4e-4, batchSize: 80, epochs: hier ? 5 : 6, patience: 100 },
    tiny: {
      clips: 10,
      scale: "tiny",
      miIters: 1,
      headEpochs: 2,
      ...(hier ? { level2From: 1 } : {}),
    },
    build: ({ config: c }) => {
      const cfg = dcidAtScale(c.scale, {
        miIters: c.miIters,
        dropout: c.dropout,
        ...(c.codes > 0 ? { numCodes: c.codes } : {}),
        ...(hier ? { level2From: c.level2From } : {}),
      });
      const data = generateAvt({
        clips: c.clips,
        classes: c.classes,
        seqLen: cfg.seqLen,
        audioDim: cfg.audioDim,
        videoDim: cfg.videoDim,
        textDim: cfg.textDim,
        seed: c.dataSeed,
      });
      const model = hier ? new Hdcid(cfg, c.seed) : new Dcid(cfg, c.seed);
      const k = c.tocK || Math.round(cfg.hidden * 7 / 8);
      return new CmgPretrain(hier ? "H-DCID" : "DCID", model, data, {
        classes: c.classes,
        headEpochs: c.headEpochs,
        headLr: c.headLr,
        toc: c.toc ? [k, c.tocA, c.tocB] : null,
        seed: c.seed,
      });
    },
  });
}
