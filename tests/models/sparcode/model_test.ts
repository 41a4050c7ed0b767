// SparCode, two-tower and all-to-all: one training step (loss and every gradient) against
// PyTorch re-implementations of the spec (fixtures/make_sparcode.py); the quantised model's
// table against its own forward; index serving == brute force exactly; bad input.
import { assert, assertClose, gpuTest } from "../../helpers.ts";
import { backward, noGrad, tensor, tidy } from "../../../internal.ts";
import { tripletTensors } from "../../../src/train/fit.ts";
import {
  AllToAll,
  disposeIndex,
  serveTopK,
  SparCode,
  TwoTower,
} from "../../../src/models/sparcode/mod.ts";
import { topk } from "../../../src/ops/search/topk.ts";
import type { Recommender } from "../../../src/train/fit.ts";

type Case = {
  loss: number;
  params: Record<string, { shape: number[]; data: number[] }>;
  grads: Record<string, number[]>;
};
const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/sparcode_step.json", import.meta.url)),
);
const c = fx.config;
const cfg = {
  embeddingSize: c.D,
  tokens: c.K,
  subspaces: c.M,
  codes: c.N,
  hidden: c.hidden,
  heads: 2,
  beta: c.beta,
};

function load(model: Recommender, k: Case): void {
  const names = model.namedParameters().map(([n]) => n).sort();
  assert.deepEqual(names, Object.keys(k.params).sort(), "parameter names match PyTorch's");
  for (const [n, p] of Object.entries(k.params)) {
    model.setParameter(n, tensor(Float32Array.from(p.data), p.shape));
  }
}

async function checkStep(model: Recommender, k: Case): Promise<void> {
  load(model, k);
  const b = fx.batch;
  const batch = tripletTensors(
    {
      users: Int32Array.from(b.users),
      pos: Int32Array.from(b.pos),
      neg: Int32Array.from(b.neg),
    },
    c.U,
    c.I,
  );
  model.zeroGrad();
  const loss = tidy(() => {
    const l = model.loss(batch).loss;
    backward(l);
    return l;
  });
  assertClose(await loss.read(), [k.loss], { atol: 1e-5, rtol: 1e-4, msg: `${model.name} loss` });
  for (const [n, p] of model.namedParameters()) {
    const g = p.grad ? await p.grad.read() : new Float32Array(p.size);
    assertClose(g, k.grads[n], { atol: 2e-5, rtol: 1e-3, msg: `${model.name} grad ${n}` });
  }
}

gpuTest("sparcode: one step (DNN backbone) matches PyTorch", async () => {
  await checkStep(new SparCode(c.U, c.I, cfg), fx.cases.sparcode_dnn);
});

gpuTest("sparcode: one step (self-attention backbone) matches PyTorch", async () => {
  await checkStep(new SparCode(c.U, c.I, { ...cfg, backbone: "sa" }), fx.cases.sparcode_sa);
});

gpuTest("two-tower and all-to-all: one step matches PyTorch", async () => {
  await checkStep(new TwoTower(c.U, c.I, cfg), fx.cases.twotower);
  await checkStep(new AllToAll(c.U, c.I, cfg), fx.cases.alltoall);
});

gpuTest("sparcode: table = forward scores; index serving == brute force exactly", async () => {
  for (const backbone of ["dnn", "sa"] as const) {
    const model = new SparCode(c.U, c.I, { ...cfg, backbone });
    load(model, backbone === "dnn" ? fx.cases.sparcode_dnn : fx.cases.sparcode_sa);
    const users = tensor(Int32Array.from([0, 1, 2, 3, 4]), [5], "i32");
    // Move the bias to the table's median, so about half the entries are ReLU zeros.
    const t0 = await noGrad(() => model.fullTable()).read();
    const b0 = (await model.bias.read())[0];
    const med = Float32Array.from(t0).sort()[t0.length >> 1];
    model.setParameter("bias", tensor([b0 - med], [1]));
    const table = noGrad(() => model.fullTable());
    const tv = await table.read();
    const nc = c.N ** c.M;
    assert.ok(tv.some((v) => v === 0) && tv.some((v) => v > 0), "table has zeros and positives");
    // Table rows against the pairwise forward of each code vector (decomposed first layer).
    const ids = await noGrad(() => model.userCodeIds(users)).read();
    const dense = await noGrad(() => model.bruteForce(table, users)).read();
    for (let u = 0; u < 5; u++) {
      for (let i = 0; i < c.I; i++) {
        let s = 0;
        for (let k = 0; k < c.K; k++) s += tv[ids[u * c.K + k] * c.I + i];
        assertClose([dense[u * c.I + i]], [s], { atol: 1e-6, msg: `dense ${u},${i}` });
      }
    }
    const index = await model.buildIndex({ chunk: 4 });
    assert.equal(index.nnz, tv.filter((v) => v > 0).length);
    assert.equal(nc + 1, index.ptr.size);
    const served = await noGrad(() => model.serve(index, users)).read();
    assert.deepEqual(Array.from(served), Array.from(dense), "served == brute force, bit for bit");
    const ku = 4;
    const top = serveTopK(index, noGrad(() => model.userCodeIds(users)), ku);
    const ref = topk(tensor(dense, [5, c.I]), ku);
    assert.deepEqual(Array.from(await top.indices.read()), Array.from(await ref.indices.read()));
    assert.deepEqual(Array.from(await top.values.read()), Array.from(await ref.values.read()));
    // The dot-product form (code counts · Tᵀ) used by full-ranking evaluation.
    const e = noGrad(() => model.embeddings());
    const eu = await e.users.read();
    const et = await e.items.read();
    for (let u = 0; u < 5; u++) {
      for (let i = 0; i < c.I; i++) {
        let s = 0;
        for (let j = 0; j < nc; j++) s += eu[u * nc + j] * et[i * nc + j];
        assertClose([s], [dense[u * c.I + i]], { atol: 1e-5, msg: `dot form ${u},${i}` });
      }
    }
    // An index built for another codebook size is refused.
    const other = new SparCode(c.U, c.I, { ...cfg, codes: c.N + 1, backbone });
    assert.throws(
      () => other.serve(index, users),
      /built for 2 sub-spaces × 3 codes and 7 items, the model has 2 × 4 codes/,
    );
    disposeIndex(index);
  }
});

gpuTest("sparcode: the quantised model's table equals its training-time scores", async () => {
  // y(u, i) of the training path (STE: forward value = q̂) equals Σ_k T[c_k, i].
  const model = new SparCode(c.U, c.I, cfg);
  load(model, fx.cases.sparcode_dnn);
  const users = tensor(Int32Array.from([0, 3, 4]), [3], "i32");
  const scores = await noGrad(() => model.scoreUsers(users)).read();
  const all = await noGrad(() =>
    model.scoreUsers(tensor(Int32Array.from([0, 1, 2, 3, 4]), [5], "i32"))
  ).read();
  assertClose(scores.subarray(0, c.I), all.subarray(0, c.I), { atol: 1e-6 });
  const b = tripletTensors(
    {
      users: Int32Array.from([0, 3, 4]),
      pos: Int32Array.from([2, 5, 6]),
      neg: Int32Array.from([1, 1, 1]),
    },
    c.U,
    c.I,
  );
  const y = await noGrad(() => model.scorePairs(b.users, b.pos)).read();
  assertClose(y, [scores[2], scores[c.I + 5], scores[2 * c.I + 6]], { atol: 1e-5 });
});
