/**
 * Training and evaluation: the generic loop over a task (`trainLoop`), the tasks (top-K
 * retrieval with `fit`, CTR, impressions, pretraining), full-ranking evaluation, and serving
 * (`recommend`).
 * @module
 */

export { checkLoopOptions, trainLoop } from "./loop.ts";
export type {
  EpochLog,
  FitResult,
  LoopOptions,
  LossOutput,
  LrSchedule,
  ProgressInfo,
  Task,
} from "./loop.ts";
export { fmtSeconds, formatProgress, terminalProgress } from "./progress.ts";
export { fit, Recommender, retrievalTask, trainData, tripletTensors } from "./fit.ts";
export type { FitOptions, TrainData, TripletTensors } from "./fit.ts";
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
