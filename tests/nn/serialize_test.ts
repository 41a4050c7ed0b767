// Module weights and checkpoints: round trips, PyTorch files, exact resume.
import {
  Adam,
  backward,
  keep,
  loadCheckpoint,
  loadModule,
  mean,
  MLP,
  type Optimizer,
  readAll,
  saveCheckpoint,
  saveModule,
  SGD,
  square,
  sub,
  tensor,
  tidy,
} from "../../internal.ts";
import { assert, assertClose, gpuTest, randArray } from "../helpers.ts";

gpuTest("saveModule → loadModule reproduces the outputs", async () => {
  const a = new MLP([3, 4, 2], "tanh", 1);
  const b = new MLP([3, 4, 2], "tanh", 99);
  const bytes = await saveModule(a, { note: "test" });
  loadModule(b, bytes);
  const x = keep(tensor(randArray(6, 3), [2, 3]));
  const [ya, yb] = await readAll(tidy(() => [a.forward(x), b.forward(x)]));
  assert.deepEqual([...yb], [...ya]);
  const wrong = new MLP([3, 5, 2]);
  assert.throws(
    () => loadModule(wrong, bytes),
    /wgrec loadModule: '0.weight' is stored as \[4, 3\]/,
  );
  const deeper = new MLP([3, 4, 4, 2]);
  assert.throws(() => loadModule(deeper, bytes), /missing: \[2.weight, 2.bias\]/);
  for (const m of [a, b, wrong, deeper]) m.dispose();
  x.dispose();
});

gpuTest("a PyTorch state_dict saved as safetensors loads and gives PyTorch's output", async () => {
  const bytes = await Deno.readFile(new URL("../fixtures/torch_mlp.safetensors", import.meta.url));
  const ref = JSON.parse(
    await Deno.readTextFile(new URL("../fixtures/torch_mlp.json", import.meta.url)),
  );
  const m = new MLP([4, 5, 3], "gelu");
  loadModule(m, bytes);
  const y = tidy(() => m.forward(tensor(ref.x, [2, 4])));
  assertClose(await y.read(), ref.y, { atol: 1e-5, rtol: 1e-4 });
  y.dispose();
  m.dispose();
});

for (const kind of ["sgd", "adam"] as const) {
  gpuTest(`checkpoint with ${kind} state resumes training exactly`, async () => {
    const x = keep(tensor(randArray(40, 5), [10, 4]));
    const t = keep(tensor(randArray(20, 6), [10, 2]));
    const make = (m: MLP): Optimizer =>
      kind === "sgd"
        ? new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 })
        : new Adam(m.parameters(), { lr: 0.01 });
    const step = (m: MLP, opt: Optimizer) =>
      tidy(() => {
        backward(mean(square(sub(m.forward(x), t))));
        opt.step();
        opt.zeroGrad();
      });
    const a = new MLP([4, 8, 2], "relu", 5);
    const optA = make(a);
    for (let i = 0; i < 6; i++) step(a, optA);

    const b = new MLP([4, 8, 2], "relu", 5);
    const optB = make(b);
    for (let i = 0; i < 3; i++) step(b, optB);
    const ckpt = await saveCheckpoint(b, optB, { epoch: 3 });
    const c = new MLP([4, 8, 2], "relu", 77);
    const optC = make(c);
    assert.deepEqual(loadCheckpoint(c, optC, ckpt), { epoch: 3 });
    for (let i = 0; i < 3; i++) step(c, optC);

    const pa = await readAll(a.parameters());
    const pc = await readAll(c.parameters());
    pa.forEach((p, i) => assert.deepEqual([...pc[i]], [...p], `parameter ${i}`));
    for (const m of [a, b, c]) m.dispose();
    for (const o of [optA, optB, optC]) o.dispose();
    x.dispose();
    t.dispose();
  });
}
