// nn.Conv2d, ConvTranspose2d, BatchNorm, AvgPool2d/MaxPool2d and LSTM against PyTorch
// (tests/nn/conv_torch.py): same parameter names, outputs, input and parameter gradients,
// running statistics.
import {
  AvgPool2d,
  backward,
  BatchNorm,
  Conv2d,
  ConvTranspose2d,
  LSTM,
  MaxPool2d,
  type Module,
  mul,
  readAll,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../internal.ts";
import { assertClose, gpuTest } from "../helpers.ts";

interface Arr {
  shape: number[];
  data: number[];
}
interface Case {
  params: Record<string, Arr>;
  x: Arr;
  y: Arr;
  w: number[];
  gx: number[];
  grads: Record<string, number[]>;
}
const fx: Record<string, Case> = JSON.parse(
  await Deno.readTextFile(new URL("./conv_torch.json", import.meta.url)),
);

async function check(
  name: string,
  m: Module & { forward(x: Tensor<"f32">): unknown },
  pick: (y: unknown) => Tensor<"f32"> = (y) => y as Tensor<"f32">,
) {
  const c = fx[name];
  const names = new Set(m.namedParameters().map(([n]) => n));
  for (const [k, v] of Object.entries(c.params)) {
    if (names.has(k)) tidy(() => m.setParameter(k, tensor(v.data, v.shape)));
  }
  await tidy(async () => {
    const x = tensor(c.x.data, c.x.shape);
    x.requiresGrad = true;
    const y = pick(m.forward(x));
    backward(sum(mul(y, tensor(c.w, c.y.shape))));
    const params = m.namedParameters();
    const got = await readAll([y, x.grad!, ...params.map(([, p]) => p.grad!)]);
    const tol = { atol: 1e-4, rtol: 1e-4 };
    assertClose(got[0], c.y.data, { ...tol, msg: `${name} y` });
    assertClose(got[1], c.gx, { ...tol, msg: `${name} dx` });
    params.forEach(([n], i) =>
      assertClose(got[2 + i], c.grads[n], { ...tol, msg: `${name} d${n}` })
    );
    x.grad!.dispose();
    m.zeroGrad();
  });
}

gpuTest("nn.Conv2d (groups, stride, padding) matches PyTorch", async () => {
  const m = new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2 });
  await check("conv", m);
  m.dispose();
});

gpuTest("nn.ConvTranspose2d (stride, padding, output padding) matches PyTorch", async () => {
  const m = new ConvTranspose2d(3, 4, 3, { stride: 2, padding: 1, outputPadding: 1 });
  await check("convT", m);
  m.dispose();
});

gpuTest("nn.BatchNorm (training) matches PyTorch, running statistics included", async () => {
  const m = new BatchNorm(3);
  await check("bn", m);
  const [rm, rv] = await readAll([m.runningMean, m.runningVar]);
  assertClose(rm, fx.bn.params.running_mean.data, { atol: 1e-5, msg: "running_mean" });
  assertClose(rv, fx.bn.params.running_var.data, { atol: 1e-5, msg: "running_var" });
  m.dispose();
});

gpuTest("nn.AvgPool2d and nn.MaxPool2d match PyTorch", async () => {
  await check("avg", new AvgPool2d(3, { stride: 2, padding: 1 }));
  await check("max", new MaxPool2d(3, { stride: 1, padding: 1 }));
});

gpuTest("nn.LSTM (2 layers, bidirectional, batch first) matches PyTorch", async () => {
  const m = new LSTM(5, 3, { numLayers: 2, bidirectional: true });
  await check("lstm", m, (r) => (r as { output: Tensor<"f32"> }).output);
  m.dispose();
});
