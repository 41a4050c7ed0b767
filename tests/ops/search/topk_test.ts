// Top-k: row-wise top-k against a CPU sort (ties to the lower index, NaN skipped, padding),
// tiled running top-k against the untiled one, and full-ranking with masked training items
// in user chunks.
import fc from "npm:fast-check@3";
import {
  fullRankTopK,
  fullRankTopKDot,
  gather,
  matmul,
  neg,
  readAll,
  setInputChecks,
  type Tensor,
  tensor,
  tidy,
  tiledTopK,
  topk,
} from "../../../internal.ts";
import { assert, gpuTest, randArray } from "../../helpers.ts";
import { Rng } from "../../../src/random.ts";

/** CPU top-k of one row: NaN skipped, larger first, ties to the lower index, padded. */
function topkRow(row: ArrayLike<number>, k: number, skip = (_: number) => false) {
  const c: [number, number][] = [];
  for (let j = 0; j < row.length; j++) {
    if (!Number.isNaN(row[j]) && !skip(j)) c.push([row[j], j]);
  }
  c.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const top = c.slice(0, k);
  while (top.length < k) top.push([-Infinity, -1]);
  return { values: top.map((p) => p[0]), indices: top.map((p) => p[1]) };
}

function randRows(n: number, seed: number, kind: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => {
    const u = r.uniform();
    if (kind === 0) return r.normal();
    // Many ties, plus NaN, ±Inf and ±0.
    if (u < 0.05) return NaN;
    if (u < 0.08) return -Infinity;
    if (u < 0.1) return Infinity;
    if (u < 0.15) return -0;
    return Math.floor(r.uniform() * 5) - 2;
  });
}

// NaN and ±Inf scores are part of the tests: let them through the host-data check.
setInputChecks(false);

async function readDispose(...ts: Tensor[]) {
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out;
}

gpuTest("topk: random rows (ties, NaN, ±Inf, ±0, k > L) match the CPU sort", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 9 }),
      fc.oneof(
        fc.constantFrom(0, 1, 7, 63, 64, 65, 257),
        fc.integer({ min: 1, max: 3000 }),
      ),
      fc.oneof(fc.constantFrom(1, 8, 9, 64, 128), fc.integer({ min: 1, max: 128 })),
      fc.integer({ min: 0, max: 1 }),
      fc.integer({ min: 0, max: 1e6 }),
      async (rows, len, k, kind, seed) => {
        const x = randRows(rows * len, seed, kind);
        const [v, i] = await readDispose(...tidy(() => {
          const r = topk(tensor(x, [rows, len]), k);
          return [r.values, r.indices];
        }));
        for (let r = 0; r < rows; r++) {
          const ref = topkRow(x.subarray(r * len, (r + 1) * len), k);
          const gi = [...i.subarray(r * k, (r + 1) * k)];
          const gv = [...v.subarray(r * k, (r + 1) * k)];
          assert.deepEqual(gi, ref.indices, `row ${r} indices (len ${len}, k ${k})`);
          // −0 and +0 tie; compare as numbers.
          assert.deepEqual(gv.map((a) => a + 0), ref.values.map((a) => a + 0), `row ${r} values`);
        }
      },
    ),
    { numRuns: 20 },
  );
});

gpuTest("topk: leading dims are kept, one row and a long row", async () => {
  const x = randArray(2 * 3 * 50, 4);
  const [v, i] = await readDispose(...tidy(() => {
    const r = topk(tensor(x, [2, 3, 50]), 4);
    assert.deepEqual(r.values.shape, [2, 3, 4]);
    return [r.values, r.indices];
  }));
  for (let r = 0; r < 6; r++) {
    const ref = topkRow(x.subarray(r * 50, r * 50 + 50), 4);
    assert.deepEqual([...i.subarray(r * 4, r * 4 + 4)], ref.indices);
    assert.deepEqual([...v.subarray(r * 4, r * 4 + 4)], ref.values.map(Math.fround));
  }
  const long = randArray(200000, 5);
  const [lv, li] = await readDispose(...tidy(() => {
    const r = topk(tensor(long, [1, 200000]), 50);
    return [r.values, r.indices];
  }));
  const ref = topkRow(long, 50);
  assert.deepEqual([...li], ref.indices);
  assert.deepEqual([...lv], ref.values);
});

gpuTest("tiledTopK: row blocks × column tiles equal the top-k of the whole matrix", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 50 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 1e6 }),
      async (rows, cols, k, colBlock, rowBlock, diag, seed) => {
        const x = randRows(rows * cols, seed, seed % 2);
        let calls = 0;
        const [v, i] = await readDispose(...tidy(() => {
          const full = tensor(x, [rows, cols]);
          const r = tiledTopK(rows, cols, k, (r0, nr, c0, nc) => {
            calls++;
            // The tile, cut from the host copy.
            const t = new Float32Array(nr * nc);
            for (let a = 0; a < nr; a++) {
              t.set(x.subarray((r0 + a) * cols + c0, (r0 + a) * cols + c0 + nc), a * nc);
            }
            return tensor(t, [nr, nc]);
          }, { colBlock, rowBlock, excludeDiagonal: diag });
          full.dispose();
          return [r.values, r.indices];
        }));
        assert.equal(calls, Math.ceil(rows / rowBlock) * Math.ceil(cols / colBlock));
        for (let r = 0; r < rows; r++) {
          const ref = topkRow(x.subarray(r * cols, (r + 1) * cols), k, (j) => diag && j === r);
          assert.deepEqual([...i.subarray(r * k, (r + 1) * k)], ref.indices, `row ${r}`);
          assert.deepEqual(
            [...v.subarray(r * k, (r + 1) * k)].map((a) => a + 0),
            ref.values.map((a) => a + 0),
          );
        }
      },
    ),
    { numRuns: 15 },
  );
});

/** CPU full ranking: dot scores, excluded items skipped, top k. */
function fullRankRef(
  ue: Float32Array,
  ie: Float32Array,
  d: number,
  users: number[],
  k: number,
  indptr: number[],
  items: number[],
) {
  const ni = ie.length / d;
  return users.map((u) => {
    const ex = new Set(items.slice(indptr[u], indptr[u + 1]));
    const s = Array.from({ length: ni }, (_, i) => {
      let a = 0;
      for (let t = 0; t < d; t++) a += ue[u * d + t] * ie[i * d + t];
      return Math.fround(a);
    });
    const r = topkRow(s, k, (j) => ex.has(j));
    return r.indices.filter((j) => j >= 0);
  });
}

gpuTest("fullRankTopK: masked training items, user chunks, subsets of users", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 25 }),
      fc.integer({ min: 1, max: 120 }),
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 1, max: 9 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 1e6 }),
      async (nu, ni, k, chunk, subset, seed) => {
        const d = 4;
        // Integer-valued embeddings: exact dot products, so ties are real ties.
        const r = new Rng(seed);
        const int = () => Math.floor(r.uniform() * 5) - 2;
        const ue = Float32Array.from({ length: nu * d }, int);
        const ie = Float32Array.from({ length: ni * d }, int);
        const indptr = [0];
        const items: number[] = [];
        for (let u = 0; u < nu; u++) {
          // Some users have every item excluded.
          const all = r.uniform() < 0.1;
          for (let i = 0; i < ni; i++) if (all || r.uniform() < 0.3) items.push(i);
          indptr.push(items.length);
        }
        const users = subset
          ? Array.from({ length: Math.ceil(nu / 2) }, () => Math.floor(r.uniform() * nu))
          : [...Array(nu).keys()];
        const u = tensor(ue, [nu, d]);
        const it = tensor(ie, [ni, d]);
        const got = await fullRankTopKDot(u, it, k, {
          users: subset ? users : undefined,
          exclude: { indptr, indices: items },
          chunk,
        });
        u.dispose();
        it.dispose();
        const ref = fullRankRef(ue, ie, d, users, k, indptr, items);
        assert.deepEqual(got.map((a) => [...a]), ref);
      },
    ),
    { numRuns: 15 },
  );
});

gpuTest("fullRankTopK: a custom score function (negated dots), no exclusion", async () => {
  const ue = randArray(7 * 3, 1);
  const ie = randArray(11 * 3, 2);
  const u = tensor(ue, [7, 3]);
  const it = tensor(ie, [11, 3]);
  const seen: number[] = [];
  const got = await fullRankTopK(
    (users, ids) => {
      assert.equal(users.size, ids.length);
      seen.push(...ids);
      return neg(matmul(gather(u, users), it, { transB: true }));
    },
    5,
    { numItems: 11, numUsers: 7, chunk: 3 },
  );
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
  const negIe = ie.map((v) => -v);
  const ref = fullRankRef(ue, negIe, 3, [...Array(7).keys()], 5, new Array(8).fill(0), []);
  assert.deepEqual(got.map((a) => [...a]), ref);
  u.dispose();
  it.dispose();
});

gpuTest("topk / fullRankTopK: bad k, bad exclusion lists and bad scores throw", async () => {
  tidy(() => {
    const x = tensor(randArray(6, 1), [2, 3]);
    assert.throws(() => topk(x, 0), /wgrec topk: k = 0 must be an integer in \[1, 128\]/);
    assert.throws(() => topk(x, 129), /wgrec topk: k = 129/);
    assert.throws(
      () => topk(tensor(new Int32Array(3), [3], "i32") as unknown as Tensor<"f32">, 1),
      /wgrec topk: input \[3\] has dtype i32, expected f32/,
    );
  });
  const u = tensor(randArray(6, 1), [2, 3]);
  const it = tensor(randArray(12, 2), [4, 3]);
  await assert.rejects(
    fullRankTopKDot(u, it, 2, { exclude: { indptr: [0, 1, 2], indices: [0, 4] } }),
    /wgrec fullRankTopK: excluded item 4 at position 1 is out of range for 4 items/,
  );
  await assert.rejects(
    fullRankTopKDot(u, it, 2, { exclude: { indptr: [0, 1], indices: [0] } }),
    /wgrec fullRankTopK: user 1 has no row in exclude \(1 rows\)/,
  );
  await assert.rejects(
    fullRankTopKDot(u, it, 2, { exclude: { indptr: [0, 1, 2], indices: [0] } }),
    /must start at 0 and end at exclude.indices.length \(1\)/,
  );
  await assert.rejects(
    fullRankTopKDot(u, it, 2, { exclude: { indptr: [0, 2, 1], indices: [0] } }),
    /wgrec fullRankTopK: exclude.indptr decreases at row 1/,
  );
  assert.throws(
    () => fullRankTopKDot(u, it, 2, { users: [0, 5] }),
    /wgrec fullRankTopKDot: user 5 is out of range for user embeddings \[2, 3\]/,
  );
  await assert.rejects(
    fullRankTopK(() => tensor([1, 2]), 1, { numItems: 4, numUsers: 1 }),
    /wgrec fullRankTopK: score returned f32 \[2\], expected f32 \[1, 4\]/,
  );
  u.dispose();
  it.dispose();
});
