// The vec4 spmm kernel (CV = 1 … 16 column groups per invocation, rows in natural or
// descending-length order) against the scalar kernel and a dense CPU product, over widths that
// do and do not divide into groups; its gradient; and rows longer than the loop cap (summed in
// blocks).
import fc from "npm:fast-check@3";
import {
  backward,
  balancedRowOrder,
  knnGraph,
  MAX_SINGLE_LOOP,
  mul,
  readAll,
  ROW_GROUP,
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

async function run(
  a: SparseMatrix,
  x: Float32Array,
  shape: number[],
  cv: 0 | 1 | 2 | 4 | 8 | 16,
  ordered = true,
) {
  setSpmmColumnQuads(cv, ordered);
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
        for (const cv of [1, 2, 4, 8, 16] as const) {
          // Rows by descending length, and in natural order (as GPU-built matrices come).
          for (const ordered of [true, false]) {
            const y = await run(a, x, [n, d], cv, ordered);
            assertClose(y, ref, { atol: 1e-6, rtol: 1e-6, msg: `CV ${cv}, ordered ${ordered}` });
          }
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
  const nnz = MAX_SINGLE_LOOP + 1000;
  const rows = new Int32Array(nnz); // all in row 0 of a 2-row matrix
  const cols = Int32Array.from({ length: nnz }, (_, j) => j % 5);
  const vals = new Float32Array(nnz).fill(1);
  const a = SparseMatrix.fromCOO(rows, cols, vals, [2, 5]);
  const x = Float32Array.from({ length: 5 * 4 }, (_, i) => (i % 4) + 1);
  for (const cv of [1, 4, 16] as const) {
    const y = await run(a, x, [5, 4], cv, cv === 16);
    assertClose(y, [nnz, 2 * nnz, 3 * nnz, 4 * nnz, 0, 0, 0, 0], { rtol: 1e-5 });
  }
  a.dispose();
});

gpuTest("spmm vec4: every matrix's row order (built on the GPU) is balancedRowOrder", async () => {
  const c = randCsr(203, 61, 900, 7);
  const a = SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [203, 61]);
  const x = tensor(randArray(203 * 16, 8), [203, 16]);
  const k = knnGraph(x, 5); // built on the GPU, as is its transpose
  for (const s of [a, a.transpose(), k, k.transpose()]) {
    const [ptr, order] = await readAll([s.rowPtr, s.rowOrder]);
    assert.deepEqual([...order], [...balancedRowOrder(ptr)], `${s}`);
  }
  a.dispose();
  k.dispose();
  x.dispose();
});

gpuTest(
  "balancedRowOrder: the halves of a power-law matrix differ by at most the longest group",
  () => {
    for (const m of [1, 7, 9, 16, 299, 1500, 4099]) { // full and partial groups, 2^k groups or not
      const ptr = new Int32Array(m + 1);
      const r = new Rng(m);
      for (let i = 0; i < m; i++) {
        ptr[i + 1] = ptr[i] +
          Math.floor(3 / Math.pow(r.uniform() + 1e-3, 1.2));
      }
      const order = balancedRowOrder(ptr);
      assert.deepEqual([...order].sort((i, j) => i - j), [...order.keys()], "a permutation");
      const work = (rows: Int32Array) => rows.reduce((s, i) => s + ptr[i + 1] - ptr[i], 0);
      const full = Math.floor(m / ROW_GROUP) * ROW_GROUP; // a partial group comes last
      const cut = Math.floor(full / ROW_GROUP / 2) * ROW_GROUP;
      const [a, b] = [work(order.slice(0, cut)), work(order.slice(cut, full))];
      const longest = work(order.slice(0, ROW_GROUP));
      assert.ok(
        Math.abs(a - b) <= longest,
        `m ${m}: halves ${a} and ${b}, longest group ${longest}`,
      );
    }
  },
);
