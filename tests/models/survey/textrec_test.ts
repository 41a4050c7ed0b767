// TextRec (src/models/survey/): loss and every trainable gradient against PyTorch for four
// strategies (fixtures/make_textrec.py); per strategy, a training step moves exactly the
// strategy's parameters (frozen ones keep their values and get no optimizer state; `frozen`
// encodes once); every strategy trains two epochs through the runner; bad input.
import assert from "node:assert/strict";
import { assertClose, gpuTest, slowGpuTest } from "../../helpers.ts";
import { readAll, tensor, tidy } from "../../../src/tensor.ts";
import { backward } from "../../../src/autograd/backward.ts";
import { Adam } from "../../../src/nn/optim.ts";
import { trainableParameters } from "../../../src/nn/adapt.ts";
import { ADAPT_STRATEGIES, adaptEncoder } from "../../../src/nn/adapt_strategy.ts";
import { TextEncoder } from "../../../src/models/oleo/text_encoder.ts";
import { TextRec } from "../../../src/models/survey/model.ts";
import { loadEncoder } from "../../../src/models/survey/encoder.ts";
import { tripletTensors } from "../../../src/train/fit.ts";
import { runCli } from "../../../src/runner/cli.ts";
import { embeddedData } from "../../../src/runner/data.ts";
import type { AdaptStrategy } from "../../../src/nn/adapt_strategy.ts";
import "../../../src/runner/models.ts";

const g = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/textrec_golden.json", import.meta.url)),
);
const dm = g.dims;
const tokens = () => ({
  ids: Int32Array.from(g.ids),
  lengths: Int32Array.from(g.lengths),
  L: dm.L,
});

function tinyModel(adapt: AdaptStrategy, regWeight = dm.LAM): TextRec {
  const enc = new TextEncoder({
    vocabSize: dm.V,
    maxLength: dm.L,
    hidden: dm.E,
    layers: 1,
    heads: dm.H,
    dropout: 0,
  });
  return new TextRec(dm.U, tokens(), enc, {
    adapt,
    dim: dm.D,
    dropout: 0,
    regWeight,
    rank: dm.R,
    alpha: dm.ALPHA,
    bottleneck: dm.RB,
    prefixTokens: dm.P,
  });
}

const batch = () =>
  tripletTensors(
    { users: Int32Array.from(g.users), pos: Int32Array.from(g.pos), neg: Int32Array.from(g.neg) },
    dm.U,
    dm.I,
  );

for (const adapt of ["finetune", "adapter", "prefix", "lora"] as const) {
  gpuTest(`TextRec ${adapt}: loss and every trainable gradient match PyTorch`, async () => {
    const s = g.strategies[adapt];
    const m = tinyModel(adapt);
    for (const [n, v] of Object.entries({ ...g.base, ...s.added })) {
      const p = m.getParameter(n);
      m.setParameter(n, tensor(Float32Array.from(v as number[]), p.shape));
    }
    const trainable = m.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
    assert.deepEqual(trainable.sort(), Object.keys(s.grads).sort(), "what trains");
    const named = m.namedParameters().filter(([, p]) => p.requiresGrad);
    const loss = tidy(() => {
      const out = m.loss(batch()).loss;
      backward(out);
      return out;
    });
    const [l, ...grads] = await readAll([loss, ...named.map(([, p]) => p.grad!)]);
    assertClose(l, [s.loss], { atol: 1e-5, rtol: 1e-4, msg: `${adapt} loss` });
    named.forEach(([n], i) =>
      assertClose(grads[i], s.grads[n], { atol: 2e-5, rtol: 2e-3, msg: `${adapt} ∂${n}` })
    );
    loss.dispose();
    m.dispose();
  });
}

gpuTest(
  "TextRec: a step moves only the strategy's parameters; frozen ones get no state",
  async () => {
    for (const adapt of ADAPT_STRATEGIES) {
      const m = tinyModel(adapt);
      const before = await readAll(m.parameters());
      const opt = new Adam(m.parameters(), { lr: 0.05 });
      tidy(() => {
        backward(m.loss(batch()).loss);
        opt.step();
        opt.zeroGrad();
      });
      const after = await readAll(m.parameters());
      const named = m.namedParameters();
      named.forEach(([n, p], i) => {
        const moved = after[i].some((x, j) => x !== before[i][j]);
        // (adapter `up` and LoRA `B` start at zero, so their partners get no gradient yet.)
        const idle = /adapter_(attn|ffn)\.down|lora_A/.test(n);
        if (!p.requiresGrad) assert.equal(moved, false, `${adapt}: frozen ${n} moved`);
        else if (!idle) assert.equal(moved, true, `${adapt}: trainable ${n} did not move`);
      });
      const withState = new Set([...opt.state().keys()].map((k) => Number(k.split(".")[1])));
      named.forEach(([n, p], i) => {
        if (!p.requiresGrad) assert.ok(!withState.has(i), `${adapt}: ${n} has optimizer state`);
      });
      const { trainable, total } = trainableParameters(m);
      const encoderTrains = m.encoder.parameters().filter((p) => p.requiresGrad).length;
      assert.equal(encoderTrains > 0, adapt !== "frozen", `${adapt}: encoder trains`);
      assert.ok(trainable < total);
      if (adapt === "frozen") assert.ok(m.frozen && !m.proj, "frozen: cached features");
      opt.dispose();
      m.dispose();
    }
  },
);

slowGpuTest("every strategy trains two epochs through the runner (tiny data)", async () => {
  const root = await Deno.makeTempDir();
  const counts: Record<string, number> = {};
  for (const adapt of ADAPT_STRATEGIES) {
    const err: string[] = [];
    const code = await runCli("train", [
      "--model",
      "textrec",
      "--data",
      "synthetic:users=40,items=30,interactions=320,topics=3",
      "--epochs",
      "2",
      "--out",
      `${root}/${adapt}`,
      ...["maxLength=8", "hidden=16", "layers=1", "heads=2", "mlmEpochs=1", "dim=8"]
        .flatMap((s) => ["--set", s]),
      "--set",
      `adapt=${adapt}`,
    ], { out: () => {}, err: (s) => err.push(s), progress: false });
    assert.equal(code, 0, `${adapt}: ${err.join("\n")}`);
    const res = JSON.parse(await Deno.readTextFile(`${root}/${adapt}/results.json`));
    assert.ok(Number.isFinite(res.test["recall@20"]), `${adapt}: test recall`);
    const csv = (await Deno.readTextFile(`${root}/${adapt}/epochs.csv`)).trim().split("\n");
    assert.equal(csv.length - 1, 2, `${adapt}: two epochs`);
    const line = err.concat().find((l) => l.includes(`textrec adapt=${adapt}:`)) ?? "";
    const m = /: ([\d,]+) of/.exec(line);
    if (m) counts[adapt] = Number(m[1].replaceAll(",", ""));
  }
  // Fine-tuning trains the most parameters; the others add a little to the frozen baseline.
  if (Object.keys(counts).length === ADAPT_STRATEGIES.length) {
    for (const a of ["frozen", "adapter", "prefix", "lora"]) {
      assert.ok(counts.finetune > counts[a], `finetune ${counts.finetune} vs ${a} ${counts[a]}`);
      if (a !== "frozen") assert.ok(counts[a] > counts.frozen, `${a} adds parameters`);
    }
  }
});

gpuTest("bad input: unknown strategy, mismatched encoder weights", async () => {
  const enc = new TextEncoder({ vocabSize: 7, maxLength: 4, hidden: 8, layers: 1, heads: 2 });
  assert.throws(
    () => adaptEncoder(enc, "bitfit" as AdaptStrategy),
    /adaptEncoder: strategy 'bitfit', expected one of frozen, finetune, adapter, prefix, lora/,
  );
  assert.throws(
    () => adaptEncoder(new TextEncoder({ vocabSize: 7, layers: 0 }), "lora"),
    /adaptEncoder: the encoder has no TransformerEncoderLayer/,
  );
  enc.dispose();
  // Weights pretrained on another text: the word table does not fit this data's vocabulary.
  const dir = await Deno.makeTempDir();
  const data = embeddedData({ seed: 0, numUsers: 20, numItems: 12, numInteractions: 100 });
  const other = new TextEncoder({ vocabSize: 5, maxLength: 8, hidden: 8, layers: 1, heads: 2 });
  const { saveModule } = await import("../../../src/nn/serialize.ts");
  const bytes = await saveModule(other, { config: JSON.stringify({ maxLength: 8 }) });
  const prefixed = await renamed(bytes);
  await Deno.writeFile(`${dir}/enc.safetensors`, prefixed);
  other.dispose();
  const src = {
    text: "",
    encoder: `${dir}/enc.safetensors`,
    maxLength: 8,
    hidden: 8,
    layers: 1,
    heads: 2,
    mlmEpochs: 1,
    seed: 0,
  };
  await assert.rejects(
    () => loadEncoder(data, src),
    /has a 5-word table, the text gives \d+ words/,
  );
  await assert.rejects(
    () => loadEncoder(data, { ...src, maxLength: 6 }),
    /pretrained on rows of 8 tokens; set maxLength=8/,
  );
});

/** The names a textmlm run saves (`encoder.*`). */
async function renamed(bytes: Uint8Array): Promise<Uint8Array> {
  const { decodeSafetensors, encodeSafetensors } = await import(
    "../../../src/io/safetensors.ts"
  );
  const f = decodeSafetensors(bytes);
  const t = Object.fromEntries(Object.entries(f.tensors).map(([n, v]) => [`encoder.${n}`, v]));
  return encodeSafetensors(t, f.metadata);
}
