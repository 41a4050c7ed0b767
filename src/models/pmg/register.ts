/**
 * PMG in the runner: `deno task train --model pmg --data ../shared/data/ml-100k --set
 * items=../shared/data/ml-100k/ml-100k.item`. It runs on the `pretrain` task (the closest
 * existing one: the model's own loss, here the generators' text cross-entropy + λ·image MSE,
 * over shuffled (user, target) pairs, with a held-out probe, the same generation loss on
 * validation pairs, as the selection metric). Without `items`, titles come from the data's
 * item text and "genres" from its item-feature columns (`catalogFromData`).
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num, str } from "../../runner/settings.ts";
import { LAYOUT_DEFAULTS, PMG_DEFAULTS } from "./config.ts";
import { PmgData } from "./data.ts";
import { catalogFromData, catalogFromItemFile } from "./keywords.ts";
import { Pmg } from "./model.ts";

const d = PMG_DEFAULTS;

register({
  name: "pmg",
  title: "PMG",
  task: "pretrain",
  about: "PMG (Shen et al., WWW 2024): keyword + soft-prefix personalised text and poster " +
    "generation, small generators trained here",
  data: "interactions with item titles (ml-100k; its .item file via --set items=PATH for " +
    "genres and years)",
  settings: {
    items: str("", "RecBole .item file with movie_title, release_year, class (ml-100k's)"),
    dim: int(d.dim, "width d of the encoder, the generators and the word table"),
    heads: int(d.heads, "attention heads"),
    layers: int(d.layers, "layers of each generator"),
    encoderLayers: int(d.encoderLayers, "layers of the preference encoder"),
    condDim: int(d.condDim, "soft preference embedding width c"),
    channels: int(d.channels, "channels of the image decoder's 4×4 grid"),
    imageWeight: num(d.imageWeight, "λ: weight of the image MSE in the loss"),
    dropPrefix: num(d.dropPrefix, "probability of training a batch without the soft prefix"),
    probeSamples: int(d.probeSamples, "held-out pairs the probe scores"),
    keywords: int(LAYOUT_DEFAULTS.keywords, "preference keywords K (official 8)"),
    history: int(LAYOUT_DEFAULTS.history, "history items read per user"),
    posterSize: int(LAYOUT_DEFAULTS.posterSize, "poster side S (8, 16, 32)"),
    samplesPerUser: int(8, "training pairs per user (the most recent training items)"),
  },
  training: { lr: 2e-3, batchSize: 64, epochs: 8, patience: 3 },
  tiny: {
    dim: 16,
    condDim: 16,
    channels: 8,
    layers: 1,
    keywords: 4,
    history: 4,
    posterSize: 8,
    samplesPerUser: 2,
    probeSamples: 32,
  },
  build: async ({ data, config: c }) => {
    const cat = c.items
      ? catalogFromItemFile(
        await readItems(c.items),
        itemIds(data.rawIds?.items, data.split.train.numItems),
        c.items,
      )
      : catalogFromData(data);
    const layout = {
      ...LAYOUT_DEFAULTS,
      keywords: c.keywords,
      history: c.history,
      posterSize: c.posterSize,
    };
    const pd = new PmgData(data.split, cat, layout, c.samplesPerUser);
    return new Pmg(pd, {
      dim: c.dim,
      heads: c.heads,
      layers: c.layers,
      encoderLayers: c.encoderLayers,
      condDim: c.condDim,
      channels: c.channels,
      imageWeight: c.imageWeight,
      dropPrefix: c.dropPrefix,
      probeSamples: c.probeSamples,
      seed: c.seed,
    });
  },
});

async function readItems(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`wgrec pmg: cannot read items file ${path} (${(e as Error).message})`);
  }
}

/** The data's raw item ids, or "1" … "N" (RecBole ids of a file without a map). */
function itemIds(
  ids: { size: number; raw(i: number): string } | undefined,
  n: number,
): { size: number; raw(i: number): string } {
  return ids ?? { size: n, raw: (i: number) => String(i + 1) };
}
