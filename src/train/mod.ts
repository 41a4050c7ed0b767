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
export type { FeatureMetrics, ItemCfOptions, RawIds } from "./eval.ts";
export { ctrTask, ctrTensors, evaluateCtr } from "./ctr.ts";
export type { CtrModel, CtrSplits, CtrTensors } from "./ctr.ts";
export { evaluateImpressions, impressionMetrics, impressionTask } from "./impression.ts";
export type {
  Impression,
  ImpressionBatch,
  ImpressionModel,
  ImpressionSplits,
} from "./impression.ts";
export { pretrainTask } from "./pretrain.ts";
export type { PretrainModel } from "./pretrain.ts";
