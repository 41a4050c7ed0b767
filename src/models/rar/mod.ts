/**
 * RAR (../shared/specs/rar.md): recall-augmented ranking on a DIN or DCN-v2 base — a recall
 * stage (two-tower with in-batch InfoNCE, item-CF) whose per-user lists are RAR's cross-stage
 * data, look-alike users and recall items selected on the GPU
 * (SimHash + Hamming top-k or exact inner product), the co-interaction module and the
 * recall-item auxiliary loss.
 * @module
 */

export { Rar, RAR_DEFAULTS } from "./model.ts";
export type { RarConfig, RarVariant } from "./model.ts";
export { CoInteraction } from "./coint.ts";
export { selectFromLists, selectTopK } from "./select.ts";
export {
  itemCfRecall,
  mergeRecall,
  positives,
  RECALL_DEFAULTS,
  recallStage,
  twoTowerRecall,
} from "./recall.ts";
export type { Positives, RecallConfig, RecallLists, RecallMethod } from "./recall.ts";
export type { SelectMethod, SelectOptions } from "./select.ts";
export { auxLabels, crossStageData } from "./data.ts";
export type { CrossStageData } from "./data.ts";
