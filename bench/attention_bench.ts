/**
 * Attention forward and forward+backward: wgrec's fused kernels (`attention`), wgrec's unfused
 * composition (`matmul` → `softmax` → `matmul`, the L×L matrices in memory) and tfjs-webgpu's
 * composition (`matMul` → `softmax` → `matMul`, gradients by `tf.grads`) on the same adapter in
 * one process, for B×H heads of length L and head dim d (self-attention, no mask).
 *
 * `deno bench -A bench/attention_bench.ts` runs a small case through Deno.bench.
 * `deno run -A bench/attention_bench.ts [--write] [--only=L,…] [--backward=fused|chunked]` runs
 * the sweep L ∈ {128, 256, 512, 1024}, H = 8, d = 64, B = 32 reduced for L ≥ 512 (so that one L×L
 * matrix of the unfused paths stays at 64 MiB, under the 128 MiB binding limit, and a run
 * fits in the time of a software adapter), and with --write stores
 * bench/results/attention.{md,json}.
 *
 * Memory is the peak of bytes held by tensors during one step beyond the inputs: for wgrec
 * from the buffer pool's live bytes (watched on every allocation), for tfjs from `tf.profile`.
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs-core@4.22";
import "npm:@tensorflow/tfjs-backend-webgpu@4.22";
// The umbrella package registers the gradient functions (tfjs-core alone has none); it shares
// the tfjs-core instance above.
import "npm:@tensorflow/tfjs@4.22";
import {
  attention,
  attentionBackward,
  backward,
  init,
  matmul,
  noGrad,
  randNormal,
  reshape,
  runtime,
  scale,
  softmax,
  sum,
  type Tensor,
  tidy,
} from "../internal.ts";
import { loadAverage, markdownTable, summarize, timeGpu, writeReport } from "./harness.ts";

await init();
await tf.setBackend("webgpu");
await tf.ready();

const METHODS = ["fused", "unfused", "tfjs"] as const;
type Method = typeof METHODS[number];
type Mode = "fwd" | "fwd+bwd";

interface Case {
  b: number;
  h: number;
  l: number;
  d: number;
  q: Tensor<"f32">;
  k: Tensor<"f32">;
  v: Tensor<"f32">;
  tq: tf.Tensor3D;
  tk: tf.Tensor3D;
  tv: tf.Tensor3D;
}

async function makeCase(b: number, h: number, l: number, d: number): Promise<Case> {
  const [q, k, v] = [1, 2, 3].map((s) => randNormal([b, h, l, d], s));
  for (const t of [q, k, v]) t.requiresGrad = true;
  const host = [await q.read(), await k.read(), await v.read()];
  const [tq, tk, tv] = host.map((x) => tf.tensor3d(x, [b * h, l, d]));
  return { b, h, l, d, q, k, v, tq, tk, tv };
}

function disposeCase(c: Case): void {
  for (const t of [c.q, c.k, c.v]) t.dispose();
  tf.dispose([c.tq, c.tk, c.tv]);
}

/** wgrec's unfused path on [B·H, L, d] views. */
function unfused(q: Tensor<"f32">, k: Tensor<"f32">, v: Tensor<"f32">): Tensor<"f32"> {
  const [b, h, l, d] = q.shape;
  const r = (t: Tensor<"f32">) => reshape(t, [b * h, l, d]);
  const s = scale(matmul(r(q), r(k), { transB: true }), 1 / Math.sqrt(d));
  return reshape(matmul(softmax(s), r(v)), [b, h, l, d]);
}

function tfAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, d: number): tf.Tensor3D {
  const s = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
  return tf.matMul(tf.softmax(s), v);
}

/** Records (and for tfjs submits) one step; the harness waits for the queue. */
function step(c: Case, method: Method, mode: Mode): void {
  if (method === "tfjs") {
    const out = tf.tidy(() => {
      if (mode === "fwd") return [tfAttention(c.tq, c.tk, c.tv, c.d)];
      const f = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) =>
        tf.sum(tfAttention(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, c.d));
      return tf.grads(f)([c.tq, c.tk, c.tv]);
    });
    tf.dispose(out);
    // tfjs-webgpu batches its dispatches: submit them now, for the timer and the queue wait.
    // The open compute pass must end first: finishing an encoder with an open pass gives an
    // invalid command buffer, whose work never runs (this read 0.0 ms for the L = 128 forward).
    // deno-lint-ignore no-explicit-any
    const be = tf.backend() as any;
    if (be.commandEncoder) {
      be.endComputePassEncoder();
      be.submitQueue();
    }
    return;
  }
  const f = method === "fused" ? attention : unfused;
  tidy(() => {
    if (mode === "fwd") noGrad(() => f(c.q, c.k, c.v));
    else backward(sum(f(c.q, c.k, c.v)));
  });
  for (const t of [c.q, c.k, c.v]) {
    t.grad?.dispose();
    t.grad = null;
  }
  runtime().flush();
}

/** Peak bytes held by tensors during one step, beyond what was held before it. */
async function peakBytes(c: Case, method: Method, mode: Mode): Promise<number> {
  if (method === "tfjs") {
    const info = await tf.profile(() => step(c, method, mode));
    return info.peakBytes - tf.memory().numBytes;
  }
  const pool = runtime().pool;
  const base = pool.stats().liveBytes;
  let peak = base;
  const acquire = pool.acquire.bind(pool);
  pool.acquire = (bytes: number, op?: string) => {
    const r = acquire(bytes, op);
    peak = Math.max(peak, pool.stats().liveBytes);
    return r;
  };
  try {
    step(c, method, mode);
    await runtime().sync();
  } finally {
    // deno-lint-ignore no-explicit-any
    delete (pool as any).acquire;
  }
  return peak - base;
}

function deviceOf(method: Method): GPUDevice {
  // deno-lint-ignore no-explicit-any
  return method === "tfjs" ? (tf.backend() as any).device : runtime().device;
}

// --- Deno.bench: a small case ---------------------------------------------------------
const small = await makeCase(4, 8, 128, 64);
for (const mode of ["fwd", "fwd+bwd"] as const) {
  for (const method of METHODS) {
    Deno.bench({
      name: `attention B=4 H=8 L=128 d=64 ${mode} ${method}`,
      group: `attention ${mode}`,
      baseline: method === "fused",
      fn: async () => {
        step(small, method, mode);
        await deviceOf(method).queue.onSubmittedWorkDone();
      },
    });
  }
}

// --- sweep --------------------------------------------------------------------------------
if (import.meta.main) {
  const write = Deno.args.includes("--write");
  const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7).split(",").map(Number);
  // --backward=fused|chunked|auto picks the backward path (see attentionBackward).
  const path = Deno.args.find((a) => a.startsWith("--backward="))?.slice(11);
  if (path) attentionBackward.path = path as typeof attentionBackward.path;
  const H = 8;
  const D = 64;
  const sweep: [number, number][] = [[32, 128], [32, 256], [8, 512], [2, 1024]];
  const rows: Record<string, unknown>[] = [];
  const adapter = runtime().gpu.adapter.description;
  for (const [B, L] of sweep) {
    if (only && !only.includes(L)) continue;
    const c = await makeCase(B, H, L, D);
    for (const mode of ["fwd", "fwd+bwd"] as const) {
      const row: Record<string, unknown> = { B, H, L, d: D, mode };
      for (const method of METHODS) {
        const t = await timeGpu(() => step(c, method, mode), {
          device: deviceOf(method),
          warmup: 1,
          reps: 3,
        });
        row[`${method}_ms`] = t.median;
        row[`${method}_wall_ms`] = summarize(t.wallMs).median;
        // CPU time of the driver threads (the "GPU" of a software adapter): independent of how
        // busy the shared machine is, unlike the elapsed times.
        row[`${method}_cpu_ms`] = t.workerCpuMs;
        row[`${method}_method`] = t.method;
        row[`${method}_peak_mib`] = (await peakBytes(c, method, mode)) / 2 ** 20;
        console.log(
          `B=${B} L=${L} ${mode} ${method}: ${t.median.toFixed(1)} ms (${t.method}), ` +
            `driver CPU ${t.workerCpuMs ?? "n/a"} ms, ` +
            `peak ${(row[`${method}_peak_mib`] as number).toFixed(1)} MiB`,
        );
      }
      rows.push(row);
    }
    disposeCase(c);
  }
  const f1 = (x: unknown) => (x as number).toFixed(1);
  const f0 = (x: unknown) => (x as number).toFixed(0);
  const table = markdownTable(
    [
      "B",
      "L",
      "pass",
      "fused ms",
      "unfused ms",
      "tfjs ms",
      "tfjs / fused",
      "fused CPU ms",
      "tfjs CPU ms",
      "tfjs / fused (CPU)",
      "fused MiB",
      "unfused MiB",
      "tfjs MiB",
    ],
    rows.map((r) => [
      `${r.B}`,
      `${r.L}`,
      `${r.mode}`,
      f1(r.fused_ms),
      f1(r.unfused_ms),
      f1(r.tfjs_ms),
      ((r.tfjs_ms as number) / (r.fused_ms as number)).toFixed(2),
      r.fused_cpu_ms === null ? "n/a" : f0(r.fused_cpu_ms),
      r.tfjs_cpu_ms === null ? "n/a" : f0(r.tfjs_cpu_ms),
      r.fused_cpu_ms === null
        ? "n/a"
        : ((r.tfjs_cpu_ms as number) / (r.fused_cpu_ms as number)).toFixed(2),
      f1(r.fused_peak_mib),
      f1(r.unfused_peak_mib),
      f1(r.tfjs_peak_mib),
    ]),
  );
  const load = loadAverage();
  const md = `# Attention (fused vs unfused vs tfjs-webgpu)

Measured ${new Date().toISOString()} with \`deno run -A bench/attention_bench.ts --write\` on
adapter: ${adapter}; load average before the report ${load?.join(", ") ?? "n/a"} (a shared
2-core machine: other jobs ran at the same time, so times are noisy).

softmax(QKᵀ/√d)·V for B×H heads, H = 8, d = 64, self-attention without masks. fused =
\`attention\` (online softmax, no L×L matrix; backward recomputes from the saved log-sum-exp);
unfused = wgrec \`matmul\` → \`softmax\` → \`matmul\` (L×L matrices in memory, autograd);
tfjs = tfjs-webgpu 4.22 \`matMul\` → \`softmax\` → \`matMul\` with \`tf.grads\`. fwd+bwd is
the forward and the gradients of sum(out) with respect to q, k and v. Times are medians of
3 runs after a warm-up, from timestamp queries around each submit where the device has them
(column *_method in the JSON). B is 32 for L ≤ 256 and reduced for longer sequences
(B = 8 at L = 512, 2 at L = 1024) to keep one L×L matrix of the unfused paths at 64 MiB and a
run within the time of a software adapter. CPU ms = CPU time of the process's driver threads
(the threads that run the shaders on llvmpipe; harness \`workerCpuMs\`, 10 ms ticks) per step,
mean of the timed runs: it does not grow with the load of other jobs, so the CPU ratio is the
load-independent comparison. MiB = peak bytes held by tensors during one step beyond the
inputs. Backward setting: \`attentionBackward\` = \`${JSON.stringify(attentionBackward)}\`.

${table}
`;
  console.log(md);
  if (write) await writeReport("bench/results/attention", md, { adapter, load, rows });
}
