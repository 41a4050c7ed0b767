// where / maskedFill: three-way broadcasting against a CPU reference, conditions of every
// dtype (f32 −0 is false, NaN true), gradients of both branches and bad input.
import fc from "npm:fast-check@3";
import {
  backward,
  div,
  log,
  maskedFill,
  readAll,
  runtime,
  softmax,
  type Tensor,
  tensor,
  tidy,
  where,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { bIndex, broadcast, prod, unravel } from "../../cpu_ref.ts";

async function vals(f: () => Tensor[]): Promise<number[][]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out.map((a) => [...a]);
}

function whereRef(
  c: ArrayLike<number>,
  cs: number[],
  a: ArrayLike<number>,
  as: number[],
  b: ArrayLike<number>,
  bs: number[],
): number[] {
  const shape = broadcast(cs, as, bs)!;
  return Array.from({ length: prod(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return c[bIndex(idx, cs, shape)] ? a[bIndex(idx, as, shape)] : b[bIndex(idx, bs, shape)];
  });
}

/** Three shapes that broadcast together: a base shape with some dims set to 1 or dropped. */
const threeShapes = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom(1, 300)), {
    minLength: 0,
    maxLength: 4,
  })
  .filter((s) => prod(s) <= 3000)
  .chain((base) => {
    const variant = fc
      .tuple(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.nat(base.length))
      .map(([ones, drop]) => base.map((d, i) => (ones[i] ? 1 : d)).slice(drop));
    return fc.tuple(variant, variant, variant, fc.integer({ max: 999 }));
  });

gpuTest("where: random broadcast shapes and cond dtypes match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(threeShapes, async ([cs, as, bs, seed]) => {
      const a = randArray(prod(as), seed);
      const b = randArray(prod(bs), seed + 1);
      const c = randArray(prod(cs), seed + 2).map((v) => (v > 0 ? 1 : 0));
      const [yf, yi, yu, ints] = await vals(() => {
        const ta = tensor(a, as);
        const tb = tensor(b, bs);
        return [
          where(tensor(c, cs), ta, tb),
          where(tensor(Int32Array.from(c), cs), ta, tb),
          where(tensor(Uint32Array.from(c), cs), ta, tb),
          where(
            tensor(c, cs),
            tensor(Int32Array.from(a, Math.round), as),
            tensor(Int32Array.from(b), bs),
          ),
        ];
      });
      const ref = whereRef(c, cs, a, as, b, bs);
      const msg = `cond [${cs}] a [${as}] b [${bs}]`;
      assertClose(yf, ref, { msg });
      assertClose(yi, ref, { msg });
      assertClose(yu, ref, { msg });
      const ri = whereRef(c, cs, Int32Array.from(a, Math.round), as, Int32Array.from(b), bs);
      assert.deepEqual([...ints], ri, msg);
    }),
    { numRuns: 16 },
  );
});

gpuTest("where: f32 −0 is false; NaN, denormal and negative values are true", async () => {
  const [picks, nanPick] = await vals(() => [
    where(tensor([0, -0, 1e-40, -2, 0.5]), tensor([1]), tensor([0])),
    where(div(tensor([0]), tensor([0])), tensor([5]), tensor([6])),
  ]);
  assert.deepEqual([...picks], [0, 0, 1, 1, 1]);
  assert.deepEqual([...nanPick], [5]);
});

gpuTest("where backward routes the gradient to each branch and sums broadcast dims", async () => {
  const c = [1, 0, 1, 0, 0, 1];
  const [ga, gb] = await vals(() => {
    const a = tensor([[1], [2]]); // [2, 1] broadcast over columns
    const b = tensor([7, 8, 9]); // [3] broadcast over rows
    a.requiresGrad = b.requiresGrad = true;
    backward(where(tensor(c, [2, 3]), a, b), tensor([1, 2, 3, 4, 5, 6], [2, 3]));
    return [a.grad!, b.grad!];
  });
  assert.deepEqual([...ga], [1 + 3, 6]);
  assert.deepEqual([...gb], [4, 2 + 5, 0]);
});

gpuTest("where/maskedFill: finite-difference gradients", async () => {
  const c = randArray(3 * 4, 51).map((v) => (v > 0 ? 1 : 0));
  const a = randArray(3 * 4, 52);
  const b = randArray(4, 53);
  await checkGrad((x, y) => where(tensor(c, [3, 4]), x, y), [a, b], [[3, 4], [4]]);
  await checkGrad((x) => maskedFill(x, tensor(c.slice(0, 4), [4]), 2.5), [a], [[3, 4]]);
});

gpuTest("maskedFill: fills with constants (±Inf, ints) under a broadcast mask", async () => {
  const x = randArray(2 * 300, 61);
  const m = Int32Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 1 : 0));
  const [y, yi, yn] = await vals(() => [
    maskedFill(tensor(x, [2, 300]), tensor(m, [300]), -Infinity),
    maskedFill(tensor([1, 2, 3], [3], "i32"), tensor([0, 1, 1]), -7),
    maskedFill(tensor([1, 2], [2], "u32"), tensor([1, 0], [2], "u32"), 4294967295),
  ]);
  assert.deepEqual([...y], [...x].map((v, i) => (m[i % 300] ? -Infinity : v)));
  assert.deepEqual([...yi], [1, -7, -7]);
  assert.deepEqual([...yn], [4294967295, 2]);
});

gpuTest("maskedFill: a deliberate ±Inf fill is not flagged by numerics-check mode", async () => {
  const rt = runtime();
  rt.checkNumerics = true;
  try {
    const [p] = await vals(() => [
      softmax(maskedFill(tensor([1, 2, 3]), tensor([0, 1, 0], [3], "i32"), -Infinity)),
    ]);
    assert.equal(p[1], 0);
    // …while a non-finite value an op computes still is.
    const bad = tidy(() => log(tensor([0])));
    await assert.rejects(() => bad.read(), /wgrec numerics: op 'log'/);
    bad.dispose();
  } finally {
    rt.checkNumerics = false;
  }
});

gpuTest("where: empty and scalar operands", async () => {
  const [e, s] = await vals(() => [
    where(tensor([], [0, 3]), tensor([1, 2, 3]), tensor(0)),
    where(tensor(1), tensor(4), tensor(5)),
  ]);
  assert.equal(e.length, 0);
  assert.deepEqual([...s], [4]);
});

gpuTest("where/maskedFill: bad input names the op and shapes", () => {
  tidy(() => {
    const a = tensor(new Float32Array(6), [2, 3]);
    assert.throws(
      () => where(tensor([1, 0]), a, a),
      /wgrec where: shapes \[2\], \[2, 3\], \[2, 3\] \(condition, then values\) do not broadcast/,
    );
    assert.throws(
      () => where(tensor([1]), a, tensor([1, 2, 3], [3], "i32") as unknown as Tensor<"f32">),
      /wgrec where: values \[2, 3\] \(f32\) and \[3\] \(i32\) have different dtypes/,
    );
    assert.throws(
      () => maskedFill(tensor([1, 2, 3]), tensor(new Float32Array(6), [2, 3]), 0),
      /wgrec maskedFill: mask \[2, 3\] does not broadcast to input \[3\]/,
    );
    assert.throws(
      () => maskedFill(a, tensor([1, 0]), 1),
      /wgrec maskedFill: shapes \[2, 3\] and \[2\] do not broadcast/,
    );
    assert.throws(
      () => maskedFill(tensor([1], [1], "i32"), tensor([1]), 0.5),
      /wgrec maskedFill: value 0.5 does not fit input \[1\] of dtype i32/,
    );
  });
});
