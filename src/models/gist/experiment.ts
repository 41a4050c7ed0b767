/**
 * GIST's measurement: target-domain test AUC with source knowledge (GIST) against the same
 * target model without it (target alone), over seeds, on the two-domain synthetic data with
 * transferable structure planted and with none, and on MovieLens-100K with genres as domains.
 * Also the incremental update: new source engagements refresh the export and the searches,
 * the target model is not retrained, and its test AUC is reported after the refresh.
 *
 * ```sh
 * deno run -A src/models/gist/experiment.ts --data planted,none,ml100k --seeds 3 --epochs 6 \
 *   [--first-seed 0] [--source-epochs 2] [--source-batch 512] [--lr 0.01] [--out FILE]
 * ```
 * Prints a Markdown table (mean ± sample std over the seeds) and writes it to `--out` when
 * given.
 * @module
 */

import { ml100kCrossDomain } from "./files.ts";
import { init } from "../../tensor.ts";
import { ctrTask, evaluateCtr } from "../../train/ctr.ts";
import { trainLoop } from "../../train/loop.ts";
import { type CrossDomainData, searchLimits, syntheticTwoDomain } from "./data.ts";
import { SourceModel, trainSource, updateSource } from "./source.ts";
import { Gist } from "./model.ts";

/** Options of {@link runExperiment}. */
export interface ExperimentOptions {
  /** Datasets: planted, none, ml100k. */
  data: string[];
  /** Seeds first … first + n − 1. */
  seeds: number;
  /** The first seed. */
  firstSeed: number;
  /** Target epochs (early stopping on valid AUC, patience 2). */
  epochs: number;
  /** CBJT epochs. */
  sourceEpochs: number;
  /** CBJT pairs per step. */
  sourceBatch: number;
  /** Target learning rate (Adam). */
  lr: number;
  /** Folder of ml-100k. */
  ml100k: string;
  /** Prints progress. */
  log: (s: string) => void;
}

function load(name: string, dir: string): Promise<CrossDomainData> | CrossDomainData {
  if (name === "ml100k") return ml100kCrossDomain(dir);
  if (name === "planted" || name === "none") {
    return syntheticTwoDomain({ plant: name === "planted" });
  }
  throw new Error(`gist experiment: unknown data '${name}' (planted, none, ml100k)`);
}

/** One dataset, one seed: AUCs of target alone, GIST, and GIST after the source update. */
export async function runOne(
  cd: CrossDomainData,
  seed: number,
  o: Pick<ExperimentOptions, "epochs" | "sourceEpochs" | "sourceBatch" | "lr" | "log">,
): Promise<Record<string, number>> {
  const loop = { epochs: o.epochs, batchSize: 256, lr: o.lr, patience: 2, seed, logEvery: 64 };
  const out: Record<string, number> = {};
  const alone = new Gist(cd.users, cd.sourceItems, cd.targetItems, 32, { useSource: false, seed });
  out.alone = (await trainLoop(ctrTask(alone, cd.target), loop)).test.auc;
  alone.dispose();
  let t = performance.now();
  const src = new SourceModel(cd.sourceItems, cd.targetItems, cd.words, cd.text, {
    seed: seed + 101,
  });
  await trainSource(src, cd, { epochs: o.sourceEpochs, batchSize: o.sourceBatch, seed });
  const table = await src.exportTable();
  out.sourceSeconds = (performance.now() - t) / 1000;
  const gist = new Gist(cd.users, cd.sourceItems, cd.targetItems, table.dim, { seed });
  gist.setSource(table, cd.searchSeq, searchLimits(cd));
  t = performance.now();
  await gist.prepare([cd.target.train, cd.target.valid, cd.target.test]);
  out.searchSeconds = (performance.now() - t) / 1000;
  out.gist = (await trainLoop(ctrTask(gist, cd.target), loop)).test.auc;
  // Incremental update: one pass over the new engagements, re-export, re-search; the target
  // model keeps its weights.
  t = performance.now();
  const up = await updateSource(src, cd, cd.newSource, { batchSize: o.sourceBatch, seed });
  // Synthetic: the new engagements extend the searched sequences; ml-100k: the searched
  // histories are already time-gated per request, only the export changes.
  gist.setSource(up.table, cd.limits ? cd.searchSeq : up.sourceSeq, searchLimits(cd));
  await gist.prepare([cd.target.test]);
  out.updateSeconds = (performance.now() - t) / 1000;
  out.gistUpdated = (await evaluateCtr(gist, cd.target.test)).auc;
  gist.dispose();
  src.dispose();
  o.log(`seed ${seed}: ${JSON.stringify(out)}`);
  return out;
}

const fmt = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const s = xs.length > 1
    ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1))
    : 0;
  return `${m.toFixed(4)} ± ${s.toFixed(4)}`;
};

/** Runs every dataset and seed; returns the Markdown table. */
export async function runExperiment(o: ExperimentOptions): Promise<string> {
  const lines = [
    "| data | target alone | GIST | GIST after source update | source s | search s |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const name of o.data) {
    const cd = await load(name, o.ml100k);
    o.log(cd.description);
    const rs: Record<string, number>[] = [];
    for (let s = o.firstSeed; s < o.firstSeed + o.seeds; s++) rs.push(await runOne(cd, s, o));
    const col = (k: string) => fmt(rs.map((r) => r[k]));
    const sec = (k: string) => (rs.reduce((a, r) => a + r[k], 0) / rs.length).toFixed(1);
    lines.push(
      `| ${cd.name} | ${col("alone")} | ${col("gist")} | ${col("gistUpdated")} | ` +
        `${sec("sourceSeconds")} | ${sec("searchSeconds")} |`,
    );
    o.log(lines.at(-1)!);
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const arg = (k: string, d: string) => {
    const i = Deno.args.indexOf(`--${k}`);
    return i >= 0 ? Deno.args[i + 1] : d;
  };
  await init();
  const table = await runExperiment({
    data: arg("data", "planted,none,ml100k").split(","),
    seeds: +arg("seeds", "3"),
    firstSeed: +arg("first-seed", "0"),
    epochs: +arg("epochs", "4"),
    sourceEpochs: +arg("source-epochs", "2"),
    sourceBatch: +arg("source-batch", "512"),
    lr: +arg("lr", "0.01"),
    ml100k: arg("ml100k", "../shared/data/ml-100k"),
    log: (s) => console.log(s),
  });
  console.log(table);
  const out = arg("out", "");
  if (out) await Deno.writeTextFile(out, table + "\n");
}
