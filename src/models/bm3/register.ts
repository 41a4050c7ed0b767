/**
 * BM3 in the runner (`deno task train --model bm3`): the data's item modalities (or its unified
 * features as the one modality). Defaults: MMRec's `BM3.yaml` (first grid value where it lists
 * a grid).
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num } from "../../runner/settings.ts";
import { BM3, BM3_DEFAULTS as d } from "./model.ts";

register({
  name: "bm3",
  title: "BM3",
  task: "retrieval",
  about: "BM3 (Zhou et al., WWW 2023): bootstrapped latent representations, no negatives",
  data: "interactions + item features (image and/or text, or unified)",
  settings: {
    embeddingSize: int(d.embeddingSize, "embedding width (embedding_size)"),
    nLayers: int(d.nLayers, "LightGCN layers (n_layers)"),
    dropout: num(d.dropout, "dropout of the stop-gradient targets (dropout)"),
    regWeight: num(d.regWeight, "weight of EmbLoss on the full tables (reg_weight)"),
    clWeight: num(d.clWeight, "weight of the multimodal alignment terms (cl_weight)"),
  },
  tiny: { embeddingSize: 16 },
  build({ data, config: c }) {
    // The raw modalities when the data has them, else the unified table as the one modality.
    const [image, text] = data.image || data.text
      ? [data.image?.data ?? null, data.text?.data ?? null]
      : [data.unified?.data ?? null, null];
    if (!image && !text) throw new Error(`bm3 needs item features; ${data.name} has none`);
    return new BM3(data.split.train, { image, text }, {
      embeddingSize: c.embeddingSize,
      nLayers: c.nLayers,
      dropout: c.dropout,
      regWeight: c.regWeight,
      clWeight: c.clWeight,
      seed: c.seed,
    });
  },
});
