/**
 * The runner's command line: `deno task train | evaluate | recommend`.
 *
 * ```
 * deno task train --model NAME [--data SPEC] [--name STEM] [--config FILE.json]
 *                 [--from RUN/config.json] [--set key=value …] [--epochs N] [--seed N]
 *                 [--out DIR] [--seeds N] [--grid FILE.json [--random N]] [--resume]
 * deno task train --model NAME --help        every setting with its default and meaning
 * deno task evaluate --run DIR                metrics of the saved weights
 * deno task recommend --run DIR --users u1,u2 [--k 20]
 * ```
 * Precedence (RecBole's): defaults < `--from` < `--config` < `--set`/`--epochs`/`--seed`.
 * @module
 */

import { init, runtime } from "../tensor.ts";
import { Rng } from "../random.ts";
import { terminalProgress } from "../train/progress.ts";
import { listModels, modelSettings } from "./models.ts";
import { getModel, TASK_SETTINGS } from "./registry.ts";
import { coerce, settingsHelp, unknownName } from "./settings.ts";
import {
  evaluateRun,
  loadRunData,
  readRunConfig,
  recommendRun,
  resolveRun,
  type RunOptions,
  type RunResult,
  type RunSpec,
  tableColumns,
  trainRun,
} from "./run.ts";
import { fmt, meanStd, metricsTable } from "./report.ts";

/** Where the CLI writes. */
export interface CliIo {
  /** Normal output. */
  out(line: string): void;
  /** Errors and progress. */
  err(line: string): void;
  /** Show a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
}

const consoleIo: CliIo = { out: (s) => console.log(s), err: (s) => console.error(s) };

/** A usage error (exit code 2). */
class UsageError extends Error {}

const FLAGS: Record<string, string> = {
  model: "registered model name (see --list)",
  data: "data: 'embedded' (default), 'synthetic:users=…,items=…', a folder or a CSV file",
  name: "the .inter file stem when it differs from the data folder's name",
  config: 'JSON file of settings ({"lr": 0.01, …} or a run\'s config.json)',
  from: "a run's config.json: reproduce that run (model, data and config)",
  set: "key=value: one setting (repeatable)",
  epochs: "epoch limit (same as --set epochs=N)",
  seed: "seed (same as --set seed=N)",
  profile: "profile training steps 3-10 (same as --set profile=true): per-kernel GPU time by phase",
  out: "run folder (default runs/<model>)",
  seeds: "run N seeds (seed, seed+1, …) and report mean ± std",
  grid: "JSON file of value lists per setting: search their combinations",
  random: "with --grid: try N random combinations instead of all",
  resume: "continue from the run folder's checkpoint",
  run: "(evaluate, recommend) a run folder",
  users: "(recommend) raw user ids, comma-separated",
  k: "(recommend) items per user (default 20)",
  list: "list the registered models",
  help: "this help, or a model's settings with --model",
};
const BOOL = new Set(["resume", "list", "help", "profile"]);

/** Parses `--key value`, `--key=value` and repeated `--set`. */
export function parseArgs(argv: readonly string[]): Record<string, string | string[] | true> {
  const a: Record<string, string | string[] | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new UsageError(`unexpected argument '${argv[i]}' (flags start with --)`);
    const key = m[1];
    if (!(key in FLAGS)) {
      throw new UsageError(
        unknownName("flag", `--${key}`, Object.keys(FLAGS).map((f) => `--${f}`)).message,
      );
    }
    if (BOOL.has(key)) {
      a[key] = true;
      continue;
    }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new UsageError(`--${key} needs a value: ${FLAGS[key]}`);
    if (key === "set") a.set = [...((a.set as string[]) ?? []), v];
    else a[key] = v;
  }
  return a;
}

function usage(): string {
  const flags = Object.entries(FLAGS).map(([k, d]) => `  --${k.padEnd(8)} ${d}`).join("\n");
  const models = listModels().map((e) => `  ${e.name.padEnd(12)} ${e.task.padEnd(10)} ${e.about}`)
    .join("\n");
  return `deno task train --model NAME [flags]   (evaluate --run DIR; recommend --run DIR ` +
    `--users u1,u2 --k 20)\n\nflags:\n${flags}\n\nmodels:\n${models}\n\n` +
    `deno task train --model NAME --help lists every setting with its default and meaning.`;
}

function modelHelp(name: string): string {
  const e = getModel(name);
  const own = settingsHelp(e.settings);
  const train = settingsHelp(
    Object.fromEntries(
      Object.entries(modelSettings(e)).filter(([k]) => k in TASK_SETTINGS[e.task]),
    ),
  );
  return `${e.name}: ${e.about}\ntask: ${e.task}; data: ${e.data}\n\n` +
    (own ? `model settings (--set key=value):\n${own}\n\n` : "") +
    `training settings (${e.task}):\n${train}`;
}

async function readJson(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    throw new UsageError(`${what} ${path}: no such file`);
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
    return v;
  } catch (e) {
    throw new UsageError(`${what} ${path}: not a JSON object (${(e as Error).message})`);
  }
}

/** Splits a config file into its model/data/name and its settings. */
function configLayer(c: Record<string, unknown>) {
  const { model, data, name, config, ...rest } = c;
  return {
    model: model as string | undefined,
    data: data as string | undefined,
    name: name as string | undefined,
    values: { ...(config as Record<string, unknown> ?? {}), ...rest },
  };
}

/** The run spec of `train` flags. */
async function trainSpec(a: Record<string, string | string[] | true>): Promise<RunSpec> {
  const spec: RunSpec = { model: "", layers: [] };
  for (const [flag, what] of [["from", "--from"], ["config", "--config"]] as const) {
    if (typeof a[flag] !== "string") continue;
    const path = a[flag] as string;
    const c = configLayer(
      flag === "from" ? await readRunConfig(path) : await readJson(path, what),
    );
    spec.model = c.model ?? spec.model;
    spec.data = c.data ?? spec.data;
    spec.name = c.name ?? spec.name;
    spec.layers!.push([`${what} ${path}`, c.values]);
  }
  if (typeof a.model === "string") spec.model = a.model;
  if (typeof a.data === "string") spec.data = a.data;
  if (typeof a.name === "string") spec.name = a.name;
  if (!spec.model) throw new UsageError(`--model NAME is required\n\n${usage()}`);
  const flags: Record<string, unknown> = {};
  for (const kv of (a.set as string[] | undefined) ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set ${kv}: expected key=value`);
    flags[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  if (typeof a.epochs === "string") flags.epochs = a.epochs;
  if (typeof a.seed === "string") flags.seed = a.seed;
  if (a.profile) flags.profile = "true";
  spec.layers!.push(["the command line", flags]);
  return spec;
}

async function ensureGpu(io: CliIo): Promise<void> {
  try {
    runtime();
  } catch {
    const rt = await init();
    const ad = rt.gpu.adapter;
    io.err(`adapter: ${ad.description || ad.vendor || "unknown adapter"}`);
  }
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 bad input). */
export async function runCli(
  command: string,
  argv: readonly string[],
  io: CliIo = consoleIo,
): Promise<number> {
  try {
    const a = parseArgs(argv);
    if (command === "train") return await train(a, io);
    if (command === "evaluate") return await evaluate(a, io);
    if (command === "recommend") return await recommendCmd(a, io);
    throw new UsageError(`unknown command '${command}' (train, evaluate, recommend)`);
  } catch (e) {
    const msg = (e as Error).message;
    io.err(`error: ${msg}`);
    const usageLike = e instanceof UsageError ||
      /^(unknown|setting|data|--)|: no such file|not a /.test(msg);
    return usageLike ? 2 : 1;
  }
}

async function train(a: Record<string, string | string[] | true>, io: CliIo): Promise<number> {
  if (a.list || (a.help && !a.model)) {
    io.out(usage());
    return 0;
  }
  if (a.help) {
    io.out(modelHelp(a.model as string));
    return 0;
  }
  const spec = await trainSpec(a);
  const { entry, config } = resolveRun(spec); // checks every setting before the GPU starts
  const out = typeof a.out === "string" ? a.out : `runs/${entry.name}`;
  const seeds = typeof a.seeds === "string" ? Number(a.seeds) : 0;
  if (a.seeds !== undefined && !(Number.isInteger(seeds) && seeds >= 1)) {
    throw new UsageError(`--seeds ${a.seeds}: expected an integer ≥ 1`);
  }
  const combos = typeof a.grid === "string" ? await gridCombos(spec, a) : null;
  const cache = new Map<string, unknown>();
  // Data errors come before the GPU starts (a model that loads its own data may need it).
  if (entry.loadData) await ensureGpu(io);
  const data = await loadRunData(entry, config, spec.data, spec.name, cache);
  io.err(`data: ${data.description}`);
  await ensureGpu(io);
  // A bar redrawn in place on a terminal, one line per epoch otherwise.
  const opts = {
    progress: io.progress === false ? undefined : terminalProgress(),
    log: (s: string) => io.err(s),
    cache,
    resume: !!a.resume,
  };
  if (combos) return await search(spec, out, combos, opts, io);
  if (seeds >= 1) {
    const runs: RunResult[] = [];
    for (let s = 0; s < seeds; s++) {
      const seed = (config.seed as number) + s;
      const layers = [...spec.layers!, ["--seeds", { seed }]] as RunSpec["layers"];
      runs.push(await trainRun({ ...spec, layers }, { ...opts, out: `${out}/seed-${seed}` }));
    }
    const md = seedsSummary(runs);
    await Deno.writeTextFile(`${out}/seeds.md`, md + "\n");
    io.out(md);
    return 0;
  }
  const r = await trainRun(spec, { ...opts, out });
  io.out(await Deno.readTextFile(`${out}/results.md`));
  io.out(
    `wrote ${r.dir}/: config.json, model.safetensors, epochs.csv, results.json/md, curves.svg`,
  );
  return 0;
}

/** Mean ± std per metric over the seeds, and each seed's row. */
export function seedsSummary(runs: RunResult[]): string {
  const cols = tableColumns(runs[0].fit.test);
  const stats = (split: "valid" | "test") =>
    Object.fromEntries(
      Object.keys(runs[0].fit[split]).map((k) => [k, meanStd(runs.map((r) => r.fit[split][k]))]),
    );
  const t = stats("test");
  const v = stats("valid");
  const json = { seeds: runs.map((r) => r.config.seed), valid: v, test: t };
  Deno.writeTextFileSync(`${runs[0].dir}/../seeds.json`, JSON.stringify(json, null, 1) + "\n");
  return [
    `# ${runs[0].entry.title}: ${runs.length} seeds`,
    "",
    metricsTable(runs.map((r) => [`seed ${r.config.seed}`, r.fit.test]), cols),
    "",
    `| test | ${cols.join(" | ")} |`,
    `|---|${cols.map(() => "---:").join("|")}|`,
    `| mean ± std | ${cols.map((c) => `${fmt(t[c].mean)} ± ${fmt(t[c].std)}`).join(" | ")} |`,
  ].join("\n");
}

/** The combinations of `--grid FILE.json` (all, or `--random N` of them), checked. */
async function gridCombos(
  spec: RunSpec,
  a: Record<string, string | string[] | true>,
): Promise<Record<string, unknown>[]> {
  const grid = await readJson(a.grid as string, "--grid");
  const { entry } = resolveRun(spec);
  const settings = modelSettings(entry);
  for (const k of Object.keys(grid)) {
    if (!settings[k]) {
      throw new UsageError(unknownName("setting", k, Object.keys(settings), "--grid").message);
    }
    const vs = grid[k];
    if (!Array.isArray(vs) || vs.length === 0) {
      throw new UsageError(`--grid ${k}: expected a non-empty list of values`);
    }
    vs.forEach((v) => coerce(k, settings[k], v, `--grid ${k}`));
  }
  let combos: Record<string, unknown>[] = [{}];
  for (const k of Object.keys(grid)) {
    combos = combos.flatMap((c) => (grid[k] as unknown[]).map((v) => ({ ...c, [k]: v })));
  }
  if (typeof a.random === "string") {
    const n = Number(a.random);
    if (!(Number.isInteger(n) && n >= 1)) {
      throw new UsageError(`--random ${a.random}: expected an integer ≥ 1`);
    }
    combos = (new Rng(1234).shuffle(combos) as Record<string, unknown>[]).slice(0, n);
  }
  return combos;
}

/** Grid or random search: one run per combination, ranked by the valid metric. */
async function search(
  spec: RunSpec,
  out: string,
  combos: Record<string, unknown>[],
  opts: Omit<RunOptions, "out">,
  io: CliIo,
): Promise<number> {
  const { entry } = resolveRun(spec);
  const keys = Object.keys(combos[0]);
  const runs: { combo: Record<string, unknown>; r: RunResult }[] = [];
  for (let i = 0; i < combos.length; i++) {
    const layers = [...spec.layers!, ["--grid", combos[i]]] as RunSpec["layers"];
    const dir = `${out}/run-${String(i + 1).padStart(2, "0")}`;
    io.err(`search ${i + 1}/${combos.length}: ${JSON.stringify(combos[i])}`);
    runs.push({ combo: combos[i], r: await trainRun({ ...spec, layers }, { ...opts, out: dir }) });
  }
  const { name, mode } = runs[0].r.metric;
  const sign = mode === "max" ? -1 : 1;
  runs.sort((x, y) => sign * ((x.r.fit.valid[name] ?? NaN) - (y.r.fit.valid[name] ?? NaN)));
  const cols = tableColumns(runs[0].r.fit.test);
  const md = [
    `# ${entry.title}: search over ${keys.join(", ")} (${runs.length} runs, by valid ${name})`,
    "",
    `| rank | run | ${keys.join(" | ")} | valid ${name} | ${
      cols.map((c) => `test ${c}`).join(" | ")
    } |`,
    `|---:|---|${keys.map(() => "---").join("|")}|---:|${cols.map(() => "---:").join("|")}|`,
    ...runs.map(({ combo, r }, i) =>
      `| ${i + 1} | ${r.dir.split("/").pop()} | ${
        keys.map((k) => JSON.stringify(combo[k])).join(" | ")
      } | ` +
      `${fmt(r.fit.valid[name])} | ${cols.map((c) => fmt(r.fit.test[c])).join(" | ")} |`
    ),
    "",
    `Best: ${runs[0].r.dir} ${JSON.stringify(runs[0].combo)}; test ${
      cols.map((c) => `${c} ${fmt(runs[0].r.fit.test[c])}`).join(", ")
    }.`,
  ].join("\n");
  await Deno.writeTextFile(`${out}/search.md`, md + "\n");
  await Deno.writeTextFile(
    `${out}/search.json`,
    JSON.stringify(
      runs.map(({ combo, r }) => ({
        run: r.dir,
        settings: combo,
        valid: r.fit.valid,
        test: r.fit.test,
      })),
      null,
      1,
    ) + "\n",
  );
  io.out(md);
  return 0;
}

async function evaluate(a: Record<string, string | string[] | true>, io: CliIo): Promise<number> {
  if (typeof a.run !== "string") throw new UsageError("evaluate needs --run DIR (a run folder)");
  await readRunConfig(a.run);
  await ensureGpu(io);
  const m = await evaluateRun(a.run);
  const cols = tableColumns(m.test);
  io.out(metricsTable([["valid", m.valid], ["test", m.test]], cols));
  await Deno.writeTextFile(`${a.run}/evaluate.json`, JSON.stringify(m, null, 1) + "\n");
  return 0;
}

async function recommendCmd(
  a: Record<string, string | string[] | true>,
  io: CliIo,
): Promise<number> {
  if (typeof a.run !== "string") throw new UsageError("recommend needs --run DIR (a run folder)");
  if (typeof a.users !== "string") throw new UsageError("recommend needs --users u1,u2,…");
  const k = typeof a.k === "string" ? Number(a.k) : 20;
  if (!(Number.isInteger(k) && k >= 1)) throw new UsageError(`--k ${a.k}: expected an integer ≥ 1`);
  await readRunConfig(a.run);
  await ensureGpu(io);
  const users = a.users.split(",").map((s) => s.trim()).filter(Boolean);
  const recs = await recommendRun(a.run, users, k);
  io.out(`user\ttop-${k} items, best first`);
  for (const r of recs) io.out(`${r.user}\t${r.items.join(" ")}`);
  return 0;
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  Deno.exit(await runCli(command ?? "", rest));
}
