/**
 * Evaluation metrics: top-K ranking metrics (MMRec/RecBole definitions), CPU top-K selection
 * with history masking, and CTR metrics (AUC, GAUC, LogLoss). Pure TypeScript; browser-safe.
 * @module
 */

export * from "./ranking.ts";
export * from "./topk.ts";
export * from "./ctr.ts";
