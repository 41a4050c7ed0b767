/**
 * FREEDOM in the runner (`deno task train --model freedom`): the data's two item modalities
 * (image and text; genres + year and title words on ml-100k), or its unified features as the
 * one modality. Defaults: MMRec's `FREEDOM.yaml` (grid values where it lists a grid).
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num } from "../../runner/settings.ts";
import { FREEDOM, FREEDOM_DEFAULTS as d } from "./model.ts";

register({
  name: "freedom",
  title: "FREEDOM",
  task: "retrieval",
  about: "FREEDOM (Zhou & Shen, ACM MM 2023): frozen kNN item graph + pruned user-item graph",
  data: "interactions + item features (image and/or text, or unified)",
  settings: {
    embeddingSize: int(d.embeddingSize, "embedding width (embedding_size)"),
    knnK: int(d.knnK, "neighbours per item in the kNN graphs (knn_k)"),
    nMmLayers: int(d.nMmLayers, "item-item propagations (n_mm_layers)"),
    nUiLayers: int(d.nUiLayers, "LightGCN layers (n_ui_layers)"),
    mmImageWeight: num(d.mmImageWeight, "weight of the image kNN graph (mm_image_weight)"),
    dropout: num(d.dropout, "fraction of user-item edges pruned per epoch (dropout)"),
    regWeight: num(d.regWeight, "weight of the feature BPR terms (reg_weight)"),
  },
  tiny: { embeddingSize: 16 },
  build({ data, config: c }) {
    // The raw modalities when the data has them, else the unified table as the one modality.
    const [image, text] = data.image || data.text
      ? [data.image?.data ?? null, data.text?.data ?? null]
      : [data.unified?.data ?? null, null];
    if (!image && !text) throw new Error(`freedom needs item features; ${data.name} has none`);
    return new FREEDOM(data.split.train, { image, text }, {
      embeddingSize: c.embeddingSize,
      knnK: c.knnK,
      nMmLayers: c.nMmLayers,
      nUiLayers: c.nUiLayers,
      mmImageWeight: c.mmImageWeight,
      dropout: c.dropout,
      regWeight: c.regWeight,
      seed: c.seed,
    });
  },
});
