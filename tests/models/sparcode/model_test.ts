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
import { evaluateEmbeddings, evaluateModel, recommend } from "../../../src/train/eval.ts";
import { toCsr } from "../../../src/data/types.ts";
import { Rng } from "../../../src/random.ts";

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
  sparsity: c.sparsity,
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

/** Random train / truth interactions over `nu` × `ni` (every user has history and truth). */
function randomSplit(nu: number, ni: number, seed: number) {
  const rng = new Rng(seed);
  const tu: number[] = [], ti: number[] = [], vu: number[] = [], vi: number[] = [];
  for (let u = 0; u < nu; u++) {
    for (let i = 0; i < ni; i++) {
      const r = rng.uniform();
      if (r < 0.2) (tu.push(u), ti.push(i));
      else if (r < 0.3) (vu.push(u), vi.push(i));
    }
  }
  const exclude = toCsr(Int32Array.from(tu), Int32Array.from(ti), nu, ni);
  const truth = {
    users: Int32Array.from(vu),
    items: Int32Array.from(vi),
    numUsers: nu,
    numItems: ni,
  };
  return { exclude, truth };
}

gpuTest("evaluation: the scoreUsers hook ranks like the embeddings' dot product", async () => {
  // Two-tower has both paths: its hook E1(u) · E2(items)ᵀ and the dense users · itemsᵀ.
  const [nu, ni] = [23, 37];
  const { exclude, truth } = randomSplit(nu, ni, 5);
  const model = new TwoTower(nu, ni, { embeddingSize: 8, seed: 3 });
  const ks = [1, 5, 10];
  const hook = await evaluateModel(model, truth, exclude, ks);
  const e = noGrad(() => model.embeddings());
  const dense = await evaluateEmbeddings(e.users, e.items, truth, exclude, ks);
  assert.ok(dense["recall@10"] > 0, "the metrics are not all zero");
  assert.deepEqual(hook, dense);
  // Chunks of 4 users (a prime count of users, so the last chunk is short) change nothing.
  const chunked = await evaluateModel(
    Object.assign(model, { scoreChunk: () => 4 }),
    truth,
    exclude,
    ks,
  );
  assert.deepEqual(chunked, dense);
  // recommend through the hook = the dense top-k with training items left out.
  const users = [0, 7, 22];
  const viaHook = await recommend(model, users, 6, exclude);
  const scores = await noGrad(() => model.scoreUsers(tensor(Int32Array.from(users), [3], "i32")))
    .read();
  users.forEach((u, r) => {
    const known = new Set(exclude.indices.subarray(exclude.indptr[u], exclude.indptr[u + 1]));
    const ref = Array.from({ length: ni }, (_, i) => i).filter((i) => !known.has(i))
      .sort((a, b) => scores[r * ni + b] - scores[r * ni + a] || a - b).slice(0, 6);
    assert.deepEqual(Array.from(viaHook[r]), ref, `user ${u}`);
  });
  await assert.rejects(() => recommend(model, [nu], 3, exclude), /user id 23 at position 0/);
  model.dispose();
});

gpuTest("all-to-all: evaluated and recommended through its scoreUsers hook", async () => {
  const [nu, ni] = [11, 13];
  const { exclude, truth } = randomSplit(nu, ni, 9);
  const model = new AllToAll(nu, ni, { embeddingSize: 8, hidden: [8, 4], seed: 2 });
  assert.ok(model.scoreChunk() >= 1);
  assert.throws(() => model.embeddings(), /not a dot product/);
  const m = await evaluateModel(model, truth, exclude, [5]);
  // Brute force on the host from the same score rows.
  const all = Int32Array.from({ length: nu }, (_, u) => u);
  const scores = await noGrad(() => model.scoreUsers(tensor(all, [nu], "i32"))).read();
  let hits = 0, relevant = 0, users = 0;
  const recall: number[] = [];
  for (let u = 0; u < nu; u++) {
    const want = new Set(
      Array.from(truth.users.keys()).filter((j) => truth.users[j] === u)
        .map((j) => truth.items[j]),
    );
    if (!want.size || exclude.indptr[u + 1] === exclude.indptr[u]) continue;
    const known = new Set(exclude.indices.subarray(exclude.indptr[u], exclude.indptr[u + 1]));
    const top = Array.from({ length: ni }, (_, i) => i).filter((i) => !known.has(i))
      .sort((a, b) => scores[u * ni + b] - scores[u * ni + a] || a - b).slice(0, 5);
    const h = top.filter((i) => want.has(i)).length;
    hits += h;
    relevant += want.size;
    users++;
    recall.push(h / want.size);
  }
  assert.ok(users > 0 && relevant > 0 && hits >= 0);
  assertClose([m["recall@5"]], [recall.reduce((x, y) => x + y, 0) / users], { atol: 1e-9 });
  const rec = await recommend(model, [3], 4, exclude);
  assert.equal(rec[0].length, 4);
  model.dispose();
});
