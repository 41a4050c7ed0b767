/**
 * LATTICE in the runner (`deno task train --model lattice`): the data's item modalities (or its
 * unified features as the one modality). Defaults: MMRec's `LATTICE.yaml` with the LightGCN
 * backbone (`cf_model: lightgcn`; grid values where it lists a grid).
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num } from "../../runner/settings.ts";
import { LATTICE, LATTICE_DEFAULTS as d } from "./model.ts";

register({
  name: "lattice",
  title: "LATTICE",
  task: "retrieval",
  about: "LATTICE (Zhang et al., ACM MM 2021): learned latent item graph over modalities",
  data: "interactions + item features (image and/or text, or unified)",
  settings: {
    embeddingSize: int(d.embeddingSize, "embedding width (embedding_size)"),
    knnK: int(d.knnK, "neighbours per item in the kNN graphs (knn_k)"),
    lambdaCoeff: num(d.lambdaCoeff, "weight of the original item graph (lambda_coeff)"),
    nLayers: int(d.nLayers, "item-graph propagations (n_layers)"),
    nUiLayers: int(d.nUiLayers, "LightGCN layers (len(weight_size))"),
    regWeight: num(d.regWeight, "L2 weight of the batch rows (reg_weight)"),
  },
  tiny: { embeddingSize: 16 },
  build({ data, config: c }) {
    // The raw modalities when the data has them, else the unified table as the one modality.
    const [image, text] = data.image || data.text
      ? [data.image?.data ?? null, data.text?.data ?? null]
      : [data.unified?.data ?? null, null];
    if (!image && !text) throw new Error(`lattice needs item features; ${data.name} has none`);
    return new LATTICE(data.split.train, { image, text }, {
      embeddingSize: c.embeddingSize,
      knnK: c.knnK,
      lambdaCoeff: c.lambdaCoeff,
      nLayers: c.nLayers,
      nUiLayers: c.nUiLayers,
      regWeight: c.regWeight,
      seed: c.seed,
    });
  },
});
