/**
 * MGCN in the runner (`deno task train --model mgcn`): needs two item modalities (image and
 * text; genres + year and title words on ml-100k). Defaults: MMRec's `MGCN.yaml`.
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num } from "../../runner/settings.ts";
import { MGCN, MGCN_DEFAULTS as d } from "./model.ts";

register({
  name: "mgcn",
  title: "MGCN",
  task: "retrieval",
  about: "MGCN (Yu et al., ACM MM 2023): multi-view graph convolution, behaviour-aware fuser",
  data: "interactions + two item modalities (image and text features)",
  settings: {
    embeddingSize: int(d.embeddingSize, "embedding width (embedding_size)"),
    nUiLayers: int(d.nUiLayers, "LightGCN layers (n_ui_layers)"),
    nLayers: int(d.nLayers, "item-item propagations (n_layers)"),
    knnK: int(d.knnK, "neighbours per item in the kNN graphs (knn_k)"),
    regWeight: num(d.regWeight, "L2 weight of the batch rows (reg_weight)"),
    clWeight: num(d.clWeight, "InfoNCE weight (cl_loss)"),
    tau: num(d.tau, "InfoNCE temperature"),
  },
  tiny: { embeddingSize: 16 },
  build({ data, config: c }) {
    if (!data.image || !data.text) {
      throw new Error(`mgcn needs two item modalities (image and text); ${data.name} lacks one`);
    }
    return new MGCN(data.split.train, { image: data.image.data, text: data.text.data }, {
      embeddingSize: c.embeddingSize,
      nUiLayers: c.nUiLayers,
      nLayers: c.nLayers,
      knnK: c.knnK,
      regWeight: c.regWeight,
      clWeight: c.clWeight,
      tau: c.tau,
      seed: c.seed,
    });
  },
});
