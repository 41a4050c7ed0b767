// Golden check against PyTorch (tests/fixtures/make_core_ops.py): softmax, log_softmax,
// logsumexp, layer_norm and gelu, forward and backward, on short rows and long rows.
import {
  backward,
  gelu,
  layerNorm,
  logSoftmax,
  logSumExp,
  readAll,
  softmax,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assertClose, gpuTest } from "../../helpers.ts";

interface Case {
  shape: [number, number];
  x: number[];
  gy: number[];
  gy_row: number[];
  gamma: number[];
  beta: number[];
  [op: string]: unknown;
}

const golden: { eps: number; cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("../../fixtures/core_ops.json", import.meta.url)),
);

/** Forward and input gradient of `f` for the given output gradient. */
async function forwardBackward(
  c: Case,
  f: (x: Tensor<"f32">) => Tensor<"f32">,
  gy: number[],
): Promise<Float32Array[]> {
  const ts = tidy(() => {
    const x = tensor(c.x, c.shape);
    x.requiresGrad = true;
    const y = f(x);
    backward(y, tensor(gy, y.shape));
    return [y, x.grad!];
  });
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out as Float32Array[];
}

const tol = { atol: 1e-5, rtol: 1e-4 };

for (const [i, c] of golden.cases.entries()) {
  const name = `[${c.shape}]`;
  const ops: [string, (x: Tensor<"f32">) => Tensor<"f32">, number[]][] = [
    ["softmax", (x) => softmax(x), c.gy],
    ["log_softmax", (x) => logSoftmax(x), c.gy],
    ["logsumexp", (x) => logSumExp(x), c.gy_row],
    ["gelu", gelu, c.gy],
  ];
  gpuTest(`golden ${i} ${name}: softmax, log_softmax, logsumexp, gelu match PyTorch`, async () => {
    for (const [op, f, gy] of ops) {
      const ref = c[op] as { y: number[]; gx: number[] };
      const [y, gx] = await forwardBackward(c, f, gy);
      assertClose(y, ref.y, { ...tol, msg: `${op} y` });
      assertClose(gx, ref.gx, { ...tol, msg: `${op} gx` });
    }
  });

  gpuTest(`golden ${i} ${name}: layer_norm forward and x/γ/β gradients match PyTorch`, async () => {
    const ref = c.layer_norm as { y: number[]; gx: number[]; ggamma: number[]; gbeta: number[] };
    const ts = tidy(() => {
      const x = tensor(c.x, c.shape);
      const g = tensor(c.gamma);
      const b = tensor(c.beta);
      x.requiresGrad = g.requiresGrad = b.requiresGrad = true;
      const y = layerNorm(x, g, b, golden.eps);
      backward(y, tensor(c.gy, c.shape));
      return [y, x.grad!, g.grad!, b.grad!];
    });
    const [y, gx, gg, gb] = await readAll(ts);
    for (const t of ts) t.dispose();
    assertClose(y, ref.y, { ...tol, msg: "y" });
    assertClose(gx, ref.gx, { ...tol, msg: "gx" });
    assertClose(gg, ref.ggamma, { ...tol, msg: "gγ" });
    assertClose(gb, ref.gbeta, { ...tol, msg: "gβ" });
  });
}
