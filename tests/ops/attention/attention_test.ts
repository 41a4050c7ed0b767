// Fused attention: against a float64 CPU reference (forward and gradients), against the
// unfused GPU composition matmul → softmax → matmul, finite-difference gradient checks,
// fully masked rows, dropout, layouts, bad inputs and PyTorch golden values.
import fc from "npm:fast-check@3";
import {
  add,
  attention,
  attentionBackward,
  attentionKernels,
  type AttentionOptions,
  backward,
  matmul,
  memory,
  mul,
  noGrad,
  permute,
  readAll,
  reshape,
  scale as scaleT,
  softmax,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";

// --- CPU reference -------------------------------------------------------------------------

/** lowbias32, as in the kernels. */
function hash(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

interface Problem {
  B: number;
  H: number;
  Lq: number;
  /** Main keys. */
  Lk: number;
  D: number;
  Dv: number;
  /** Prefix keys, shared by the batch: pk [H, P, D], pv [H, P, Dv]. */
  P: number;
  causal: boolean;
  lengths: number[] | null;
  biasShape: number[] | null;
  dropout: number;
  seed: number;
  scale: number;
}

interface Data {
  q: Float32Array;
  k: Float32Array;
  v: Float32Array;
  bias: Float32Array | null;
  pk: Float32Array | null;
  pv: Float32Array | null;
}

/** Index into a bias of shape `bs` broadcast to [B, H, Lq, Lk]. */
function biasIndex(bs: number[], idx: number[]): number {
  const off = 4 - bs.length;
  let o = 0;
  for (let a = 0; a < bs.length; a++) o = o * bs[a] + (bs[a] === 1 ? 0 : idx[a + off]);
  return o;
}

/**
 * Float64 reference of the documented semantics (layout bhld): output, and the gradients of
 * Σ out·w. Fully masked rows: output 0, gradients 0.
 */
function reference(p: Problem, x: Data, w: Float64Array | Float32Array) {
  const { B, H, Lq, Lk, D, Dv, P } = p;
  const T = P + Lk;
  const out = new Float64Array(B * H * Lq * Dv);
  const g = {
    q: new Float64Array(x.q.length),
    k: new Float64Array(x.k.length),
    v: new Float64Array(x.v.length),
    bias: x.bias ? new Float64Array(x.bias.length) : null,
    pk: new Float64Array(P * H * D),
    pv: new Float64Array(P * H * Dv),
  };
  const thresh = Math.min(Math.round(p.dropout * 2 ** 32), 0xffffffff);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      // Key t < P is prefix t; t ≥ P is main key t − P.
      const kRow = (t: number) =>
        t < P ? { a: x.pk!, o: (h * P + t) * D, ga: g.pk } : {
          a: x.k,
          o: (bh * Lk + t - P) * D,
          ga: g.k,
        };
      const vRow = (t: number) =>
        t < P ? { a: x.pv!, o: (h * P + t) * Dv, ga: g.pv } : {
          a: x.v,
          o: (bh * Lk + t - P) * Dv,
          ga: g.v,
        };
      const len = p.lengths ? p.lengths[b] : Lk;
      for (let i = 0; i < Lq; i++) {
        const vis: number[] = [];
        for (let t = 0; t < T; t++) {
          if (t < P || (t - P < len && (!p.causal || t - P <= i))) vis.push(t);
        }
        if (vis.length === 0) continue;
        const qo = (bh * Lq + i) * D;
        const s = vis.map((t) => {
          const { a, o } = kRow(t);
          let d = 0;
          for (let e = 0; e < D; e++) d += x.q[qo + e] * a[o + e];
          d *= p.scale;
          if (x.bias && t >= P) d += x.bias[biasIndex(p.biasShape!, [b, h, i, t - P])];
          return d;
        });
        const m = Math.max(...s);
        const e = s.map((z) => Math.exp(z - m));
        const z = e.reduce((a, c) => a + c, 0);
        const pr = e.map((c) => c / z);
        const rs = hash(p.seed ^ hash(bh * Lq + i));
        const keep = vis.map((t) =>
          p.dropout > 0 ? (hash(rs ^ t) >= thresh ? 1 / (1 - p.dropout) : 0) : 1
        );
        const oo = (bh * Lq + i) * Dv;
        vis.forEach((t, n) => {
          const { a, o } = vRow(t);
          for (let d = 0; d < Dv; d++) out[oo + d] += pr[n] * keep[n] * a[o + d];
        });
        // Backward of Σ out·w for this row.
        const dp = vis.map((t, n) => {
          const { a, o } = vRow(t);
          let d = 0;
          for (let e2 = 0; e2 < Dv; e2++) d += w[oo + e2] * a[o + e2];
          return d * keep[n];
        });
        const delta = pr.reduce((acc, c, n) => acc + c * dp[n], 0);
        vis.forEach((t, n) => {
          const ds = pr[n] * (dp[n] - delta);
          const kr = kRow(t);
          const vr = vRow(t);
          for (let d = 0; d < D; d++) {
            g.q[qo + d] += p.scale * ds * kr.a[kr.o + d];
            kr.ga[kr.o + d] += p.scale * ds * x.q[qo + d];
          }
          for (let d = 0; d < Dv; d++) vr.ga[vr.o + d] += pr[n] * keep[n] * w[oo + d];
          if (g.bias && t >= P) g.bias[biasIndex(p.biasShape!, [b, h, i, t - P])] += ds;
        });
      }
    }
  }
  return { out, g };
}

/** Random problem data. */
function makeData(p: Problem, seed: number): Data {
  const n = (s: number[]) => s.reduce((a, b) => a * b, 1);
  return {
    q: randArray(p.B * p.H * p.Lq * p.D, seed),
    k: randArray(p.B * p.H * p.Lk * p.D, seed + 1),
    v: randArray(p.B * p.H * p.Lk * p.Dv, seed + 2),
    bias: p.biasShape ? randArray(n(p.biasShape), seed + 3) : null,
    pk: p.P ? randArray(p.H * p.P * p.D, seed + 4) : null,
    pv: p.P ? randArray(p.H * p.P * p.Dv, seed + 5) : null,
  };
}

/** GPU tensors of the data (bhld) and the options that describe the problem. */
function gpuInputs(p: Problem, x: Data) {
  const t = {
    q: tensor(x.q, [p.B, p.H, p.Lq, p.D]),
    k: tensor(x.k, [p.B, p.H, p.Lk, p.D]),
    v: tensor(x.v, [p.B, p.H, p.Lk, p.Dv]),
    bias: x.bias ? tensor(x.bias, p.biasShape!) : undefined,
    pk: x.pk ? tensor(x.pk, [p.H, p.P, p.D]) : undefined,
    pv: x.pv ? tensor(x.pv, [p.H, p.P, p.Dv]) : undefined,
  };
  const opts: AttentionOptions = {
    scale: p.scale,
    causal: p.causal,
    keyLengths: p.lengths ?? undefined,
    bias: t.bias,
    prefixKey: t.pk,
    prefixValue: t.pv,
    dropout: p.dropout,
    seed: p.seed,
  };
  return { t, opts };
}

/** Reads tensors back and frees them. */
async function readFree(ts: Tensor[]): Promise<Float32Array[]> {
  const a = await readAll(ts);
  for (const t of ts) t.dispose();
  return a as Float32Array[];
}

/** Runs the fused op forward and backward (of Σ out·w) and reads everything back. */
async function runFused(p: Problem, x: Data, w: Float32Array) {
  const names = ["q", "k", "v", "bias", "pk", "pv"];
  const present = names.filter((n) => n === "q" || n === "k" || n === "v" || x[n as keyof Data]);
  const ts = tidy(() => {
    const { t, opts } = gpuInputs(p, x);
    const leaves = present.map((n) => t[n as keyof typeof t]!);
    for (const l of leaves) l.requiresGrad = true;
    const out = attention(t.q, t.k, t.v, opts);
    backward(sum(mul(out, tensor(w, out.shape))));
    return [out, ...leaves.map((l) => l.grad!)];
  });
  const [out, ...gs] = await readFree(ts);
  return { out, g: Object.fromEntries(present.map((n, i) => [n, gs[i]])) };
}

function compareToReference(p: Problem, x: Data, seed: number, tol = { atol: 2e-4, rtol: 2e-3 }) {
  const w = randArray(p.B * p.H * p.Lq * p.Dv, seed + 9);
  const ref = reference(p, x, w);
  return runFused(p, x, w).then((got) => {
    const msg = JSON.stringify(p);
    assertClose(got.out, ref.out, { ...tol, msg: `out ${msg}` });
    for (const [n, gx] of Object.entries(got.g)) {
      const r = (ref.g as Record<string, Float64Array | null>)[n]!;
      assertClose(gx, r, { ...tol, msg: `grad ${n} ${msg}` });
    }
  });
}

const base: Problem = {
  B: 1,
  H: 1,
  Lq: 1,
  Lk: 1,
  D: 8,
  Dv: 8,
  P: 0,
  causal: false,
  lengths: null,
  biasShape: null,
  dropout: 0,
  seed: 0,
  scale: 0.5,
};

// --- tests ---------------------------------------------------------------------------------

// Every (D, Dv) pair compiles its own pipelines (each define combination is a pipeline; slow on
// a software adapter), so the tests share two: unaligned rows (scalar loads) and vec4 rows.
// Larger head dims (several column groups) have their own test.
const DIMS = [[3, 5], [8, 8]] as const;

const problemArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  H: fc.integer({ min: 1, max: 3 }),
  Lq: fc.constantFrom(1, 2, 3, 5, 7, 9, 13, 33),
  Lk: fc.constantFrom(1, 2, 3, 5, 8, 11, 17, 37),
  dims: fc.constantFrom(...DIMS),
  P: fc.constantFrom(0, 0, 1, 3),
  causal: fc.boolean(),
  lens: fc.boolean(),
  bias: fc.constantFrom("none", "full", "head", "row", "batch"),
  dropout: fc.constantFrom(0, 0, 0.25),
  seed: fc.integer({ min: 0, max: 1000 }),
  lensSeed: fc.nat(),
});

function toProblem(r: typeof problemArb extends fc.Arbitrary<infer T> ? T : never): Problem {
  const biasShape = {
    none: null,
    full: [r.B, r.H, r.Lq, r.Lk],
    head: [r.H, r.Lq, r.Lk],
    row: [r.Lq, 1],
    batch: [r.B, 1, 1, r.Lk],
  }[r.bias]!;
  return {
    ...r,
    D: r.dims[0],
    Dv: r.dims[1],
    lengths: r.lens ? [...Array(r.B)].map((_, b) => (r.lensSeed * (b + 7)) % (r.Lk + 1)) : null,
    biasShape,
    scale: 1 / Math.sqrt(r.dims[0]),
  };
}

gpuTest("attention: forward and gradients match the CPU reference on random shapes", async () => {
  await fc.assert(
    fc.asyncProperty(problemArb, async (r) => {
      const p = toProblem(r);
      await compareToReference(p, makeData(p, r.seed), r.seed);
    }),
    { numRuns: 16, seed: 42 },
  );
});

gpuTest("attention: head dims 256 and 96 (several column groups)", async () => {
  // D = 256 (the largest allowed) spans 4 column groups of the query side, Dv = 96 two.
  for (const [D, Dv] of [[256, 96]]) {
    const p: Problem = { ...base, B: 1, H: 2, Lq: 9, Lk: 21, D, Dv, scale: 1 / Math.sqrt(D) };
    await compareToReference(p, makeData(p, D), D);
  }
});

gpuTest("attention: many rows and keys (several key and query blocks)", async () => {
  const p: Problem = {
    ...base,
    B: 2,
    H: 1,
    Lq: 70,
    Lk: 83,
    D: 8,
    Dv: 8,
    causal: true,
    lengths: [83, 40],
    biasShape: [70, 83],
    scale: 0.3,
  };
  await compareToReference(p, makeData(p, 5), 5);
  await compareToReference({ ...p, causal: false, dropout: 0.1, seed: 3 }, makeData(p, 6), 6);
});

gpuTest("attention: fully masked rows give output 0 and gradient 0", async () => {
  // Batch entry 1 has key length 0 and no prefix: every row of it sees no key.
  const p: Problem = {
    ...base,
    B: 2,
    H: 2,
    Lq: 3,
    Lk: 4,
    lengths: [4, 0],
    biasShape: [2, 2, 3, 4],
  };
  const x = makeData(p, 11);
  const w = randArray(p.B * p.H * p.Lq * p.Dv, 12);
  const got = await runFused(p, x, w);
  const half = (a: ArrayLike<number>) => Array.from(a).slice(a.length / 2);
  assert.ok(half(got.out).every((z) => z === 0), "masked output rows are 0");
  for (const n of ["q", "k", "v", "bias"]) {
    assert.ok(half(got.g[n]).every((z) => z === 0), `gradient ${n} of masked rows is 0`);
  }
  // The reference agrees on the unmasked half too.
  await compareToReference(p, x, 12);
  // With prefix tokens the same rows are not masked: they attend to the prefix only.
  const pp = { ...p, P: 2 };
  const xp = makeData(pp, 13);
  const gp = await runFused(pp, xp, w);
  assert.ok(half(gp.out).some((z) => z !== 0));
  await compareToReference(pp, xp, 12);
});

gpuTest("attention: matches the unfused GPU composition matmul → softmax → matmul", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 2 }),
      fc.integer({ min: 1, max: 2 }),
      fc.constantFrom(1, 7, 12),
      fc.constantFrom(1, 9, 16),
      fc.constantFrom(...DIMS),
      fc.boolean(),
      fc.nat(),
      async (B, H, Lq, Lk, [D, Dv], causal, seed) => {
        // Key lengths ≥ 1: the composition's fully masked rows would be uniform, not 0.
        const lengths = [...Array(B)].map((_, b) => 1 + ((seed + 3 * b) % Lk));
        const sc = 1 / Math.sqrt(D);
        const q = randArray(B * H * Lq * D, seed);
        const k = randArray(B * H * Lk * D, seed + 1);
        const v = randArray(B * H * Lk * Dv, seed + 2);
        const w = randArray(B * H * Lq * Dv, seed + 3);
        const mask = new Float32Array(B * H * Lq * Lk);
        for (let b = 0; b < B; b++) {
          for (let h = 0; h < H; h++) {
            for (let i = 0; i < Lq; i++) {
              for (let j = 0; j < Lk; j++) {
                const hidden = j >= lengths[b] || (causal && j > i);
                mask[((b * H + h) * Lq + i) * Lk + j] = hidden ? -1e9 : 0;
              }
            }
          }
        }
        const run = (fused: boolean) =>
          tidy(() => {
            const tq = tensor(q, [B, H, Lq, D]);
            const tk = tensor(k, [B, H, Lk, D]);
            const tv = tensor(v, [B, H, Lk, Dv]);
            for (const t of [tq, tk, tv]) t.requiresGrad = true;
            let out: Tensor<"f32">;
            if (fused) out = attention(tq, tk, tv, { causal, keyLengths: lengths });
            else {
              const s = matmul(reshape(tq, [B * H, Lq, D]), reshape(tk, [B * H, Lk, D]), {
                transB: true,
              });
              const pr = softmax(add(scaleT(s, sc), tensor(mask, [B * H, Lq, Lk])));
              out = reshape(matmul(pr, reshape(tv, [B * H, Lk, Dv])), [B, H, Lq, Dv]);
            }
            backward(sum(mul(out, tensor(w, out.shape))));
            const r = [out, tq.grad!, tk.grad!, tv.grad!];
            return r;
          });
        const a = await readFree(run(true));
        const b = await readFree(run(false));
        ["out", "dq", "dk", "dv"].forEach((n, i) =>
          assertClose(a[i], b[i], { atol: 1e-4, rtol: 1e-3, msg: `${n} B${B} H${H} ${Lq}x${Lk}` })
        );
      },
    ),
    { numRuns: 8, seed: 7 },
  );
});

gpuTest("attention: finite-difference gradient check (bias, prefix, causal, lengths)", async () => {
  const [B, H, Lq, Lk, D, Dv, P] = [2, 2, 4, 5, 3, 5, 2];
  const shapes = [[B, H, Lq, D], [B, H, Lk, D], [B, H, Lk, Dv], [H, Lq, Lk], [H, P, D], [
    H,
    P,
    Dv,
  ]];
  const inputs = shapes.map((s, i) => randArray(s.reduce((a, b) => a * b, 1), 30 + i));
  await checkGrad(
    (q, k, v, bias, pk, pv) =>
      attention(q, k, v, {
        bias,
        prefixKey: pk,
        prefixValue: pv,
        causal: true,
        keyLengths: [5, 2],
      }),
    inputs,
    shapes,
  );
  // Dropout: the mask is a function of the seed, so the loss is smooth in the inputs.
  await checkGrad(
    (q, k, v) => attention(q, k, v, { dropout: 0.3, seed: 99 }),
    inputs.slice(0, 3),
    shapes.slice(0, 3),
  );
});

gpuTest(
  "attention: dropout is deterministic per seed and drops the expected fraction",
  async () => {
    // q = 0 makes the probabilities uniform (1/Lk) and v = identity exposes the mask:
    // out[i, t] = keep_it / (Lk (1 − rate)).
    const L = 64;
    const rate = 0.3;
    const eye = new Float32Array(L * L);
    for (let i = 0; i < L; i++) eye[i * L + i] = 1;
    const [a, b, c] = await readFree(tidy(() => {
      const q = tensor(new Float32Array(L * 4), [1, 1, L, 4]);
      const k = tensor(randArray(L * 4, 1), [1, 1, L, 4]);
      const v = tensor(eye, [1, 1, L, L]);
      const o = (seed: number) => attention(q, k, v, { dropout: rate, seed });
      return [o(5), o(5), o(6)];
    }));
    assert.deepEqual(a, b, "same seed, same mask");
    assert.notDeepEqual(a, c, "another seed, another mask");
    const kept = a.filter((z) => z !== 0).length / a.length;
    assert.ok(Math.abs(kept - (1 - rate)) < 0.03, `kept fraction ${kept}`);
    const expected = 1 / (L * (1 - rate));
    assert.ok(a.every((z) => z === 0 || Math.abs(z - expected) < 1e-6));
  },
);

gpuTest(
  "attention: layout blhd equals bhld with permuted tensors (incl. prefix, both backwards)",
  async () => {
    const [B, H, Lq, Lk, D, P] = [2, 3, 5, 6, 8, 2];
    const x = {
      q: randArray(B * Lq * H * D, 1),
      k: randArray(B * Lk * H * D, 2),
      v: randArray(B * Lk * H * D, 3),
      pk: randArray(P * H * D, 4),
      pv: randArray(P * H * D, 5),
      w: randArray(B * Lq * H * D, 6),
    };
    const run = (blhd: boolean) =>
      tidy(() => {
        const perm = (t: Tensor<"f32">) => (blhd ? t : permute(t, [0, 2, 1, 3]));
        const q = tensor(x.q, [B, Lq, H, D]);
        const k = tensor(x.k, [B, Lk, H, D]);
        const v = tensor(x.v, [B, Lk, H, D]);
        const pk = tensor(x.pk, [P, H, D]);
        const pv = tensor(x.pv, [P, H, D]);
        for (const t of [q, k, v, pk, pv]) t.requiresGrad = true;
        const pre = (t: Tensor<"f32">) => (blhd ? t : permute(t, [1, 0, 2]));
        const o = attention(perm(q), perm(k), perm(v), {
          layout: blhd ? "blhd" : "bhld",
          prefixKey: pre(pk),
          prefixValue: pre(pv),
          causal: true,
          keyLengths: [4, 6],
        });
        const out = perm(o);
        // The blhd run takes the chunked backward, the bhld run the fused one.
        const path = attentionBackward.path;
        attentionBackward.path = blhd ? "chunked" : "fused";
        try {
          backward(sum(mul(out, tensor(x.w, out.shape))));
        } finally {
          attentionBackward.path = path;
        }
        return [out, q.grad!, k.grad!, v.grad!, pk.grad!, pv.grad!];
      });
    const a = await readFree(run(true));
    const b = await readFree(run(false));
    a.forEach((z, i) => assertClose(z, b[i], { atol: 1e-5, rtol: 1e-4, msg: `tensor ${i}` }));
  },
);

gpuTest("attention: per-batch prefix, key lengths as a tensor, Lk = 0 with prefix", async () => {
  const p: Problem = { ...base, B: 2, H: 2, Lq: 3, Lk: 5, P: 2, lengths: [2, 5] };
  const x = makeData(p, 21);
  // Shared prefix [H, P, D] equals a per-batch prefix [B, H, P, D] holding the same rows.
  const [a, b] = await readFree(tidy(() => {
    const { t, opts } = gpuInputs(p, x);
    const lens = tensor(new Int32Array([2, 9]), [2], "i32"); // 9 clamps to Lk = 5
    const rep = (z: Float32Array) => tensor(new Float32Array([...z, ...z]), [2, p.H, p.P, 8]);
    return [
      attention(t.q, t.k, t.v, opts),
      attention(t.q, t.k, t.v, {
        ...opts,
        keyLengths: lens,
        prefixKey: rep(x.pk!),
        prefixValue: rep(x.pv!),
      }),
    ];
  }));
  assertClose(a, b, { atol: 1e-6, rtol: 1e-5 });
  // No main keys at all: attention over the prefix only.
  const p0: Problem = { ...p, Lk: 0, lengths: null };
  await compareToReference(p0, makeData(p0, 22), 22);
});

gpuTest(
  "attention: matches PyTorch (softmax(QKᵀ/√d + bias + mask)·V, float64 golden)",
  async () => {
    const cases = JSON.parse(
      await Deno.readTextFile(new URL("../../fixtures/attention_sdpa.json", import.meta.url)),
    );
    for (const c of cases) {
      const got = await readFree(tidy(() => {
        const f = (n: string, s: number[]) => tensor(Float32Array.from(c.inputs[n]), s);
        const q = f("q", [c.B, c.H, c.Lq, c.D]);
        const k = f("k", [c.B, c.H, c.Lk, c.D]);
        const v = f("v", [c.B, c.H, c.Lk, c.Dv]);
        const bias = c.bias_shape ? f("bias", c.bias_shape) : undefined;
        const pk = c.P ? f("pk", [c.H, c.P, c.D]) : undefined;
        const pv = c.P ? f("pv", [c.H, c.P, c.Dv]) : undefined;
        const leaves = [q, k, v, bias, pk, pv].filter((z) => z) as Tensor<"f32">[];
        for (const l of leaves) l.requiresGrad = true;
        const out = attention(q, k, v, {
          bias,
          prefixKey: pk,
          prefixValue: pv,
          causal: c.causal,
          keyLengths: c.lengths ?? undefined,
        });
        backward(sum(mul(out, tensor(Float32Array.from(c.w), out.shape))));
        return [out, ...leaves.map((l) => l.grad!)];
      }));
      const names = ["q", "k", "v", "bias", "pk", "pv"].filter((n) => c.grads[n]);
      assertClose(got[0], c.out, { atol: 1e-5, rtol: 1e-4, msg: `${c.name} out` });
      names.forEach((n, i) =>
        assertClose(got[i + 1], c.grads[n], { atol: 1e-5, rtol: 1e-4, msg: `${c.name} d${n}` })
      );
    }
  },
);

gpuTest("attention: without gradients it keeps no saved state", async () => {
  const before = memory().tensors;
  const x = makeData({ ...base, Lq: 4, Lk: 4 }, 1);
  let live = 0;
  const o = tidy(() => {
    const q = tensor(x.q, [1, 1, 4, base.D]);
    const k = tensor(x.k, [1, 1, 4, base.D]);
    const o = noGrad(() => attention(q, k, k, { keyLengths: [3] }));
    live = memory().tensors;
    return o;
  });
  // q, k and the output: no log-sum-exp, no key-length tensor left behind.
  assert.equal(live - before, 3);
  await readFree([o]);
  assert.equal(memory().tensors, before);
});

gpuTest("attention: the chunked backward matches the CPU reference (all options)", async () => {
  const saved = { ...attentionBackward };
  try {
    attentionBackward.path = "chunked";
    // A few query rows per chunk: several chunks, the last one partial.
    attentionBackward.chunkFloats = 2 * 2 * 3 * 11;
    const p: Problem = {
      ...base,
      B: 2,
      H: 2,
      Lq: 8,
      Lk: 9,
      D: 3,
      Dv: 5,
      P: 2,
      causal: true,
      lengths: [9, 4],
      biasShape: [2, 1, 8, 9],
      scale: 0.6,
    };
    await compareToReference(p, makeData(p, 40), 40);
    const p2: Problem = { ...p, causal: false, lengths: [0, 7], dropout: 0.25, seed: 8, P: 0 };
    await compareToReference(p2, makeData(p2, 41), 41);
    // One chunk holding every row, vec4 head dims.
    attentionBackward.chunkFloats = 2 ** 20;
    const p3: Problem = { ...p, D: 8, Dv: 8, biasShape: [8, 9] };
    await compareToReference(p3, makeData(p3, 42), 42);
  } finally {
    Object.assign(attentionBackward, saved);
  }
});

Deno.test("attention: every kernel binds at most 8 storage buffers (WebGPU's default limit)", () => {
  // fwd, delta, dq, dkv × software, hardware; probs and dscore of the chunked backward.
  assert.equal(attentionKernels.length, 10);
  for (const spec of attentionKernels) {
    const n = Object.keys(spec.bindings).length;
    assert.ok(n <= 8, `${spec.name} binds ${n} storage buffers`);
  }
});

gpuTest("attention: bad inputs name the op and the shapes", () => {
  tidy(() => {
    const q = tensor(new Float32Array(2 * 3 * 4), [1, 2, 3, 4]);
    const k = tensor(new Float32Array(2 * 5 * 4), [1, 2, 5, 4]);
    const k3 = tensor(new Float32Array(2 * 5 * 3), [1, 2, 5, 3]);
    const v6 = tensor(new Float32Array(2 * 6 * 4), [1, 2, 6, 4]);
    const r3 = tensor(new Float32Array(24), [2, 3, 4]);
    assert.throws(() => attention(r3, k, k), /wgrec attention: query \[2, 3, 4\] has rank 3/);
    assert.throws(() => attention(q, k3, k), /wgrec attention: query and key head dims differ/);
    assert.throws(() => attention(q, k, v6), /wgrec attention: key and value lengths differ/);
    assert.throws(
      () => attention(q, k, k, { keyLengths: [6] }),
      /wgrec attention: key length 6 .*expected an integer in \[0, 5\]/,
    );
    assert.throws(
      () => attention(q, k, k, { keyLengths: [1, 2] }),
      /keyLengths has 2 entries .* expected B = 1/,
    );
    assert.throws(
      () => attention(q, k, k, { keyLengths: tensor(new Float32Array(1), [1]) as never }),
      /wgrec attention: keyLengths \[1\] has dtype f32, expected i32/,
    );
    assert.throws(
      () => attention(q, k, k, { bias: tensor(new Float32Array(12), [3, 4]) }),
      /wgrec attention: bias \[3, 4\] does not broadcast to \[B, H, Lq, Lk\] = \[1, 2, 3, 5\]/,
    );
    assert.throws(
      () => attention(q, k, k, { dropout: 1 }),
      /dropout rate 1 .*expected 0 ≤ rate < 1/,
    );
    assert.throws(
      () => attention(q, k, k, { prefixKey: q }),
      /give both prefixKey and prefixValue/,
    );
    const p3 = tensor(new Float32Array(24), [3, 2, 4]);
    assert.throws(
      () => attention(q, k, k, { prefixKey: p3, prefixValue: p3 }),
      /prefixKey \[3, 2, 4\] \/ prefixValue \[3, 2, 4\] do not fit query \[1, 2, 3, 4\]/,
    );
    const big = tensor(new Float32Array(257), [1, 1, 1, 257]);
    assert.throws(() => attention(big, big, big), /head dims of .* must be in \[1, 256\]/);
    assert.throws(() => attention(q, k, k, { layout: "lbhd" as never }), /unknown layout 'lbhd'/);
  });
});
