/**
 * In-batch InfoNCE (one-way, L2-normalised, τ = 0.2: AlignRec's CCA loss) three ways on the
 * same adapter: wgrec's fused kernels (`infoNce`), the unfused wgrec path (normalise → matmul
 * → logSoftmax → gather of the diagonal) and tfjs-webgpu's composition of the same ops.
 * Each is timed for the loss alone ("fwd") and for the loss with the gradients of A and P
 * ("fwd+bwd"), results read back; peak memory is the most bytes held by tensors during the
 * call above what was held before (wgrec: the buffer pool's live bytes, tfjs: tf.memory()).
 *
 * `deno bench -A bench/losses_bench.ts` runs a small case through Deno.bench.
 * `deno run -A bench/losses_bench.ts [--write] [--fwd] [--b=1024,4096] [--d=64]` runs
 * B ∈ {1024, 4096, 8192} × d ∈ {64, 256} (one timed repetition above B = 1024, so the sweep
 * stays under ten minutes on llvmpipe) and with --write stores bench/results/losses.{md,json}.
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs-core@4.22";
import "npm:@tensorflow/tfjs-backend-webgpu@4.22";
// tfjs-core's bundle registers no gradients; the union package's bundle registers them into
// the same tfjs-core 4.22 instance.
import "npm:@tensorflow/tfjs@4.22";
import {
  backward,
  gather,
  infoNce,
  l2NormalizeRows,
  logSoftmax,
  matmul,
  mean,
  neg,
  randNormal,
  readAll,
  reshape,
  runtime,
  scale,
  type Tensor,
  tensor,
  tidy,
} from "../internal.ts";
import { init } from "../internal.ts";
import { loadAverage, markdownTable, summarize, writeReport } from "./harness.ts";

await init();
await tf.setBackend("webgpu");
await tf.ready();

const TAU = 0.2;
type Method = "fused" | "unfused" | "tfjs";
type Mode = "fwd" | "fwd+bwd";
const METHODS: Method[] = ["fused", "unfused", "tfjs"];

interface Case {
  b: number;
  d: number;
  a: Tensor<"f32">;
  p: Tensor<"f32">;
  diag: Tensor<"i32">;
  ta: tf.Tensor2D;
  tp: tf.Tensor2D;
  tdiag: tf.Tensor1D;
}

async function makeCase(b: number, d: number): Promise<Case> {
  const a = randNormal([b, d], 1);
  const p = randNormal([b, d], 2);
  const [ah, ph] = await readAll([a, p]);
  const idx = Int32Array.from({ length: b }, (_, i) => i * (b + 1));
  return {
    b,
    d,
    a,
    p,
    diag: tensor(idx, [b], "i32"),
    ta: tf.tensor2d(ah, [b, d]),
    tp: tf.tensor2d(ph, [b, d]),
    tdiag: tf.tensor1d(idx, "int32"),
  };
}

function freeCase(c: Case): void {
  for (const t of [c.a, c.p, c.diag]) t.dispose();
  tf.dispose([c.ta, c.tp, c.tdiag]);
}

/** The unfused wgrec loss: −mean_i log_softmax(ÂP̂ᵀ/τ)_ii. */
function unfusedLoss(a: Tensor<"f32">, p: Tensor<"f32">, diag: Tensor<"i32">): Tensor<"f32"> {
  const b = a.shape[0];
  const logits = scale(matmul(l2NormalizeRows(a), l2NormalizeRows(p), { transB: true }), 1 / TAU);
  const picked = gather(reshape(logSoftmax(logits), [b * b, 1]), diag);
  return neg(mean(picked));
}

function tfjsLoss(a: tf.Tensor2D, p: tf.Tensor2D, diag: tf.Tensor1D): tf.Scalar {
  const b = a.shape[0];
  const an = tf.div(a, tf.norm(a, "euclidean", 1, true));
  const pn = tf.div(p, tf.norm(p, "euclidean", 1, true));
  const logits = tf.mul(tf.matMul(an, pn, false, true), 1 / TAU);
  return tf.neg(tf.mean(tf.gather(tf.reshape(tf.logSoftmax(logits), [b * b]), diag)));
}

/** Runs one method to completion (loss and, for fwd+bwd, both gradients read back). */
async function run(c: Case, method: Method, mode: Mode): Promise<number> {
  if (method === "tfjs") {
    if (mode === "fwd") {
      const l = tf.tidy(() => tfjsLoss(c.ta, c.tp, c.tdiag));
      const v = (await l.data())[0];
      l.dispose();
      return v;
    }
    const { value, grads } = tf.tidy(() =>
      tf.valueAndGrads((a: tf.Tensor, p: tf.Tensor) =>
        tfjsLoss(a as tf.Tensor2D, p as tf.Tensor2D, c.tdiag)
      )([c.ta, c.tp])
    );
    const [v] = await Promise.all([value.data(), ...grads.map((g) => g.data())]);
    tf.dispose([value, ...grads]);
    return v[0];
  }
  let out = NaN;
  await tidy(async () => {
    const train = mode === "fwd+bwd";
    c.a.requiresGrad = c.p.requiresGrad = train;
    const loss = method === "fused"
      ? infoNce(c.a, c.p, { temperature: TAU })
      : unfusedLoss(c.a, c.p, c.diag);
    if (train) {
      backward(loss);
      const [l] = await readAll([loss, c.a.grad!, c.p.grad!]);
      out = l[0];
      for (const x of [c.a, c.p]) {
        x.grad?.dispose();
        x.grad = null;
        x.requiresGrad = false;
      }
    } else out = await loss.item();
  });
  return out;
}

/** Wall time of one run, and the peak bytes it held above what was live before it. */
async function measure(
  c: Case,
  method: Method,
  mode: Mode,
): Promise<{ ms: number; peak: number; loss: number }> {
  await runtime().sync();
  let peak = 0;
  let t0: number;
  let loss: number;
  if (method === "tfjs") {
    const base = tf.memory().numBytes;
    const prof = await tf.profile(async () => {
      loss = await run(c, method, mode);
    });
    // tf.profile reads every kernel's time; the timed run below is a plain one.
    peak = prof.peakBytes - base;
    t0 = performance.now();
    loss = await run(c, method, mode);
    return { ms: performance.now() - t0, peak, loss };
  }
  const pool = runtime().pool;
  const acquire = pool.acquire;
  const base = pool.stats().liveBytes;
  pool.acquire = (bytes: number, op?: string) => {
    const buf = acquire.call(pool, bytes, op);
    peak = Math.max(peak, pool.stats().liveBytes - base);
    return buf;
  };
  try {
    t0 = performance.now();
    loss = await run(c, method, mode);
    return { ms: performance.now() - t0, peak, loss };
  } finally {
    pool.acquire = acquire;
  }
}

// --- Deno.bench: a small case ---------------------------------------------------------
if (!import.meta.main) {
  const small = await makeCase(512, 64);
  for (const mode of ["fwd", "fwd+bwd"] as const) {
    for (const method of METHODS) {
      Deno.bench({
        name: `infoNce B=512 d=64 ${mode} ${method}`,
        group: `infonce ${mode}`,
        baseline: method === "fused",
        fn: async () => {
          await run(small, method, mode);
        },
      });
    }
  }
}

// --- sweep ------------------------------------------------------------------------------
/** The modes measured at each size (`--fwd`: the loss alone, everywhere). */
function modesFor(_b: number, _d: number): Mode[] {
  return Deno.args.includes("--fwd") ? ["fwd"] : ["fwd", "fwd+bwd"];
}

interface Row {
  b: number;
  d: number;
  mode: Mode;
  reps: number;
  /** Median wall ms per method; null where the method failed (error in `errors`). */
  ms: Record<Method, number | null>;
  peakBytes: Record<Method, number | null>;
  loss: Record<Method, number | null>;
  errors: Partial<Record<Method, string>>;
}

if (import.meta.main) {
  const write = Deno.args.includes("--write");
  const info = runtime().gpu.adapter;
  const adapterDesc = [info.vendor, info.architecture, info.device, info.description]
    .filter(Boolean).join(" / ") || "unknown";
  const loadStart = loadAverage()?.join(" ");
  console.log(`adapter: ${adapterDesc}; load average: ${loadStart}`);
  const started = performance.now();
  const rows: Row[] = [];
  // Warm-up: pipeline compilation for every method and both widths.
  for (const d of [64, 256]) {
    const w = await makeCase(256, d);
    for (const method of METHODS) {
      for (const mode of ["fwd", "fwd+bwd"] as const) await run(w, method, mode);
    }
    freeCase(w);
  }
  const pick = (flag: string, def: number[]) =>
    Deno.args.find((x) => x.startsWith(`--${flag}=`))?.slice(flag.length + 3).split(",").map(
      Number,
    ) ?? def;
  for (const b of pick("b", [1024, 4096, 8192])) {
    for (const d of pick("d", [64, 256])) {
      const c = await makeCase(b, d);
      for (const mode of modesFor(b, d)) {
        const reps = b <= 1024 ? 3 : 1;
        const row: Row = {
          b,
          d,
          mode,
          reps,
          ms: { fused: null, unfused: null, tfjs: null },
          peakBytes: { fused: null, unfused: null, tfjs: null },
          loss: { fused: null, unfused: null, tfjs: null },
          errors: {},
        };
        for (const method of METHODS) {
          try {
            const times: number[] = [];
            for (let i = 0; i < reps; i++) {
              const r = await measure(c, method, mode);
              times.push(r.ms);
              row.peakBytes[method] = r.peak;
              row.loss[method] = r.loss;
            }
            row.ms[method] = summarize(times).median;
          } catch (e) {
            row.errors[method] = (e as Error).message.split("\n")[0].slice(0, 200);
            runtime().trim();
          }
          console.log(
            `B=${b} d=${d} ${mode} ${method}: ${row.ms[method]?.toFixed(0) ?? "failed"} ms, ` +
              `peak ${((row.peakBytes[method] ?? NaN) / 2 ** 20).toFixed(1)} MiB, ` +
              `loss ${row.loss[method]} ${row.errors[method] ?? ""}`,
          );
        }
        rows.push(row);
      }
      freeCase(c);
      runtime().trim();
    }
  }
  const minutes = (performance.now() - started) / 60000;
  const mib = (x: number | null) => (x === null ? "–" : (x / 2 ** 20).toFixed(2));
  const msf = (x: number | null) => (x === null ? "failed" : x.toFixed(0));
  const ratio = (x: number | null, y: number | null) =>
    x === null || y === null ? "–" : (x / y).toFixed(2) + "×";
  const ok = (r: Row, m: Method) =>
    r.loss[m] !== null && Math.abs(r.loss[m]! - r.loss.fused!) <= 1e-4 * Math.abs(r.loss.fused!);
  // Whether the methods that ran returned the fused loss (to 1e-4 relative).
  const agree = (r: Row) =>
    METHODS.filter((m) => r.loss[m] !== null).every((m) =>
        Math.abs(r.loss[m]! - r.loss.fused!) <= 1e-4 * Math.abs(r.loss.fused!)
      )
      ? "yes"
      : METHODS.map((m) => `${m} ${r.loss[m]?.toFixed(5) ?? "–"}`).join(", ");
  const table = markdownTable(
    [
      "B",
      "d",
      "work",
      "fused ms",
      "unfused ms",
      "tfjs ms",
      "tfjs / fused",
      "fused MiB",
      "unfused MiB",
      "tfjs MiB",
      "losses agree",
    ],
    rows.map((r) => [
      `${r.b}`,
      `${r.d}`,
      r.mode,
      msf(r.ms.fused),
      msf(r.ms.unfused),
      msf(r.ms.tfjs),
      ok(r, "tfjs") ? ratio(r.ms.tfjs, r.ms.fused) : "wrong result",
      mib(r.peakBytes.fused),
      mib(r.peakBytes.unfused),
      mib(r.peakBytes.tfjs),
      agree(r),
    ]),
  );
  const errors = rows.flatMap((r) =>
    Object.entries(r.errors).map(([m, e]) => `- B=${r.b} d=${r.d} ${r.mode} ${m}: ${e}`)
  );
  const md = [
    "# InfoNCE: fused kernels vs unfused ops vs tfjs-webgpu",
    "",
    `Adapter: ${adapterDesc}. Load average at the start: ${loadStart}, at the end: ` +
    `${loadAverage()?.join(" ")} ` +
    `(2 CPU cores shared with other work, so times are noisy). Sweep took ${
      minutes.toFixed(1)
    } min.`,
    "",
    "One-way InfoNCE over L2-normalised rows, τ = 0.2 (AlignRec's CCA loss), A and P [B, d].",
    "fused = `infoNce` (online log-sum-exp over key blocks, no B×B matrix); unfused = wgrec",
    "`l2NormalizeRows` → `matmul` → `logSoftmax` → `gather` of the diagonal; tfjs = tfjs-webgpu",
    "4.22 with the same composition (`norm`, `matMul`, `logSoftmax`, `gather`). fwd: the loss",
    "read back; fwd+bwd: the loss and the gradients of A and P read back. Wall-clock ms, median of",
    "3 runs at B = 1024 and one run above. A method whose loss differs from the fused one (tfjs at",
    "B = 8192, where the B×B logits exceed the 128 MiB storage-binding limit and tfjs-webgpu returns",
    "garbage without an error) gets no ratio: its time is not a result.",
    "Peak MiB: the most bytes held by tensors during the call",
    "above what was held before it (wgrec: buffer pool live bytes, bucket-rounded; tfjs:",
    "`tf.profile().peakBytes` minus `tf.memory().numBytes` before).",
    "",
    table,
    "",
    ...(errors.length ? ["Failures:", "", ...errors, ""] : []),
  ].join("\n");
  console.log(md);
  if (write) {
    await writeReport("bench/results/losses", md, {
      adapter: adapterDesc,
      tau: TAU,
      minutes,
      rows,
    });
  }
}
