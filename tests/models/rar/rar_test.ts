// RAR: the co-interaction module against the PyTorch re-implementation in
// fixtures/make_rar.py (forward and every gradient), and the GPU selection (SimHash/Hamming and
// exact inner-product top-k, with self-exclusion) against a CPU reference over awkward shapes.
import { assertClose, gpuTest, randArray } from "../../helpers.ts";
import assert from "node:assert/strict";
import fc from "npm:fast-check@3";
import { backward, mul, readAll, sum, tensor, tidy } from "../../../internal.ts";
import { CoInteraction } from "../../../src/models/rar/coint.ts";
import { selectTopK } from "../../../src/models/rar/select.ts";

type Arr = { shape: number[]; data: number[] };
const FX = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/coint.json", import.meta.url)),
) as {
  B: number;
  N: number;
  D: number;
  params: Record<string, Arr>;
  inputs: Record<"target" | "user" | "set", Arr>;
  G: number[];
  r: number[];
  grads: Record<string, number[]>;
};

gpuTest("RAR co-interaction: forward and every gradient match PyTorch", async () => {
  const m = new CoInteraction(FX.D);
  assert.deepEqual(
    m.namedParameters().map(([n]) => n).sort(),
    Object.keys(FX.params).sort(),
  );
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
    const r = m.forward(x.target, x.user, x.set);
    backward(sum(mul(r, tensor(Float32Array.from(FX.G), [FX.B, FX.D]))));
    assertClose((await readAll([r]))[0], FX.r, { atol: 1e-5, rtol: 1e-4, msg: "r" });
    const named = [...m.namedParameters(), ...Object.entries(x)];
    const gs = await readAll(named.map(([, p]) => p.grad!));
    named.forEach(([n], i) =>
      assertClose(gs[i], FX.grads[n], { atol: 1e-5, rtol: 1e-3, msg: `∂${n}` })
    );
  });
  m.dispose();
});

gpuTest("RAR co-interaction: bad shapes are refused naming the op and shapes", () => {
  const m = new CoInteraction(4);
  tidy(() => {
    assert.throws(
      () => {
        const v = tensor(new Float32Array(8), [2, 4]);
        m.forward(v, v, v); // the set must be [B, n, d]
      },
      /CoInteraction: .*expected \[B, 4\], \[B, 4\], \[B, n ≥ 1, 4\]/,
    );
  });
  m.dispose();
});

/** CPU reference: best-first indices by score (larger first), ties to the lower row. */
function cpuTop(
  score: (i: number, j: number) => number,
  nq: number,
  n: number,
  k: number,
  ex?: Int32Array,
) {
  const out: number[] = [];
  for (let i = 0; i < nq; i++) {
    const js = [...Array(n).keys()].filter((j) => !ex || ex[i] !== j);
    js.sort((a, b) => score(i, b) - score(i, a) || a - b);
    out.push(...js.slice(0, k));
  }
  return out;
}

gpuTest("RAR selection: SimHash/Hamming and dot top-k equal a CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 3, max: 41 }),
      fc.integer({ min: 1, max: 5 }),
      fc.constantFrom(1, 3, 33),
      fc.boolean(),
      fc.integer({ min: 0, max: 1000 }),
      async (nq, n, d, bits, excl, seed) => {
        const k = Math.min(5, n - 1);
        const q = randArray(nq * d, seed);
        const p = randArray(n * d, seed + 1);
        const w = randArray(d * bits, seed + 2);
        const ex = excl ? Int32Array.from({ length: nq }, (_, i) => (i * 7) % n) : undefined;
        await tidy(async () => {
          const qt = tensor(q, [nq, d]);
          const pt = tensor(p, [n, d]);
          const planes = tensor(w, [d, bits]);
          const [hs, ds] = await readAll([
            selectTopK(qt, pt, k, { planes, exclude: ex }),
            selectTopK(qt, pt, k, { method: "dot", exclude: ex }),
          ]);
          // f32 sums in order; `stride` walks b's column j (planes) or row j (pool).
          const dot = (a: Float32Array, i: number, b: Float32Array, at: (t: number) => number) => {
            let acc = 0;
            for (let t = 0; t < d; t++) {
              acc = Math.fround(acc + Math.fround(a[i * d + t] * b[at(t)]));
            }
            return acc;
          };
          const code = (x: Float32Array, i: number) =>
            [...Array(bits).keys()].map((b) => dot(x, i, w, (t) => t * bits + b) > 0 ? 1 : 0);
          const qc = [...Array(nq).keys()].map((i) => code(q, i));
          const pc = [...Array(n).keys()].map((j) => code(p, j));
          const ham = (i: number, j: number) =>
            -qc[i].reduce((s: number, b, t) => s + (b ^ pc[j][t]), 0);
          assert.deepEqual([...hs], cpuTop(ham, nq, n, k, ex), "hamming");
          // Inner products: compare scores of the picked rows (near-ties may swap order).
          const ref = cpuTop((i, j) => dot(q, i, p, (t) => j * d + t), nq, n, k, ex);
          for (let t = 0; t < ref.length; t++) {
            const i = Math.floor(t / k);
            assert.ok(
              Math.abs(dot(q, i, p, (u) => ds[t] * d + u) - dot(q, i, p, (u) => ref[t] * d + u)) <
                1e-4,
              "dot",
            );
            if (ex) assert.notEqual(ds[t], ex[i]);
          }
        });
      },
    ),
    { numRuns: 12 },
  );
});
