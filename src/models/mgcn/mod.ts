/**
 * MGCN (Yu et al., ACM MM 2023) as in MMRec.
 * @module
 */

export { MGCN, MGCN_DEFAULTS, QueryCommon } from "./model.ts";
export type { MgcnConfig } from "./model.ts";
