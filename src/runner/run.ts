/**
 * One run of a registered model: resolve its config (defaults < config file < flags), load the
 * task's data, build, train on the generic loop, and write the run folder:
 *
 * ```
 * config.json        {model, data, name, config}: the resolved config (`--from` reproduces it)
 * model.safetensors  best-valid weights; metadata: model, task, config (JSON), best_epoch
 * epochs.csv         one row per epoch (0-based): loss, lr, seconds, loss parts, valid metrics
 * results.json/.md   valid and test metrics at the best epoch (0-based), time, throughput
 * curves.svg         training loss and the valid selection metric per epoch
 * checkpoint.safetensors(.best)  model + optimizer state for `--resume`
 * ```
 * plus any artifacts the model caches (AlignRec: `features.npy`). `evaluateRun` and
 * `recommendRun` rebuild the model from a run folder and its weights.
 * @module
 */

import { readNpy, writeNpy } from "../io/npy.ts";
import { loadModule, saveModule } from "../nn/serialize.ts";
import { type Csr, type Interactions, toCsr } from "../data/types.ts";
import { trainData } from "../train/fit.ts";
import { retrievalTask } from "../train/fit.ts";
import { ctrTask } from "../train/ctr.ts";
import { impressionTask } from "../train/impression.ts";
import { pretrainTask } from "../train/pretrain.ts";
import { recommend } from "../train/eval.ts";
import {
  type FitResult,
  type LoopOptions,
  type ProgressInfo,
  type Task,
  trainLoop,
} from "../train/loop.ts";
import type { Recommender } from "../train/fit.ts";
import type { CtrModel, CtrSplits } from "../train/ctr.ts";
import type { ImpressionModel, ImpressionSplits } from "../train/impression.ts";
import type { PretrainModel } from "../train/pretrain.ts";
import { type FeatureTable, loadRetrievalData, type RetrievalData } from "./data.ts";
import { loadCtrData, loadImpressionData } from "./task_data.ts";
import {
  getModel,
  type ModelEntry,
  modelSettings,
  type RunConfig,
  type TaskKind,
} from "./registry.ts";
import { resolveSettings } from "./settings.ts";
import { curvesSvg, epochsCsv, historySeries, metricsTable } from "./report.ts";

/** What to run: a model, its data and the config layers over its defaults. */
export interface RunSpec {
  /** Registered model name. */
  model: string;
  /** `--data` spec (default: the embedded synthetic data). */
  data?: string;
  /** `.inter` stem when it differs from the data folder's name. */
  name?: string;
  /** Config layers in precedence order, each `[where from, values]`. */
  layers?: [string, Record<string, unknown>][];
}

/** How to run it. */
export interface RunOptions {
  /** The run folder. */
  out: string;
  /** Progress callback. */
  progress?: (p: ProgressInfo) => void;
  /** Output lines (default: none). */
  log?: (line: string) => void;
  /** Loaded data by spec, shared by the runs of a seed or search sweep. */
  cache?: Map<string, unknown>;
  /** Resume from the folder's checkpoint when it has one. */
  resume?: boolean;
  /** Return the trained model (the caller disposes it) instead of disposing it. */
  keepModel?: boolean;
  /**
   * Use artifacts already in the folder (e.g. stage-1 features written by the caller) instead
   * of remaking them. Default: only when resuming (a rerun with other settings remakes them).
   */
  reuseArtifacts?: boolean;
}

/** What a run returns. */
export interface RunResult {
  /** The run folder. */
  dir: string;
  /** The registry entry. */
  entry: ModelEntry;
  /** The resolved config. */
  config: RunConfig;
  /** The selection metric and its direction. */
  metric: { name: string; mode: "max" | "min" };
  /** The loop's result. */
  fit: FitResult;
  /** One line on the data. */
  data: string;
  /** The trained model at its best-valid weights, with `keepModel`. */
  model?: unknown;
}

/** Data of a task from a spec, cached by (task, spec, name). */
export async function loadTaskData(
  task: TaskKind,
  spec?: string,
  name?: string,
  cache?: Map<string, unknown>,
): Promise<unknown> {
  const kind = task === "pretrain" ? "retrieval" : task;
  const key = `${kind}|${spec ?? "embedded"}|${name ?? ""}`;
  const hit = cache?.get(key);
  if (hit) return hit;
  const d = kind === "retrieval"
    ? await loadRetrievalData(spec, name)
    : kind === "ctr"
    ? await loadCtrData(spec, name)
    : await loadImpressionData(spec, name);
  cache?.set(key, d);
  return d;
}

/**
 * The data a run of `entry` trains on: the model's own (`entry.loadData`, cached per model,
 * spec and config without `seed`) or its task's (see {@link loadTaskData}). Either has a
 * one-line `description`.
 */
export async function loadRunData(
  entry: ModelEntry,
  config: RunConfig,
  spec?: string,
  name?: string,
  cache?: Map<string, unknown>,
): Promise<{ description: string }> {
  if (!entry.loadData) {
    return await loadTaskData(entry.task, spec, name, cache) as { description: string };
  }
  const given = spec === undefined || spec === "embedded" ? undefined : spec;
  const { seed: _, ...rest } = config;
  const key = `own|${entry.name}|${given ?? ""}|${JSON.stringify(rest)}`;
  const hit = cache?.get(key);
  if (hit) return hit as { description: string };
  const d = await entry.loadData(given, config) as { description: string };
  cache?.set(key, d);
  return d;
}

/** The resolved config of a spec. */
export function resolveRun(spec: RunSpec): { entry: ModelEntry; config: RunConfig } {
  const entry = getModel(spec.model);
  return { entry, config: resolveSettings(modelSettings(entry), spec.layers ?? []) };
}

/** The loop options a config asks for. */
export function loopOptions(c: RunConfig): LoopOptions {
  const lr = c.lr as number;
  const schedule: LoopOptions["schedule"] = c.lrSchedule === "exponential"
    ? { kind: "exponential", base: c.lrDecay, every: c.lrEvery }
    : c.lrSchedule === "step"
    ? { kind: "step", gamma: c.lrDecay, every: c.lrEvery }
    : c.lrSchedule === "cosine"
    ? { kind: "cosine", min: c.lrMin / lr }
    : c.lrSchedule === "plateau"
    ? { kind: "plateau", factor: c.lrDecay, patience: c.lrPatience, min: c.lrMin }
    : { kind: "constant" };
  const metric = c.validMetric || undefined;
  const mode = c.mode || (metric ? (/loss/.test(metric) ? "min" : "max") : undefined);
  return {
    epochs: c.epochs,
    batchSize: c.batchSize,
    lr,
    optimizer: c.optimizer,
    weightDecay: c.weightDecay,
    schedule,
    clipNorm: c.clipNorm,
    evalEvery: c.evalEvery,
    patience: c.patience,
    validMetric: metric,
    mode,
    seed: c.seed,
    logEvery: c.logEvery,
    profile: c.profile,
  };
}

/** The task object for a built model. */
function makeTask(
  task: TaskKind,
  model: unknown,
  data: unknown,
  c: RunConfig,
  // deno-lint-ignore no-explicit-any
): Task<any> {
  switch (task) {
    case "retrieval": {
      const d = data as RetrievalData & { td?: ReturnType<typeof trainData> };
      d.td ??= trainData(d.split);
      return retrievalTask(model as Recommender, d.td, c.ks);
    }
    case "ctr":
      return ctrTask(model as CtrModel, data as CtrSplits, c.groupField || undefined);
    case "impression":
      return impressionTask(model as ImpressionModel, data as ImpressionSplits, c.negatives);
    case "pretrain":
      return pretrainTask(model as PretrainModel);
  }
}

/** Builds the model of a spec over its data, with artifacts kept in `dir`. */
async function build(
  entry: ModelEntry,
  config: RunConfig,
  data: unknown,
  dir: string,
  log: (s: string) => void,
  reuse = true,
) {
  return await entry.build({
    // deno-lint-ignore no-explicit-any
    data: data as any,
    config,
    log,
    async artifact(name: string, make: () => Promise<FeatureTable>): Promise<FeatureTable> {
      const path = `${dir}/${name}.npy`;
      if (reuse) {
        try {
          const a = readNpy(await Deno.readFile(path), { source: path, float64ToFloat32: true });
          return { data: a.data as Float32Array, dim: a.shape[1] };
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) throw e;
        }
      }
      const t = await make();
      const rows = t.data.length / t.dim;
      await Deno.writeFile(path, writeNpy({ shape: [rows, t.dim], data: t.data }));
      return t;
    },
  });
}

/** Trains one run and writes its folder. */
export async function trainRun(spec: RunSpec, opts: RunOptions): Promise<RunResult> {
  const { entry, config } = resolveRun(spec);
  const log = opts.log ?? (() => {});
  const data = await loadRunData(entry, config, spec.data, spec.name, opts.cache);
  const dir = opts.out;
  await Deno.mkdir(dir, { recursive: true });
  const saved = { model: entry.name, data: spec.data ?? "embedded", name: spec.name, config };
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(saved, null, 2) + "\n");
  const description = data.description;
  const reuse = opts.reuseArtifacts ?? !!opts.resume;
  const model = await build(entry, config, data, dir, log, reuse);
  let keep = false;
  try {
    const task = makeTask(entry.task, model, data, config);
    const lo = loopOptions(config);
    const metric = { name: lo.validMetric ?? task.metric.name, mode: lo.mode ?? task.metric.mode };
    log(`${entry.title}: ${model.numParameters().toLocaleString()} parameters`);
    const ckpt = `${dir}/checkpoint.safetensors`;
    const fit = await trainLoop(task, {
      ...lo,
      progress: opts.progress,
      checkpoint: ckpt,
      resume: opts.resume ? ckpt : undefined,
    });
    await Deno.writeFile(
      `${dir}/model.safetensors`,
      await saveModule(model, {
        model: entry.name,
        task: entry.task,
        config: JSON.stringify(config),
        best_epoch: String(fit.bestEpoch),
      }),
    );
    const result: RunResult = { dir, entry, config, metric, fit, data: description };
    await writeReports(result);
    if (opts.keepModel) [result.model, keep] = [model, true];
    return result;
  } finally {
    if (!keep) model.dispose();
  }
}

/** epochs.csv, results.json/md and curves.svg of a finished run. */
async function writeReports(r: RunResult): Promise<void> {
  const { fit, entry, metric } = r;
  await Deno.writeTextFile(`${r.dir}/epochs.csv`, epochsCsv(fit.history));
  const results = {
    model: entry.name,
    title: entry.title,
    task: entry.task,
    data: r.data,
    metric,
    bestEpoch: fit.bestEpoch,
    epochs: fit.history.length,
    stoppedEarly: fit.stoppedEarly,
    valid: fit.valid,
    test: fit.test,
    seconds: fit.seconds,
    samplesPerSec: fit.samplesPerSec,
    config: r.config,
  };
  await Deno.writeTextFile(`${r.dir}/results.json`, JSON.stringify(results, null, 1) + "\n");
  const cols = tableColumns(Object.keys(fit.test).length ? fit.test : fit.valid);
  const md = [
    `# ${entry.title} (${entry.task})`,
    "",
    r.data,
    "",
    metricsTable([["valid", fit.valid], ["test", fit.test]], cols),
    "",
    `Best epoch ${fit.bestEpoch} (0-based) of ${fit.history.length} by valid ${metric.name} ` +
    `(${metric.mode}); ${fit.seconds.toFixed(1)} s.`,
  ].join("\n");
  await Deno.writeTextFile(`${r.dir}/results.md`, md + "\n");
  const s = historySeries(entry.title, fit.history, metric.name);
  await Deno.writeTextFile(
    `${r.dir}/curves.svg`,
    curvesSvg(
      { title: "training loss (log scale)", series: [s.loss], logY: true },
      { title: `valid ${metric.name}`, series: [s.valid] },
    ),
  );
}

/** The columns of a results table: every metric, or those @10 and @20 when there are many. */
export function tableColumns(m: Record<string, number>): string[] {
  const all = Object.keys(m).filter((k) => k !== "users");
  return all.length > 8 ? all.filter((k) => /@(10|20)$/.test(k)) : all;
}

/** A run folder's config.json. */
export async function readRunConfig(
  dir: string,
): Promise<{ model: string; data: string; name?: string; config: Record<string, unknown> }> {
  const path = dir.endsWith(".json") ? dir : `${dir}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new Error(`${path}: no such file; expected a run folder written by deno task train`);
  }
  const c = JSON.parse(text);
  if (typeof c.model !== "string" || typeof c.config !== "object") {
    throw new Error(`${path}: not a run config (expected {model, data, config})`);
  }
  return c;
}

/** Rebuilds a run's model from its folder (config, artifacts, weights). */
async function loadRun(dir: string, cache?: Map<string, unknown>) {
  const saved = await readRunConfig(dir);
  const { entry, config } = resolveRun({
    model: saved.model,
    layers: [[`${dir}/config.json`, saved.config]],
  });
  const data = await loadRunData(entry, config, saved.data, saved.name, cache);
  const model = await build(entry, config, data, dir, () => {});
  try {
    loadModule(model, await Deno.readFile(`${dir}/model.safetensors`));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { entry, config, data, model };
}

/** Valid and test metrics of a run folder's saved weights. */
export async function evaluateRun(
  dir: string,
  cache?: Map<string, unknown>,
): Promise<{ model: string; valid: Record<string, number>; test: Record<string, number> }> {
  const { entry, config, data, model } = await loadRun(dir, cache);
  try {
    const task = makeTask(entry.task, model, data, config);
    return {
      model: entry.name,
      valid: await task.evaluate("valid"),
      test: await task.evaluate("test"),
    };
  } finally {
    model.dispose();
  }
}

/**
 * Top-`k` items of users given by raw id (as in the data file), best first, leaving out every
 * item the user interacted with in any split. Retrieval models only.
 */
export async function recommendRun(
  dir: string,
  users: readonly string[],
  k: number,
  cache?: Map<string, unknown>,
): Promise<{ user: string; items: string[] }[]> {
  const { entry, data, model } = await loadRun(dir, cache);
  try {
    if (entry.task !== "retrieval") {
      throw new Error(
        `recommend serves retrieval models; ${entry.name} is a ${entry.task} model`,
      );
    }
    const d = data as RetrievalData;
    const known = knownCsr(d);
    const ids = d.rawIds ?? identityIds(d.split.train.numUsers, d.split.train.numItems);
    const recs = await recommend(model as Recommender, users, k, known, ids);
    return users.map((u, i) => ({ user: u, items: recs[i] }));
  } finally {
    model.dispose();
  }
}

/** Every interaction of every split, per user. */
function knownCsr(d: RetrievalData): Csr {
  const xs: Interactions[] = [d.split.train, d.split.valid, d.split.test];
  const n = xs.reduce((s, x) => s + x.users.length, 0);
  const users = new Int32Array(n);
  const items = new Int32Array(n);
  let o = 0;
  for (const x of xs) {
    users.set(x.users, o);
    items.set(x.items, o);
    o += x.users.length;
  }
  return toCsr(users, items, d.split.train.numUsers, d.split.train.numItems);
}

/** Raw ids "0", "1", … when the data has no id maps (synthetic data). */
function identityIds(nu: number, ni: number) {
  const m = (n: number) => {
    const ids = { ids: Array.from({ length: n }, (_, i) => String(i)) };
    return {
      get: (s: string) => (/^\d+$/.test(s) && +s < n ? +s : -1),
      raw: (i: number) => ids.ids[i],
    };
  };
  return { users: m(nu), items: m(ni) };
}
