// The vec4 spmm kernel (CV = 1, 2, 4 column groups per invocation) against the scalar kernel
// and a dense CPU product, over widths that do and do not divide into groups; its gradient;
// and rows longer than the loop cap (summed in blocks).
import fc from "npm:fast-check@3";
import {
  backward,
  MAX_LOOP,
  mul,
  readAll,
  setSpmmColumnQuads,
  SparseMatrix,
  spmm,
  spmmColumnQuads,
  sum,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { Rng } from "../../../src/random.ts";

function randCsr(m: number, n: number, nnz: number, seed: number) {
  const r = new Rng(seed);
  // Skewed rows: half the entries land in row 0 (a hub), the rest anywhere.
  const rows = Int32Array.from({ length: nnz }, (_, j) => (j % 2 ? 0 : r.int(m)));
  const cols = Int32Array.from({ length: nnz }, () => r.int(n));
  const vals = Float32Array.from({ length: nnz }, () => r.normal());
  return { rows, cols, vals };
}

function cpuSpmm(c: ReturnType<typeof randCsr>, m: number, x: Float32Array, d: number) {
  const y = new Float64Array(m * d);
  c.rows.forEach((row, j) => {
    for (let k = 0; k < d; k++) y[row * d + k] += c.vals[j] * x[c.cols[j] * d + k];
  });
  return y;
}

async function run(a: SparseMatrix, x: Float32Array, shape: number[], cv: 0 | 1 | 2 | 4) {
  setSpmmColumnQuads(cv);
  try {
    const [y] = await readAll([tidy(() => spmm(a, tensor(x, shape)))]);
    return y;
  } finally {
    setSpmmColumnQuads(null);
  }
}

gpuTest("spmm vec4: every column grouping equals the scalar kernel and the CPU", async () => {
  assert.equal(spmmColumnQuads(6), 0, "width 6 takes the scalar kernel");
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 37 }),
      fc.integer({ min: 1, max: 41 }),
      fc.integer({ min: 0, max: 300 }),
      fc.constantFrom(4, 8, 12, 20, 64),
      fc.integer({ min: 0, max: 1e6 }),
      async (m, n, nnz, d, seed) => {
        const c = randCsr(m, n, nnz, seed);
        const a = SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [m, n]);
        const x = randArray(n * d, seed + 1);
        const ref = await run(a, x, [n, d], 0);
        for (const cv of [1, 2, 4] as const) {
          const y = await run(a, x, [n, d], cv);
          assertClose(y, ref, { atol: 1e-6, rtol: 1e-6, msg: `CV ${cv}` });
        }
        assertClose(ref, cpuSpmm(c, m, x, d), { atol: 1e-4 });
        a.dispose();
      },
    ),
    { numRuns: 12 },
  );
});

gpuTest("spmm vec4: gradient through the transpose (finite differences)", async () => {
  const c = randCsr(9, 7, 30, 3);
  const a = SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [9, 7]);
  setSpmmColumnQuads(4);
  try {
    await checkGrad((x) => spmm(a, x), [randArray(7 * 8, 4)], [[7, 8]]);
    const w = randArray(9 * 8, 5);
    const g = tidy(() => {
      const xt = tensor(randArray(7 * 8, 6), [7, 8]);
      xt.requiresGrad = true;
      backward(sum(mul(spmm(a, xt), tensor(w, [9, 8]))));
      return xt.grad!;
    });
    const [gx] = await readAll([g]);
    g.dispose();
    // Aᵀ w on the CPU.
    const ref = new Float64Array(7 * 8);
    c.rows.forEach((row, j) => {
      for (let k = 0; k < 8; k++) ref[c.cols[j] * 8 + k] += c.vals[j] * w[row * 8 + k];
    });
    assertClose(gx, ref, { atol: 1e-4 });
  } finally {
    setSpmmColumnQuads(null);
    a.dispose();
  }
});

gpuTest("spmm vec4: a row longer than the loop cap is summed in blocks", async () => {
  const nnz = MAX_LOOP + 1000;
  const rows = new Int32Array(nnz); // all in row 0 of a 2-row matrix
  const cols = Int32Array.from({ length: nnz }, (_, j) => j % 5);
  const vals = new Float32Array(nnz).fill(1);
  const a = SparseMatrix.fromCOO(rows, cols, vals, [2, 5]);
  const x = Float32Array.from({ length: 5 * 4 }, (_, i) => (i % 4) + 1);
  for (const cv of [1, 4] as const) {
    const y = await run(a, x, [5, 4], cv);
    assertClose(y, [nnz, 2 * nnz, 3 * nnz, 4 * nnz, 0, 0, 0, 0], { rtol: 1e-5 });
  }
  a.dispose();
});
