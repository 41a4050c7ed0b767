// OLEO end to end on the MIND-format synthetic sample (the MIND path; MIND itself is not
// here): stage 1 (MLM) → encode once → every user encoder trains over the frozen vectors on
// the shared loop and the impression task; the e2e and layer-caching paradigms train too;
// the runner entries build. Tiny widths, one head width (8) so attention pipelines are shared.
import { trainLoop } from "../../../src/train/loop.ts";
import { impressionTask } from "../../../src/train/impression.ts";
import { buildNewsModel, pretrainEncoder } from "../../../src/models/oleo/stage.ts";
import { mindData, syntheticMind } from "../../../src/models/oleo/data.ts";
import { getModel } from "../../../src/runner/registry.ts";
import "../../../src/models/oleo/register.ts";
import { assert, gpuTest } from "../../helpers.ts";

const data = mindData(syntheticMind({ news: 40, users: 12, topics: 4, impressions: 2, seed: 3 }));
const stage1 = { hidden: 16, heads: 2, layers: 2, epochs: 2, maxLength: 8, batchSize: 16 };
const model = { dim: 16, heads: 2, attentionHidden: 16, bstHeads: 2, bstLayers: 1, maxHistory: 6 };

async function fit(m: Awaited<ReturnType<typeof buildNewsModel>>["model"]) {
  const r = await trainLoop(impressionTask(m, data, 4), {
    epochs: 2,
    batchSize: 8,
    lr: 5e-3,
    test: true,
    patience: 100,
  });
  assert.ok(r.history.every((e) => Number.isFinite(e.loss)), `${m.name}: loss`);
  for (const k of ["auc", "mrr", "ndcg@5", "ndcg@10"]) {
    assert.ok(Number.isFinite(r.test[k]), `${m.name}: test ${k}`);
  }
  m.dispose();
  return r;
}

gpuTest(
  "oleo: stage 1 MLM, encode once, each user encoder trains over frozen vectors",
  async () => {
    const s1 = await pretrainEncoder(data.itemText, stage1);
    assert.ok(s1.accuracy >= 0 && s1.accuracy <= 1);
    const v = await s1.mlm.export();
    assert.equal(v.length, data.numItems * 16);
    assert.ok(v.every(Number.isFinite));
    s1.mlm.dispose();
    for (const userEncoder of ["naml", "nrms", "lstur", "bst"] as const) {
      const { model: m } = await buildNewsModel(data, {
        userEncoder,
        paradigm: "oleo",
        vectors: { data: v, dim: 16 },
        model,
      });
      // Frozen: only the stage-2 parameters train (no encoder inside).
      assert.equal(m.encoder, null);
      await fit(m);
    }
  },
);

gpuTest("e2e and layer caching train the encoder with the recommender", async () => {
  const e2e = await buildNewsModel(data, { userEncoder: "lstur", paradigm: "e2e", stage1, model });
  assert.ok(e2e.model.encoder && e2e.stage1Seconds === 0);
  const before = await e2e.model.getParameter("encoder.layers.0.linear1.weight").read();
  await trainLoop(impressionTask(e2e.model, data, 4), { epochs: 1, batchSize: 8, lr: 5e-3 });
  const after = await e2e.model.getParameter("encoder.layers.0.linear1.weight").read();
  assert.ok(after.some((x, i) => x !== before[i]), "e2e: the encoder did not train");
  e2e.model.dispose();
  const cache = await buildNewsModel(data, {
    userEncoder: "naml",
    paradigm: "cache",
    stage1,
    model: { ...model, tuneFrom: 1 },
  });
  assert.ok(cache.stage1Seconds > 0);
  const low0 = await cache.model.getParameter("encoder.layers.0.linear1.weight").read();
  const top0 = await cache.model.getParameter("encoder.layers.1.linear1.weight").read();
  await trainLoop(impressionTask(cache.model, data, 4), { epochs: 1, batchSize: 8, lr: 5e-3 });
  const low1 = await cache.model.getParameter("encoder.layers.0.linear1.weight").read();
  const top1 = await cache.model.getParameter("encoder.layers.1.linear1.weight").read();
  assert.deepEqual(low1, low0, "cache: a frozen lower layer changed");
  assert.ok(top1.some((x, i) => x !== top0[i]), "cache: the tuned top layer did not train");
  cache.model.dispose();
});

gpuTest("runner entries: nrms, naml, lstur, bst (impression) and textmlm (pretrain)", async () => {
  for (const n of ["nrms", "naml", "lstur", "bst"]) assert.equal(getModel(n).task, "impression");
  assert.equal(getModel("textmlm").task, "pretrain");
  const e = getModel("naml");
  const m = await e.build({
    data,
    config: {
      paradigm: "oleo",
      dim: 16,
      heads: 2,
      maxHistory: 6,
      dropout: 0.1,
      tuneFrom: 2,
      vectors: "",
      mlmEpochs: 1,
      maxLength: 8,
      seed: 1,
    },
    artifact: async (_n, make) => await make(),
    log: () => {},
  });
  assert.equal(m.name, "NAML (oleo)");
  m.dispose();
  // Text-less impressions with no vectors: a clear error.
  await assert.rejects(
    async () =>
      await e.build({
        data: { ...data, itemText: undefined, history: undefined } as never,
        config: { paradigm: "e2e", mlmEpochs: 1, maxLength: 8, seed: 1, vectors: "" },
        artifact: async (_n, make) => await make(),
        log: () => {},
      }),
    /naml: .* has no item text; paradigm 'e2e' needs news data/,
  );
});
