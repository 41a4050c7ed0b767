// conv2d / convTranspose2d (im2col + matmul): CPU references over awkward shapes (1, primes,
// strides, padding, dilation, groups, both layouts), finite-difference gradients, bad input.
import fc from "npm:fast-check@3";
import {
  backward,
  conv2d,
  convTranspose2d,
  readAll,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { conv2dRef, convTransposeRef, type G, toNhwc } from "./conv_ref.ts";

async function vals(f: () => Tensor[]): Promise<Float32Array[]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out as Float32Array[];
}

const geom = fc.record({
  n: fc.constantFrom(1, 2),
  cg: fc.constantFrom(1, 2, 3),
  og: fc.constantFrom(1, 3, 5),
  g: fc.constantFrom(1, 1, 2),
  h: fc.integer({ min: 3, max: 7 }),
  w: fc.integer({ min: 3, max: 7 }),
  kh: fc.constantFrom(1, 2, 3),
  kw: fc.constantFrom(1, 3),
  s: fc.constantFrom(1, 2),
  p: fc.constantFrom(0, 1),
  d: fc.constantFrom(1, 1, 2),
  seed: fc.integer({ min: 0, max: 999 }),
});

gpuTest("conv2d: random geometries in NCHW and NHWC match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(geom, async (r) => {
      const q: G = {
        n: r.n,
        c: r.cg * r.g,
        h: r.h,
        w: r.w,
        cout: r.og * r.g,
        kh: r.kh,
        kw: r.kw,
        s: [r.s, r.s],
        p: [r.p, r.p],
        d: [r.d, 1],
        g: r.g,
      };
      if (q.h + 2 * q.p[0] < q.d[0] * (q.kh - 1) + 1 || q.w + 2 * q.p[1] < q.kw) return;
      const x = randArray(q.n * q.c * q.h * q.w, r.seed);
      const wt = randArray(q.cout * r.cg * q.kh * q.kw, r.seed + 1);
      const b = randArray(q.cout, r.seed + 2);
      const ref = conv2dRef(x, wt, b, q);
      const opts = { stride: q.s, padding: q.p, dilation: q.d, groups: q.g };
      const [y, yh] = await vals(() => [
        conv2d(
          tensor(x, [q.n, q.c, q.h, q.w]),
          tensor(wt, [q.cout, r.cg, q.kh, q.kw]),
          tensor(b),
          opts,
        ),
        conv2d(
          tensor(toNhwc(x, q.n, q.c, q.h, q.w), [q.n, q.h, q.w, q.c]),
          tensor(wt, [q.cout, r.cg, q.kh, q.kw]),
          tensor(b),
          { ...opts, layout: "NHWC" },
        ),
      ]);
      const msg = JSON.stringify(q);
      assertClose(y, ref.y, { atol: 1e-4, rtol: 1e-4, msg });
      assertClose(yh, toNhwc(ref.y, q.n, q.cout, ref.oh, ref.ow), { atol: 1e-4, rtol: 1e-4, msg });
    }),
    { numRuns: 10 },
  );
});

gpuTest("convTranspose2d: random geometries match the CPU reference (both layouts)", async () => {
  await fc.assert(
    fc.asyncProperty(geom, fc.constantFrom(0, 1), async (r, opad) => {
      const q: G = {
        n: r.n,
        c: r.cg * r.g,
        h: r.h - 2,
        w: r.w - 2,
        cout: r.og * r.g,
        kh: r.kh,
        kw: r.kw,
        s: [r.s, r.s],
        p: [0, r.p],
        d: [1, r.d],
        g: r.g,
      };
      const op: [number, number] = [opad < r.s ? opad : 0, 0];
      const oh = (q.h - 1) * q.s[0] - 2 * q.p[0] + q.d[0] * (q.kh - 1) + op[0] + 1;
      const ow = (q.w - 1) * q.s[1] - 2 * q.p[1] + q.d[1] * (q.kw - 1) + op[1] + 1;
      if (oh < 1 || ow < 1) return;
      const x = randArray(q.n * q.c * q.h * q.w, r.seed);
      const wt = randArray(q.c * r.og * q.kh * q.kw, r.seed + 1);
      const ref = convTransposeRef(x, wt, null, q, op);
      const opts = { stride: q.s, padding: q.p, dilation: q.d, groups: q.g, outputPadding: op };
      const [y, yh] = await vals(() => [
        convTranspose2d(
          tensor(x, [q.n, q.c, q.h, q.w]),
          tensor(wt, [q.c, r.og, q.kh, q.kw]),
          null,
          opts,
        ),
        convTranspose2d(
          tensor(toNhwc(x, q.n, q.c, q.h, q.w), [q.n, q.h, q.w, q.c]),
          tensor(wt, [q.c, r.og, q.kh, q.kw]),
          null,
          { ...opts, layout: "NHWC" },
        ),
      ]);
      const msg = JSON.stringify({ ...q, op });
      assertClose(y, ref.y, { atol: 1e-4, rtol: 1e-4, msg });
      assertClose(yh, toNhwc(ref.y, q.n, q.cout, ref.oh, ref.ow), { atol: 1e-4, rtol: 1e-4, msg });
    }),
    { numRuns: 10 },
  );
});

gpuTest(
  "conv2d and convTranspose2d: finite-difference gradients (input, weight, bias)",
  async () => {
    const q = { stride: 2, padding: 1, groups: 2 };
    await checkGrad(
      (x, w, b) => conv2d(x, w, b, q),
      [randArray(2 * 4 * 5 * 5, 1), randArray(6 * 2 * 3 * 3, 2), randArray(6, 3)],
      [[2, 4, 5, 5], [6, 2, 3, 3], [6]],
    );
    await checkGrad(
      (x, w, b) => conv2d(x, w, b, { padding: [0, 1], dilation: [2, 1], layout: "NHWC" }),
      [randArray(1 * 5 * 4 * 3, 4), randArray(2 * 3 * 2 * 3, 5), randArray(2, 6)],
      [[1, 5, 4, 3], [2, 3, 2, 3], [2]],
    );
    await checkGrad(
      (x, w, b) => convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
      [randArray(2 * 3 * 3 * 2, 7), randArray(3 * 2 * 3 * 3, 8), randArray(2, 9)],
      [[2, 3, 3, 2], [3, 2, 3, 3], [2]],
    );
  },
);

gpuTest("conv2d: 1×1 NHWC takes no columns and still matches; gradient reaches x", async () => {
  const x = randArray(2 * 3 * 3 * 4, 11);
  const w = randArray(5 * 4, 12);
  const ref = conv2dRef(x, w, null, {
    n: 2,
    c: 4,
    h: 3,
    w: 3,
    cout: 5,
    kh: 1,
    kw: 1,
    s: [1, 1],
    p: [0, 0],
    d: [1, 1],
    g: 1,
  });
  // x given NCHW to the reference; the GPU gets it NHWC.
  const [y] = await vals(() => [
    conv2d(tensor(toNhwc(x, 2, 4, 3, 3), [2, 3, 3, 4]), tensor(w, [5, 4, 1, 1]), null, {
      layout: "NHWC",
    }),
  ]);
  assertClose(y, toNhwc(ref.y, 2, 5, 3, 3), { atol: 1e-5 });
  await tidy(async () => {
    const xt = tensor(randArray(18, 1), [1, 3, 3, 2]);
    xt.requiresGrad = true;
    backward(sum(conv2d(xt, tensor(randArray(2, 2), [1, 2, 1, 1]), null, { layout: "NHWC" })));
    assert.equal((await xt.grad!.read()).length, 18);
    xt.grad!.dispose();
  });
});

gpuTest("conv2d: bad input names the op and the shapes", () => {
  tidy(() => {
    const x = tensor(randArray(2 * 4 * 5 * 5, 1), [2, 4, 5, 5]);
    assert.throws(
      () => conv2d(x, tensor(randArray(6 * 3 * 3 * 3, 1), [6, 3, 3, 3])),
      /conv2d.*groups 1/,
    );
    assert.throws(
      () => conv2d(x, tensor(randArray(8, 1), [2, 4, 1, 1]), tensor([1, 2, 3])),
      /bias \[3\]/,
    );
    assert.throws(
      () => conv2d(x, tensor(randArray(2 * 4 * 7 * 7, 1), [2, 4, 7, 7])),
      /smaller than the window/,
    );
    assert.throws(() => conv2d(tensor([1, 2], [2]), tensor([1], [1, 1, 1, 1])), /rank 4/);
    assert.throws(
      () =>
        convTranspose2d(x, tensor(randArray(4 * 9, 1), [4, 1, 3, 3]), null, { outputPadding: 1 }),
      /outputPadding/,
    );
  });
});
