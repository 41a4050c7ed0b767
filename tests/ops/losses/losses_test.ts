// Tests of src/ops/losses.ts: CPU references (float64), PyTorch golden values, property tests
// over shapes and temperatures, gradient checks and bad-input messages.
import fc from "npm:fast-check@3";
import {
  backward,
  bceWithLogits,
  bprLoss,
  cosineLoss,
  cosineSimilarity,
  infoNce,
  type InfoNceOptions,
  readAll,
  sampledSoftmaxLoss,
  simPreservationLoss,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray, runtime } from "../../helpers.ts";

const golden = JSON.parse(
  await Deno.readTextFile(new URL("../../fixtures/losses_golden.json", import.meta.url)),
);
const f32 = (a: number[]) => new Float32Array(a);

// --- CPU reference ------------------------------------------------------------------------

interface RefCase {
  b: number;
  d: number;
  m: number;
  a: ArrayLike<number>;
  p: ArrayLike<number>;
  n: ArrayLike<number> | null;
  tau: number;
  normalize: boolean;
  symmetric: boolean;
  ids: ArrayLike<number> | null;
}

/** InfoNCE the plain way: explicit logit rows, max-subtracted log-sum-exp, in float64. */
function infoNceRef(c: RefCase): number {
  const { b, d, m, tau } = c;
  const rows = (x: ArrayLike<number>, r: number) => {
    const out: Float64Array[] = [];
    for (let i = 0; i < r; i++) {
      const v = Float64Array.from({ length: d }, (_, j) => x[i * d + j]);
      if (c.normalize) {
        const nrm = Math.max(Math.hypot(...v), 1e-12);
        for (let j = 0; j < d; j++) v[j] /= nrm;
      }
      out.push(v);
    }
    return out;
  };
  const A = rows(c.a, b);
  const P = rows(c.p, b);
  const N = c.n ? rows(c.n, m) : [];
  const dot = (x: Float64Array, y: Float64Array) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[j] * y[j];
    return s / tau;
  };
  const dir = (Q: Float64Array[], K: Float64Array[]) => {
    let total = 0;
    for (let i = 0; i < b; i++) {
      const z: number[] = [];
      for (let j = 0; j < b; j++) {
        if (c.ids && j !== i && c.ids[j] === c.ids[i]) continue;
        z.push(dot(Q[i], K[j]));
      }
      for (const nv of N) z.push(dot(Q[i], nv));
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0));
      total += lse - dot(Q[i], K[i]);
    }
    return total / b;
  };
  const l1 = dir(A, P);
  return c.symmetric ? (l1 + dir(P, A)) / 2 : l1;
}

/** Directional derivative of the CPU reference by central differences (float64). */
function refDirectional(c: RefCase, which: "a" | "p" | "n" | "tau", v: ArrayLike<number>): number {
  const eps = 1e-5;
  const shift = (s: number): RefCase => {
    if (which === "tau") return { ...c, tau: c.tau + s * eps * v[0] };
    const x = c[which]!;
    return { ...c, [which]: Float64Array.from(x, (val, i) => val + s * eps * v[i]) };
  };
  return (infoNceRef(shift(1)) - infoNceRef(shift(-1))) / (2 * eps);
}

function dotArr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

interface RunResult {
  loss: number;
  ga: Float32Array;
  gp: Float32Array;
  gn: Float32Array | null;
  gt: number | null;
}

/** Runs infoNce with every differentiable input marked, returning the loss and gradients. */
async function runInfoNce(c: RefCase, learnTau: boolean): Promise<RunResult> {
  let res: RunResult | null = null;
  await tidy(async () => {
    const a = tensor(Float32Array.from(c.a), [c.b, c.d]);
    const p = tensor(Float32Array.from(c.p), [c.b, c.d]);
    const n = c.n ? tensor(Float32Array.from(c.n), [c.m, c.d]) : undefined;
    const t = learnTau ? tensor([c.tau], [1]) : c.tau;
    const ids = c.ids ? tensor(Int32Array.from(c.ids), [c.b], "i32") : undefined;
    const params = [a, p, ...(n ? [n] : []), ...(typeof t === "number" ? [] : [t])];
    for (const x of params) x.requiresGrad = true;
    const opts: InfoNceOptions = {
      temperature: t,
      normalize: c.normalize,
      symmetric: c.symmetric,
      negatives: n,
      ids,
    };
    const loss = infoNce(a, p, opts);
    backward(loss);
    const [l, ga, gp] = await readAll([loss, a.grad!, p.grad!]);
    const gn = n ? await n.grad!.read() : null;
    const gt = typeof t === "number" ? null : (await t.grad!.read())[0];
    for (const x of params) x.grad?.dispose();
    res = { loss: l[0], ga, gp, gn, gt };
  });
  return res!;
}

// --- golden values ------------------------------------------------------------------------

for (const g of golden.infonce) {
  gpuTest(`infoNce matches PyTorch F.cross_entropy: ${g.name}`, async () => {
    const c: RefCase = {
      b: g.B,
      d: g.d,
      m: g.M,
      a: g.a,
      p: g.p,
      n: g.n,
      tau: g.tau,
      normalize: g.normalize,
      symmetric: g.symmetric,
      ids: g.ids,
    };
    const r = await runInfoNce(c, g.learnTau);
    const tol = { atol: 2e-5, rtol: 2e-4 };
    assertClose([r.loss], [g.loss], { ...tol, msg: "loss" });
    // τ = 0.01 turns float32 rounding of the logits into relative errors of ~1e-4.
    const gtol = g.tau < 0.05 ? { atol: 2e-3, rtol: 2e-3 } : tol;
    assertClose(r.ga, g.ga, { ...gtol, msg: "dA" });
    assertClose(r.gp, g.gp, { ...gtol, msg: "dP" });
    if (g.gn) assertClose(r.gn!, g.gn, { ...gtol, msg: "dN" });
    if (g.learnTau) assertClose([r.gt!], [g.gtau], { ...gtol, msg: "dτ" });
    // The CPU reference agrees with PyTorch too.
    assertClose([infoNceRef(c)], [g.loss], { atol: 1e-9, rtol: 1e-9, msg: "CPU reference" });
  });
}

gpuTest("sampledSoftmaxLoss matches PyTorch (log-q corrected, τ = 0.5)", async () => {
  const s = golden.sampled;
  await tidy(async () => {
    const pos = tensor(f32(s.pos), [s.B]);
    const neg = tensor(f32(s.neg), [s.B, s.K]);
    pos.requiresGrad = neg.requiresGrad = true;
    const loss = sampledSoftmaxLoss(pos, neg, {
      temperature: s.tau,
      logQPos: tensor(f32(s.lqp), [s.B]),
      logQNeg: tensor(f32(s.lqn), [s.B, s.K]),
    });
    backward(loss);
    const [l, gp, gn] = await readAll([loss, pos.grad!, neg.grad!]);
    assertClose(l, [s.loss], { msg: "loss" });
    assertClose(gp, s.gpos, { msg: "dpos" });
    assertClose(gn, s.gneg, { msg: "dneg" });
  });
});

gpuTest("bprLoss matches PyTorch −logsigmoid(pos − neg).mean() with K = 3", async () => {
  const s = golden.bpr;
  await tidy(async () => {
    const pos = tensor(f32(s.pos), [s.B]);
    const neg = tensor(f32(s.neg), [s.B, s.K]);
    pos.requiresGrad = neg.requiresGrad = true;
    const loss = bprLoss(pos, neg);
    backward(loss);
    const [l, gp, gn] = await readAll([loss, pos.grad!, neg.grad!]);
    assertClose(l, [s.loss], { msg: "loss" });
    assertClose(gp, s.gpos, { msg: "dpos" });
    assertClose(gn, s.gneg, { msg: "dneg" });
  });
});

gpuTest("bceWithLogits matches PyTorch, with and without pos_weight", async () => {
  const s = golden.bce;
  for (const pw of [undefined, s.posWeight]) {
    await tidy(async () => {
      const x = tensor(f32(s.x), s.shape);
      x.requiresGrad = true;
      const loss = bceWithLogits(x, tensor(f32(s.y), s.shape), { posWeight: pw });
      backward(loss);
      const [l, gx] = await readAll([loss, x.grad!]);
      assertClose(l, [pw ? s.lossPw : s.loss], { msg: `loss pw=${pw}` });
      assertClose(gx, pw ? s.gxPw : s.gx, { msg: `dx pw=${pw}` });
      x.grad!.dispose();
    });
  }
});

gpuTest("cosineSimilarity, cosineLoss and simPreservationLoss match PyTorch", async () => {
  const s = golden.cosine;
  await tidy(async () => {
    const a = tensor(f32(s.a), [5, 4]);
    const b = tensor(f32(s.b), [5, 4]);
    a.requiresGrad = b.requiresGrad = true;
    assertClose(await cosineSimilarity(a, b).read(), s.cos, { msg: "cos" });
    const loss = cosineLoss(a, b);
    backward(loss);
    const [l, ga, gb] = await readAll([loss, a.grad!, b.grad!]);
    assertClose(l, [s.loss], { msg: "1 − cos" });
    assertClose(ga, s.ga, { msg: "da" });
    assertClose(gb, s.gb, { msg: "db" });
    const x = tensor(f32(s.x), [5, 4]);
    x.requiresGrad = true;
    const ls = simPreservationLoss(x, tensor(f32(s.feats), [5, 6]));
    backward(ls);
    const [lv, gx] = await readAll([ls, x.grad!]);
    assertClose(lv, [s.lsim], { msg: "L_sim" });
    assertClose(gx, s.gx, { msg: "dL_sim/dx" });
  });
});

// --- properties -------------------------------------------------------------------------

/** Checks the GPU loss against the CPU reference and each GPU gradient along a random direction. */
async function checkAgainstRef(c: RefCase, learnTau: boolean, seed: number): Promise<void> {
  const r = await runInfoNce(c, learnTau);
  const ref = infoNceRef(c);
  // float32 logits carry a relative error ~1e-7·|z|; |z| ≤ 1/τ when normalised.
  const zmax = c.normalize ? 1 / c.tau : 50;
  assertClose([r.loss], [ref], { atol: 1e-5 * zmax, rtol: 1e-4, msg: "loss" });
  const inputs: ["a" | "p" | "n" | "tau", ArrayLike<number> | null][] = [
    ["a", r.ga],
    ["p", r.gp],
    ["n", r.gn],
    ["tau", r.gt === null ? null : [r.gt]],
  ];
  inputs.forEach(([which, g], k) => {
    if (!g || g.length === 0) return;
    const v = randArray(g.length, seed + k);
    const fd = refDirectional(c, which, v);
    const an = dotArr(g, v);
    const tol = 2e-3 * Math.max(1, Math.abs(fd)) * Math.max(1, zmax / 20);
    assert.ok(Math.abs(fd - an) <= tol, `d${which}: GPU ${an}, reference ${fd}`);
  });
}

const caseArb = fc.record({
  b: fc.oneof(fc.constantFrom(1, 2, 3, 31, 64, 65, 97), fc.integer({ min: 1, max: 80 })),
  // Odd widths (1 … 41) take the generic kernels, multiples of 4 the register-blocked ones
  // on CPU adapters.
  d: fc.oneof(
    fc.integer({ min: 0, max: 20 }).map((k) => 2 * k + 1),
    fc.integer({ min: 1, max: 10 }).map((k) => 4 * k),
  ),
  m: fc.constantFrom(0, 0, 1, 5, 33),
  tau: fc.constantFrom(0.01, 0.05, 0.2, 1, 4),
  normalize: fc.boolean(),
  symmetric: fc.boolean(),
  dupIds: fc.boolean(),
  learnTau: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1e6 }),
});

gpuTest("infoNce property: loss and gradients match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (s) => {
      // Unnormalised inputs are scaled so the logits stay within a few tens of units.
      const std = s.normalize ? 1 : Math.min(1, Math.sqrt(s.tau / s.d));
      const c: RefCase = {
        b: s.b,
        d: s.d,
        m: s.m,
        a: randArray(s.b * s.d, s.seed, std),
        p: randArray(s.b * s.d, s.seed + 1, std),
        n: s.m ? randArray(s.m * s.d, s.seed + 2, std) : null,
        tau: s.tau,
        normalize: s.normalize,
        symmetric: s.symmetric,
        ids: s.dupIds ? Int32Array.from({ length: s.b }, (_, i) => (i * 7919 + s.seed) % 5) : null,
      };
      await checkAgainstRef(c, s.learnTau, s.seed);
    }),
    { numRuns: 10 },
  );
});

gpuTest(
  "infoNce at B = 2053 (prime), d = 20, symmetric, masked, negatives, learnable τ",
  async () => {
    const b = 2053;
    const d = 20;
    const m = 17;
    const c: RefCase = {
      b,
      d,
      m,
      a: randArray(b * d, 11),
      p: randArray(b * d, 12),
      n: randArray(m * d, 13),
      tau: 0.1,
      normalize: true,
      symmetric: true,
      ids: Int32Array.from({ length: b }, (_, i) => i % 1500),
    };
    await checkAgainstRef(c, true, 5);
  },
);

for (const wide of [1001, 4000]) {
  gpuTest(
    `infoNce streams keys in several blocks (d = ${wide}) exactly like one block`,
    async () => {
      // Zero-padding the rows changes no logit and no norm, but makes the kernels split the keys
      // into blocks (2 forward, 3 backward, for both kernel families): the results must equal the
      // d = 5 reference, with zero gradient in the padding.
      const b = 900;
      const d = 5;
      const m = 40;
      const pad = (x: Float32Array, rows: number) => {
        const out = new Float32Array(rows * wide);
        for (let i = 0; i < rows; i++) out.set(x.subarray(i * d, (i + 1) * d), i * wide);
        return out;
      };
      const c: RefCase = {
        b,
        d,
        m,
        a: randArray(b * d, 21),
        p: randArray(b * d, 22),
        n: randArray(m * d, 23),
        tau: 0.05,
        normalize: true,
        symmetric: true,
        ids: Int32Array.from({ length: b }, (_, i) => i % 700),
      };
      const narrow = await runInfoNce(c, true);
      const r = await runInfoNce({
        ...c,
        d: wide,
        a: pad(c.a as Float32Array, b),
        p: pad(c.p as Float32Array, b),
        n: pad(c.n as Float32Array, m),
      }, true);
      assertClose([r.loss], [infoNceRef(c)], { atol: 1e-4, rtol: 1e-4, msg: "loss" });
      const unpad = (g: Float32Array, rows: number) => {
        const out = new Float32Array(rows * d);
        for (let i = 0; i < rows; i++) {
          out.set(g.subarray(i * wide, i * wide + d), i * d);
          assert.ok(g.subarray(i * wide + d, (i + 1) * wide).every((v) => v === 0), "padding");
        }
        return out;
      };
      const tol = { atol: 1e-5, rtol: 1e-3 };
      assertClose(unpad(r.ga, b), narrow.ga, { ...tol, msg: "dA" });
      assertClose(unpad(r.gp, b), narrow.gp, { ...tol, msg: "dP" });
      assertClose(unpad(r.gn!, m), narrow.gn!, { ...tol, msg: "dN" });
      assertClose([r.gt!], [narrow.gt!], { ...tol, msg: "dτ" });
    },
  );
}

gpuTest("infoNce never allocates an O(B²) buffer (B = 2048, d = 8)", async () => {
  const b = 2048;
  const d = 8;
  const pool = runtime().pool;
  const acquire = pool.acquire;
  let largest = 0;
  pool.acquire = (bytes: number, op?: string) => {
    largest = Math.max(largest, bytes);
    return acquire.call(pool, bytes, op);
  };
  try {
    await tidy(async () => {
      const a = tensor(randArray(b * d, 1), [b, d]);
      const p = tensor(randArray(b * d, 2), [b, d]);
      const t = tensor([0.2], [1]);
      a.requiresGrad = p.requiresGrad = t.requiresGrad = true;
      const loss = infoNce(a, p, { temperature: t, symmetric: true });
      backward(loss);
      await readAll([loss, a.grad!, p.grad!, t.grad!]);
    });
  } finally {
    pool.acquire = acquire;
  }
  assert.ok(largest <= 4 * b * d * 4, `largest buffer ${largest} bytes for B·d = ${b * d}`);
});

gpuTest("infoNce at τ = 0.01 with logits in the thousands stays finite and exact", async () => {
  const c: RefCase = {
    b: 33,
    d: 7,
    m: 3,
    a: randArray(33 * 7, 3, 4),
    p: randArray(33 * 7, 4, 4),
    n: randArray(3 * 7, 5, 4),
    tau: 0.01,
    normalize: false,
    symmetric: true,
    ids: null,
  };
  const r = await runInfoNce(c, true);
  for (const g of [r.ga, r.gp, r.gn!, [r.gt!]]) {
    assert.ok(Array.from(g).every(Number.isFinite), "gradients are finite");
  }
  const ref = infoNceRef(c);
  assert.ok(ref > 100, `the reference loss ${ref} is large`);
  assertClose([r.loss], [ref], { rtol: 1e-5, atol: 0, msg: "loss" });
});

gpuTest("infoNce: a batch of one id, and B = 1, give exactly zero", async () => {
  const b = 9;
  const r = await runInfoNce({
    b,
    d: 3,
    m: 0,
    a: randArray(b * 3, 1),
    p: randArray(b * 3, 2),
    n: null,
    tau: 0.2,
    normalize: true,
    symmetric: true,
    ids: new Int32Array(b).fill(4),
  }, false);
  assert.equal(r.loss, 0);
  assert.ok(Array.from(r.ga).every((v) => v === 0));
  const one = await runInfoNce({
    b: 1,
    d: 5,
    m: 0,
    a: randArray(5, 1),
    p: randArray(5, 2),
    n: null,
    tau: 0.07,
    normalize: false,
    symmetric: false,
    ids: null,
  }, false);
  assert.equal(one.loss, 0);
});

gpuTest("infoNce gradients pass checkGrad (finite differences on the GPU)", async () => {
  const b = 5;
  const d = 3;
  const m = 2;
  const data = [randArray(b * d, 1), randArray(b * d, 2), randArray(m * d, 3), f32([0.5])];
  const shapes = [[b, d], [b, d], [m, d], [1]];
  for (const symmetric of [false, true]) {
    for (const normalize of [false, true]) {
      await checkGrad(
        (a, p, n, t) => infoNce(a, p, { temperature: t, negatives: n, symmetric, normalize }),
        data,
        shapes,
        { eps: 1e-2, tol: 3e-2 },
      );
    }
  }
  // d = 4: the register-blocked kernels on CPU adapters.
  await checkGrad(
    (a, p, n, t) => infoNce(a, p, { temperature: t, negatives: n, symmetric: true }),
    [randArray(b * 4, 4), randArray(b * 4, 5), randArray(m * 4, 6), f32([0.3])],
    [[b, 4], [b, 4], [m, 4], [1]],
    { eps: 1e-2, tol: 3e-2 },
  );
});

function sampledRef(
  pos: ArrayLike<number>,
  neg: ArrayLike<number>,
  k: number,
  tau: number,
  lqp?: ArrayLike<number>,
  lqn?: ArrayLike<number>,
): number {
  let total = 0;
  for (let i = 0; i < pos.length; i++) {
    const z = [(pos[i] - (lqp?.[i] ?? 0)) / tau];
    for (let j = 0; j < k; j++) z.push((neg[i * k + j] - (lqn?.[i * k + j] ?? 0)) / tau);
    const mx = Math.max(...z);
    total += mx + Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0)) - z[0];
  }
  return total / pos.length;
}

gpuTest("sampledSoftmaxLoss property: matches the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 300 }),
      fc.integer({ min: 1, max: 17 }),
      fc.constantFrom(0.01, 0.1, 1, 3),
      fc.boolean(),
      fc.integer({ min: 1, max: 1e6 }),
      async (b, k, tau, logq, seed) => {
        const pos = randArray(b, seed);
        const neg = randArray(b * k, seed + 1);
        const lqp = logq ? randArray(b, seed + 2) : undefined;
        const lqn = logq ? randArray(b * k, seed + 3) : undefined;
        const loss = tidy(() =>
          sampledSoftmaxLoss(tensor(pos), tensor(neg, [b, k]), {
            temperature: tau,
            logQPos: lqp && tensor(lqp),
            logQNeg: lqn && tensor(lqn, [b, k]),
          })
        );
        const got = await loss.item();
        loss.dispose();
        const ref = sampledRef(pos, neg, k, tau, lqp, lqn);
        assertClose([got], [ref], { atol: 1e-5 / tau, rtol: 1e-4 });
      },
    ),
    { numRuns: 12 },
  );
});

gpuTest("sampledSoftmaxLoss and bprLoss pass checkGrad", async () => {
  const b = 7;
  const k = 4;
  const lqn = randArray(b * k, 9);
  await checkGrad(
    (p, n) => sampledSoftmaxLoss(p, n, { temperature: 0.7, logQNeg: tensor(lqn, [b, k]) }),
    [randArray(b, 1), randArray(b * k, 2)],
    [[b], [b, k]],
  );
  await checkGrad((p, n) => bprLoss(p, n), [randArray(b, 3), randArray(b * k, 4)], [[b], [b, k]]);
  await checkGrad((p, n) => bprLoss(p, n), [randArray(b, 5), randArray(b, 6)], [[b], [b]]);
});

gpuTest("bprLoss property: matches the CPU reference, no overflow at |s| = 1e4", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 2000 }),
      fc.constantFrom(1, 2, 5),
      fc.constantFrom(1, 100, 1e4),
      fc.integer({ min: 1, max: 1e6 }),
      async (b, k, std, seed) => {
        const pos = randArray(b, seed, std);
        const neg = randArray(b * k, seed + 1, std);
        const loss = tidy(() => bprLoss(tensor(pos), tensor(neg, [b, k])));
        const got = await loss.item();
        loss.dispose();
        let ref = 0;
        for (let i = 0; i < b * k; i++) {
          const x = neg[i] - pos[Math.floor(i / k)];
          ref += Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
        }
        assertClose([got], [ref / (b * k)], { atol: 1e-5, rtol: 1e-4 });
      },
    ),
    { numRuns: 10 },
  );
});

gpuTest("composed losses pass checkGrad", async () => {
  const x = randArray(12, 1, 3);
  const y = Float32Array.from(randArray(12, 2), (v) => (v > 0 ? 1 : 0));
  await checkGrad((l) => bceWithLogits(l, tensor(y, [3, 4]), { posWeight: 3 }), [x], [[3, 4]]);
  await checkGrad((a, b) => cosineLoss(a, b), [randArray(15, 3), randArray(15, 4)], [[5, 3], [
    5,
    3,
  ]]);
  await checkGrad(
    (v) => simPreservationLoss(v, tensor(randArray(20, 6), [5, 4])),
    [randArray(15, 5)],
    [[5, 3]],
  );
});

// --- bad inputs ---------------------------------------------------------------------------

gpuTest("losses reject bad inputs, naming the op and shapes", () => {
  tidy(() => {
    const a = tensor(randArray(12, 1), [4, 3]);
    const p = tensor(randArray(15, 2), [5, 3]);
    assert.throws(
      () => infoNce(a, p, { temperature: 0.1 }),
      /wgrec infoNce: shapes \[4, 3\] and \[5, 3\] must be equal/,
    );
    assert.throws(
      () => infoNce(a, a, { temperature: 0 }),
      /wgrec infoNce: temperature 0 is invalid, expected a finite τ > 0/,
    );
    assert.throws(
      () => infoNce(a, a, { temperature: tensor([1, 2]) }),
      /wgrec infoNce: temperature \[2\] must have one element/,
    );
    assert.throws(
      () => infoNce(a, a, { temperature: 0.1, negatives: tensor(randArray(8, 3), [2, 4]) }),
      /wgrec infoNce: negatives \[2, 4\] do not fit A \[4, 3\], expected \[M, 3\]/,
    );
    assert.throws(
      () => infoNce(a, a, { temperature: 0.1, ids: tensor(new Int32Array(3), [3], "i32") }),
      /wgrec infoNce: ids \[3\] do not fit A \[4, 3\], expected \[4\]/,
    );
    assert.throws(
      () => infoNce(a, a, { temperature: 0.1, ids: tensor([1, 2, 3, 4]) as Tensor<never> }),
      /wgrec infoNce: ids \[4\] has dtype f32, expected i32/,
    );
    assert.throws(
      () => sampledSoftmaxLoss(tensor([1, 2]), tensor(randArray(6, 1), [3, 2])),
      /wgrec sampledSoftmaxLoss: pos \[2\] and neg \[3, 2\] do not fit/,
    );
    assert.throws(
      () => bprLoss(tensor([1, 2]), tensor([1, 2, 3])),
      /wgrec bprLoss: pos \[2\] and neg \[3\] do not fit/,
    );
    assert.throws(
      () => bceWithLogits(tensor([1, 2]), tensor([1, 2, 3])),
      /wgrec bceWithLogits: shapes \[2\] and \[3\] must be equal/,
    );
    assert.throws(
      () => simPreservationLoss(a, p),
      /wgrec simPreservationLoss: x \[4, 3\] and feats \[5, 3\] differ in rows/,
    );
  });
});
