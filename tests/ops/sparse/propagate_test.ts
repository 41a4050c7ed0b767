// propagateRows: mean(H⁰, ÂH⁰, …, Â^L H⁰) at a batch's rows, against the composed ops
// (lightGcnPropagate then gather: the same bits, forward and backward), a float64 CPU reference
// and finite differences; over awkward sizes, symmetric and general matrices, GPU-built ones
// (no host offsets), the scalar-kernel widths, duplicates and out-of-range ids; no buffer leaks.
import fc from "npm:fast-check@3";
import {
  add,
  backward,
  bipartiteAdjacency,
  gather,
  knnGraph,
  lightGcnPropagate,
  mul,
  propagateRows,
  readAll,
  rowSubset,
  setSpmmColumnQuads,
  SparseMatrix,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray, runtime } from "../../helpers.ts";
import { Rng } from "../../../src/random.ts";

function randSquare(m: number, nnz: number, seed: number, symmetric: boolean) {
  const r = new Rng(seed);
  const rows: number[] = [];
  const cols: number[] = [];
  const vals: number[] = [];
  for (let j = 0; j < nnz; j++) {
    const i = j % 3 ? r.int(m) : 0; // row 0 is a hub
    const k = r.int(m);
    const v = r.normal() * 0.5;
    rows.push(i), cols.push(k), vals.push(v);
    if (symmetric) rows.push(k), cols.push(i), vals.push(v);
  }
  return { rows, cols, vals };
}

function lists(m: number, seed: number): Int32Array[] {
  const r = new Rng(seed);
  const n = 1 + r.int(2 * m);
  return [0, 1, 2].map(() => Int32Array.from({ length: n }, () => r.int(m)));
}

// Loss Σ w_i ⊙ rows_i over the lists, through the fused op or the composed ops.
function run(
  a: SparseMatrix,
  x: Float32Array,
  d: number,
  layers: number,
  ls: Int32Array[],
  ws: Float32Array[],
  fused: boolean,
): [Tensor<"f32">, Tensor<"f32">, Tensor<"f32">] {
  return tidy(() => {
    const h0 = tensor(x, [a.shape[0], d]);
    h0.requiresGrad = true;
    let rows: Tensor<"f32">[];
    if (fused) {
      const { subset, at } = rowSubset(a, ls);
      const y = propagateRows(a, h0, layers, subset);
      rows = at.map((i) => gather(y, i));
    } else {
      const all = lightGcnPropagate(a, h0, layers);
      rows = ls.map((l) => gather(all, tensor(l, [l.length], "i32")));
    }
    const [l0, l1, l2] = rows.map((r, i) => sum(mul(r, tensor(ws[i], r.shape))));
    backward(add(add(l0, l1), l2));
    return [rows[0], rows[2], h0.grad!];
  });
}

// Float64 reference: mean of Â^l x at each list's rows, and ∂/∂x of Σ w ⊙ rows.
function cpuRef(
  c: { rows: number[]; cols: number[]; vals: number[] },
  m: number,
  x: Float32Array,
  d: number,
  layers: number,
  ls: Int32Array[],
  ws: Float32Array[],
) {
  const prod = (y: Float64Array, t: boolean) => {
    const out = new Float64Array(m * d);
    c.rows.forEach((r0, j) => {
      const [r, k] = t ? [c.cols[j], r0] : [r0, c.cols[j]];
      for (let q = 0; q < d; q++) out[r * d + q] += c.vals[j] * y[k * d + q];
    });
    return out;
  };
  let h = Float64Array.from(x);
  const acc = Float64Array.from(x);
  for (let l = 0; l < layers; l++) {
    h = prod(h, false);
    h.forEach((v, i) => acc[i] += v);
  }
  const rowsOf = (l: Int32Array) =>
    Float64Array.from(
      { length: l.length * d },
      (_, i) => acc[l[Math.floor(i / d)] * d + (i % d)] / (layers + 1),
    );
  // G: the weights scattered to the rows, then Σ_l (Âᵀ)^l G / (L + 1).
  let g = new Float64Array(m * d);
  ls.forEach((l, li) =>
    l.forEach((r, i) => {
      for (let q = 0; q < d; q++) g[r * d + q] += ws[li][i * d + q] / (layers + 1);
    })
  );
  const grad = Float64Array.from(g);
  for (let l = 0; l < layers; l++) {
    g = prod(g, true);
    g.forEach((v, i) => grad[i] += v);
  }
  return { first: rowsOf(ls[0]), last: rowsOf(ls[2]), grad };
}

function matrix(c: { rows: number[]; cols: number[]; vals: number[] }, m: number, sym: boolean) {
  return SparseMatrix.fromCOO(c.rows, c.cols, c.vals, [m, m], { symmetric: sym });
}

gpuTest("propagateRows: the same bits as lightGcnPropagate + gather, and the CPU", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2, 7, 13, 31, 64),
      fc.integer({ min: 0, max: 200 }),
      fc.constantFrom(3, 4, 8, 12, 64),
      fc.integer({ min: 0, max: 5 }),
      fc.boolean(),
      fc.boolean(),
      fc.integer({ min: 0, max: 1e6 }),
      async (m, nnz, d, layers, sym, ordered, seed) => {
        const c = randSquare(m, nnz, seed, sym);
        const a = matrix(c, m, sym);
        const x = randArray(m * d, seed + 1);
        const ls = lists(m, seed + 2);
        const ws = ls.map((l, i) => randArray(l.length * d, seed + 3 + i));
        // Products in the balanced row order, as large matrices take them, or in natural order.
        setSpmmColumnQuads(null, ordered);
        let fused, plain;
        try {
          fused = await readAll(run(a, x, d, layers, ls, ws, true));
          plain = await readAll(run(a, x, d, layers, ls, ws, false));
        } finally {
          setSpmmColumnQuads(null);
        }
        const what =
          `m ${m}, nnz ${a.nnz}, d ${d}, L ${layers}, symmetric ${sym}, ordered ${ordered}`;
        for (let i = 0; i < 3; i++) {
          assert.deepEqual([...fused[i]], [...plain[i]], `${what}: output ${i} bit for bit`);
        }
        const ref = cpuRef(c, m, x, d, layers, ls, ws);
        assertClose(fused[0], ref.first, { atol: 1e-4, rtol: 1e-4, msg: what });
        assertClose(fused[1], ref.last, { atol: 1e-4, rtol: 1e-4, msg: what });
        assertClose(fused[2], ref.grad, { atol: 1e-4, rtol: 1e-4, msg: what });
        a.dispose();
      },
    ),
    { numRuns: 24 },
  );
});

gpuTest(
  "propagateRows: a GPU-built graph (no host offsets) and the LightGCN adjacency",
  async () => {
    const x = tensor(randArray(37 * 8, 1), [37, 8]);
    const k = knnGraph(x, 4); // general (not symmetric), built on the GPU
    const inter = {
      users: Int32Array.from({ length: 60 }, (_, i) => i % 11),
      items: Int32Array.from({ length: 60 }, (_, i) => (i * 7) % 26),
      numUsers: 11,
      numItems: 26,
    };
    const b = bipartiteAdjacency(inter);
    for (const a of [k, b]) {
      const m = a.shape[0];
      const xs = randArray(m * 8, 2);
      const ls = lists(m, 3);
      const ws = ls.map((l, i) => randArray(l.length * 8, 4 + i));
      const fused = await readAll(run(a, xs, 8, 2, ls, ws, true));
      const plain = await readAll(run(a, xs, 8, 2, ls, ws, false));
      for (let i = 0; i < 3; i++) assert.deepEqual([...fused[i]], [...plain[i]], `${a} ${i}`);
    }
    k.dispose();
    b.dispose();
    x.dispose();
  },
);

gpuTest("propagateRows: gradient by finite differences", async () => {
  const c = randSquare(9, 20, 5, false);
  const a = matrix(c, 9, false);
  const { subset } = rowSubset(a, [Int32Array.of(3, 0, 3, 8)]);
  await checkGrad((h) => propagateRows(a, h, 2, subset), [randArray(9 * 4, 6)], [[9, 4]]);
  subset.ids.dispose();
  subset.pos.dispose();
  a.dispose();
});

gpuTest("propagateRows: no buffer outlives the step; bad ids and shapes are named", async () => {
  const c = randSquare(23, 80, 7, true);
  const a = matrix(c, 23, true);
  const x = randArray(23 * 8, 8);
  const ls = lists(23, 9);
  const ws = ls.map((l, i) => randArray(l.length * 8, 10 + i));
  for (const t of run(a, x, 8, 3, ls, ws, true)) t.dispose(); // warms the caches (row order)
  const before = runtime().memory().liveBuffers;
  const outs = run(a, x, 8, 3, ls, ws, true);
  await readAll(outs);
  for (const t of outs) t.dispose();
  assert.equal(runtime().memory().liveBuffers, before, "live buffers after a step");
  assert.throws(
    () => rowSubset(a, [Int32Array.of(1, 23)]),
    /rowSubset: id 23 at position 1 of list 0 is out of range; expected 0 ≤ id < 23/,
  );
  const { subset } = rowSubset(a, [Int32Array.of(1)]);
  assert.throws(
    () => tidy(() => propagateRows(a, tensor(x, [8, 23]), 1, subset)),
    /propagateRows: .* must be square and H⁰ \[8, 23\] must be \[23, d\]/,
  );
  subset.ids.dispose();
  subset.pos.dispose();
  a.dispose();
});
