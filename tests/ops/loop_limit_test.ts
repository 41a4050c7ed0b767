// Software adapters (Mesa lavapipe) stop a shader invocation after 65,535 loop iterations and
// return what it has so far, with no error. Kernels whose loops grow with the input must split
// the work; these cases would come out wrong otherwise.
import { affine, full, max, SparseMatrix, spmm, sum, tidy, zeros } from "../../internal.ts";
import { assert, gpuTest } from "../helpers.ts";

gpuTest("column sums over 100,000 rows", async () => {
  const s = tidy(() => sum(full([100_000, 3], 1), 0));
  assert.deepEqual([...await s.read()], [100_000, 100_000, 100_000]);
  s.dispose();
});

gpuTest("a row sum and a row max over 17 million elements", async () => {
  const n = 17_000_000;
  const [s, m] = tidy(() => {
    const x = affine(zeros([n]), 0, 1); // ones, made on the GPU
    return [sum(x), max(affine(x, 1, 1))];
  });
  assert.equal(await s.item(), n);
  assert.equal(await m.item(), 2);
  s.dispose();
  m.dispose();
});

gpuTest("spmm with a row of 100,000 entries, and its transpose", async () => {
  const n = 100_000;
  const A = SparseMatrix.fromCOO(
    new Int32Array(n),
    Int32Array.from({ length: n }, (_, i) => i),
    new Float32Array(n).fill(1),
    [2, n],
  );
  const y = tidy(() => spmm(A, full([n, 3], 1)));
  assert.deepEqual([...await y.read()], [n, n, n, 0, 0, 0]);
  const t = tidy(() => spmm(A.transpose(), full([2, 1], 1)));
  assert.ok((await t.read()).every((v) => v === 1));
  y.dispose();
  t.dispose();
  A.dispose();
});
