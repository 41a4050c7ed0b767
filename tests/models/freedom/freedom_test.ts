// FREEDOM: one training step (edge pruning off) against an independent PyTorch
// re-implementation of MMRec's FREEDOM (fixtures/make_freedom.py → freedom_step.json): parameter
// names, item embeddings, the loss and each part, every gradient. Then the degree-sensitive
// edge pruning: the kept count, both directions, and the renormalised values.
import {
  backward,
  FREEDOM,
  prunedAdjacency,
  readAll,
  tensor,
  tidy,
  tripletTensors,
} from "../../../internal.ts";
import { Rng } from "../../../src/random.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const g = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/freedom_step.json", import.meta.url)),
);
const S = g.sizes;
const train = {
  users: Int32Array.from(g.train.users),
  items: Int32Array.from(g.train.items),
  numUsers: S.users,
  numItems: S.items,
};

function goldenModel(): FREEDOM {
  const mm = { image: Float32Array.from(g.image), text: Float32Array.from(g.text) };
  const model = new FREEDOM(train, mm, {
    embeddingSize: S.dim,
    knnK: S.knnK,
    nUiLayers: S.nUiLayers,
    nMmLayers: S.nMmLayers,
    mmImageWeight: g.mmImageWeight,
    regWeight: g.regWeight,
    dropout: 0,
  });
  tidy(() => {
    for (const [name, p] of Object.entries<{ shape: number[]; data: number[] }>(g.params)) {
      model.setParameter(name, tensor(Float32Array.from(p.data), p.shape));
    }
  });
  return model;
}

gpuTest("FREEDOM: one training step (items, loss, parts, gradients) matches PyTorch", async () => {
  const model = goldenModel();
  assert.deepEqual(model.namedParameters().map(([n]) => n).sort(), Object.keys(g.params).sort());
  const items = await tidy(() => model.forward(model.adj).items).read();
  assertClose(items, g.items, { atol: 1e-6, rtol: 1e-4, msg: "item embeddings" });
  const batch = {
    users: Int32Array.from(g.batch.users),
    pos: Int32Array.from(g.batch.pos),
    neg: Int32Array.from(g.batch.neg),
  };
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
  const grads = await readAll(named.map(([n, p]) => {
    assert.ok(p.grad, `no gradient for ${n}`);
    return p.grad;
  }));
  named.forEach(([n], i) => {
    assertClose(grads[i], g.grads[n], { atol: 1e-6, rtol: 1e-4, msg: `grad ${n}` });
  });
  loss.dispose();
  for (const t of Object.values(parts)) t.dispose();
  model.dispose();
});

gpuTest("FREEDOM: degree-sensitive pruning keeps ⌊(1 − p)|E|⌋ edges, renormalised", async () => {
  const e = {
    u: Int32Array.from(g.train.users),
    i: Int32Array.from(g.train.items),
    w: Float64Array.from(g.train.users, () => 1),
  };
  const m = prunedAdjacency(e, S.users, S.items, 0.4, new Rng(3));
  const h = await m.toHost();
  const keep = Math.floor(e.u.length * 0.6);
  assert.equal(h.colIdx.length, 2 * keep);
  const n = S.users + S.items;
  const dense = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let j = h.rowPtr[r]; j < h.rowPtr[r + 1]; j++) dense[r * n + h.colIdx[j]] = h.values[j];
  }
  const deg = Array.from({ length: n }, (_, r) => h.rowPtr[r + 1] - h.rowPtr[r]);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      const v = dense[r * n + c];
      assert.equal(v, dense[c * n + r], `symmetric at ${r},${c}`);
      if (v) assertClose([v], [1 / Math.sqrt(deg[r] * deg[c])], { rtol: 1e-5, msg: "value" });
    }
  }
  m.dispose();
});
