/**
 * Differentiable tensor ops, by family: elementwise, reductions, shapes, min/max, selection,
 * softmax, layer norm and scans (`core/`); matmul and the fused linear layer (`matmul/`);
 * gathers, scatters and sparse products (`sparse/`); fused attention (`attention/`); InfoNCE,
 * ranking and similarity losses (`losses/`); vector quantisation (`vq/`); top-k and hashing
 * (`search/`); the audio front end: FFTs, framing, mel filterbanks (`audio/`). Paper-specific
 * ops live beside their model in `src/models/<paper>/`.
 * @module
 */

export { checkIndices } from "./index_check.ts";
export {
  abs,
  add,
  affine,
  div,
  eq,
  exp,
  ge,
  gelu,
  gt,
  log,
  logSigmoid,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  powScalar,
  relu,
  scale,
  sigmoid,
  softplus,
  sqrt,
  square,
  sub,
  tanh,
} from "./core/elementwise.ts";
export { fused, fx } from "./core/fused.ts";
export type { Expr } from "./core/fused.ts";
export { mean, reduceAxis, sum, sumTo } from "./core/reduce.ts";
export { broadcastTo, concat, permute, reshape, slice, transpose } from "./core/shape.ts";
export { argmax, argmin, max, min } from "./core/minmax.ts";
export { maskedFill, where } from "./core/where.ts";
export { logSoftmax, logSumExp, softmax } from "./core/softmax.ts";
export { layerNorm } from "./core/layernorm.ts";
export { buildCsr, csrRowIds, exclusiveScan } from "./core/scan.ts";
export type { BuildCsrOptions, CsrIndex } from "./core/scan.ts";
export { linear, matmul } from "./matmul/matmul.ts";
export type { LinearActivation, MatmulOptions } from "./matmul/matmul.ts";
export { gather, scatterAdd } from "./sparse/gather.ts";
export {
  bipartiteAdjacency,
  knnGraph,
  normalizedUserItem,
  normalizeEdges,
  rowL2Normalize,
  SparseMatrix,
} from "./sparse/sparse.ts";
export { spmm } from "./sparse/spmm.ts";
export { propagateRows, rowSubset } from "./sparse/propagate.ts";
export type { RowSubset } from "./sparse/propagate.ts";
export type {
  CsrArrays,
  EdgeNorm,
  InteractionList,
  KnnOptions,
  SparseOptions,
} from "./sparse/sparse.ts";
export { attention, attentionBackward, MAX_HEAD_DIM } from "./attention/attention.ts";
export type { AttentionLayout, AttentionOptions } from "./attention/attention.ts";
export { infoNce } from "./losses/infonce.ts";
export type { InfoNceOptions } from "./losses/infonce.ts";
export { bceWithLogits, bprLoss, sampledSoftmaxLoss } from "./losses/ranking.ts";
export type { SampledSoftmaxOptions } from "./losses/ranking.ts";
export { bprRows } from "./losses/bpr_rows.ts";
export { embNormSum } from "./losses/rowwise.ts";
export {
  cosineLoss,
  cosineSimilarity,
  cosineSimilarityMatrix,
  frobenius,
  l2NormalizeRows,
  rowDot,
} from "./losses/similarity.ts";
export {
  centroidUpdate,
  codeLookup,
  codeStats,
  emaUpdate,
  MAX_TOPK,
  nearestCode,
  resetDeadCodes,
  topKCodes,
} from "./vq/vq.ts";
export type {
  CodeStats,
  DeadCodeArgs,
  EmaState,
  NearestOptions,
  NearestResult,
  VqMetric,
} from "./vq/vq.ts";
export { fullRankTopK, fullRankTopKDot, tiledTopK, topk, TOPK_MAX_K } from "./search/topk.ts";
export type { ExcludeCsr, FullRankOptions, TiledTopKOptions, TopK } from "./search/topk.ts";
export { hammingTopK, simhash, simhashPlanes } from "./search/hashing.ts";
export { conv2d, convTranspose2d } from "./conv/conv.ts";
export type { Conv2dOptions, ConvTranspose2dOptions } from "./conv/conv.ts";
export type { ConvLayout, Pair } from "./conv/geometry.ts";
export { avgPool2d, maxPool2d } from "./conv/pool.ts";
export type { Pool2dOptions } from "./conv/pool.ts";
export { batchNorm } from "./conv/batchnorm.ts";
export type { BatchNormOptions } from "./conv/batchnorm.ts";
export { lstm, lstmCell, lstmSequence } from "./rnn/lstm.ts";
export type { LstmResult, LstmWeights } from "./rnn/lstm.ts";
export type { ExcludeGroups, HammingTopK, RetrievalOptions } from "./search/hashing.ts";
export { GRU_MAX_HIDDEN, gruSequence } from "./rnn/gru.ts";
export { fft, irfft, powerSpectrum, rfft } from "./audio/fft.ts";
export { AudioFrontEnd } from "./audio/frontend.ts";
export {
  htkFilterbank,
  kaldiFbank,
  kaldiFilterbank,
  makeWindow,
  melSpectrogram,
} from "./audio/settings.ts";
export type {
  FrontEndSettings,
  KaldiFbankOptions,
  MelScale,
  MelSpectrogramOptions,
  WindowKind,
} from "./audio/settings.ts";
