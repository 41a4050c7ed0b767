/**
 * LightGCN in the runner (`deno task train --model lightgcn`), MMRec's settings.
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num } from "../../runner/settings.ts";
import { LightGCN } from "./model.ts";

register({
  name: "lightgcn",
  title: "LightGCN",
  task: "retrieval",
  about: "LightGCN (He et al., SIGIR 2020) as in MMRec",
  data: "interactions",
  settings: {
    embeddingSize: int(64, "embedding width"),
    layers: int(2, "propagation layers"),
    regWeight: num(1e-4, "weight of the ego-embedding norm penalty"),
  },
  build: ({ data, config: c }) =>
    new LightGCN(data.split.train, {
      embeddingSize: c.embeddingSize,
      layers: c.layers,
      regWeight: c.regWeight,
      seed: c.seed,
    }),
});
