/**
 * BM3 (Zhou et al., WWW 2023) as in MMRec.
 * @module
 */

export { BM3, BM3_DEFAULTS } from "./model.ts";
export type { Bm3Config } from "./model.ts";
