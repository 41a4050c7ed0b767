/**
 * AlignRec in the runner (`deno task train --model alignrec`): stage 1 (ICA) fuses the item's
 * two content modalities into one feature table (cached in the run folder as `features.npy`;
 * skipped when the data brings precomputed unified features), then stage 2 trains on the
 * retrieval task. Settings are the official defaults (../shared/specs/alignrec.md §1.4).
 * @module
 */

import { register } from "../../runner/registry.ts";
import { bool, int, num } from "../../runner/settings.ts";
import { AlignRec, ALIGNREC_DEFAULTS } from "./model.ts";
import { trainIca } from "./ica.ts";

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
