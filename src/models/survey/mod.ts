/**
 * The survey's adaptation comparison (issue 20 item 3): TextRec, a pretrained text encoder
 * adapted by one of the four strategies as the item tower of a BPR recommender.
 * @module
 */

export { TextRec, TEXTREC_DEFAULTS } from "./model.ts";
export type { TextRecConfig } from "./model.ts";
