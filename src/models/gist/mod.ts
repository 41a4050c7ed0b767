/**
 * GIST (../shared/specs/gist.md; no public code, the design is ours from the abstract):
 * cross-domain CTR with decoupled stages — the source stage (CBJT: content–behaviour joint
 * embeddings guided by target clicks) trains and exports alone, the lifelong source-sequence
 * search retrieves the K source items nearest each target item on the GPU, and the target CTR
 * model attends over them with asymmetric similarity integration (ASI).
 * @module
 */

export { Gist, GIST_DEFAULTS } from "./model.ts";
export type { GistBatch, GistConfig } from "./model.ts";
export { AsymmetricSimilarity } from "./asi.ts";
export {
  engagementPairs,
  SOURCE_DEFAULTS,
  SourceModel,
  trainSource,
  updateSource,
} from "./source.ts";
export type { SourceBatch, SourceConfig, SourceExport, SourceTrainOptions } from "./source.ts";
export { lifelongSearch, lifelongSearchCpu } from "./search.ts";
export type { SearchOptions } from "./search.ts";
export { ml100kCrossDomainFromText, searchLimits, syntheticTwoDomain } from "./data.ts";
export type {
  CrossDomainData,
  Csr as GistCsr,
  Ml100kDomainOptions,
  TwoDomainOptions,
} from "./data.ts";
