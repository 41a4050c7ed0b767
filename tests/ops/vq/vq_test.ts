// Vector quantization: kernels against CPU references, property tests over odd shapes,
// EMA / dead-code / TOC against hand-computed references, STE gradients, PyTorch golden
// fixtures (tests/fixtures/make_vq.py) and k-means init on planted clusters.
import fc from "npm:fast-check@3";
import {
  backward,
  codeLookup,
  codeStats,
  emaUpdate,
  mean,
  mul,
  nearestCode,
  nearestCodeUnfused,
  noGrad,
  readAll,
  resetDeadCodes,
  reshape,
  runtime,
  slice,
  square,
  sub,
  sum,
  type Tensor,
  tensor,
  tidy,
  tocScores,
  tocSelect,
  topKCodes,
  zeros,
} from "../../../internal.ts";
import { add, matmul, scale } from "../../../internal.ts";
import {
  codeUsage,
  MultiModalQuantizer,
  ProductQuantizer,
  ResidualQuantizer,
  VectorQuantizer,
} from "../../../src/nn/vq.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";

// ---- CPU references -------------------------------------------------------------------

/** Scores of row i of x against every code of sub-space b (L2: squared distance, f64). */
function cpuScores(
  x: ArrayLike<number>,
  cb: ArrayLike<number>,
  i: number,
  b: number,
  m: number,
  d: number,
  nb: number,
  metric: "l2" | "cosine",
): number[] {
  const out: number[] = [];
  const xo = i * nb * d + b * d;
  for (let k = 0; k < m; k++) {
    const co = (b * m + k) * d;
    let dot = 0, xx = 0, ee = 0;
    for (let j = 0; j < d; j++) {
      dot += x[xo + j] * cb[co + j];
      xx += x[xo + j] ** 2;
      ee += cb[co + j] ** 2;
    }
    if (metric === "l2") out.push(xx + ee - 2 * dot);
    else out.push(1 - (xx > 0 && ee > 0 ? dot / Math.sqrt(xx * ee) : 0));
  }
  return out;
}

/** Indices sorted by (score, index): argmin semantics with ties → lowest index. */
function cpuRank(scores: number[]): number[] {
  return scores.map((_, k) => k).sort((a, b) => scores[a] - scores[b] || a - b);
}

/**
 * Asserts that GPU picks agree with the CPU ranking: exactly where the CPU gap to the next
 * candidate is clear, and otherwise that the pick is within rounding of the best score.
 */
function assertPick(
  got: number,
  scores: number[],
  rankPos: number,
  ranked: number[],
  scaleOf: number,
  msg: string,
) {
  const want = ranked[rankPos];
  if (got === want) return;
  const tol = 1e-4 * Math.max(1, scaleOf);
  assert.ok(got >= 0 && got < scores.length, `${msg}: index ${got} out of range`);
  assert.ok(
    Math.abs(scores[got] - scores[want]) <= tol,
    `${msg}: picked ${got} (score ${scores[got]}), expected ${want} (score ${scores[want]})`,
  );
}

function mseCpu(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

/** Runs `fn` in a tensor scope and returns its (host) result. */
async function scoped<T>(fn: () => Promise<T>): Promise<T> {
  let out!: T;
  await tidy(async () => {
    out = await fn();
  });
  return out;
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("../../fixtures/vq_golden.json", import.meta.url)),
);

// ---- nearest code ----------------------------------------------------------------------

const dims = fc.oneof(
  fc.constantFrom(1, 2, 3, 7, 13, 16, 17, 31, 64, 65),
  fc.integer({ min: 1, max: 80 }),
);

gpuTest("nearestCode: L2 and cosine match the CPU reference on odd shapes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 150 }),
      fc.integer({ min: 1, max: 140 }),
      dims,
      fc.constantFrom("l2" as const, "cosine" as const),
      fc.constantFrom("tiled" as const, "regblock" as const),
      fc.integer({ min: 0, max: 1000 }),
      async (n, m, d, metric, kernel, seed) => {
        const x = randArray(n * d, seed);
        const cb = randArray(m * d, seed + 1);
        const [codes, dist] = await scoped(async () => {
          const r = nearestCode(tensor(x, [n, d]), tensor(cb, [m, d]), {
            metric,
            distances: true,
            kernel,
          });
          return await readAll([r.codes, r.distances!]);
        });
        for (let i = 0; i < n; i++) {
          const s = cpuScores(x, cb, i, 0, m, d, 1, metric);
          const ranked = cpuRank(s);
          assertPick(codes[i], s, 0, ranked, d, `${metric} n=${n} m=${m} d=${d} row ${i}`);
          assertClose([dist[i]], [s[ranked[0]]], { atol: 2e-4 * d, rtol: 1e-4 });
        }
      },
    ),
    { numRuns: 20 },
  );
});

gpuTest("nearestCode: ties go to the lowest index (duplicates, equal norms)", async () => {
  // Codes 1 and 4 are identical; ±e_j codes are equidistant from 0.
  const cb = [
    [0, 0, 1],
    [1, 1, 0],
    [0, 1, 0],
    [-1, 0, 0],
    [1, 1, 0],
    [1, 0, 0],
  ];
  const x = [[1, 1, 0], [0, 0, 0], [2, 2, 0], [0.5, 0, 0]];
  // x=0: all L2 scores equal ‖e‖² = 1 for codes 0,2,3,5 → 0; cosine of 0 is 0 for all → 0.
  // [0.5,0,0]: L2 → code 5 (distance 0.25 vs 1.25 for code 3); cosine → 5.
  for (const metric of ["l2", "cosine"] as const) {
    for (const kernel of ["tiled", "regblock"] as const) {
      const got = await scoped(() =>
        nearestCode(tensor(x), tensor(cb), { metric, kernel }).codes.read()
      );
      assert.deepEqual([...got], [1, 0, 1, 5], `${metric} ${kernel}`);
    }
  }
  // Every code duplicated 16, 64 and 128 places later (the same thread of the tiled kernel
  // sees both copies, in the same or the next 128-code tile) and 35 later (another thread);
  // the register-blocked kernel sees them in the same or a later 32-code chunk: the first
  // copy wins. d = 3 and d = 8 take the scalar and the vec4 loads.
  for (const [gap, d] of [[16, 3], [35, 3], [16, 8], [64, 8], [128, 8]]) {
    const nc = 16;
    const base = randArray(nc * d, 3 + gap);
    const m = gap + nc;
    const dup = new Float32Array(m * d).fill(100);
    dup.set(base, 0);
    dup.set(base, gap * d);
    for (const metric of ["l2", "cosine"] as const) {
      for (const kernel of ["tiled", "regblock"] as const) {
        const got = await scoped(() =>
          nearestCode(tensor(base, [nc, d]), tensor(dup, [m, d]), { metric, kernel }).codes.read()
        );
        assert.deepEqual([...got], [...Array(nc).keys()], `gap ${gap} d ${d} ${metric} ${kernel}`);
      }
    }
  }
});

gpuTest("nearestCode: product sub-spaces match per-sub-space CPU search", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 5 }),
      fc.constantFrom("tiled" as const, "regblock" as const),
      fc.integer({ min: 0, max: 1000 }),
      async (n, m, ds, nb, kernel, seed) => {
        const x = randArray(n * nb * ds, seed);
        const cb = randArray(nb * m * ds, seed + 7);
        const codes = await scoped(() =>
          nearestCode(tensor(x, [n, nb * ds]), tensor(cb, [nb, m, ds]), { kernel }).codes.read()
        );
        for (let i = 0; i < n; i++) {
          for (let b = 0; b < nb; b++) {
            const s = cpuScores(x, cb, i, b, m, ds, nb, "l2");
            assertPick(codes[i * nb + b], s, 0, cpuRank(s), ds, `row ${i} sub-space ${b}`);
          }
        }
      },
    ),
    { numRuns: 10 },
  );
});

gpuTest("nearestCodeUnfused (matmul + argmin) agrees with the fused kernel", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 120 }),
      fc.integer({ min: 1, max: 100 }),
      dims,
      fc.constantFrom("l2" as const, "cosine" as const),
      fc.integer({ min: 0, max: 1000 }),
      async (n, m, d, metric, seed) => {
        const x = randArray(n * d, seed);
        const cb = randArray(m * d, seed + 1);
        const [a, b] = await scoped(async () => {
          const X = tensor(x, [n, d]);
          const E = tensor(cb, [m, d]);
          return await readAll([
            nearestCode(X, E, { metric }).codes,
            nearestCodeUnfused(X, E, { metric }),
          ]);
        });
        for (let i = 0; i < n; i++) {
          const s = cpuScores(x, cb, i, 0, m, d, 1, metric);
          const ranked = cpuRank(s);
          assertPick(a[i], s, 0, ranked, d, `fused row ${i}`);
          assertPick(b[i], s, 0, ranked, d, `unfused row ${i}`);
        }
      },
    ),
    { numRuns: 8 },
  );
});

gpuTest("topKCodes: sorted k nearest, ties → lower index", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 90 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 3 }),
      fc.constantFrom("l2" as const, "cosine" as const),
      fc.integer({ min: 0, max: 1000 }),
      async (n, m, d, nb, metric, seed) => {
        const k = 1 + (seed % Math.min(m, 32));
        const x = randArray(n * nb * d, seed);
        const cb = randArray(nb * m * d, seed + 3);
        const [codes, dist] = await scoped(async () => {
          const r = topKCodes(
            tensor(x, [n, nb * d]),
            tensor(cb, nb === 1 ? [m, d] : [nb, m, d]),
            k,
            {
              metric,
              distances: true,
            },
          );
          return await readAll([r.codes, r.distances!]);
        });
        for (let i = 0; i < n; i++) {
          for (let b = 0; b < nb; b++) {
            const s = cpuScores(x, cb, i, b, m, d, nb, metric);
            const ranked = cpuRank(s);
            for (let t = 0; t < k; t++) {
              const o = (i * nb + b) * k + t;
              assertPick(codes[o], s, t, ranked, d, `row ${i} b ${b} rank ${t}`);
              assertClose([dist[o]], [s[ranked[t]]], { atol: 2e-4 * d, rtol: 1e-4 });
            }
            const picked = new Set(
              Array.from(codes.subarray((i * nb + b) * k, (i * nb + b + 1) * k)),
            );
            assert.equal(picked.size, k, "distinct codes");
          }
        }
      },
    ),
    { numRuns: 10 },
  );
  // Exact ties: duplicated codes come out in index order.
  const got = await scoped(() =>
    topKCodes(tensor([[0, 0]]), tensor([[1, 0], [0, 1], [1, 0], [3, 3], [-1, 0]]), 4).codes.read()
  );
  assert.deepEqual([...got], [0, 1, 2, 4]);
});

// ---- lookup, stats, EMA, reset, TOC ------------------------------------------------------

gpuTest(
  "codeLookup: gathers rows, NaN rows for out-of-range codes, scatter-add gradient",
  async () => {
    const m = 7, d = 5, n = 11;
    const cb = randArray(m * d, 1);
    const idx = Int32Array.from({ length: n }, (_, i) => (i * 5) % m);
    const out = await scoped(() => codeLookup(tensor(cb, [m, d]), tensor(idx, [n], "i32")).read());
    for (let i = 0; i < n; i++) {
      assertClose(out.subarray(i * d, (i + 1) * d), cb.subarray(idx[i] * d, (idx[i] + 1) * d));
    }
    const bad = await scoped(() =>
      codeLookup(tensor(cb, [m, d]), tensor(Int32Array.from([2, -1, 7]), [3], "i32")).read()
    );
    assertClose(bad.subarray(0, d), cb.subarray(2 * d, 3 * d));
    assert.ok(bad.subarray(d).every((v) => Number.isNaN(v)), "out-of-range rows are NaN");
    // Gradient w.r.t. the codebook: finite differences (lookup is linear in the codebook).
    await checkGrad(
      (c) => codeLookup(c, tensor(idx, [n], "i32")),
      [cb],
      [[m, d]],
    );
    // Product layout [B, M, ds] with codes [N, B].
    const nb = 3, ds = 2;
    const cb3 = randArray(nb * m * ds, 4);
    const idx3 = Int32Array.from({ length: n * nb }, (_, i) => (i * 3 + 1) % m);
    await checkGrad(
      (c) =>
        mul(
          codeLookup(c, tensor(idx3, [n, nb], "i32")),
          tensor(randArray(n * nb * ds, 9), [n, nb * ds]),
        ),
      [cb3],
      [[nb, m, ds]],
    );
  },
);

gpuTest("codeStats: counts and sums per code match the CPU, bit-identical on re-runs", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 150 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 1000 }),
      async (n, m, d, nb, seed) => {
        const x = randArray(n * nb * d, seed);
        const idx = Int32Array.from({ length: n * nb }, (_, i) => (i * 7919 + seed) % m);
        const run = () =>
          scoped(async () => {
            const st = codeStats(
              tensor(idx, nb === 1 ? [n] : [n, nb], "i32"),
              tensor(x, [n, nb * d]),
              m,
            );
            return await readAll([st.counts, st.sums]);
          });
        const [cnt, sums] = await run();
        const [cnt2, sums2] = await run();
        assert.deepEqual(cnt2, cnt);
        assert.deepEqual(sums2, sums);
        const wantC = new Float64Array(nb * m);
        const wantS = new Float64Array(nb * m * d);
        for (let i = 0; i < n; i++) {
          for (let b = 0; b < nb; b++) {
            const k = idx[i * nb + b];
            wantC[b * m + k]++;
            for (let j = 0; j < d; j++) wantS[(b * m + k) * d + j] += x[i * nb * d + b * d + j];
          }
        }
        assertClose(cnt, wantC);
        assertClose(sums, wantS, { atol: 1e-4 });
      },
    ),
    { numRuns: 10 },
  );
});

gpuTest("emaUpdate: one step against the hand-computed formulas", async () => {
  // M = 3 codes, d = 2; batch counts n = [2, 0, 1], sums S; γ = 0.5, ε = 0.1.
  const g = 0.5, eps = 0.1;
  const N0 = [1, 2, 0.5], W0 = [1, 2, 3, 4, 5, 6], n = [2, 0, 1], S = [2, 4, 0, 0, -1, 1];
  // N' = γN + (1−γ)n = [1.5, 1, 0.75]; ΣN' = 3.25; Laplace: (N'+ε)/(3.25+0.3)·3.25.
  const Np = [1.5, 1, 0.75].map((v) => ((v + eps) / 3.55) * 3.25);
  const Wp = W0.map((w, i) => g * w + (1 - g) * S[i]); // [1.5, 3, 1.5, 2, 2, 3.5]
  const E = Wp.map((w, i) => w / Np[Math.floor(i / 2)]);
  const [cb, cnt, w] = await scoped(async () => {
    const codebook = zeros([3, 2]);
    const state = { count: tensor(N0), weight: tensor(W0, [3, 2]) };
    emaUpdate(codebook, state, { counts: tensor(n), sums: tensor(S, [3, 2]) }, g, eps);
    return await readAll([codebook, state.count, state.weight]);
  });
  assertClose(cnt, Np);
  assertClose(w, Wp);
  assertClose(cb, E);
});

gpuTest("EMA VectorQuantizer: two steps match the PyTorch reference", async () => {
  const f = fixture.ema;
  const vq = new VectorQuantizer({
    numCodes: f.M,
    dim: f.D,
    update: "ema",
    decay: f.decay,
    eps: f.eps,
  });
  await scoped(async () => {
    // Reference starts from count 0 and weight = codebook (DCID / Sonnet init).
    vq.setCodebook(tensor(f.codebook, [f.M, f.D]));
    runtime().copy(zeros([f.M]).buffer, 0, vq.ema!.count.buffer, 0, f.M * 4);
    for (const [s, step] of f.steps.entries()) {
      const r = vq.forward(tensor(f.x[s], [f.N, f.D]));
      const [codes, commit, cb, cnt] = await readAll([
        r.codes,
        r.commitment,
        vq.codebook,
        vq.ema!.count,
      ]);
      assert.deepEqual([...codes], step.codes, `step ${s} codes`);
      assertClose(commit, [step.commitment], { atol: 1e-6 });
      assertClose(cnt, step.count, { atol: 1e-6 });
      assertClose(cb, step.codebook, { atol: 1e-5, rtol: 1e-4 });
    }
  });
  vq.dispose();
});

gpuTest("resetDeadCodes: idle codes are reset to input rows after `after` steps", async () => {
  const m = 4, d = 3, n = 5;
  const x = randArray(n * d, 5);
  await scoped(async () => {
    const cb = tensor(new Float32Array(m * d).fill(9), [m, d]);
    const idle = zeros([m], "u32");
    const X = tensor(x, [n, d]);
    const counts = tensor([2, 0, 3, 0]);
    const r1 = resetDeadCodes({ codebook: cb, counts, idle, x: X, after: 2, seed: 1 });
    const [c1, i1, n1] = await readAll([cb, idle, r1]);
    assert.deepEqual([...i1], [0, 1, 0, 1]);
    assert.equal(n1[0], 0);
    assert.ok(c1.every((v) => v === 9));
    const r2 = resetDeadCodes({
      codebook: cb,
      counts: tensor([0, 0, 1, 0]),
      idle,
      x: X,
      after: 2,
      seed: 2,
    });
    const [c2, i2, n2] = await readAll([cb, idle, r2]);
    assert.deepEqual([...i2], [1, 0, 0, 0]);
    assert.equal(n2[0], 2);
    for (const k of [1, 3]) {
      const row = c2.subarray(k * d, (k + 1) * d);
      const hit = [...Array(n).keys()].some((i) => row.every((v, j) => v === x[i * d + j]));
      assert.ok(hit, `code ${k} is an input row`);
    }
    for (const k of [0, 2]) assert.ok(c2.subarray(k * d, (k + 1) * d).every((v) => v === 9));
  });
});

gpuTest("tocScores / tocSelect: per-dimension sim, unbiased var, score, top/bottom", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 2, max: 150 }),
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 0, max: 1000 }),
      async (m, d, seed) => {
        const e = randArray(m * d, seed);
        const [sim, vr, sc] = await scoped(async () => {
          const t = tocScores(tensor(e, [m, d]));
          return await readAll([t.sim, t.variance, t.score]);
        });
        const wantSim: number[] = [], wantVar: number[] = [], wantScore: number[] = [];
        for (let j = 0; j < d; j++) {
          let pair = 0, mu = 0;
          for (let i = 0; i < m; i++) {
            mu += e[i * d + j] / m;
            for (let k = 0; k < m; k++) if (k !== i) pair += e[i * d + j] * e[k * d + j];
          }
          let v = 0;
          for (let i = 0; i < m; i++) v += (e[i * d + j] - mu) ** 2;
          wantSim.push(pair / (m * (m - 1)));
          wantVar.push(v / (m - 1));
          wantScore.push(-0.7 * wantSim[j] + 0.3 * wantVar[j]);
        }
        assertClose(sim, wantSim, { atol: 1e-5, rtol: 1e-3 });
        assertClose(vr, wantVar, { atol: 1e-5, rtol: 1e-4 });
        assertClose(sc, wantScore, { atol: 1e-5, rtol: 1e-3 });
      },
    ),
    { numRuns: 10 },
  );
  // Selection on fixed scores with a tie (dims 1 and 3): K=5, a=1, b=1 → q=2: top 2, bottom 2.
  const s = [0.5, 2, -1, 2, 0, -3];
  const sel = await scoped(() => tocSelect(tensor(s), 5, 1, 1).read());
  assert.deepEqual([...sel], [1, 3, 5, 2]);
  const top = await scoped(() => tocSelect(tensor(s), 3, 1, 0).read());
  assert.deepEqual([...top], [1, 3, 0]);
});

// ---- modules -----------------------------------------------------------------------------

gpuTest("VectorQuantizer STE: the output gradient passes to the input unchanged", async () => {
  const n = 13, d = 6, m = 9;
  const vq = new VectorQuantizer({ numCodes: m, dim: d, seed: 3, initBound: 1 });
  await scoped(async () => {
    const x = tensor(randArray(n * d, 2), [n, d]);
    x.requiresGrad = true;
    const w = randArray(n * d, 8);
    const r = vq.forward(x);
    backward(sum(mul(r.quantized, tensor(w, [n, d]))));
    const [gx, q, codes, cb] = await readAll([x.grad!, r.quantized, r.codes, vq.codebook]);
    assertClose(gx, w);
    for (let i = 0; i < n; i++) {
      assertClose(q.subarray(i * d, (i + 1) * d), cb.subarray(codes[i] * d, (codes[i] + 1) * d), {
        atol: 1e-6,
      });
    }
    x.grad!.dispose();
  });
  vq.dispose();
});

gpuTest("VQ loss gradients (codebook + β·commitment) pass finite differences", async () => {
  // Inputs sit near well-separated codes, so small perturbations never change the codes.
  const n = 10, d = 4, m = 5, beta = 0.3;
  const cb = new Float32Array(m * d).map((_, i) => (i % 7) - 3 + 0.1 * i);
  const x = Float32Array.from(
    { length: n * d },
    (_, i) => cb[((i / d | 0) % m) * d + (i % d)] + 0.05 * Math.sin(i),
  );
  const f = (xt: Tensor<"f32">, ct: Tensor<"f32">) => {
    const codes = noGrad(() => nearestCode(xt, ct).codes);
    const q = codeLookup(ct, codes);
    const qd = noGrad(() => codeLookup(ct, codes));
    const xd = noGrad(() => scale(xt, 1));
    return add(mean(square(sub(q, xd))), scale(mean(square(sub(xt, qd))), beta));
  };
  await checkGrad(f, [x, cb], [[n, d], [m, d]], { eps: 1e-3 });
});

gpuTest("golden: one PyTorch VQ-VAE step (codes, losses, every gradient)", async () => {
  const f = fixture.vqvae;
  const vq = new VectorQuantizer({ numCodes: f.M, dim: f.D, beta: f.beta });
  await scoped(async () => {
    vq.setCodebook(tensor(f.codebook, [f.M, f.D]));
    const ew = tensor(f.enc_w, [f.D, f.DIN]), eb = tensor(f.enc_b, [f.D]);
    const dw = tensor(f.dec_w, [f.DIN, f.D]), db = tensor(f.dec_b, [f.DIN]);
    for (const p of [ew, eb, dw, db]) p.requiresGrad = true;
    const x = tensor(f.x, [f.N, f.DIN]);
    const z = add(matmul(x, ew, { transB: true }), eb);
    const r = vq.forward(z);
    const recon = mean(square(sub(add(matmul(r.quantized, dw, { transB: true }), db), x)));
    const loss = add(recon, r.loss);
    backward(loss);
    const got = await readAll([
      r.codes,
      recon,
      r.commitment,
      loss,
      ew.grad!,
      eb.grad!,
      dw.grad!,
      db.grad!,
      vq.codebook.grad!,
    ]);
    assert.deepEqual([...got[0]], f.codes);
    assertClose(got[1], [f.recon], { atol: 1e-5 });
    assertClose(got[2], [f.commitment], { atol: 1e-5 });
    assertClose(got[3], [f.loss], { atol: 1e-5 });
    assertClose(got[4], f.g_enc_w, { atol: 1e-5 });
    assertClose(got[5], f.g_enc_b, { atol: 1e-5 });
    assertClose(got[6], f.g_dec_w, { atol: 1e-5 });
    assertClose(got[7], f.g_dec_b, { atol: 1e-5 });
    assertClose(got[8], f.g_codebook, { atol: 1e-5 });
    for (const p of [ew, eb, dw, db]) p.grad?.dispose();
  });
  vq.dispose();
});

gpuTest(
  "golden: UIST residual quantization without STE (codes, loss, codebook grads)",
  async () => {
    const f = fixture.rq_uist;
    const rq = new ResidualQuantizer({
      numCodes: f.M,
      dim: f.D,
      levels: f.L,
      beta: f.beta,
      straightThrough: false,
    });
    await scoped(async () => {
      rq.levels.forEach((l, i) => l.setCodebook(tensor(f.codebooks[i], [f.M, f.D])));
      const x = tensor(f.x, [f.N, f.D]);
      x.requiresGrad = true;
      const r = rq.forward(x);
      backward(add(r.loss, sum(mul(r.quantized, tensor(f.w, [f.N, f.D])))));
      const [codes, loss, gx, ...gc] = await readAll([
        r.codes,
        r.loss,
        x.grad!,
        ...rq.levels.map((l) => l.codebook.grad!),
      ]);
      for (let l = 0; l < f.L; l++) {
        assert.deepEqual(Array.from({ length: f.N }, (_, i) => codes[i * f.L + l]), f.codes[l]);
        assertClose(gc[l], f.g_codebooks[l], { atol: 1e-5 });
      }
      assertClose(loss, [f.loss], { atol: 1e-5 });
      assertClose(gx, f.g_x, { atol: 1e-5 });
      x.grad!.dispose();
    });
    rq.dispose();
  },
);

gpuTest("golden: DCID tri-modal EMA update and cross-modal commitment losses", async () => {
  const f = fixture.mm_ema;
  const mm = new MultiModalQuantizer({
    numCodes: f.M,
    dim: f.D,
    beta: f.beta,
    decay: f.decay,
    eps: f.eps,
  });
  await scoped(async () => {
    mm.vq.setCodebook(tensor(f.codebook, [f.M, f.D]));
    runtime().copy(zeros([f.M]).buffer, 0, mm.vq.ema!.count.buffer, 0, f.M * 4); // count 0
    const r = mm.forward([f.a, f.v, f.t].map((a) => tensor(a, [f.N, f.D])));
    const got = await readAll([...r.codes, ...r.losses, mm.codebook, mm.vq.ema!.count]);
    for (let m = 0; m < 3; m++) assert.deepEqual([...got[m]], f.codes[m]);
    assertClose([got[3][0], got[4][0], got[5][0]], f.losses, { atol: 1e-6 });
    assertClose(got[7], f.count, { atol: 1e-6 });
    assertClose(got[6], f.updated, { atol: 1e-5, rtol: 1e-4 });
  });
  mm.dispose();
});

gpuTest("k-means++ init recovers planted clusters", async () => {
  const k = 8, d = 5, per = 50;
  const centers = randArray(k * d, 11, 6);
  const noise = randArray(k * per * d, 12, 0.1);
  const x = new Float32Array(k * per * d);
  for (let c = 0; c < k; c++) {
    for (let p = 0; p < per; p++) {
      for (let j = 0; j < d; j++) {
        x[(c * per + p) * d + j] = centers[c * d + j] + noise[(c * per + p) * d + j];
      }
    }
  }
  const vq = new VectorQuantizer({ numCodes: k, dim: d, seed: 4 });
  await scoped(async () => {
    const X = tensor(x, [k * per, d]);
    await vq.initFromData(X, { iters: 5 });
    const [cb, codes] = await readAll([vq.codebook, vq.assign(X)]);
    // Every planted centre has one code within the noise level, and each cluster maps to
    // exactly one code.
    const used = new Set<number>();
    for (let c = 0; c < k; c++) {
      const code = codes[c * per];
      for (let p = 0; p < per; p++) assert.equal(codes[c * per + p], code, `cluster ${c} pure`);
      used.add(code);
      let dist = 0;
      for (let j = 0; j < d; j++) dist += (cb[code * d + j] - centers[c * d + j]) ** 2;
      assert.ok(Math.sqrt(dist) < 0.1, `centre ${c} recovered (distance ${Math.sqrt(dist)})`);
    }
    assert.equal(used.size, k);
  });
  vq.dispose();
});

gpuTest(
  "ResidualQuantizer: codes [N, L], output = Σ levels = decode(codes), error shrinks",
  async () => {
    const n = 40, d = 6, m = 8, L = 3;
    const rq = new ResidualQuantizer({ numCodes: m, dim: d, levels: L, seed: 1 });
    await scoped(async () => {
      const X = tensor(randArray(n * d, 21), [n, d]);
      await rq.initFromData(X, { iters: 4 });
      rq.eval();
      const r = rq.forward(X);
      const codes2 = rq.assign(X);
      const dec = rq.decode(r.codes);
      const [codes, q, c2, dq, xs] = await readAll([r.codes, r.quantized, codes2, dec, X]);
      assert.deepEqual(r.codes.shape, [n, L]);
      assert.deepEqual(c2, codes);
      assertClose(q, dq, { atol: 1e-5 });
      // Error after 1, 2, 3 levels decreases.
      const errs: number[] = [];
      for (let l = 1; l <= L; l++) {
        const partial = await scoped(() => {
          let s = rq.levels[0].lookup(sliceCol(r.codes, 0));
          for (let j = 1; j < l; j++) s = add(s, rq.levels[j].lookup(sliceCol(r.codes, j)));
          return s.read();
        });
        errs.push(mseCpu(partial, xs));
      }
      assert.ok(errs[0] > errs[1] && errs[1] > errs[2], `errors ${errs}`);
    });
    rq.dispose();
  },
);

function sliceCol(codes: Tensor<"i32">, l: number): Tensor<"i32"> {
  const n = codes.shape[0];
  return reshape(slice(codes, [0, l], [n, 1]), [n]);
}

gpuTest("ProductQuantizer: codes [N, M] per sub-space, STE output and losses", async () => {
  const n = 23, M = 3, ds = 4, K = 6;
  const pq = new ProductQuantizer({
    numCodes: K,
    dim: M * ds,
    subspaces: M,
    seed: 2,
    initBound: 1,
  });
  await scoped(async () => {
    const x = randArray(n * M * ds, 31);
    const X = tensor(x, [n, M * ds]);
    const r = pq.forward(X);
    const [codes, q, cb, commit] = await readAll([r.codes, r.quantized, pq.codebook, r.commitment]);
    assert.deepEqual(r.codes.shape, [n, M]);
    assert.deepEqual(pq.codebook.shape, [M, K, ds]);
    const want = new Float32Array(n * M * ds);
    for (let i = 0; i < n; i++) {
      for (let b = 0; b < M; b++) {
        const s = cpuScores(x, cb, i, b, K, ds, M, "l2");
        assertPick(codes[i * M + b], s, 0, cpuRank(s), ds, `row ${i} sub ${b}`);
        want.set(
          cb.subarray((b * K + codes[i * M + b]) * ds, (b * K + codes[i * M + b] + 1) * ds),
          i * M * ds + b * ds,
        );
      }
    }
    assertClose(q, want, { atol: 1e-5 });
    assertClose(commit, [mseCpu(x, want)], { atol: 1e-5 });
  });
  pq.dispose();
});

gpuTest("codeUsage: perplexity and dead codes", async () => {
  const counts = [4, 0, 2, 2, 0];
  const [p, dead] = await scoped(async () => {
    const u = codeUsage(tensor(counts));
    return await readAll([u.perplexity, u.deadCodes]);
  });
  const probs = counts.map((c) => c / 8);
  const ent = -probs.reduce((a, q) => a + q * Math.log(q + 1e-10), 0);
  assertClose(p, [Math.exp(ent)], { atol: 1e-5 });
  assert.equal(dead[0], 2);
});

gpuTest("dead-code reset inside training: unused codes move onto the data", async () => {
  const n = 30, d = 3, m = 6;
  // Codes 0..2 near the data, 3..5 far away: they never win and are reset after 2 steps.
  const cb = [0, 0, 0, 1, 1, 1, -1, 0, 1, 50, 50, 50, 60, 60, 60, 70, 70, 70];
  const vq = new VectorQuantizer({ numCodes: m, dim: d, deadAfter: 2, update: "ema", decay: 0.9 });
  await scoped(async () => {
    vq.setCodebook(tensor(cb, [m, d]));
    const X = tensor(randArray(n * d, 41), [n, d]);
    const r1 = vq.forward(X);
    const r2 = vq.forward(X);
    const [n1, n2, c] = await readAll([r1.reset!, r2.reset!, vq.codebook]);
    assert.equal(n1[0], 0);
    assert.equal(n2[0], 3);
    for (let k = 3; k < m; k++) {
      assert.ok(c.subarray(k * d, (k + 1) * d).every((v) => Math.abs(v) < 5), `code ${k} reset`);
    }
  });
  vq.dispose();
});

// ---- bad inputs --------------------------------------------------------------------------

gpuTest("bad inputs name the op and the shapes", () => {
  tidy(() => {
    const x = zeros([4, 3]);
    assert.throws(
      () => nearestCode(x, zeros([5, 2])),
      /wgrec nearestCode: input \[4, 3\] does not fit codebook \[5, 2\]/,
    );
    assert.throws(
      () => nearestCode(x, zeros([0, 3])),
      /wgrec nearestCode: codebook \[0, 3\] has no codes/,
    );
    assert.throws(
      () => nearestCode(x, zeros([3]) as Tensor<"f32">),
      /wgrec nearestCode: codebook \[3\] must be/,
    );
    assert.throws(
      () => nearestCode(x, zeros([5, 3]), { metric: "dot" as "l2" }),
      /unknown metric 'dot'/,
    );
    assert.throws(
      () => topKCodes(x, zeros([5, 3]), 6),
      /wgrec topKCodes: k = 6 for codebook \[5, 3\]/,
    );
    assert.throws(
      () => codeLookup(zeros([5, 3]), zeros([4, 2], "i32")),
      /wgrec codeLookup: codes \[4, 2\] do not fit codebook \[5, 3\]/,
    );
    assert.throws(
      () => codeLookup(zeros([5, 3]), zeros([4]) as unknown as Tensor<"i32">),
      /wgrec codeLookup: codes \[4\] has dtype f32, expected i32/,
    );
    assert.throws(
      () => codeStats(zeros([4], "i32"), zeros([5, 3]), 3),
      /wgrec codeStats: codes \[4\] and input \[5, 3\] do not fit/,
    );
    assert.throws(
      () => tocScores(zeros([1, 3])),
      /wgrec tocScores: codebook \[1, 3\] must be \[M, D\] with M ≥ 2/,
    );
    assert.throws(() => tocSelect(zeros([4]), 10, 1, 0), /wgrec tocSelect: 10 top/);
    assert.throws(
      () => new VectorQuantizer({ numCodes: 4, dim: 6, subspaces: 4 }),
      /wgrec VectorQuantizer: numCodes 4, dim 6, subspaces 4/,
    );
    assert.throws(
      () => new VectorQuantizer({ numCodes: 4, dim: 6, update: "ema", straightThrough: false }),
      /no-STE variant needs a gradient-trained codebook/,
    );
    const vq = new VectorQuantizer({ numCodes: 4, dim: 6 });
    assert.throws(
      () => vq.forward(x),
      /wgrec VectorQuantizer.forward: input f32 \[4, 3\], expected f32 \[N, 6\]/,
    );
    vq.dispose();
  });
});
