/**
 * The click-through-rate task on the generic loop: pointwise binary cross-entropy on the
 * logits of shuffled feature rows; evaluation by AUC, GAUC (grouped by a categorical field,
 * e.g. the user) and LogLoss, as FuxiCTR and DeepCTR report them; selection on valid AUC.
 * @module
 */

import { noGrad } from "../autograd/tape.ts";
import type { CtrData } from "../data/ctr.ts";
import { auc, gauc, logLoss } from "../metrics/ctr.ts";
import type { Module } from "../nn/module.ts";
import { add } from "../ops/core/elementwise.ts";
import { bceWithLogits } from "../ops/losses/ranking.ts";
import { indexTensor } from "../ops/index_check.ts";
import type { Rng } from "../random.ts";
import { keep, readAll, type Tensor, tensor, tidy } from "../tensor.ts";
import type { LossOutput, Task } from "./loop.ts";

/** Train / valid / test tables encoded by one `CtrEncoder`. */
export interface CtrSplits {
  /** Name for reports. */
  name: string;
  /** One line on what it is. */
  description: string;
  /** Training rows. */
  train: CtrData;
  /** Validation rows. */
  valid: CtrData;
  /** Test rows. */
  test: CtrData;
}

/** A batch of rows on the GPU. */
export interface CtrTensors {
  /** The table the rows come from (multi-value fields: `data.sequences`). */
  data: CtrData;
  /** Row indices into `data`. */
  rows: Int32Array;
  /** Dense features `[B, denseNames.length]` (null without dense fields). */
  dense: Tensor<"f32"> | null;
  /** Categorical ids per field `[B, F]` (0 = OOV), each below its field's cardinality. */
  sparse: Tensor<"i32">;
  /** The same ids offset into one table of Σ cardinalities rows, `[B, F]`. */
  sparseGlobal: Tensor<"i32">;
  /** Labels `[B]`. */
  labels: Tensor<"f32">;
  /** B. */
  size: number;
}

/** A CTR model: one logit per row. */
export interface CtrModel extends Module {
  /** Display name. */
  readonly name: string;
  /** Logits `[B]` of a batch (records the graph). */
  logits(batch: CtrTensors): Tensor<"f32">;
  /** A regulariser added to each batch's loss (e.g. L2 on embedding tables), or null. */
  penalty?(): Tensor<"f32"> | null;
}

/** Uploads rows of a table. */
export function ctrTensors(data: CtrData, rows: Int32Array): CtrTensors {
  const b = rows.length;
  const nd = data.denseNames.length;
  const nf = data.sparseNames.length;
  const dense = new Float32Array(b * nd);
  const sparse = new Int32Array(b * nf);
  const global = new Int32Array(b * nf);
  const labels = new Float32Array(b);
  const offsets = [0];
  for (const c of data.cardinalities) offsets.push(offsets.at(-1)! + c);
  for (let i = 0; i < b; i++) {
    const r = rows[i];
    labels[i] = data.labels[r];
    for (let j = 0; j < nd; j++) dense[i * nd + j] = data.dense[r * nd + j];
    for (let f = 0; f < nf; f++) {
      const id = data.sparse[r * nf + f];
      sparse[i * nf + f] = id;
      global[i * nf + f] = id + offsets[f];
    }
  }
  return {
    data,
    rows,
    dense: nd ? tensor(dense, [b, nd]) : null,
    sparse: indexTensor(sparse, Math.max(1, ...data.cardinalities), [b, nf]),
    sparseGlobal: indexTensor(global, Math.max(1, offsets.at(-1)!), [b, nf]),
    labels: tensor(labels, [b]),
    size: b,
  };
}

/**
 * AUC, GAUC (grouped by categorical field `groupField`, default the first) and LogLoss of a
 * model on a table, scored in chunks of `chunk` rows.
 */
export async function evaluateCtr(
  model: CtrModel,
  data: CtrData,
  groupField?: string,
  chunk = 4096,
): Promise<Record<string, number>> {
  const probs = new Float32Array(data.numRows);
  for (let lo = 0; lo < data.numRows; lo += chunk) {
    const rows = Int32Array.from({ length: Math.min(chunk, data.numRows - lo) }, (_, i) => lo + i);
    const out = noGrad(() => tidy(() => keep(model.logits(ctrTensors(data, rows)))));
    const [v] = await readAll([out]);
    out.dispose();
    for (let i = 0; i < rows.length; i++) {
      if (!Number.isFinite(v[i])) {
        throw new Error(`wgrec ctr: ${model.name} gave a non-finite logit for row ${lo + i}`);
      }
      probs[lo + i] = 1 / (1 + Math.exp(-v[i]));
    }
  }
  const f = groupField ? data.sparseNames.indexOf(groupField) : 0;
  if (f < 0) {
    throw new Error(
      `wgrec ctr: groupField '${groupField}' is not a categorical field ` +
        `(fields: ${data.sparseNames.join(", ")})`,
    );
  }
  const nf = data.sparseNames.length;
  const groups = Int32Array.from(
    { length: data.numRows },
    (_, r) => nf ? data.sparse[r * nf + f] : 0,
  );
  const pos = data.labels.reduce((s, y) => s + y, 0);
  const single = pos === 0 || pos === data.numRows;
  return {
    auc: single ? NaN : auc(data.labels, probs),
    gauc: gauc(data.labels, probs, groups).gauc,
    logloss: logLoss(data.labels, probs),
  };
}

/** The CTR task: shuffled rows, BCE on logits, AUC selection. */
export function ctrTask(
  model: CtrModel,
  data: CtrSplits,
  groupField?: string,
): Task<Int32Array> {
  const n = data.train.numRows;
  return {
    name: model.name,
    module: model,
    trainable: model.parameters().length > 0,
    metric: { name: "auc", mode: "max" },
    steps: (b) => Math.ceil(n / b),
    *batches(b: number, rng: Rng) {
      const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
      for (let lo = 0; lo < n; lo += b) yield perm.slice(lo, lo + b);
    },
    size: (rows) => rows.length,
    loss(rows): LossOutput {
      const t = ctrTensors(data.train, rows);
      const bce = bceWithLogits(model.logits(t), t.labels);
      const reg = model.penalty?.() ?? null;
      if (reg) return { loss: add(bce, reg), parts: { bce, reg } };
      return { loss: bce, parts: { bce } };
    },
    evaluate: (split) => evaluateCtr(model, split === "valid" ? data.valid : data.test, groupField),
  };
}
