/**
 * wgrec: hand-written WGSL kernels, a small autograd and multimodal recommendation / CTR
 * models for WebGPU, in Deno and browsers.
 *
 * ```ts
 * import { init, matmul, randNormal } from "./mod.ts";
 * await init();
 * const c = matmul(randNormal([4, 8], 1), randNormal([8, 3], 2));
 * console.log(await c.read());
 * ```
 * @module
 */

export * from "./src/tensor.ts";
export * from "./src/graph.ts";
export * from "./src/autograd.ts";
export * from "./src/ops/elementwise.ts";
export * from "./src/ops/reduce.ts";
export * from "./src/ops/shape.ts";
export * from "./src/ops/matmul.ts";
export { Runtime } from "./src/gpu/runtime.ts";
export type { DispatchArgs, RuntimeStats } from "./src/gpu/runtime.ts";
export type { AcquiredDevice, DeviceOptions } from "./src/gpu/device.ts";
export type { PoolStats } from "./src/gpu/pool.ts";
export { Rng } from "./src/random.ts";
export * from "./src/nn/module.ts";
export * from "./src/nn/linear.ts";
export * from "./src/nn/optim.ts";
