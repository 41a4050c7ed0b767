/**
 * Nearest-code search throughput: wgrec's fused kernels (`nearestCode`, default choice and
 * tiled), the unfused path (`matmul` + row argmin, `nearestCodeUnfused`) and tfjs-webgpu
 * (`matMul` + `argMin`) on the same adapter, all computing argmin_k ‖e_k‖² − 2·x·e_k and reading the indices back.
 *
 * `deno bench -A bench/vq_bench.ts` runs a small case through Deno.bench.
 * `deno run -A bench/vq_bench.ts [--write]` runs the sweep N ≤ 65,536, M ∈ {256, 1024, 4096},
 * d ∈ {64, 256, 768} (N is reduced for large M·d so that one run stays near a fixed amount
 * of work) and with --write stores bench/results/vq.{md,json}.
 * @module
 */

import * as tf from "npm:@tensorflow/tfjs-core@4.22";
import "npm:@tensorflow/tfjs-backend-webgpu@4.22";
import {
  init,
  nearestCode,
  nearestCodeUnfused,
  randNormal,
  runtime,
  type Tensor,
  tidy,
} from "../internal.ts";

await init();
await tf.setBackend("webgpu");
await tf.ready();

const METHODS = ["fused", "tiled", "unfused", "tfjs"] as const;
type Method = typeof METHODS[number];

/** Inputs of one case on both libraries (same values). */
interface Case {
  n: number;
  m: number;
  d: number;
  x: Tensor<"f32">;
  e: Tensor<"f32">;
  tx: tf.Tensor2D;
  te: tf.Tensor2D;
  ten: tf.Tensor1D;
}

async function makeCase(n: number, m: number, d: number): Promise<Case> {
  const x = randNormal([n, d], 1);
  const e = randNormal([m, d], 2);
  const [xh, eh] = [await x.read(), await e.read()];
  const tx = tf.tensor2d(xh, [n, d]);
  const te = tf.tensor2d(eh, [m, d]);
  const ten = tf.sum(tf.square(te), 1) as tf.Tensor1D;
  return { n, m, d, x, e, tx, te, ten };
}

function disposeCase(c: Case): void {
  c.x.dispose();
  c.e.dispose();
  tf.dispose([c.tx, c.te, c.ten]);
}

/** Runs one method to completion (indices read back); returns the indices. */
async function run(c: Case, method: Method): Promise<Int32Array> {
  if (method === "tfjs") {
    const idx = tf.tidy(() =>
      tf.argMin(tf.sub(c.ten, tf.mul(tf.scalar(2), tf.matMul(c.tx, c.te, false, true))), 1)
    );
    const out = await idx.data() as Int32Array;
    idx.dispose();
    return out;
  }
  let out!: Int32Array;
  await tidy(async () => {
    const codes = method === "unfused"
      ? nearestCodeUnfused(c.x, c.e)
      : nearestCode(c.x, c.e, { kernel: method === "tiled" ? "tiled" : "auto" }).codes;
    out = await codes.read();
  });
  return out;
}

async function timeRun(c: Case, method: Method): Promise<{ ms: number; idx: Int32Array }> {
  await runtime().sync();
  const t0 = performance.now();
  const idx = await run(c, method);
  return { ms: performance.now() - t0, idx };
}

// --- Deno.bench: a small case ---------------------------------------------------------
const small = await makeCase(4096, 256, 64);
for (const method of METHODS) {
  Deno.bench({
    name: `nearest code N=4096 M=256 d=64 ${method}`,
    group: "vq",
    baseline: method === "fused",
    fn: async () => {
      await run(small, method);
    },
  });
}

// --- sweep ------------------------------------------------------------------------------
/** Rows of the sweep: N reduced so that one run is about `work` multiply-adds. */
function sweepSizes(work: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const m of [256, 1024, 4096]) {
    for (const d of [64, 256, 768]) {
      const n = Math.min(65536, Math.max(256, Math.floor(work / (m * d) / 256) * 256));
      out.push([n, m, d]);
    }
  }
  return out;
}

interface Row {
  n: number;
  m: number;
  d: number;
  ms: Record<Method, number>;
  vectorsPerSec: Record<Method, number>;
  /** Fraction of rows where the method's index equals the fused kernel's. */
  agree: Record<Method, number>;
}

if (import.meta.main) {
  const write = Deno.args.includes("--write");
  const reps = 2;
  const info = runtime().gpu.adapter;
  const adapterDesc = [info.vendor, info.architecture, info.device, info.description]
    .filter(Boolean).join(" / ") || "unknown";
  console.log(`adapter: ${adapterDesc}`);
  // Warm-up: pipeline compilation for every method.
  for (const method of METHODS) await run(small, method);
  const rows: Row[] = [];
  // 65536 · 256 · 64 multiply-adds: the first case runs at full N; larger M·d get fewer rows.
  for (const [n, m, d] of sweepSizes(65536 * 256 * 64)) {
    const c = await makeCase(n, m, d);
    const ms = {} as Record<Method, number>;
    const agree = {} as Record<Method, number>;
    let ref: Int32Array | null = null;
    for (const method of METHODS) {
      let best = Infinity;
      let idx!: Int32Array;
      for (let r = 0; r < reps; r++) {
        const t = await timeRun(c, method);
        best = Math.min(best, t.ms);
        idx = t.idx;
      }
      ms[method] = best;
      ref ??= idx;
      let same = 0;
      for (let i = 0; i < n; i++) if (idx[i] === ref[i]) same++;
      agree[method] = same / n;
    }
    const vps = Object.fromEntries(
      Object.entries(ms).map(([k, v]) => [k, (n / v) * 1000]),
    ) as Record<Method, number>;
    rows.push({ n, m, d, ms, vectorsPerSec: vps, agree });
    console.log(
      `N=${n} M=${m} d=${d}: ` +
        METHODS.map((k) =>
          `${k} ${ms[k].toFixed(0)} ms (${vps[k].toFixed(0)} vec/s, agree ${agree[k].toFixed(4)})`
        ).join(", "),
    );
    disposeCase(c);
  }
  if (write) {
    const when = new Date().toISOString();
    // Which matmul the unfused path ran: the last commit of src/ops/matmul.ts, and whether
    // the working tree differed from it.
    const git = async (...args: string[]) =>
      new TextDecoder().decode((await new Deno.Command("git", { args }).output()).stdout).trim();
    const matmulRev = await git("log", "-1", "--format=%h", "--", "src/ops/matmul.ts");
    const dirty = (await git(
      "status",
      "--porcelain",
      "--",
      "src/ops/matmul.ts",
      "src/ops/matmul_select.ts",
      "shaders/matmul_regblock.wgsl",
      "shaders/matmul_tiled.wgsl",
    )).length > 0;
    const matmulDesc = `src/ops/matmul.ts at ${matmulRev}${
      dirty ? " (with uncommitted changes)" : ""
    }`;
    const json = {
      adapter: adapterDesc,
      date: when,
      repetitions: reps,
      timing: "best of",
      matmul: matmulDesc,
      rows,
    };
    const dir = new URL("./results/", import.meta.url);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(new URL("vq.json", dir), JSON.stringify(json, null, 2) + "\n");
    const lines = [
      "# Nearest-code search (vector quantization)",
      "",
      `Measured ${when} with \`deno run -A bench/vq_bench.ts --write\` on adapter: ${adapterDesc}.`,
      "",
      "argmin_k ‖e_k‖² − 2·x·e_k for N random normal vectors against M codes of dimension d;",
      "each run ends with the N indices read back to the host. Best of " + reps + " runs after",
      "a warm-up. fused = `nearestCode` with its default kernel choice, which on a CPU-backed",
      "adapter is `vq_nearest_rb.wgsl` (register-blocked dot products + running argmin, no N×M",
      "matrix); fused (tiled) = the same search with the workgroup-memory kernel meant for",
      'hardware GPUs (`kernel: "tiled"`);',
      "unfused = `nearestCodeUnfused` (`matmul` N×M then a row-argmin kernel; " +
      `${matmulDesc});`,
      "tfjs = tfjs-webgpu 4.22 `argMin(sub(‖e‖², 2·matMul(x, eᵀ)))` on the same adapter.",
      "N is 65,536 for M=256, d=64 and reduced for larger M·d so one run is ~1.07 G",
      "multiply-adds (the adapter is a software rasterizer on a shared 2-core machine).",
      "agree = fraction of rows whose index equals the fused kernel's (float rounding can flip",
      "near-ties between the paths).",
      "",
      "| N | M | d | " + METHODS.map((k) => `${k} vec/s`).join(" | ") + " | " +
      METHODS.map((k) => `${k} ms`).join(" | ") + " | agree tiled / unfused / tfjs |",
      "|---:|---:|---:|" + "---:|".repeat(2 * METHODS.length) + "---|",
      ...rows.map((r) =>
        `| ${r.n} | ${r.m} | ${r.d} | ` +
        METHODS.map((k) => r.vectorsPerSec[k].toFixed(0)).join(" | ") + " | " +
        METHODS.map((k) => r.ms[k].toFixed(0)).join(" | ") + " | " +
        [r.agree.tiled, r.agree.unfused, r.agree.tfjs].map((v) => v.toFixed(4)).join(" / ") + " |"
      ),
      "",
    ];
    await Deno.writeTextFile(new URL("vq.md", dir), lines.join("\n"));
    // Keep the written files as `deno fmt` would (the repository checks formatting).
    const written = ["vq.md", "vq.json"].map((f) => new URL(f, dir).pathname);
    await new Deno.Command(Deno.execPath(), { args: ["fmt", ...written] }).output();
    console.log("wrote bench/results/vq.md and vq.json");
  }
  disposeCase(small);
}
