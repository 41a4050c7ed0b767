// GIST's asymmetric similarity integration against the PyTorch re-implementation in
// fixtures/make_gist.py: output, σ, and every gradient; σ is not symmetric.
import { assertClose, gpuTest } from "../../helpers.ts";
import assert from "node:assert/strict";
import { backward, mul, readAll, sum, tensor, tidy } from "../../../internal.ts";
import { AsymmetricSimilarity } from "../../../src/models/gist/asi.ts";

type Arr = { shape: number[]; data: number[] };
const FX = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/asi.json", import.meta.url)),
) as {
  B: number;
  K: number;
  DT: number;
  DS: number;
  D: number;
  params: Record<string, Arr>;
  inputs: Record<"target" | "source", Arr>;
  G: number[];
  out: number[];
  sigma: number[];
  grads: Record<string, number[]>;
};

gpuTest("GIST ASI: output, similarity and every gradient match PyTorch", async () => {
  const m = new AsymmetricSimilarity(FX.DT, FX.DS, FX.D);
  assert.deepEqual(m.namedParameters().map(([n]) => n).sort(), Object.keys(FX.params).sort());
  for (const [n, p] of Object.entries(FX.params)) {
    const t = tensor(Float32Array.from(p.data), p.shape);
    m.setParameter(n, t);
    t.dispose();
  }
  await tidy(async () => {
    const x = Object.fromEntries(
      Object.entries(FX.inputs).map(([n, a]) => {
        const t = tensor(Float32Array.from(a.data), a.shape);
        t.requiresGrad = true;
        return [n, t];
      }),
    );
    const out = m.forward(x.target, x.source);
    const sigma = m.similarity(x.target, x.source);
    backward(sum(mul(out, tensor(Float32Array.from(FX.G), [FX.B, FX.D + 2]))));
    const [o, s] = await readAll([out, sigma]);
    assertClose(o, FX.out, { atol: 1e-5, rtol: 1e-4, msg: "out" });
    assertClose(s, FX.sigma, { atol: 1e-5, rtol: 1e-4, msg: "σ" });
    const named = [...m.namedParameters(), ...Object.entries(x)];
    const gs = await readAll(named.map(([, p]) => p.grad!));
    named.forEach(([n], i) =>
      assertClose(gs[i], FX.grads[n], { atol: 1e-5, rtol: 1e-3, msg: `∂${n}` })
    );
  });
  m.dispose();
});

gpuTest("GIST ASI: σ(a, b) ≠ σ(b, a), and bad shapes are refused", async () => {
  const m = new AsymmetricSimilarity(3, 3, 2, 5);
  await tidy(async () => {
    const a = tensor(Float32Array.from([1, 0.5, -1]), [1, 3]);
    const b = tensor(Float32Array.from([0.2, -0.7, 0.4]), [1, 3]);
    const [ab, ba] = await readAll([
      m.similarity(a, tensor(Float32Array.from([0.2, -0.7, 0.4]), [1, 1, 3])),
      m.similarity(b, tensor(Float32Array.from([1, 0.5, -1]), [1, 1, 3])),
    ]);
    assert.ok(Math.abs(ab[0] - ba[0]) > 1e-4, `σ(a,b) ${ab[0]} vs σ(b,a) ${ba[0]}`);
    assert.throws(() => m.forward(a, b), /AsymmetricSimilarity: .*\[B, K ≥ 1, 3\]/);
  });
  m.dispose();
});
