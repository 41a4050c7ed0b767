/**
 * The α trade-off of a trained PMG run (issue 23's measurement): generates every candidate
 * configuration (style weight w ∈ {0, 1, 2}, with and without the soft prefix) for one test
 * pair per user, selects per pair by z = α·log d_p + (1−α)·log d_t for α ∈ {0, .25, .5, .75,
 * 1}, and writes `alpha.svg`, `alpha.json` and `alpha.md` into the run folder, with the
 * unpersonalised baseline (no prefix, w = 0) and the personalised selection at the baseline's
 * accuracy (the largest α on a 0.05 grid whose image accuracy is at least the baseline's).
 *
 *   deno run -A src/models/pmg/experiment.ts --run runs/pmg [--pairs 200] [--seed 0]
 *     [--weights FILE]   (default RUN/model.safetensors; a checkpoint's `.best` works too)
 * @module
 */

import { loadModule } from "../../nn/serialize.ts";
import { getModel } from "../../runner/models.ts";
import { loadTaskData, readRunConfig, resolveRun } from "../../runner/run.ts";
import { init } from "../../tensor.ts";
import type { RetrievalData } from "../../runner/data.ts";
import type { Pmg } from "./model.ts";
import type { Sample } from "./data.ts";
import { CandidateScorer, summarise, type Summary } from "./select.ts";
import { tradeoffSvg } from "./plot.ts";

/** α values of the curve. */
export const ALPHAS = [0, 0.25, 0.5, 0.75, 1] as const;

/** One test pair per user (the first), for the first `n` users that have one. */
export function evalPairs(test: readonly Sample[], n: number): Sample[] {
  const seen = new Set<number>();
  const out: Sample[] = [];
  for (const s of test) {
    if (seen.has(s.user)) continue;
    seen.add(s.user);
    out.push(s);
    if (out.length >= n) break;
  }
  return out;
}

/** The curve, the baseline and the equal-accuracy comparison of `model` on `pairs`. */
export async function alphaCurve(model: Pmg, pairs: readonly Sample[], seed = 0): Promise<{
  curve: { alpha: number; summary: Summary }[];
  baseline: Summary;
  configs: { styleWeight: number; personalised: boolean; summary: Summary }[];
  equalAccuracy: { alpha: number; summary: Summary } | null;
}> {
  const scorer = new CandidateScorer(model);
  const configs = scorer.configs();
  const scored = await scorer.score(pairs, configs, seed);
  const base = configs.findIndex((c) => !c.personalised && c.styleWeight === 0);
  const baseline = summarise([scored[base]], 0);
  const fine = Array.from({ length: 21 }, (_, i) => i / 20);
  let equalAccuracy: { alpha: number; summary: Summary } | null = null;
  for (const a of fine) {
    const s = summarise(scored, a);
    if (s.imageAcc >= baseline.imageAcc) equalAccuracy = { alpha: a, summary: s };
  }
  return {
    curve: ALPHAS.map((alpha) => ({ alpha, summary: summarise(scored, alpha) })),
    baseline,
    configs: configs.map((c, k) => ({
      styleWeight: c.styleWeight,
      personalised: c.personalised,
      summary: summarise([scored[k]], 0),
    })),
    equalAccuracy,
  };
}

const f = (v: number) => v.toFixed(4);
const row = (name: string, s: Summary) =>
  `| ${name} | ${f(s.imagePers)} | ${f(s.imageAcc)} | ${f(s.ssimHist)} | ${f(s.ssimTarget)} | ` +
  `${f(s.lpipsHist)} | ${f(s.lpipsTarget)} | ${f(s.textPers)} | ${f(s.textAcc)} |`;

/** The markdown table of a result. */
export function alphaMarkdown(r: Awaited<ReturnType<typeof alphaCurve>>, n: number): string {
  return [
    `α trade-off over ${n} test pairs (one per user). Image: cos of the centred embeddings ` +
    `with the history mean (pers.) and the target (acc.); SSIM and LPIPS-style distance (lower is ` +
    `closer) against the history posters and the target; text: bag cosines.`,
    "",
    "| selection | img pers. | img acc. | SSIM hist | SSIM target | LPIPS-s hist | LPIPS-s target | text pers. | text acc. |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.curve.map((c) => row(`α = ${c.alpha}`, c.summary)),
    row("no prefix, w = 0 (baseline)", r.baseline),
    ...(r.equalAccuracy
      ? [row(`α = ${r.equalAccuracy.alpha} (acc. ≥ baseline)`, r.equalAccuracy.summary)]
      : []),
    "",
    "Single configurations (no selection):",
    "",
    "| configuration | img pers. | img acc. | SSIM hist | SSIM target | LPIPS-s hist | LPIPS-s target | text pers. | text acc. |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...r.configs.map((c) =>
      row(`${c.personalised ? "prefix" : "no prefix"}, w = ${c.styleWeight}`, c.summary)
    ),
  ].join("\n") + "\n";
}

if (import.meta.main) {
  const args: Record<string, string> = {};
  for (let i = 0; i < Deno.args.length; i += 2) {
    const k = Deno.args[i];
    if (!["--run", "--pairs", "--seed", "--weights"].includes(k) || i + 1 >= Deno.args.length) {
      throw new Error(
        `pmg experiment: '${k}'; expected --run DIR [--pairs N] [--seed S] [--weights F]`,
      );
    }
    args[k.slice(2)] = Deno.args[i + 1];
  }
  const dir = String(args.run ?? "runs/pmg");
  const n = Number(args.pairs ?? 200);
  const seed = Number(args.seed ?? 0);
  await init();
  const saved = await readRunConfig(dir);
  const { entry, config } = resolveRun({
    model: saved.model,
    layers: [[`${dir}/config.json`, saved.config]],
  });
  if (entry.name !== "pmg") throw new Error(`${dir}: a ${entry.name} run, expected pmg`);
  const data = await loadTaskData(entry.task, saved.data, saved.name) as RetrievalData;
  const model = await getModel("pmg").build({
    data,
    config,
    artifact: () => Promise.reject(new Error("pmg has no artifacts")),
    log: console.log,
  }) as unknown as Pmg;
  loadModule(model, await Deno.readFile(String(args.weights ?? `${dir}/model.safetensors`)));
  const pairs = evalPairs(model.data.test, n);
  const t0 = performance.now();
  const r = await alphaCurve(model, pairs, seed);
  const md = alphaMarkdown(r, pairs.length);
  console.log(md);
  console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await Deno.writeTextFile(`${dir}/alpha.md`, md);
  await Deno.writeTextFile(`${dir}/alpha.json`, JSON.stringify(r, null, 1) + "\n");
  const panel = (title: string, acc: keyof Summary, pers: keyof Summary, x: string, y: string) => ({
    title,
    x,
    y,
    points: r.curve.map((c) => ({ alpha: c.alpha, acc: c.summary[acc], pers: c.summary[pers] })),
    baseline: { acc: r.baseline[acc], pers: r.baseline[pers] },
  });
  await Deno.writeTextFile(
    `${dir}/alpha.svg`,
    tradeoffSvg([
      panel(
        "PMG posters",
        "imageAcc",
        "imagePers",
        "accuracy: cos to target",
        "personalisation: cos to history",
      ),
      panel(
        "PMG descriptions",
        "textAcc",
        "textPers",
        "accuracy: bag cos to target",
        "personalisation: bag cos to history",
      ),
    ]),
  );
  model.dispose();
}
