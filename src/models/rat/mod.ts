/**
 * RAT (../shared/specs/rat.md): the retrieval-augmented transformer for CTR and its JM, CE and
 * PA variants, its field-match × IDF retrieval, and the 10-fold retrieval data path.
 * @module
 */

export { ratRetrieve } from "./retrieve.ts";
export type { RatOptions, RatResult } from "./retrieve.ts";
export {
  Rat,
  RAT_DEFAULTS,
  RatAttention,
  RatBlock,
  RatFeedForward,
  RatTransformer,
} from "./model.ts";
export type { RatConfig, RatInput } from "./model.ts";
export { foldIds, ratInput, retrieveSplits } from "./data.ts";
export type { RatRetrieval, RetrieveOptions } from "./data.ts";
