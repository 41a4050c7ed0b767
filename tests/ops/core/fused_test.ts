// Fused elementwise chains: random expressions over broadcasting inputs against a CPU
// evaluator (forward) and against the same chain of separate ops (every input's gradient),
// a finite-difference check, register reuse, bad input and no leaked buffers.
import fc from "npm:fast-check@3";
import {
  add,
  backward,
  type Expr,
  fused,
  fx,
  maximum as maxOp,
  minimum as minOp,
  mul,
  readAll,
  runtime,
  sigmoid,
  softplus,
  sub,
  sum,
  tanh,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";

/** A random expression tree over `nin` inputs from ops that are finite everywhere. */
function randomExpr(seed: number, nin: number, depth: number): Expr {
  let s = seed;
  const rnd = (n: number) => (s = (s * 1103515245 + 12345) % 2147483648) % n;
  const build = (d: number): Expr => {
    if (d === 0 || rnd(4) === 0) {
      return rnd(5) === 0 ? fx.constant(0.5 + rnd(3)) : fx.input(rnd(nin));
    }
    const k = rnd(11);
    const x = build(d - 1);
    if (k < 6) {
      const y = build(d - 1);
      return [fx.add, fx.sub, fx.mul, fx.max, fx.min, fx.mul][k](x, y);
    }
    return [fx.tanh, fx.sigmoid, fx.softplus, (e: Expr) => fx.affine(e, 0.7, -0.2), fx.square]
      [k - 6](x);
  };
  return build(depth);
}

/** CPU value of `e` at the broadcast position `pos` (inputs read through their own shapes). */
function evalCpu(e: Expr, xs: { data: Float32Array; shape: number[] }[], pos: number[]): number {
  switch (e.kind) {
    case "input": {
      const { data, shape } = xs[e.index];
      const off = pos.length - shape.length;
      let i = 0;
      shape.forEach((d, k) => (i = i * d + (d === 1 ? 0 : pos[k + off])));
      return data[i];
    }
    case "const":
      return e.value;
    case "unary": {
      const x = evalCpu(e.x, xs, pos);
      const f: Record<string, (v: number) => number> = {
        tanh: Math.tanh,
        sigmoid: (v) => 1 / (1 + Math.exp(-v)),
        softplus: (v) => Math.log1p(Math.exp(v)),
        affine: (v) => e.alpha * v + e.beta,
        square: (v) => v * v,
      };
      return f[e.op](x);
    }
    case "binary": {
      const a = evalCpu(e.a, xs, pos);
      const b = evalCpu(e.b, xs, pos);
      const f: Record<string, (p: number, q: number) => number> = {
        add: (p, q) => p + q,
        sub: (p, q) => p - q,
        mul: (p, q) => p * q,
        max: Math.max,
        min: Math.min,
      };
      return f[e.op](a, b);
    }
    default:
      throw new Error("not in the test's op set");
  }
}

/** The same expression as a chain of separate (already tested) ops. */
function evalOps(e: Expr, xs: Tensor<"f32">[]): Tensor<"f32"> {
  switch (e.kind) {
    case "input":
      return xs[e.index];
    case "const":
      return tensor([e.value]);
    case "unary": {
      const x = evalOps(e.x, xs);
      if (e.op === "tanh") return tanh(x);
      if (e.op === "sigmoid") return sigmoid(x);
      if (e.op === "softplus") return softplus(x);
      if (e.op === "square") return mul(x, x);
      return add(mul(x, tensor([e.alpha])), tensor([e.beta]));
    }
    case "binary": {
      const a = evalOps(e.a, xs);
      const b = evalOps(e.b, xs);
      const f = { add, sub, mul, max: maxOp, min: minOp }[e.op as "add"];
      return f(a, b);
    }
    default:
      throw new Error("not in the test's op set");
  }
}

const SHAPES: number[][][] = [
  [[7], [7], [7]],
  [[1], [5], [3, 5]],
  [[2, 3, 1], [3, 4], [1]],
  [[13], [1], [13]],
];

gpuTest(
  "fused: random expressions equal a CPU evaluator and the unfused ops' gradients",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 0, max: 3 }),
        async (seed, si) => {
          const shapes = SHAPES[si];
          const e = randomExpr(seed, 3, 3);
          const data = shapes.map((s, k) => randArray(s.reduce((a, b) => a * b, 1), seed + k));
          const out = shapes.reduce((a, b) => {
            const r = Math.max(a.length, b.length);
            return Array.from({ length: r }, (_, i) => {
              const x = a[i - (r - a.length)] ?? 1;
              const y = b[i - (r - b.length)] ?? 1;
              return Math.max(x, y);
            });
          });
          const res = tidy(() => {
            const xs = data.map((d, k) => tensor(d, shapes[k]));
            xs.forEach((x) => (x.requiresGrad = true));
            const w = tensor(randArray(out.reduce((a, b) => a * b, 1), seed + 9), out);
            const y = fused(e, xs);
            backward(sum(mul(y, w)));
            const gf = xs.map((x) => x.grad!);
            const ys = xs.map((x) => tensor(data[xs.indexOf(x)], x.shape));
            ys.forEach((x) => (x.requiresGrad = true));
            // Inputs the expression never reads: zero gradients on both sides (fused shapes its
            // output by every input, so the reference adds each input times 0).
            const zero = ys.reduce((acc, x) => add(acc, mul(x, tensor([0]))), evalOps(e, ys));
            backward(sum(mul(zero, w)));
            return [
              y,
              ...gf.map((g, k) => g ?? tensor(new Float32Array(xs[k].size), xs[k].shape)),
              ...ys.map((x) => x.grad!),
            ];
          });
          const v = await readAll(res);
          res.forEach((t) => t.dispose());
          const cpu = new Float32Array(v[0].length);
          for (let i = 0; i < cpu.length; i++) {
            let r = i;
            const pos = out.map(() => 0);
            for (let k = out.length - 1; k >= 0; k--) {
              pos[k] = r % out[k], r = Math.floor(r / out[k]);
            }
            cpu[i] = evalCpu(e, data.map((d, k) => ({ data: d, shape: shapes[k] })), pos);
          }
          assertClose(v[0], cpu, { atol: 1e-5, rtol: 1e-4, msg: "forward" });
          for (let k = 0; k < 3; k++) {
            assertClose(v[1 + k], v[4 + k], {
              atol: 1e-5,
              rtol: 1e-4,
              msg: `gradient of input ${k}`,
            });
          }
        },
      ),
      { numRuns: 10 },
    );
  },
);

gpuTest("fused: finite-difference gradient of softplus(x)·y − x/y with broadcasting", async () => {
  const e = fx.sub(fx.mul(fx.softplus(fx.input(0)), fx.input(1)), fx.div(fx.input(0), fx.input(1)));
  const y = Float32Array.from(randArray(5, 3), (v) => 1.5 + Math.abs(v));
  await checkGrad((a, b) => fused(e, [a, b]), [randArray(15, 2), y], [[3, 5], [5]], { eps: 1e-3 });
});

gpuTest("fused: a long chain reuses registers; shared nodes are computed once", async () => {
  let e: Expr = fx.input(0);
  for (let i = 0; i < 60; i++) e = fx.add(fx.mul(e, 0.5), fx.input(1)); // 120 nodes, few live
  const shared = fx.tanh(fx.input(0));
  const sq = fx.mul(shared, shared);
  const [a, b] = await readAll(tidy(() => {
    const x = tensor([0.3, -1.2]);
    return [fused(e, [x, tensor([1])]), fused(sq, [x])];
  }));
  let ref = [0.3, -1.2];
  for (let i = 0; i < 60; i++) ref = ref.map((v) => v * 0.5 + 1);
  assertClose(a, ref);
  assertClose(b, [Math.tanh(0.3) ** 2, Math.tanh(-1.2) ** 2]);
});

gpuTest("fused: bad input names the op and what was expected; nothing leaks", () => {
  const e = fx.add(fx.input(0), fx.input(2));
  assert.throws(
    () => tidy(() => fused(e, [tensor([1]), tensor([2])])),
    /wgrec fused: 2 inputs given; the expression reads 3/,
  );
  assert.throws(
    () => tidy(() => fused(fx.input(0), Array.from({ length: 6 }, () => tensor([1])))),
    /expected 1 to 5/,
  );
  assert.throws(
    () => tidy(() => fused(e, [tensor([1, 2]), tensor([1]), tensor([1, 2, 3])])),
    /fused/,
  );
  assert.throws(
    () => tidy(() => fused(fx.input(0), [tensor([1], [1], "i32") as unknown as Tensor<"f32">])),
    /fused.*f32/,
  );
  let wide: Expr = fx.input(0);
  const leaves = Array.from({ length: 40 }, (_, i) => fx.affine(fx.input(0), i + 1));
  wide = leaves.reduceRight((acc, l) => fx.add(l, acc), wide); // 40 values live at once
  assert.throws(() => tidy(() => fused(wide, [tensor([1])])), /more than 32 registers/);
  const before = runtime().memory().liveBuffers;
  tidy(() => {
    const x = tensor([1, 2, 3]);
    x.requiresGrad = true;
    backward(sum(fused(fx.mul(fx.sigmoid(fx.input(0)), fx.input(0)), [x])));
    x.grad!.dispose();
  });
  assert.equal(
    runtime().memory().liveBuffers,
    before,
    "live buffers after a fused forward + backward",
  );
});
