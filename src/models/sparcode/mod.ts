/**
 * SparCode (../shared/specs/sparcode.md): tokenizer → product quantisation → all-to-all
 * interaction encoder → ReLU-sum, served from an inverted index built and queried on the GPU;
 * with the two-tower and all-to-all baselines of its tables.
 * @module
 */

export { SparCode, SPARCODE_DEFAULTS } from "./model.ts";
export type { SparCodeConfig } from "./model.ts";
export { PairScorer } from "./scorer.ts";
export type { Backbone as PairScorerBackbone, PairScorerOptions } from "./scorer.ts";
export { AllToAll, pairwiseTask, TwoTower } from "./baselines.ts";
export type { BaselineConfig, PairwiseScorer } from "./baselines.ts";
export {
  allCodes,
  assertIndexFits,
  buildIndex,
  codeCounts,
  codeIds,
  denseScores,
  disposeIndex,
  indexBytes,
  MAX_INDEX_ITEMS,
  numCodeIds,
  serveScores,
  serveTopK,
} from "./index.ts";
export type { BuildIndexOptions, CodeSpace, InvertedIndex } from "./index.ts";
