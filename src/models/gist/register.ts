/**
 * GIST in the runner: `deno task train --model gist --data DIR|embedded|synthetic:…`.
 *
 * GIST needs two domains, which the runner's one-domain CTR rows do not have, so `build`
 * makes the cross-domain view of the `--data` source (src/models/gist/data.ts) and narrows the
 * task's train/valid/test tables to its target domain (so every metric is target-domain):
 * - a MovieLens-100K RecBole folder: genres as domains (`targetGenre`, default Comedy);
 * - `embedded` / `synthetic:…`: the two-domain generator at the data's user and item counts
 *   (two thirds of the items in the source domain), `plant` switching the transferable
 *   structure on or off.
 *
 * The source stage (CBJT) is a step the runner runs and caches: its export is the run
 * folder's `gist_source.npy` (`artifact`), reused by `evaluate` and `--resume`; the target
 * model then runs the lifelong search once per table. `--set useSource=false` trains the
 * target-alone baseline (no source stage).
 * @module
 */

import { ml100kCrossDomain } from "./files.ts";
import { register } from "../../runner/registry.ts";
import { bool, int, num, nums, str } from "../../runner/settings.ts";
import type { CtrSplits } from "../../train/ctr.ts";
import type { RunConfig } from "../../runner/registry.ts";
import { type CrossDomainData, searchLimits, syntheticTwoDomain } from "./data.ts";
import { SOURCE_DEFAULTS, SourceModel, trainSource } from "./source.ts";
import { Gist, GIST_DEFAULTS } from "./model.ts";

// The original shape of each runner data object (before it is narrowed to a target domain).
const original = new WeakMap<object, { users: number; items: number; source?: string }>();

async function crossDomainFor(data: CtrSplits, c: RunConfig): Promise<CrossDomainData> {
  let o = original.get(data);
  if (!o) {
    const card = data.train.cardinalities;
    o = { users: card[0], items: card[1], source: (data as { source?: string }).source };
    original.set(data, o);
  }
  if (o.source) {
    try {
      await Deno.stat(`${o.source}/ml-100k.item`);
      return await ml100kCrossDomain(o.source, { targetGenre: c.targetGenre });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    throw new Error(
      `wgrec gist: ${o.source} has no ml-100k.inter/.item; GIST's cross-domain view needs ` +
        `MovieLens-100K (genres as domains) or synthetic data`,
    );
  }
  if (!(o.users >= 2 && o.items >= 3)) {
    throw new Error(
      `wgrec gist: CTR data with ${o.users} users and ${o.items} items; expected the ` +
        `user_id and item_id fields first (synthetic data) or a MovieLens-100K folder`,
    );
  }
  const sourceItems = Math.max(1, Math.round((2 * o.items) / 3));
  return syntheticTwoDomain({
    users: o.users,
    sourceItems,
    targetItems: o.items - sourceItems,
    sourceLength: c.sourceLength,
    plant: c.plant,
    seed: c.dataSeed,
  });
}

const g = GIST_DEFAULTS;
const s = SOURCE_DEFAULTS;
register({
  name: "gist",
  title: "GIST",
  task: "ctr",
  about: "GIST (Xu et al., 2025): content–behaviour joint source embeddings → lifelong " +
    "source-sequence search → target CTR with asymmetric similarity (design ours)",
  data: "a MovieLens-100K folder (genres as domains) or embedded/synthetic (two-domain generator)",
  settings: {
    useSource: bool(g.useSource, "use the source stage (false: the target-alone baseline)"),
    targetGenre: str("Comedy", "ml-100k: the genre whose movies form the target domain"),
    plant: bool(true, "synthetic: plant transferable structure (false: none)"),
    sourceLength: int(120, "synthetic: source engagements per user"),
    dataSeed: int(0, "synthetic: seed of the two-domain generator"),
    embeddingDim: int(g.embeddingDim, "target id embedding width d"),
    attentionDim: int(g.attentionDim, "ASI attention width d_a"),
    dnnHidden: nums(g.dnnHidden, "DNN hidden widths"),
    topK: int(g.topK, "K: source items retrieved per request"),
    sourceDim: int(s.dim, "source joint embedding width d_s"),
    wordDim: int(s.wordDim, "source word embedding width"),
    temperature: num(s.temperature, "CBJT InfoNCE temperature τ"),
    guideWeight: num(s.guideWeight, "λ_g of the target-guided InfoNCE (0: unguided)"),
    profileLength: int(s.profileLength, "M: source items in a user's profile for the guidance"),
    sourceEpochs: int(4, "CBJT epochs over the source engagement pairs"),
    sourceLr: num(5e-3, "CBJT Adam learning rate"),
    sourceBatch: int(256, "CBJT pairs per step"),
  },
  training: { batchSize: 256, lr: 2e-3, epochs: 20, patience: 2 },
  tiny: {
    embeddingDim: 4,
    attentionDim: 4,
    dnnHidden: [8],
    topK: 4,
    sourceDim: 8,
    wordDim: 8,
    sourceLength: 24,
    sourceEpochs: 1,
  },
  build: async ({ data, config: c, artifact, log }) => {
    const cd = await crossDomainFor(data, c);
    log(`GIST cross-domain view: ${cd.description}`);
    Object.assign(data, {
      train: cd.target.train,
      valid: cd.target.valid,
      test: cd.target.test,
      description: cd.description,
    });
    const model = new Gist(cd.users, cd.sourceItems, cd.targetItems, c.sourceDim, {
      embeddingDim: c.embeddingDim,
      attentionDim: c.attentionDim,
      dnnHidden: c.dnnHidden,
      topK: c.topK,
      useSource: c.useSource,
      seed: c.seed,
    });
    if (!c.useSource) return model;
    const table = await artifact("gist_source", async () => {
      const m = new SourceModel(cd.sourceItems, cd.targetItems, cd.words, cd.text, {
        dim: c.sourceDim,
        wordDim: c.wordDim,
        temperature: c.temperature,
        guideWeight: c.guideWeight,
        profileLength: c.profileLength,
        seed: c.seed + 101,
      });
      await trainSource(m, cd, {
        epochs: c.sourceEpochs,
        lr: c.sourceLr,
        batchSize: c.sourceBatch,
        seed: c.seed,
        log,
      });
      const t = await m.exportTable();
      m.dispose();
      return t;
    });
    model.setSource(table, cd.searchSeq, searchLimits(cd));
    await model.prepare([data.train, data.valid, data.test]);
    return model;
  },
});
