/**
 * AlignRec (../shared/specs/alignrec.md): stage-1 ICA content encoder and stage-2 CCA + UIA model.
 * @module
 */

export { AlignRec, ALIGNREC_DEFAULTS } from "./model.ts";
export type { AlignRecConfig, AlignRecViews } from "./model.ts";
export { concatFeatures, featuresFromNpy, IcaEncoder, trainIca } from "./ica.ts";
export type { FeatureTable, IcaConfig, IcaResult } from "./ica.ts";
export { simPreservationLoss } from "./losses.ts";
