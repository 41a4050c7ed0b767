// Sparse matrices: CSR construction and GPU transposes, spmm forward/backward against dense
// CPU references, the normalised bipartite adjacency and the item–item kNN graph (tiled vs
// untiled, every normalisation), and id validation.
import fc from "npm:fast-check@3";
import {
  backward,
  bipartiteAdjacency,
  knnGraph,
  mul,
  normalizedUserItem,
  readAll,
  SparseMatrix,
  spmm,
  sum,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { Rng } from "../../../src/random.ts";

/** Runs `fn` in a scope that frees its temporary tensors; returns a non-tensor result. */
function scoped<T>(fn: () => T): T {
  let r!: T;
  tidy(() => {
    r = fn();
  });
  return r;
}

interface Coo {
  rows: Int32Array;
  cols: Int32Array;
  vals: Float32Array;
  m: number;
  n: number;
}

function randCoo(m: number, n: number, nnz: number, seed: number): Coo {
  const r = new Rng(seed);
  const pick = (b: number) => Math.floor(r.uniform() * b);
  return {
    rows: Int32Array.from({ length: nnz }, () => pick(m)),
    cols: Int32Array.from({ length: nnz }, () => pick(n)),
    vals: Float32Array.from({ length: nnz }, () => r.normal()),
    m,
    n,
  };
}

function dense(c: Coo): Float64Array {
  const a = new Float64Array(c.m * c.n);
  c.rows.forEach((r, j) => (a[r * c.n + c.cols[j]] += c.vals[j]));
  return a;
}

/** y = A x for dense A [m, n] and x [n, d]. */
function mm(a: Float64Array, m: number, n: number, x: ArrayLike<number>, d: number): number[] {
  const y = new Array<number>(m * d).fill(0);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < n; k++) {
      const v = a[i * n + k];
      if (v !== 0) { for (let c = 0; c < d; c++) y[i * d + c] += v * x[k * d + c]; }
    }
  }
  return y;
}

function transposeDense(a: Float64Array, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

/** CSR entries sorted by (row, col, original position): what fromCOO promises. */
function csrRef(c: Coo) {
  const order = [...c.rows.keys()].sort((a, b) =>
    c.rows[a] - c.rows[b] || c.cols[a] - c.cols[b] || a - b
  );
  const rowPtr = new Int32Array(c.m + 1);
  for (const r of c.rows) rowPtr[r + 1]++;
  for (let i = 0; i < c.m; i++) rowPtr[i + 1] += rowPtr[i];
  return {
    rowPtr: [...rowPtr],
    colIdx: order.map((j) => c.cols[j]),
    values: order.map((j) => c.vals[j]),
  };
}

const sizes = fc.tuple(
  fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 90 })),
  fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 90 })),
  fc.integer({ min: 0, max: 400 }),
  fc.constantFrom(1, 3, 17, 64),
  fc.integer({ min: 0, max: 1e6 }),
);

gpuTest("SparseMatrix.fromCOO: CSR layout (rows, then columns) matches the CPU", async () => {
  await fc.assert(
    fc.asyncProperty(sizes, async ([m, n, nnz, , seed]) => {
      const c = randCoo(m, n, nnz, seed);
      const a = SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [m, n]);
      const h = await a.toHost();
      a.dispose();
      const ref = csrRef(c);
      assert.deepEqual([...h.rowPtr], ref.rowPtr);
      assert.deepEqual([...h.colIdx], ref.colIdx);
      assert.deepEqual([...h.values], ref.values);
    }),
    { numRuns: 15 },
  );
});

gpuTest("SparseMatrix.transpose: GPU-built CSR equals the CPU transpose", async () => {
  await fc.assert(
    fc.asyncProperty(sizes, fc.boolean(), async ([m, n, nnz, , seed], skew) => {
      const c = randCoo(m, n, nnz, seed);
      // Skewed columns give long transposed rows (several merge passes).
      if (skew) c.cols.forEach((x, j) => (c.cols[j] = x % 2));
      const a = SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [m, n]);
      const t = a.transpose();
      assert.equal(a.transpose(), t, "cached");
      assert.equal(t.transpose(), a, "transpose of the transpose");
      assert.deepEqual(t.shape, [n, m]);
      const h = await t.toHost();
      a.dispose();
      const ref = csrRef({ rows: c.cols, cols: c.rows, vals: c.vals, m: n, n: m });
      assert.deepEqual([...h.rowPtr], ref.rowPtr);
      assert.deepEqual([...h.colIdx], ref.colIdx);
      assert.deepEqual([...h.values], ref.values);
    }),
    { numRuns: 15 },
  );
});

gpuTest("spmm: random shapes (duplicates, empty rows) match a dense CPU product", async () => {
  await fc.assert(
    fc.asyncProperty(sizes, fc.boolean(), async ([m, n, nnz, d, seed], vec) => {
      const c = randCoo(m, n, nnz, seed);
      const x = randArray(n * d, seed + 1);
      const a = SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [m, n]);
      const [y] = await readAll([tidy(() => spmm(a, tensor(x, vec && d === 1 ? [n] : [n, d])))]);
      a.dispose();
      assert.equal(y.length, m * d);
      assertClose(y, mm(dense(c), m, n, x, d), { atol: 1e-4 });
    }),
    { numRuns: 15 },
  );
});

gpuTest(
  "spmm backward: Aᵀ·gy through the cached transpose, and a finite-difference check",
  async () => {
    await fc.assert(
      fc.asyncProperty(sizes, async ([m, n, nnz, d, seed]) => {
        const c = randCoo(m, n, nnz, seed);
        const a = SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [m, n]);
        const x = randArray(n * d, seed + 1);
        const w = randArray(m * d, seed + 2);
        const g = tidy(() => {
          const xt = tensor(x, [n, d]);
          xt.requiresGrad = true;
          backward(sum(mul(spmm(a, xt), tensor(w, [m, d]))));
          return xt.grad!;
        });
        const [gx] = await readAll([g]);
        g.dispose();
        a.dispose();
        assertClose(gx, mm(transposeDense(dense(c), m, n), n, m, w, d), { atol: 1e-4 });
      }),
      { numRuns: 10 },
    );
    const c = randCoo(9, 7, 30, 3);
    const a = SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [9, 7]);
    await checkGrad((x) => spmm(a, x), [randArray(7 * 5, 4)], [[7, 5]]);
    // Two layers, as in LightGCN propagation.
    const s = SparseMatrix.fromCOO(c.cols, c.cols.map((_, j) => j % 7), c.vals, [7, 7]);
    await checkGrad((x) => spmm(s, spmm(s, x)), [randArray(7 * 3, 5)], [[7, 3]]);
    a.dispose();
    s.dispose();
  },
);

function bipartiteRef(users: number[], items: number[], nu: number, ni: number): Float64Array {
  const n = nu + ni;
  const a = new Float64Array(n * n);
  users.forEach((u, j) => {
    a[u * n + nu + items[j]] = 1;
    a[(nu + items[j]) * n + u] = 1;
  });
  const deg = Array.from(
    { length: n },
    (_, i) => a.slice(i * n, i * n + n).reduce((s, v) => s + v),
  );
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) if (a[i * n + j]) a[i * n + j] /= Math.sqrt(deg[i] * deg[j]);
  }
  return a;
}

async function toDense(a: SparseMatrix): Promise<Float64Array> {
  const h = await a.toHost();
  const [m, n] = a.shape;
  const d = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let e = h.rowPtr[r]; e < h.rowPtr[r + 1]; e++) d[r * n + h.colIdx[e]] += h.values[e];
  }
  return d;
}

gpuTest("bipartiteAdjacency: D^-½ A D^-½ of random interactions (repeats count once)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 0, max: 200 }),
      fc.integer({ min: 0, max: 1e6 }),
      async (nu, ni, ne, seed) => {
        const r = new Rng(seed);
        const users = Array.from({ length: ne }, () => Math.floor(r.uniform() * nu));
        const items = Array.from({ length: ne }, () => Math.floor(r.uniform() * ni));
        const inter = { users, items, numUsers: nu, numItems: ni };
        const adj = bipartiteAdjacency(inter);
        assert.equal(adj.transpose(), adj, "symmetric: its own transpose");
        const ref = bipartiteRef(users, items, nu, ni);
        assertClose(await toDense(adj), ref, { atol: 1e-6 });
        const ui = normalizedUserItem(inter);
        const block = Array.from(
          { length: nu * ni },
          (_, k) => ref[Math.floor(k / ni) * (nu + ni) + nu + (k % ni)],
        );
        assertClose(await toDense(ui), block, { atol: 1e-6 });
        adj.dispose();
        ui.dispose();
      },
    ),
    { numRuns: 12 },
  );
});

/** CPU kNN: cosine in f64, top k per row (ties to the lower id), then the normalisation. */
function knnRef(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  norm: "sym" | "rw" | "none",
  binary: boolean,
  excludeSelf: boolean,
) {
  const xn = Array.from({ length: n }, (_, i) => {
    const row = [...x.subarray(i * d, i * d + d)];
    const s = Math.sqrt(row.reduce((a, v) => a + v * v, 0));
    return row.map((v) => (s > 0 ? v / s : 0));
  });
  const cols: number[][] = [];
  const vals: number[][] = [];
  for (let i = 0; i < n; i++) {
    const sims = xn.map((r, j) => [r.reduce((a, v, t) => a + v * xn[i][t], 0), j]);
    const cand = sims.filter(([, j]) => !(excludeSelf && j === i));
    cand.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const top = cand.slice(0, k);
    cols.push(top.map((p) => p[1]));
    vals.push(top.map((p) => (binary ? 1 : p[0])));
  }
  const deg = vals.map((v) => v.reduce((a, b) => a + b, 0));
  const f = (dg: number, p: number) => (dg > 0 ? dg ** -p : 0);
  const w = vals.map((v, i) =>
    v.map((s, j) =>
      norm === "sym"
        ? f(deg[i], 0.5) * s * f(deg[cols[i][j]], 0.5)
        : norm === "rw"
        ? s * f(deg[i], 1)
        : s
    )
  );
  return { cols, w };
}

gpuTest("knnGraph: top-k cosine graph with every weighting and normalisation", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 45 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom("sym", "rw", "none"),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 1e6 }),
      async (n, d, k, norm, binary, excludeSelf, seed) => {
        const x = randArray(n * d, seed);
        // Duplicated rows: exact ties, broken towards the lower id.
        for (let i = 1; i < n; i += 3) {
          x.copyWithin(i * d, 0, d);
        }
        const g = scoped(() =>
          knnGraph(tensor(x, [n, d]), k, {
            norm: norm as "sym",
            weights: binary ? "binary" : "similarity",
            excludeSelf,
          })
        );
        const h = await g.toHost();
        g.dispose();
        const ref = knnRef(x, n, d, k, norm as "sym", binary, excludeSelf);
        const per = Math.min(k, excludeSelf ? n - 1 : n);
        assert.deepEqual([...h.rowPtr], Array.from({ length: n + 1 }, (_, i) => i * per));
        assert.deepEqual([...h.colIdx], ref.cols.flat(), "neighbour ids");
        assertClose(h.values, ref.w.flat(), { atol: 1e-5, rtol: 1e-4 });
      },
    ),
    { numRuns: 15 },
  );
});

gpuTest("knnGraph: tiles (row blocks × column tiles) give the same bits as one tile", async () => {
  const n = 53, d = 6;
  const x = randArray(n * d, 11);
  // A zero row: similarity 0 with everything, no NaN.
  x.fill(0, 4 * d, 5 * d);
  const build = (opts: { colBlock?: number; budget?: number }) =>
    scoped(() => knnGraph(tensor(x, [n, d]), 7, opts));
  const whole = build({});
  const tiled = build({ colBlock: 5, budget: 40 });
  const [a, b] = [await whole.toHost(), await tiled.toHost()];
  whole.dispose();
  tiled.dispose();
  assert.deepEqual([...a.colIdx], [...b.colIdx]);
  assert.deepEqual(new Uint32Array(a.values.buffer), new Uint32Array(b.values.buffer));
  assert.ok(a.values.every(Number.isFinite));
});

gpuTest(
  "spmm with a kNN graph: backward uses the GPU transpose of a non-symmetric graph",
  async () => {
    const n = 12, d = 4;
    const g = scoped(() => knnGraph(tensor(randArray(n * d, 2), [n, d]), 3));
    await checkGrad((x) => spmm(g, x), [randArray(n * 5, 3)], [[n, 5]]);
    g.dispose();
  },
);

gpuTest("SparseMatrix: bad ids and shapes throw naming the op", () => {
  assert.throws(
    () => SparseMatrix.fromCOO([0, 3], [1, 1], [1, 1], [3, 2]),
    /wgrec SparseMatrix.fromCOO: row id 3 at position 1 is out of range; expected 0 ≤ row < 3/,
  );
  assert.throws(
    () => SparseMatrix.fromCOO([0, 1], [1, -1], [1, 1], [3, 2]),
    /wgrec SparseMatrix.fromCOO: column id -1 at position 1/,
  );
  assert.throws(
    () => SparseMatrix.fromCOO([0], [1, 1], [1], [3, 2]),
    /rows \(1\), cols \(2\) and vals \(1\) must have the same length/,
  );
  assert.throws(
    () => SparseMatrix.fromCSR([0, 2, 1], [0, 1], [1, 1], [2, 2]),
    /wgrec SparseMatrix.fromCSR: rowPtr \(length 3\) must have 3 offsets from 0 to nnz = 2/,
  );
  assert.throws(
    () => SparseMatrix.fromCSR([0, 2, 1, 2], [0, 1], [1, 1], [3, 2]),
    /rowPtr decreases at row 1/,
  );
  assert.throws(
    () => bipartiteAdjacency({ users: [0, 2], items: [0, 0], numUsers: 2, numItems: 1 }),
    /wgrec SparseMatrix.bipartiteAdjacency: user id 2 at position 1 is out of range/,
  );
  const a = SparseMatrix.fromCOO([0, 1], [1, 0], [1, 2], [2, 3]);
  tidy(() => {
    assert.throws(
      () => spmm(a, tensor(randArray(4, 1), [2, 2])),
      /wgrec spmm: sparse \[2, 3\] · dense \[2, 2\] do not fit; expected dense \[3, d\]/,
    );
    assert.throws(
      () => knnGraph(tensor(randArray(4, 1), [4]), 2),
      /wgrec knnGraph: features \[4\] must be \[I, d\]/,
    );
  });
  a.dispose();
});

gpuTest("SparseMatrix.fromCSR: round trip and products", async () => {
  const a = SparseMatrix.fromCSR([0, 2, 2, 3], [0, 2, 1], [1, -2, 3], [3, 3]);
  const [y] = await readAll([tidy(() => spmm(a, tensor([1, 2, 3])))]);
  assert.deepEqual([...y], [1 - 6, 0, 6]);
  a.dispose();
});
