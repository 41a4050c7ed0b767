/**
 * GreenRec / OLEO (../shared/specs/oleo-greenrec.md): encode-once news recommendation — a
 * stage-1 text encoder pretrained with masked-language modelling whose item vectors are
 * exported once, stage-2 user encoders (NAML, NRMS, LSTUR, BST) over the frozen vectors with dot-product or
 * CTR-predictor scoring (DCN, DeepFM, DIN), the
 * end-to-end and layer-caching baselines, the ApC efficiency metric, and the data (MIND files,
 * MovieLens-100K as news, a MIND-format synthetic sample).
 * @module
 */

export { NEWSREC_DEFAULTS, NewsRecommender } from "./model.ts";
export type { NewsInputs, NewsRecConfig, Paradigm } from "./model.ts";
export { BstUser, LsturUser, NamlUser, NrmsUser } from "./user_encoders.ts";
export type { HistoryBatch, UserEncoder, UserEncoderKind } from "./user_encoders.ts";
export { NewsScorer, SCORER_KINDS } from "./scorer.ts";
export type { ScoreInputs, ScorerConfig, ScorerKind } from "./scorer.ts";
export { LayerStack, rowTensors, TextEmbeddings, TextEncoder } from "./text_encoder.ts";
export type { TextEncoderConfig } from "./text_encoder.ts";
export { SPECIAL, words, WordTokenizer } from "./tokenizer.ts";
export type { TokenRows } from "./tokenizer.ts";
export { TextMlm } from "./pretrain.ts";
export { isNewsData, mindData, ml100kNews, syntheticMind } from "./data.ts";
export type { MindFiles, Ml100kNewsOptions, NewsData, SyntheticMindOptions } from "./data.ts";
export {
  accuracyPerCost,
  buildNewsModel,
  historiesOf,
  pretrainEncoder,
  tokenize,
} from "./stage.ts";
export type { BuildNewsOptions, BuiltNewsModel, Stage1Config, Stage1Result } from "./stage.ts";
// The runner task types these models implement and consume.
export type { Impression, ImpressionModel, ImpressionSplits } from "../../train/impression.ts";
export type { PretrainModel } from "../../train/pretrain.ts";
