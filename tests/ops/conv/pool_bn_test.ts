// avgPool2d / maxPool2d and batchNorm: CPU references over awkward shapes and both layouts,
// gradients (finite differences; max pooling on tie-free inputs), running statistics, bad input.
import fc from "npm:fast-check@3";
import {
  avgPool2d,
  batchNorm,
  maxPool2d,
  readAll,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { toNhwc } from "./conv_ref.ts";

async function vals(f: () => Tensor[]): Promise<Float32Array[]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out as Float32Array[];
}

/** PyTorch avg_pool2d (count_include_pad) / max_pool2d over NCHW, float64. */
function poolRef(
  x: Float32Array,
  [n, c, h, w]: number[],
  k: number,
  s: number,
  p: number,
  isMax: boolean,
) {
  const oh = Math.floor((h + 2 * p - k) / s) + 1;
  const ow = Math.floor((w + 2 * p - k) / s) + 1;
  const y = new Float32Array(n * c * oh * ow);
  for (let i = 0; i < n * c; i++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        let acc = isMax ? -Infinity : 0;
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const iy = oy * s - p + ky;
            const ix = ox * s - p + kx;
            if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
            const v = x[(i * h + iy) * w + ix];
            acc = isMax ? Math.max(acc, v) : acc + v;
          }
        }
        y[(i * oh + oy) * ow + ox] = isMax ? acc : acc / (k * k);
      }
    }
  }
  return { y, oh, ow };
}

gpuTest(
  "pooling: random shapes, kernels, strides and padding match the CPU reference",
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2),
        fc.constantFrom(1, 3, 5),
        fc.integer({ min: 2, max: 9 }),
        fc.integer({ min: 2, max: 9 }),
        fc.constantFrom(1, 2, 3),
        fc.constantFrom(1, 2, 3),
        fc.integer({ min: 0, max: 999 }),
        async (n, c, h, w, k, s, seed) => {
          const p = Math.min(1, Math.floor(k / 2));
          if (h + 2 * p < k || w + 2 * p < k) return;
          const shape = [n, c, h, w];
          const x = randArray(n * c * h * w, seed);
          const a = poolRef(x, shape, k, s, p, false);
          const m = poolRef(x, shape, k, s, p, true);
          const o = { stride: s, padding: p };
          const [ya, ym, yah, ymh] = await vals(() => {
            const t = tensor(x, shape);
            const th = tensor(toNhwc(x, n, c, h, w), [n, h, w, c]);
            return [
              avgPool2d(t, k, o),
              maxPool2d(t, k, o),
              avgPool2d(th, k, { ...o, layout: "NHWC" }),
              maxPool2d(th, k, { ...o, layout: "NHWC" }),
            ];
          });
          const msg = JSON.stringify({ shape, k, s, p });
          assertClose(ya, a.y, { msg });
          assertClose(ym, m.y, { msg });
          assertClose(yah, toNhwc(a.y, n, c, a.oh, a.ow), { msg });
          assertClose(ymh, toNhwc(m.y, n, c, m.oh, m.ow), { msg });
        },
      ),
      { numRuns: 12 },
    );
  },
);

gpuTest("pooling: gradients match finite differences (overlapping windows, padding)", async () => {
  // Distinct, well-separated values: no ties, so max pooling is differentiable there.
  const x = Float32Array.from({ length: 2 * 3 * 5 * 4 }, (_, i) => ((i * 37) % 120) / 10);
  await checkGrad((t) => maxPool2d(t, 3, { stride: 2, padding: 1 }), [x], [[2, 3, 5, 4]], {
    eps: 1e-3,
  });
  await checkGrad((t) => avgPool2d(t, [2, 3], { stride: 1, padding: [1, 1] }), [x], [[2, 3, 5, 4]]);
  await checkGrad(
    (t) => maxPool2d(t, 2, { layout: "NHWC" }),
    [x],
    [[2, 5, 4, 3]],
    { eps: 1e-3 },
  );
});

/** PyTorch batch_norm (training: batch stats, biased var) over a channel axis. */
function bnRef(x: Float32Array, shape: number[], axis: number, g: Float32Array, b: Float32Array) {
  const c = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, v) => a * v, 1);
  const y = new Float32Array(x.length);
  const mean = new Float64Array(c);
  const vr = new Float64Array(c);
  const cnt = x.length / c;
  for (let i = 0; i < x.length; i++) mean[Math.floor(i / inner) % c] += x[i] / cnt;
  for (let i = 0; i < x.length; i++) {
    const k = Math.floor(i / inner) % c;
    vr[k] += (x[i] - mean[k]) ** 2 / cnt;
  }
  for (let i = 0; i < x.length; i++) {
    const k = Math.floor(i / inner) % c;
    y[i] = (x[i] - mean[k]) / Math.sqrt(vr[k] + 1e-5) * g[k] + b[k];
  }
  return { y, mean, vr, cnt };
}

gpuTest("batchNorm: training and evaluation over random shapes and axes", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom(1, 2, 3, 7), { minLength: 1, maxLength: 3 }),
      fc.constantFrom(1, 3, 5),
      fc.integer({ min: 0, max: 999 }),
      async (rest, c, seed) => {
        const shape = [2, c, ...rest];
        const x = randArray(shape.reduce((a, v) => a * v), seed, 2).map((v) => v + 3);
        const g = randArray(c, seed + 1);
        const b = randArray(c, seed + 2);
        const ref = bnRef(x, shape, 1, g, b);
        const [y, rm, rv, ye] = await vals(() => {
          const rm = zeros([c]);
          const rv = tensor(new Float32Array(c).fill(1));
          const opts = { gamma: tensor(g), beta: tensor(b), runningMean: rm, runningVar: rv };
          const y = batchNorm(tensor(x, shape), opts);
          const ye = batchNorm(tensor(x, shape), { ...opts, training: false });
          return [y, rm, rv, ye];
        });
        const msg = `shape [${shape}]`;
        assertClose(y, ref.y, { atol: 1e-4, rtol: 1e-3, msg });
        const wantRm = [...ref.mean].map((m) => 0.1 * m);
        const wantRv = [...ref.vr].map((v) => 0.9 + 0.1 * v * ref.cnt / (ref.cnt - 1));
        assertClose(rm, wantRm, { atol: 1e-5, rtol: 1e-4, msg });
        assertClose(rv, wantRv, { atol: 1e-5, rtol: 1e-4, msg });
        const wantE = x.map((v, i) => {
          const k = Math.floor(i / (x.length / shape[0] / c)) % c;
          return (v - wantRm[k]) / Math.sqrt(wantRv[k] + 1e-5) * g[k] + b[k];
        });
        assertClose(ye, wantE, { atol: 1e-4, rtol: 1e-3, msg });
      },
    ),
    { numRuns: 10 },
  );
});

gpuTest("batchNorm: gradients of x, γ, β (training, evaluation, channels last)", async () => {
  const shape = [3, 4, 5];
  const n = 60;
  await checkGrad(
    (x, g, b) => batchNorm(x, { gamma: g, beta: b }),
    [randArray(n, 1), randArray(4, 2), randArray(4, 3)],
    [shape, [4], [4]],
  );
  await checkGrad(
    (x, g) => batchNorm(x, { gamma: g, axis: -1 }),
    [randArray(n, 4), randArray(5, 5)],
    [shape, [5]],
  );
  const rm = tensor(randArray(4, 6));
  const rv = tensor(randArray(4, 7).map((v) => 1 + v * v));
  await checkGrad(
    (x, b) => batchNorm(x, { beta: b, runningMean: rm, runningVar: rv, training: false }),
    [randArray(n, 8), randArray(4, 9)],
    [shape, [4]],
  );
  rm.dispose();
  rv.dispose();
});

gpuTest("pooling and batchNorm: bad input names the op and what was expected", () => {
  tidy(() => {
    const x = tensor(randArray(2 * 3 * 4 * 4, 1), [2, 3, 4, 4]);
    assert.throws(() => maxPool2d(x, 5), /maxPool2d.*smaller than the window/);
    assert.throws(() => avgPool2d(x, 2, { padding: 2 }), /avgPool2d: padding/);
    assert.throws(() => avgPool2d(tensor([1, 2], [2]), 1), /rank 4/);
    assert.throws(() => batchNorm(x, { gamma: tensor([1, 2]) }), /gamma \[2\].*expected \[3\]/);
    assert.throws(() => batchNorm(x, { training: false }), /evaluation mode needs/);
  });
});
