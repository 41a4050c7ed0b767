/**
 * Assembling a news model per paradigm (spec §4.2): tokenise the item text, then
 *
 * - oleo: stage 1 — MLM pretraining of the text encoder on the shared training loop
 *   (`trainLoop` + `pretrainTask`) — and one pass that encodes every item once; stage 2 trains
 *   over the frozen vectors. Vectors from any source (a `.npy`) skip stage 1.
 * - e2e: a fresh encoder inside the recommender, trained jointly from scratch (PLMNR).
 * - cache: the stage-1 encoder's lower layers frozen and their states cached, the top layers
 *   tuned with the recommender (the BERT-* layer-caching baseline).
 *
 * Histories come with the data ({@link NewsData}) or, for plain impressions, are each user's
 * training clicks in order.
 * @module
 */

import { pretrainTask } from "../../train/pretrain.ts";
import { trainLoop } from "../../train/loop.ts";
import type { ImpressionSplits } from "../../train/impression.ts";
import { type NewsRecConfig, NewsRecommender, type Paradigm } from "./model.ts";
import { TextEncoder } from "./text_encoder.ts";
import { type TokenRows, WordTokenizer } from "./tokenizer.ts";
import { TextMlm } from "./pretrain.ts";
import { isNewsData } from "./data.ts";
import type { UserEncoderKind } from "./user_encoders.ts";

/** Stage-1 settings (the L3H4E64 encoder and its MLM schedule). */
export interface Stage1Config {
  /** Tokens per item row ([CLS] included). Default 24. */
  maxLength?: number;
  /** Words seen fewer times are `[UNK]`. Default 1. */
  minCount?: number;
  /** Encoder width, layers, heads. Defaults 64, 3, 4. */
  hidden?: number;
  /** See {@link hidden}. */
  layers?: number;
  /** See {@link hidden}. */
  heads?: number;
  /** MLM epochs, batch size and learning rate. Defaults 10, 64, 2e-3. */
  epochs?: number;
  /** See {@link epochs}. */
  batchSize?: number;
  /** See {@link epochs}. */
  lr?: number;
  /** Seed. Default 0. */
  seed?: number;
}

/** A stage-1 result: the pretrained encoder, its tokens, and the seconds it took. */
export interface Stage1Result {
  /** The pretrained model (its `encoder`). */
  mlm: TextMlm;
  /** Item token rows. */
  tokens: TokenRows;
  /** Wall-clock seconds of pretraining. */
  seconds: number;
  /** Final held-out masked-token accuracy. */
  accuracy: number;
}

/** Tokenises item text with a tokenizer fitted on it. */
export function tokenize(text: readonly string[], cfg: Stage1Config = {}): TokenRows {
  const tok = WordTokenizer.fit(text, { minCount: cfg.minCount ?? 1 });
  return tok.encode(text, cfg.maxLength ?? 24);
}

function encoderConfig(tokens: TokenRows, vocabSize: number, cfg: Stage1Config) {
  return {
    vocabSize,
    maxLength: tokens.L,
    hidden: cfg.hidden ?? 64,
    layers: cfg.layers ?? 3,
    heads: cfg.heads ?? 4,
    seed: cfg.seed ?? 0,
  };
}

function vocabOf(tokens: TokenRows): number {
  let m = 0;
  for (const x of tokens.ids) m = Math.max(m, x);
  return m + 1;
}

/** Stage 1: MLM pretraining of the news encoder on the item text (shared training loop). */
export async function pretrainEncoder(
  text: readonly string[],
  cfg: Stage1Config = {},
  log: (line: string) => void = () => {},
): Promise<Stage1Result> {
  const tokens = tokenize(text, cfg);
  const mlm = new TextMlm(tokens, encoderConfig(tokens, vocabOf(tokens), cfg));
  const t0 = performance.now();
  const r = await trainLoop(pretrainTask(mlm), {
    epochs: cfg.epochs ?? 10,
    batchSize: cfg.batchSize ?? 64,
    lr: cfg.lr ?? 2e-3,
    seed: cfg.seed ?? 0,
    patience: 1000,
    onEpoch: (e) =>
      log(`textmlm epoch ${e.epoch}: loss ${e.loss.toFixed(4)} ${JSON.stringify(e.valid ?? {})}`),
  });
  return {
    mlm,
    tokens,
    seconds: (performance.now() - t0) / 1000,
    accuracy: r.valid.mlm_acc ?? NaN,
  };
}

/** Per-user click histories: the data's own, else the training clicks in order. */
export function historiesOf(data: ImpressionSplits): { ptr: Int32Array; items: Int32Array } {
  if (isNewsData(data)) return data.history;
  const lists: number[][] = Array.from({ length: data.numUsers }, () => []);
  for (const imp of data.train) {
    imp.labels.forEach((y, j) => y && lists[imp.user].push(imp.items[j]));
  }
  const ptr = new Int32Array(data.numUsers + 1);
  lists.forEach((l, i) => (ptr[i + 1] = ptr[i] + l.length));
  return { ptr, items: Int32Array.from(lists.flat()) };
}

/** What {@link buildNewsModel} needs beyond the data. */
export interface BuildNewsOptions {
  /** User encoder. */
  userEncoder: UserEncoderKind;
  /** Paradigm. */
  paradigm: Paradigm;
  /** Stage-2 settings. */
  model?: Omit<NewsRecConfig, "userEncoder" | "paradigm">;
  /** Stage-1 settings. */
  stage1?: Stage1Config;
  /** oleo: frozen item vectors from elsewhere (skip stage 1). */
  vectors?: { data: Float32Array; dim: number };
  /** Progress lines. */
  log?: (line: string) => void;
}

/** A built news model and the stage-1 cost it took (0 when none ran). */
export interface BuiltNewsModel {
  /** The model. */
  model: NewsRecommender;
  /** Stage-1 wall-clock seconds (pretraining + the encode-once pass). */
  stage1Seconds: number;
}

/** Builds a news model for `data` in the given paradigm (running stage 1 when it needs it). */
export async function buildNewsModel(
  data: ImpressionSplits,
  o: BuildNewsOptions,
): Promise<BuiltNewsModel> {
  const base = {
    numUsers: data.numUsers,
    numItems: data.numItems,
    history: historiesOf(data),
  };
  const config = { ...o.model, userEncoder: o.userEncoder, paradigm: o.paradigm };
  if (o.paradigm === "oleo" && o.vectors) {
    return {
      model: new NewsRecommender({ ...base, vectors: o.vectors }, config),
      stage1Seconds: 0,
    };
  }
  if (!isNewsData(data)) {
    throw new Error(
      `wgrec ${o.userEncoder}: ${data.name} has no item text; paradigm '${o.paradigm}' needs ` +
        `news data (MIND files or ml100kNews) or, for oleo, --set vectors=PATH.npy`,
    );
  }
  if (o.paradigm === "e2e") {
    const tokens = tokenize(data.itemText, o.stage1);
    const enc = new TextEncoder(encoderConfig(tokens, vocabOf(tokens), o.stage1 ?? {}));
    return {
      model: new NewsRecommender({ ...base, encoder: enc, tokens }, config),
      stage1Seconds: 0,
    };
  }
  const s1 = await pretrainEncoder(data.itemText, o.stage1, o.log);
  if (o.paradigm === "cache") {
    const model = new NewsRecommender(
      { ...base, encoder: s1.mlm.encoder, tokens: s1.tokens },
      config,
    );
    return { model, stage1Seconds: s1.seconds };
  }
  const t0 = performance.now();
  const v = await s1.mlm.export();
  const seconds = s1.seconds + (performance.now() - t0) / 1000;
  const dim = s1.mlm.encoder.hidden;
  s1.mlm.dispose();
  return {
    model: new NewsRecommender({ ...base, vectors: { data: v, dim } }, config),
    stage1Seconds: seconds,
  };
}

/**
 * GreenRec's efficiency metric (spec §4.1): ApC = (AUC − 50) / energy × 100 with AUC in %,
 * energy = wall-clock seconds × device watts (joules here; only ratios matter).
 */
export function accuracyPerCost(auc: number, seconds: number, watts: number): number {
  return ((100 * auc - 50) / (seconds * watts)) * 100;
}
