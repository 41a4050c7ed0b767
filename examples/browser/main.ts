/**
 * The in-browser demo (examples/browser/index.html): finds a WebGPU adapter (or says why there
 * is none), generates the synthetic dataset, trains AlignRec (or LightGCN) step by step with a
 * live loss curve, evaluates full-ranking metrics every epoch, and shows the item embeddings'
 * top-3 principal components in a WebGPU scatter. Every step awaits its loss readback and
 * then yields to the event loop, so the tab stays responsive.
 *
 * URL parameters (all optional): `model` (alignrec | lightgcn), `users`, `items`,
 * `interactions`, `batch`, `dim`, `lr`, `epochs`, `seed`, `ica` (stage-1 epochs for AlignRec's
 * unified features; 0 uses the raw image‖text features), `pcaEvery` (steps between scatter
 * refreshes), `present` (canvas | readback: how the scatter reaches the screen; by default a
 * probe picks), `autostart` (0 waits for a click), `pmg` (1 trains the PMG view at once, see
 * pmg_view.ts), `pmgEpochs`.
 * @module
 */

import {
  Adam,
  AlignRec,
  backward,
  concatFeatures,
  DEFAULT_KS,
  evaluateModel,
  generateSynthetic,
  init,
  keep,
  LightGCN,
  noGrad,
  Popularity,
  readAll,
  type Recommender,
  Rng,
  type Runtime,
  type SyntheticDataset,
  tidy,
  trainData,
  trainIca,
  tripletBatches,
  tripletTensors,
} from "./entry.ts";
import { LossPlot } from "./plot.ts";
import { Projector } from "./pca.ts";
import { canvasPresentationWorks, type Presentation, Scatter } from "./scatter.ts";
import { mountPmgView } from "./pmg_view.ts";

/** One row of the metric table. */
export interface EvalRow {
  /** Model name. */
  model: string;
  /** 1-based epoch (0 for a baseline). */
  epoch: number;
  /** Training steps so far. */
  step: number;
  /** Mean training loss of the epoch (NaN for a baseline). */
  loss: number;
  /** Validation metrics. */
  metrics: Record<string, number>;
  /** Seconds since training started. */
  seconds: number;
}

/** What the page exposes as `globalThis.wgrecDemo` (the browser test reads it). */
export interface DemoState {
  /** Where the page is. */
  phase: "starting" | "no-webgpu" | "preparing" | "training" | "paused" | "done" | "error";
  /** Adapter description. */
  adapter: string;
  /** Model being trained. */
  model: string;
  /** Steps taken. */
  steps: number;
  /** Loss of every step. */
  losses: number[];
  /** Steps at which epochs ended. */
  epochEnds: number[];
  /** Metric rows, baseline first. */
  evals: EvalRow[];
  /** Scatter refreshes. */
  projections: number;
  /** Explained variance of the three components at the last refresh. */
  explained: number[];
  /** Frames the scatter drew. */
  frames: number;
  /** How the scatter reaches the screen. */
  presentation: Presentation | "";
  /** Why the page stopped, when it did. */
  error: string | null;
}

const q = new URLSearchParams(location.search);
const num = (k: string, d: number) => {
  const v = Number(q.get(k) ?? d);
  return Number.isFinite(v) ? v : d;
};
const cfg = {
  model: q.get("model") === "lightgcn" ? "lightgcn" : "alignrec",
  users: num("users", 300),
  items: num("items", 200),
  interactions: num("interactions", 5000),
  batch: num("batch", 512),
  dim: num("dim", 64),
  lr: num("lr", 0.01),
  epochs: num("epochs", 30),
  seed: num("seed", 1),
  ica: num("ica", 10),
  pcaEvery: Math.max(1, num("pcaEvery", 4)),
  present: q.get("present"),
  autostart: q.get("autostart") !== "0",
};

const state: DemoState = {
  phase: "starting",
  adapter: "",
  model: "",
  steps: 0,
  losses: [],
  epochEnds: [],
  evals: [],
  projections: 0,
  explained: [],
  frames: 0,
  presentation: "",
  error: null,
};
(globalThis as unknown as { wgrecDemo: DemoState }).wgrecDemo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const setText = (id: string, s: string) => ($(id).textContent = s);
function setPhase(p: DemoState["phase"], label = p as string) {
  state.phase = p;
  document.body.dataset.phase = p;
  setText("state", label);
}

/** Shows why the page cannot run, in words a user can act on. */
function fail(title: string, detail: string) {
  state.error = `${title} ${detail}`;
  const box = $("error");
  box.style.display = "block";
  box.innerHTML = "";
  const b = document.createElement("b");
  b.textContent = title;
  box.append(b, detail);
  ($("toggle") as HTMLButtonElement).disabled = true;
}

/** Finds the adapter ourselves first, so a failure can be explained precisely. */
async function findGpu(): Promise<Runtime | null> {
  if (!globalThis.isSecureContext) {
    fail(
      "WebGPU needs a secure context.",
      `This page was loaded from ${location.origin}, which is not one. Open it over https, or ` +
        "from http://127.0.0.1 or http://localhost (`deno task serve:example`).",
    );
    return null;
  }
  if (!("gpu" in navigator) || !navigator.gpu) {
    fail(
      "This browser does not expose WebGPU (navigator.gpu is undefined).",
      "Chrome and Edge 113+ (Windows, macOS, ChromeOS, Android 121+), Safari 26 and Firefox " +
        "141+ (Windows) have it. On Linux, start Chromium with --enable-unsafe-webgpu (add " +
        "--use-webgpu-adapter=swiftshader for its CPU adapter when no GPU driver works), or " +
        "enable chrome://flags/#enable-unsafe-webgpu.",
    );
    return null;
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    fail("navigator.gpu.requestAdapter() failed:", String(e));
    return null;
  }
  if (!adapter) {
    fail(
      "WebGPU is present but found no adapter.",
      "The GPU or its driver may be blocklisted, or no Vulkan / Metal / Direct3D 12 driver is " +
        "available (chrome://gpu says which). Chromium can fall back to a CPU adapter with " +
        "--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader.",
    );
    return null;
  }
  // Probe canvas presentation before creating the device we keep: where it fails, it takes
  // every device of the page down (see scatter.ts).
  const p = cfg.present;
  state.presentation = p === "canvas" || p === "readback"
    ? p
    : await canvasPresentationWorks()
    ? "canvas"
    : "readback";
  try {
    return await init();
  } catch (e) {
    fail("Could not create a WebGPU device:", e instanceof Error ? e.message : String(e));
    return null;
  }
}

// Colours of the generator's topics (Tableau 10).
const PALETTE = [
  [0.31, 0.47, 0.65],
  [0.95, 0.56, 0.17],
  [0.88, 0.34, 0.35],
  [0.46, 0.72, 0.70],
  [0.35, 0.63, 0.31],
  [0.93, 0.79, 0.28],
  [0.69, 0.48, 0.63],
  [1.0, 0.62, 0.65],
  [0.61, 0.46, 0.37],
  [0.73, 0.69, 0.67],
];

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function addRow(r: EvalRow, cls = "") {
  state.evals.push(r);
  const tr = document.createElement("tr");
  if (cls) tr.className = cls;
  const m = r.metrics;
  const cells = [
    r.model,
    r.epoch ? String(r.epoch) : "–",
    r.epoch ? String(r.step) : "–",
    Number.isNaN(r.loss) ? "–" : fmt(r.loss),
    fmt(m["recall@10"]),
    fmt(m["recall@20"]),
    fmt(m["ndcg@10"]),
    fmt(m["ndcg@20"]),
    r.seconds.toFixed(1),
  ];
  for (const c of cells) {
    const td = document.createElement("td");
    td.textContent = c;
    tr.append(td);
  }
  const body = ($("metrics") as HTMLTableElement).tBodies[0];
  body.append(tr);
  // Highlight the best epoch by Recall@20.
  let best: HTMLTableRowElement | null = null;
  let bestV = -Infinity;
  for (const row of body.rows) {
    if (row.classList.contains("baseline")) continue;
    row.classList.remove("best");
    const v = Number(row.cells[5].textContent);
    if (v > bestV) [bestV, best] = [v, row];
  }
  best?.classList.add("best");
}

interface Run {
  gen: number;
  model: Recommender;
  opt: Adam;
}

let generation = 0;
let paused = false;
let resume: (() => void) | null = null;

async function main() {
  const found = await findGpu();
  if (!found) {
    setPhase("no-webgpu", "no WebGPU");
    setText("adapter", "none");
    return;
  }
  const rt: Runtime = found;
  const a = rt.gpu.adapter;
  state.adapter = [a.vendor, a.architecture, a.description].filter((s) => s).join(" / ") ||
    "unnamed adapter";
  setText("adapter", state.adapter);
  mountPmgView(rt, {
    autostart: q.get("pmg") === "1",
    epochs: num("pmgEpochs", 8),
    seed: cfg.seed,
  });
  rt.lost.then((r) => {
    fail("The GPU device was lost:", r);
    setPhase("error");
  });

  setPhase("preparing", "generating data");
  await pause();
  const ds = generateSynthetic({
    seed: cfg.seed,
    numUsers: cfg.users,
    numItems: cfg.items,
    numInteractions: cfg.interactions,
    ctrImpressions: 0,
  });
  const data = trainData(ds.split);
  const { train, valid, test } = ds.split;
  setText(
    "data",
    `synthetic: ${train.numUsers} users, ${train.numItems} items, ${ds.numTopics} topics; ` +
      `${train.users.length} / ${valid.users.length} / ${test.users.length} ` +
      `train / valid / test interactions`,
  );
  const colors = new Float32Array(3 * train.numItems);
  for (let i = 0; i < train.numItems; i++) colors.set(PALETTE[ds.itemTopic[i] % 10], 3 * i);
  const legend = $("legend");
  for (let t = 0; t < ds.numTopics; t++) {
    const s = document.createElement("span");
    s.style.setProperty("--c", `rgb(${PALETTE[t % 10].map((c) => Math.round(255 * c))})`);
    s.textContent = `topic ${t}`;
    legend.append(s);
  }

  const plot = new LossPlot($("loss"));
  plot.draw([]);
  const scatter = new Scatter($("scatter"), rt.device, state.presentation || "readback");
  const projector = new Projector();
  let shown: { dispose(): void } | null = null;

  const base = await evaluateModel(new Popularity(train), valid, data.trainCsr, DEFAULT_KS);
  addRow(
    { model: "Popularity", epoch: 0, step: 0, loss: NaN, metrics: base, seconds: 0 },
    "baseline",
  );

  // AlignRec's multimodal input: stage-1 (ICA) unified features, or the raw image‖text rows.
  const image = { data: ds.imageFeat, dim: ds.imageDim };
  const text = { data: ds.textFeat, dim: ds.textDim };
  let features: Float32Array | null = null;
  const featureNote = async () => {
    if (features) return;
    if (cfg.ica > 0) {
      setPhase("preparing", `stage 1 (ICA), ${cfg.ica} epochs`);
      const r = await trainIca(image, text, { epochs: cfg.ica, seed: cfg.seed }, (p) => {
        setText("state", `stage 1 (ICA) epoch ${p.epoch + 1}/${p.epochs}, loss ${fmt(p.loss)}`);
      });
      r.encoder.dispose();
      features = r.features.data;
      const h = r.history;
      setText(
        "cfgNote",
        `AlignRec input: ${r.features.dim}-d unified item features from stage 1 (ICA, ` +
          `${cfg.ica} epochs, loss ${fmt(h[0].loss, 3)} → ${fmt(h.at(-1)!.loss, 3)}).`,
      );
    } else {
      features = concatFeatures(image, text).data;
      setText("cfgNote", "AlignRec input: the raw image‖text features (stage 1 skipped).");
    }
  };

  async function refreshScatter(model: Recommender) {
    const items = noGrad(() => tidy(() => keep(model.embeddings().items)));
    try {
      const p = await projector.project(items);
      rt.flush(); // the render pass reads the coordinates: submit the work that writes them
      const spread = Math.sqrt(Math.max(p.variance[0], 1e-12));
      scatter.setPoints(p.coords.buffer.buffer, p.coords.shape[0], colors, 1 / (2.2 * spread));
      shown?.dispose();
      shown = p.coords;
      state.projections++;
      state.explained = p.explained;
      setText(
        "pcaNote",
        `Colour: each item's primary topic in the generator. Variance explained by the three ` +
          `components: ${p.explained.map((e) => (100 * e).toFixed(1) + " %").join(", ")}. ` +
          (scatter.presentation === "canvas"
            ? "Drawn on a WebGPU canvas."
            : "Rendered with WebGPU into a texture and copied to the page (this browser " +
              "cannot present a WebGPU canvas)."),
      );
    } finally {
      items.dispose();
    }
  }

  /**
   * Compiles a training step's pipelines before the first step, a few at a time, showing
   * "compiling shaders k/N" (on a software adapter the first step otherwise stalls for about a
   * minute with nothing on screen). Nothing the captured step dispatches runs.
   */
  async function compileShaders(model: Recommender, gen: number): Promise<void> {
    const first = tripletBatches(train, data.trainCsr, cfg.batch, new Rng(cfg.seed)).next().value;
    if (!first) return;
    const keys = rt.capturePipelines(() =>
      tidy(() => {
        backward(model.loss(tripletTensors(first, train.numUsers, train.numItems)).loss);
      })
    );
    model.zeroGrad(); // the captured backward allocated gradients it never wrote
    const t0 = performance.now();
    for (let i = 0; i < keys.length; i += 4) {
      if (gen !== generation) return;
      setPhase("preparing", `compiling shaders ${i}/${keys.length}`);
      await rt.precompile(keys.slice(i, i + 4));
    }
    setPhase(
      "preparing",
      `compiled ${keys.length} shaders in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }

  async function start(gen: number): Promise<void> {
    state.losses = [];
    state.epochEnds = [];
    state.steps = 0;
    const body = ($("metrics") as HTMLTableElement).tBodies[0];
    for (const r of [...body.rows]) if (!r.classList.contains("baseline")) r.remove();
    state.evals = state.evals.filter((r) => r.epoch === 0);
    plot.draw([]);
    const kind = ($("model") as HTMLSelectElement).value;
    let model: Recommender;
    if (kind === "alignrec") {
      await featureNote();
      if (gen !== generation) return;
      model = new AlignRec(train, features!, { embeddingSize: cfg.dim, seed: cfg.seed });
    } else {
      model = new LightGCN(train, { embeddingSize: cfg.dim, seed: cfg.seed });
      setText("cfgNote", "LightGCN on the interactions only.");
    }
    state.model = model.name;
    setText(
      "lossNote",
      `${model.name}: Adam, lr ${cfg.lr}, batch ${cfg.batch}, d = ${cfg.dim}, one uniform ` +
        `negative per pair. Thin line: every step. Thick line: moving average.`,
    );
    const run: Run = { gen, model, opt: new Adam(model.parameters(), { lr: cfg.lr }) };
    try {
      await train_(run);
    } finally {
      run.opt.dispose();
      model.dispose();
    }
  }

  async function train_(run: Run): Promise<void> {
    const { model, opt, gen } = run;
    await compileShaders(model, gen);
    if (gen !== generation) return;
    await refreshScatter(model);
    const t0 = performance.now();
    let tStep = t0;
    let stepsTimed = 0;
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      const rng = new Rng((cfg.seed * 1000003 + epoch) >>> 0);
      let sum = 0, n = 0;
      for (const b of tripletBatches(train, data.trainCsr, cfg.batch, rng)) {
        if (paused) await new Promise<void>((r) => (resume = r));
        if (gen !== generation) return;
        setPhase("training", `training ${model.name}, epoch ${epoch}/${cfg.epochs}`);
        const loss = tidy(() => {
          const { loss } = model.loss(tripletTensors(b, train.numUsers, train.numItems));
          backward(loss);
          opt.step();
          opt.zeroGrad();
          return loss;
        });
        const [l] = await readAll([loss]);
        loss.dispose();
        if (gen !== generation) return;
        const v = l[0];
        if (!Number.isFinite(v)) throw new Error(`the loss became ${v} at step ${state.steps + 1}`);
        state.losses.push(v);
        state.steps++;
        sum += v;
        n++;
        stepsTimed++;
        const now = performance.now();
        setText("step", String(state.steps));
        setText("lossNow", fmt(v));
        if (now - tStep > 1000) {
          const sps = (1000 * stepsTimed) / (now - tStep);
          setText("speed", `${sps.toFixed(1)} steps/s, ${Math.round(sps * cfg.batch)} triples/s`);
          tStep = now;
          stepsTimed = 0;
        }
        plot.draw(state.losses, state.epochEnds);
        if (state.steps % cfg.pcaEvery === 0) await refreshScatter(model);
        await pause();
      }
      state.epochEnds.push(state.steps);
      setPhase("training", `evaluating epoch ${epoch}`);
      const metrics = await evaluateModel(model, valid, data.trainCsr, DEFAULT_KS);
      if (gen !== generation) return;
      addRow({
        model: model.name,
        epoch,
        step: state.steps,
        loss: sum / n,
        metrics,
        seconds: (performance.now() - t0) / 1000,
      });
      await refreshScatter(model);
    }
    setPhase("done", `done: ${cfg.epochs} epochs of ${model.name}`);
    ($("toggle") as HTMLButtonElement).disabled = true;
  }

  const toggle = $("toggle") as HTMLButtonElement;
  toggle.onclick = () => {
    paused = !paused;
    toggle.textContent = paused ? "Resume" : "Pause";
    if (paused) setPhase("paused", "paused");
    else {
      resume?.();
      resume = null;
    }
  };
  // One run at a time: a restart tells the current run to stop (it checks `generation` after
  // every await) and starts the new one once it has returned and freed its model, so the two
  // never interleave their tensor scopes.
  let running: Promise<void> = Promise.resolve();
  const launch = () => {
    const gen = ++generation;
    paused = false;
    resume?.();
    resume = null;
    toggle.textContent = "Pause";
    toggle.disabled = false;
    running = running.then(() => (gen === generation ? start(gen) : undefined)).catch(onError);
  };
  ($("restart") as HTMLButtonElement).onclick = launch;
  ($("model") as HTMLSelectElement).value = cfg.model;
  ($("model") as HTMLSelectElement).onchange = launch;
  if (cfg.autostart) launch();
  else setPhase("paused", "press Restart to train");
  // Exposed for the console and the browser test.
  Object.assign(globalThis, { wgrecScatter: scatter, wgrecData: ds as SyntheticDataset });
  state.frames = scatter.frames;
  setInterval(() => (state.frames = scatter.frames), 250);
}

/** Lets the browser paint and handle input between steps. */
function pause(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

function onError(e: unknown) {
  console.error(e);
  fail("Training stopped:", e instanceof Error ? e.message : String(e));
  setPhase("error", "error");
}

main().catch(onError);
