// GIST's two training steps against the PyTorch re-implementation in fixtures/make_steps.py:
// the source stage (CBJT: behaviour, alignment and guidance InfoNCE) and the target CTR model
// (ids + history + ASI over retrieved source items), each loss and every gradient.
import { assertClose, gpuTest } from "../../helpers.ts";
import assert from "node:assert/strict";
import { readAll, tensor, tidy } from "../../../src/tensor.ts";
import { backward } from "../../../src/autograd/backward.ts";
import { reshape } from "../../../src/ops/core/shape.ts";
import { bceWithLogits } from "../../../src/ops/losses/ranking.ts";
import { SourceModel } from "../../../src/models/gist/source.ts";
import { Gist } from "../../../src/models/gist/model.ts";
import { toCsr } from "../../../src/models/gist/data.ts";
import type { Module } from "../../../src/nn/module.ts";

type Arr = { shape: number[]; data: number[] };
// deno-lint-ignore no-explicit-any
const FX: any = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/steps.json", import.meta.url)),
);

function load(m: Module, params: Record<string, Arr>): void {
  assert.deepEqual(m.namedParameters().map(([n]) => n).sort(), Object.keys(params).sort());
  for (const [n, p] of Object.entries(params)) {
    const t = tensor(Float32Array.from(p.data), p.shape);
    m.setParameter(n, t);
    t.dispose();
  }
}

async function checkGrads(m: Module, grads: Record<string, number[]>): Promise<void> {
  const named = m.namedParameters();
  const gs = await readAll(named.map(([, p]) => p.grad!));
  named.forEach(([n], i) => assertClose(gs[i], grads[n], { atol: 1e-5, rtol: 1e-3, msg: `∂${n}` }));
}

gpuTest("GIST source step (CBJT): loss, its parts and every gradient match PyTorch", async () => {
  const s = FX.source;
  const m = new SourceModel(s.Ns, s.Nt, s.words, toCsr(s.text), {
    dim: s.dim,
    wordDim: s.wordDim,
    temperature: s.temperature,
    guideWeight: s.guideWeight,
  });
  load(m, s.params);
  await tidy(async () => {
    const { loss, parts } = m.loss({
      a: Int32Array.from(s.a),
      b: Int32Array.from(s.b),
      profiles: toCsr(s.profiles),
      targets: Int32Array.from(s.targets),
    });
    backward(loss);
    const [l, beh, align, guide] = await readAll([loss, parts.beh, parts.align, parts.guide]);
    assertClose(l, [s.loss], { atol: 1e-5, rtol: 1e-4, msg: "loss" });
    assertClose([beh[0], align[0], guide[0]], [s.parts.beh, s.parts.align, s.parts.guide], {
      atol: 1e-5,
      rtol: 1e-4,
      msg: "parts",
    });
    await checkGrads(m, s.grads);
  });
  // The export: normalised rows, source rows = c + b, target rows = c.
  const ex = await m.exportTable();
  assert.equal(ex.data.length, (s.Ns + s.Nt) * s.dim);
  for (let i = 0; i < s.Ns + s.Nt; i++) {
    const n = Math.hypot(...ex.data.subarray(i * s.dim, (i + 1) * s.dim));
    assert.ok(Math.abs(n - 1) < 1e-5, `row ${i} norm ${n}`);
  }
  m.dispose();
});

gpuTest("GIST target step: logits, BCE and every gradient match PyTorch", async () => {
  const t = FX.target;
  const m = new Gist(t.users, t.Ns, t.Nt, t.ds, {
    embeddingDim: t.embeddingDim,
    attentionDim: t.attentionDim,
    topK: t.topK,
    dnnHidden: [t.hidden],
  });
  load(m, t.params);
  m.setSource({ data: Float32Array.from(t.table), dim: t.ds }, toCsr([]));
  const b = t.batch;
  await tidy(async () => {
    const logits = m.forward({
      users: Int32Array.from(b.users),
      items: Int32Array.from(b.items),
      history: toCsr(b.history),
      retrieved: Int32Array.from(b.retrieved),
    });
    const loss = bceWithLogits(
      reshape(logits, [b.users.length]),
      tensor(Float32Array.from(b.labels), [b.users.length]),
    );
    backward(loss);
    const [lg, l] = await readAll([logits, loss]);
    assertClose(lg, t.logits, { atol: 1e-5, rtol: 1e-4, msg: "logits" });
    assertClose(l, [t.loss], { atol: 1e-5, rtol: 1e-4, msg: "loss" });
    await checkGrads(m, t.grads);
  });
  assert.throws(
    () => m.setSource({ data: new Float32Array(6), dim: 3 }, toCsr([])),
    /Gist.setSource: export \[2, 3\]; expected \[13, 3\]/,
  );
  m.dispose();
});
