// OLEO stage 2 with CTR-predictor scoring (src/models/oleo/scorer.ts) against PyTorch
// (tests/models/oleo/fixtures/make_scorer.py): one LSTUR step with the DCN, DeepFM and DIN
// scorers — scores through the loss, every gradient, the parameters after one Adam step — on
// the runner's impression task; then each scorer trains 2 epochs in the runner's tiny run.
import { NewsRecommender, readAll, tensor, tidy } from "../../../internal.ts";
import { runCli } from "../../../src/runner/cli.ts";
import { getModel } from "../../../src/runner/registry.ts";
import "../../../src/models/oleo/register.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";
import { csr, stepAndAdam } from "./step_check.ts";

const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/scorer_step.json", import.meta.url)),
);

for (const scorer of ["dcn", "deepfm", "din"] as const) {
  gpuTest(`LSTUR (oleo) with the ${scorer} scorer: one step matches PyTorch`, async () => {
    const c = fx[scorer];
    const model = new NewsRecommender(
      {
        numUsers: fx.U,
        numItems: fx.N,
        history: csr(fx.hist),
        vectors: { data: Float32Array.from(fx.V), dim: fx.DV },
      },
      {
        userEncoder: "lstur",
        scorer,
        scorerHidden: fx.hidden,
        scorerAttention: fx.att,
        scorerDropout: 0,
        dim: fx.D,
        maxHistory: fx.LH,
        dropout: 0,
      },
    );
    const names = model.namedParameters().map(([n]) => n).sort();
    assert.deepEqual(names, Object.keys(c.init).sort());
    for (const [n, v] of Object.entries(c.init) as [string, number[]][]) {
      const src = tensor(Float32Array.from(v), model.getParameter(n).shape);
      model.setParameter(n, src);
      src.dispose();
    }
    const [scores] = await readAll(tidy(() => [
      model.score(
        tensor(Int32Array.from(fx.users), [fx.users.length], "i32"),
        tensor(
          Int32Array.from(fx.items),
          [fx.items.length],
          "i32",
        ),
      ),
    ]));
    assertClose(scores, c.scores, { atol: 1e-5, rtol: 1e-4, msg: `${scorer} scores` });
    const stepped = await stepAndAdam(model, fx, c, scorer);
    // Shifting every score of an impression changes nothing (the u half of DeepFM's first-order
    // weight, the output biases): those gradients are 0 up to rounding (checked above), and
    // Adam's first step turns rounding noise into ±lr, so those entries are left out here.
    stepped.forEach(([n, after]) => {
      const live = (_: unknown, j: number) => Math.abs(c.grads[n][j]) > 1e-6;
      assertClose(Array.from(after).filter(live), c.after[n].filter(live), {
        atol: 2e-5,
        rtol: 1e-4,
        msg: `${scorer} after ${n}`,
      });
    });
    model.dispose();
  });
}

Deno.test("news scorer: an unknown scorer is a clear error", () => {
  const build = () =>
    new NewsRecommender(
      {
        numUsers: 1,
        numItems: 1,
        history: csr([[0]]),
        vectors: { data: new Float32Array(4), dim: 4 },
      },
      // deno-lint-ignore no-explicit-any
      { userEncoder: "naml", dim: 4, scorer: "dnn" as any },
    );
  assert.throws(build, /NewsScorer: scorer 'dnn', expected dot, dcn, deepfm, din/);
});

gpuTest("runner: each CTR scorer trains 2 epochs in the tiny run", async () => {
  const e = getModel("lstur");
  const sets = Object.entries(e.tiny ?? {}).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
  const root = await Deno.makeTempDir();
  for (const scorer of ["dcn", "deepfm", "din"]) {
    const out = `${root}/${scorer}`;
    const err: string[] = [];
    const t0 = performance.now();
    const code = await runCli("train", [
      "--model",
      "lstur",
      "--data",
      "synthetic:users=40,items=30,interactions=320,topics=3",
      "--epochs",
      "2",
      "--out",
      out,
      ...sets,
      "--set",
      `scorer=${scorer}`,
    ], { out: () => {}, err: (s: string) => err.push(s), progress: false });
    assert.equal(code, 0, `${scorer}: ${err.join("\n")}`);
    const epochs = (await Deno.readTextFile(`${out}/epochs.csv`)).trim().split("\n").length - 1;
    assert.equal(epochs, 2, `${scorer}: ${epochs} epochs logged`);
    const res = JSON.parse(await Deno.readTextFile(`${out}/results.json`));
    for (const v of Object.values(res.test)) assert.ok(Number.isFinite(v as number), scorer);
    const cfg = JSON.parse(await Deno.readTextFile(`${out}/config.json`));
    assert.equal(JSON.stringify(cfg).includes(`"scorer":"${scorer}"`), true, `${scorer}: config`);
    console.log(`${scorer}: tiny run ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
});
