// softmax, logSoftmax and logSumExp: CPU references, random shapes (short rows take the
// one-invocation-per-row path, long rows the workgroup path), gradients and bad input.
import fc from "npm:fast-check@3";
import {
  backward,
  logSoftmax,
  logSumExp,
  maskedFill,
  readAll,
  softmax,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";
import { foldAxis, logSumExpRow, mapAxis, prod, softmaxRow } from "../../cpu_ref.ts";

/** Row lengths around the kernel's thresholds (32: small rows, 256: workgroup size). */
const rowLen = fc.constantFrom(1, 2, 5, 31, 32, 33, 97, 255, 256, 257, 600);
const lead = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 2 });

/** Runs f in a scope and reads its results back (then frees them). */
async function vals(f: () => Tensor[]): Promise<Float32Array[]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out as Float32Array[];
}

gpuTest("softmax: small example matches hand-computed values", async () => {
  const [y] = await vals(() => [softmax(tensor([[1, 2, 3], [0, 0, 0]]))]);
  const e = [1, Math.E, Math.E ** 2];
  const s = e[0] + e[1] + e[2];
  assertClose(y, [...e.map((v) => v / s), 1 / 3, 1 / 3, 1 / 3]);
});

gpuTest(
  "softmax/logSoftmax/logSumExp: random shapes and axes match the CPU reference",
  async () => {
    await fc.assert(
      fc.asyncProperty(lead, rowLen, fc.integer({ min: 0, max: 1000 }), async (ld, n, seed) => {
        const shape = [...ld, n];
        const x = randArray(prod(shape), seed, 3);
        for (const axis of new Set([-1, 0, shape.length - 1])) {
          const ax = axis < 0 ? axis + shape.length : axis;
          const [y, ly, lse] = await vals(() => {
            const t = tensor(x, shape);
            return [softmax(t, axis), logSoftmax(t, axis), logSumExp(t, axis, true)];
          });
          const msg = `shape [${shape}] axis ${axis}`;
          assertClose(y, mapAxis(x, shape, ax, (r) => softmaxRow(r)), { msg, atol: 1e-6 });
          assertClose(ly, mapAxis(x, shape, ax, (r) => softmaxRow(r, true)), { msg, atol: 1e-5 });
          assertClose(lse, foldAxis(x, shape, ax, logSumExpRow), { msg });
        }
      }),
      { numRuns: 12 },
    );
  },
);

gpuTest("softmax: rows sum to one and large logits do not overflow", async () => {
  const x = new Float32Array([1000, 1001, 1002, -1000, 0, 1000]);
  const [y, ly, lse] = await vals(() => {
    const t = tensor(x, [2, 3]);
    return [softmax(t), logSoftmax(t), logSumExp(t)];
  });
  assertClose(y, mapAxis(x, [2, 3], 1, (r) => softmaxRow(r)), { atol: 1e-6 });
  assertClose([y[0] + y[1] + y[2], y[3] + y[4] + y[5]], [1, 1], { atol: 1e-6 });
  assert.ok(y.every(Number.isFinite) && ly.every(Number.isFinite));
  assertClose(ly, mapAxis(x, [2, 3], 1, (r) => softmaxRow(r, true)));
  assertClose(lse, [1002 + Math.log(1 + Math.exp(-1) + Math.exp(-2)), 1000]);
});

gpuTest("softmax: −Inf entries (masked logits) get probability 0", async () => {
  for (const n of [4, 300]) {
    const x = randArray(2 * n, 3);
    const mask = new Int32Array(2 * n).map((_, i) => (i % 3 === 0 ? 1 : 0));
    const [y, lse] = await vals(() => {
      const m = maskedFill(tensor(x, [2, n]), tensor(mask, [2, n]), -Infinity);
      return [softmax(m), logSumExp(m)];
    });
    const xm = x.map((v, i) => (mask[i] ? -Infinity : v));
    assertClose(y, mapAxis(xm, [2, n], 1, (r) => softmaxRow(r)), { atol: 1e-6, msg: `n ${n}` });
    assertClose(lse, foldAxis(xm, [2, n], 1, logSumExpRow), { msg: `n ${n}` });
    assert.ok(y.every((v, i) => (mask[i] ? v === 0 : v > 0)));
  }
});

gpuTest("softmax: empty and size-1 dims", async () => {
  const [a, b, c, d] = await vals(() => [
    softmax(tensor([], [3, 0])),
    softmax(tensor([], [0, 5])),
    logSumExp(tensor([], [2, 0])),
    softmax(tensor([5, -2], [2, 1])),
  ]);
  assert.equal(a.length, 0);
  assert.equal(b.length, 0);
  assert.deepEqual([...c], [-Infinity, -Infinity]); // as torch.logsumexp
  assert.deepEqual([...d], [1, 1]);
});

gpuTest(
  "softmax/logSoftmax backward match the CPU formula for a given output gradient",
  async () => {
    for (const [rows, n] of [[3, 7], [2, 300]]) {
      const x = randArray(rows * n, 5);
      const g = randArray(rows * n, 6);
      for (const log of [false, true]) {
        const [gx] = await vals(() => {
          const t = tensor(x, [rows, n]);
          t.requiresGrad = true;
          backward(log ? logSoftmax(t) : softmax(t), tensor(g, [rows, n]));
          return [t.grad!];
        });
        const ref = new Float32Array(rows * n);
        for (let r = 0; r < rows; r++) {
          const row = [...x.subarray(r * n, (r + 1) * n)];
          const gy = g.subarray(r * n, (r + 1) * n);
          const p = softmaxRow(row);
          const dot = log ? gy.reduce((a, v) => a + v, 0) : p.reduce((a, v, i) => a + v * gy[i], 0);
          for (let c = 0; c < n; c++) {
            ref[r * n + c] = log ? gy[c] - p[c] * dot : p[c] * (gy[c] - dot);
          }
        }
        assertClose(gx, ref, { atol: 1e-5, msg: `${log ? "log" : ""}softmax [${rows}, ${n}]` });
      }
    }
  },
);

gpuTest("softmax/logSoftmax/logSumExp: finite-difference gradients", async () => {
  for (const shape of [[3, 5], [2, 40], [2, 3, 4]]) {
    const x = randArray(prod(shape), 11);
    await checkGrad((t) => softmax(t), [x], [shape]);
    await checkGrad((t) => logSoftmax(t), [x], [shape]);
    await checkGrad((t) => logSumExp(t), [x], [shape]);
    await checkGrad((t) => softmax(t, 0), [x], [shape]);
    await checkGrad((t) => logSumExp(t, 0, true), [x], [shape]);
  }
});

gpuTest("softmax: bad input names the op and shape", () => {
  tidy(() => {
    assert.throws(
      () => softmax(tensor([1, 2], [2], "i32") as unknown as Tensor<"f32">),
      /wgrec softmax: input \[2\] has dtype i32, expected f32/,
    );
    assert.throws(() => logSoftmax(tensor([1], [])), /wgrec logSoftmax: input \[\] has rank 0/);
    assert.throws(
      () => softmax(tensor([1, 2], [1, 2]), 2),
      /wgrec softmax: axis 2 is out of range/,
    );
    assert.throws(() => logSumExp(tensor([1, 2], [1, 2]), -3), /wgrec logSumExp: axis -3/);
  });
});
