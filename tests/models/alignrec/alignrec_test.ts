// AlignRec stage 2: one training step against an independent PyTorch re-implementation of the
// spec's equations (tests/models/alignrec/fixtures/make_alignrec.py → alignrec_step.json): the kNN graph, the
// fused embeddings, the loss and each of its parts, every parameter's gradient, and the
// parameters after one Adam step. Then, on the embedded synthetic data, AlignRec must beat
// LightGCN and popularity on test Recall@20.
import {
  Adam,
  AlignRec,
  backward,
  concatFeatures,
  fit,
  LightGCN,
  Popularity,
  readAll,
  tensor,
  tidy,
  trainData,
  tripletTensors,
} from "../../../internal.ts";
import { EMBEDDED_SMALL, embeddedData } from "../../../examples/alignrec_data.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const g = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/alignrec_step.json", import.meta.url)),
);
const S = g.sizes;

function goldenModel(): AlignRec {
  const train = {
    users: Int32Array.from(g.train.users),
    items: Int32Array.from(g.train.items),
    numUsers: S.users,
    numItems: S.items,
  };
  const model = new AlignRec(train, Float32Array.from(g.vFeat), {
    embeddingSize: S.dim,
    nUiLayers: S.nUiLayers,
    nMmLayers: S.nMmLayers,
    knnK: S.knnK,
    regWeight: g.weights.reg,
    clWeight: g.weights.cl,
    simWeight: g.weights.sim,
    uiCosineWeight: g.weights.cos,
    tau: g.tau,
    regBatchSize: S.batchSize,
  });
  tidy(() => {
    for (const [name, p] of Object.entries<{ shape: number[]; data: number[] }>(g.params)) {
      model.setParameter(name, tensorOf(p.data, p.shape));
    }
  });
  return model;
}

const tensorOf = (data: number[], shape: number[]) => tensor(Float32Array.from(data), shape);

gpuTest("AlignRec: parameter names match the official state_dict", () => {
  const model = goldenModel();
  const names = model.namedParameters().map(([n]) => n).sort();
  assert.deepEqual(names, Object.keys(g.params).sort());
  model.dispose();
});

gpuTest("AlignRec: kNN graph and fused embeddings match PyTorch", async () => {
  const model = goldenModel();
  const h = await model.knn.toHost();
  const dense = new Float32Array(S.items * S.items);
  for (let r = 0; r < S.items; r++) {
    for (let j = h.rowPtr[r]; j < h.rowPtr[r + 1]; j++) {
      dense[r * S.items + h.colIdx[j]] = h.values[j];
    }
  }
  assertClose(dense, g.knnGraph, { atol: 1e-6, rtol: 1e-5, msg: "kNN graph" });
  const fused = await tidy(() => model.forward().fused).read();
  assertClose(fused, g.fused, { atol: 1e-6, rtol: 1e-4, msg: "fused embeddings" });
  model.dispose();
});

gpuTest(
  "AlignRec: one training step (loss, parts, gradients, Adam update) matches PyTorch",
  async () => {
    const model = goldenModel();
    const batch = {
      users: Int32Array.from(g.batch.users),
      pos: Int32Array.from(g.batch.pos),
      neg: Int32Array.from(g.batch.neg),
    };
    const opt = new Adam(model.parameters(), { lr: g.lr });
    const { loss, parts } = tidy(() => {
      const out = model.loss(tripletTensors(batch, S.users, S.items));
      backward(out.loss);
      return out;
    });
    const names = Object.keys(g.parts);
    const vals = await readAll([loss, ...names.map((n) => parts[n])]);
    assertClose([vals[0][0]], [g.loss], { rtol: 1e-5, msg: "loss" });
    names.forEach((n, i) => assertClose([vals[i + 1][0]], [g.parts[n]], { rtol: 1e-5, msg: n }));
    const named = model.namedParameters();
    const grads = await readAll(named.map(([, p]) => p.grad!));
    named.forEach(([n], i) => {
      assertClose(grads[i], g.grads[n], { atol: 1e-6, rtol: 1e-4, msg: `grad ${n}` });
    });
    opt.step();
    const after = await readAll(named.map(([, p]) => p));
    named.forEach(([n], i) => {
      // Adam's first step moves each element by ≈ lr·sign(g): compare to lr·1e-3.
      assertClose(after[i], g.afterAdam[n], { atol: g.lr * 1e-3, rtol: 0, msg: `Adam ${n}` });
    });
    loss.dispose();
    for (const t of Object.values(parts)) t.dispose();
    opt.dispose();
    model.dispose();
  },
);

gpuTest(
  "AlignRec beats LightGCN and popularity on the embedded data (test Recall@20)",
  async () => {
    const d = embeddedData(EMBEDDED_SMALL);
    const data = trainData(d.split);
    // Stage-2 input: the raw modalities side by side (stage 1 is tested in models_test.ts).
    const feats = concatFeatures(d.image!, d.text!);
    const common = { batchSize: 512, lr: 0.005, ks: [20] };
    const ar = new AlignRec(d.split.train, feats.data);
    const rA = await fit(ar, data, { ...common, epochs: 4 });
    // LightGCN gets ten times the epochs (it is cheap) and keeps its best-valid epoch.
    const lg = new LightGCN(d.split.train);
    const rL = await fit(lg, data, { ...common, epochs: 40, evalEvery: 2 });
    const rP = await fit(new Popularity(d.split.train), data, { ks: [20] });
    const [a, l, p] = [rA, rL, rP].map((r) => r.test["recall@20"]);
    console.log(
      `test Recall@20: AlignRec ${a.toFixed(4)}, LightGCN ${l.toFixed(4)}, popularity ${
        p.toFixed(4)
      }`,
    );
    assert.ok(a > l, `AlignRec ${a} should beat LightGCN ${l}`);
    assert.ok(a > p, `AlignRec ${a} should beat popularity ${p}`);
    ar.dispose();
    lg.dispose();
  },
);
