/**
 * Everything, flat: the public API plus the runtime internals (kernel specs and sources, the
 * buffer pool, the autograd tape and gradient rules, reference and unfused kernels, launch
 * helpers). For tests, benchmarks and new kernels; applications use `mod.ts`.
 * @module
 */

export * from "./src/tensor.ts";
export * from "./src/random.ts";
export * from "./src/autograd/tape.ts";
export * from "./src/autograd/backward.ts";
export * from "./src/autograd/rules.ts";
export * from "./src/gpu/runtime.ts";
export * from "./src/gpu/device.ts";
export * from "./src/gpu/pool.ts";
export * from "./src/gpu/kernel.ts";
export * from "./src/gpu/profiler.ts";
export * from "./src/ops/common.ts";
export * from "./src/ops/index_check.ts";
export * from "./src/ops/core/elementwise.ts";
export * from "./src/ops/core/fused.ts";
export * from "./src/ops/core/reduce.ts";
export * from "./src/ops/core/shape.ts";
export * from "./src/ops/core/minmax.ts";
export * from "./src/ops/core/where.ts";
export * from "./src/ops/core/softmax.ts";
export * from "./src/ops/core/layernorm.ts";
export * from "./src/ops/core/scan.ts";
export * from "./src/ops/matmul/matmul.ts";
export * from "./src/ops/matmul/select.ts";
export * from "./src/ops/sparse/gather.ts";
export * from "./src/ops/sparse/sparse.ts";
export * from "./src/ops/attention/attention.ts";
export * from "./src/ops/losses/infonce.ts";
export * from "./src/ops/losses/ranking.ts";
export * from "./src/ops/losses/similarity.ts";
export * from "./src/ops/vq/vq.ts";
export * from "./src/ops/search/topk.ts";
export * from "./src/ops/search/hashing.ts";
export * from "./src/ops/conv/geometry.ts";
export * from "./src/ops/conv/im2col.ts";
export * from "./src/ops/conv/conv.ts";
export * from "./src/ops/conv/pool.ts";
export * from "./src/ops/conv/batchnorm.ts";
export * from "./src/ops/conv/rules.ts";
export * from "./src/ops/rnn/lstm.ts";
export * from "./src/ops/rnn/gru.ts";
export * from "./src/ops/audio/fft.ts";
export * from "./src/ops/audio/frontend.ts";
export * from "./src/ops/audio/settings.ts";
export * from "./src/ops/audio/cpu.ts";
export * from "./src/nn/module.ts";
export * from "./src/nn/linear.ts";
export * from "./src/nn/embedding.ts";
export * from "./src/nn/init.ts";
export * from "./src/nn/norm.ts";
export * from "./src/nn/conv.ts";
export * from "./src/nn/graph_conv.ts";
export * from "./src/nn/attention.ts";
export * from "./src/nn/rnn.ts";
export * from "./src/nn/mlm.ts";
export * from "./src/nn/vq.ts";
export * from "./src/nn/adapt.ts";
export * from "./src/nn/dropout.ts";
export * from "./src/nn/features.ts";
export * from "./src/nn/ctr.ts";
export * from "./src/nn/objectives.ts";
export * from "./src/nn/optim.ts";
export * from "./src/nn/serialize.ts";
export * from "./src/train/loop.ts";
export * from "./src/train/progress.ts";
export * from "./src/train/fit.ts";
export * from "./src/train/eval.ts";
export * from "./src/train/ctr.ts";
export * from "./src/data/mod.ts";
export * from "./src/metrics/mod.ts";
export * from "./src/io/mod.ts";
export * from "./src/models/mod.ts";
