/**
 * Training loop for the recommenders of src/models (AlignRec, LightGCN, VBPR…), following the
 * MMRec trainer that AlignRec's official code uses (../shared/specs/alignrec.md §1.4):
 *
 * - one epoch = the training interactions shuffled into (user, positive, negative) batches,
 *   one uniform negative per pair that avoids the user's training items;
 * - Adam (weight decay 0), learning rate `lr · 0.96^(epoch / 50)` (PyTorch's LambdaLR stepped
 *   once per epoch);
 * - full-ranking evaluation on the valid split every `evalEvery` epochs, early stopping on valid
 *   Recall@20 after `patience` evaluations without improvement, and the test metrics of the
 *   best-valid epoch.
 *
 * Losses are read back every `logEvery` steps in one batch (never per op), which is what the
 * progress bar shows. Checkpoints (safetensors: model, optimizer state, best weights) make a
 * run resumable exactly: each epoch's shuffling and negatives come from a generator seeded by
 * (seed, epoch).
 * @module
 */

import { backward } from "../autograd/backward.ts";
import { noGrad } from "../autograd/tape.ts";
import { decodeSafetensors, encodeSafetensors } from "../io/safetensors.ts";
import { Module } from "../nn/module.ts";
import { Adam } from "../nn/optim.ts";
import { loadCheckpoint, saveCheckpoint } from "../nn/serialize.ts";
import { indexTensor } from "../ops/index_check.ts";
import { Rng } from "../random.ts";
import { keep, readAll, runtime, type Tensor, tensor, tidy } from "../tensor.ts";
import type { Csr, Split } from "../data/types.ts";
import { userItemCsr } from "../data/types.ts";
import { type TripletBatch, tripletBatches } from "../data/sampling.ts";
import { DEFAULT_KS, evaluateModel } from "./eval.ts";

// The data types in this API (src/data is not re-exported by mod.ts as a whole).
export type { Csr, Interactions, Split } from "../data/types.ts";
export type { TripletBatch } from "../data/sampling.ts";

/** A training batch on the GPU: ids checked on upload (src/ops/index_check.ts). */
export interface TripletTensors {
  /** User id of each triple, [B]. */
  users: Tensor<"i32">;
  /** Positive item id, [B]. */
  pos: Tensor<"i32">;
  /** Negative item id, [B]. */
  neg: Tensor<"i32">;
  /** Positive item's row in a joint users-then-items table (`numUsers + pos`), [B]. */
  posNode: Tensor<"i32">;
  /** Negative item's row in a joint users-then-items table, [B]. */
  negNode: Tensor<"i32">;
  /** B. */
  size: number;
  /** The host arrays. */
  host: TripletBatch;
}

/** Uploads a batch of triples (one negative per pair). */
export function tripletTensors(
  b: TripletBatch,
  numUsers: number,
  numItems: number,
): TripletTensors {
  const n = b.users.length;
  if (b.pos.length !== n || b.neg.length !== n) {
    throw new Error(
      `wgrec tripletTensors: ${n} users, ${b.pos.length} positives and ${b.neg.length} ` +
        `negatives; expected one negative per pair`,
    );
  }
  const shift = (a: Int32Array) => a.map((i) => i + numUsers);
  return {
    users: indexTensor(b.users, numUsers),
    pos: indexTensor(b.pos, numItems),
    neg: indexTensor(b.neg, numItems),
    posNode: indexTensor(shift(b.pos), numUsers + numItems),
    negNode: indexTensor(shift(b.neg), numUsers + numItems),
    size: n,
    host: b,
  };
}

/** A batch loss and its named parts (for logging; the parts are already in `loss`). */
export type LossOutput = {
  /** The scalar to minimise. */
  loss: Tensor<"f32">;
  /** Named scalar components (unweighted), e.g. `bpr`, `cl`. */
  parts: Record<string, Tensor<"f32">>;
};

/**
 * A recommender trained on triples and scored by a dot product of final user and item
 * embeddings (full ranking: `users · itemsᵀ`).
 */
export abstract class Recommender extends Module {
  /** Display name. */
  abstract readonly name: string;
  /** Whether {@link fit} has anything to train (false for popularity). */
  get trainable(): boolean {
    return this.parameters().length > 0;
  }
  /** Loss of one batch (records the graph). */
  abstract loss(batch: TripletTensors): LossOutput;
  /** Final embeddings `[U, d]` and `[I, d]` for scoring; call under noGrad. */
  abstract embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> };
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
  /** Training triples per second over the run so far. */
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

/** Renders {@link ProgressInfo} as a one-line progress bar. */
export function formatProgress(p: ProgressInfo, width = 24): string {
  const frac = p.steps ? p.step / p.steps : 1;
  const filled = Math.round(frac * width);
  const bar = "█".repeat(filled) + "░".repeat(width - filled);
  const v = p.valid === undefined ? "" : `  valid ${p.valid.toFixed(4)}`;
  return `${p.model} epoch ${p.epoch + 1}/${p.epochs} ${bar} ${p.step}/${p.steps}` +
    `  loss ${Number.isFinite(p.loss) ? p.loss.toFixed(4) : "…"}` +
    `  ${Math.round(p.samplesPerSec)} samples/s  ETA ${fmtSeconds(p.etaSec)}${v}`;
}

/** `m:ss` or `h:mm:ss`. */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/**
 * A progress bar on stderr: redrawn in place on a terminal, one line per epoch otherwise.
 * Uses `Deno.stderr` when present and `console.log` elsewhere (browsers).
 */
export function terminalProgress(): (p: ProgressInfo) => void {
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  const tty = !!deno?.stderr?.isTerminal?.();
  const enc = new TextEncoder();
  return (p) => {
    const line = formatProgress(p);
    if (tty) deno.stderr.writeSync(enc.encode(`\r\x1b[2K${line}${p.done ? "\n" : ""}`));
    else if (p.done) {
      if (deno?.stderr) deno.stderr.writeSync(enc.encode(line + "\n"));
      else console.log(line);
    }
  };
}

/** Options of {@link fit}; defaults are the spec's (§1.4) except where noted. */
export interface FitOptions {
  /** Epoch limit. Default 1000. */
  epochs?: number;
  /** Triples per batch. Default 2048. */
  batchSize?: number;
  /** Adam learning rate. Default 1e-3. */
  lr?: number;
  /** LambdaLR factor `base^(epoch / every)`: [base, every]. Default [0.96, 50]. */
  lrSchedule?: readonly [number, number];
  /** Evaluate every this many epochs. Default 1. */
  evalEvery?: number;
  /** Stop after this many evaluations without improvement (MMRec `stopping_step`). Default 30. */
  patience?: number;
  /** Selection metric key of {@link evaluateModel}. Default `"recall@20"`. */
  validMetric?: string;
  /** Cutoffs. Default [5, 10, 20, 50]. */
  ks?: readonly number[];
  /** Seed of shuffling and negative sampling. Default 999. */
  seed?: number;
  /** Read losses back every this many steps. Default 16. */
  logEvery?: number;
  /** Stop (after the current epoch) once this many seconds have passed. Default none. */
  maxSeconds?: number;
  /** Progress callback (e.g. {@link terminalProgress}()). Default none. */
  progress?: (p: ProgressInfo) => void;
  /** Called after each epoch with its log. */
  onEpoch?: (log: EpochLog) => void;
  /** Save a checkpoint to this path (Deno only) every `checkpointEvery` epochs and at the end. */
  checkpoint?: string;
  /** Epochs between checkpoints. Default 1. */
  checkpointEvery?: number;
  /** Resume from this checkpoint (made by `checkpoint`) when the file exists. */
  resume?: string;
  /** Evaluate the test split at the best-valid epoch (default true). */
  test?: boolean;
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

/** What {@link fit} returns. */
export interface FitResult {
  /** Per-epoch logs. */
  history: EpochLog[];
  /** Epoch of the best valid metric (-1 when never evaluated). */
  bestEpoch: number;
  /** Valid metrics at the best epoch. */
  valid: Record<string, number>;
  /** Test metrics with the best-valid weights (empty when `test` is false). */
  test: Record<string, number>;
  /** Whether early stopping ended the run. */
  stoppedEarly: boolean;
  /** Wall-clock seconds (training and evaluation). */
  seconds: number;
  /** Training triples per second. */
  samplesPerSec: number;
}

/** A dataset split with the training history CSR (built once). */
export interface TrainData {
  /** The split. */
  split: Split;
  /** Training items of each user (negatives avoid them; evaluation masks them). */
  trainCsr: Csr;
}

/** Wraps a split for {@link fit} and the evaluators. */
export function trainData(split: Split): TrainData {
  return { split, trainCsr: userItemCsr(split.train) };
}

interface RunState {
  epoch: number;
  bestValue: number;
  bestEpoch: number;
  bestValid: Record<string, number>;
  bad: number;
  history: EpochLog[];
}

/**
 * Trains `model` with Adam on BPR triples, evaluating on the valid split and keeping the
 * best-valid weights, which are loaded back into the model at the end. Returns the logs and
 * the metrics at the best epoch.
 */
export async function fit(
  model: Recommender,
  data: TrainData,
  opts: FitOptions = {},
): Promise<FitResult> {
  const epochs = opts.epochs ?? 1000;
  const batchSize = opts.batchSize ?? 2048;
  const lr0 = opts.lr ?? 1e-3;
  const [base, every] = opts.lrSchedule ?? [0.96, 50];
  const evalEvery = opts.evalEvery ?? 1;
  const patience = opts.patience ?? 30;
  const metric = opts.validMetric ?? "recall@20";
  const ks = opts.ks ?? DEFAULT_KS;
  const seed = opts.seed ?? 999;
  const logEvery = Math.max(1, opts.logEvery ?? 16);
  const { train, valid, test } = data.split;
  const { numUsers, numItems } = train;
  const t0 = performance.now();
  const params = model.parameters();
  const opt = new Adam(params, { lr: lr0 });
  let best: Tensor<"f32">[] | null = null;
  const st: RunState = {
    epoch: 0,
    bestValue: -Infinity,
    bestEpoch: -1,
    bestValid: {},
    bad: 0,
    history: [],
  };
  if (opts.resume && await fileExists(opts.resume)) {
    const bytes = await readFile(opts.resume);
    const extra = loadCheckpoint(model, opt, bytes) as unknown as RunState;
    Object.assign(st, extra);
    const bestFile = opts.resume + ".best";
    if (await fileExists(bestFile)) best = loadSnapshot(await readFile(bestFile), model);
  }
  const steps = Math.ceil(train.users.length / batchSize);
  let samples = 0;
  let trainSeconds = 0;
  let stoppedEarly = false;
  const trainable = model.trainable && params.length > 0;
  const startEpoch = st.epoch;
  let epochMean = NaN;

  try {
    for (; st.epoch < epochs && trainable; st.epoch++) {
      const epoch = st.epoch;
      const te = performance.now();
      opt.lr = lr0 * Math.pow(base, epoch / every);
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
        let j = 0;
        for (const p of pending) {
          const l = vals[j++][0];
          if (!Number.isFinite(l)) {
            throw new Error(`wgrec fit: ${model.name} loss is ${l} at epoch ${epoch}`);
          }
          lossSum += l;
          lossCount++;
          for (const [name] of p.parts) partSums[name] = (partSums[name] ?? 0) + vals[j++][0];
        }
        for (const t of flat) t.dispose();
        pending = [];
        epochMean = lossSum / lossCount;
      };
      let step = 0;
      for (const b of tripletBatches(train, data.trainCsr, batchSize, rng)) {
        const out = tidy(() => {
          const bt = tripletTensors(b, numUsers, numItems);
          const { loss, parts } = model.loss(bt);
          backward(loss);
          opt.step();
          opt.zeroGrad();
          return { loss, parts };
        });
        keep(out.loss);
        for (const t of Object.values(out.parts)) keep(t);
        pending.push({ loss: out.loss, parts: Object.entries(out.parts) });
        samples += b.users.length;
        step++;
        if (step % logEvery === 0 || step === steps) {
          await drain();
          report(step, false);
        }
      }
      await drain();
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
        log.valid = await evaluateModel(model, valid, data.trainCsr, ks);
        const v = log.valid[metric];
        if (v === undefined) throw new Error(`wgrec fit: no metric '${metric}' in evaluation`);
        if (v > st.bestValue) {
          st.bestValue = v;
          st.bestEpoch = epoch;
          st.bestValid = log.valid;
          st.bad = 0;
          best = snapshot(params, best);
        } else if (++st.bad > patience) stoppedEarly = true;
      }
      st.history.push(log);
      report(step, true, log.valid?.[metric]);
      opts.onEpoch?.(log);
      const overTime = opts.maxSeconds !== undefined &&
        (performance.now() - t0) / 1000 >= opts.maxSeconds;
      const last = stoppedEarly || overTime || epoch === epochs - 1;
      if (opts.checkpoint && (last || (epoch + 1) % (opts.checkpointEvery ?? 1) === 0)) {
        st.epoch = epoch + 1;
        await writeFile(opts.checkpoint, await saveCheckpoint(model, opt, { ...st }));
        if (best) await writeFile(opts.checkpoint + ".best", await saveSnapshot(model, best));
        st.epoch = epoch;
      }
      if (stoppedEarly || overTime) {
        st.epoch++;
        break;
      }
    }
    // Back to the best-valid weights, then the test metrics at that epoch (MMRec's
    // best_test_upon_valid).
    if (best) restore(params, best);
    let valid_ = st.bestValid;
    if (!trainable) valid_ = await evaluateModel(model, valid, data.trainCsr, ks);
    const testM = opts.test === false ? {} : await evaluateModel(model, test, data.trainCsr, ks);
    const seconds = (performance.now() - t0) / 1000;
    return {
      history: st.history,
      bestEpoch: st.bestEpoch,
      valid: valid_,
      test: testM,
      stoppedEarly,
      seconds,
      samplesPerSec: trainSeconds > 0 ? samples / trainSeconds : 0,
    };
  } finally {
    for (const t of best ?? []) t.dispose();
    opt.dispose();
  }

  function report(step: number, done: boolean, v?: number) {
    if (!opts.progress) return;
    const elapsed = (performance.now() - t0) / 1000;
    const doneSteps = (st.epoch - startEpoch) * steps + step;
    const left = (epochs - st.epoch) * steps - step;
    opts.progress({
      model: model.name,
      epoch: st.epoch,
      epochs,
      step,
      steps,
      loss: epochMean,
      samplesPerSec: elapsed > 0 ? samples / elapsed : 0,
      etaSec: doneSteps > 0 ? (elapsed / doneSteps) * left : NaN,
      lr: opt.lr,
      valid: v,
      done,
    });
  }
}

function snapshot(params: Tensor<"f32">[], prev: Tensor<"f32">[] | null): Tensor<"f32">[] {
  const rt = runtime();
  const out = prev ??
    params.map((p) => keep(noGrad(() => tensor(new Float32Array(p.size), p.shape))));
  params.forEach((p, i) => rt.copy(p.buffer, 0, out[i].buffer, 0, p.size * 4));
  return out;
}

function restore(params: Tensor<"f32">[], saved: Tensor<"f32">[]): void {
  const rt = runtime();
  params.forEach((p, i) => rt.copy(saved[i].buffer, 0, p.buffer, 0, p.size * 4));
}

async function saveSnapshot(model: Module, best: Tensor<"f32">[]): Promise<Uint8Array> {
  const named = model.namedParameters();
  const data = await readAll(best);
  const rec: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  named.forEach(([n, p], i) => (rec[n] = { dtype: "F32", shape: [...p.shape], data: data[i] }));
  return encodeSafetensors(rec, { format: "wgrec-best-weights" });
}

function loadSnapshot(bytes: Uint8Array, model: Module): Tensor<"f32">[] {
  const f = decodeSafetensors(bytes, "best weights");
  return model.namedParameters().map(([n, p]) => {
    const t = f.tensors[n];
    if (!t || t.shape.join() !== p.shape.join()) {
      throw new Error(`wgrec fit: best-weights file lacks '${n}' ${JSON.stringify(p.shape)}`);
    }
    return keep(tensor(t.data as Float32Array, p.shape));
  });
}

// File helpers: Deno only (training itself runs anywhere; checkpoints need a file system).
// deno-lint-ignore no-explicit-any
const deno = () => (globalThis as any).Deno;
async function fileExists(path: string): Promise<boolean> {
  try {
    await deno().stat(path);
    return true;
  } catch {
    return false;
  }
}
function readFile(path: string): Promise<Uint8Array> {
  return deno().readFile(path);
}
function writeFile(path: string, bytes: Uint8Array): Promise<void> {
  return deno().writeFile(path, bytes);
}
