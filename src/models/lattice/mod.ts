/**
 * LATTICE (Zhang et al., ACM MM 2021) as in MMRec.
 * @module
 */

export { LATTICE, LATTICE_DEFAULTS, selfLoopAdjacency } from "./model.ts";
export type { ItemGraph, LatticeConfig } from "./model.ts";
