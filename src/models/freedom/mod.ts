/**
 * FREEDOM (Zhou & Shen, ACM MM 2023) as in MMRec.
 * @module
 */

export { FREEDOM, FREEDOM_DEFAULTS, prunedAdjacency } from "./model.ts";
export type { FreedomConfig, ItemModalities } from "./model.ts";
