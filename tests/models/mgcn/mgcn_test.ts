// MGCN: one training step against an independent PyTorch re-implementation of MMRec's MGCN
// (fixtures/make_mgcn.py → mgcn_step.json): parameter names, the fused embeddings, the loss
// and each part, and every parameter's gradient.
import { backward, MGCN, readAll, tensor, tidy, tripletTensors } from "../../../internal.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const g = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/mgcn_step.json", import.meta.url)),
);
const S = g.sizes;

function goldenModel(): MGCN {
  const train = {
    users: Int32Array.from(g.train.users),
    items: Int32Array.from(g.train.items),
    numUsers: S.users,
    numItems: S.items,
  };
  const model = new MGCN(train, {
    image: Float32Array.from(g.image),
    text: Float32Array.from(g.text),
  }, {
    embeddingSize: S.dim,
    nUiLayers: S.nUiLayers,
    nLayers: S.nLayers,
    knnK: S.knnK,
    regWeight: g.weights.reg,
    clWeight: g.weights.cl,
    tau: g.tau,
    regBatchSize: S.batchSize,
  });
  tidy(() => {
    for (const [name, p] of Object.entries<{ shape: number[]; data: number[] }>(g.params)) {
      model.setParameter(name, tensor(Float32Array.from(p.data), p.shape));
    }
  });
  return model;
}

gpuTest("MGCN: parameter names match MMRec's state_dict", () => {
  const model = goldenModel();
  const names = model.namedParameters().map(([n]) => n).sort();
  assert.deepEqual(names, Object.keys(g.params).sort());
  model.dispose();
});

gpuTest(
  "MGCN: one training step (fused embeddings, loss, parts, gradients) matches PyTorch",
  async () => {
    const model = goldenModel();
    const fused = await tidy(() => model.forward().fused).read();
    assertClose(fused, g.fused, { atol: 1e-6, rtol: 1e-4, msg: "fused embeddings" });
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
  },
);
