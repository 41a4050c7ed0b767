/**
 * Part-whole pretraining vs the no-hierarchy baseline on the linear probe (style accuracy),
 * on the seeded part-whole music generator (GTZAN/MagnaTagATune are not here). Per seed: new
 * clips (generator seed = seed), the untrained backbone's probe, then Music-PAW ("paw") and the
 * two-view clip InfoNCE ("clip") from the same initial backbone and head, on the same loop and
 * budget; the probe's test accuracy at the best-valid epoch. Prints a markdown table (mean ±
 * sample std over seeds).
 *
 * `deno run -A src/models/musicpaw/experiment.ts [--seeds 0,1,2] [--epochs 12] [--clips 120]
 *   [--lr 2e-3] [--batch 24] [--channels 32] [--dim 64] [--styles modaltempo] [--noise 0.05]`
 * @module
 */

import { init } from "../../tensor.ts";
import { trainLoop } from "../../train/loop.ts";
import { pretrainTask } from "../../train/pretrain.ts";
import { generatedSet } from "./clips.ts";
import type { MusicObjective } from "./config.ts";
import { MusicPawTask } from "./task.ts";
import { MODAL_STYLES, MUSIC_STYLES, type MusicStyle } from "./data.ts";

/** Style sets by name: the generator's defaults, the modes alone, the modes at four tempi. */
export const STYLE_SETS: Record<string, readonly MusicStyle[]> = {
  default: MUSIC_STYLES,
  modal: MODAL_STYLES,
  modaltempo: MODAL_STYLES.map((s, i) => ({
    ...s,
    tempo: [[2.5, 3.2], [3.2, 3.9], [3.9, 4.6], [4.6, 5.3]][i] as [number, number],
  })),
};

/** Options of {@link runSeed}. */
export interface ExperimentOptions {
  epochs: number;
  clips: number;
  lr: number;
  batch: number;
  channels: number;
  dim: number;
  /** A key of {@link STYLE_SETS}. */
  styles: string;
  /** Generator noise. */
  noise: number;
  log?: (s: string) => void;
}

/** One seed: probe test accuracy per setting, and training seconds per objective. */
export async function runSeed(
  seed: number,
  o: ExperimentOptions,
): Promise<{ acc: Record<string, number>; seconds: Record<string, number> }> {
  const log = o.log ?? (() => {});
  const styles = STYLE_SETS[o.styles];
  if (!styles) throw new Error(`unknown --styles ${o.styles} (${Object.keys(STYLE_SETS)})`);
  const set = await generatedSet({ clips: o.clips, seed, styles, noise: o.noise });
  log(set.description);
  const acc: Record<string, number> = {}, seconds: Record<string, number> = {};
  for (const objective of ["paw", "clip"] as MusicObjective[]) {
    const model = new MusicPawTask(set, { objective, seed, channels: o.channels, dim: o.dim });
    try {
      if (objective === "paw") acc.untrained = (await model.probe("test")).probe_acc;
      const fit = await trainLoop(pretrainTask(model), {
        epochs: o.epochs,
        batchSize: o.batch,
        lr: o.lr,
        patience: o.epochs,
        seed,
      });
      acc[objective] = fit.test.probe_acc;
      seconds[objective] = fit.seconds;
      log(
        `seed ${seed} ${objective}: test probe ${fit.test.probe_acc.toFixed(4)} (valid ` +
          `${fit.valid.probe_acc.toFixed(4)}, best epoch ${fit.bestEpoch}, ` +
          `${fit.seconds.toFixed(0)} s)`,
      );
    } finally {
      model.dispose();
    }
  }
  return { acc, seconds };
}

function meanStd(xs: number[]): string {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.length > 1 ? xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1) : 0;
  return `${(100 * m).toFixed(1)} ± ${(100 * Math.sqrt(v)).toFixed(1)}`;
}

if (import.meta.main) {
  const arg = (name: string, d: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Deno.args[i + 1] : d;
  };
  const seeds = arg("seeds", "0,1,2").split(",").map(Number);
  const o: ExperimentOptions = {
    epochs: Number(arg("epochs", "12")),
    clips: Number(arg("clips", "120")),
    lr: Number(arg("lr", "2e-3")),
    batch: Number(arg("batch", "24")),
    channels: Number(arg("channels", "32")),
    dim: Number(arg("dim", "64")),
    styles: arg("styles", "modaltempo"),
    noise: Number(arg("noise", "0.05")),
    log: (s) => console.log(s),
  };
  await init();
  const rows: Record<string, number[]> = { untrained: [], clip: [], paw: [] };
  const secs: Record<string, number[]> = { clip: [], paw: [] };
  for (const s of seeds) {
    const r = await runSeed(s, o);
    for (const k of Object.keys(rows)) rows[k].push(r.acc[k]);
    for (const k of Object.keys(secs)) secs[k].push(r.seconds[k]);
  }
  console.log(`\n${JSON.stringify({ seeds, ...o, log: undefined, rows, secs })}\n`);
  console.log("| pretraining | probe test accuracy % (mean ± std) | per seed | s per run |");
  console.log("|---|---:|---|---:|");
  const names: Record<string, string> = {
    untrained: "none (random backbone)",
    clip: "two-view clip InfoNCE (baseline)",
    paw: "Music-PAW (hierarchical InfoNCE)",
  };
  for (const k of ["untrained", "clip", "paw"]) {
    const t = secs[k] ? (secs[k].reduce((a, b) => a + b, 0) / secs[k].length).toFixed(0) : "–";
    console.log(
      `| ${names[k]} | ${meanStd(rows[k])} | ${
        rows[k].map((x) => x.toFixed(3)).join(", ")
      } | ${t} |`,
    );
  }
}
