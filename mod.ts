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
export * from "./src/ops/matmul_select.ts";
export * from "./src/ops/losses.ts";
export * from "./src/ops/vq.ts";
export * from "./src/ops/softmax.ts";
export * from "./src/ops/layernorm.ts";
export * from "./src/ops/minmax.ts";
export * from "./src/ops/where.ts";
export { Runtime } from "./src/gpu/runtime.ts";
export type { DispatchArgs, RuntimeStats } from "./src/gpu/runtime.ts";
export type { AcquiredDevice, DeviceOptions } from "./src/gpu/device.ts";
export { BufferPool } from "./src/gpu/pool.ts";
export type { PooledBuffer } from "./src/gpu/pool.ts";
export { kernel, kernelSource } from "./src/gpu/kernel.ts";
export type { BindingType, Defines, KernelSpec, UniformType } from "./src/gpu/kernel.ts";
export type { PoolStats } from "./src/gpu/pool.ts";
export * from "./src/nn/module.ts";
export * from "./src/nn/linear.ts";
export * from "./src/nn/optim.ts";
export * from "./src/nn/vq.ts";
export * from "./src/ops/attention.ts";
export * from "./src/nn/serialize.ts";
export * from "./src/data/mod.ts";
export * from "./src/metrics/mod.ts";
export * from "./src/io/mod.ts";
export * from "./src/ops/index_check.ts";
export * from "./src/ops/scan.ts";
export * from "./src/ops/gather.ts";
export * from "./src/ops/sparse.ts";
export * from "./src/ops/topk.ts";
export * from "./src/ops/retrieval.ts";
export * from "./src/models/train.ts";
export * from "./src/models/eval.ts";
export * from "./src/models/baselines.ts";
export * from "./src/models/alignrec.ts";
export * from "./src/models/ica.ts";
export * from "./src/nn/attention.ts";
