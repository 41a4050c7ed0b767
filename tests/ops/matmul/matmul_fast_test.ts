// The fast matmul kernels (shaders/matmul_regblock.wgsl, shaders/matmul_tiled.wgsl), their
// selector and the fused `linear`: property tests against a float64 CPU reference over random
// M, N, K (1, primes, sizes off the block grid), every transpose and batch layout, each kernel
// family and block configuration forced; edge cases; gradients; bad input.
import fc from "npm:fast-check@3";
import {
  adapterClass,
  add,
  gelu,
  linear,
  type LinearActivation,
  matmul,
  type MatmulConfig,
  matmulReference,
  matmulWith,
  noGrad,
  readAll,
  regblockConfig,
  relu,
  selectMatmul,
  setInputChecks,
  sigmoid,
  tanh,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";

// --- CPU reference ------------------------------------------------------------------------

/** Batch layout: rank-2 both, rank-3 both, or one side rank 2 / batch 1 (broadcast). */
type Layout = "2d" | "3d" | "a2d" | "b2d" | "a1" | "b1";

interface Problem {
  m: number;
  n: number;
  k: number;
  batch: number;
  layout: Layout;
  transA: boolean;
  transB: boolean;
}

function shapes(p: Problem): { as: number[]; bs: number[]; ba: number; bb: number } {
  const am = p.transA ? [p.k, p.m] : [p.m, p.k];
  const bm = p.transB ? [p.n, p.k] : [p.k, p.n];
  switch (p.layout) {
    case "2d":
      return { as: am, bs: bm, ba: 1, bb: 1 };
    case "3d":
      return { as: [p.batch, ...am], bs: [p.batch, ...bm], ba: p.batch, bb: p.batch };
    case "a2d":
      return { as: am, bs: [p.batch, ...bm], ba: 1, bb: p.batch };
    case "b2d":
      return { as: [p.batch, ...am], bs: bm, ba: p.batch, bb: 1 };
    case "a1":
      return { as: [1, ...am], bs: [p.batch, ...bm], ba: 1, bb: p.batch };
    case "b1":
      return { as: [p.batch, ...am], bs: [1, ...bm], ba: p.batch, bb: 1 };
  }
}

/** C[b] = op(A[b]) · op(B[b]) summed in float64; a batch of 1 broadcasts. */
function matmulRef(a: Float32Array, b: Float32Array, p: Problem): Float64Array {
  const { m, n, k } = p;
  const { ba, bb } = shapes(p);
  const batch = Math.max(ba, bb);
  const c = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++) {
    const ao = (ba === 1 ? 0 : t) * m * k;
    const bo = (bb === 1 ? 0 : t) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const av = p.transA ? a[ao + q * m + i] : a[ao + i * k + q];
          const bv = p.transB ? b[bo + j * k + q] : b[bo + q * n + j];
          s += av * bv;
        }
        c[t * m * n + i * n + j] = s;
      }
    }
  }
  return c;
}

/** f32 rounding grows with K: unit-normal inputs give sums of K products of size ~1. */
const tolFor = (k: number) => ({ atol: 2e-6 * Math.max(1, k), rtol: 1e-5 });

let seed = 1;
/** Runs one problem (with a forced kernel config, or the selector's) and compares with the CPU. */
async function verify(p: Problem, cfg: MatmulConfig | null, msg = ""): Promise<void> {
  const { as, bs } = shapes(p);
  const a = randArray(as.reduce((x, y) => x * y, 1), seed++);
  const b = randArray(bs.reduce((x, y) => x * y, 1), seed++);
  const out = tidy(() => {
    const opts = { transA: p.transA, transB: p.transB };
    const ta = tensor(a, as);
    const tb = tensor(b, bs);
    return cfg ? matmulWith(cfg, ta, tb, opts) : matmul(ta, tb, opts);
  });
  const want = p.layout === "2d" ? [p.m, p.n] : [p.batch, p.m, p.n];
  const [got] = await readAll([out]);
  out.dispose();
  assert.deepEqual(out.shape, want, `${msg} ${JSON.stringify(p)}: shape`);
  assertClose(got, matmulRef(a, b, p), { ...tolFor(p.k), msg: `${msg} ${JSON.stringify(p)}` });
}

// Sizes: 1, primes, powers of two and their neighbours, and anything up to 48.
const dim = fc.oneof(
  fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 31, 32, 33, 37),
  fc.integer({ min: 1, max: 48 }),
);
const problem = fc.record({
  m: dim,
  n: dim,
  k: dim,
  batch: fc.integer({ min: 1, max: 3 }),
  layout: fc.constantFrom<Layout>("2d", "3d", "a2d", "b2d", "a1", "b1"),
  transA: fc.boolean(),
  transB: fc.boolean(),
});

// --- selected kernel ----------------------------------------------------------------------

gpuTest(
  "matmul fast: selected kernel matches the CPU reference (random shapes, layouts)",
  async () => {
    await fc.assert(fc.asyncProperty(problem, (p) => verify(p, null, "selected")), { numRuns: 20 });
  },
);

// --- forced configurations ----------------------------------------------------------------

gpuTest("matmul fast: regblock blocks up to 16×16 at their edges", async () => {
  const cfg = fc.record({
    family: fc.constant("regblock" as const),
    rm: fc.constantFrom(1, 2, 4),
    rn: fc.constantFrom(1, 2, 4),
  });
  await fc.assert(
    fc.asyncProperty(problem, cfg, (p, c) => verify(p, c, `regblock ${c.rm}×${c.rn}`)),
    { numRuns: 16 },
  );
});

gpuTest("matmul fast: regblock 32×32 blocks, vec4 loads on both operands", async () => {
  // Aligned contiguous axes (multiples of 4) give the vec4 paths the selector uses for big shapes.
  const q4 = fc.integer({ min: 1, max: 20 }).map((x) => 4 * x);
  const aligned = fc.record({
    m: dim,
    n: q4,
    k: q4,
    batch: fc.integer({ min: 1, max: 2 }),
    layout: fc.constantFrom<Layout>("2d", "3d", "a2d", "b2d"),
    transA: fc.constant(false),
    transB: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(aligned, (p) => verify(p, { family: "regblock", rm: 8, rn: 8 }, "32×32")),
    { numRuns: 6 },
  );
  // Aᵀ with M % 4 == 0 loads vec4s along M.
  await verify({ m: 36, n: 40, k: 13, batch: 2, layout: "3d", transA: true, transB: false }, {
    family: "regblock",
    rm: 8,
    rn: 8,
  }, "32×32 Aᵀ");
});

gpuTest("matmul fast: tiled (workgroup-memory) kernel at every tile size", async () => {
  const cfg = fc.record({ family: fc.constant("tiled" as const), tr: fc.constantFrom(1, 2, 4) });
  await fc.assert(
    fc.asyncProperty(problem, cfg, (p, c) => verify(p, c, `tiled ${c.tr}`)),
    { numRuns: 16 },
  );
});

gpuTest("matmul fast: larger shapes agree with the naive reference kernel", async () => {
  const cases: [Problem, MatmulConfig | null][] = [
    [{ m: 150, n: 203, k: 97, batch: 1, layout: "2d", transA: false, transB: true }, null],
    [{ m: 128, n: 128, k: 64, batch: 3, layout: "3d", transA: false, transB: false }, null],
    [{ m: 100, n: 52, k: 260, batch: 1, layout: "2d", transA: true, transB: false }, null],
    [{ m: 77, n: 130, k: 90, batch: 2, layout: "b2d", transA: false, transB: false }, {
      family: "tiled",
      tr: 4,
    }],
  ];
  for (const [p, cfg] of cases) {
    const { as, bs } = shapes(p);
    const a = randArray(as.reduce((x, y) => x * y, 1), seed++);
    const b = randArray(bs.reduce((x, y) => x * y, 1), seed++);
    const [got, ref] = await readAll(tidy(() => {
      const ta = tensor(a, as);
      const tb = tensor(b, bs);
      const opts = { transA: p.transA, transB: p.transB };
      return [
        cfg ? matmulWith(cfg, ta, tb, opts) : matmul(ta, tb, opts),
        matmulReference(ta, tb, opts),
      ];
    }));
    assertClose(got, ref, { ...tolFor(p.k), msg: JSON.stringify(p) });
  }
});

// --- edges --------------------------------------------------------------------------------

gpuTest("matmul fast: K = 0 gives zeros, empty M / N / batch give empty results", async () => {
  for (const cfg of [{ family: "regblock", rm: 2, rn: 2 }, { family: "tiled", tr: 1 }] as const) {
    const outs = tidy(() => [
      matmulWith(cfg, tensor([], [5, 0]), tensor([], [0, 6])),
      matmulWith(cfg, tensor([], [0, 3]), tensor(randArray(6, 1), [3, 2])),
      matmulWith(cfg, tensor(randArray(6, 2), [2, 3]), tensor([], [3, 0])),
      matmulWith(cfg, tensor([], [0, 2, 3]), tensor(randArray(12, 3), [1, 3, 4])),
    ]);
    const [z, e1, e2, e3] = await readAll(outs);
    assert.deepEqual([...z], new Array(30).fill(0));
    assert.deepEqual([e1.length, e2.length, e3.length], [0, 0, 0]);
    assert.deepEqual(outs.map((t) => t.shape), [[5, 6], [0, 2], [2, 0], [0, 2, 4]]);
    for (const t of outs) t.dispose();
  }
});

gpuTest(
  "matmul fast: an Inf in the last K row stays ±Inf when K is not a multiple of 4",
  async () => {
    // The regblock kernel clamps reads past K to row K-1 and must zero both operands there:
    // 0 · Inf would turn the ±Inf of the affected column into NaN.
    setInputChecks(false);
    try {
      const m = 3, n = 5, k = 6;
      const a = new Float32Array(m * k).fill(1);
      const b = new Float32Array(k * n).fill(1);
      b[(k - 1) * n + 2] = Infinity;
      for (const cfg of [null, { family: "regblock", rm: 1, rn: 2 } as const]) {
        const out = tidy(() => {
          const ta = tensor(a, [m, k]);
          const tb = tensor(b, [k, n]);
          return cfg ? matmulWith(cfg, ta, tb) : matmul(ta, tb);
        });
        const got = await out.read();
        out.dispose();
        for (let i = 0; i < m; i++) {
          assert.deepEqual([...got.slice(i * n, i * n + n)], [6, 6, Infinity, 6, 6]);
        }
      }
    } finally {
      setInputChecks(true);
    }
  },
);

gpuTest("matmul fast: a dispatch of more than 65535 workgroups is folded", async () => {
  // 4×4 blocks of a 4097 × 2052 output: 525825 blocks, 65729 workgroups of 8.
  const m = 4097, n = 2052, k = 3;
  const a = randArray(m * k, 11);
  const b = randArray(k * n, 12);
  const out = tidy(() =>
    matmulWith({ family: "regblock", rm: 1, rn: 1 }, tensor(a, [m, k]), tensor(b, [k, n]))
  );
  const got = await out.read();
  out.dispose();
  const ref = matmulRef(a, b, { m, n, k, batch: 1, layout: "2d", transA: false, transB: false });
  assertClose(got, ref, tolFor(k));
});

// --- selector -----------------------------------------------------------------------------

gpuTest("matmul fast: selector rules", () => {
  assert.equal(adapterClass("llvmpipe (LLVM 15.0.6, 256 bits)"), "software");
  assert.equal(adapterClass("SwiftShader Device (Subzero)"), "software");
  assert.equal(adapterClass("Intel(R) Graphics (lavapipe)"), "software");
  assert.equal(adapterClass("NVIDIA H100 80GB HBM3"), "hardware");
  const p = (m: number, n: number, k: number, batch = 1, transA = false, transB = false) => ({
    m,
    n,
    k,
    batch,
    transA,
    transB,
  });
  // Big aligned problems: 32×32 blocks; hardware: 8×16 blocks (the H200's best), smaller ones
  // shrink to the problem.
  assert.deepEqual(selectMatmul(p(1024, 1024, 1024), "software"), {
    family: "regblock",
    rm: 8,
    rn: 8,
  });
  assert.deepEqual(selectMatmul(p(1024, 1024, 1024), "hardware"), {
    family: "regblock",
    rm: 2,
    rn: 4,
  });
  assert.deepEqual(selectMatmul(p(4, 6, 8), "hardware"), { family: "regblock", rm: 1, rn: 2 });
  // The block shrinks to the problem: M = 1 gives one row quad.
  assert.deepEqual(regblockConfig(p(1, 20000, 64, 1, false, true)), {
    family: "regblock",
    rm: 1,
    rn: 8,
  });
  // Unaligned operands stop at 16×16.
  assert.deepEqual(regblockConfig(p(1000, 1000, 1001)), { family: "regblock", rm: 4, rn: 4 });
  // A big problem with too few blocks for the CPU threads gets smaller blocks.
  assert.deepEqual(regblockConfig(p(64, 64, 8192)), { family: "regblock", rm: 2, rn: 4 });
});

// --- linear -------------------------------------------------------------------------------

const ACTS: LinearActivation[] = ["none", "relu", "gelu", "tanh", "sigmoid"];
const applyAct = (x: Tensor<"f32">, act: LinearActivation) =>
  act === "relu"
    ? relu(x)
    : act === "gelu"
    ? gelu(x)
    : act === "tanh"
    ? tanh(x)
    : act === "sigmoid"
    ? sigmoid(x)
    : x;

gpuTest("linear: fused bias and activation match matmul + add + activation", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        rows: dim,
        lead: fc.constantFrom(0, 2),
        k: dim,
        n: dim,
        bias: fc.boolean(),
        act: fc.constantFrom(...ACTS),
      }),
      async ({ rows, lead, k, n, bias, act }) => {
        const xs = lead ? [lead, rows, k] : [rows, k];
        const x = randArray(xs.reduce((p, q) => p * q, 1), seed++);
        const w = randArray(n * k, seed++);
        const b = randArray(n, seed++);
        const [got, want] = await readAll(noGrad(() =>
          tidy(() => {
            const tx = tensor(x, xs);
            const tw = tensor(w, [n, k]);
            const tb = bias ? tensor(b, [n]) : null;
            const mm = matmul(tx, tw, { transB: true });
            return [linear(tx, tw, tb, act), applyAct(tb ? add(mm, tb) : mm, act)];
          })
        ));
        assertClose(got, want, { ...tolFor(k), msg: JSON.stringify({ rows, lead, k, n, act }) });
      },
    ),
    { numRuns: 12 },
  );
});

gpuTest("linear: finite-difference gradients for every activation", async () => {
  for (const act of ACTS) {
    const x = randArray(2 * 3 * 5, 40);
    const w = randArray(6 * 5, 41);
    // Bias away from 0 keeps relu's kink out of the finite-difference step.
    const b = randArray(6, 42).map((v) => v + Math.sign(v) * 0.5);
    await checkGrad((xx, ww, bb) => linear(xx, ww, bb, act), [x, w, b], [[2, 3, 5], [6, 5], [6]]);
    await checkGrad((xx, ww) => linear(xx, ww, null, act), [x.slice(0, 15), w], [[3, 5], [6, 5]]);
  }
});

gpuTest("matmul fast: finite-difference gradients through the selected kernels", async () => {
  for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
    const as = transA ? [2, 7, 5] : [2, 5, 7];
    const bs = transB ? [6, 7] : [7, 6];
    await checkGrad(
      (x, y) => matmul(x, y, { transA, transB }),
      [randArray(70, 50), randArray(42, 51)],
      [as, bs],
    );
  }
});

gpuTest("linear and matmulWith: bad input names the op and shapes", () => {
  tidy(() => {
    const x = tensor(new Float32Array(6), [2, 3]);
    assert.throws(
      () => linear(x, tensor(new Float32Array(8), [2, 4])),
      /wgrec linear: input \[2, 3\] and weight \[2, 4\] do not fit, expected input \[\.\.\., K\]/,
    );
    assert.throws(
      () => linear(x, tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(3), [3])),
      /wgrec linear: bias \[3\] does not fit weight \[2, 3\], expected \[2\]/,
    );
    assert.throws(
      () => linear(tensor(new Float32Array(3), [3]), tensor(new Float32Array(6), [2, 3])),
      /wgrec linear: input \[3\] and weight \[2, 3\] do not fit/,
    );
    assert.throws(
      () => linear(x, tensor(new Int32Array(6), [2, 3]) as unknown as Tensor<"f32">),
      /wgrec linear: weight \[2, 3\] has dtype i32, expected f32/,
    );
    assert.throws(
      () => linear(x, tensor(new Float32Array(6), [2, 3]), null, "swish" as LinearActivation),
      /wgrec linear: unknown activation 'swish'/,
    );
    assert.throws(
      () =>
        matmulWith({ family: "regblock", rm: 3, rn: 1 }, x, tensor(new Float32Array(6), [3, 2])),
      /wgrec matmul: kernel config .* is invalid/,
    );
    assert.throws(
      () => matmulWith({ family: "tiled", tr: 4 }, x, x),
      /wgrec matmul: \[2, 3\] · \[2, 3\] do not fit/,
    );
  });
});
