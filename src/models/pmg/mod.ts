/**
 * PMG (personalised multimodal generation, Shen et al., WWW 2024), small and faithful: the
 * keyword channel, the soft preference prefix, the text and poster generators, α-selection and
 * the personalisation/accuracy metrics. Package entry `./models/pmg`.
 * @module
 */

export { LAYOUT_DEFAULTS, PMG_DEFAULTS } from "./config.ts";
export type { PmgConfig } from "./config.ts";
export { PmgData } from "./data.ts";
export type { Batch, Layout, Sample } from "./data.ts";
export {
  catalogFromData,
  catalogFromItemFile,
  describeItem,
  describeUser,
  KeywordVocab,
  targetKeywords,
  tfidfKeywords,
  TOKENS,
} from "./keywords.ts";
export type { CatalogSource, ItemCatalog } from "./keywords.ts";
export { genreColour, poster, posters } from "./posters.ts";
export { PreferenceEncoder, SoftPrefix } from "./preference.ts";
export type { PreferenceEncoderConfig } from "./preference.ts";
export { TextGenerator } from "./generator_text.ts";
export type { GeneratorConfig } from "./generator_text.ts";
export { ImageDecoder } from "./generator_image.ts";
export { Pmg } from "./model.ts";
export { selectBest, weightedScore } from "./select.ts";
export { bag, bagCosine, FeatureNet, ImageSpace, meanBag } from "./metrics.ts";
export type { Generated, GenerateOptions } from "./model.ts";
