/**
 * The classic CTR baselines in the runner: `lr`, `fm`, `dnn`, `deepfm`, `dcnv2`, `din`
 * (`deno task train --model dcnv2 --data …`).
 * @module
 */

import { featureSpecs } from "../../nn/features.ts";
import { register } from "../../runner/registry.ts";
import { bool, int, num, nums, str } from "../../runner/settings.ts";
import type { Settings } from "../../runner/settings.ts";
import { CTR_BASELINE_DEFAULTS, CtrBaseline, type CtrBaselineKind } from "./model.ts";

const d = CTR_BASELINE_DEFAULTS;
const ABOUT: Record<CtrBaselineKind, [string, string]> = {
  lr: ["LR", "logistic regression over one weight per field value"],
  fm: ["FM", "factorization machine (Rendle, ICDM 2010)"],
  dnn: ["DNN", "MLP over the concatenated field embeddings"],
  deepfm: ["DeepFM", "DeepFM (Guo et al., IJCAI 2017): LR + FM + DNN"],
  dcnv2: ["DCN-v2", "DCN-v2 (Wang et al., WWW 2021): full-rank cross network ∥ DNN"],
  din: ["DIN", "DIN (Zhou et al., KDD 2018): target attention over a behaviour sequence"],
};

for (const kind of Object.keys(ABOUT) as CtrBaselineKind[]) {
  const settings: Settings = {
    embeddingDim: int(d.embeddingDim, "field embedding width d"),
    embeddingRegularizer: num(d.embeddingRegularizer, "λ of (λ/2)‖θ‖² on embedding tables"),
    maxLen: int(10, "ids kept per sequence field"),
  };
  if (kind !== "lr" && kind !== "fm") {
    settings.dnnHidden = nums(d.dnnHidden, "DNN hidden widths");
    settings.batchNorm = bool(d.batchNorm, "BatchNorm in the DNN");
    settings.netDropout = num(d.netDropout, "DNN dropout");
  }
  if (kind === "dcnv2") {
    settings.numCrossLayers = int(d.numCrossLayers, "cross layers");
    settings.structure = str(d.structure, "cross network beside or before the DNN", [
      "parallel",
      "stacked",
    ]);
  }
  if (kind === "din") {
    settings.historyField = str(d.historyField, "behaviour sequence field");
    settings.targetField = str(d.targetField, "target field whose table the behaviours share");
    settings.attentionHidden = nums(d.attentionHidden, "attention-unit hidden widths");
  }
  register({
    name: kind,
    title: ABOUT[kind][0],
    task: "ctr",
    about: ABOUT[kind][1],
    data: kind === "din"
      ? "CTR rows with a behaviour sequence sharing the item vocabulary (ml-100k folder)"
      : "CTR rows",
    settings,
    training: {
      batchSize: 4096,
      lr: 1e-3,
      epochs: 100,
      lrSchedule: "plateau",
      lrDecay: 0.1,
      lrPatience: 1,
      lrMin: 1e-6,
      patience: 2,
    },
    tiny: kind === "lr" || kind === "fm"
      ? { embeddingDim: 4 }
      : { embeddingDim: 4, dnnHidden: [8] },
    build: ({ data, config: c }) =>
      new CtrBaseline(kind, featureSpecs(data.train, { maxLen: c.maxLen }), { ...c, seed: c.seed }),
  });
}
