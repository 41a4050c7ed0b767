// BM3: one training step (target dropout off) against an independent PyTorch
// re-implementation of MMRec's BM3 (fixtures/make_bm3.py → bm3_step.json): parameter names,
// the scoring embeddings, the loss and each part, every gradient. With dropout on, the targets
// differ from the online embeddings but still carry no gradient.
import { backward, BM3, readAll, tensor, tidy, tripletTensors } from "../../../internal.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const g = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/bm3_step.json", import.meta.url)),
);
const S = g.sizes;
const train = {
  users: Int32Array.from(g.train.users),
  items: Int32Array.from(g.train.items),
  numUsers: S.users,
  numItems: S.items,
};
const batch = {
  users: Int32Array.from(g.batch.users),
  pos: Int32Array.from(g.batch.pos),
  neg: Int32Array.from(g.batch.neg),
};

function goldenModel(dropout: number): BM3 {
  const p = g.params;
  const mm = {
    image: Float32Array.from(p["image_embedding.weight"].data as number[]),
    text: Float32Array.from(p["text_embedding.weight"].data as number[]),
  };
  const model = new BM3(train, mm, {
    embeddingSize: S.dim,
    nLayers: S.nLayers,
    regWeight: g.regWeight,
    clWeight: g.clWeight,
    dropout,
  });
  tidy(() => {
    for (const [name, q] of Object.entries<{ shape: number[]; data: number[] }>(p)) {
      model.setParameter(name, tensor(Float32Array.from(q.data), q.shape));
    }
  });
  return model;
}

async function step(model: BM3) {
  const { loss, parts } = tidy(() => {
    const out = model.loss(tripletTensors(batch, S.users, S.items));
    backward(out.loss);
    return out;
  });
  const names = Object.keys(g.parts);
  const vals = await readAll([loss, ...names.map((n) => parts[n])]);
  const named = model.namedParameters();
  const grads = await readAll(named.map(([n, p]) => {
    assert.ok(p.grad, `no gradient for ${n}`);
    return p.grad;
  }));
  loss.dispose();
  for (const t of Object.values(parts)) t.dispose();
  return { loss: vals[0][0], parts: names.map((_, i) => vals[i + 1][0]), named, grads };
}

gpuTest("BM3: one training step (scores, loss, parts, gradients) matches PyTorch", async () => {
  const model = goldenModel(0);
  assert.deepEqual(model.namedParameters().map(([n]) => n).sort(), Object.keys(g.params).sort());
  const users = await tidy(() => model.embeddings().users).read();
  assertClose(users, g.scoresUsers, { atol: 1e-6, rtol: 1e-4, msg: "P(U)" });
  const r = await step(model);
  assertClose([r.loss], [g.loss], { rtol: 1e-5, msg: "loss" });
  Object.keys(g.parts).forEach((n, i) =>
    assertClose([r.parts[i]], [g.parts[n]], { rtol: 1e-5, msg: n })
  );
  r.named.forEach(([n], i) => {
    assertClose(r.grads[i], g.grads[n], { atol: 1e-6, rtol: 1e-4, msg: `grad ${n}` });
  });
  model.dispose();
});

gpuTest("BM3: dropout perturbs only the targets", async () => {
  const model = goldenModel(0.5);
  const r = await step(model);
  const names = Object.keys(g.parts);
  // The online side and the regulariser are dropout-free; the alignment terms move.
  assertClose([r.parts[names.indexOf("reg")]], [g.parts.reg], { rtol: 1e-5, msg: "reg" });
  assert.ok(
    Math.abs(r.parts[names.indexOf("ui")] - g.parts.ui) > 1e-4,
    "L_ui unchanged by dropout",
  );
  assert.ok(r.grads.every((x) => x.every(Number.isFinite)));
  model.dispose();
});
