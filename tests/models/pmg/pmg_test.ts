// PMG's parts on the host (keywords, posters, metrics, selection) and end to end on tiny
// synthetic data: batches, a training step that lowers the loss, generation with and without
// the soft prefix, and the α curve's selection behaving at its ends.
import { tidy } from "../../../src/tensor.ts";
import { backward } from "../../../src/autograd/backward.ts";
import { Adam } from "../../../src/nn/optim.ts";
import { Rng } from "../../../src/random.ts";
import { embeddedData } from "../../../src/runner/data.ts";
import {
  catalogFromData,
  catalogFromItemFile,
  describeUser,
  type ItemCatalog,
  LAYOUT_DEFAULTS,
  Pmg,
  PMG_DEFAULTS,
  PmgData,
  poster,
  tfidfKeywords,
  TOKENS,
} from "../../../src/models/pmg/mod.ts";
import { FeatureNet, ssim } from "../../../src/models/pmg/metrics.ts";
import { selectBest, weightedScore } from "../../../src/models/pmg/select.ts";
import { alphaCurve, evalPairs } from "../../../src/models/pmg/experiment.ts";
import { assert, slowGpuTest } from "../../helpers.ts";

const cat: ItemCatalog = {
  titles: [["toy", "story"], ["heat"], ["babe"], ["casino"]],
  genres: [["animation", "comedy"], ["action", "thriller"], ["comedy"], ["drama", "crime"]],
  decades: ["1990s", "1990s", "1990s", "1990s"],
};

Deno.test("PMG keywords: templates, TF-IDF (template words never chosen), item file", () => {
  assert.match(describeUser(cat, [0]), /toy story \(1990s\), a animation and comedy movie\./);
  const docs = [["a", "b", "b", "c"], ["a", "c"], ["a", "d"]];
  // idf(a) = 0: in every document; b: tf 2/4 · ln 3 beats c: 1/4 · ln 1.5.
  assert.deepEqual(tfidfKeywords(docs, 2), [["b", "c"], ["c"], ["d"]]);
  const file = "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n" +
    "7\tToy Story\t1995\tAnimation Comedy\n9\tHeat\t1995\tAction\n";
  const c = catalogFromItemFile(file, { size: 2, raw: (i) => ["9", "7"][i] });
  assert.deepEqual(c.titles, [["heat"], ["toy", "story"]]);
  assert.deepEqual(c.genres, [["action"], ["animation", "comedy"]]);
  assert.deepEqual(c.decades, ["1990s", "1990s"]);
  assert.throws(
    () => catalogFromItemFile("item_id:token\ttitle:token\n", { size: 0, raw: String }, "x.item"),
    /x\.item line 1 has no 'movie_title' field/,
  );
});

Deno.test("PMG posters: deterministic, genres visible, in [0, 1]", () => {
  const a = poster(cat, 0), b = poster(cat, 0);
  assert.deepEqual(a, b);
  assert.ok(a.every((v) => v >= 0 && v <= 1));
  assert.notDeepEqual(poster(cat, 0), poster(cat, 2)); // animation+comedy vs comedy
  assert.equal(poster(cat, 1, 8).length, 8 * 8 * 3);
});

Deno.test("PMG metrics: SSIM 1 and LPIPS-style 0 on equal images, ordered on others", () => {
  const net = new FeatureNet();
  const a = poster(cat, 0), b = poster(cat, 2), c = poster(cat, 3);
  assert.ok(Math.abs(ssim(a, a, 16) - 1) < 1e-9);
  assert.equal(net.distance(a, a, 16), 0);
  assert.ok(ssim(a, b, 16) < 1 && net.distance(a, b, 16) > 0);
  // A slightly perturbed poster is closer than another item's, by both measures.
  const a2 = a.map((v, i) => Math.min(1, Math.max(0, v + 0.03 * Math.sin(i))));
  assert.ok(net.distance(a, a2, 16) < net.distance(a, c, 16));
  assert.ok(ssim(a, a2, 16) > ssim(a, c, 16));
  assert.throws(() => ssim(a, new Float32Array(3), 16), /ssim: images of 768 and 3 values/);
});

Deno.test("PMG selection: α = 1 picks the most personal, α = 0 the most accurate", () => {
  const cands = [{ dp: 0.9, dt: 0.2 }, { dp: 0.5, dt: 0.5 }, { dp: 0.1, dt: 0.95 }];
  assert.equal(selectBest(cands, 1), 0);
  assert.equal(selectBest(cands, 0), 2);
  assert.equal(selectBest(cands, 0.5), 1);
  assert.ok(
    Math.abs(weightedScore(0.5, 0.25, 2 / 3) - Math.log(0.5) * 2 / 3 - Math.log(0.25) / 3) < 1e-12,
  );
  assert.throws(() => weightedScore(0.5, 0.5, 1.5), /α = 1.5, expected 0 ≤ α ≤ 1/);
});

slowGpuTest(
  "PMG end to end on tiny data: batches, training lowers the loss, generation, α curve",
  async () => {
    const data = embeddedData({
      seed: 0,
      numUsers: 24,
      numItems: 20,
      numInteractions: 240,
      numTopics: 3,
    });
    const layout = { ...LAYOUT_DEFAULTS, keywords: 3, history: 3, posterSize: 8 };
    const pd = new PmgData(data.split, catalogFromData(data), layout, 4);
    const b = pd.batch(pd.train.slice(0, 2), [0, 2]);
    const Lt = pd.textLength, S = 3 * 2;
    assert.equal(b.text.length, 2 * Lt);
    assert.ok(b.text.subarray(0, S).every((t) => t === TOKENS.pad), "w = 0: no keywords");
    assert.equal(b.text[S], TOKENS.bos);
    assert.equal(b.text[Lt + S + 1 + layout.titleWords], TOKENS.sep);
    const model = new Pmg(pd, {
      ...PMG_DEFAULTS,
      dim: 16,
      condDim: 16,
      channels: 8,
      layers: 1,
      dropPrefix: 0,
    });
    const opt = new Adam(model.parameters(), { lr: 1e-2 });
    const rows = Int32Array.from({ length: Math.min(32, pd.train.length) }, (_, i) => i);
    const losses: number[] = [];
    for (let step = 0; step < 12; step++) {
      const l = tidy(() => {
        const o = model.loss(rows, new Rng(step));
        backward(o.loss);
        opt.step();
        opt.zeroGrad();
        return o.loss;
      });
      losses.push((await l.read())[0]);
      l.dispose();
    }
    assert.ok(losses[11] < losses[0] * 0.8, `loss ${losses[0]} → ${losses[11]}`);
    const pairs = evalPairs(pd.test, 4);
    const g = await model.generate(pairs, { styleWeight: 1, personalised: true, seed: 3 });
    assert.equal(g.images.length, pairs.length * 8 * 8 * 3);
    assert.ok(g.images.every((v) => v > 0 && v < 1));
    const r = await alphaCurve(model, pairs);
    assert.equal(r.curve.length, 5);
    // α = 1 selects at least as personal, α = 0 at least as accurate as any other α.
    for (const c of r.curve) {
      assert.ok(r.curve[4].summary.imagePers >= c.summary.imagePers - 1e-9);
      assert.ok(r.curve[0].summary.imageAcc >= c.summary.imageAcc - 1e-9);
    }
    const p = await model.probe("valid");
    assert.ok(Number.isFinite(p.gen_loss) && p.gen_loss > 0);
    model.dispose();
  },
);
