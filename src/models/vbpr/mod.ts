/**
 * VBPR, as in MMRec.
 * @module
 */

export { VBPR } from "./model.ts";
export type { VbprConfig } from "./model.ts";
