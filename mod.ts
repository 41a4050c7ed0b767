/**
 * wgrec: hand-written WGSL kernels, a small autograd and multimodal recommendation / CTR
 * models for WebGPU, in Deno and browsers.
 *
 * The core (tensors, scopes, autograd) is exported by name; everything else by namespace:
 * `ops`, `nn`, `optim`, `train`, `data`, `metrics`, `io`, `models`. Each model family is
 * also its own entry (`@wgrec/wgrec/models/<paper>`); runtime internals (kernel specs, the
 * buffer pool, gradient rules, reference kernels) are in `@wgrec/wgrec/internal`.
 *
 * ```ts
 * import { init, ops, randNormal } from "./mod.ts";
 * await init();
 * const c = ops.matmul(randNormal([4, 8], 1), randNormal([8, 3], 2));
 * console.log(await c.read());
 * ```
 * @module
 */

export {
  checkNumerics,
  empty,
  full,
  init,
  keep,
  memory,
  ones,
  randNormal,
  randUniform,
  readAll,
  runtime,
  Tensor,
  tensor,
  tidy,
  trackTensorSites,
  zeros,
} from "./src/tensor.ts";
export type {
  DType,
  InitOptions,
  LiveGroup,
  MemoryStats,
  NestedNumbers,
  Shape,
} from "./src/tensor.ts";
export { backward, grad } from "./src/autograd/backward.ts";
export { noGrad } from "./src/autograd/tape.ts";
export { Rng } from "./src/random.ts";
export { formatProfile, Profiler } from "./src/gpu/profiler.ts";
export type { ProfileReport, ProfileRow } from "./src/gpu/profiler.ts";
export * as ops from "./src/ops/mod.ts";
export * as nn from "./src/nn/mod.ts";
export * as optim from "./src/nn/optim.ts";
export * as train from "./src/train/mod.ts";
export * as data from "./src/data/mod.ts";
export * as metrics from "./src/metrics/mod.ts";
export * as io from "./src/io/mod.ts";
export * as models from "./src/models/mod.ts";
