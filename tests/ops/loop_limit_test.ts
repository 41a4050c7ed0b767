// Software adapters (Mesa lavapipe) stop a shader invocation after 65,535 loop iterations and
// return what it has so far, with no error. Kernels whose loops grow with the input must split
// the work; these cases would come out wrong otherwise.
import {
  affine,
  full,
  kernel,
  max,
  MAX_SINGLE_LOOP,
  SparseMatrix,
  spmm,
  sum,
  tidy,
  zeros,
} from "../../internal.ts";
import { launch, output } from "../../src/ops/common.ts";
import { adapterClass } from "../../src/ops/matmul/select.ts";
import { assert, gpuTest, runtime } from "../helpers.ts";

const countK = kernel({
  name: "loop_count_test",
  source: `@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var c = 0u;
  for (var i = 0u; i < u.outer; i++) { for (var j = 0u; j < u.inner; j++) { c += 1u; } }
  out[g.x] = c;
}`,
  bindings: { out: "u32 rw" },
  uniforms: { outer: "u32", inner: "u32" },
  workgroupSize: [64],
});

gpuTest(
  "the loop budget: one loop of MAX_SINGLE_LOOP trips runs; nested loops share 65,535",
  async () => {
    const count = async (outer: number, inner: number) => {
      const out = output("loop_count_test", [64], "u32");
      launch("loop_count_test", countK, {
        buffers: { out: out.buffer },
        uniforms: { outer, inner },
        workgroups: [1],
      });
      const v = await out.read();
      out.dispose();
      return v[0];
    };
    assert.equal(await count(1, MAX_SINGLE_LOOP), MAX_SINGLE_LOOP);
    // 300 × 300 inner trips (+300 outer): past the budget when every loop draws on one counter.
    const nested = await count(300, 300);
    if (adapterClass(runtime().gpu.adapter.description) === "software") assert.ok(nested < 90_000);
    else assert.equal(nested, 90_000);
  },
);

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
