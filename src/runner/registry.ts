/**
 * The model registry: every model the runner (`deno task train --model NAME`) can train,
 * evaluate and serve, with its task, typed settings (defaults and one-line docs) and the data
 * it needs.
 *
 * ## How a model registers
 *
 * 1. In its folder, `src/models/<paper>/register.ts` calls {@link register} once:
 *
 *    ```ts
 *    import { register } from "../../runner/registry.ts";
 *    import { int, num } from "../../runner/settings.ts";
 *    import { MyModel } from "./model.ts";
 *
 *    register({
 *      name: "mymodel",              // lower-case paper name, no punctuation
 *      title: "MyModel",             // display name
 *      task: "retrieval",            // "retrieval" | "ctr" | "impression" | "pretrain"
 *      about: "MyModel (Author et al., VENUE 2024): one line",
 *      data: "interactions + one item-feature table", // what --data must provide
 *      settings: {                   // the model's own settings, flat names
 *        embeddingSize: int(64, "embedding width d"),
 *        regWeight: num(1e-4, "L2 weight of the batch embeddings"),
 *      },
 *      training: { lr: 0.005, epochs: 50 }, // optional: this model's training defaults
 *      build: ({ data, config }) => new MyModel(data.split.train, config),
 *    });
 *    ```
 *
 *    A pretraining model whose samples are not interactions (audio clips, a generator's
 *    videos) loads `--data` itself: give the entry `loadData(spec, config)` (it gets the
 *    `--data` spec, `undefined` when none was given, may use the GPU, and returns what `build`
 *    gets as `data`, with a one-line `description` for results.md and the CLI's `data:` line).
 *    Its data is cached per (model, spec, config without `seed`): read no `seed` in it.
 *
 *    `build` gets the task's data (`TaskTypes[task]["data"]`), the resolved config (the
 *    model's settings plus the task's training settings, `config.seed` included: seed the
 *    initialisation with it) and helpers (`artifact` to cache a computed table such as
 *    stage-1 features in the run folder, `log`); it returns the task's model type
 *    (`TaskTypes[task]["model"]`: a `Recommender` for retrieval, a `CtrModel` for CTR, an
 *    `ImpressionModel` for impressions, a `PretrainModel` for pretraining). A model may
 *    also implement `paramGroups()` (src/train/loop.ts {@link ParamGroupsSource}): the loop
 *    then builds its optimizer over those groups (per-layer learning-rate multipliers, frozen
 *    layers left out) instead of one group of `parameters()`.
 * 2. Add one line to `src/runner/models.ts`: `import "../models/<paper>/register.ts";`.
 *
 * That is all: `--help`, config files, `--set`, seeds, search, run folders, `evaluate` and
 * (for retrieval) `recommend` then work for the model, and tests/runner/ trains it two epochs
 * on tiny data of its task with the entry's `tiny` settings (keep builds fast at small sizes).
 * @module
 */

import type { Recommender } from "../train/fit.ts";
import type { CtrModel, CtrSplits } from "../train/ctr.ts";
import type { ImpressionModel, ImpressionSplits } from "../train/impression.ts";
import type { PretrainModel } from "../train/pretrain.ts";
import type { ParamGroupsSource } from "../train/loop.ts";
import type { FeatureTable, RetrievalData } from "./data.ts";
import { bool, int, num, nums, type Setting, type Settings, str, unknownName } from "./settings.ts";
import type { SettingValue } from "./settings.ts";

export type { CtrModel, CtrSplits, FeatureTable, ImpressionModel, ImpressionSplits };
export type { ParamGroupsSource, PretrainModel, Recommender, RetrievalData };

/** Data a model loads itself ({@link ModelEntry.loadData}): anything with a description. */
export interface OwnData {
  /** One line on the data (results.md, the CLI's `data:` line). */
  readonly description: string;
}

/** The tasks and, for each, the data a model gets and the model type it returns. */
export interface TaskTypes {
  /** Top-K retrieval: BPR triples, full ranking (Recall/NDCG@K). */
  retrieval: { data: RetrievalData; model: Recommender };
  /** Click-through rate: pointwise BCE over feature rows (AUC, GAUC, LogLoss). */
  ctr: { data: CtrSplits; model: CtrModel };
  /** Impressions: one clicked item against K shown-but-skipped ones (AUC, MRR, nDCG@5/10). */
  impression: { data: ImpressionSplits; model: ImpressionModel };
  /** Self-supervised pretraining with a downstream probe as the valid metric. */
  pretrain: { data: RetrievalData; model: PretrainModel };
}

/** A resolved config: setting name → value (each checked against its declared type). */
// deno-lint-ignore no-explicit-any
export type RunConfig = Record<string, any>;

/** A task name. */
export type TaskKind = keyof TaskTypes;

/** What `build` gets (`D`: the task's data, or what the entry's `loadData` returns). */
export interface BuildContext<T extends TaskKind, D = TaskTypes[T]["data"]> {
  /** The task's data, or the model's own (`loadData`). */
  data: D;
  /** The resolved config: model settings and training settings. */
  config: RunConfig;
  /**
   * A feature table cached in the run folder as `<name>.npy`: loaded when the folder has it
   * (evaluate, recommend), else made by `make` and saved.
   */
  artifact(name: string, make: () => Promise<FeatureTable>): Promise<FeatureTable>;
  /** Prints a line (the runner's output). */
  log(line: string): void;
}

/** A registered model (`D`: the data `build` gets; see `loadData`). */
export interface ModelEntry<T extends TaskKind = TaskKind, D = TaskTypes[T]["data"]> {
  /** Runner name: the lower-case paper name without punctuation. */
  name: string;
  /** Display name. */
  title: string;
  /** Its task. */
  task: T;
  /** One line: the model and its paper. */
  about: string;
  /** One line: the data it needs. */
  data: string;
  /** The model's own settings (flat names, distinct from the task's training settings). */
  settings: Settings;
  /** This model's defaults for training settings (epochs, lr, …). */
  training?: Record<string, SettingValue>;
  /**
   * Settings for a smoke run on tiny data (tests/runner/ trains every model two epochs with
   * them), e.g. fewer stage-1 epochs. Default none.
   */
  tiny?: Record<string, SettingValue>;
  /**
   * Pretraining only, optional: loads `--data` itself (`spec` is `undefined` when none was
   * given; "embedded" counts as none) instead of the task's interaction loader, e.g. a folder
   * of WAV files, or the model's generator sized by `config`. May use the GPU. Cached per
   * (model, spec, config without `seed`), so it must not read `config.seed`.
   */
  loadData?(spec: string | undefined, config: RunConfig): D | Promise<D>;
  /** Builds the model (parameters initialised from `config.seed`). */
  build(ctx: BuildContext<T, D>): TaskTypes[T]["model"] | Promise<TaskTypes[T]["model"]>;
}

const SCHEDULES = ["constant", "exponential", "step", "cosine", "plateau"] as const;

/** Training settings every task shares (the loop's options). */
const LOOP: Settings = {
  epochs: int(100, "epoch limit"),
  batchSize: int(1024, "samples per batch"),
  lr: num(1e-3, "base learning rate"),
  optimizer: str("adam", "optimizer", ["adam", "adamw", "sgd"]),
  weightDecay: num(0, "optimizer weight decay"),
  lrSchedule: str("constant", "learning-rate schedule", SCHEDULES),
  lrDecay: num(0.5, "exponential base, step gamma or plateau factor"),
  lrEvery: int(10, "epochs per decay step (exponential, step)"),
  lrPatience: int(2, "plateau: evaluations without improvement before the decay"),
  lrMin: num(0, "lower bound of the learning rate (cosine, plateau)"),
  clipNorm: num(0, "clip gradients to this global L2 norm (0: off)"),
  evalEvery: int(1, "evaluate every this many epochs"),
  patience: int(10, "early stopping: evaluations without improvement"),
  validMetric: str("", "selection metric (empty: the task's)"),
  mode: str("", "whether larger (max) or smaller (min) validMetric is better (empty: the task's)", [
    "",
    "max",
    "min",
  ]),
  seed: int(999, "seed of initialisation, batches and negatives"),
  logEvery: int(16, "read losses back every this many steps"),
  profile: bool(false, "profile steps 3-10: per-kernel GPU time by phase, dispatches, readbacks"),
};

/** The training settings of each task (the loop's and the task's own). */
export const TASK_SETTINGS: Record<TaskKind, Settings> = {
  retrieval: {
    ...LOOP,
    epochs: int(1000, "epoch limit"),
    batchSize: int(2048, "triples per batch"),
    lrSchedule: str("exponential", "learning-rate schedule", SCHEDULES),
    lrDecay: num(0.96, "exponential base, step gamma or plateau factor"),
    lrEvery: int(50, "epochs per decay step (exponential: lr·decay^(epoch/every))"),
    patience: int(30, "early stopping: evaluations without improvement"),
    ks: nums([5, 10, 20, 50], "cutoffs of Recall/NDCG/Precision/MAP@K"),
  },
  ctr: {
    ...LOOP,
    epochs: int(20, "epoch limit"),
    batchSize: int(256, "rows per batch"),
    patience: int(2, "early stopping: evaluations without improvement"),
    groupField: str("", "categorical field grouping GAUC (empty: the first field)"),
  },
  impression: {
    ...LOOP,
    epochs: int(10, "epoch limit"),
    batchSize: int(64, "clicks per batch"),
    negatives: int(4, "K: skipped items per click (MIND's npratio)"),
    patience: int(3, "early stopping: evaluations without improvement"),
  },
  pretrain: {
    ...LOOP,
    epochs: int(60, "epoch limit"),
    batchSize: int(256, "samples per batch"),
  },
};

const registry = new Map<string, ModelEntry>();

/** Registers a model; its name must be new and its settings must not shadow the task's. */
export function register<T extends TaskKind, D extends OwnData = TaskTypes[T]["data"]>(
  entry: ModelEntry<T, D>,
): void {
  if (!/^[a-z][a-z0-9]*$/.test(entry.name)) {
    throw new Error(
      `wgrec register: name '${entry.name}' must be a lower-case paper name (a-z, 0-9)`,
    );
  }
  if (registry.has(entry.name)) {
    throw new Error(`wgrec register: '${entry.name}' is registered twice`);
  }
  const task = TASK_SETTINGS[entry.task];
  if (!task) throw new Error(`wgrec register: ${entry.name} has unknown task '${entry.task}'`);
  if (entry.loadData && entry.task !== "pretrain") {
    throw new Error(
      `wgrec register: ${entry.name} has loadData, which only pretraining models may have ` +
        `(the ${entry.task} task reads --data itself)`,
    );
  }
  for (const k of Object.keys(entry.settings)) {
    if (k in task) {
      throw new Error(`wgrec register: ${entry.name}'s setting '${k}' is a ${entry.task} setting`);
    }
  }
  for (const k of Object.keys(entry.training ?? {})) {
    if (!(k in task)) {
      throw new Error(`wgrec register: ${entry.name} sets unknown training setting '${k}'`);
    }
  }
  registry.set(entry.name, entry as unknown as ModelEntry);
}

/** The entry of `name`; an unknown name is refused with the closest registered one. */
export function getModel(name: string): ModelEntry {
  const e = registry.get(name);
  if (e) return e;
  throw unknownName("model", name, [...registry.keys()]);
}

/** Every registered model, in registration order. */
export function listModels(): ModelEntry[] {
  return [...registry.values()];
}

/**
 * The full settings table of a model: its task's training settings (with the model's training
 * defaults applied) and its own settings.
 */
export function modelSettings(e: ModelEntry): Settings {
  const out: Settings = {};
  for (const [k, s] of Object.entries(TASK_SETTINGS[e.task])) {
    const d = e.training?.[k];
    out[k] = d === undefined ? s : { ...s, default: d } as Setting;
  }
  return { ...out, ...e.settings };
}
