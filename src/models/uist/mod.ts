/**
 * UIST (../shared/specs/uist.md): semantic tokenizers for items and users (residual
 * quantisation, official no-STE or STE), the hierarchical mixture inference predictor, and the
 * CTR model over the tokens with its dense-embedding counterpart and compression accounting.
 * @module
 */

export { exportNpy, SemanticTokenizer, tokenBatch } from "./tokenizer.ts";
export type { TokenBatch, TokenizerConfig, TokenizerOutput } from "./tokenizer.ts";
export { Dcn, HmiPredictor } from "./hmi.ts";
export type { HmiConfig } from "./hmi.ts";
export { compression, DenseCtr, UistCtr } from "./model.ts";
export type { CompressionRow, SemanticTokens } from "./model.ts";
