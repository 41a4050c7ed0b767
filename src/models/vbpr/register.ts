/**
 * VBPR in the runner (`deno task train --model vbpr`): item features are the data's unified
 * features or its two modalities side by side.
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num } from "../../runner/settings.ts";
import { concatFeatures } from "../alignrec/ica.ts";
import { VBPR } from "./model.ts";

register({
  name: "vbpr",
  title: "VBPR",
  task: "retrieval",
  about: "VBPR (He & McAuley, AAAI 2016) as in MMRec",
  data: "interactions + item features",
  settings: {
    embeddingSize: int(64, "width of the ID part and of the projected feature part"),
    regWeight: num(1e-4, "weight of EmbLoss(u, p, n)"),
  },
  build({ data, config: c }) {
    const f = data.unified ??
      (data.image && data.text ? concatFeatures(data.image, data.text) : data.image ?? data.text);
    if (!f) throw new Error(`vbpr needs item features; ${data.name} has none`);
    return new VBPR(data.split.train, f.data, {
      embeddingSize: c.embeddingSize,
      regWeight: c.regWeight,
      seed: c.seed,
    });
  },
});
