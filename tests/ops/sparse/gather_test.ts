// gather / scatterAdd / exclusiveScan / buildCsr: CPU references over random sizes (not
// multiples of the workgroup sizes, duplicates, V = 1), bitwise determinism of the backward,
// gradient checks, and index validation on the host and on the device.
import fc from "npm:fast-check@3";
import {
  backward,
  buildCsr,
  checkIndices,
  exclusiveScan,
  gather,
  indexTensor,
  init,
  mul,
  readAll,
  runtime,
  scatterAdd,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { Rng } from "../../../src/random.ts";

function randInts(n: number, bound: number, seed: number): Int32Array {
  const r = new Rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r.uniform() * bound));
}

function gatherRef(table: ArrayLike<number>, row: number, idx: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < idx.length; i++) {
    for (let c = 0; c < row; c++) out.push(table[idx[i] * row + c]);
  }
  return out;
}

/** Sums in ascending source order in f32 — the order the GPU uses, so results are equal. */
function scatterRef(vals: ArrayLike<number>, row: number, idx: ArrayLike<number>, rows: number) {
  const out = new Float32Array(rows * row);
  for (let i = 0; i < idx.length; i++) {
    for (let c = 0; c < row; c++) out[idx[i] * row + c] += vals[i * row + c];
  }
  return out;
}

async function readDispose<T extends Tensor[]>(...ts: T) {
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out;
}

gpuTest("exclusiveScan: random lengths up to several blocks match a CPU scan", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1000, max: 70000 })),
      fc.integer({ min: 0, max: 1e6 }),
      async (n, seed) => {
        const x = randInts(n, 50, seed);
        const [out] = await readDispose(tidy(() => exclusiveScan(tensor(x, [n], "i32"))));
        assert.equal(out.length, n + 1);
        let acc = 0;
        for (let i = 0; i < n; i++) {
          if (out[i] !== acc) assert.fail(`n=${n}: scan[${i}] = ${out[i]}, expected ${acc}`);
          acc += x[i];
        }
        assert.equal(out[n], acc);
      },
    ),
    { numRuns: 12 },
  );
});

gpuTest("exclusiveScan: three levels (over 2^20 entries)", async () => {
  const n = (1 << 20) + 12345;
  const x = randInts(n, 3, 5);
  const [out] = await readDispose(exclusiveScan(tensor(x, [n], "i32")));
  let acc = 0;
  for (let i = 0; i < n; i++) {
    if (out[i] !== acc) assert.fail(`scan[${i}] = ${out[i]}, expected ${acc}`);
    acc += x[i];
  }
  assert.equal(out[n], acc);
});

gpuTest(
  "buildCsr: rows list their source positions in ascending order (GPU and host sort)",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 1500 }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.boolean(),
        fc.boolean(),
        async (rows, n, seed, skew, host) => {
          // Skewed ids make long rows (the merge sort's multi-pass case).
          const idx = skew ? randInts(n, 3, seed) : randInts(n, rows, seed);
          for (let i = 0; i < n; i++) idx[i] = Math.min(idx[i], rows - 1);
          // Host-made indices are sorted on the host, others on the GPU: the same arrays.
          const t = () => host ? indexTensor(idx, rows) : tensor(idx, [n], "i32");
          const csr = tidy(() => buildCsr(t(), rows));
          const [rp, perm] = await readDispose(csr.rowPtr, csr.perm);
          const lists: number[][] = Array.from({ length: rows }, () => []);
          idx.forEach((r, i) => lists[r].push(i));
          let off = 0;
          for (let r = 0; r < rows; r++) {
            assert.equal(rp[r], off, `rowPtr[${r}]`);
            assert.deepEqual([...perm.subarray(off, off + lists[r].length)], lists[r], `row ${r}`);
            off += lists[r].length;
          }
          assert.equal(rp[rows], n);
        },
      ),
      { numRuns: 24 },
    );
  },
);

gpuTest(
  "gather: random tables (every dtype, rank 1–3) and ids match the CPU reference",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 70 }),
        fc.constantFrom([], [1], [3], [5], [2, 3], [257]),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 2 }),
        fc.constantFrom("f32", "i32", "u32"),
        fc.integer({ min: 0, max: 1e6 }),
        async (v, rest, idxShape, dtype, seed) => {
          const row = rest.reduce((a, b) => a * b, 1);
          const n = idxShape.reduce((a, b) => a * b, 1);
          const data = dtype === "f32" ? randArray(v * row, seed) : randInts(v * row, 1000, seed);
          const ids = randInts(n, v, seed + 1);
          const [out] = await readDispose(tidy(() => {
            const t = tensor(data, [v, ...rest], dtype as "f32");
            return gather(t, indexTensor(ids, v, idxShape));
          }));
          assert.equal(out.length, n * row);
          assert.deepEqual([...out], gatherRef(data, row, ids));
        },
      ),
      { numRuns: 15 },
    );
    await checkIndices();
  },
);

gpuTest(
  "scatterAdd: random sizes with duplicates and V = 1 equal the ordered CPU sum",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 500 })),
        fc.integer({ min: 0, max: 700 }),
        fc.constantFrom(1, 3, 16, 65),
        fc.integer({ min: 0, max: 1e6 }),
        async (rows, n, row, seed) => {
          const vals = randArray(n * row, seed);
          const ids = randInts(n, Math.min(rows, 1 + (seed % 7) * 13), seed + 1);
          const [out] = await readDispose(
            tidy(() => scatterAdd(tensor(vals, [n, row]), tensor(ids, [n], "i32"), rows)),
          );
          // Same f32 summation order as the kernel: bit-identical, not just close.
          assert.deepEqual([...out], [...scatterRef(vals, row, ids, rows)]);
        },
      ),
      { numRuns: 15 },
    );
  },
);

gpuTest("gather backward: scatter-add of the output gradient, bitwise reproducible", async () => {
  const v = 37, d = 13, n = 2000;
  const tableData = randArray(v * d, 1);
  // Heavily duplicated ids (hot rows of a few hundred entries).
  const ids = randInts(n, 5, 2).map((x, i) => (i % 3 === 0 ? x : (i * 7) % v));
  const gyData = randArray(n * d, 3);
  // With indexTensor ids the sort runs log2(longest row) passes, else log2(n).
  const run = async (host = false) => {
    const g = tidy(() => {
      const table = tensor(tableData, [v, d]);
      table.requiresGrad = true;
      const y = gather(table, host ? indexTensor(ids, v) : tensor(ids, [n], "i32"));
      backward(sum(mul(y, tensor(gyData, [n, d]))));
      return table.grad!;
    });
    const [a] = await readDispose(g);
    return a;
  };
  const g1 = await run();
  const g2 = await run();
  const g3 = await run(true);
  const ref = scatterRef(gyData, d, ids, v);
  assert.deepEqual(new Uint32Array(g1.buffer), new Uint32Array(g2.buffer), "two runs differ");
  assert.deepEqual(
    new Uint32Array(g1.buffer),
    new Uint32Array(g3.buffer),
    "indexTensor run differs",
  );
  assert.deepEqual([...g1], [...ref]);
});

gpuTest("gather and scatterAdd: finite-difference gradient checks", async () => {
  const ids = tensor(new Int32Array([3, 0, 3, 1, 4, 3, 0]), [7], "i32");
  await checkGrad((t) => gather(t, ids), [randArray(5 * 3, 4)], [[5, 3]]);
  const ids2 = tensor(new Int32Array([1, 1, 0, 2, 1, 2]), [2, 3], "i32");
  await checkGrad((t) => gather(t, ids2), [randArray(4 * 2, 5)], [[4, 2]]);
  await checkGrad((vals) => scatterAdd(vals, ids, 6), [randArray(7 * 2, 6)], [[7, 2]]);
  ids.dispose();
  ids2.dispose();
});

gpuTest("gather: scatter gradient of a chain (gather → scatterAdd) against the CPU", async () => {
  const v = 6, d = 4;
  const ids = new Int32Array([5, 2, 2, 0, 5, 5, 1]);
  const tdata = randArray(v * d, 8);
  const g = tidy(() => {
    const t = tensor(tdata, [v, d]);
    t.requiresGrad = true;
    const y = scatterAdd(gather(t, tensor(ids, [7], "i32")), tensor(ids, [7], "i32"), v);
    backward(sum(y));
    return t.grad!;
  });
  // Σ scatterAdd(gather(t)) = Σ_r c_r · Σ_c t[r, c] with c_r the count of r: the gradient is c_r.
  const c = new Float32Array(v);
  for (const i of ids) c[i]++;
  const ref = Array.from({ length: v * d }, (_, j) => c[Math.floor(j / d)]);
  assertClose((await readDispose(g))[0], ref);
});

gpuTest("indexTensor: host ids out of range throw naming the value and position", () => {
  assert.throws(
    () => indexTensor([0, 2, 5, 1], 5),
    /wgrec indexTensor: value 5 at flat position 2 of 4 is out of range for a table of 5 rows/,
  );
  assert.throws(() => indexTensor([-1], 3), /value -1 at flat position 0/);
  assert.throws(() => indexTensor([0.5], 3), /value 0.5/);
});

gpuTest("gather/scatterAdd: indexTensor ids beyond the table throw at once", () => {
  tidy(() => {
    const idx = indexTensor([0, 1, 9, 2], 10);
    const table = tensor(randArray(4 * 3, 1), [4, 3]);
    assert.throws(
      () => gather(table, idx),
      /wgrec gather: index 9 at flat position 2 of indices \[4\] is out of range for table \[4, 3\] with 4 rows/,
    );
    assert.throws(
      () => scatterAdd(tensor(randArray(4, 2), [4, 1]), idx, 5),
      /wgrec scatterAdd: index 9 at flat position 2 .* 5 rows/,
    );
  });
});

gpuTest("gather/scatterAdd: bad dtypes and shapes name the op and shapes", () => {
  tidy(() => {
    const table = tensor(randArray(6, 1), [3, 2]);
    assert.throws(
      () => gather(table, tensor([0, 1]) as unknown as Tensor<"i32">),
      /wgrec gather: indices \[2\] has dtype f32, expected i32/,
    );
    assert.throws(
      () => scatterAdd(tensor(randArray(6, 1), [3, 2]), tensor(new Int32Array(2), [2], "i32"), 4),
      /wgrec scatterAdd: values \[3, 2\] must start with the indices' shape \[2\]/,
    );
  });
});

gpuTest("gather: device ids out of range read zero rows and checkIndices names them", async () => {
  const [out] = await readDispose(tidy(() => {
    const table = tensor([[1, 2], [3, 4], [5, 6]]);
    return gather(table, tensor(new Int32Array([1, 3, 0, -2]), [2, 2], "i32"));
  }));
  // Rows 3 and −2 are never read through: zeros, not row 0 or a clamped row.
  assert.deepEqual([...out], [3, 4, 0, 0, 1, 2, 0, 0]);
  await assert.rejects(
    checkIndices(),
    /wgrec checkIndices: 'gather' \(table \[3, 2\], indices \[2, 2\]\): 2 out-of-range index\(es\), first at flat position 1, values in \[-2, 3\]/,
  );
  await checkIndices(); // flags were reset
});

gpuTest("scatterAdd: device ids out of range are dropped and reported", async () => {
  const [out] = await readDispose(
    tidy(() =>
      scatterAdd(tensor([[1], [2], [4]]), tensor(new Int32Array([0, 7, 0]), [3], "i32"), 2)
    ),
  );
  assert.deepEqual([...out], [5, 0]);
  await assert.rejects(
    checkIndices(),
    /'scatterAdd' \(indices \[3\] for 2 rows\): 1 .*position 1, value 7/,
  );
});

gpuTest("gather: numerics mode flags a bad id at the next read, naming the op", async () => {
  const rt = runtime();
  rt.checkNumerics = true;
  try {
    const table = tensor([[1, 2], [3, 4]]);
    const out = gather(table, tensor(new Int32Array([0, 5]), [2], "i32"));
    await assert.rejects(
      out.read(),
      /wgrec numerics: op 'gather' \(table \[2, 2\], indices \[2\]\)/,
    );
    await assert.rejects(checkIndices(), /value 5/);
    const ok = gather(table, tensor(new Int32Array([1, 0]), [2], "i32"));
    assert.deepEqual([...(await ok.read())], [3, 4, 1, 2]);
    for (const t of [table, out, ok]) t.dispose();
  } finally {
    rt.checkNumerics = false;
  }
});

gpuTest("gather: a new runtime after init() gets its own flag buffer", async () => {
  const before = runtime();
  await init();
  try {
    const [out] = await readDispose(
      tidy(() => gather(tensor([[1], [2]]), tensor(new Int32Array([2]), [1], "i32"))),
    );
    assert.deepEqual([...out], [0]);
    await assert.rejects(checkIndices(), /'gather'/);
  } finally {
    assert.notEqual(runtime(), before);
  }
});
