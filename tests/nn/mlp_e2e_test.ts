// End to end: a 2-layer MLP trained with Adam on BCE must follow PyTorch's loss curve step by
// step and reach its accuracy (fixture: tests/fixtures/make_mlp.py), and 1,000 training steps
// must leave GPU memory flat.
import {
  Adam,
  backward,
  keep,
  mean,
  memory,
  MLP,
  mul,
  readAll,
  reshape,
  softplus,
  sub,
  type Tensor,
  tensor,
  tidy,
} from "../../internal.ts";
import { assert, assertClose, gpuTest } from "../helpers.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/mlp_golden.json", import.meta.url)),
);

/** BCE with logits, mean over the batch: softplus(z) − y·z. */
function bce(z: Tensor<"f32">, y: Tensor<"f32">): Tensor<"f32"> {
  return mean(sub(softplus(z), mul(y, z)));
}

function setup() {
  const { n, d, h } = golden;
  const model = new MLP([d, h, 1], "relu");
  for (const [name, values] of Object.entries<number[]>(golden.init)) {
    // PyTorch's Sequential names layers 0 and 2 (the ReLU is 1); ours are 0 and 1.
    const ours = name.replace(/^2\./, "1.");
    const shape = model.namedParameters().find(([k]) => k === ours)![1].shape;
    model.setParameter(ours, tensor(values, shape));
  }
  const x = keep(tensor(golden.x, [n, d]));
  const y = keep(tensor(golden.y, [n]));
  return { model, x, y };
}

gpuTest("MLP + Adam follows PyTorch's loss curve and accuracy", async () => {
  const { model, x, y } = setup();
  const opt = new Adam(model.parameters(), { lr: golden.lr });
  const losses: Tensor[] = [];
  for (let step = 0; step < golden.steps; step++) {
    tidy(() => {
      const z = reshape(model.forward(x), [golden.n]);
      const loss = bce(z, y);
      backward(loss);
      opt.step();
      opt.zeroGrad();
      losses.push(keep(loss));
    });
  }
  const ours = (await readAll(losses)).map((a) => a[0]);
  // f32 on both sides, different summation orders: agree to ~1e-3 relative over 150 steps.
  assertClose(ours, golden.losses, { rtol: 2e-3, atol: 2e-4, msg: "loss curve" });
  const z = await tidy(() => keep(model.forward(x))).read();
  const labels = await y.read();
  let correct = 0;
  for (let i = 0; i < labels.length; i++) correct += Number((z[i] > 0) === (labels[i] === 1));
  const acc = correct / labels.length;
  assert.ok(Math.abs(acc - golden.accuracy) <= 2 / labels.length, `accuracy ${acc}`);
  assert.ok(acc > 0.95, `accuracy ${acc} should exceed 0.95`);
  for (const l of losses) l.dispose();
  model.dispose();
  opt.dispose();
  x.dispose();
  y.dispose();
});

gpuTest("1,000 training steps leave memory() flat", async () => {
  const { model, x, y } = setup();
  const opt = new Adam(model.parameters(), { lr: golden.lr });
  const step = () =>
    tidy(() => {
      backward(bce(reshape(model.forward(x), [golden.n]), y));
      opt.step();
      opt.zeroGrad();
    });
  for (let i = 0; i < 10; i++) step(); // warm-up: optimizer state and pool buckets appear
  await x.read(); // flush
  const before = memory();
  for (let i = 0; i < 1000; i++) step();
  await x.read();
  const after = memory();
  // Bound: exactly the same live and pooled bytes, buffers and tensors after as before.
  assert.deepEqual(after, before);
  model.dispose();
  opt.dispose();
  x.dispose();
  y.dispose();
});
