// AlignRec stage 1 (ICA) vs the raw concatenated features on the paper's intermediate metrics
// (zero-shot and item-CF Recall/NDCG@20 on the test split, features only, no interaction
// training), over a one-factor-at-a-time grid around the runner's defaults: masking rate,
// temperature, unified width, training length and reconstruction weight, each over seeds.
//
//   deno run -A bench/alignrec_stage1.ts [--data embedded|../shared/data/ml-100k] [--seeds 2]
//     [--only base,tau=0.5,...] [--out bench/results/alignrec_stage1_<name>.json]
//
// Prints one markdown row per setting as it finishes; writes every number to --out.
import { parseArgs } from "node:util";
import { init } from "../src/tensor.ts";
import { loadRetrievalData } from "../src/runner/data.ts";
import {
  concatFeatures,
  type FeatureTable,
  type IcaConfig,
  trainIca,
} from "../src/models/alignrec/ica.ts";
import { type FeatureMetrics, featureMetrics } from "../src/train/eval.ts";
import { trainData } from "../src/train/fit.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string", default: "embedded" },
    seeds: { type: "string", default: "2" },
    only: { type: "string", default: "" },
    out: { type: "string", default: "" },
  },
});
await init();
const data = await loadRetrievalData(a.data);
if (!data.image || !data.text) throw new Error(`${data.name}: needs two modalities`);
const td = trainData(data.split);
const seeds = Number(a.seeds);
// The runner's stage-1 defaults (alignrec: icaEpochs 60, icaDim 64, icaHidden 128, lr 1e-3).
const BASE: IcaConfig = {
  epochs: 60,
  dim: 64,
  hidden: 128,
  tau: 0.1,
  maskRatio: 0.3,
  reconWeight: 1,
};
const GRID: [string, IcaConfig][] = [
  ["base", {}],
  ["maskRatio=0+modalityDrop=0", { maskRatio: 0, modalityDrop: 0 }],
  ["maskRatio=0.1", { maskRatio: 0.1 }],
  ["maskRatio=0.6", { maskRatio: 0.6 }],
  ["tau=0.05", { tau: 0.05 }],
  ["tau=0.5", { tau: 0.5 }],
  ["tau=1", { tau: 1 }],
  ["dim=32", { dim: 32 }],
  ["dim=128", { dim: 128 }],
  ["epochs=10", { epochs: 10 }],
  ["epochs=200", { epochs: 200 }],
  ["reconWeight=0", { reconWeight: 0 }],
  ["reconWeight=0.1", { reconWeight: 0.1 }],
  ["reconWeight=5", { reconWeight: 5 }],
  // The two factors that helped most on the embedded data, together.
  ["dim=128+maskRatio=0.6", { dim: 128, maskRatio: 0.6 }],
  ["dim=128+maskRatio=0.6+epochs=120", { dim: 128, maskRatio: 0.6, epochs: 120 }],
];
const only = a.only ? new Set(a.only.split(",")) : null;
const pick = (m: FeatureMetrics) => [
  m.zeroShot["recall@20"],
  m.zeroShot["ndcg@20"],
  m.itemCf["recall@20"],
  m.itemCf["ndcg@20"],
];
const fmt = (xs: number[][]) =>
  xs[0].map((_, j) => {
    const v = xs.map((x) => x[j]);
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, v.length - 1));
    return v.length > 1 ? `${mean.toFixed(4)} ± ${sd.toFixed(4)}` : mean.toFixed(4);
  });
const results: Record<string, unknown> = { data: data.description, base: BASE, seeds };
console.log(`${data.description}\n`);
console.log("| features | zero-shot R@20 | zero-shot N@20 | item-CF R@20 | item-CF N@20 | s |");
console.log("| --- | --: | --: | --: | --: | --: |");
// Baselines without training: the raw concatenation (what stage 2 gets without stage 1), each
// modality alone, and the two rows L2-normalised per modality before concatenation (so neither
// modality dominates the cosine by its scale or width).
const rowNorm = (t: FeatureTable): FeatureTable => {
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < t.data.length / t.dim; r++) {
    let n = 0;
    for (let c = 0; c < t.dim; c++) n += t.data[r * t.dim + c] ** 2;
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let c = 0; c < t.dim; c++) out[r * t.dim + c] = t.data[r * t.dim + c] * inv;
  }
  return { data: out, dim: t.dim };
};
const baselines: [string, FeatureTable][] = [
  ["raw [image ‖ text]", concatFeatures(data.image, data.text)],
  ["raw image only", data.image],
  ["raw text only", data.text],
  ["raw [image/‖image‖ ‖ text/‖text‖]", concatFeatures(rowNorm(data.image), rowNorm(data.text))],
];
for (const [name, t] of baselines) {
  const m = pick(await featureMetrics(t.data, td.trainCsr, data.split.test, [20]));
  results[name] = m;
  console.log(`| ${name} | ${m.map((x) => x.toFixed(4)).join(" | ")} | – |`);
}
for (const [name, over] of GRID) {
  if (only && !only.has(name)) continue;
  const rows: number[][] = [];
  let secs = 0;
  for (let s = 0; s < seeds; s++) {
    const ica = await trainIca(data.image, data.text, { ...BASE, ...over, seed: s });
    ica.encoder.dispose();
    secs += ica.seconds;
    rows.push(pick(await featureMetrics(ica.features.data, td.trainCsr, data.split.test, [20])));
  }
  results[name] = rows;
  console.log(`| unified, ${name} | ${fmt(rows).join(" | ")} | ${(secs / seeds).toFixed(0)} |`);
  if (a.out) await Deno.writeTextFile(a.out, JSON.stringify(results, null, 1));
}
