// The generic loop and its tasks: option checks, non-finite weights refused, gradient
// clipping, schedules (reduce-on-plateau), early stopping on a metric to minimise, exact
// resume, and the CTR, impression and pretraining tasks with small models written here.
import assert from "node:assert/strict";
import { gpuTest } from "../helpers.ts";
import {
  add,
  fit,
  gather,
  LightGCN,
  mean,
  Module,
  mul,
  noGrad,
  readAll,
  reshape,
  rowDot,
  sqrt,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
  trainData,
} from "../../internal.ts";
import { generateSynthetic } from "../../src/data/synthetic.ts";
import { type Task, trainLoop } from "../../src/train/loop.ts";
import { ctrTask, type CtrTensors, evaluateCtr } from "../../src/train/ctr.ts";
import { impressionMetrics, impressionTask } from "../../src/train/impression.ts";
import { pretrainTask } from "../../src/train/pretrain.ts";
import { loadCtrData, loadImpressionData } from "../../src/runner/task_data.ts";
import { auc } from "../../src/metrics/ctr.ts";
import { Rng } from "../../src/random.ts";

const SMALL = "synthetic:users=200,items=100,interactions=4000,topics=4";

/** One parameter vector `w` and a loss the test chooses. */
class Vec extends Module {
  readonly w: Tensor<"f32">;
  constructor(init: number[]) {
    super();
    this.w = this.param("w", tensor(init, [init.length]));
  }
}

/** A one-batch task over `Vec` with a given loss and a metric from the weights. */
function vecTask(
  m: Vec,
  loss: (w: Tensor<"f32">) => Tensor<"f32">,
  metric: (w: Float32Array) => number,
  mode: "max" | "min" = "min",
): Task<number> {
  return {
    name: "vec",
    module: m,
    trainable: true,
    metric: { name: "m", mode },
    steps: () => 1,
    batches: () => [0],
    size: () => 1,
    loss: () => {
      const l = loss(m.w);
      return { loss: l, parts: {} };
    },
    evaluate: async () => ({ m: metric((await readAll([m.w]))[0]) }),
  };
}

gpuTest("fit: lr NaN, a fractional epoch count and a bad optimizer are refused", async () => {
  const ds = generateSynthetic({ numUsers: 20, numItems: 15, numInteractions: 150, seed: 1 });
  const m = new LightGCN(ds.split.train, { embeddingSize: 4 });
  const data = trainData(ds.split);
  await assert.rejects(
    () => fit(m, data, { lr: NaN }),
    /wgrec fit: lr = NaN; expected a finite > 0/,
  );
  await assert.rejects(() => fit(m, data, { epochs: 1.5 }), /epochs = 1.5; expected an integer/);
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => fit(m, data, { epochs: 1, optimizer: "adagrad" as any }),
    /optimizer 'adagrad'; expected adam, adamw or sgd/,
  );
  m.dispose();
});

gpuTest("fit refuses to report metrics of non-finite weights", async () => {
  const ds = generateSynthetic({ numUsers: 20, numItems: 15, numInteractions: 150, seed: 1 });
  const m = new LightGCN(ds.split.train, { embeddingSize: 4 });
  // NaN made on the GPU (tensor() refuses NaN input): sqrt(−1).
  m.setParameter(
    "embedding_dict.user_emb",
    noGrad(() => sqrt(tensor(new Float32Array(80).fill(-1), [20, 4]))),
  );
  await assert.rejects(
    () => fit(m, trainData(ds.split), { epochs: 0 }),
    /LightGCN's weights are not finite after training \(parameter 'embedding_dict.user_emb'/,
  );
  m.dispose();
});

gpuTest(
  "loop: clipNorm scales the gradient to the global norm (SGD step = −lr·c·g/‖g‖)",
  async () => {
    const m = new Vec([0, 0, 0]);
    const c = tensor([30, 40, 0], [3]);
    await trainLoop(vecTask(m, (w) => sum(mul(w, c)), () => 0), {
      epochs: 1,
      optimizer: "sgd",
      lr: 1,
      clipNorm: 5,
      test: false,
    });
    const [w] = await readAll([m.w]);
    assert.ok(Math.abs(w[0] + 3) < 1e-4 && Math.abs(w[1] + 4) < 1e-4 && w[2] === 0, `${w}`);
    m.dispose();
  },
);

gpuTest("loop: reduce-on-plateau lowers the lr; early stopping minimises a metric", async () => {
  // Loss (w − 1)² with a metric that stops improving after epoch 1: the lr halves after
  // `patience` flat evaluations and the run stops after the loop's patience.
  const m = new Vec([0]);
  let calls = 0;
  const r = await trainLoop(
    vecTask(m, (w) => sum(square(sub(w, tensor([1], [1])))), () => Math.max(5 - calls++, 3)),
    {
      epochs: 20,
      optimizer: "sgd",
      lr: 0.1,
      schedule: { kind: "plateau", factor: 0.5, patience: 1 },
      patience: 3,
      test: false,
    },
  );
  const lrs = r.history.map((h) => h.lr);
  assert.equal(lrs[0], 0.1);
  assert.ok(lrs.at(-1)! < 0.1, `lr never lowered: ${lrs}`);
  assert.equal(r.bestEpoch, 2, "the smallest metric (3) is first reached at epoch 2");
  assert.ok(r.stoppedEarly);
  assert.equal(r.history.length, 2 + 3 + 2);
  m.dispose();
});

/** Logistic regression over one table of Σ cardinalities ids: logit = b + Σ_f w[id_f]. */
class LogReg extends Module {
  readonly name = "LogReg";
  readonly w: Tensor<"f32">;
  readonly b: Tensor<"f32">;
  constructor(rows: number) {
    super();
    this.w = this.param("w", tensor(new Float32Array(rows), [rows, 1]));
    this.b = this.param("b", tensor([0], [1]));
  }
  logits(t: CtrTensors): Tensor<"f32"> {
    const f = t.sparseGlobal.shape[1];
    const e = reshape(gather(this.w, reshape(t.sparseGlobal, [t.size * f])), [t.size, f]);
    return add(sum(e, 1), this.b);
  }
}

gpuTest(
  "ctr task: BCE training raises valid AUC; AUC/GAUC/LogLoss match the host metrics",
  async () => {
    const d = await loadCtrData(SMALL);
    const m = new LogReg(d.train.cardinalities.reduce((a, b) => a + b, 0));
    const before = await evaluateCtr(m, d.valid);
    assert.equal(before.auc, 0.5); // all logits 0: ties
    assert.ok(Math.abs(before.logloss - Math.log(2)) < 1e-6);
    const r = await trainLoop(ctrTask(m, d), { epochs: 3, batchSize: 256, lr: 0.05 });
    assert.ok(r.valid.auc > 0.55, `valid AUC ${r.valid.auc}`);
    assert.ok(Number.isFinite(r.test.gauc) && Number.isFinite(r.test.logloss));
    // The task's AUC equals the metric on logits read back here.
    const rows = Int32Array.from({ length: d.test.numRows }, (_, i) => i);
    const { ctrTensors } = await import("../../src/train/ctr.ts");
    const [lg] = await readAll([m.logits(ctrTensors(d.test, rows))]);
    assert.ok(Math.abs(auc(d.test.labels, lg) - r.test.auc) < 1e-9);
    m.dispose();
  },
);

gpuTest("ctr data: Criteo, Avazu and MovieLens CSV samples load with 8:1:1 splits", async () => {
  const base = new URL("../../../shared/data/ctr-samples/", import.meta.url).pathname;
  try {
    await Deno.stat(base);
  } catch {
    console.log("skipped: ../shared/data/ctr-samples is absent");
    return;
  }
  for (const f of ["criteo_sample.txt", "avazu_sample.txt", "movielens_sample.txt"]) {
    const d = await loadCtrData(base + f);
    const n = d.train.numRows + d.valid.numRows + d.test.numRows;
    assert.ok(n >= 100, f);
    assert.equal(d.train.numRows, Math.floor(0.8 * n), f);
    for (const y of d.train.labels) assert.ok(y === 0 || y === 1, f);
  }
});

/** Matrix factorisation scoring (user, item) pairs. */
class Mf extends Module {
  readonly name = "MF";
  readonly u: Tensor<"f32">;
  readonly i: Tensor<"f32">;
  constructor(nu: number, ni: number, d: number) {
    super();
    const r = new Rng(3);
    const init = (n: number) => Float32Array.from({ length: n * d }, () => 0.1 * r.normal());
    this.u = this.param("u", tensor(init(nu), [nu, d]));
    this.i = this.param("i", tensor(init(ni), [ni, d]));
  }
  score(users: Tensor<"i32">, items: Tensor<"i32">): Tensor<"f32"> {
    return rowDot(gather(this.u, users), gather(this.i, items));
  }
}

gpuTest("impression task: 1 vs K softmax CE lifts impression AUC, MRR and nDCG", async () => {
  const d = await loadImpressionData(SMALL);
  // Histories: each impression's are the user's earlier clicks, in time order.
  const byUser = new Map<number, number[]>();
  for (const imp of [...d.train, ...d.valid, ...d.test]) {
    const seen = byUser.get(imp.user) ?? [];
    assert.deepEqual([...imp.history!], seen.slice(-50));
    seen.push(imp.items[imp.labels.indexOf(1)]);
    byUser.set(imp.user, seen);
  }
  const m = new Mf(d.numUsers, d.numItems, 8);
  const r = await trainLoop(impressionTask(m, d, 4), { epochs: 4, batchSize: 256, lr: 0.05 });
  for (const k of ["auc", "mrr", "ndcg@5", "ndcg@10"]) assert.ok(Number.isFinite(r.test[k]), k);
  assert.ok(r.valid.auc > 0.55, `valid AUC ${r.valid.auc}`);
  assert.ok(r.history[0].loss < Math.log(5) + 0.05, "CE starts near log(1+K)");
  m.dispose();
});

Deno.test("impressionMetrics: MIND definitions on a hand-worked impression", () => {
  // Scores rank items [2, 0, 3, 1]; clicked: 0 and 3 (ranks 2 and 3).
  const m = impressionMetrics([1, 0, 0, 1], [0.8, 0.1, 0.9, 0.5])!;
  assert.equal(m.auc, 2 / 4); // clicked 0.8 and 0.5 each beat 0.1 and lose to 0.9
  assert.ok(Math.abs(m.mrr - (1 / 2 + 1 / 3) / 2) < 1e-12);
  const dcg = 1 / Math.log2(3) + 1 / Math.log2(4);
  const idcg = 1 + 1 / Math.log2(3);
  assert.ok(Math.abs(m.ndcg5 - dcg / idcg) < 1e-12);
  assert.equal(impressionMetrics([1, 1], [0.1, 0.2]), null);
});

gpuTest("pretrain task: the model's loss, its probe as the valid metric (minimised)", async () => {
  const target = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i));
  class Rows extends Module {
    readonly name = "rows";
    readonly numSamples = 6;
    readonly probeMetric = { name: "mse", mode: "min" as const };
    readonly t = this.param("t", tensor(new Float32Array(12), [6, 2]));
    loss(rows: Int32Array, _rng: Rng) {
      const idx = tensor(rows, [rows.length], "i32");
      const want = tensor(
        Array.from(rows).flatMap((r) => [...target.subarray(2 * r, 2 * r + 2)]),
        [rows.length, 2],
      );
      const mse = mean(square(sub(gather(this.t, idx), want)));
      return { loss: mse, parts: { mse } };
    }
    async probe() {
      const [t] = await readAll([this.t]);
      return { mse: t.reduce((s, v, i) => s + (v - target[i]) ** 2, 0) / 12 };
    }
  }
  const m = new Rows();
  const r = await trainLoop(pretrainTask(m), { epochs: 30, batchSize: 3, lr: 0.05 });
  assert.ok(r.valid.mse < 0.05, `probe mse ${r.valid.mse}`);
  assert.equal(
    r.bestEpoch,
    r.history.reduce((b, h) => (h.valid!.mse < r.history[b].valid!.mse ? h.epoch : b), 0),
  );
  m.dispose();
});
