// Reductions: sum / mean over any set of axes (keepDims, empty and size-1 dims), sumTo, and
// max / min / argmax / argmin (first index on ties, NaN propagates), against CPU references.
import fc from "npm:fast-check@3";
import {
  argmax,
  argmin,
  backward,
  div,
  max,
  mean,
  min,
  readAll,
  sum,
  sumTo,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { prod, strides, unravel } from "../../cpu_ref.ts";

async function vals(f: () => Tensor[]): Promise<(Float32Array | Int32Array)[]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out as (Float32Array | Int32Array)[];
}

/** Reduces `axes` of x with `f` over the values of each output cell (in index order). */
function reduceRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  axes: readonly number[],
  f: (vals: number[]) => number,
): { data: Float64Array; kept: number[]; dropped: number[] } {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const dropped = shape.filter((_, i) => !axes.includes(i));
  const ks = strides(kept);
  const groups: number[][] = Array.from({ length: prod(kept) }, () => []);
  for (let i = 0; i < prod(shape); i++) {
    const idx = unravel(i, shape);
    let o = 0;
    idx.forEach((v, d) => (o += (axes.includes(d) ? 0 : v) * ks[d]));
    groups[o].push(x[i]);
  }
  return { data: Float64Array.from(groups.map(f)), kept, dropped };
}

const total = (v: number[]) => v.reduce((a, b) => a + b, 0);

/** A shape of rank 1–4 with dims 0–9 (rarely large) and a subset of its axes. */
const shapeAndAxes = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constantFrom(1, 257, 300)), {
    minLength: 1,
    maxLength: 4,
  })
  .filter((s) => prod(s) <= 4000)
  .chain((s) =>
    fc.tuple(fc.constant(s), fc.subarray([...s.keys()]), fc.boolean(), fc.integer({ max: 999 }))
  );

gpuTest("sum/mean: random shapes, axes and keepDims match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(shapeAndAxes, async ([shape, axes, keepDims, seed]) => {
      const x = randArray(prod(shape), seed);
      const [s, m, all] = await vals(() => {
        const t = tensor(x, shape);
        const outs = [sum(t, axes, keepDims), mean(t, axes, keepDims), sum(t)];
        const { kept, dropped } = reduceRef([], shape, axes, total);
        assert.deepEqual(outs[0].shape, keepDims ? kept : dropped);
        assert.deepEqual(outs[1].shape, keepDims ? kept : dropped);
        assert.deepEqual(outs[2].shape, []);
        return outs;
      });
      const msg = `shape [${shape}] axes [${axes}]`;
      const tol = { atol: 1e-4, rtol: 1e-4, msg };
      assertClose(s, reduceRef(x, shape, axes, total).data, tol);
      assertClose(m, reduceRef(x, shape, axes, (v) => total(v) / v.length).data, tol);
      assertClose(all, [total([...x])], { ...tol, atol: 1e-3 });
    }),
    { numRuns: 20 },
  );
});

gpuTest("sum/mean: empty and size-1 dims, negative axes, long rows", async () => {
  const x = randArray(3 * 700, 2);
  const [a, b, c, d, e, f] = await vals(() => [
    sum(tensor([], [2, 0, 3]), 1), // reduce an empty axis: zeros
    mean(tensor([], [2, 0]), -1), // mean over nothing: NaN, as PyTorch
    sum(tensor([], [0, 4]), 1),
    sum(tensor([7, 8], [2, 1]), 1, true),
    sum(tensor(x, [3, 700]), -1),
    mean(tensor(x, [3, 700]), [0, 1], true),
  ]);
  assert.deepEqual([...a], [0, 0, 0, 0, 0, 0]);
  assert.ok(b.length === 2 && b.every(Number.isNaN));
  assert.equal(c.length, 0);
  assert.deepEqual([...d], [7, 8]);
  assertClose(e, reduceRef(x, [3, 700], [1], total).data, { atol: 1e-3 });
  assertClose(f, [total([...x]) / 2100], { atol: 1e-5 });
});

gpuTest("sumTo reduces broadcast dims back", async () => {
  const x = randArray(2 * 3 * 4, 3);
  const [a, b, c] = await vals(() => {
    const t = tensor(x, [2, 3, 4]);
    return [sumTo(t, [3, 1]), sumTo(t, [4]), sumTo(t, [2, 3, 4])];
  });
  assertClose(a, reduceRef(x, [2, 3, 4], [0, 2], total).data, { atol: 1e-5 });
  assertClose(b, reduceRef(x, [2, 3, 4], [0, 1], total).data, { atol: 1e-5 });
  assertClose(c, x);
});

gpuTest("sum/mean: finite-difference gradients", async () => {
  const x = randArray(60, 4);
  for (const axes of [[0], [1, 2], [0, 2], []]) {
    await checkGrad((t) => sum(t, axes), [x], [[3, 4, 5]]);
    await checkGrad((t) => mean(t, axes, true), [x], [[3, 4, 5]]);
  }
  await checkGrad((t) => mean(t), [x], [[60]]);
  // sumTo's gradient goes through the broadcast in div
  await checkGrad((a, b) => div(a, b), [x, randArray(5, 5).map((v) => v + 3)], [[3, 4, 5], [5]]);
});

gpuTest("sum over no axes (or of a scalar) is a new tensor that passes the gradient", async () => {
  // Regression: sum(x, []) used to return x itself with a node pointing to x.
  const [g1, g2] = await vals(() => {
    const a = tensor(2.5);
    const b = tensor([1, 2], [2]);
    a.requiresGrad = b.requiresGrad = true;
    const sa = sum(a);
    const sb = sum(b, [], true);
    assert.ok(sa !== a && sb !== b && a.node === null && b.node === null);
    backward(sa);
    backward(sb, tensor([3, 4]));
    return [a.grad!, b.grad!];
  });
  assert.deepEqual([...g1], [1]);
  assert.deepEqual([...g2], [3, 4]);
});

gpuTest("sum/mean: bad axes name the op", () => {
  tidy(() => {
    const t = tensor(new Float32Array(6), [2, 3]);
    assert.throws(() => sum(t, 2), /wgrec sum: axis 2 is out of range for rank 2/);
    assert.throws(() => mean(t, [0, -2]), /wgrec mean: repeated axis/);
    assert.throws(
      () => sum(tensor([1, 2], [2], "i32") as unknown as Tensor<"f32">),
      /wgrec sum: input \[2\] has dtype i32, expected f32/,
    );
    assert.throws(() => sumTo(t, [4, 2, 3, 1]), /wgrec sumTo: cannot reduce \[2, 3\]/);
  });
});

// --- max / min / argmax / argmin ---------------------------------------------------------

/** First index of the extremum (NaN wins), as PyTorch's max(dim) / min(dim). */
function argRef(v: number[], isMin: boolean): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) {
    const a = v[i];
    const b = v[best];
    if (Number.isNaN(b)) break;
    if (Number.isNaN(a) || (isMin ? a < b : a > b)) best = i;
  }
  return best;
}

gpuTest("max/min/argmax/argmin: random shapes and axes match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.integer({ min: 1, max: 7 }), fc.constantFrom(1, 257, 300)), {
        minLength: 1,
        maxLength: 3,
      }).filter((s) => prod(s) <= 4000),
      fc.integer({ min: 0, max: 2 }),
      fc.boolean(),
      fc.integer({ max: 999 }),
      async (shape, ax, keepDims, seed) => {
        const axis = ax % shape.length;
        // Rounded values make ties likely: the first index must win.
        const x = randArray(prod(shape), seed).map((v) => Math.round(v * 2));
        const res = await vals(() => {
          const t = tensor(x, shape);
          return [
            max(t, axis, keepDims),
            min(t, axis, keepDims),
            argmax(t, axis, keepDims),
            argmin(t, axis, keepDims),
            max(t),
            argmax(t),
          ];
        });
        const msg = `shape [${shape}] axis ${axis}`;
        const r = (f: (v: number[]) => number) => reduceRef(x, shape, [axis], f).data;
        assertClose(res[0], r((v) => Math.max(...v)), { msg });
        assertClose(res[1], r((v) => Math.min(...v)), { msg });
        assert.deepEqual([...res[2]], [...r((v) => argRef(v, false))], msg);
        assert.deepEqual([...res[3]], [...r((v) => argRef(v, true))], msg);
        assertClose(res[4], [Math.max(...x)], { msg });
        assert.deepEqual([...res[5]], [argRef([...x], false)], msg);
        assert.ok(res[2] instanceof Int32Array);
      },
    ),
    { numRuns: 16 },
  );
});

gpuTest("max/argmax: ties go to the first index, NaN propagates, shapes and dtypes", async () => {
  const t = [[3, 5, 5, 1], [2, 2, 2, 2], [-1, -7, -7, -1]];
  const long = new Float32Array(600).fill(4);
  long[333] = long[500] = 9;
  const res = await vals(() => {
    const x = tensor(t);
    const y = tensor(long, [1, 600]);
    const nan = div(tensor([1, 2, 3]), tensor([1, 0, 0])); // [1, Inf, Inf]
    const withNan = div(tensor([1, 0, 3]), tensor([1, 0, 1])); // [1, NaN, 3]
    const outs = [argmax(x, 1), argmin(x, 1), argmax(x, 0), argmax(y, 1), max(y, 1, true)];
    outs.push(argmax(nan), max(withNan), argmax(withNan), min(withNan), argmin(withNan));
    assert.equal(outs[0].dtype, "i32");
    assert.deepEqual(outs[4].shape, [1, 1]);
    assert.deepEqual(max(x, 0, false).shape, [4]);
    assert.deepEqual(argmax(x, undefined, true).shape, [1, 1]);
    return outs;
  });
  assert.deepEqual([...res[0]], [1, 0, 0]);
  assert.deepEqual([...res[1]], [3, 0, 1]);
  assert.deepEqual([...res[2]], [0, 0, 0, 1]);
  assert.deepEqual([...res[3]], [333]);
  assert.deepEqual([...res[4]], [9]);
  assert.deepEqual([...res[5]], [1]);
  assert.ok(Number.isNaN(res[6][0]) && Number.isNaN(res[8][0]));
  assert.deepEqual([...res[7]], [1]);
  assert.deepEqual([...res[9]], [1]);
});

gpuTest("max/min backward sends the gradient to the first extremal index only", async () => {
  const x = [[1, 4, 4], [2, 2, 0], [5, 5, 5]];
  const [g1, g2, g3] = await vals(() => {
    const grads = [];
    for (const f of [(t: Tensor<"f32">) => max(t, 1), (t: Tensor<"f32">) => min(t, 0)]) {
      const t = tensor(x);
      t.requiresGrad = true;
      backward(f(t), tensor([10, 20, 30]));
      grads.push(t.grad!);
    }
    const t = tensor(x);
    t.requiresGrad = true;
    backward(max(t));
    grads.push(t.grad!);
    return grads;
  });
  assert.deepEqual([...g1], [0, 10, 0, 20, 0, 0, 30, 0, 0]);
  assert.deepEqual([...g2], [10, 0, 0, 0, 20, 30, 0, 0, 0]);
  assert.deepEqual([...g3], [0, 0, 0, 0, 0, 0, 1, 0, 0]);
});

gpuTest("max/min: finite-difference gradients", async () => {
  // Distinct values, so the extremum does not switch within ±ε.
  const x = Float32Array.from({ length: 3 * 4 * 5 }, (_, i) => ((i * 37) % 60) * 0.1);
  for (const axis of [0, 1, 2, -1]) {
    await checkGrad((t) => max(t, axis), [x], [[3, 4, 5]], { eps: 1e-3 });
    await checkGrad((t) => min(t, axis, true), [x], [[3, 4, 5]], { eps: 1e-3 });
  }
  const long = Float32Array.from({ length: 2 * 300 }, (_, i) => ((i * 71) % 600) * 0.01);
  await checkGrad((t) => max(t, 1), [long], [[2, 300]], { eps: 1e-3 });
  await checkGrad((t) => min(t), [long], [[2, 300]], { eps: 1e-3 });
});

gpuTest("max/argmax: bad input names the op and shape", () => {
  tidy(() => {
    const t = tensor(new Float32Array(6), [2, 3]);
    assert.throws(() => max(t, 2), /wgrec max: axis 2 is out of range for rank 2/);
    assert.throws(
      () => argmax(tensor([], [2, 0]), 1),
      /wgrec argmax: cannot reduce an empty axis 1 of \[2, 0\]/,
    );
    assert.throws(() => min(tensor([], [0])), /wgrec min: cannot reduce an empty tensor of \[0\]/);
    assert.throws(
      () => argmin(tensor([1, 2], [2], "i32") as unknown as Tensor<"f32">),
      /wgrec argmin: input \[2\] has dtype i32, expected f32/,
    );
  });
});
