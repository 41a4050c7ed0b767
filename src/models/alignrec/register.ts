/**
 * AlignRec in the runner (`deno task train --model alignrec`): stage 1 (ICA) fuses the item's
 * two content modalities into one feature table (cached in the run folder as `features.npy`;
 * skipped when the data brings precomputed unified features), then stage 2 trains on the
 * retrieval task. Settings are the official defaults (../shared/specs/alignrec.md §1.4).
 * `alignrecica` trains stage 1 alone on the pretraining task.
 * @module
 */

import { register } from "../../runner/registry.ts";
import { bool, int, num } from "../../runner/settings.ts";
import { AlignRec, ALIGNREC_DEFAULTS } from "./model.ts";
import { type FeatureTable, type IcaConfig, IcaEncoder, trainIca } from "./ica.ts";
import { Module } from "../../nn/module.ts";
import type { Rng } from "../../random.ts";
import { type TrainData, trainData } from "../../train/fit.ts";
import { zeroShotMetrics } from "../../train/eval.ts";
import type { LossOutput } from "../../train/loop.ts";
import type { PretrainModel } from "../../train/pretrain.ts";
import type { RetrievalData } from "../../runner/data.ts";

const d = ALIGNREC_DEFAULTS;

register({
  name: "alignrec",
  title: "AlignRec",
  task: "retrieval",
  about: "AlignRec (Liu et al., CIKM 2024): content-category and user-item alignment",
  data: "interactions + item content (two modalities for stage 1, or unified features)",
  settings: {
    embeddingSize: int(d.embeddingSize, "embedding width d (embedding_size)"),
    nUiLayers: int(d.nUiLayers, "LightGCN layers of the user-item view (n_ui_layers)"),
    nMmLayers: int(d.nMmLayers, "propagations over the item-item kNN graph (n_layers)"),
    knnK: int(d.knnK, "neighbours per item in the kNN graph (knn_k)"),
    regWeight: num(d.regWeight, "L2 weight of the batch embeddings (reg_weight)"),
    clWeight: num(d.clWeight, "CCA InfoNCE weight (cl_loss)"),
    simWeight: num(d.simWeight, "similarity-preservation weight (sim_weight)"),
    uiCosineWeight: num(d.uiCosineWeight, "UIA cosine-loss weight (ui_cosine_loss_weight)"),
    tau: num(d.tau, "InfoNCE temperature"),
    sideEmbDiv: num(d.sideEmbDiv, "fuser F = C + Mv/side_emb_div when > 0"),
    useLayerNorm: bool(d.useLayerNorm, "LayerNorm on the features before mm_trs (use_ln)"),
    freezeFeatures: bool(d.freezeFeatures, "keep the feature table fixed (the code trains it)"),
    icaEpochs: int(60, "stage 1 (ICA) epochs over the items"),
    icaDim: int(64, "stage 1 unified feature width"),
    icaHidden: int(128, "stage 1 hidden width per modality"),
    icaLr: num(1e-3, "stage 1 Adam learning rate"),
    icaSeed: int(0, "stage 1 seed of initialisation and masks"),
  },
  tiny: { icaEpochs: 2, icaDim: 16, icaHidden: 16, embeddingSize: 16 },
  async build({ data, config: c, artifact, log }) {
    const features = await artifact("features", async () => {
      if (data.unified) return data.unified;
      if (!data.image || !data.text) {
        throw new Error(
          `alignrec needs item content: ${data.name} has no image/text modalities or unified ` +
            `features (an MMRec folder needs image_feat.npy and/or text_feat.npy)`,
        );
      }
      log(`stage 1 (ICA): ${data.image.dim}-d + ${data.text.dim}-d → ${c.icaDim}-d features`);
      const ica = await trainIca(data.image, data.text, {
        epochs: c.icaEpochs,
        dim: c.icaDim,
        hidden: c.icaHidden,
        lr: c.icaLr,
        seed: c.icaSeed,
      });
      ica.encoder.dispose();
      return ica.features;
    });
    return new AlignRec(data.split.train, features.data, {
      embeddingSize: c.embeddingSize,
      nUiLayers: c.nUiLayers,
      nMmLayers: c.nMmLayers,
      knnK: c.knnK,
      regWeight: c.regWeight,
      clWeight: c.clWeight,
      simWeight: c.simWeight,
      uiCosineWeight: c.uiCosineWeight,
      tau: c.tau,
      sideEmbDiv: c.sideEmbDiv,
      useLayerNorm: c.useLayerNorm,
      freezeFeatures: c.freezeFeatures,
      seed: c.seed,
    });
  },
});

/**
 * Stage 1 alone as a pretraining model: the ICA encoder's loss (symmetric InfoNCE between the
 * modalities + masked reconstruction) over batches of items, probed by zero-shot Recall@20 of
 * its unified features (no training on interactions) on the valid split.
 */
class IcaPretrain extends Module implements PretrainModel {
  readonly name = "AlignRec ICA";
  readonly numSamples: number;
  readonly probeMetric = { name: "recall@20", mode: "max" as const };
  readonly encoder: IcaEncoder;
  readonly #td: TrainData;

  constructor(
    readonly data: RetrievalData & { image: FeatureTable; text: FeatureTable },
    cfg: IcaConfig,
  ) {
    super();
    this.encoder = this.child("ica", new IcaEncoder(data.image, data.text, cfg));
    this.numSamples = data.split.train.numItems;
    this.#td = trainData(data.split);
  }

  loss(rows: Int32Array, rng: Rng): LossOutput {
    return this.encoder.loss(this.data.image, this.data.text, rows, rng);
  }

  async probe(split: "valid" | "test"): Promise<Record<string, number>> {
    const f = await this.encoder.features(this.data.image, this.data.text);
    const truth = split === "valid" ? this.data.split.valid : this.data.split.test;
    return zeroShotMetrics(f.data, this.#td.trainCsr, truth, [10, 20]);
  }
}

register({
  name: "alignrecica",
  title: "AlignRec ICA (stage 1)",
  task: "pretrain",
  about: "AlignRec's stage 1 alone: inter-content alignment of two item modalities",
  data: "items with two content modalities (image and text features)",
  settings: {
    icaDim: int(64, "unified feature width"),
    icaHidden: int(128, "hidden width per modality"),
    tau: num(0.1, "InfoNCE temperature between the modalities"),
    maskRatio: num(0.3, "fraction of each modality's entries masked per item"),
    modalityDrop: num(0.2, "probability that a whole modality of an item is masked"),
    reconWeight: num(1, "weight of the masked reconstruction"),
  },
  training: { epochs: 60, batchSize: 256, patience: 10 },
  tiny: { icaDim: 16, icaHidden: 16 },
  build({ data, config: c }) {
    const { image, text } = data;
    if (!image || !text) {
      throw new Error(`alignrecica needs two item modalities; ${data.name} has none`);
    }
    return new IcaPretrain({ ...data, image, text }, {
      dim: c.icaDim,
      hidden: c.icaHidden,
      tau: c.tau,
      maskRatio: c.maskRatio,
      modalityDrop: c.modalityDrop,
      reconWeight: c.reconWeight,
      seed: c.seed,
    });
  },
});
