// LATTICE: the first training step of an epoch (item graph rebuilt with gradient) against an
// independent PyTorch re-implementation of MMRec's LATTICE (fixtures/make_lattice.py →
// lattice_step.json): the item graph S, the item embeddings, the loss and each part, every
// gradient (through the learned kNN values into the projections, the feature tables and
// modal_weight). The next step of the same epoch uses the detached graph: same loss, and no
// gradient reaches the projections.
import { backward, LATTICE, readAll, tensor, tidy, tripletTensors } from "../../../internal.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const g = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/lattice_step.json", import.meta.url)),
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

function goldenModel(): LATTICE {
  const mm = { image: Float32Array.from(g.image), text: Float32Array.from(g.text) };
  const model = new LATTICE(train, mm, {
    embeddingSize: S.dim,
    knnK: S.knnK,
    nUiLayers: S.nUiLayers,
    nLayers: S.nLayers,
    lambdaCoeff: g.lambdaCoeff,
    regWeight: g.regWeight,
    regBatchSize: S.batchSize,
  });
  tidy(() => {
    for (const [name, p] of Object.entries<{ shape: number[]; data: number[] }>(g.params)) {
      model.setParameter(name, tensor(Float32Array.from(p.data), p.shape));
    }
  });
  return model;
}

gpuTest("LATTICE: item graph and item embeddings match PyTorch", async () => {
  const model = goldenModel();
  assert.deepEqual(model.namedParameters().map(([n]) => n).sort(), Object.keys(g.params).sort());
  const [cols, vals, items] = await readAll(tidy(() => {
    const ig = model.itemGraph();
    return [ig.cols, ig.values, model.forward(ig).items] as const;
  }));
  const n = S.items;
  const e = cols.length / n;
  const dense = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < e; j++) dense[r * n + cols[r * e + j]] += vals[r * e + j];
  }
  assertClose(dense, g.itemGraph, { atol: 1e-6, rtol: 1e-4, msg: "item graph S" });
  assertClose(items, g.items, { atol: 1e-6, rtol: 1e-4, msg: "item embeddings" });
  model.dispose();
});

gpuTest("LATTICE: first step of an epoch (loss, parts, gradients) matches PyTorch", async () => {
  const model = goldenModel();
  const step = () =>
    tidy(() => {
      const out = model.loss(tripletTensors(batch, S.users, S.items));
      backward(out.loss);
      return out;
    });
  const { loss, parts } = step();
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
  model.zeroGrad();
  // Same epoch: the detached graph; the projections and modal_weight get no gradient.
  const again = step();
  assertClose([(await again.loss.read())[0]], [g.loss], { rtol: 1e-5, msg: "loss, detached" });
  for (const [n, p] of model.namedParameters()) {
    const feature = /_trs\.|_embedding\.weight$|modal_weight/.test(n) &&
      !/^(user|item_id)_/.test(n);
    assert.equal(p.grad === null, feature, `${n}: gradient ${p.grad ? "present" : "absent"}`);
  }
  model.dispose();
});
