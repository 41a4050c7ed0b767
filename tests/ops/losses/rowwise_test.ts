// rowDot, frobenius and embNormSum (fused kernels): float64 CPU references or the composed ops
// over awkward shapes (one row, primes, one column, norms over one and several blocks),
// finite-difference gradients, the zero vector's gradient, and bad inputs.
import fc from "npm:fast-check@3";
import {
  add,
  backward,
  embNormSum,
  frobenius,
  gather,
  indexTensor,
  mul,
  readAll,
  rowDot,
  sum,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { Rng } from "../../../src/random.ts";

gpuTest("rowDot: values and both gradients match float64 references", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2, 7, 31, 257),
      fc.constantFrom(1, 3, 4, 13, 64, 70),
      fc.integer({ min: 0, max: 1e6 }),
      async (rows, d, seed) => {
        const a = randArray(rows * d, seed);
        const b = randArray(rows * d, seed + 1);
        const w = randArray(rows, seed + 2);
        const [y, ga, gb] = await readAll(tidy(() => {
          const at = tensor(a, [rows, d]);
          const bt = tensor(b, [rows, d]);
          at.requiresGrad = bt.requiresGrad = true;
          const y = rowDot(at, bt);
          backward(sum(mul(y, tensor(w, [rows]))));
          return [y, at.grad!, bt.grad!];
        }));
        const ref = Array.from({ length: rows }, (_, r) => {
          let s = 0;
          for (let c = 0; c < d; c++) s += a[r * d + c] * b[r * d + c];
          return s;
        });
        assertClose(y, ref, { atol: 1e-5, rtol: 1e-5 });
        assertClose(ga, Array.from(b, (v, i) => w[Math.floor(i / d)] * v), { atol: 1e-6 });
        assertClose(gb, Array.from(a, (v, i) => w[Math.floor(i / d)] * v), { atol: 1e-6 });
      },
    ),
    { numRuns: 12 },
  );
});

gpuTest("frobenius: one block, several blocks and a partial last block", async () => {
  for (const n of [1, 2, 1023, 1024, 1025, 3 * 1024 + 17, 40000]) {
    const x = randArray(n, n);
    const [y] = await readAll([tidy(() => frobenius(tensor(x, [n])))]);
    const ref = Math.sqrt(x.reduce((s, v) => s + v * v, 0));
    assertClose(y, [ref], { rtol: 1e-5, msg: `n ${n}` });
  }
});

gpuTest("rowDot and frobenius pass checkGrad; the norm's gradient at 0 is 0", async () => {
  await checkGrad((a, b) => rowDot(a, b), [randArray(15, 1), randArray(15, 2)], [[5, 3], [5, 3]]);
  await checkGrad((x) => frobenius(x), [randArray(2100, 3)], [[30, 70]]);
  const [g] = await readAll([tidy(() => {
    const x = tensor(new Float32Array(6), [2, 3]);
    x.requiresGrad = true;
    backward(frobenius(x));
    return x.grad!;
  })]);
  assert.deepEqual([...g], [0, 0, 0, 0, 0, 0]);
});

gpuTest("rowDot rejects operands that differ in shape, naming both", () => {
  assert.throws(
    () => tidy(() => rowDot(tensor(randArray(6, 1), [2, 3]), tensor(randArray(6, 2), [3, 2]))),
    /rowDot.*\[2, 3\].*\[3, 2\]/,
  );
});

gpuTest(
  "embNormSum: equals Σ frobenius(gather(t, ids)) with its gradient; host or device ids",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 3, 17, 200),
        fc.constantFrom(1, 4, 64),
        fc.constantFrom(1, 2, 3),
        fc.constantFrom(1, 9, 700),
        fc.boolean(),
        fc.integer({ min: 0, max: 1e6 }),
        async (rows, d, L, b, host, seed) => {
          const x = randArray(rows * d, seed);
          const ls = Array.from({ length: L }, (_, j) => {
            const r = new Rng(seed + 1 + j);
            return Int32Array.from({ length: b }, () => r.int(rows));
          });
          const run = (fused: boolean) =>
            tidy(() => {
              const t = tensor(x, [rows, d]);
              t.requiresGrad = true;
              const ids = ls.map((l) => host ? indexTensor(l, rows) : tensor(l, [b], "i32"));
              const y = fused
                ? embNormSum(t, ids)
                : ids.map((i) => frobenius(gather(t, i))).reduce((p, q) => add(p, q));
              backward(y);
              return [y, t.grad!];
            });
          const [yf, gf] = await readAll(run(true));
          const [yc, gc] = await readAll(run(false));
          const what = `rows ${rows}, d ${d}, L ${L}, B ${b}, host ${host}`;
          assertClose(yf, yc, { rtol: 1e-5, msg: what });
          // The composed gradient sums a repeated row once per occurrence: rounding grows with B.
          assertClose(gf, gc, { rtol: 1e-4, atol: 1e-7, msg: what });
        },
      ),
      { numRuns: 16 },
    );
    await checkGrad(
      (t) => embNormSum(t, [indexTensor([0, 2, 2], 4), indexTensor([3, 1, 0], 4)]),
      [randArray(4 * 5, 9)],
      [[4, 5]],
    );
  },
);

gpuTest("rowDot: rows wider than one loop may run take the composed path", async () => {
  const d = 40000;
  const a = randArray(2 * d, 31);
  const b = randArray(2 * d, 32);
  const [y] = await readAll([tidy(() => rowDot(tensor(a, [2, d]), tensor(b, [2, d])))]);
  const ref = [0, 1].map((r) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += a[r * d + c] * b[r * d + c];
    return s;
  });
  assertClose(y, ref, { rtol: 1e-4, atol: 1e-3 });
});
