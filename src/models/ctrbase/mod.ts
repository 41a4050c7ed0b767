/**
 * The classic CTR baselines (LR, FM, DNN, DeepFM, DCN-v2, DIN) on the shared CTR toolkit.
 * @module
 */

export { CTR_BASELINE_DEFAULTS, CtrBaseline } from "./model.ts";
export type { CtrBaselineConfig, CtrBaselineKind } from "./model.ts";
