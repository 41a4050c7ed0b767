// Matmul kernels: `deno bench -A bench/matmul_bench.ts`. Each iteration records the op and
// waits for the queue (`runtime().sync()`); inputs are made once per shape. The library
// comparison (tfjs-webgpu, jax-js) is bench/compare.ts.
import {
  add,
  init,
  keep,
  linear,
  matmul,
  type MatmulConfig,
  matmulWith,
  randNormal,
  relu,
  runtime,
  type Tensor,
  tidy,
} from "../internal.ts";

await init();
const adapter = runtime().gpu.adapter.description;

function operands(shapeA: number[], shapeB: number[]): [Tensor<"f32">, Tensor<"f32">] {
  return [keep(randNormal(shapeA, 1)), keep(randNormal(shapeB, 2))];
}

/** A bench of `op` that records it, waits for the GPU and frees the result. */
function gpuBench(name: string, group: string, n: number, op: () => Tensor<"f32">): void {
  Deno.bench({
    name,
    group,
    n,
    warmup: 1,
    async fn() {
      tidy(() => {
        op();
      });
      await runtime().sync();
    },
  });
}

const squares = [256, 512, 1024];
for (const s of squares) {
  const [a, b] = operands([s, s], [s, s]);
  gpuBench(`${s}² selected (${adapter})`, `square ${s}`, s >= 1024 ? 5 : 10, () => matmul(a, b));
  const configs: MatmulConfig[] = [
    { family: "regblock", rm: 8, rn: 8 },
    { family: "regblock", rm: 4, rn: 4 },
    { family: "tiled", tr: 4 },
  ];
  if (s <= 512) {
    for (const cfg of configs) {
      const label = cfg.family === "regblock"
        ? `regblock ${4 * cfg.rm}×${4 * cfg.rn}`
        : `tiled ${16 * cfg.tr}²`;
      gpuBench(`${s}² ${label}`, `square ${s}`, 5, () => matmulWith(cfg, a, b));
    }
  }
}

{
  const [q, k] = operands([4096, 64], [4096, 64]);
  gpuBench(
    "in-batch logits 4096×64·(4096×64)ᵀ",
    "library shapes",
    3,
    () => matmul(q, k, { transB: true }),
  );
  const [u, items] = operands([1024, 64], [20000, 64]);
  gpuBench(
    "full ranking 1024×64·(20000×64)ᵀ",
    "library shapes",
    3,
    () => matmul(u, items, { transB: true }),
  );
  const [qa, ka] = operands([64, 128, 64], [64, 64, 128]);
  gpuBench("attention scores 64×(128×64·64×128)", "library shapes", 5, () => matmul(qa, ka));
}

{
  // nn.Linear-style layer: x [8192, 256], w [256, 256] stored [out, in].
  const [x, w] = operands([8192, 256], [256, 256]);
  const bias = keep(randNormal([256], 3));
  gpuBench(
    "linear fused: relu(x·wᵀ + b)",
    "linear 8192×256·256×256",
    3,
    () => linear(x, w, bias, "relu"),
  );
  gpuBench(
    "unfused: relu(add(matmul(x, wᵀ), b))",
    "linear 8192×256·256×256",
    3,
    () => relu(add(matmul(x, w, { transB: true }), bias)),
  );
}
