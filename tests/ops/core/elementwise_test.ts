// Elementwise ops: every unary op and every broadcasting binary op against a CPU reference,
// over random lengths / broadcast shapes, with finite-difference gradients and bad input.
import fc from "npm:fast-check@3";
import {
  abs,
  add,
  affine,
  backward,
  binary,
  type BinaryOp,
  div,
  eq,
  exp,
  ge,
  gelu,
  gt,
  log,
  logSigmoid,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  powScalar,
  readAll,
  relu,
  scale,
  sigmoid,
  softplus,
  sqrt,
  square,
  sub,
  sum,
  tanh,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { binaryRef, prod } from "../../cpu_ref.ts";

async function vals(f: () => Tensor[]): Promise<number[][]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out.map((a) => [...a]);
}

/** erf to ~1e-9 (Taylor series; ±1 beyond |x| = 5), independent of the kernel's formula. */
function erf(x: number): number {
  if (Math.abs(x) > 5) return Math.sign(x);
  let term = x;
  let sum = x;
  for (let n = 1; n < 100; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const softplusRef = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Each unary op: GPU function, CPU reference, and the domain its inputs are drawn from. */
const UNARY: [string, (t: Tensor<"f32">) => Tensor<"f32">, (x: number) => number, "any" | "pos"][] =
  [
    ["neg", neg, (x) => -x, "any"],
    ["exp", exp, Math.exp, "any"],
    ["log", log, Math.log, "pos"],
    ["sqrt", sqrt, Math.sqrt, "pos"],
    ["relu", relu, (x) => Math.max(x, 0), "any"],
    ["gelu", gelu, (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), "any"],
    ["sigmoid", sigmoid, (x) => 1 / (1 + Math.exp(-x)), "any"],
    ["tanh", tanh, Math.tanh, "any"],
    ["abs", abs, Math.abs, "any"],
    ["square", square, (x) => x * x, "any"],
    ["logSigmoid", logSigmoid, (x) => -softplusRef(-x), "any"],
    ["softplus", softplus, softplusRef, "any"],
    ["affine", (t) => affine(t, -1.5, 0.25), (x) => -1.5 * x + 0.25, "any"],
    ["scale", (t) => scale(t, 3), (x) => 3 * x, "any"],
    ["powScalar 3", (t) => powScalar(t, 3), (x) => x ** 3, "any"],
    ["powScalar 2.5", (t) => powScalar(t, 2.5), (x) => x ** 2.5, "pos"],
    ["powScalar -0.5", (t) => powScalar(t, -0.5), (x) => x ** -0.5, "pos"],
  ];

/** Inputs away from 0 (kinks of relu/abs, poles of log), positive for "pos" ops. */
function domain(n: number, seed: number, kind: "any" | "pos"): Float32Array {
  return randArray(n, seed, 2).map((v) => {
    const m = 0.2 + Math.abs(v);
    return kind === "pos" || v >= 0 ? m : -m;
  });
}

const lengths = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(255, 256, 257, 1000));

gpuTest("unary ops: random lengths match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(lengths, fc.integer({ max: 999 }), async (n, seed) => {
      const xs = UNARY.map(([, , , d], i) => domain(n, seed + i, d));
      const ys = await vals(() => UNARY.map(([, f], i) => f(tensor(xs[i], [n]))));
      UNARY.forEach(([name, , ref], i) => {
        assertClose(ys[i], xs[i].map(ref), { msg: `${name} n=${n}`, atol: 1e-5, rtol: 2e-5 });
      });
    }),
    { numRuns: 10 },
  );
});

gpuTest("unary ops: extreme inputs stay finite where the function is", async () => {
  const x = [-100, -30, -1e-3, 0, 1e-3, 30, 100];
  const ops = [sigmoid, tanh, logSigmoid, softplus, gelu, relu];
  const refs = [
    (v: number) => 1 / (1 + Math.exp(-v)),
    Math.tanh,
    (v: number) => -softplusRef(-v),
    softplusRef,
    (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
    (v: number) => Math.max(v, 0),
  ];
  const ys = await vals(() => ops.map((f) => f(tensor(x))));
  ys.forEach((y, i) => {
    assert.ok(y.every(Number.isFinite), `${ops[i].name}: ${y}`);
    assertClose(y, x.map(refs[i]), { msg: `op ${i}`, atol: 1e-6 });
  });
  // exp overflows to Inf like PyTorch; log(0) = -Inf; negative base with fractional power: NaN
  const [e, l, p] = await vals(() => [
    exp(tensor([100])),
    log(tensor([0])),
    powScalar(tensor([-2, -2]), 0.5),
  ]);
  assert.deepEqual(e, [Infinity]);
  assert.deepEqual(l, [-Infinity]);
  assert.ok(p.every(Number.isNaN));
});

gpuTest("unary ops: finite-difference gradients", async () => {
  for (const [name, f, , d] of UNARY) {
    const x = domain(13, name.length, d);
    try {
      await checkGrad(f, [x], [[13]], { eps: 1e-3 });
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  }
});

const BINARY: [BinaryOp, (a: number, b: number) => number][] = [
  ["add", (a, b) => a + b],
  ["sub", (a, b) => a - b],
  ["mul", (a, b) => a * b],
  ["div", (a, b) => a / b],
  ["pow", (a, b) => a ** b],
  ["max", Math.max],
  ["min", Math.min],
  ["ge", (a, b) => +(a >= b)],
  ["gt", (a, b) => +(a > b)],
  ["eq", (a, b) => +(a === b)],
];

/** Two shapes that broadcast: a base with some dims set to 1 and leading dims dropped. */
const twoShapes = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(1, 257)), { maxLength: 4 })
  .filter((s) => prod(s) <= 3000)
  .chain((base) => {
    const variant = fc
      .tuple(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.nat(base.length))
      .map(([ones, drop]) => base.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
    return fc.tuple(variant, variant, fc.integer({ max: 999 }));
  });

gpuTest("binary ops: random broadcast shapes match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(twoShapes, async ([as, bs, seed]) => {
      // Rounded values make ties (max/min/ge/eq) likely; b away from 0 for div; a > 0 for pow.
      const a = randArray(prod(as), seed).map((v) => Math.round(v * 4) / 4);
      const b = randArray(prod(bs), seed + 1).map((v) => Math.round(v * 4) / 4 || 0.5);
      const pa = a.map((v) => Math.abs(v) + 0.5);
      const ys = await vals(() => {
        const ta = tensor(a, as);
        const tb = tensor(b, bs);
        const tp = tensor(pa, as);
        return BINARY.map(([op]) => binary(op, op === "pow" ? tp : ta, tb));
      });
      BINARY.forEach(([op, f], i) => {
        const ref = binaryRef(op === "pow" ? pa : a, as, b, bs, f);
        assertClose(ys[i], ref.data, { msg: `${op} [${as}] [${bs}]`, atol: 1e-5, rtol: 1e-5 });
      });
    }),
    { numRuns: 14 },
  );
});

gpuTest(
  "pow/powScalar: negative bases, zero exponents and their gradients, as PyTorch",
  async () => {
    const [y, y0, g0] = await vals(() => {
      const z = tensor([0, 0, 2]);
      z.requiresGrad = true;
      const p0 = powScalar(z, 0);
      backward(sum(p0));
      return [pow(tensor([-2, -2, -3, 0, 4, 0]), tensor([3, 2, 0.5, 0, -0.5, 0])), p0, z.grad!];
    });
    // Regression: 0^0 was 0 (WGSL pow(0, 0) is undefined), and d/dx x^0 at 0 was Inf.
    assertClose(y, [-8, 4, NaN, 1, 0.5, 1]);
    assert.deepEqual(y0, [1, 1, 1]);
    assert.deepEqual(g0, [0, 0, 0]);
  },
);

gpuTest("binary ops: finite-difference gradients with broadcasting", async () => {
  const shapes = [[[3, 4], [3, 4]], [[2, 3, 4], [4]], [[3, 1], [1, 5]], [[1], [2, 3]]];
  for (const [as, bs] of shapes) {
    const a = domain(prod(as), 71, "any");
    const b = domain(prod(bs), 72, "any");
    const pa = domain(prod(as), 73, "pos");
    const cases: [string, (x: Tensor<"f32">, y: Tensor<"f32">) => Tensor<"f32">, Float32Array][] = [
      ["add", add, a],
      ["sub", sub, a],
      ["mul", mul, a],
      ["div", div, a],
      ["pow", pow, pa],
      // a + 3 vs b never ties within ε; both branches get exercised across elements
      ["maximum", (x, y) => maximum(x, y), a],
      ["minimum", (x, y) => minimum(x, y), a],
    ];
    for (const [name, f, x] of cases) {
      try {
        await checkGrad(f, [x, b], [as, bs], { eps: 1e-3 });
      } catch (e) {
        throw new Error(`${name} [${as}] [${bs}]: ${(e as Error).message}`);
      }
    }
  }
});

gpuTest("maximum/minimum: ties send the gradient to the left operand", async () => {
  const [ga, gb, gc, gd] = await vals(() => {
    const a = tensor([1, 2, 3]);
    const b = tensor([1, 5, 0]);
    a.requiresGrad = b.requiresGrad = true;
    const c = tensor([1, 2, 3]);
    const d = tensor([1, 5, 0]);
    c.requiresGrad = d.requiresGrad = true;
    const l = add(maximum(a, b), tensor([0]));
    const m = minimum(c, d);
    backwardAll([l, m]);
    return [a.grad!, b.grad!, c.grad!, d.grad!];
  });
  assert.deepEqual(ga, [1, 0, 1]);
  assert.deepEqual(gb, [0, 1, 0]);
  assert.deepEqual(gc, [1, 1, 0]);
  assert.deepEqual(gd, [0, 0, 1]);
});

gpuTest("comparisons have no gradient", async () => {
  const [g] = await vals(() => {
    const a = tensor([1, 2]);
    a.requiresGrad = true;
    backwardAll([add(mul(ge(a, tensor([1.5])), a), add(gt(a, a), eq(a, a)))]);
    return [a.grad!];
  });
  assert.deepEqual(g, [0, 1]); // d/da (a ≥ 1.5)·a = (a ≥ 1.5)
});

gpuTest("elementwise: bad input names the op, shapes and dtypes", () => {
  tidy(() => {
    const a = tensor(new Float32Array(6), [2, 3]);
    assert.throws(
      () => add(a, tensor([1, 2, 3, 4])),
      /wgrec add: shapes \[2, 3\] and \[4\] do not broadcast \(dim 1: 3 vs 4\)/,
    );
    assert.throws(
      () => mul(tensor(new Float32Array(6), [3, 2]), a),
      /wgrec mul: shapes \[3, 2\] and \[2, 3\] do not broadcast/,
    );
    const i = tensor([1, 2], [2], "i32") as unknown as Tensor<"f32">;
    assert.throws(() => sub(a, i), /wgrec sub: right operand \[2\] has dtype i32, expected f32/);
    assert.throws(() => div(i, a), /wgrec div: left operand \[2\] has dtype i32, expected f32/);
    assert.throws(() => exp(i), /wgrec exp: input \[2\] has dtype i32, expected f32/);
  });
});

/** Backward from the sum of several outputs' sums. */
function backwardAll(ts: Tensor<"f32">[]): void {
  let acc = sum(ts[0]);
  for (const t of ts.slice(1)) acc = add(acc, sum(t));
  backward(acc);
}
