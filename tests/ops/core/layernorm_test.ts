// layerNorm: CPU reference over random shapes (short rows take the one-invocation-per-row
// path, long rows the workgroup path), gradients of x, γ and β, determinism and bad input.
import fc from "npm:fast-check@3";
import { backward, layerNorm, readAll, type Tensor, tensor, tidy } from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { prod } from "../../cpu_ref.ts";

async function vals(f: () => Tensor[]): Promise<Float32Array[]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out as Float32Array[];
}

/** y, and x̂ / rstd per row, in float64. */
function layerNormRef(
  x: Float32Array,
  n: number,
  gamma?: Float32Array,
  beta?: Float32Array,
  eps = 1e-5,
) {
  const rows = n === 0 ? 0 : x.length / n;
  const y = new Float32Array(x.length);
  const xhat = new Float64Array(x.length);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const row = x.subarray(r * n, (r + 1) * n);
    const mean = row.reduce((a, v) => a + v, 0) / n;
    const v = row.reduce((a, x) => a + (x - mean) ** 2, 0) / n;
    rstd[r] = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < n; c++) {
      xhat[r * n + c] = (row[c] - mean) * rstd[r];
      y[r * n + c] = xhat[r * n + c] * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0);
    }
  }
  return { y, xhat, rstd, rows };
}

const rowLen = fc.constantFrom(1, 2, 3, 16, 31, 32, 33, 100, 255, 256, 257, 513);

gpuTest("layerNorm: random shapes with and without γ/β match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 2 }),
      rowLen,
      fc.integer({ min: 0, max: 1000 }),
      async (lead, n, seed) => {
        const shape = [...lead, n];
        // An offset mean tests the two-pass variance.
        const x = randArray(prod(shape), seed, 2).map((v) => v + 50);
        const g = randArray(n, seed + 1);
        const b = randArray(n, seed + 2);
        const [y0, y1, y2] = await vals(() => {
          const t = tensor(x, shape);
          return [
            layerNorm(t),
            layerNorm(t, tensor(g), tensor(b), 1e-3),
            layerNorm(t, undefined, tensor(b)),
          ];
        });
        const msg = `shape [${shape}]`;
        const tol = { atol: 2e-4, rtol: 1e-3, msg };
        assertClose(y0, layerNormRef(x, n).y, tol);
        assertClose(y1, layerNormRef(x, n, g, b, 1e-3).y, tol);
        assertClose(y2, layerNormRef(x, n, undefined, b).y, tol);
      },
    ),
    { numRuns: 12 },
  );
});

gpuTest("layerNorm: constant rows give β (variance 0 is guarded by eps)", async () => {
  const [y] = await vals(() => [
    layerNorm(tensor([3, 3, 3, 3, -1, -1, -1, -1], [2, 4]), undefined, tensor([1, 2, 3, 4])),
  ]);
  assert.deepEqual([...y], [1, 2, 3, 4, 1, 2, 3, 4]);
});

gpuTest("layerNorm backward matches the CPU formula for x, γ and β", async () => {
  for (const [rows, n] of [[5, 7], [3, 300], [70, 3]]) {
    const x = randArray(rows * n, 21);
    const g = randArray(n, 22);
    const b = randArray(n, 23);
    const gy = randArray(rows * n, 24);
    const [gx, gg, gb] = await vals(() => {
      const ts = [tensor(x, [rows, n]), tensor(g), tensor(b)];
      for (const t of ts) t.requiresGrad = true;
      backward(layerNorm(ts[0], ts[1], ts[2]), tensor(gy, [rows, n]));
      return ts.map((t) => t.grad!);
    });
    const { xhat, rstd } = layerNormRef(x, n, g, b);
    const rx = new Float32Array(rows * n);
    const rg = new Float64Array(n);
    const rb = new Float64Array(n);
    for (let r = 0; r < rows; r++) {
      let a = 0;
      let c2 = 0;
      for (let c = 0; c < n; c++) {
        const gg = gy[r * n + c] * g[c];
        a += gg / n;
        c2 += (gg * xhat[r * n + c]) / n;
        rg[c] += gy[r * n + c] * xhat[r * n + c];
        rb[c] += gy[r * n + c];
      }
      for (let c = 0; c < n; c++) {
        rx[r * n + c] = rstd[r] * (gy[r * n + c] * g[c] - a - xhat[r * n + c] * c2);
      }
    }
    const msg = `[${rows}, ${n}]`;
    assertClose(gx, rx, { atol: 1e-4, rtol: 1e-3, msg: `gx ${msg}` });
    assertClose(gg, rg, { atol: 1e-4, rtol: 1e-3, msg: `gγ ${msg}` });
    assertClose(gb, rb, { atol: 1e-4, rtol: 1e-3, msg: `gβ ${msg}` });
  }
});

gpuTest(
  "layerNorm: γ/β gradients are bit-identical across runs (deterministic reduction)",
  async () => {
    const rows = 1000;
    const n = 5;
    const x = randArray(rows * n, 31);
    const gy = randArray(rows * n, 32);
    const runOnce = () =>
      vals(() => {
        const g = tensor(new Float32Array(n).fill(1.5));
        const b = tensor(new Float32Array(n));
        g.requiresGrad = b.requiresGrad = true;
        backward(layerNorm(tensor(x, [rows, n]), g, b), tensor(gy, [rows, n]));
        return [g.grad!, b.grad!];
      });
    const [a, b] = [await runOnce(), await runOnce()];
    assert.deepEqual([...a[0]], [...b[0]]);
    assert.deepEqual([...a[1]], [...b[1]]);
  },
);

gpuTest("layerNorm: finite-difference gradients of x, γ and β", async () => {
  for (const shape of [[4, 6], [2, 3, 40]]) {
    const n = shape.at(-1)!;
    const x = randArray(prod(shape), 41);
    const g = randArray(n, 42);
    const b = randArray(n, 43);
    await checkGrad((t, gm, bt) => layerNorm(t, gm, bt), [x, g, b], [shape, [n], [n]]);
    await checkGrad((t) => layerNorm(t), [x], [shape]);
    await checkGrad((t, gm) => layerNorm(t, gm), [x, g], [shape, [n]]);
  }
});

gpuTest("layerNorm: empty dims", async () => {
  const [a, gg] = await vals(() => {
    const g = tensor([1, 2, 3]);
    g.requiresGrad = true;
    const y = layerNorm(tensor([], [0, 3]), g);
    backward(y, tensor([], [0, 3]));
    return [y, g.grad!];
  });
  assert.equal(a.length, 0);
  assert.deepEqual([...gg], [0, 0, 0]);
});

gpuTest("layerNorm: bad input names the op and shapes", () => {
  tidy(() => {
    const x = tensor(new Float32Array(6), [2, 3]);
    assert.throws(
      () => layerNorm(x, tensor([1, 2])),
      /wgrec layerNorm: gamma \[2\] does not match input \[2, 3\], expected \[3\]/,
    );
    assert.throws(
      () => layerNorm(x, undefined, tensor([1, 2, 3, 4], [1, 4])),
      /wgrec layerNorm: beta \[1, 4\] does not match input \[2, 3\]/,
    );
    assert.throws(
      () => layerNorm(x, tensor([1, 2, 3], [3], "i32") as unknown as Tensor<"f32">),
      /wgrec layerNorm: gamma \[3\] has dtype i32, expected f32/,
    );
    assert.throws(() => layerNorm(tensor(3)), /wgrec layerNorm: input \[\] has rank 0/);
    assert.throws(() => layerNorm(x, undefined, undefined, -1), /wgrec layerNorm: eps -1/);
  });
});
