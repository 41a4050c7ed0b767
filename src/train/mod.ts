/**
 * Training and evaluation: the fit loop over a task, the top-K retrieval task and its
 * full-ranking evaluation, and serving (`recommend`).
 * @module
 */

export {
  fit,
  fmtSeconds,
  formatProgress,
  Recommender,
  terminalProgress,
  trainData,
  tripletTensors,
} from "./fit.ts";
export type {
  EpochLog,
  FitOptions,
  FitResult,
  LossOutput,
  ProgressInfo,
  TrainData,
  TripletTensors,
} from "./fit.ts";
export {
  DEFAULT_KS,
  evaluateEmbeddings,
  evaluateModel,
  evaluateScores,
  evalUsers,
  featureMetrics,
  itemCfMetrics,
  maskedItems,
  recommend,
  zeroRows,
  zeroShotMetrics,
} from "./eval.ts";
export type { FeatureMetrics, ItemCfOptions } from "./eval.ts";
