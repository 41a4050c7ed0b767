/**
 * RAR in the runner: `deno task train --model rar --set base=din|dcnv2 --set variant=both`
 * (the ablation: variant none | u2u | i2i | both) on a MovieLens RecBole folder.
 * @module
 */

import { featureSpecs } from "../../nn/features.ts";
import { register } from "../../runner/registry.ts";
import { int, num, nums, str } from "../../runner/settings.ts";
import { Rar, RAR_DEFAULTS } from "./model.ts";

const d = RAR_DEFAULTS;
register({
  name: "rar",
  title: "RAR",
  task: "ctr",
  about:
    "RAR (Huang et al., WWW 2024): look-alike users + recall items → co-interaction → DIN/DCN-v2",
  data: "CTR rows with user_id, item_id and a behaviour history sharing the item vocabulary " +
    "(ml-100k folder)",
  settings: {
    base: str(d.base, "base CTR model", ["din", "dcnv2"]),
    variant: str(d.variant, "cross-stage sets used (ablation)", ["none", "u2u", "i2i", "both"]),
    select: str(d.select, "selection: SimHash+Hamming top-k or exact inner product", [
      "simhash",
      "dot",
    ]),
    bits: int(d.bits, "SimHash bits"),
    kUsers: int(d.kUsers, "k_L look-alike users"),
    kItems: int(d.kItems, "k_R recall items"),
    poolLength: int(d.poolLength, "M: last training positives pooled per look-alike user"),
    recall: str(d.recall, "recall stage making the users' lists", ["twotower", "itemcf", "both"]),
    recallLength: int(d.recallLength, "N_R: items per user's recall list"),
    recallEpochs: int(d.recallEpochs, "two-tower recall training epochs (in-batch InfoNCE)"),
    auxWeight: num(d.auxWeight, "λ_aux of the recall-item auxiliary loss"),
    embeddingDim: int(d.embeddingDim, "field embedding width d"),
    dnnHidden: nums(d.dnnHidden, "DNN hidden widths"),
    numCrossLayers: int(d.numCrossLayers, "DCN-v2 cross layers"),
    attentionHidden: nums(d.attentionHidden, "DIN attention-unit hidden widths"),
    embeddingRegularizer: num(d.embeddingRegularizer, "λ of (λ/2)‖θ‖² on embedding tables"),
    userField: str(d.userField, "user field"),
    itemField: str(d.itemField, "target item field"),
    historyField: str(d.historyField, "behaviour sequence field"),
    maxLen: int(10, "ids kept per sequence field"),
  },
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
  tiny: {
    embeddingDim: 4,
    dnnHidden: [8],
    attentionHidden: [8],
    kUsers: 2,
    kItems: 2,
    bits: 8,
    recallLength: 5,
    recallEpochs: 1,
  },
  build: ({ data, config: c }) =>
    Rar.create(featureSpecs(data.train, { maxLen: c.maxLen }), data.train, { ...c, seed: c.seed }),
});
