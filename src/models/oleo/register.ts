/**
 * The OLEO / GreenRec models in the runner: `nrms`, `naml`, `lstur`, `bst` on the impression
 * task (`--set paradigm=oleo|e2e|cache`, `--set scorer=dot|dcn|deepfm|din`), and the stage-1 encoder as `textmlm` (pretraining).
 * With `paradigm=oleo` the encode-once vectors are an artifact of the run folder
 * (`oleo_vectors.npy`), so `evaluate` reuses them; `--set vectors=PATH.npy` skips stage 1.
 * @module
 */

import { register } from "../../runner/registry.ts";
import { int, num, nums, str } from "../../runner/settings.ts";
import { loadFeatureFile } from "../../files.ts";
import { parseMindNews } from "../../data/mind.ts";
import { splitLines } from "../../data/text.ts";
import { NEWSREC_DEFAULTS, type Paradigm } from "./model.ts";
import { asNewsData, isNewsData } from "./data.ts";
import { buildNewsModel, pretrainEncoder, tokenize } from "./stage.ts";
import { TextMlm } from "./pretrain.ts";
import type { UserEncoderKind } from "./user_encoders.ts";
import { SCORER_KINDS, type ScorerKind } from "./scorer.ts";

const d = NEWSREC_DEFAULTS;

const ENCODERS: [UserEncoderKind, string, string][] = [
  ["nrms", "NRMS", "NRMS (Wu et al., EMNLP 2019): multi-head self-attention + additive attention"],
  ["naml", "NAML", "NAML (Wu et al., IJCAI 2019): additive attention over clicked news"],
  ["lstur", "LSTUR", "LSTUR-ini (An et al., ACL 2019): user embedding starts a GRU over clicks"],
  ["bst", "BST", "BST (Chen et al., 2019): 3-layer, 4-head Transformer over clicked news"],
];

for (const [name, title, about] of ENCODERS) {
  register({
    name,
    title,
    task: "impression",
    about: `${about}; GreenRec/OLEO paradigms (Liu et al., 2023/2024)`,
    data:
      "impressions with item text and histories (MIND files, ML-100K as news), or --set vectors",
    settings: {
      paradigm: str("oleo", "oleo (encode once), e2e (joint, from scratch) or cache (top layers)", [
        "oleo",
        "e2e",
        "cache",
      ]),
      dim: int(d.dim, "item and user vector width d"),
      heads: int(d.heads, "NRMS self-attention heads"),
      maxHistory: int(d.maxHistory, "clicked news kept per user"),
      dropout: num(d.dropout, "dropout on item vectors (and BST layers)"),
      tuneFrom: int(d.tuneFrom, "cache: first tuned encoder layer"),
      scorer: str(d.scorer, "dot product or CTR predictor over (u, v): dot, dcn, deepfm, din", [
        ...SCORER_KINDS,
      ]),
      scorerHidden: nums(d.scorerHidden, "CTR predictor DNN hidden widths (spec: DCN's)"),
      scorerDropout: num(d.scorerDropout, "CTR predictor DNN dropout"),
      scorerAttention: nums(d.scorerAttention, "DIN scorer: activation-unit hidden widths"),
      vectors: str("", "oleo: a .npy of frozen item vectors [items, dim] (skips stage 1)"),
      mlmEpochs: int(10, "stage 1: MLM epochs"),
      maxLength: int(24, "stage 1: tokens per item ([CLS] included)"),
    },
    training: { lr: 5e-4, batchSize: 64 },
    tiny: { mlmEpochs: 1, maxHistory: 5, maxLength: 8, scorerHidden: [16], scorerAttention: [8] },
    build: async ({ data: given, config: c, artifact, log }) => {
      const data = asNewsData(given);
      const paradigm = c.paradigm as Paradigm;
      const stage1 = { epochs: c.mlmEpochs, maxLength: c.maxLength, seed: c.seed };
      let vectors: { data: Float32Array; dim: number } | undefined;
      if (paradigm === "oleo") {
        if (c.vectors) vectors = await loadFeatureFile(c.vectors);
        else if (isNewsData(data)) {
          vectors = await artifact("oleo_vectors", async () => {
            const s1 = await pretrainEncoder(data.itemText, stage1, log);
            const v = await s1.mlm.export();
            const dim = s1.mlm.encoder.hidden;
            s1.mlm.dispose();
            log(`encode once: ${data.numItems} items × ${dim} (${s1.seconds.toFixed(1)} s MLM)`);
            return { data: v, dim };
          });
        }
      }
      const { model } = await buildNewsModel(data, {
        userEncoder: name,
        paradigm,
        stage1,
        vectors,
        model: {
          dim: c.dim,
          heads: c.heads,
          maxHistory: c.maxHistory,
          dropout: c.dropout,
          tuneFrom: c.tuneFrom,
          scorer: c.scorer as ScorerKind,
          scorerHidden: c.scorerHidden,
          scorerDropout: c.scorerDropout,
          scorerAttention: c.scorerAttention,
          seed: c.seed,
        },
        log,
      });
      return model;
    },
  });
}

/** Item text of a MIND `news.tsv` or a RecBole `.item` file (every field after the id). */
export function itemTextOf(text: string, source: string): string[] {
  const first = text.slice(0, text.indexOf("\n"));
  if (/:token/.test(first)) {
    return [...splitLines(text)].slice(1).filter((l) => l.length > 0)
      .map((l) => l.split("\t").slice(1).join(" "));
  }
  const news = parseMindNews(text, { source });
  return news.titles.map((t, i) =>
    `${news.categories.tokens[news.category[i]]} ${
      news.subcategories.tokens[news.subcategory[i]]
    } ${t} ${news.abstracts[i]}`
  );
}

register({
  name: "textmlm",
  title: "TextMLM",
  task: "pretrain",
  about: "OLEO stage 1: L3H4E64 news encoder, masked-language modelling on item text",
  data: "data with item text (ML-100K, synthetic), or an item text file via --set text=PATH",
  settings: {
    text: str("", "item text file (MIND news.tsv or RecBole .item); default: the data's"),
    maxLength: int(24, "tokens per item ([CLS] included)"),
    hidden: int(64, "encoder width"),
    layers: int(3, "Transformer layers"),
    heads: int(4, "attention heads"),
  },
  training: { lr: 2e-3, batchSize: 64, epochs: 10 },
  tiny: { maxLength: 8, hidden: 16, layers: 1, heads: 2 },
  build: async ({ data, config: c }) => {
    const text = c.text ? itemTextOf(await Deno.readTextFile(c.text), c.text) : data.itemText;
    if (!text) {
      throw new Error(
        `wgrec textmlm: ${data.name} has no item text; give it with --set text=PATH ` +
          `(news.tsv or .item)`,
      );
    }
    const tokens = tokenize(text, { maxLength: c.maxLength });
    let vocab = 0;
    for (const x of tokens.ids) vocab = Math.max(vocab, x + 1);
    return new TextMlm(tokens, {
      vocabSize: vocab,
      hidden: c.hidden,
      layers: c.layers,
      heads: c.heads,
      seed: c.seed,
    });
  },
});
