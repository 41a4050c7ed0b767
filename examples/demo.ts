/**
 * The main job: AlignRec end to end (`deno task demo`).
 *
 * 1. Stage 1 (ICA): a small multimodal encoder aligns the two content modalities of every item
 *    and exports one unified feature row per item (src/models/ica.ts).
 * 2. Stage 2 (CCA + UIA): AlignRec trains on the interactions with those features
 *    (src/models/alignrec/model.ts); LightGCN and popularity are trained/evaluated the same way.
 *    Every model runs through the runner (src/runner/run.ts, as `deno task train --model …`
 *    would), each into its own run folder `<out>/<model>/`.
 * 3. Reports full-ranking test metrics at the best-valid epoch, the paper's intermediate metrics
 *    (zero-shot and item-CF from features alone, masked-modality robustness), and writes the
 *    trained weights (safetensors), the unified features (.npy), AlignRec's top 20 per user
 *    (recommendations.tsv), a loss/metric curve (SVG) and the results (JSON, Markdown) to the
 *    output folder.
 *
 * ```
 * deno task demo                          # embedded synthetic data, a few minutes on a CPU adapter
 * deno task demo --ml100k ../shared/data/ml-100k
 * deno task demo --data path/to/baby      # MMRec folder: baby.inter + image_feat.npy/text_feat.npy
 * ```
 * Options: `--out DIR` (default ./out), `--epochs N`, `--batch N`, `--lr X`, `--patience N`
 * (each applies to every model trained), `--ica-epochs N`, `--name NAME` (the `.inter` file
 * stem), `--vbpr` (add the VBPR baseline), `--mask-train` (also train AlignRec on features with
 * half the images masked), `--spec` (the paper's training settings: batch 2048, lr 1e-3, 1000
 * epochs, patience 30), `--resume` (continue AlignRec from its run folder's checkpoint,
 * `<out>/alignrec/checkpoint.safetensors`, written every epoch). Epochs are 0-based in every
 * table and file.
 * @module
 */

import {
  concatFeatures,
  type EpochLog,
  type FeatureMetrics,
  featureMetrics,
  type FeatureTable,
  type FitResult,
  init,
  maskedItems,
  recommend,
  type Recommender,
  saveModule,
  terminalProgress,
  trainData,
  trainIca,
} from "../internal.ts";
import type { IdMap } from "../src/data/types.ts";
import { writeNpy } from "../src/io/npy.ts";
import { loadRetrievalData } from "../src/runner/data.ts";
import "../src/runner/models.ts";
import { type RunResult, trainRun } from "../src/runner/run.ts";
import { curvesSvg, historySeries } from "../src/runner/report.ts";

const FLAGS = ["vbpr", "mask-train", "spec", "resume", "help"];
const VALUES = ["data", "name", "ml100k", "out", "epochs", "batch", "lr", "patience", "ica-epochs"];
const args: Record<string, string | boolean | undefined> = { out: "out" };
for (let i = 0; i < Deno.args.length; i++) {
  const [key, inline] = Deno.args[i].replace(/^--/, "").split("=", 2);
  if (FLAGS.includes(key)) args[key] = true;
  else if (VALUES.includes(key)) args[key] = inline ?? Deno.args[++i];
  else {
    console.error(`unknown option ${Deno.args[i]} (try --help)`);
    Deno.exit(2);
  }
}
if (args.help) {
  console.log(
    "deno task demo [--ml100k DIR | --data MMREC_DIR [--name NAME]] [--out DIR] [--epochs N] " +
      "[--batch N] [--lr X] [--patience N] [--ica-epochs N] [--vbpr] [--mask-train] [--spec] " +
      "[--resume]",
  );
  Deno.exit(0);
}

const t0 = performance.now();
const rt = await init();
const adapter = rt.gpu.adapter.description || rt.gpu.adapter.vendor || "unknown adapter";
console.log(`adapter: ${adapter}`);

// --- data and per-dataset settings (runner config layers over the registered defaults) ------

type Config = Record<string, number>;
const spec = args.ml100k ? String(args.ml100k) : args.data ? String(args.data) : "embedded";
const stem = args.ml100k ? "ml-100k" : args.name as string | undefined;
const cache = new Map<string, unknown>();
const data = await loadRetrievalData(spec, stem);
cache.set(`retrieval|${spec}|${stem ?? ""}`, data);
let s: { ica: { epochs: number }; alignrec: Config; lightgcn: Config };
if (args.ml100k) {
  s = {
    ica: { epochs: 60 },
    alignrec: { epochs: 100, batchSize: 2048, lr: 0.005, patience: 10 },
    lightgcn: { epochs: 200, batchSize: 2048, lr: 0.005, patience: 10 },
  };
} else if (args.data) {
  s = { ica: { epochs: 60 }, alignrec: {}, lightgcn: {} }; // the paper's settings (defaults)
} else {
  s = {
    ica: { epochs: 60 },
    alignrec: { epochs: 8, batchSize: 512, lr: 0.005, patience: 3 },
    lightgcn: { epochs: 30, batchSize: 512, lr: 0.005, patience: 5, evalEvery: 2 },
  };
}
if (args.spec) {
  const paper = { epochs: 1000, batchSize: 2048, lr: 1e-3, patience: 30, evalEvery: 1 };
  s.alignrec = { ...s.alignrec, ...paper };
  s.lightgcn = { ...s.lightgcn, ...paper };
}
for (const f of [s.alignrec, s.lightgcn]) {
  if (args.batch) f.batchSize = Number(args.batch);
  if (args.lr) f.lr = Number(args.lr);
  if (args.patience) f.patience = Number(args.patience);
  if (args.epochs) f.epochs = Number(args.epochs);
}
if (args["ica-epochs"]) s.ica.epochs = Number(args["ica-epochs"]);
console.log(`data: ${data.description}`);
const split = data.split;
const td = trainData(split);
const out = String(args.out);
await Deno.mkdir(out, { recursive: true });
const progress = terminalProgress();

// --- stage 1: inter-content alignment ----------------------------------------------------------

let unified: FeatureTable;
let icaHistory: number[] = [];
const featureRows: { name: string; m: FeatureMetrics }[] = [];
const ks = [5, 10, 20, 50];
let encoder: Awaited<ReturnType<typeof trainIca>>["encoder"] | null = null;
if (data.image && data.text) {
  console.log(`\nstage 1 (ICA): ${data.image.dim}-d + ${data.text.dim}-d → unified features`);
  const ica = await trainIca(data.image, data.text, { epochs: s.ica.epochs }, progress);
  encoder = ica.encoder;
  unified = ica.features;
  icaHistory = ica.history.map((h) => h.loss);
  console.log(
    `ICA: ${ica.history.length} epochs in ${ica.seconds.toFixed(1)} s, final loss ` +
      `${icaHistory.at(-1)!.toFixed(4)} (InfoNCE ${ica.history.at(-1)!.nce.toFixed(4)}, ` +
      `reconstruction ${ica.history.at(-1)!.rec.toFixed(4)})`,
  );
  await Deno.writeFile(`${out}/ica.safetensors`, await saveModule(encoder));
  const raw = concatFeatures(data.image, data.text);
  featureRows.push({
    name: "raw [image ‖ text]",
    m: await featureMetrics(raw.data, td.trainCsr, split.test, ks),
  });
} else {
  unified = data.unified!;
  console.log(`\nstage 1 skipped: precomputed ${unified.dim}-d unified features`);
}
await Deno.writeFile(
  `${out}/features.npy`,
  writeNpy({ shape: [split.train.numItems, unified.dim], data: unified.data }),
);
featureRows.push({
  name: "unified (stage 1)",
  m: await featureMetrics(unified.data, td.trainCsr, split.test, ks),
});
// Masked-modality robustness: half the items lose their image (or text); the encoder
// recomputes their features from the masked input.
const mask = maskedItems(split.train.numItems, 0.5, 1);
let maskedImage: FeatureTable | null = null;
if (encoder && data.image && data.text) {
  maskedImage = await encoder.features(data.image, data.text, { image: mask });
  const maskedText = await encoder.features(data.image, data.text, { text: mask });
  featureRows.push({
    name: "unified, 50% images masked",
    m: await featureMetrics(maskedImage.data, td.trainCsr, split.test, ks),
  });
  featureRows.push({
    name: "unified, 50% texts masked",
    m: await featureMetrics(maskedText.data, td.trainCsr, split.test, ks),
  });
}

// --- stage 2 and baselines, each a runner run in <out>/<model>/ ------------------------------

const results: { model: string; r: FitResult }[] = [];
async function train(
  model: string,
  config: Config,
  label: string,
  dir = `${out}/${model}`,
  features?: FeatureTable,
): Promise<RunResult> {
  await Deno.mkdir(dir, { recursive: true });
  // AlignRec's stage-1 features are the runner's cached artifact of the run folder.
  if (features) {
    const rows = features.data.length / features.dim;
    await Deno.writeFile(
      `${dir}/features.npy`,
      writeNpy({ shape: [rows, features.dim], data: features.data }),
    );
  }
  const run = await trainRun(
    { model, data: spec, name: stem, layers: [["the demo's settings", config]] },
    {
      out: dir,
      progress,
      cache,
      resume: !!args.resume && model === "alignrec",
      keepModel: true,
      reuseArtifacts: !!features, // the stage-1 features written above
      log: (line) => console.log(`\n${line}`),
    },
  );
  const r = run.fit;
  results.push({ model: label, r });
  const m = run.model as Recommender;
  if (m.trainable) {
    const file = `${out}/${label.toLowerCase().replace(/[^a-z0-9]+/g, "_")}.safetensors`;
    await Deno.writeFile(
      file,
      await saveModule(m, { model: label, best_epoch: String(r.bestEpoch) }),
    );
  }
  const best = r.bestEpoch >= 0 ? `best epoch ${r.bestEpoch}, ` : "";
  console.log(
    `${label}: ${best}test Recall@20 ${fmt(r.test["recall@20"])} ` +
      `NDCG@20 ${fmt(r.test["ndcg@20"])} (${r.seconds.toFixed(1)} s)`,
  );
  return run;
}

console.log(`\nstage 2 (CCA + UIA)`);
const alignrec = await train("alignrec", s.alignrec, "AlignRec", `${out}/alignrec`, unified);
// Serving: the top 20 of every user with their training items left out (best-valid weights).
const allUsers = Array.from({ length: split.train.numUsers }, (_, u) => u);
const recs = await recommend(alignrec.model as Recommender, allUsers, 20, td.trainCsr);
const raw = (m: IdMap | undefined, i: number) => (m ? m.raw(i) : String(i));
await Deno.writeTextFile(
  `${out}/recommendations.tsv`,
  "user\ttop-20 items, best first\n" +
    recs.map((r, u) =>
      `${raw(data.rawIds?.users, u)}\t${Array.from(r, (i) => raw(data.rawIds?.items, i)).join(" ")}`
    ).join("\n") + "\n",
);
(alignrec.model as Recommender).dispose();
((await train("lightgcn", s.lightgcn, "LightGCN")).model as Recommender).dispose();
((await train("popularity", {}, "Popularity")).model as Recommender).dispose();
if (args.vbpr) ((await train("vbpr", s.lightgcn, "VBPR")).model as Recommender).dispose();
if (args["mask-train"] && maskedImage) {
  const m = await train(
    "alignrec",
    s.alignrec,
    "AlignRec (50% images masked)",
    `${out}/alignrec_masked`,
    maskedImage,
  );
  (m.model as Recommender).dispose();
}

// --- report ---------------------------------------------------------------------------------

function fmt(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? "–" : x.toFixed(4);
}
const cols = ["recall@10", "recall@20", "ndcg@10", "ndcg@20", "precision@20", "map@20"];
const lines: string[] = [];
lines.push(`# AlignRec demo — ${data.name}`, "", data.description, "");
lines.push(`Test metrics at the best-valid epoch (full ranking, training items masked):`, "");
lines.push(`| model | ${cols.join(" | ")} | best epoch (0-based) | seconds |`);
lines.push(`|---|${cols.map(() => "---:").join("|")}|---:|---:|`);
for (const { model, r } of results) {
  const be = r.bestEpoch >= 0 ? String(r.bestEpoch) : "–";
  lines.push(
    `| ${model} | ${cols.map((c) => fmt(r.test[c])).join(" | ")} | ${be} | ${
      r.seconds.toFixed(1)
    } |`,
  );
}
lines.push("", "Intermediate metrics on the test split (features only, no training):", "");
lines.push("| features | zero-shot R@20 | zero-shot N@20 | item-CF R@20 | item-CF N@20 |");
lines.push("|---|---:|---:|---:|---:|");
for (const { name, m } of featureRows) {
  lines.push(
    `| ${name} | ${fmt(m.zeroShot["recall@20"])} | ${fmt(m.zeroShot["ndcg@20"])} | ` +
      `${fmt(m.itemCf["recall@20"])} | ${fmt(m.itemCf["ndcg@20"])} |`,
  );
}
const total = (performance.now() - t0) / 1000;
lines.push("", `Total wall time: ${total.toFixed(0)} s on ${adapter}.`);
const report = lines.join("\n");
console.log("\n" + report);
await Deno.writeTextFile(`${out}/results.md`, report + "\n");
await Deno.writeTextFile(
  `${out}/results.json`,
  JSON.stringify(
    {
      data: data.description,
      settings: s,
      models: results.map(({ model, r }) => ({
        model,
        bestEpoch: r.bestEpoch,
        valid: r.valid,
        test: r.test,
        seconds: r.seconds,
        history: r.history,
      })),
      features: featureRows,
      icaLoss: icaHistory,
      seconds: total,
    },
    null,
    1,
  ),
);
await Deno.writeTextFile(`${out}/curves.svg`, demoCurves(results, icaHistory));
console.log(
  `\nwrote ${out}/: weights (*.safetensors), features.npy, recommendations.tsv (AlignRec's ` +
    `top 20 per user), curves.svg, results.md/json`,
);

// --- SVG curves -----------------------------------------------------------------------------

/** Two panels: training loss per epoch (stage 1 and 2) and valid Recall@20 per epoch. */
function demoCurves(runs: { model: string; r: FitResult }[], ica: number[]): string {
  const trained = runs.filter(({ r }) => r.history.length > 0);
  const series = trained.map(({ model, r }) =>
    historySeries(model, r.history as EpochLog[], "recall@20")
  );
  const loss = series.map((x) => x.loss);
  if (ica.length) loss.push({ name: "ICA (stage 1)", pts: ica.map((y, i) => [i + 1, y]) });
  return curvesSvg(
    { title: "training loss (log scale)", series: loss, logY: true },
    { title: "valid Recall@20", series: series.map((x) => x.valid) },
  );
}
