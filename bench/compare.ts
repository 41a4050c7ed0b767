/**
 * wgrec against @tensorflow/tfjs-backend-webgpu and @jax-js/jax (WebGPU device), in one process
 * on the same adapter: `deno task bench:compare [--only=<substring>] [--out=<base path>]
 * [--note=<conditions>]`.
 * Writes bench/results/matmul.md and .json (or `--out`).
 *
 * The script is a list of cases; each case gives, per library, a `prepare` that uploads its
 * inputs and returns a `run` (submits one repetition) and a `read` (the last result, for the
 * cross-check). To compare another op (attention, InfoNCE, VQ…), write cases like
 * {@link matmulCase} and pass them to {@link runComparison} from a script of your own (it starts
 * the libraries once, in this process); timing and tables come from bench/harness.ts.
 * @module
 */

import * as wg from "../internal.ts";
import {
  gflops,
  loadAverage,
  markdownTable,
  mergeTimings,
  timeGpu,
  type Timing,
  writeReport,
} from "./harness.ts";

const TFJS_CORE = "npm:@tensorflow/tfjs-core@4.22";
const TFJS_WEBGPU = "npm:@tensorflow/tfjs-backend-webgpu@4.22";
const JAX = "npm:@jax-js/jax@0.1.25";

/** One repetition's work, and the result of the last one. */
export interface Prepared {
  /** Records and submits one repetition (the harness waits for the queue). */
  run(): unknown | Promise<unknown>;
  /** The last repetition's result, row-major. */
  read(): Promise<Float32Array>;
  dispose(): void;
}

/** A library under test. */
export interface Lib {
  name: string;
  version: string;
  device: GPUDevice;
  adapter: string;
}

/** One benchmark row. */
export interface Case {
  /** Table the row goes to. */
  group: string;
  name: string;
  flops: number;
  /** Host inputs (shared by every library). */
  inputs: () => Float32Array[];
  /** A few reference values: [flat index, value] (checked against every library's result). */
  reference: (inputs: Float32Array[]) => [number, number][];
  /** Tolerance of the reference check, relative to the largest |reference value|. */
  rtol: number;
  /** Timed repetitions at most (fewer for big shapes; at least 3). */
  reps: number;
  prepare: Record<string, (inputs: Float32Array[]) => Promise<Prepared> | Prepared>;
}

// --- libraries ----------------------------------------------------------------------------

// deno-lint-ignore no-explicit-any
type Any = any;

async function setupWgrec(): Promise<Lib> {
  const rt = await wg.init();
  const cfg = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return {
    name: "wgrec",
    version: cfg.version,
    device: rt.device,
    adapter: rt.gpu.adapter.description,
  };
}

let tf: Any = null;
async function setupTfjs(): Promise<Lib> {
  tf = await import(TFJS_CORE);
  await import(TFJS_WEBGPU);
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  const be = tf.backend();
  return {
    name: "tfjs-webgpu",
    version: tf.version_core,
    device: be.device,
    adapter: be.adapterInfo?.description ?? be.device.adapterInfo?.description ?? "?",
  };
}

/**
 * The peer modules once {@link runComparison} has started them (for cases' `prepare`):
 * `tf` is @tensorflow/tfjs-core with the webgpu backend active, `jax` is @jax-js/jax.
 */
export function peerModules(): { tf: Any; jax: Any } {
  return { tf, jax };
}

/** Submits what tfjs has recorded (it batches dispatches into one encoder). */
export function tfFlush(): void {
  const be = tf.backend();
  if (be.commandEncoder) {
    be.endComputePassEncoder();
    be.submitQueue();
  }
}

let jax: Any = null;
async function setupJax(): Promise<Lib> {
  jax = await import(JAX);
  const devices: string[] = await jax.init("webgpu");
  if (!devices.includes("webgpu")) throw new Error("jax-js found no WebGPU device");
  jax.defaultDevice("webgpu");
  const device: GPUDevice = jax.getWebGPUDevice();
  return {
    name: "jax-js",
    version: JAX.split("@").at(-1)!,
    device,
    adapter: (device as Any).adapterInfo?.description ?? "?",
  };
}

// --- matmul cases -------------------------------------------------------------------------

/** A matmul problem: C[b] = A[b] · op(B[b]) with A [batch?, m, k], B [batch?, k, n] or [n, k]. */
export interface MatmulSpec {
  name: string;
  m: number;
  n: number;
  k: number;
  /** 0: rank-2 operands. */
  batch: number;
  transB: boolean;
  reps: number;
}

function randn(n: number, seed: number): Float32Array {
  const r = new wg.Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.normal();
  return a;
}

/** A comparison case for one matmul shape. */
export function matmulCase(s: MatmulSpec): Case {
  const bt = Math.max(1, s.batch);
  const lead = s.batch ? [s.batch] : [];
  const aShape = [...lead, s.m, s.k];
  const bShape = [...lead, ...(s.transB ? [s.n, s.k] : [s.k, s.n])];
  return {
    group: "matmul",
    name: s.name,
    flops: 2 * bt * s.m * s.n * s.k,
    reps: s.reps,
    rtol: 1e-4 * Math.sqrt(s.k),
    inputs: () => [randn(bt * s.m * s.k, 1), randn(bt * s.k * s.n, 2)],
    reference: ([A, B]) => {
      // 32 entries spread over the output, summed in f64.
      const out: [number, number][] = [];
      const total = bt * s.m * s.n;
      for (let t = 0; t < 32; t++) {
        const idx = Math.floor(((t + 0.5) / 32) * total);
        const b = Math.floor(idx / (s.m * s.n));
        const i = Math.floor(idx / s.n) % s.m;
        const j = idx % s.n;
        let acc = 0;
        for (let q = 0; q < s.k; q++) {
          const bv = s.transB ? B[b * s.n * s.k + j * s.k + q] : B[b * s.k * s.n + q * s.n + j];
          acc += A[b * s.m * s.k + i * s.k + q] * bv;
        }
        out.push([idx, acc]);
      }
      return out;
    },
    prepare: {
      "wgrec": ([A, B]) => {
        const a = wg.keep(wg.tensor(A, aShape));
        const b = wg.keep(wg.tensor(B, bShape));
        let c: wg.Tensor<"f32"> | null = null;
        return {
          run: () => {
            c?.dispose();
            c = wg.keep(wg.matmul(a, b, { transB: s.transB }));
            wg.runtime().flush();
          },
          read: () => c!.read(),
          dispose: () => [a, b, c].forEach((t) => t?.dispose()),
        };
      },
      "tfjs-webgpu": ([A, B]) => {
        const a = tf.tensor(A, aShape, "float32");
        const b = tf.tensor(B, bShape, "float32");
        let c: Any = null;
        return {
          run: () => {
            c?.dispose();
            c = tf.matMul(a, b, false, s.transB);
            tfFlush();
          },
          read: async () => new Float32Array(await c.data()),
          dispose: () => [a, b, c].forEach((t) => t?.dispose()),
        };
      },
      "jax-js": ([A, B]) => {
        const np = jax.numpy;
        const a = np.array(A, { shape: aShape, dtype: np.float32, device: "webgpu" });
        const b = np.array(B, { shape: bShape, dtype: np.float32, device: "webgpu" });
        // jit, as jax-js recommends on WebGPU (the same kernel as eager for a lone matmul).
        const f = jax.jit((x: Any, y: Any) => np.matmul(x, s.transB ? np.matrixTranspose(y) : y));
        let c: Any = null;
        return {
          run: async () => {
            c?.dispose();
            c = f(a.ref, b.ref);
            await c.blockUntilReady();
          },
          read: async () => new Float32Array(await c.ref.data()),
          dispose: () => {
            for (const t of [a, b, c]) t?.dispose();
            f.dispose?.();
          },
        };
      },
    },
  };
}

/** The shapes of issue 3: square sizes, then the shapes the library lives on. */
export const MATMUL_SHAPES: MatmulSpec[] = [
  { name: "256×256·256×256", m: 256, n: 256, k: 256, batch: 0, transB: false, reps: 20 },
  { name: "512×512·512×512", m: 512, n: 512, k: 512, batch: 0, transB: false, reps: 10 },
  { name: "1024×1024·1024×1024", m: 1024, n: 1024, k: 1024, batch: 0, transB: false, reps: 6 },
  { name: "2048×2048·2048×2048", m: 2048, n: 2048, k: 2048, batch: 0, transB: false, reps: 3 },
  {
    name: "in-batch logits 4096×64·(4096×64)ᵀ",
    m: 4096,
    n: 4096,
    k: 64,
    batch: 0,
    transB: true,
    reps: 5,
  },
  {
    name: "full ranking 1024×64·(20000×64)ᵀ",
    m: 1024,
    n: 20000,
    k: 64,
    batch: 0,
    transB: true,
    reps: 5,
  },
  { name: "linear 8192×256·256×256", m: 8192, n: 256, k: 256, batch: 0, transB: false, reps: 5 },
  {
    name: "attention scores 64×(128×64·64×128)",
    m: 128,
    n: 128,
    k: 64,
    batch: 64,
    transB: false,
    reps: 10,
  },
];

// --- run ----------------------------------------------------------------------------------

/** A library's outcome on one case. */
export interface Outcome {
  timing?: Timing;
  gflops?: number;
  /** Max |result − reference| / max |reference| over the sampled entries. */
  error?: number;
  /** Why there is no timing. */
  failed?: string;
}

function parseArgs(): { only: string | null; out: string; note: string } {
  let only: string | null = null;
  let note = "";
  let out = new URL("./results/matmul", import.meta.url).pathname;
  for (const a of Deno.args) {
    if (a.startsWith("--only=")) only = a.slice(7);
    else if (a.startsWith("--out=")) out = a.slice(6);
    else if (a.startsWith("--note=")) note = a.slice(7);
  }
  return { only, out, note };
}

/** Budget of timed repetitions per case and library (wall ms), past the 3 always done. */
const BUDGET_MS = 15000;

/**
 * Times one case on every library, one repetition of each library in turn (rotating the
 * order), so that the machine's changing load falls on all of them alike; then reads each
 * result and checks it against the case's reference values.
 */
async function measureCase(
  libs: Lib[],
  c: Case,
  inputs: Float32Array[],
): Promise<Record<string, Outcome>> {
  const out: Record<string, Outcome> = {};
  const live: { lib: Lib; p: Prepared; parts: Timing[]; spent: number }[] = [];
  const fail = (e: unknown): Outcome => ({ failed: `${(e as Error).message}`.split("\n")[0] });
  for (const lib of libs) {
    const prep = c.prepare[lib.name];
    if (!prep) {
      out[lib.name] = { failed: "no implementation" };
      continue;
    }
    let p: Prepared | null = null;
    try {
      p = await prep(inputs);
      // Warm-up: pipeline compilation, first allocations.
      await p.run();
      await lib.device.queue.onSubmittedWorkDone();
      live.push({ lib, p, parts: [], spent: 0 });
    } catch (e) {
      out[lib.name] = fail(e);
      p?.dispose();
    }
  }
  for (let rep = 0; rep < c.reps; rep++) {
    if (rep >= 3 && live.some((l) => l.spent > BUDGET_MS)) break;
    for (let i = 0; i < live.length; i++) {
      const l = live[(i + rep) % live.length];
      if (out[l.lib.name]) continue;
      try {
        const t = await timeGpu(() => l.p.run(), {
          device: l.lib.device,
          warmup: 0,
          reps: 1,
          minReps: 1,
        });
        l.parts.push(t);
        l.spent += t.wallMs[0];
      } catch (e) {
        out[l.lib.name] = fail(e);
      }
    }
  }
  const ref = c.reference(inputs);
  const scale = Math.max(...ref.map(([, v]) => Math.abs(v)), 1e-30);
  for (const l of live) {
    try {
      if (out[l.lib.name]) continue;
      const timing = mergeTimings(l.parts);
      const got = await l.p.read();
      const error = Math.max(...ref.map(([i, v]) => Math.abs(got[i] - v))) / scale;
      out[l.lib.name] = { timing, gflops: gflops(c.flops, timing.median), error };
    } catch (e) {
      out[l.lib.name] = fail(e);
    } finally {
      l.p.dispose();
    }
  }
  return out;
}

const fmtNum = (x: number, d = 2) => x.toFixed(d);

/** What {@link runComparison} does: a title, the rows, where to write, a note on conditions. */
export interface ComparisonOptions {
  /** Markdown heading, e.g. "Matmul: wgrec vs tfjs-webgpu vs jax-js". */
  title: string;
  cases: Case[];
  /** Base path of the .md and .json written. */
  out: string;
  note?: string;
}

/**
 * Starts the libraries (a peer that cannot start is reported as such, not faked), times every
 * case on each, checks results against the case's reference values, prints and writes the
 * report.
 */
export async function runComparison(opts: ComparisonOptions): Promise<void> {
  const { title, cases, out, note = "" } = opts;
  const started = performance.now();
  const loadBefore = loadAverage();
  const libs: Lib[] = [];
  const unavailable: Record<string, string> = {};
  for (
    const [name, setup] of [
      ["wgrec", setupWgrec],
      ["tfjs-webgpu", setupTfjs],
      ["jax-js", setupJax],
    ] as const
  ) {
    try {
      libs.push(await setup());
    } catch (e) {
      unavailable[name] = (e as Error).message.split("\n")[0];
      console.log(`${name}: cannot run here: ${unavailable[name]}`);
    }
  }
  const wgrec = libs.find((l) => l.name === "wgrec");
  if (!wgrec) throw new Error("wgrec could not start: no WebGPU adapter");
  const methods = Object.fromEntries(
    libs.map((
      l,
    ) => [l.name, l.device.features.has("timestamp-query") ? "timestamp-query" : "wall-clock"]),
  );
  console.log(`adapter: ${wgrec.adapter}`);
  for (const l of libs) {
    console.log(`  ${l.name} ${l.version}: ${l.adapter}, timing by ${methods[l.name]}`);
  }

  const results: { case: Case; outcomes: Record<string, Outcome> }[] = [];
  for (const c of cases) {
    const inputs = c.inputs();
    const outcomes = await measureCase(libs, c, inputs);
    for (const lib of libs) {
      const o = outcomes[lib.name];
      const t = o.timing;
      console.log(
        t
          ? `${c.name.padEnd(40)} ${lib.name.padEnd(12)} median ${fmtNum(t.median, 1)} ms ` +
            `(min ${fmtNum(t.min, 1)}, max ${fmtNum(t.max, 1)}, n=${t.ms.length}, ${t.method}) ` +
            `${fmtNum(o.gflops!)} GFLOP/s, worker CPU ${fmtNum(t.workerCpuMs ?? NaN, 0)} ms, ` +
            `err ${o.error!.toExponential(1)}`
          : `${c.name.padEnd(40)} ${lib.name.padEnd(12)} failed: ${o.failed}`,
      );
    }
    for (const name of Object.keys(unavailable)) outcomes[name] = { failed: unavailable[name] };
    results.push({ case: c, outcomes });
  }
  const seconds = (performance.now() - started) / 1000;
  const loadAfter = loadAverage();

  // Report.
  const peers = ["tfjs-webgpu", "jax-js"];
  const cell = (o: Outcome | undefined) =>
    o?.timing
      ? `${fmtNum(o.gflops!)} (${fmtNum(o.timing.median, 1)} ms; ${fmtNum(o.timing.min, 1)}–${
        fmtNum(o.timing.max, 1)
      }; n=${o.timing.ms.length})`
      : `n/a (${o?.failed ?? "not run"})`;
  const ratio = (a?: Outcome, b?: Outcome) =>
    a?.gflops && b?.gflops ? `${fmtNum(a.gflops / b.gflops)}×` : "n/a";
  const rows = results.map(({ case: c, outcomes: o }) => {
    const best = peers.map((p) =>
      o[p]
    ).filter((x) => x?.gflops).sort((x, y) => y!.gflops! - x!.gflops!)[0];
    return [
      c.name,
      `${fmtNum(c.flops / 1e9, 3)}`,
      cell(o.wgrec),
      cell(o["tfjs-webgpu"]),
      cell(o["jax-js"]),
      ratio(o.wgrec, o["tfjs-webgpu"]),
      ratio(o.wgrec, o["jax-js"]),
      ratio(o.wgrec, best),
    ];
  });
  const perCpu = (o?: Outcome, c?: Case) =>
    o?.timing?.workerCpuMs ? gflops(c!.flops, o.timing.workerCpuMs) : null;
  const cpuRows = results.map(({ case: c, outcomes: o }) => {
    const w = perCpu(o.wgrec, c);
    const ps = peers.map((p) => perCpu(o[p], c));
    const best = Math.max(...ps.map((x) => x ?? 0));
    return [
      c.name,
      ...[w, ...ps].map((x) => (x === null ? "n/a" : fmtNum(x))),
      ...[...ps, best || null].map((x) => (w !== null && x ? `${fmtNum(w / x)}×` : "n/a")),
    ];
  });
  const errs = results.map(({ case: c, outcomes: o }) => [
    c.name,
    ...["wgrec", ...peers].map((n) =>
      o[n]?.error !== undefined ? o[n].error!.toExponential(1) : "n/a"
    ),
  ]);
  const date = new Date().toISOString();
  const md = [
    `# ${title}`,
    "",
    `Measured ${date} by \`deno task bench:compare\` (bench/compare.ts), all three libraries in one`,
    `Deno ${Deno.version.deno} process on the same adapter: **${wgrec.adapter}**.`,
    "",
    `Libraries: ${libs.map((l) => `${l.name} ${l.version} (${methods[l.name]})`).join(", ")}.` +
    (Object.keys(unavailable).length
      ? ` Not run: ${Object.entries(unavailable).map(([n, r]) => `${n} (${r})`).join(", ")}.`
      : ""),
    "",
    "Cells: GFLOP/s at the median repetition (median ms; min–max ms; repetitions), after one",
    "warm-up call; the libraries take turns, one repetition each, so that changing load on the",
    "machine falls on all of them. Time is GPU time from timestamp queries written around each",
    "of the library's queue submits (bench/harness.ts) where the device has `timestamp-query`,",
    "else wall clock to `onSubmittedWorkDone`. Ratios are wgrec / peer GFLOP/s (medians).",
    "",
    `Conditions: load average ${loadBefore?.join(" ") ?? "?"} before, ${
      loadAfter?.join(" ") ?? "?"
    } after (shared machine; 2 CPU cores); run took ${fmtNum(seconds, 0)} s.`,
    ...(note ? ["", note] : []),
    "",
    markdownTable(
      [
        "shape",
        "GFLOP",
        "wgrec",
        "tfjs-webgpu",
        "jax-js",
        "wgrec/tfjs",
        "wgrec/jax",
        "wgrec/best peer",
      ],
      rows,
    ),
    "",
    "The same runs in GFLOP per CPU-second of the process's driver threads (all but the JS main",
    "thread, V8 helpers and tokio workers; mean per repetition). On a software adapter those",
    "threads run the shaders, so this measures the work independently of other load on the",
    "machine; the kernel counts CPU in 10 ms ticks, so it is coarse for the smallest shapes:",
    "",
    markdownTable(
      ["shape", "wgrec", "tfjs-webgpu", "jax-js", "wgrec/tfjs", "wgrec/jax", "wgrec/best peer"],
      cpuRows,
    ),
    "",
    "Result check: max |result − reference| / max |reference| over 32 sampled entries",
    "(reference summed in f64 on the host).",
    "",
    markdownTable(["shape", "wgrec", "tfjs-webgpu", "jax-js"], errs),
    "",
  ].join("\n");
  const json = {
    date,
    adapter: wgrec.adapter,
    deno: Deno.version.deno,
    libraries: libs.map((l) => ({
      name: l.name,
      version: l.version,
      adapter: l.adapter,
      timing: methods[l.name],
    })),
    unavailable,
    loadAverage: { before: loadBefore, after: loadAfter },
    note,
    seconds,
    cases: results.map(({ case: c, outcomes }) => ({
      group: c.group,
      name: c.name,
      flops: c.flops,
      results: outcomes,
    })),
  };
  await writeReport(out, md, json);
  console.log(`\n${md}\nwrote ${out}.md and ${out}.json (${fmtNum(seconds, 0)} s)`);
}

if (import.meta.main) {
  const { only, out, note } = parseArgs();
  await runComparison({
    title: "Matmul: wgrec vs tfjs-webgpu vs jax-js",
    cases: MATMUL_SHAPES.map(matmulCase).filter((c) => !only || c.name.includes(only)),
    out,
    note,
  });
}
