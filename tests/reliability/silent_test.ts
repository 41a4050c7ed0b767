// Regression tests for issue 15 ("no silent failures"): each case returned a wrong result,
// lost data or leaked without an error before. Tiny shapes; pipelines shared across cases.
import assert from "node:assert/strict";
import {
  Adam,
  backward,
  bprLoss,
  checkNumerics,
  decodeSafetensors,
  encodeSafetensors,
  evaluateScores,
  gather,
  keep,
  loadCheckpoint,
  loadModule,
  log,
  logSigmoid,
  matmul,
  memory,
  MLP,
  mul,
  neg,
  ones,
  readAll,
  recommend,
  runtime,
  saveCheckpoint,
  saveModule,
  scale,
  setInputChecks,
  softplus,
  sum,
  type Tensor,
  tensor,
  tidy,
  trackTensorSites,
} from "../../internal.ts";
import { assertClose, gpuTest } from "../helpers.ts";

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- 1. backward through disposed tensors; interleaved async scopes ---------------------

gpuTest("backward refuses a loss whose graph was disposed by tidy (no silent null grads)", () => {
  const w = keep(tensor([1, 2, 3], [3]));
  w.requiresGrad = true;
  const loss = tidy(() => sum(mul(w, w))); // the product is disposed when the scope ends
  const live = memory().tensors;
  assert.throws(() => backward(loss), /backward: .*made by .*already disposed.*inside the tidy/s);
  assert.equal(w.grad, null);
  assert.equal(memory().tensors, live, "nothing leaked by the refused backward");
  loss.dispose();
  // Inside the scope it works.
  tidy(() => backward(sum(mul(w, w))));
  const g = w.grad as Tensor | null;
  assert.ok(g);
  g.dispose();
  w.dispose();
});

gpuTest("async tidy scopes that end out of order are refused, not cross-disposed", async () => {
  const a = tidy(async () => {
    const x = ones([2]);
    await delay(30);
    return scale(x, 2); // made while b's scope is the innermost one
  });
  const b = tidy(async () => {
    await delay(80);
    return ones([2]);
  });
  await assert.rejects(a, /async scopes interleaved/);
  await assert.rejects(b, /async scopes interleaved/);
  // The other order: b ends first, in order, but had taken a tensor that a returns.
  const c = tidy(async () => {
    await delay(10);
    const t = ones([2]);
    await delay(60);
    return t;
  });
  const d = tidy(async () => {
    await delay(30);
  });
  await d;
  await assert.rejects(c, /returns .*already disposed.*interleaved/);
});

// --- 2. NaN scores in ranking -------------------------------------------------------------

function nanModel(): { embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } } {
  return {
    // log(−1) = NaN in every user row.
    embeddings: () => ({ users: log(neg(ones([3, 2]))), items: ones([5, 2]) }),
  };
}

gpuTest("recommend and evaluation refuse NaN scores (plain and in numerics mode)", async () => {
  await assert.rejects(recommend(nanModel(), [0, 1], 2), /recommend: non-finite scores/);
  const truth = {
    users: Int32Array.from([0, 1]),
    items: Int32Array.from([1, 2]),
    numUsers: 3,
    numItems: 5,
  };
  const train = {
    indptr: Int32Array.from([0, 1, 2, 2]),
    indices: Int32Array.from([0, 0]),
    numRows: 3,
    numCols: 5,
  };
  const users = keep(tidy(() => log(neg(ones([3, 2])))));
  const items = keep(ones([5, 2]));
  await assert.rejects(
    evaluateScores((ut) => matmul(gather(users, ut), items, { transB: true }), 5, truth, train),
    /evaluate: non-finite scores/,
  );
  const rt = runtime();
  rt.checkNumerics = true;
  try {
    await assert.rejects(recommend(nanModel(), [0], 2), /numerics: op 'log'/);
  } finally {
    rt.checkNumerics = false;
  }
  users.dispose();
  items.dispose();
  // Finite scores still rank.
  const ok = { embeddings: () => ({ users: ones([1, 2]), items: ones([3, 2]) }) };
  assert.deepEqual((await recommend(ok, [0], 2)).map((r) => [...r]), [[0, 1]]);
});

// --- 3. the numerics watch never stops ----------------------------------------------------

gpuTest("numerics watch reports NaN after more than 16,384 watched ops", async () => {
  const rt = runtime();
  rt.checkNumerics = true;
  try {
    const x = keep(ones([4]));
    // A NaN in the first window, then many ops: the report names the first one.
    tidy(() => {
      log(neg(x)); // ops 1 and 2
    });
    for (let i = 0; i < 17000; i++) tidy(() => void scale(x, 1));
    await assert.rejects(checkNumerics(), /op 'log' .*produced a NaN or Inf \(op 2 of 17002/);
    // A NaN past the old 16,384 limit.
    for (let i = 0; i < 16500; i++) tidy(() => void scale(x, 1));
    tidy(() => void log(neg(x)));
    await assert.rejects(checkNumerics(), /op 'log' .*\(op 16502 of 16502/);
    await checkNumerics();
    x.dispose();
  } finally {
    rt.checkNumerics = false;
  }
});

// --- 4. integer tensors refuse what they would coerce -------------------------------------

gpuTest("integer tensors refuse fractions, NaN, out-of-range values and non-numbers", () => {
  assert.throws(() => tensor([1, 1.7], [2], "i32"), /i32 input .* 1\.7 at flat index 1/);
  assert.throws(() => tensor([NaN], [1], "i32"), /NaN at flat index 0/);
  assert.throws(() => tensor([0, 0, 2 ** 31], [3], "i32"), /2147483648 at flat index 2/);
  assert.throws(() => tensor([-1], [1], "u32"), /u32 input .* -1 at flat index 0/);
  assert.throws(() => tensor(Float32Array.from([0.5]), [1], "i32"), /0\.5 at flat index 0/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => tensor([1, "2"] as any), /"2" \(string\) at flat index 1/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => tensor([[1], [{}]] as any, undefined, "i32"), /not a number/);
  tidy(() => {
    tensor([-(2 ** 31), 2 ** 31 - 1], [2], "i32");
    tensor([2 ** 32 - 1], [1], "u32");
  });
});

// --- 6. softplus / log-sigmoid tails ------------------------------------------------------

gpuTest("softplus, log-sigmoid and the BPR loss are accurate in the tails", async () => {
  const xs = [-80, -40, -20, -17, -5, -0.01, 0, 0.01, 3, 17, 20, 40];
  const sp = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
  await tidy(async () => {
    const x = tensor(xs, [xs.length]);
    const [a, b] = await readAll([softplus(x), logSigmoid(x)]);
    assertClose(a, xs.map(sp), { atol: 0, rtol: 2e-6, msg: "softplus" });
    assertClose(b, xs.map((v) => -sp(-v)), { atol: 0, rtol: 2e-6, msg: "logSigmoid" });
    // Well-ranked pairs: pos − neg = 20, 25: the loss is e^−20 / 2 + e^−25 / 2.
    const loss = await bprLoss(tensor([20, 25], [2]), tensor([0, 0], [2])).item();
    assertClose([loss], [(sp(-20) + sp(-25)) / 2], { atol: 0, rtol: 1e-5, msg: "bpr" });
  });
});

// --- 7. atomic loads ----------------------------------------------------------------------

gpuTest("loadModule and loadCheckpoint validate everything before writing", async () => {
  const m = new MLP([2, 3, 2], "relu", 1);
  const before = await saveModule(m);
  const f = decodeSafetensors(before);
  const names = Object.keys(f.tensors).sort();
  const last = names.at(-1)!;
  const bad = { ...f.tensors };
  for (const n of names) {
    bad[n] = { ...f.tensors[n], data: new Float32Array(f.tensors[n].data.length).fill(7) };
  }
  bad[last] = { dtype: "F32", shape: [5], data: new Float32Array(5) };
  assert.throws(() => loadModule(m, encodeSafetensors(bad)), /nothing was loaded/);
  assert.deepEqual(await saveModule(m), before, "module untouched by a failed load");
  // A non-finite value in the last tensor: also refused before any write.
  bad[last] = { ...f.tensors[last], data: new Float32Array(f.tensors[last].data.length) };
  (bad[last].data as Float32Array)[0] = NaN;
  assert.throws(() => loadModule(m, encodeSafetensors(bad)), /non-finite.*nothing was loaded/);
  assert.deepEqual(await saveModule(m), before);
  // Checkpoints: a bad optimizer slot leaves the model and the optimizer as they were.
  const opt = new Adam(m.parameters(), { lr: 0.1 });
  const ck = decodeSafetensors(await saveCheckpoint(m, opt, { epoch: 1 }));
  const t2 = { ...ck.tensors };
  for (const n of Object.keys(t2)) {
    if (n.startsWith("model.")) t2[n] = { ...t2[n], data: new Float32Array(t2[n].data.length) };
  }
  t2["optim.m.0"] = { dtype: "F32", shape: [1], data: new Float32Array(1) };
  assert.throws(
    () => loadCheckpoint(m, opt, encodeSafetensors(t2, ck.metadata)),
    /optim\.m\.0.*nothing was loaded/,
  );
  assert.deepEqual(await saveModule(m), before);
  assert.equal(opt.lr, 0.1);
  m.dispose();
  opt.dispose();
});

// --- 10. matmul size handling --------------------------------------------------------------

gpuTest("matmul with N % 4 ≠ 0 near the binding limit; size errors give the shape", async () => {
  const rt = runtime();
  const pool = rt.pool as { maxBinding: number };
  const saved = pool.maxBinding;
  await tidy(async () => {
    const a = tensor(Array.from({ length: 64 * 4 }, (_, i) => (i % 7) - 3), [64, 4]);
    const b = tensor(Array.from({ length: 4 * 5 }, (_, i) => (i % 5) - 2), [4, 5]);
    const want = await matmul(a, b).read();
    // The output (1,280 bytes) fits a 1,536-byte binding; a [64, 8] padded temporary would not.
    Object.defineProperty(pool, "maxBinding", { value: 1536, configurable: true });
    try {
      assertClose(await matmul(a, b).read(), want, { msg: "fallback" });
      assert.throws(() => ones([1000]), /a f32 tensor of shape \[1000\] \(4000 bytes\).*Lower/);
    } finally {
      Object.defineProperty(pool, "maxBinding", { value: saved, configurable: true });
    }
  });
  // The numerics label shows the real output shape, not the padded one.
  rt.checkNumerics = true;
  setInputChecks(false);
  try {
    await tidy(async () => {
      const a = tensor([NaN, 1], [1, 2]);
      const b = ones([2, 5]);
      matmul(a, b);
      await assert.rejects(checkNumerics(), /op 'matmul' \(output \[1, 5\]\)/);
    });
  } finally {
    setInputChecks(true);
    rt.checkNumerics = false;
  }
});

// --- 12. finding leaks ----------------------------------------------------------------------

gpuTest("memory({ detail: true }) lists live tensors by op and creation site", async () => {
  trackTensorSites(true);
  const x = keep(ones([2, 3]));
  const leak = matmul(x, x, { transB: true }); // created outside tidy: lives until disposed
  trackTensorSites(false);
  const m = memory({ detail: true });
  const g = m.live.find((l) => l.op === "matmul" && l.shapes.includes("[2, 2]"));
  assert.ok(g, JSON.stringify(m.live));
  assert.match(g.site, /silent_test\.ts/);
  assert.equal(m.tensors, m.live.reduce((s, l) => s + l.count, 0));
  leak.dispose();
  x.dispose();
  assert.ok(!memory({ detail: true }).live.some((l) => l.site === g.site && l.op === "matmul"));
  await Promise.resolve();
});
