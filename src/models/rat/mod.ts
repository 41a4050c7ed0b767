/**
 * RAT (../shared/specs/rat.md): its field-match × IDF retrieval.
 * @module
 */

export { ratRetrieve } from "./retrieve.ts";
export type { RatOptions, RatResult } from "./retrieve.ts";
