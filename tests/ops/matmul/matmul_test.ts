// matmul: every transpose combination and batch layout (2-D, 3-D, batch-1 broadcast on either
// side) against a CPU reference, over random sizes (1, primes, non-multiples of the 8×8 tile,
// empty), with gradients and bad input.
import fc from "npm:fast-check@3";
import { matmul, readAll, type Tensor, tensor, tidy } from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";

async function vals(f: () => Tensor[]): Promise<number[][]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out.map((a) => [...a]);
}

/** op(A)·op(B) for A [ba, ·, ·], B [bb, ·, ·] with batch broadcasting (float64 sums). */
function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  { m, n, k, ba, bb, transA, transB }: {
    m: number;
    n: number;
    k: number;
    ba: number;
    bb: number;
    transA: boolean;
    transB: boolean;
  },
): Float64Array {
  const batch = Math.max(ba, bb);
  const c = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = (ba === 1 ? 0 : t) * m * k;
    const bo = (bb === 1 ? 0 : t) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = a[ao + (transA ? p * m + i : i * k + p)];
          const bv = b[bo + (transB ? j * k + p : p * n + j)];
          s += av * bv;
        }
        c[(t * m + i) * n + j] = s;
      }
    }
  }
  return c;
}

/** Operand shapes: 2-D when batch is null, else [batch, ·, ·]. */
function shapes(
  m: number,
  n: number,
  k: number,
  ba: number | null,
  bb: number | null,
  ta: boolean,
  tb: boolean,
) {
  const as = ta ? [k, m] : [m, k];
  const bs = tb ? [n, k] : [k, n];
  return [ba === null ? as : [ba, ...as], bb === null ? bs : [bb, ...bs]];
}

const dim = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constantFrom(1, 7, 8, 9, 17, 33));
const batchArb = fc.constantFrom<(number | null)[]>(
  [null, null],
  [3, 3],
  [3, null],
  [null, 2],
  [1, 4],
  [4, 1],
  [1, 1],
);

gpuTest("matmul: random sizes, transposes and batch layouts match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      dim,
      dim,
      dim,
      batchArb,
      fc.boolean(),
      fc.boolean(),
      fc.integer({ max: 999 }),
      async (m, n, k, [ba, bb], transA, transB, seed) => {
        const [as, bs] = shapes(m, n, k, ba, bb, transA, transB);
        const a = randArray(as.reduce((x, y) => x * y), seed);
        const b = randArray(bs.reduce((x, y) => x * y), seed + 1);
        const [c] = await vals(() => {
          const out = matmul(tensor(a, as), tensor(b, bs), { transA, transB });
          const batch = Math.max(ba ?? 1, bb ?? 1);
          assert.deepEqual(out.shape, ba === null && bb === null ? [m, n] : [batch, m, n]);
          return [out];
        });
        const ref = matmulRef(a, b, { m, n, k, ba: ba ?? 1, bb: bb ?? 1, transA, transB });
        assertClose(c, ref, {
          atol: 1e-4,
          rtol: 1e-4,
          msg: `A [${as}] B [${bs}] ${transA} ${transB}`,
        });
      },
    ),
    { numRuns: 20 },
  );
});

gpuTest("matmul: a larger product and empty dims", async () => {
  const a = randArray(70 * 129, 1);
  const b = randArray(129 * 65, 2);
  const [c, e0, e1, e2] = await vals(() => [
    matmul(tensor(a, [70, 129]), tensor(b, [129, 65])),
    matmul(tensor([], [3, 0]), tensor([], [0, 4])), // k = 0: zeros
    matmul(tensor([], [0, 5]), tensor(randArray(10, 3), [5, 2])),
    matmul(tensor([], [0, 2, 3]), tensor(randArray(12, 4), [3, 4])),
  ]);
  // Regression: an empty batch broadcast against a batch of 1 gave a batch of 1.
  const e3 = tidy(() => matmul(tensor([], [0, 2, 3]), tensor(randArray(12, 4), [1, 3, 4])));
  assert.deepEqual(e3.shape, [0, 2, 4]);
  e3.dispose();
  const ref = matmulRef(a, b, { m: 70, n: 65, k: 129, ba: 1, bb: 1, transA: false, transB: false });
  assertClose(c, ref, { atol: 1e-3, rtol: 1e-4 });
  assert.deepEqual(e0, new Array(12).fill(0));
  assert.deepEqual(e1, []);
  assert.deepEqual(e2, []);
});

gpuTest("matmul: finite-difference gradients for every transpose and batch layout", async () => {
  for (const [ba, bb] of [[null, null], [2, 2], [2, null], [null, 2], [1, 3]]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const [as, bs] = shapes(3, 5, 4, ba, bb, transA, transB);
        const a = randArray(as.reduce((x, y) => x * y), 91);
        const b = randArray(bs.reduce((x, y) => x * y), 92);
        try {
          await checkGrad((x, y) => matmul(x, y, { transA, transB }), [a, b], [as, bs]);
        } catch (e) {
          throw new Error(`A [${as}] B [${bs}] ${transA} ${transB}: ${(e as Error).message}`);
        }
      }
    }
  }
});

gpuTest("matmul: bad input names the op and shapes", () => {
  tidy(() => {
    const a = tensor(new Float32Array(6), [2, 3]);
    assert.throws(
      () => matmul(a, tensor(new Float32Array(8), [4, 2])),
      /wgrec matmul: \[2, 3\] · \[4, 2\] do not fit \(inner dims 3 vs 4, batches 1 vs 1\)/,
    );
    assert.throws(
      () => matmul(a, a, { transB: false }),
      /wgrec matmul: \[2, 3\] · \[2, 3\] do not fit/,
    );
    assert.throws(
      () =>
        matmul(tensor(new Float32Array(12), [2, 2, 3]), tensor(new Float32Array(18), [3, 3, 2])),
      /wgrec matmul: \[2, 2, 3\] · \[3, 3, 2\] do not fit \(inner dims 3 vs 3, batches 2 vs 3\)/,
    );
    assert.throws(
      () => matmul(tensor([1, 2, 3]), a),
      /wgrec matmul: operands \[3\] and \[2, 3\] must have rank 2 or 3/,
    );
    assert.throws(
      () => matmul(a, tensor(new Int32Array(6), [3, 2]) as unknown as Tensor<"f32">),
      /wgrec matmul: right operand \[3, 2\] has dtype i32, expected f32/,
    );
  });
});
