/**
 * SparCode and its two-tower baseline in the runner (`deno task train --model sparcode |
 * twotower`). The all-to-all baseline is not registered: the runner's retrieval task ranks by a
 * dot product of `embeddings()`, which E(u, v) is not (train it with `pairwiseTask`).
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num, nums, str } from "../../runner/settings.ts";
import { SparCode, SPARCODE_DEFAULTS } from "./model.ts";
import { TwoTower } from "./baselines.ts";

const d = SPARCODE_DEFAULTS;

register({
  name: "sparcode",
  title: "SparCode",
  task: "retrieval",
  about: "SparCode (Su et al., SIGIR 2023): PQ user tokens × all-to-all encoder, inverted index",
  data: "interactions",
  settings: {
    embeddingSize: int(d.embeddingSize, "width d of users, items, tokens and codes"),
    tokens: int(d.tokens, "tokens per user K_u"),
    subspaces: int(d.subspaces, "PQ sub-spaces M"),
    codes: int(d.codes, "codes per sub-space N (N^M posting lists)"),
    backbone: str(d.backbone, "interaction encoder", ["dnn", "sa"]),
    hidden: nums(d.hidden, "hidden widths of the DNN encoder"),
    heads: int(d.heads, "attention heads of the SA encoder"),
    beta: num(d.beta, "commitment weight β"),
    vqWeight: num(d.vqWeight, "weight of the quantizer loss"),
    biasInit: num(d.biasInit, "initial bias b (positive: fewer dead ReLU units early)"),
    threshold: num(d.threshold, "index keeps scores above this"),
  },
  training: { lr: 0.003, epochs: 60, batchSize: 1024, patience: 10 },
  build: ({ data, config: c }) =>
    new SparCode(data.split.train.numUsers, data.split.train.numItems, {
      embeddingSize: c.embeddingSize,
      tokens: c.tokens,
      subspaces: c.subspaces,
      codes: c.codes,
      backbone: c.backbone,
      hidden: c.hidden,
      heads: c.heads,
      beta: c.beta,
      vqWeight: c.vqWeight,
      biasInit: c.biasInit,
      threshold: c.threshold,
      seed: c.seed,
    }),
});

register({
  name: "twotower",
  title: "TwoTower",
  task: "retrieval",
  about: "Two-tower matching (DSSM-like MLP towers), SparCode's baseline",
  data: "interactions",
  settings: {
    embeddingSize: int(d.embeddingSize, "width d"),
  },
  training: { lr: 0.003, epochs: 60, batchSize: 1024, patience: 10 },
  build: ({ data, config: c }) =>
    new TwoTower(data.split.train.numUsers, data.split.train.numItems, {
      embeddingSize: c.embeddingSize,
      seed: c.seed,
    }),
});
