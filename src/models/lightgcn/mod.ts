/**
 * LightGCN, as in MMRec.
 * @module
 */

export { LightGCN } from "./model.ts";
export type { LightGcnConfig } from "./model.ts";
