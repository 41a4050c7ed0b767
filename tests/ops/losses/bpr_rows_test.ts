// bprRows against the composed ops it replaces (gathers, rowDot, bprLoss) and a float64
// reference, forward and table gradient, over awkward shapes (one row, one column, primes),
// repeated ids and ids made on the host (CSR sorted there) or on the device; finite
// differences; bad inputs.
import fc from "npm:fast-check@3";
import {
  add,
  backward,
  bprLoss,
  bprRows,
  embNormSum,
  gather,
  indexTensor,
  readAll,
  rowDot,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray, runtime } from "../../helpers.ts";
import { Rng } from "../../../src/random.ts";

function ids(n: number, rows: number, seed: number): Int32Array {
  const r = new Rng(seed);
  return Int32Array.from({ length: n }, () => r.int(rows));
}

gpuTest("bprRows: equals the composed ops and a float64 reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2, 5, 31, 97),
      fc.constantFrom(1, 3, 8, 64),
      fc.constantFrom(1, 7, 100),
      fc.boolean(),
      fc.integer({ min: 0, max: 1e6 }),
      async (rows, d, b, host, seed) => {
        const x = randArray(rows * d, seed);
        const [u, p, n] = [0, 1, 2].map((k) => ids(b, rows, seed + 1 + k));
        const idx = (a: Int32Array) => host ? indexTensor(a, rows) : tensor(a, [b], "i32");
        const run = (fused: boolean) =>
          tidy(() => {
            const t = tensor(x, [rows, d]);
            t.requiresGrad = true;
            const [iu, ip, iN] = [u, p, n].map(idx);
            const loss = fused ? bprRows(t, iu, ip, iN) : bprLoss(
              rowDot(gather(t, iu), gather(t, ip)),
              rowDot(gather(t, iu), gather(t, iN)),
            );
            backward(loss);
            return [loss, t.grad!] as Tensor<"f32">[];
          });
        const [lf, gf] = await readAll(run(true));
        const [lc, gc] = await readAll(run(false));
        const what = `rows ${rows}, d ${d}, B ${b}, host ${host}`;
        assertClose(lf, lc, { rtol: 1e-6, atol: 1e-7, msg: what });
        assertClose(gf, gc, { rtol: 1e-5, atol: 1e-6, msg: what }); // terms cancel at one row
        // float64
        const dot = (i: number, j: number) => {
          let s = 0;
          for (let c = 0; c < d; c++) s += x[i * d + c] * x[j * d + c];
          return s;
        };
        let ref = 0;
        const g = new Float64Array(rows * d);
        for (let k = 0; k < b; k++) {
          const z = dot(u[k], n[k]) - dot(u[k], p[k]);
          ref += Math.log1p(Math.exp(z)) / b;
          const s = 1 / (1 + Math.exp(-z)) / b;
          for (let c = 0; c < d; c++) {
            g[u[k] * d + c] += s * (x[n[k] * d + c] - x[p[k] * d + c]);
            g[p[k] * d + c] -= s * x[u[k] * d + c];
            g[n[k] * d + c] += s * x[u[k] * d + c];
          }
        }
        assertClose(lf, [ref], { rtol: 1e-4, atol: 1e-6, msg: what });
        assertClose(gf, g, { rtol: 1e-4, atol: 1e-5, msg: what });
      },
    ),
    { numRuns: 16 },
  );
});

gpuTest("bprRows: finite differences; bad ids and shapes are named", async () => {
  const [u, p, n] = [Int32Array.of(0, 3, 3), Int32Array.of(1, 2, 4), Int32Array.of(4, 4, 0)];
  await checkGrad(
    (t) => bprRows(t, indexTensor(u, 5), indexTensor(p, 5), indexTensor(n, 5)),
    [randArray(5 * 6, 3)],
    [[5, 6]],
  );
  assert.throws(
    () =>
      tidy(() =>
        bprRows(
          tensor(randArray(10, 1), [5, 2]),
          indexTensor(u, 9),
          indexTensor(Int32Array.of(1, 7, 2), 9),
          indexTensor(n, 9),
        )
      ),
    /bprRows: index 7 at flat position 1 .* out of range for table \[5, 2\]/,
  );
  assert.throws(
    () =>
      tidy(() =>
        bprRows(
          tensor(randArray(10, 1), [5, 2]),
          indexTensor(u, 5),
          indexTensor(Int32Array.of(1, 2), 5),
          indexTensor(n, 5),
        )
      ),
    /bprRows: users \[3\], pos \[2\] and neg \[3\] must be the same \[B\]/,
  );
});

gpuTest("bprRows: a row named by 8000 triples sums them all (software loop limit)", async () => {
  const b = 8000;
  const rows = 40;
  const d = 20; // two column groups, the second partial
  const x = randArray(rows * d, 11);
  const u = new Int32Array(b); // every triple's user is row 0
  const p = ids(b, rows, 12);
  const n = ids(b, rows, 13);
  const run = (fused: boolean) =>
    tidy(() => {
      const t = tensor(x, [rows, d]);
      t.requiresGrad = true;
      const [iu, ip, iN] = [u, p, n].map((a) => indexTensor(a, rows));
      backward(
        fused ? bprRows(t, iu, ip, iN) : bprLoss(
          rowDot(gather(t, iu), gather(t, ip)),
          rowDot(gather(t, iu), gather(t, iN)),
        ),
      );
      return t.grad!;
    });
  const [gf] = await readAll([run(true)]);
  const [gc] = await readAll([run(false)]);
  assertClose(gf, gc, { rtol: 1e-4, atol: 1e-6 });
});

gpuTest("bprRows and embNormSum: no buffer outlives a step", async () => {
  const x = randArray(30 * 8, 21);
  const [u, p, n] = [0, 1, 2].map((k) => ids(50, 30, 22 + k));
  const step = () =>
    tidy(() => {
      const t = tensor(x, [30, 8]);
      t.requiresGrad = true;
      const [iu, ip, iN] = [u, p, n].map((a) => indexTensor(a, 30));
      backward(add(bprRows(t, iu, ip, iN), embNormSum(t, [iu, ip, iN])));
      return t.grad!;
    });
  const warm = step(); // fills the caches (pipelines, pool)
  await readAll([warm]);
  warm.dispose();
  const before = runtime().memory().liveBuffers;
  const g = step();
  await readAll([g]);
  g.dispose();
  assert.equal(runtime().memory().liveBuffers, before);
});
