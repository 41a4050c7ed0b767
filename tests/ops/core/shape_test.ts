// Layout ops: reshape, permute, transpose, slice, concat, broadcastTo on every dtype against
// CPU references over random shapes (size-1 and empty dims), gradients and bad input.
import fc from "npm:fast-check@3";
import {
  broadcastTo,
  concat,
  type DType,
  permute,
  readAll,
  reshape,
  slice,
  type Tensor,
  tensor,
  tidy,
  transpose,
} from "../../../internal.ts";
import { assert, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { bIndex, permuteRef, prod, strides, unravel } from "../../cpu_ref.ts";

async function vals(f: () => Tensor[]): Promise<number[][]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out.map((a) => [...a]);
}

/** Distinct values (exactly representable in f32, i32 and u32), so any misplacement shows. */
const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

const shapeArb = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(1), fc.constant(257)), {
    minLength: 1,
    maxLength: 5,
  })
  .filter((s) => prod(s) <= 5000);

function sliceRef(x: ArrayLike<number>, shape: number[], begin: number[], size: number[]) {
  const st = strides(shape);
  return Array.from({ length: prod(size) }, (_, i) => {
    const idx = unravel(i, size);
    return x[idx.reduce((a, v, d) => a + (v + begin[d]) * st[d], 0)];
  });
}

gpuTest(
  "permute/transpose: random shapes, permutations and dtypes match the CPU reference",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.shuffledSubarray([...s.keys()], {
              minLength: s.length,
            }),
          )
        ),
        fc.constantFrom<DType[]>("f32", "i32", "u32"),
        async ([shape, perm], dtype) => {
          const x = iota(prod(shape));
          const [p, t] = await vals(() => {
            const tx = tensor(x, shape, dtype);
            const out = [permute(tx, perm)];
            if (shape.length >= 2) out.push(transpose(tx));
            assert.deepEqual(out[0].shape, perm.map((i) => shape[i]));
            assert.equal(out[0].dtype, dtype);
            return out;
          });
          assert.deepEqual(p, [...permuteRef(x, shape, perm)], `[${shape}] perm [${perm}]`);
          if (shape.length >= 2) {
            const tp = [...shape.keys()];
            [tp[tp.length - 2], tp[tp.length - 1]] = [tp[tp.length - 1], tp[tp.length - 2]];
            assert.deepEqual(t, [...permuteRef(x, shape, tp)], `transpose [${shape}]`);
          }
        },
      ),
      { numRuns: 16 },
    );
  },
);

gpuTest("slice: random blocks (incl. empty and to-the-end) match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      shapeArb.chain((s) =>
        fc.tuple(
          fc.constant(s),
          fc.tuple(...s.map((d) => fc.integer({ min: 0, max: d }))).chain((b) =>
            fc.tuple(
              fc.constant(b),
              fc.tuple(...s.map((d, i) => fc.integer({ min: -1, max: d - b[i] }))),
            )
          ),
        )
      ),
      async ([shape, [begin, size]]) => {
        const x = iota(prod(shape));
        const sz = size.map((v, i) => (v === -1 ? shape[i] - begin[i] : v));
        const [y] = await vals(() => [slice(tensor(x, shape, "i32"), begin, size)]);
        assert.deepEqual(y, sliceRef(x, shape, begin, sz), `[${shape}] ${begin} + ${size}`);
      },
    ),
    { numRuns: 16 },
  );
});

gpuTest("concat: random parts along a random axis match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      shapeArb.chain((s) =>
        fc.tuple(
          fc.constant(s),
          fc.nat(s.length - 1),
          fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
        )
      ),
      async ([shape, axis, widths]) => {
        const shapes = widths.map((w) => shape.map((d, i) => (i === axis ? w : d)));
        const parts = shapes.map((ps, k) => iota(prod(ps)).map((v) => v + 1000 * k));
        const [y] = await vals(() => [
          concat(parts.map((p, k) => tensor(p, shapes[k])), axis - shape.length),
        ]);
        // Reference: for each output index, find the part along the axis.
        const outShape = shape.map((d, i) => (i === axis ? widths.reduce((a, b) => a + b) : d));
        const ref = Array.from({ length: prod(outShape) }, (_, i) => {
          const idx = unravel(i, outShape);
          let k = 0;
          let at = idx[axis];
          while (at >= widths[k]) at -= widths[k++];
          idx[axis] = at;
          return parts[k][idx.reduce((a, v, d) => a + v * strides(shapes[k])[d], 0)];
        });
        assert.deepEqual(y, ref, `[${shape}] axis ${axis} widths ${widths}`);
      },
    ),
    { numRuns: 16 },
  );
});

gpuTest("broadcastTo and reshape: random shapes match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      shapeArb.chain((s) =>
        fc.tuple(
          fc.constant(s),
          fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }),
          fc.nat(s.length),
          fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        )
      ),
      async ([target, ones, drop, extra]) => {
        const src = target.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
        const x = iota(prod(src));
        const full = [...extra, ...target];
        const [b, r] = await vals(() => {
          const t = tensor(x, src, "u32");
          return [broadcastTo(t, full), reshape(t, [-1])];
        });
        const ref = Array.from(
          { length: prod(full) },
          (_, i) => x[bIndex(unravel(i, full), src, full)],
        );
        assert.deepEqual(b, ref, `[${src}] → [${full}]`);
        assert.deepEqual(r, [...x]);
      },
    ),
    { numRuns: 16 },
  );
});

gpuTest("reshape: −1, scalars, empty tensors; unchanged shape returns the input", async () => {
  const [a, b, c] = await vals(() => {
    const x = tensor(iota(12), [3, 4]);
    assert.equal(reshape(x, [3, 4]), x);
    const outs = [
      reshape(x, [2, -1, 2]),
      reshape(tensor([5]), []),
      reshape(tensor([], [0, 3]), [3, -1]),
    ];
    assert.deepEqual(outs[0].shape, [2, 3, 2]);
    assert.deepEqual(outs[1].shape, []);
    assert.deepEqual(outs[2].shape, [3, 0]);
    return outs;
  });
  assert.deepEqual(a, [...iota(12)]);
  assert.deepEqual(b, [5]);
  assert.deepEqual(c, []);
});

gpuTest("layout ops: finite-difference gradients", async () => {
  const x = randArray(2 * 3 * 4, 81);
  const s = [2, 3, 4];
  await checkGrad((t) => reshape(t, [4, -1]), [x], [s]);
  await checkGrad((t) => permute(t, [2, 0, 1]), [x], [s]);
  await checkGrad((t) => transpose(t), [x], [s]);
  await checkGrad((t) => slice(t, [1, 0, 1], [1, -1, 2]), [x], [s]);
  await checkGrad((t) => broadcastTo(t, [5, 2, 3, 4]), [x], [s]);
  await checkGrad((t) => broadcastTo(t, [2, 3, 4]), [randArray(3, 82)], [[3, 1]]);
  const y = randArray(2 * 2 * 4, 83);
  await checkGrad((a, b) => concat([a, b, a], 1), [x, y], [s, [2, 2, 4]]);
});

gpuTest("layout ops: bad input names the op and shapes", () => {
  tidy(() => {
    const x = tensor(iota(6), [2, 3]);
    assert.throws(
      () => reshape(x, [4, 2]),
      /wgrec reshape: cannot reshape \[2, 3\] \(6\) to \[4, 2\]/,
    );
    assert.throws(() => reshape(x, [4, -1]), /wgrec reshape: cannot reshape \[2, 3\]/);
    assert.throws(
      () => permute(x, [0, 0]),
      /wgrec permute: \[0, 0\] is not a permutation of 2 axes/,
    );
    assert.throws(() => permute(x, [1]), /wgrec permute: \[1\] is not a permutation/);
    assert.throws(() => transpose(tensor([1, 2])), /wgrec transpose: input \[2\] has rank < 2/);
    assert.throws(
      () => slice(x, [1, 2], [2, 1]),
      /wgrec slice: \[1, 2\] \+ \[2, 1\] is outside \[2, 3\]/,
    );
    assert.throws(
      () => slice(x, [0], [1]),
      /wgrec slice: begin\/size must have 2 entries for \[2, 3\]/,
    );
    assert.throws(
      () => concat([x, tensor(iota(4), [2, 2])], 0),
      /wgrec concat: f32 \[2, 2\] does not match f32 \[2, 3\] outside axis 0/,
    );
    assert.throws(
      () => concat([x, tensor(iota(6), [2, 3], "i32") as unknown as Tensor<"f32">], 1),
      /wgrec concat: i32 \[2, 3\] does not match f32 \[2, 3\]/,
    );
    assert.throws(() => concat([x], 2), /wgrec concat: axis 2 is out of range for rank 2/);
    assert.throws(() => concat([]), /wgrec concat: no inputs/);
    assert.throws(
      () => broadcastTo(x, [3, 3]),
      /wgrec broadcastTo: shapes \[2, 3\] and \[3, 3\] do not broadcast/,
    );
    assert.throws(
      () => broadcastTo(x, [3]),
      /wgrec broadcastTo: \[2, 3\] does not broadcast to \[3\]/,
    );
  });
});
