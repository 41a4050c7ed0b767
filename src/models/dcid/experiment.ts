/**
 * The cross-modal generalisation experiment on the seeded generator (the spec's features are
 * not here): per seed, pretrain DCID (and H-DCID) on every clip (labels unused), then train the
 * head on one modality of the first clips and test on the other modality of the held-out
 * clips, for DCID's quantized codes, the same encoder's continuous features (no codebook),
 * DCID + TOC, H-DCID's two-level codes (+ TOC per level) and an untrained encoder. Prints a
 * markdown table (mean ± std over seeds) and pretraining speed.
 *
 * `deno run -A src/models/dcid/experiment.ts [--seeds 1,2,3] [--epochs 8] [--clips 240]
 *   [--batch 40] [--mi-iters 5] [--lr 4e-4] [--models dcid,hdcid] [--json OUT.json]`
 * writes each seed's accuracies to OUT.json too; `--merge A.json,B.json,…` prints the table of
 * seeds run in separate processes (one per seed runs them side by side on a loaded machine).
 * @module
 */

import { init } from "../../tensor.ts";
import { smallDcid } from "./config.ts";
import { generateAvt } from "./data.ts";
import { type CmgModel, Dcid } from "./model.ts";
import { Hdcid } from "./hdcid.ts";
import {
  type FeatureOptions,
  features,
  type Modality,
  pretrain,
  retrievalRecall,
  tocChannels,
  transfer,
} from "./protocol.ts";

/** One seed's accuracies: setting → direction → accuracy. */
export type SeedResult = Record<string, Record<string, number>>;

/** Runs one seed of the experiment. */
export async function runSeed(
  seed: number,
  o: {
    epochs: number;
    clips: number;
    classes: number;
    miIters: number;
    lr: number;
    batch?: number;
    models?: string[];
    log?: (s: string) => void;
  },
): Promise<{ result: SeedResult; stepsPerSec: Record<string, number> }> {
  const cfg = smallDcid({ numCodes: 64, miIters: o.miIters });
  const data = generateAvt({
    clips: o.clips,
    classes: o.classes,
    seqLen: cfg.seqLen,
    audioDim: cfg.audioDim,
    videoDim: cfg.videoDim,
    textDim: cfg.textDim,
    seed,
  });
  const nTrain = Math.floor(o.clips * 2 / 3);
  const train = Int32Array.from({ length: nTrain }, (_, i) => i);
  const test = Int32Array.from({ length: o.clips - nTrain }, (_, i) => nTrain + i);
  const lab = (rows: Int32Array) => rows.map((r) => data.labels[r]);
  const head = { epochs: 40, batch: 40, lr: 1e-3, seed };
  const evaluate = async (model: CmgModel, f: FeatureOptions) => {
    const out: Record<string, number> = {};
    for (const [a, b] of [["video", "audio"], ["audio", "video"]] as [Modality, Modality][]) {
      const xa = features(model, data, train, a, f);
      const xb = features(model, data, test, b, f);
      const xs = features(model, data, test, a, f);
      const [cross, same] = await transfer(
        xa,
        lab(train),
        [
          { x: xb, labels: lab(test) },
          { x: xs, labels: lab(test) },
        ],
        o.classes,
        head,
      );
      out[`${a[0].toUpperCase()}→${b[0].toUpperCase()}`] = cross;
      out[`${a[0].toUpperCase()}→${a[0].toUpperCase()} (same)`] = same;
      if (a === "video") {
        const [r1, r5] = await retrievalRecall(xs, xb, [1, 5]);
        out["V→A R@1"] = r1;
        out["V→A R@5"] = r5;
      }
      for (const t of [xa, xb, xs]) t.dispose();
    }
    return out;
  };
  const result: SeedResult = {};
  const models = o.models ?? ["dcid", "hdcid"];
  const fresh = new Dcid(cfg, seed);
  fresh.eval();
  result["untrained encoder"] = await evaluate(fresh, { quantized: true });
  fresh.dispose();
  const K = Math.round(cfg.hidden * 7 / 8);
  const stepsPerSec: Record<string, number> = {};
  for (const name of models) {
    const model: CmgModel = name === "hdcid" ? new Hdcid(cfg, seed) : new Dcid(cfg, seed);
    const title = name === "hdcid" ? "H-DCID" : "DCID";
    const t0 = performance.now();
    await pretrain(model, data, {
      epochs: o.epochs,
      batch: o.batch ?? 40,
      lr: o.lr,
      seed,
      onEpoch: (e, l) => o.log?.(`seed ${seed} ${title} epoch ${e}: loss ${l.loss.toFixed(3)}`),
    });
    const secs = (performance.now() - t0) / 1000;
    stepsPerSec[title] = o.epochs * Math.ceil(o.clips / (o.batch ?? 40)) / secs;
    const codes = name === "hdcid" ? "H-DCID codes [ẑ¹, ẑ²]" : "DCID codes";
    result[codes] = await evaluate(model, { quantized: true });
    if (name === "dcid") {
      result["DCID continuous z (no codebook)"] = await evaluate(model, { quantized: false });
    }
    const toc = name === "hdcid"
      ? `H-DCID + TOC (${K}, 1, 1) per level`
      : `DCID + TOC (${K}, 1, 1)`;
    result[toc] = await evaluate(model, {
      quantized: true,
      channels: await tocChannels(model, K, 1, 1),
    });
    model.dispose();
  }
  return { result, stepsPerSec };
}

type Run = { result: SeedResult; stepsPerSec: Record<string, number> };

/** The markdown table (mean ± std over runs, %) and the speed lines. */
export function report(runs: Run[], what: string): string {
  const settings = Object.keys(runs[0].result);
  const cols = Object.keys(runs[0].result[settings[0]]);
  const ms = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
    return `${(100 * m).toFixed(1)} ± ${(100 * sd).toFixed(1)}`;
  };
  const lines = [
    `| setting | ${cols.join(" | ")} |`,
    `| --- | ${cols.map(() => "---:").join(" | ")} |`,
  ];
  for (const s of settings) {
    lines.push(`| ${s} | ${cols.map((c) => ms(runs.map((r) => r.result[s][c]))).join(" | ")} |`);
  }
  for (const m of Object.keys(runs[0].stepsPerSec)) {
    const sps = runs.map((r) => r.stepsPerSec[m]);
    lines.push(
      `\n${m} pretraining: ${
        (sps.reduce((a, b) => a + b) / sps.length).toFixed(3)
      } steps/s, ${what}`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const arg = (k: string, d: string) => {
    const i = Deno.args.indexOf(`--${k}`);
    return i >= 0 ? Deno.args[i + 1] : d;
  };
  const merge = arg("merge", "");
  if (merge) {
    const runs: Run[] = [];
    for (const f of merge.split(",")) runs.push(...JSON.parse(await Deno.readTextFile(f)).runs);
    console.log(report(runs, `merged from ${merge}`));
    Deno.exit(0);
  }
  const seeds = arg("seeds", "1,2,3").split(",").map(Number);
  const epochs = Number(arg("epochs", "8"));
  const clips = Number(arg("clips", "240"));
  const batch = Number(arg("batch", "40"));
  const miIters = Number(arg("mi-iters", "5"));
  const lr = Number(arg("lr", "4e-4"));
  const models = arg("models", "dcid,hdcid").split(",");
  const json = arg("json", "");
  await init();
  const runs: Run[] = [];
  for (const s of seeds) {
    const log = (m: string) => console.error(m);
    const r = await runSeed(s, { epochs, clips, classes: 6, miIters, lr, batch, models, log });
    runs.push(r);
    console.error(`seed ${s}: ${JSON.stringify(r)}`);
    if (json) await Deno.writeTextFile(json, JSON.stringify({ args: Deno.args, runs }, null, 1));
  }
  console.log(
    report(
      runs,
      `batch ${batch}, ${miIters + 1} encoder passes a step, seeds ${seeds.join(",")}, ` +
        `${epochs} epochs, ${clips} clips, lr ${lr}`,
    ),
  );
}
