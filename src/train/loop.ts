/**
 * The training loop shared by every task (retrieval, CTR, impressions, pretraining): epochs,
 * an optimizer with a learning-rate schedule (MMRec's exponential LambdaLR, step, cosine,
 * reduce-on-plateau), gradient clipping by global norm, evaluation every `evalEvery` epochs
 * with early stopping on any metric in either direction, best-valid weights restored at the
 * end, checkpoints that resume exactly, and a progress callback.
 *
 * A {@link Task} supplies what differs: the batches of an epoch (drawn from a generator seeded
 * by (seed, epoch), so a resumed run draws the same ones), the loss of a batch and the metrics
 * of a split. Losses are read back every `logEvery` steps in one batch, never per op.
 *
 * "Best epoch" is 0-based everywhere (logs, results, checkpoints); only the progress bar
 * counts epochs from 1, as "epoch 3/10".
 * @module
 */

import { backward } from "../autograd/backward.ts";
import { noGrad } from "../autograd/tape.ts";
import type { Module } from "../nn/module.ts";
import { type ParamGroup, paramGroups } from "../nn/adapt.ts";
import { loadCheckpoint, saveCheckpoint } from "../nn/serialize.ts";
import { scale } from "../ops/core/elementwise.ts";
import { sum } from "../ops/core/reduce.ts";
import { Rng } from "../random.ts";
import { formatProfile, Profiler, type ProfileReport } from "../gpu/profiler.ts";
import { keep, readAll, runtime, type Tensor, tidy } from "../tensor.ts";
import {
  fileExists,
  loadSnapshot,
  readFile,
  restore,
  saveSnapshot,
  snapshot,
  writeFile,
} from "./checkpoint.ts";
import { clipGradients, lrFactor, makeOptimizer } from "./optimize.ts";

/**
 * A module that asks for parameter groups: the loop builds its optimizer over
 * `parameters()` and applies these (first match by dotted name wins; see `nn.paramGroups`),
 * e.g. per-layer learning-rate multipliers for fine-tuning a pretrained encoder.
 */
export interface ParamGroupsSource {
  /** The groups (empty: one group, the base learning rate everywhere). */
  paramGroups?(): readonly ParamGroup[];
}

/** A batch loss and its named parts (for logging; the parts are already in `loss`). */
export type LossOutput = {
  /** The scalar to minimise. */
  loss: Tensor<"f32">;
  /** Named scalar components (unweighted), e.g. `bpr`, `cl`. */
  parts: Record<string, Tensor<"f32">>;
};

/** What a task gives the loop: batches, a loss per batch and metrics per split. */
export interface Task<B> {
  /** Display name (the model's). */
  readonly name: string;
  /** The module whose parameters train, checkpoint and come back at their best. */
  readonly module: Module;
  /** Whether there is anything to train (false e.g. for popularity). */
  readonly trainable: boolean;
  /** The selection metric by default and whether larger is better. */
  readonly metric: { name: string; mode: "max" | "min" };
  /** Batches per epoch. */
  steps(batchSize: number): number;
  /** The host batches of one epoch, drawn from `rng`. */
  batches(batchSize: number, rng: Rng, epoch: number): Iterable<B>;
  /** Samples in a batch (for throughput). */
  size(batch: B): number;
  /** The loss of one batch (records the graph; called inside a scope). */
  loss(batch: B): LossOutput;
  /** Metrics of the current weights on a split. */
  evaluate(split: "valid" | "test"): Promise<Record<string, number>>;
  /** Optional: runs after each batch's backward, before clipping and the step. */
  afterBackward?(): void;
}

/** Learning-rate schedules; the factor multiplies the base `lr`. */
export type LrSchedule =
  /** Constant. */
  | { kind: "constant" }
  /** `base^(epoch / every)`: MMRec's LambdaLR stepped once per epoch (default [0.96, 50]). */
  | { kind: "exponential"; base: number; every: number }
  /** `gamma^⌊epoch / every⌋` (PyTorch StepLR). */
  | { kind: "step"; gamma: number; every: number }
  /** Cosine from 1 to `min` over the epoch limit (PyTorch CosineAnnealingLR, per epoch). */
  | { kind: "cosine"; min?: number }
  /**
   * Multiply by `factor` after `patience` evaluations without improvement of the selection
   * metric (PyTorch ReduceLROnPlateau), down to `min`.
   */
  | { kind: "plateau"; factor: number; patience: number; min?: number };

/** Options of {@link trainLoop}. */
export interface LoopOptions {
  /** Epoch limit. Default 100. */
  epochs?: number;
  /** Samples per batch. Default 1024. */
  batchSize?: number;
  /** Base learning rate. Default 1e-3. */
  lr?: number;
  /** Optimizer. Default `"adam"`. */
  optimizer?: "adam" | "adamw" | "sgd";
  /** Weight decay of the optimizer (L2 for adam/sgd, decoupled for adamw). Default 0. */
  weightDecay?: number;
  /** Learning-rate schedule. Default constant. */
  schedule?: LrSchedule;
  /** Clip gradients to this global L2 norm (0: off). Default 0. */
  clipNorm?: number;
  /** Evaluate every this many epochs. Default 1. */
  evalEvery?: number;
  /** Stop after this many evaluations without improvement. Default 10. */
  patience?: number;
  /** Selection metric (a key of the task's metrics). Default the task's. */
  validMetric?: string;
  /** Whether larger values of `validMetric` are better. Default the task's. */
  mode?: "max" | "min";
  /** Seed of each epoch's batches. Default 999. */
  seed?: number;
  /** Read losses back every this many steps. Default 16. */
  logEvery?: number;
  /** Stop (after the current epoch) once this many seconds have passed. */
  maxSeconds?: number;
  /** Progress callback (e.g. `terminalProgress()`). */
  progress?: (p: ProgressInfo) => void;
  /** Called after each epoch with its log. */
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /** Save a checkpoint to this path (Deno only) every `checkpointEvery` epochs and at the end. */
  checkpoint?: string;
  /** Epochs between checkpoints. Default 1. */
  checkpointEvery?: number;
  /** Resume from this checkpoint (made by `checkpoint`) when the file exists. */
  resume?: string;
  /** Evaluate the test split with the best-valid weights. Default true. */
  test?: boolean;
  /**
   * Profile a window of training steps (src/gpu/profiler.ts): `true` = steps 3–10 of the run
   * (after two warm-up steps). The report goes to `FitResult.profile` and to `onProfile`
   * (default: the table on stderr). Off by default; while on, each dispatch runs in its own
   * timestamped pass, so the profiled steps are slower than the others.
   */
  profile?: boolean | { skip?: number; steps?: number };
  /** Receives the profile report (default: prints {@link formatProfile} with console.error). */
  onProfile?: (r: ProfileReport) => void;
}

/** What the progress callback sees. */
export interface ProgressInfo {
  /** Model name. */
  model: string;
  /** 0-based epoch. */
  epoch: number;
  /** Epoch limit. */
  epochs: number;
  /** Steps done in this epoch. */
  step: number;
  /** Steps per epoch. */
  steps: number;
  /** Mean loss of the steps read so far in this epoch (NaN before the first read). */
  loss: number;
  /** Training samples per second over the run so far. */
  samplesPerSec: number;
  /** Estimated seconds left if every epoch runs (early stopping may end sooner). */
  etaSec: number;
  /** Learning rate of this epoch. */
  lr: number;
  /** Last validation value of the selection metric, when evaluated. */
  valid?: number;
  /** Whether the epoch finished (the line is final). */
  done: boolean;
}

/** One epoch's record. */
export interface EpochLog {
  /** 0-based epoch. */
  epoch: number;
  /** Mean batch loss. */
  loss: number;
  /** Mean of each named loss part. */
  parts: Record<string, number>;
  /** Learning rate used. */
  lr: number;
  /** Seconds of training in this epoch. */
  seconds: number;
  /** Valid metrics when evaluated. */
  valid?: Record<string, number>;
}

/** What {@link trainLoop} returns. */
export interface FitResult {
  /** Per-epoch logs. */
  history: EpochLog[];
  /** 0-based epoch of the best valid metric (-1 when never evaluated). */
  bestEpoch: number;
  /** Valid metrics at the best epoch. */
  valid: Record<string, number>;
  /** Test metrics with the best-valid weights (empty when `test` is false). */
  test: Record<string, number>;
  /** Whether early stopping ended the run. */
  stoppedEarly: boolean;
  /** Wall-clock seconds (training and evaluation). */
  seconds: number;
  /** Training samples per second. */
  samplesPerSec: number;
  /** The profiled window, when `profile` was on. */
  profile?: ProfileReport;
}

interface RunState {
  epoch: number;
  bestValue: number;
  bestEpoch: number;
  bestValid: Record<string, number>;
  bad: number;
  history: EpochLog[];
  /** Reduce-on-plateau: current factor and evaluations without improvement. */
  lrFactor: number;
  plateauBad: number;
}

/** Checks the options a user can get wrong; names the option and what was expected. */
export function checkLoopOptions(o: LoopOptions, who = "fit"): void {
  const bad = (k: string, v: unknown, what: string) => {
    throw new Error(`wgrec ${who}: ${k} = ${v}; expected ${what}`);
  };
  const posInt = (k: keyof LoopOptions, min = 1) => {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min)) {
      bad(k, v, `an integer ≥ ${min}`);
    }
  };
  posInt("epochs", 0);
  posInt("batchSize");
  posInt("evalEvery");
  posInt("patience", 0);
  posInt("logEvery");
  posInt("checkpointEvery");
  if (o.lr !== undefined && !(Number.isFinite(o.lr) && o.lr > 0)) bad("lr", o.lr, "a finite > 0");
  for (const k of ["weightDecay", "clipNorm"] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) bad(k, v, "a finite ≥ 0");
  }
  if (o.mode !== undefined && o.mode !== "max" && o.mode !== "min") {
    bad("mode", o.mode, `"max" or "min"`);
  }
  const s = o.schedule;
  if (s && !["constant", "exponential", "step", "cosine", "plateau"].includes(s.kind)) {
    bad("schedule.kind", s.kind, "constant, exponential, step, cosine or plateau");
  }
}

/**
 * Trains a task: Adam (or AdamW/SGD) with the schedule, evaluation on the valid split, early
 * stopping, the best-valid weights loaded back into the module at the end, and the test
 * metrics there. Refuses to report metrics of non-finite weights; a lost device says so and
 * names the last checkpoint.
 */
export async function trainLoop<B>(task: Task<B>, opts: LoopOptions = {}): Promise<FitResult> {
  checkLoopOptions(opts);
  const epochs = opts.epochs ?? 100;
  const batchSize = opts.batchSize ?? 1024;
  const lr0 = opts.lr ?? 1e-3;
  const schedule = opts.schedule ?? { kind: "constant" };
  const evalEvery = opts.evalEvery ?? 1;
  const patience = opts.patience ?? 10;
  const metric = opts.validMetric ?? task.metric.name;
  const sign = (opts.mode ?? (opts.validMetric ? undefined : task.metric.mode) ?? "max") === "max"
    ? 1
    : -1;
  const seed = opts.seed ?? 999;
  const logEvery = Math.max(1, opts.logEvery ?? 16);
  const t0 = performance.now();
  const params = task.module.parameters();
  const opt = makeOptimizer(params, opts, lr0);
  const groups = (task.module as ParamGroupsSource).paramGroups?.() ?? [];
  if (groups.length) paramGroups(opt, task.module, groups);
  let best: Tensor<"f32">[] | null = null;
  const st: RunState = {
    epoch: 0,
    bestValue: -Infinity,
    bestEpoch: -1,
    bestValid: {},
    bad: 0,
    history: [],
    lrFactor: 1,
    plateauBad: 0,
  };
  if (opts.resume && await fileExists(opts.resume)) {
    const extra = loadCheckpoint(task.module, opt, await readFile(opts.resume));
    Object.assign(st, extra);
    const bestFile = opts.resume + ".best";
    if (await fileExists(bestFile)) best = loadSnapshot(await readFile(bestFile), task.module);
  }
  const steps = task.steps(batchSize);
  let samples = 0;
  let trainSeconds = 0;
  let stoppedEarly = false;
  const trainable = task.trainable && params.length > 0;
  const startEpoch = st.epoch;
  let epochMean = NaN;
  let savedAt: string | null = null;
  const win = opts.profile
    ? { skip: 2, steps: 8, ...(typeof opts.profile === "object" ? opts.profile : {}) }
    : null;
  let prof: Profiler | null = null;
  let profile: ProfileReport | undefined;
  let runStep = 0;
  let epochStart = t0;
  const endProfile = async () => {
    if (!prof) return;
    profile = await prof.stop();
    prof = null;
    (opts.onProfile ?? ((r) => console.error(formatProfile(r))))(profile);
  };

  try {
    for (; st.epoch < epochs && trainable; st.epoch++) {
      const epoch = st.epoch;
      const te = epochStart = performance.now();
      opt.lr = lr0 * lrFactor(schedule, epoch, epochs, st.lrFactor);
      const rng = new Rng((seed * 1000003 + epoch) >>> 0);
      let lossSum = 0;
      let lossCount = 0;
      epochMean = NaN;
      const partSums: Record<string, number> = {};
      let pending: { loss: Tensor<"f32">; parts: [string, Tensor<"f32">][] }[] = [];
      const drain = async () => {
        if (!pending.length) return;
        const flat: Tensor<"f32">[] = [];
        for (const p of pending) flat.push(p.loss, ...p.parts.map(([, t]) => t));
        const vals = await readAll(flat);
        for (const t of flat) t.dispose();
        let j = 0;
        for (const p of pending) {
          const l = vals[j++][0];
          if (!Number.isFinite(l)) {
            throw new Error(
              `wgrec fit: ${task.name} loss is ${l} at epoch ${epoch} (lr ${opt.lr}); ` +
                `lower the learning rate or set clipNorm`,
            );
          }
          lossSum += l;
          lossCount++;
          for (const [name] of p.parts) partSums[name] = (partSums[name] ?? 0) + vals[j++][0];
        }
        pending = [];
        epochMean = lossSum / lossCount;
      };
      let step = 0;
      for (const b of task.batches(batchSize, rng, epoch)) {
        if (win && !profile && !prof && runStep === win.skip) {
          prof = Profiler.start(runtime(), { adapter: runtime().gpu.adapter.description });
        }
        const p = prof as Profiler | null;
        const out = tidy(() => {
          if (p) p.phase = "forward";
          const { loss, parts } = task.loss(b);
          if (p) p.phase = "backward";
          backward(loss);
          task.afterBackward?.();
          if (p) p.phase = "optimizer";
          if (opts.clipNorm) clipGradients(params, opts.clipNorm);
          opt.step();
          opt.zeroGrad();
          return { loss, parts };
        });
        keep(out.loss);
        for (const t of Object.values(out.parts)) keep(t);
        pending.push({ loss: out.loss, parts: Object.entries(out.parts) });
        samples += task.size(b);
        step++;
        runStep++;
        if (p) {
          p.step();
          if (runStep === win!.skip + win!.steps) await endProfile();
        }
        if (step % logEvery === 0 || step === steps) {
          await drain();
          report(step, false);
        }
      }
      await drain();
      await endProfile(); // a window ends with its epoch: evaluation is not a training step
      const seconds = (performance.now() - te) / 1000;
      trainSeconds += seconds;
      const log: EpochLog = {
        epoch,
        loss: lossSum / Math.max(1, lossCount),
        parts: Object.fromEntries(
          Object.entries(partSums).map(([k, v]) => [k, v / Math.max(1, lossCount)]),
        ),
        lr: opt.lr,
        seconds,
      };
      if ((epoch + 1) % evalEvery === 0 || epoch === epochs - 1) {
        log.valid = await task.evaluate("valid");
        const v = log.valid[metric];
        if (v === undefined) {
          throw new Error(
            `wgrec fit: no metric '${metric}' in ${task.name}'s evaluation ` +
              `(it reports ${Object.keys(log.valid).join(", ")})`,
          );
        }
        if (sign * v > st.bestValue) {
          st.bestValue = sign * v;
          st.bestEpoch = epoch;
          st.bestValid = log.valid;
          st.bad = 0;
          st.plateauBad = 0;
          best = snapshot(params, best);
        } else {
          if (++st.bad > patience) stoppedEarly = true;
          if (schedule.kind === "plateau" && ++st.plateauBad > schedule.patience) {
            st.lrFactor = Math.max(st.lrFactor * schedule.factor, (schedule.min ?? 0) / lr0);
            st.plateauBad = 0;
          }
        }
      }
      st.history.push(log);
      report(step, true, log.valid?.[metric]);
      await opts.onEpoch?.(log);
      const overTime = opts.maxSeconds !== undefined &&
        (performance.now() - t0) / 1000 >= opts.maxSeconds;
      const last = stoppedEarly || overTime || epoch === epochs - 1;
      if (opts.checkpoint && (last || (epoch + 1) % (opts.checkpointEvery ?? 1) === 0)) {
        st.epoch = epoch + 1;
        await writeFile(opts.checkpoint, await saveCheckpoint(task.module, opt, { ...st }));
        if (best) await writeFile(opts.checkpoint + ".best", await saveSnapshot(task.module, best));
        st.epoch = epoch;
        savedAt = `${opts.checkpoint} (after epoch ${epoch})`;
      }
      if (stoppedEarly || overTime) {
        st.epoch++;
        break;
      }
    }
    // Back to the best-valid weights, then the test metrics there (MMRec's
    // best_test_upon_valid).
    await endProfile();
    if (best) restore(params, best);
    await checkFinite(task, params);
    let valid = st.bestValid;
    if (!trainable) valid = await task.evaluate("valid");
    const test = opts.test === false ? {} : await task.evaluate("test");
    return {
      history: st.history,
      bestEpoch: st.bestEpoch,
      valid,
      test,
      stoppedEarly,
      seconds: (performance.now() - t0) / 1000,
      samplesPerSec: trainSeconds > 0 ? samples / trainSeconds : 0,
      profile,
    };
  } catch (e) {
    throw deviceLossError(e, task.name, st.epoch, opts.checkpoint ? savedAt : null);
  } finally {
    if (prof && runtime().profiler === prof) runtime().profiler = null;
    for (const t of best ?? []) if (!t.disposed) t.dispose();
    if (!lost()) opt.dispose();
  }

  function report(step: number, done: boolean, v?: number) {
    if (!opts.progress) return;
    const elapsed = (performance.now() - t0) / 1000;
    // Throughput over training time only: evaluation (a pretraining model's probe can take
    // longer than its epoch) is not training. `epochStart` is the running epoch's start.
    const training = trainSeconds + (done ? 0 : (performance.now() - epochStart) / 1000);
    const doneSteps = (st.epoch - startEpoch) * steps + step;
    const left = (epochs - st.epoch) * steps - step;
    opts.progress({
      model: task.name,
      epoch: st.epoch,
      epochs,
      step,
      steps,
      loss: epochMean,
      samplesPerSec: training > 0 ? samples / training : 0,
      etaSec: doneSteps > 0 ? (elapsed / doneSteps) * left : NaN,
      lr: opt.lr,
      valid: v,
      done,
    });
  }
}

/** Throws when a parameter holds NaN or ±Inf (one readback: Σ 0·p is NaN exactly then). */
async function checkFinite<B>(task: Task<B>, params: Tensor<"f32">[]): Promise<void> {
  if (!params.length) return;
  const probes = noGrad(() => tidy(() => params.map((p) => keep(sum(scale(p, 0))))));
  const vals = await readAll(probes);
  for (const t of probes) t.dispose();
  const named = task.module.namedParameters();
  vals.forEach((v, i) => {
    if (!Number.isFinite(v[0])) {
      const name = named.find(([, p]) => p === params[i])?.[0] ?? `#${i}`;
      throw new Error(
        `wgrec fit: ${task.name}'s weights are not finite after training (parameter '${name}' ` +
          `holds NaN or Inf); no metrics are reported. Lower the learning rate or set clipNorm`,
      );
    }
  });
}

function lost(): boolean {
  try {
    return runtime().lostReason !== null;
  } catch {
    return false;
  }
}

/** A device loss becomes an error that says so and where the last checkpoint is. */
function deviceLossError(e: unknown, model: string, epoch: number, ckpt: string | null): unknown {
  if (!lost()) return e;
  const where = ckpt
    ? `the last checkpoint is ${ckpt}; resume with resume: (or --resume) that file`
    : "no checkpoint was written (set checkpoint: to make runs resumable)";
  const err = new Error(
    `wgrec fit: the GPU device was lost while training ${model} at epoch ${epoch} ` +
      `(${runtime().lostReason}); ${where}. Call init() again before training`,
  );
  (err as Error & { cause?: unknown }).cause = e;
  return err;
}
