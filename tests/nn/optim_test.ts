// Optimizer steps against PyTorch (tests/fixtures/make_optim.py).
import { Adam, AdamW, keep, type Optimizer, SGD, type Tensor, tensor } from "../../internal.ts";
import { assert, assertClose, gpuTest } from "../helpers.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/optim_golden.json", import.meta.url)),
);

const make: Record<string, (p: Tensor<"f32">[], o: Record<string, unknown>) => Optimizer> = {
  sgd: (p, o) => new SGD(p, { lr: o.lr as number }),
  sgd_momentum: (p, o) =>
    new SGD(p, { lr: o.lr as number, momentum: 0.9, weightDecay: o.weight_decay as number }),
  sgd_nesterov: (p, o) => new SGD(p, { lr: o.lr as number, momentum: 0.9, nesterov: true }),
  adam: (p, o) => new Adam(p, { lr: o.lr as number, weightDecay: o.weight_decay as number }),
  adamw: (p, o) => new AdamW(p, { lr: o.lr as number, weightDecay: o.weight_decay as number }),
};

for (
  const [name, c] of Object.entries<{ opts: Record<string, unknown>; params: number[][] }>(
    golden.cases,
  )
) {
  gpuTest(`${name} matches torch.optim over three steps`, async () => {
    const p = keep(tensor(golden.p0));
    const opt = make[name]([p], c.opts);
    for (let s = 0; s < 3; s++) {
      p.grad = keep(tensor(golden.grads[s]));
      opt.step();
      opt.zeroGrad();
      assertClose(await p.read(), c.params[s], {
        atol: 1e-6,
        rtol: 1e-5,
        msg: `${name} step ${s}`,
      });
    }
    assert.equal(opt.steps, 3);
    opt.dispose();
    p.dispose();
  });
}

gpuTest("a parameter without a gradient is left alone", async () => {
  const a = keep(tensor([1, 2]));
  const b = keep(tensor([3, 4]));
  const opt = new Adam([a, b], { lr: 0.1 });
  a.grad = keep(tensor([1, 1]));
  opt.step();
  opt.zeroGrad();
  assert.deepEqual([...await b.read()], [3, 4]);
  assert.ok((await a.read())[0] < 1);
  opt.dispose();
  a.dispose();
  b.dispose();
});
