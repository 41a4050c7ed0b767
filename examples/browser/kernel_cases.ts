/**
 * Kernel cases run the same way in Deno and in a browser: the Deno tests' PyTorch golden cases
 * for softmax / log-softmax (tests/fixtures/core_ops.json), fused attention
 * (attention_sdpa.json) and InfoNCE (losses_golden.json), plus matmul against a float64 CPU
 * reference over shapes that are not multiples of any tile, through the adapter's default
 * kernel (with gradients) and through both kernel families (regblock and tiled) explicitly.
 *
 * tests/browser_test.ts computes every case in Deno and on kernels.html in Chromium's WebGPU,
 * and compares both with the expected values and with each other.
 * @module
 */

import {
  attention,
  backward,
  infoNce,
  logSoftmax,
  matmul,
  matmulShape,
  matmulWith,
  mul,
  readAll,
  Rng,
  selectMatmul,
  softmax,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "./entry.ts";

/** A case: the op, its inputs, and the values it must give (with tolerances). */
export interface KernelCase {
  /** Unique name. */
  name: string;
  /** Which op, and with which options (see {@link runCase}). */
  kind: "softmax" | "logSoftmax" | "attention" | "infoNce" | "matmul";
  /** Flat inputs by name. */
  inputs: Record<string, number[]>;
  /** Shapes of the inputs by name. */
  shapes: Record<string, number[]>;
  /** Op options (JSON only). */
  opts: Record<string, unknown>;
  /** Expected outputs by name (float64 references). */
  expected: Record<string, number[]>;
  /** |got − expected| ≤ atol + rtol·|expected|, per output name (default `*`). */
  tol: Record<string, { atol: number; rtol: number }>;
}

/** Outputs of a case by name. */
export type CaseOutputs = Record<string, number[]>;

/** The fixture files the cases come from (parsed JSON). */
export interface Fixtures {
  /** tests/fixtures/core_ops.json. */
  coreOps: { cases: { shape: number[]; x: number[]; gy: number[]; [op: string]: unknown }[] };
  /** tests/fixtures/attention_sdpa.json. */
  attention: AttentionFixture[];
  /** tests/fixtures/losses_golden.json. */
  losses: { infonce: InfoNceFixture[] };
}

const TOL_OPS = { atol: 1e-5, rtol: 1e-4 };

/** Builds every case from the fixtures (and seeded random matmul operands). */
export function buildCases(f: Fixtures): KernelCase[] {
  const cases: KernelCase[] = [];
  for (const [i, c] of f.coreOps.cases.entries()) {
    for (const [kind, key] of [["softmax", "softmax"], ["logSoftmax", "log_softmax"]] as const) {
      const ref = c[key] as { y: number[]; gx: number[] };
      cases.push({
        name: `${kind} [${c.shape}] #${i} (PyTorch)`,
        kind,
        inputs: { x: c.x, gy: c.gy },
        shapes: { x: c.shape, gy: c.shape },
        opts: {},
        expected: { y: ref.y, gx: ref.gx },
        tol: { "*": TOL_OPS },
      });
    }
  }
  for (const c of f.attention) {
    const shapes: Record<string, number[]> = {
      q: [c.B, c.H, c.Lq, c.D],
      k: [c.B, c.H, c.Lk, c.D],
      v: [c.B, c.H, c.Lk, c.Dv],
      w: [c.B, c.H, c.Lq, c.Dv],
    };
    if (c.bias_shape) shapes.bias = c.bias_shape;
    if (c.P) {
      shapes.pk = [c.H, c.P, c.D];
      shapes.pv = [c.H, c.P, c.Dv];
    }
    const expected: Record<string, number[]> = { out: c.out };
    for (const [n, g] of Object.entries(c.grads)) expected[`d${n}`] = g;
    cases.push({
      name: `attention ${c.name} (PyTorch)`,
      kind: "attention",
      inputs: { ...c.inputs, w: c.w },
      shapes,
      opts: { causal: c.causal, lengths: c.lengths },
      expected,
      tol: { "*": TOL_OPS },
    });
  }
  for (const g of f.losses.infonce) {
    const inputs: Record<string, number[]> = { a: g.a, p: g.p };
    const shapes: Record<string, number[]> = { a: [g.B, g.d], p: [g.B, g.d] };
    const expected: Record<string, number[]> = { loss: [g.loss], da: g.ga, dp: g.gp };
    if (g.n) {
      inputs.n = g.n;
      shapes.n = [g.M, g.d];
      expected.dn = g.gn!;
    }
    if (g.ids) {
      inputs.ids = g.ids;
      shapes.ids = [g.B];
    }
    if (g.learnTau) expected.dtau = [g.gtau!];
    const t = { atol: 2e-5, rtol: 2e-4 };
    // τ = 0.01 turns float32 rounding of the logits into relative errors of ~1e-4.
    const gt = g.tau < 0.05 ? { atol: 2e-3, rtol: 2e-3 } : t;
    cases.push({
      name: `infoNce ${g.name} (PyTorch)`,
      kind: "infoNce",
      inputs,
      shapes,
      opts: { tau: g.tau, normalize: g.normalize, symmetric: g.symmetric, learnTau: g.learnTau },
      expected,
      tol: { loss: t, "*": gt },
    });
  }
  // Matmul: odd sizes, transposes, a broadcast batch, and sizes that span several blocks.
  const mm: [number, number, number, number[] | null, boolean, boolean][] = [
    [1, 1, 1, null, false, false],
    [7, 5, 13, null, false, false],
    [17, 33, 65, null, true, false],
    [33, 19, 31, null, false, true],
    [9, 4, 5, [3, 1], true, true],
    [64, 64, 64, null, false, false],
    [130, 129, 70, [2, 2], false, true],
  ];
  mm.forEach(([m, n, k, batch, transA, transB], i) => {
    const rng = new Rng(100 + i);
    const aShape = transA ? [k, m] : [m, k];
    const bShape = transB ? [n, k] : [k, n];
    if (batch) {
      aShape.unshift(batch[0]);
      bShape.unshift(batch[1]);
    }
    const draw = (len: number) => Array.from({ length: len }, () => rng.normal());
    const a = draw(aShape.reduce((x, y) => x * y));
    const b = draw(bShape.reduce((x, y) => x * y));
    const nb = batch ? Math.max(...batch) : 1;
    const gy = draw(nb * m * n);
    const ref = matmulRef(a, b, {
      m,
      n,
      k,
      ba: batch?.[0] ?? 1,
      bb: batch?.[1] ?? 1,
      transA,
      transB,
    });
    const tol = { atol: 1e-5 * Math.sqrt(k) * 4, rtol: 1e-4 };
    cases.push({
      name: `matmul ${aShape}${transA ? "ᵀ" : ""} · ${bShape}${transB ? "ᵀ" : ""}`,
      kind: "matmul",
      inputs: { a, b, gy },
      shapes: { a: aShape, b: bShape, gy: batch ? [nb, m, n] : [m, n] },
      opts: { transA, transB },
      expected: { c: ref, regblock: ref, tiled: ref },
      tol: { "*": tol },
    });
  });
  return cases;
}

/** A case of tests/fixtures/attention_sdpa.json. */
export interface AttentionFixture {
  name: string;
  B: number;
  H: number;
  Lq: number;
  Lk: number;
  D: number;
  Dv: number;
  P: number;
  bias_shape: number[] | null;
  lengths: number[] | null;
  causal: boolean;
  inputs: Record<string, number[]>;
  w: number[];
  out: number[];
  grads: Record<string, number[]>;
}

/** An InfoNCE case of tests/fixtures/losses_golden.json. */
export interface InfoNceFixture {
  name: string;
  B: number;
  d: number;
  M: number;
  tau: number;
  normalize: boolean;
  symmetric: boolean;
  learnTau: boolean;
  ids: number[] | null;
  a: number[];
  p: number[];
  n: number[] | null;
  loss: number;
  ga: number[];
  gp: number[];
  gn: number[] | null;
  gtau: number | null;
}

/** Float64 batched matmul reference (a batch of 1 broadcasts). */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  p: { m: number; n: number; k: number; ba: number; bb: number; transA: boolean; transB: boolean },
): number[] {
  const { m, n, k } = p;
  const batch = Math.max(p.ba, p.bb);
  const out: number[] = [];
  for (let t = 0; t < batch; t++) {
    const oa = p.ba === 1 ? 0 : t * m * k;
    const ob = p.bb === 1 ? 0 : t * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const x = a[oa + (p.transA ? q * m + i : i * k + q)];
          const y = b[ob + (p.transB ? j * k + q : q * n + j)];
          s += x * y;
        }
        out.push(s);
      }
    }
  }
  return out;
}

const f32 = (c: KernelCase, name: string) =>
  tensor(Float32Array.from(c.inputs[name]), c.shapes[name]);

/** Runs one case on the current runtime; returns its outputs as plain arrays. */
export async function runCase(c: KernelCase): Promise<CaseOutputs> {
  const named: [string, Tensor][] = tidy(() => {
    switch (c.kind) {
      case "softmax":
      case "logSoftmax": {
        const x = f32(c, "x");
        x.requiresGrad = true;
        const y = c.kind === "softmax" ? softmax(x) : logSoftmax(x);
        backward(y, f32(c, "gy"));
        return [["y", y], ["gx", x.grad!]];
      }
      case "attention": {
        const leaves: Record<string, Tensor<"f32">> = {};
        for (const n of ["q", "k", "v", "bias", "pk", "pv"]) {
          if (!c.inputs[n]) continue;
          leaves[n] = f32(c, n);
          leaves[n].requiresGrad = true;
        }
        const o = c.opts as { causal: boolean; lengths: number[] | null };
        const out = attention(leaves.q, leaves.k, leaves.v, {
          bias: leaves.bias,
          prefixKey: leaves.pk,
          prefixValue: leaves.pv,
          causal: o.causal,
          keyLengths: o.lengths ?? undefined,
        });
        backward(sum(mul(out, f32(c, "w"))));
        return [
          ["out", out],
          ...Object.entries(leaves).map(([n, t]) => [`d${n}`, t.grad!] as [string, Tensor]),
        ];
      }
      case "infoNce": {
        const o = c.opts as {
          tau: number;
          normalize: boolean;
          symmetric: boolean;
          learnTau: boolean;
        };
        const a = f32(c, "a");
        const p = f32(c, "p");
        const n = c.inputs.n ? f32(c, "n") : undefined;
        const tau = o.learnTau ? tensor([o.tau], [1]) : o.tau;
        a.requiresGrad = p.requiresGrad = true;
        if (n) n.requiresGrad = true;
        if (typeof tau !== "number") tau.requiresGrad = true;
        const ids = c.inputs.ids
          ? tensor(Int32Array.from(c.inputs.ids), c.shapes.ids, "i32")
          : undefined;
        const loss = infoNce(a, p, {
          temperature: tau,
          normalize: o.normalize,
          symmetric: o.symmetric,
          negatives: n,
          ids,
        });
        backward(loss);
        const out: [string, Tensor][] = [["loss", loss], ["da", a.grad!], ["dp", p.grad!]];
        if (n) out.push(["dn", n.grad!]);
        if (typeof tau !== "number") out.push(["dtau", tau.grad!]);
        return out;
      }
      case "matmul": {
        const o = c.opts as { transA: boolean; transB: boolean };
        const a = f32(c, "a");
        const b = f32(c, "b");
        a.requiresGrad = b.requiresGrad = true;
        const y = matmul(a, b, o);
        backward(y, f32(c, "gy"));
        const s = matmulShape(a, b, o.transA, o.transB);
        const p = { m: s.m, n: s.n, k: s.k, batch: s.batch, transA: o.transA, transB: o.transB };
        return [
          ["c", y],
          ["regblock", matmulWith(selectMatmul(p, "software"), a, b, o)],
          ["tiled", matmulWith(selectMatmul(p, "hardware"), a, b, o)],
          ["da", a.grad!],
          ["db", b.grad!],
        ];
      }
    }
  });
  try {
    const vals = await readAll(named.map(([, t]) => t));
    return Object.fromEntries(named.map(([n], i) => [n, Array.from(vals[i])]));
  } finally {
    for (const [, t] of named) t.dispose();
  }
}

/** Runs every case in order. */
export async function runCases(cases: readonly KernelCase[]): Promise<CaseOutputs[]> {
  const out: CaseOutputs[] = [];
  for (const c of cases) out.push(await runCase(c));
  return out;
}

/**
 * Compares outputs with the expected values: the failures, as readable lines (empty when all
 * outputs are within tolerance). Outputs without an expected value are not checked here.
 */
export function checkOutputs(c: KernelCase, got: CaseOutputs, label: string): string[] {
  const bad: string[] = [];
  for (const [name, want] of Object.entries(c.expected)) {
    const g = got[name];
    const { atol, rtol } = c.tol[name] ?? c.tol["*"];
    if (!g || g.length !== want.length) {
      bad.push(`${label} ${c.name} ${name}: ${g?.length ?? "no"} values, expected ${want.length}`);
      continue;
    }
    const i = worst(g, want, atol, rtol);
    if (i >= 0) {
      bad.push(
        `${label} ${c.name} ${name}[${i}]: got ${g[i]}, expected ${want[i]} ` +
          `(atol ${atol}, rtol ${rtol})`,
      );
    }
  }
  return bad;
}

/** Index of the worst violation of |g − w| ≤ atol + rtol·|w|, or −1 (NaN counts as one). */
export function worst(g: ArrayLike<number>, w: ArrayLike<number>, atol: number, rtol: number) {
  let at = -1, most = 0;
  for (let i = 0; i < w.length; i++) {
    const excess = Math.abs(g[i] - w[i]) - (atol + rtol * Math.abs(w[i]));
    if (!(excess <= 0) && (at < 0 || !(excess <= most))) [at, most] = [i, excess];
  }
  return at;
}
