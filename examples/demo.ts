/**
 * The main job: AlignRec end to end (`deno task demo`).
 *
 * 1. Stage 1 (ICA): a small multimodal encoder aligns the two content modalities of every item
 *    and exports one unified feature row per item (src/models/ica.ts).
 * 2. Stage 2 (CCA + UIA): AlignRec trains on the interactions with those features
 *    (src/models/alignrec.ts); LightGCN and popularity are trained/evaluated the same way.
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
 * Options: `--out DIR` (default ./out), `--epochs N`, `--batch N`, `--lr X`, `--patience N`,
 * `--ica-epochs N`, `--name NAME` (MMRec file stem), `--vbpr` (add the VBPR baseline),
 * `--mask-train` (also train AlignRec on features with half the images masked),
 * `--spec` (the paper's training settings: batch 2048, lr 1e-3, 1000 epochs, patience 30),
 * `--resume` (continue AlignRec from `<out>/alignrec.ckpt.safetensors`, written every epoch).
 * @module
 */

import {
  AlignRec,
  type AlignRecConfig,
  concatFeatures,
  type EpochLog,
  type FeatureMetrics,
  featureMetrics,
  type FeatureTable,
  fit,
  type FitOptions,
  type FitResult,
  init,
  LightGCN,
  maskedItems,
  Popularity,
  recommend,
  type Recommender,
  saveModule,
  terminalProgress,
  trainData,
  trainIca,
  VBPR,
} from "../internal.ts";
import type { IdMap } from "../src/data/types.ts";
import { writeNpy } from "../src/io/npy.ts";
import { type DemoData, embeddedData, ml100kData, mmrecData } from "./alignrec_data.ts";

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

// --- data and per-dataset settings -----------------------------------------------------------

type Settings = {
  ica: { epochs: number };
  alignrec: FitOptions;
  lightgcn: FitOptions;
  config: AlignRecConfig;
};
let data: DemoData;
let s: Settings;
if (args.ml100k) {
  data = await ml100kData(String(args.ml100k));
  s = {
    ica: { epochs: 60 },
    alignrec: { epochs: 100, batchSize: 2048, lr: 0.005, patience: 10 },
    lightgcn: { epochs: 200, batchSize: 2048, lr: 0.005, patience: 10 },
    config: {},
  };
} else if (args.data) {
  data = await mmrecData(String(args.data), args.name as string | undefined);
  s = {
    ica: { epochs: 60 },
    alignrec: { epochs: 1000, batchSize: 2048, lr: 1e-3, patience: 30 },
    lightgcn: { epochs: 1000, batchSize: 2048, lr: 1e-3, patience: 30 },
    config: {},
  };
} else {
  data = embeddedData();
  s = {
    ica: { epochs: 60 },
    alignrec: { epochs: 8, batchSize: 512, lr: 0.005, patience: 3 },
    lightgcn: { epochs: 30, batchSize: 512, lr: 0.005, patience: 5, evalEvery: 2 },
    config: {},
  };
}
if (args.spec) {
  const spec = { epochs: 1000, batchSize: 2048, lr: 1e-3, patience: 30, evalEvery: 1 };
  s.alignrec = { ...s.alignrec, ...spec };
  s.lightgcn = { ...s.lightgcn, ...spec };
}
for (const f of [s.alignrec, s.lightgcn]) {
  if (args.batch) f.batchSize = Number(args.batch);
  if (args.lr) f.lr = Number(args.lr);
  if (args.patience) f.patience = Number(args.patience);
}
if (args.epochs) s.alignrec.epochs = Number(args.epochs);
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

// --- stage 2 and baselines ------------------------------------------------------------------

const results: { model: string; r: FitResult }[] = [];
async function train(model: Recommender, opts: FitOptions, label = model.name) {
  console.log(`\n${label}: ${model.numParameters().toLocaleString()} parameters`);
  const r = await fit(model, td, { ...opts, progress, ks });
  results.push({ model: label, r });
  if (model.trainable) {
    const file = `${out}/${label.toLowerCase().replace(/[^a-z0-9]+/g, "_")}.safetensors`;
    await Deno.writeFile(
      file,
      await saveModule(model, { model: label, best_epoch: String(r.bestEpoch) }),
    );
  }
  const best = r.bestEpoch >= 0 ? `best epoch ${r.bestEpoch + 1}, ` : "";
  console.log(
    `${label}: ${best}test Recall@20 ${fmt(r.test["recall@20"])} ` +
      `NDCG@20 ${fmt(r.test["ndcg@20"])} (${r.seconds.toFixed(1)} s)`,
  );
  return r;
}

console.log(`\nstage 2 (CCA + UIA)`);
const alignrec = new AlignRec(split.train, unified.data, s.config);
// AlignRec checkpoints (model, Adam state, best weights) every epoch; --resume continues one.
const ckpt = `${out}/alignrec.ckpt.safetensors`;
await train(alignrec, { ...s.alignrec, checkpoint: ckpt, resume: args.resume ? ckpt : undefined });
// Serving: the top 20 of every user with their training items left out (best-valid weights).
const allUsers = Array.from({ length: split.train.numUsers }, (_, u) => u);
const recs = await recommend(alignrec, allUsers, 20, td.trainCsr);
const raw = (m: IdMap | undefined, i: number) => (m ? m.raw(i) : String(i));
await Deno.writeTextFile(
  `${out}/recommendations.tsv`,
  "user\ttop-20 items, best first\n" +
    recs.map((r, u) =>
      `${raw(data.rawIds?.users, u)}\t${Array.from(r, (i) => raw(data.rawIds?.items, i)).join(" ")}`
    ).join("\n") + "\n",
);
alignrec.dispose();
const lightgcn = new LightGCN(split.train);
await train(lightgcn, s.lightgcn);
lightgcn.dispose();
await train(new Popularity(split.train), {});
if (args.vbpr) {
  const vbpr = new VBPR(split.train, unified.data);
  await train(vbpr, s.lightgcn);
  vbpr.dispose();
}
if (args["mask-train"] && maskedImage) {
  const m = new AlignRec(split.train, maskedImage.data, s.config);
  await train(m, s.alignrec, "AlignRec (50% images masked)");
  m.dispose();
}

// --- report ---------------------------------------------------------------------------------

function fmt(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? "–" : x.toFixed(4);
}
const cols = ["recall@10", "recall@20", "ndcg@10", "ndcg@20", "precision@20", "map@20"];
const lines: string[] = [];
lines.push(`# AlignRec demo — ${data.name}`, "", data.description, "");
lines.push(`Test metrics at the best-valid epoch (full ranking, training items masked):`, "");
lines.push(`| model | ${cols.join(" | ")} | best epoch | seconds |`);
lines.push(`|---|${cols.map(() => "---:").join("|")}|---:|---:|`);
for (const { model, r } of results) {
  const be = r.bestEpoch >= 0 ? String(r.bestEpoch + 1) : "–";
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
await Deno.writeTextFile(`${out}/curves.svg`, curvesSvg(results, icaHistory));
console.log(
  `\nwrote ${out}/: weights (*.safetensors), features.npy, recommendations.tsv (AlignRec's ` +
    `top 20 per user), curves.svg, results.md/json`,
);

// --- SVG curves -----------------------------------------------------------------------------

/** Two panels: training loss per epoch (stage 1 and 2) and valid Recall@20 per epoch. */
function curvesSvg(runs: { model: string; r: FitResult }[], ica: number[]): string {
  const colors = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e"];
  const trained = runs.filter(({ r }) => r.history.length > 0);
  const lossSeries = trained.map(({ model, r }, i) => ({
    name: model,
    color: colors[i % colors.length],
    pts: r.history.map((h: EpochLog) => [h.epoch + 1, h.loss] as [number, number]),
  }));
  if (ica.length) {
    lossSeries.push({
      name: "ICA (stage 1)",
      color: "#7f7f7f",
      pts: ica.map((y, i) => [i + 1, y]),
    });
  }
  const validSeries = trained.map(({ model, r }, i) => ({
    name: model,
    color: colors[i % colors.length],
    pts: r.history.filter((h) => h.valid).map((h) =>
      [h.epoch + 1, h.valid!["recall@20"]] as [number, number]
    ),
  }));
  const W = 460, H = 300, pad = 48;
  const panel = (x0: number, title: string, series: typeof lossSeries, logY: boolean) => {
    const all = series.flatMap((s) => s.pts);
    if (!all.length) return "";
    const ty = (y: number) => (logY ? Math.log10(Math.max(y, 1e-6)) : y);
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => ty(p[1]));
    const [x1, x2] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
    let [y1, y2] = [Math.min(...ys), Math.max(...ys)];
    if (y2 - y1 < 1e-9) [y1, y2] = [y1 - 1, y2 + 1];
    const px = (x: number) => x0 + pad + ((x - x1) / (x2 - x1)) * (W - 2 * pad);
    const py = (y: number) => H - pad - ((ty(y) - y1) / (y2 - y1)) * (H - 2 * pad);
    const parts = [
      `<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
      `<rect x="${x0 + pad}" y="${pad}" width="${W - 2 * pad}" height="${
        H - 2 * pad
      }" fill="none" stroke="#999"/>`,
      `<text x="${x0 + W / 2}" y="${H - 10}" text-anchor="middle" font-size="11">epoch</text>`,
    ];
    for (let k = 0; k <= 4; k++) {
      const yv = y1 + ((y2 - y1) * k) / 4;
      const label = logY ? (10 ** yv).toPrecision(3) : yv.toFixed(3);
      const yy = H - pad - ((yv - y1) / (y2 - y1)) * (H - 2 * pad);
      parts.push(
        `<text x="${x0 + pad - 4}" y="${yy + 4}" text-anchor="end" font-size="10">${label}</text>`,
      );
    }
    parts.push(`<text x="${x0 + pad}" y="${H - pad + 14}" font-size="10">${x1}</text>`);
    parts.push(
      `<text x="${x0 + W - pad}" y="${H - pad + 14}" text-anchor="end" font-size="10">${x2}</text>`,
    );
    series.forEach((s, i) => {
      const d = s.pts.map((p, j) => `${j ? "L" : "M"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`)
        .join("");
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
      parts.push(
        `<text x="${x0 + W - pad - 4}" y="${
          pad + 14 + 14 * i
        }" text-anchor="end" font-size="11" fill="${s.color}">${s.name}</text>`,
      );
    });
    return parts.join("\n");
  };
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${
      2 * W
    }" height="${H}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, "training loss (log scale)", lossSeries, true),
    panel(W, "valid Recall@20", validSeries, false),
    "</svg>",
  ].join("\n");
}
