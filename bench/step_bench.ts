/**
 * Training-step benchmark (issue 24): full-graph steps of LightGCN and AlignRec on a seeded
 * synthetic graph with MovieLens-1M's shape (6,022 users, 3,043 items, 796,244 training
 * interactions, power-law user and item degrees), and of a 2-layer transformer encoder
 * (B = 64, L = 50, d = 64), in wgrec and — same data, same batches, same process run — in
 * PyTorch CPU (bench/torch_step.py, Debian's python3-torch) on the same cores.
 *
 * `deno run -A bench/step_bench.ts [--models=lightgcn,alignrec,transformer] [--steps=N]
 *  [--rounds=N] [--no-torch] [--no-tfjs] [--params=uniform|storage] [--out=bench/results/step]
 *  [--note=...]`
 *
 * A step is what `fit` does per batch: upload the batch, forward, backward, Adam, free the
 * temporaries; the loss is read back once at the end of the timed window (fit reads every 16
 * steps). samples/s = batch size × steps / wall seconds. A second, shorter window runs under
 * the profiler (src/gpu/profiler.ts) for the per-op breakdown; it is not the timed one.
 * The machine's load (`/proc/loadavg`) is recorded beside each figure: other processes share
 * the cores.
 * @module
 */

import * as wg from "../internal.ts";
import { CtrBaseline } from "../src/models/ctrbase/model.ts";
import type { CtrBatch, FeatureSpec } from "../src/nn/features.ts";
import { loadAverage, markdownTable, writeReport } from "./harness.ts";
import { startTfjs, type TfjsBench, tfjsDcn, tfjsRead, tfjsTransformer } from "./step_tfjs.ts";

type Args = Record<string, string>;
const args: Args = Object.fromEntries(
  Deno.args.map((a) => a.replace(/^--/, "").split("=")).map(([k, v]) => [k, v ?? "true"]),
);
const MODELS = (args.models ?? "lightgcn,alignrec,transformer,dcnv2").split(",");
const STEPS = Number(args.steps ?? 8);
const ROUNDS = Number(args.rounds ?? 1);
const OUT = args.out ?? "bench/results/step";
const SHAPE = { users: 6022, items: 3043, interactions: 796244 };
const BATCH = 2048;
const DMM = 128; // synthetic item features for AlignRec (ML-1M has none)
const TF = { B: 64, L: 50, d: 64, heads: 2, ff: 256, layers: 2 };
/** DCN-v2 on Criteo's field layout (26 categorical, 13 numeric), FuxiCTR-like widths. */
const CTR = { B: 2048, cat: 26, num: 13, vocab: 10000, d: 16, cross: 3, hidden: [400, 400, 400] };

// --- data -----------------------------------------------------------------------------------

/** Power-law weights w_r = (r + 1)^-a, shuffled over ids. */
function powerLaw(n: number, a: number, rng: wg.Rng): Float64Array {
  const w = new Float64Array(n);
  for (let r = 0; r < n; r++) w[r] = Math.pow(r + 1, -a);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [w[i], w[j]] = [w[j], w[i]];
  }
  return w;
}

/** A seeded ML-1M-shaped interaction list: ≥ 20 per user, Zipf-like item popularity. */
export function mlShapedGraph(seed = 1): wg.Interactions {
  const rng = new wg.Rng(seed);
  const { users: U, items: I, interactions: E } = SHAPE;
  const uw = powerLaw(U, 0.8, rng);
  const total = uw.reduce((a, b) => a + b, 0);
  // Degrees: 20 each, the rest split by the user weights, capped at half the catalogue.
  const deg = Array.from(uw, (w) => Math.min(I >> 1, 20 + Math.floor((E - 20 * U) * w / total)));
  let left = E - deg.reduce((a, b) => a + b, 0);
  for (let u = 0; left > 0; u = (u + 1) % U) if (deg[u] < I >> 1) deg[u]++, left--;
  const iw = powerLaw(I, 0.7, rng);
  const cdf = new Float64Array(I);
  iw.reduce((acc, w, i) => (cdf[i] = acc + w), 0);
  const pick = () => {
    const x = rng.uniform() * cdf[I - 1];
    let lo = 0;
    let hi = I - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const users = new Int32Array(E);
  const items = new Int32Array(E);
  let j = 0;
  const seen = new Uint8Array(I);
  for (let u = 0; u < U; u++) {
    const mine: number[] = [];
    for (let tries = 0; mine.length < deg[u] && tries < 20 * deg[u]; tries++) {
      const i = pick();
      if (!seen[i]) seen[i] = 1, mine.push(i);
    }
    for (let i = 0; mine.length < deg[u]; i++) if (!seen[i]) seen[i] = 1, mine.push(i);
    for (const i of mine) seen[i] = 0, users[j] = u, items[j++] = i;
  }
  return { users, items, numUsers: U, numItems: I };
}

/** Fixed batches (uniform over interactions, uniform negatives): cost does not depend on ids. */
function batches(g: wg.Interactions, n: number, seed = 2): wg.TripletBatch[] {
  const rng = new wg.Rng(seed);
  return Array.from({ length: n }, () => {
    const b = {
      users: new Int32Array(BATCH),
      pos: new Int32Array(BATCH),
      neg: new Int32Array(BATCH),
    };
    for (let k = 0; k < BATCH; k++) {
      const e = rng.int(g.users.length);
      b.users[k] = g.users[e];
      b.pos[k] = g.items[e];
      b.neg[k] = rng.int(g.numItems);
    }
    return b;
  });
}

function normals(n: number, seed: number, std = 1): Float32Array {
  const r = new wg.Rng(seed);
  return Float32Array.from({ length: n }, () => std * r.normal());
}

// --- wgrec steps ----------------------------------------------------------------------------

interface Bench {
  name: string;
  /** Samples per step. */
  samples: number;
  /** One training step; returns the loss (kept). */
  step(i: number, prof: wg.Profiler | null): wg.Tensor<"f32">;
  dispose(): void;
}

function recommenderBench(
  name: string,
  model: wg.Recommender,
  g: wg.Interactions,
  bs: wg.TripletBatch[],
): Bench {
  const opt = new wg.Adam(model.parameters(), { lr: 1e-3 });
  return {
    name,
    samples: BATCH,
    step(i, prof) {
      return wg.keep(wg.tidy(() => {
        if (prof) prof.phase = "forward";
        const bt = wg.tripletTensors(bs[i % bs.length], g.numUsers, g.numItems);
        const { loss } = model.loss(bt);
        if (prof) prof.phase = "backward";
        wg.backward(loss);
        if (prof) prof.phase = "optimizer";
        opt.step();
        opt.zeroGrad();
        return loss;
      }));
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}

function transformerBench(): Bench {
  const { B, L, d, heads, ff, layers } = TF;
  const enc = Array.from(
    { length: layers },
    (_, l) =>
      new wg.TransformerEncoderLayer(d, heads, { dimFeedforward: ff, dropout: 0, seed: 10 + l }),
  );
  const x = wg.keep(wg.tensor(normals(B * L * d, 3), [B, L, d]));
  const target = wg.keep(wg.tensor(normals(B * L * d, 4), [B, L, d]));
  const opt = new wg.Adam(enc.flatMap((e) => e.parameters()), { lr: 1e-3 });
  return {
    name: "transformer",
    samples: B,
    step(_i, prof) {
      return wg.keep(wg.tidy(() => {
        if (prof) prof.phase = "forward";
        let h = x;
        for (const e of enc) h = e.forward(h);
        const loss = wg.mean(wg.square(wg.sub(h, target)));
        if (prof) prof.phase = "backward";
        wg.backward(loss);
        if (prof) prof.phase = "optimizer";
        opt.step();
        opt.zeroGrad();
        return loss;
      }));
    },
    dispose() {
      opt.dispose();
      for (const e of enc) e.dispose();
      x.dispose();
      target.dispose();
    },
  };
}

/** Fixed CTR batches: Zipf-like ids per field, standard-normal numerics, 25% positives. */
export function ctrBatches(n: number, seed = 6): CtrBatch[] {
  const rng = new wg.Rng(seed);
  const w = powerLaw(CTR.vocab, 1.1, rng);
  const cdf = new Float64Array(CTR.vocab);
  w.reduce((acc, x, i) => (cdf[i] = acc + x), 0);
  const pick = () => {
    const x = rng.uniform() * cdf[CTR.vocab - 1];
    let lo = 0;
    let hi = CTR.vocab - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const { B, cat, num } = CTR;
  return Array.from({ length: n }, () => ({
    size: B,
    labels: Float32Array.from({ length: B }, () => (rng.uniform() < 0.25 ? 1 : 0)),
    categorical: Int32Array.from({ length: B * cat }, pick),
    numeric: Float32Array.from({ length: B * num }, () => rng.normal()),
    sequences: [],
  }));
}

function ctrSpecs(): FeatureSpec[] {
  return [
    ...Array.from({ length: CTR.cat }, (_, j): FeatureSpec => ({
      name: `C${j + 1}`,
      type: "categorical",
      vocabSize: CTR.vocab,
    })),
    ...Array.from({ length: CTR.num }, (_, j): FeatureSpec => ({
      name: `I${j + 1}`,
      type: "numeric",
    })),
  ];
}

function dcnBench(bs: CtrBatch[]): Bench {
  const model = new CtrBaseline("dcnv2", ctrSpecs(), {
    embeddingDim: CTR.d,
    numCrossLayers: CTR.cross,
    dnnHidden: CTR.hidden,
    embeddingRegularizer: 0,
  });
  const opt = new wg.Adam(model.parameters(), { lr: 1e-3 });
  return {
    name: "dcnv2",
    samples: CTR.B,
    step(i, prof) {
      return wg.keep(wg.tidy(() => {
        if (prof) prof.phase = "forward";
        const b = bs[i % bs.length];
        const logits = wg.reshape(model.forward(b), [b.size]);
        const loss = wg.bceWithLogits(logits, wg.tensor(b.labels, [b.size]));
        if (prof) prof.phase = "backward";
        wg.backward(loss);
        if (prof) prof.phase = "optimizer";
        opt.step();
        opt.zeroGrad();
        return loss;
      }));
    },
    dispose() {
      opt.dispose();
      model.dispose();
    },
  };
}

/** CPU milliseconds of this process so far (utime + stime, 10 ms ticks), null off Linux. */
function processCpuMs(): number | null {
  try {
    const st = Deno.readTextFileSync("/proc/self/stat");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

interface Measured {
  model: string;
  samplesPerSec: number;
  msPerStep: number;
  /**
   * CPU ms per step of the whole process (all threads: JS, driver, shader threads of a
   * software adapter; /proc, Linux only), comparable to PyTorch's `time.process_time()`.
   */
  cpuMsPerStep: number | null;
  steps: number;
  load: number[] | null;
  finalLoss: number;
  memoryMiB: number;
  profile?: wg.ProfileReport;
}

async function measure(b: Bench, adapter: string, profiled: boolean): Promise<Measured> {
  const rt = wg.runtime();
  for (let i = 0; i < 2; i++) await b.step(i, null).read(); // compile, allocate
  const load = loadAverage();
  const t0 = performance.now();
  const c0 = processCpuMs();
  const losses: wg.Tensor<"f32">[] = [];
  for (let i = 0; i < STEPS; i++) losses.push(b.step(i, null));
  const vals = await wg.readAll(losses);
  const ms = (performance.now() - t0) / STEPS;
  const c1 = processCpuMs();
  for (const l of losses) l.dispose();
  const mem = rt.memory();
  let profile: wg.ProfileReport | undefined;
  if (profiled) {
    const prof = wg.Profiler.start(rt, { adapter });
    for (let i = 0; i < 2; i++) {
      b.step(i, prof).dispose();
      prof.step();
    }
    profile = await prof.stop();
    console.error(wg.formatProfile(profile, 12));
  }
  return {
    model: b.name,
    samplesPerSec: b.samples * 1000 / ms,
    msPerStep: ms,
    cpuMsPerStep: c0 === null || c1 === null ? null : (c1 - c0) / STEPS,
    steps: STEPS,
    load,
    finalLoss: vals[vals.length - 1][0],
    memoryMiB: (mem.liveBytes + mem.pooledBytes) / 2 ** 20,
    profile,
  };
}

// --- tfjs-webgpu ------------------------------------------------------------------------------

interface TfjsMeasured {
  model: string;
  samplesPerSec: number;
  msPerStep: number;
  cpuMsPerStep: number | null;
  load: number[] | null;
  finalLoss: number;
}

async function measureTfjs(b: TfjsBench): Promise<TfjsMeasured> {
  for (let i = 0; i < 2; i++) {
    const l = b.step(i);
    await tfjsRead(l);
    l.dispose();
  }
  const load = loadAverage();
  const t0 = performance.now();
  const c0 = processCpuMs();
  const losses = [];
  for (let i = 0; i < STEPS; i++) losses.push(b.step(i));
  const last = await tfjsRead(losses[losses.length - 1]);
  const ms = (performance.now() - t0) / STEPS;
  const c1 = processCpuMs();
  for (const l of losses) l.dispose();
  return {
    model: b.name,
    samplesPerSec: b.samples * 1000 / ms,
    msPerStep: ms,
    cpuMsPerStep: c0 === null || c1 === null ? null : (c1 - c0) / STEPS,
    load,
    finalLoss: last,
  };
}

/** The tfjs-webgpu runs of the models it can express (transformer, DCN-v2). */
async function runTfjs(cb: CtrBatch[]): Promise<{ version: string; runs: TfjsMeasured[] }> {
  const want = MODELS.filter((m) => m === "transformer" || m === "dcnv2");
  if (!want.length) return { version: "", runs: [] };
  const { version, adapter } = await startTfjs();
  console.error(`tfjs-webgpu ${version} on ${adapter}`);
  const runs: TfjsMeasured[] = [];
  for (const m of want) {
    const b = m === "dcnv2" ? tfjsDcn(CTR, cb) : tfjsTransformer(
      TF,
      normals(TF.B * TF.L * TF.d, 3),
      normals(TF.B * TF.L * TF.d, 4),
    );
    const r = await measureTfjs(b);
    b.dispose();
    console.error(
      `tfjs ${m}: ${r.samplesPerSec.toFixed(0)} samples/s, ${r.msPerStep.toFixed(1)} ms/step`,
    );
    runs.push(r);
  }
  return { version, runs };
}

function tfjsSection(res: Measured[], tfjs: { version: string; runs: TfjsMeasured[] }): string[] {
  if (!tfjs.runs.length) return [];
  const rows = tfjs.runs.map((t) => {
    const w = res.find((r) => r.model === t.model)!;
    const cpu = w.cpuMsPerStep && t.cpuMsPerStep ? t.cpuMsPerStep / w.cpuMsPerStep : NaN;
    return [
      t.model,
      w.samplesPerSec.toFixed(0),
      t.samplesPerSec.toFixed(0),
      t.msPerStep.toFixed(1),
      t.cpuMsPerStep === null ? "-" : t.cpuMsPerStep.toFixed(0),
      (w.samplesPerSec / t.samplesPerSec).toFixed(2) + "×",
      Number.isFinite(cpu) ? cpu.toFixed(2) + "×" : "-",
    ];
  });
  return [
    `## Against tfjs-webgpu ${tfjs.version} (same adapter, same process)`,
    ``,
    `The same models written with tfjs-core ops and its autodiff (bench/step_tfjs.ts), Adam; tfjs`,
    `has no sparse-dense product, so the graph models are not compared. Its steps ran after`,
    `wgrec's in the same process, on its own device.`,
    ``,
    markdownTable(
      [
        "model",
        "wgrec samples/s",
        "tfjs samples/s",
        "tfjs ms/step",
        "tfjs CPU ms/step",
        "wgrec/tfjs (wall)",
        "(CPU time)",
      ],
      rows,
      ["l", "r", "r", "r", "r", "r", "r"],
    ),
    ``,
  ];
}

// --- PyTorch ---------------------------------------------------------------------------------

async function writeData(
  dir: string,
  g: wg.Interactions,
  bs: wg.TripletBatch[],
  feat: Float32Array,
  cb: CtrBatch[],
) {
  await Deno.mkdir(dir, { recursive: true });
  const w = (n: string, a: ArrayBufferView) =>
    Deno.writeFile(`${dir}/${n}`, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  await w("users.i32", g.users as Int32Array);
  await w("items.i32", g.items as Int32Array);
  const flat = new Int32Array(bs.length * 3 * BATCH);
  bs.forEach((b, i) => [b.users, b.pos, b.neg].forEach((a, k) => flat.set(a, (3 * i + k) * BATCH)));
  await w("batches.i32", flat);
  await w("features.f32", feat);
  const cat = new Int32Array(cb.length * CTR.B * CTR.cat);
  const num = new Float32Array(cb.length * CTR.B * CTR.num);
  const lab = new Float32Array(cb.length * CTR.B);
  cb.forEach((b, i) => {
    cat.set(b.categorical, i * b.categorical.length);
    num.set(b.numeric, i * b.numeric.length);
    lab.set(b.labels, i * CTR.B);
  });
  await w("ctr_cat.i32", cat);
  await w("ctr_num.f32", num);
  await w("ctr_labels.f32", lab);
  const meta = {
    ...SHAPE,
    batch: BATCH,
    nBatches: bs.length,
    dmm: DMM,
    tf: TF,
    ctr: { ...CTR, nBatches: cb.length },
    steps: STEPS,
  };
  await Deno.writeTextFile(`${dir}/meta.json`, JSON.stringify(meta));
}

async function runTorch(dir: string, models: string[]): Promise<Record<string, unknown>[]> {
  const script = new URL("./torch_step.py", import.meta.url).pathname;
  const out = await new Deno.Command("/usr/bin/python3", {
    args: [script, dir, models.join(",")],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`torch_step.py failed (exit ${out.code})`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

// --- main ------------------------------------------------------------------------------------

if (import.meta.main) {
  const params = args.params as "uniform" | "storage" | undefined;
  const rt = await wg.init({ params });
  console.error(`kernel params in ${rt.params} buffers`);
  const adapter = rt.gpu.adapter.description;
  const g = mlShapedGraph();
  const bs = batches(g, 4);
  const feat = normals(SHAPE.items * DMM, 5);
  const cb = ctrBatches(4);
  const bench = (m: string) =>
    m === "lightgcn"
      ? recommenderBench(m, new wg.LightGCN(g, { layers: 3, embeddingSize: 64 }), g, bs)
      : m === "alignrec"
      ? recommenderBench(m, new wg.AlignRec(g, feat), g, bs)
      : m === "dcnv2"
      ? dcnBench(cb)
      : transformerBench();
  let torchDir: string | null = null;
  if (args["no-torch"] !== "true") {
    torchDir = await Deno.makeTempDir({ prefix: "wgrec_step_" });
    await writeData(torchDir, g, bs, feat, cb);
  }
  // Each round runs every model's wgrec window, then its PyTorch window, back to back: the
  // machine's speed drifts over minutes, so the two sides of a ratio are measured together.
  const results: Measured[][] = [];
  const torch: Record<string, unknown>[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    results.push([]);
    torch.push([]);
    for (const m of MODELS) {
      const b = bench(m);
      const r = await measure(b, adapter, round === 0);
      b.dispose();
      console.error(
        `wgrec ${m}: ${r.samplesPerSec.toFixed(0)} samples/s, ${r.msPerStep.toFixed(1)} ms/step`,
      );
      results[round].push(r);
      wg.runtime().trim();
      if (!torchDir) continue;
      try {
        torch[round].push(...await runTorch(torchDir, [m]));
      } catch (e) {
        console.error(`PyTorch side skipped: ${(e as Error).message}`);
      }
    }
  }
  if (torchDir) await Deno.remove(torchDir, { recursive: true });
  let tfjs: { version: string; runs: TfjsMeasured[] } = { version: "", runs: [] };
  if (args["no-tfjs"] !== "true") {
    try {
      tfjs = await runTfjs(cb);
    } catch (e) {
      console.error(`tfjs-webgpu side skipped: ${(e as Error).message}`);
    }
  }
  await report(adapter, results, torch, tfjs);
}

async function report(
  adapter: string,
  rounds: Measured[][],
  torchRounds: Record<string, unknown>[][],
  tfjs: { version: string; runs: TfjsMeasured[] },
) {
  const fmtLoad = (
    l: unknown,
  ) => (Array.isArray(l) ? l.map((x) => Number(x).toFixed(2)).join(" ") : "?");
  // Per model: the round with the median wgrec/torch ratio, the lower middle one for an even
  // count of rounds (the first round without PyTorch).
  const perRound = (model: string) =>
    rounds.map((rs, k) => {
      const r = rs.find((x) => x.model === model)!;
      const t = torchRounds[k].find((x) => x.model === model);
      return { r, t, ratio: t ? r.samplesPerSec / Number(t.samplesPerSec) : NaN };
    });
  const res = rounds[0].map((r0) => {
    const ranked = perRound(r0.model).filter((x) => Number.isFinite(x.ratio))
      .sort((a, b) => a.ratio - b.ratio);
    return ranked[(ranked.length - 1) >> 1] ?? perRound(r0.model)[0];
  });
  const ratioList = (model: string) =>
    perRound(model).map((x) => x.ratio.toFixed(2) + "×").join(", ");
  const rows = res.map(({ r, t }) => {
    const ts = t ? Number(t.samplesPerSec) : NaN;
    const cpuRatio = t && r.cpuMsPerStep ? Number(t.cpuMsPerStep) / r.cpuMsPerStep : NaN;
    return [
      r.model,
      r.samplesPerSec.toFixed(0),
      r.msPerStep.toFixed(1),
      r.cpuMsPerStep === null ? "-" : r.cpuMsPerStep.toFixed(0),
      fmtLoad(r.load),
      t ? ts.toFixed(0) : "-",
      t ? Number(t.msPerStep).toFixed(1) : "-",
      t ? Number(t.cpuMsPerStep).toFixed(0) : "-",
      t ? fmtLoad(t.load) : "-",
      t ? (r.samplesPerSec / ts).toFixed(2) + "×" : "-",
      Number.isFinite(cpuRatio) ? cpuRatio.toFixed(2) + "×" : "-",
      r.memoryMiB.toFixed(0),
      t ? Number(t.maxRssMiB).toFixed(0) : "-",
      ...(ROUNDS > 1 ? [ratioList(r.model)] : []),
    ];
  });
  const head = [
    "model",
    "wgrec samples/s",
    "ms/step",
    "CPU ms/step",
    "load",
    "torch samples/s",
    "ms/step",
    "CPU ms/step",
    "load",
    "wgrec/torch (wall)",
    "(CPU time)",
    "wgrec GPU MiB",
    "torch max RSS MiB",
    ...(ROUNDS > 1 ? ["wall ratio per round"] : []),
  ];
  const breakdown = rounds[0].map((r) => {
    const p = r.profile!;
    const s = p.steps;
    const kr = p.byKernel.slice(0, 8).map((k) => [
      k.name,
      k.gpuMs === null ? "-" : (k.gpuMs / s).toFixed(1),
      k.share === null ? "-" : (100 * k.share).toFixed(1) + "%",
      (k.dispatches / s).toFixed(0),
    ]);
    const ph = p.byPhase.map((k) =>
      `${k.name} ${k.gpuMs === null ? "-" : (k.gpuMs / s).toFixed(1)} ms`
    );
    return `### ${r.model}\n\nPer step (${p.method}): ${p.perStep.dispatches} dispatches, ` +
      `${p.perStep.submits.toFixed(1)} submits, ${p.perStep.readbacks} readbacks; ` +
      `${ph.join(", ")}.\n\n` +
      markdownTable(["kernel", "ms/step", "share", "dispatches"], kr, ["l", "r", "r", "r"]);
  });
  const md = [
    `# Training steps: wgrec vs PyTorch CPU`,
    ``,
    `Adapter: ${adapter}. ${args.note ?? ""}`,
    `Command: \`deno run -A bench/step_bench.ts${
      Deno.args.length ? " " + Deno.args.join(" ") : ""
    }\``,
    ``,
    `LightGCN: 3 layers, d = 64; AlignRec: official defaults (2 UI layers, 1 kNN layer, k = 10,`,
    `d = 64), synthetic Gaussian item features (d_mm = ${DMM}; ML-1M has none); both on a seeded`,
    `ML-1M-shaped graph (${SHAPE.users} users, ${SHAPE.items} items, ${SHAPE.interactions}`,
    `interactions, power-law degrees), batch ${BATCH}, Adam. Transformer: ${TF.layers} post-LN`,
    `encoder layers, B = ${TF.B}, L = ${TF.L}, d = ${TF.d}, ${TF.heads} heads, FFN ${TF.ff},`,
    `dropout 0, MSE to a fixed target. ${STEPS} timed steps after 2 warm-up steps; load = 1/5/15-min`,
    `load average at the start of each timed window (other processes share the cores). CPU ms =`,
    `CPU time of the whole process per step (all threads); the CPU-time ratio is the fairer one`,
    `when the machine is loaded (wall-clock shares of a busy machine are luck). DCN-v2:`,
    `Criteo's layout (${CTR.cat} categorical fields of ${CTR.vocab} ids, Zipf-like, and ${CTR.num}`,
    `numeric), d = ${CTR.d}, ${CTR.cross} cross layers parallel to an MLP ${CTR.hidden.join("-")},`,
    `batch ${CTR.B}, BCE with logits, one table per field.`,
    ``,
    ...(ROUNDS > 1
      ? [
        `${ROUNDS} rounds; in each, a model's wgrec window and its PyTorch window run back to`,
        `back. The row shown is the round with the median wall-clock ratio; the last column`,
        `lists every round's.`,
        ``,
      ]
      : []),
    markdownTable(head, rows, [
      "l",
      "r",
      "r",
      "r",
      "l",
      "r",
      "r",
      "r",
      "l",
      "r",
      "r",
      "r",
      "r",
      ...(ROUNDS > 1 ? ["l" as const] : []),
    ]),
    ``,
    ...tfjsSection(rounds[0], tfjs),
    `## Per-kernel breakdown (wgrec, profiler window of 2 steps)`,
    ``,
    ...breakdown.flatMap((b) => [b, ""]),
  ].join("\n");
  const data = { adapter, args: Deno.args, rounds, torchRounds, tfjs };
  await writeReport(OUT, md, data);
  console.log(md);
}
