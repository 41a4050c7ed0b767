/**
 * SparCode and its two baselines in the runner (`deno task train --model sparcode | twotower |
 * alltoall`). All-to-all scores E(u, v) are not a dot product: the retrieval task ranks it by
 * its `scoreUsers` rows (the `Recommender` hook), a chunk of users at a time.
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num, nums, str } from "../../runner/settings.ts";
import { SparCode, SPARCODE_DEFAULTS } from "./model.ts";
import { AllToAll, TwoTower } from "./baselines.ts";

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
    biasInit: num(d.biasInit, "initial bias b (positive: every ReLU unit starts alive)"),
    sparsity: num(d.sparsity, "weight of the L1 sparsity term on the ReLU contributions"),
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
      sparsity: c.sparsity,
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

register({
  name: "alltoall",
  title: "AllToAll",
  task: "retrieval",
  about: "All-to-all matching E(u, v) + b on every (user, item) pair, SparCode's upper bound",
  data: "interactions",
  settings: {
    embeddingSize: int(d.embeddingSize, "width d"),
    backbone: str(d.backbone, "interaction encoder", ["dnn", "sa"]),
    hidden: nums(d.hidden, "hidden widths of the DNN encoder"),
    heads: int(d.heads, "attention heads of the SA encoder"),
  },
  training: { lr: 0.003, epochs: 60, batchSize: 1024, patience: 10 },
  tiny: { embeddingSize: 8, hidden: [16, 8] },
  build: ({ data, config: c }) =>
    new AllToAll(data.split.train.numUsers, data.split.train.numItems, {
      embeddingSize: c.embeddingSize,
      backbone: c.backbone,
      hidden: c.hidden,
      heads: c.heads,
      seed: c.seed,
    }),
});
