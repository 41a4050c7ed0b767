// Batched radix-2 FFTs on the GPU: against an f64 CPU FFT, round trips (fft/ifft, rfft/irfft)
// and Parseval's identity over random power-of-two sizes and batches, and bad shapes.
import fc from "npm:fast-check@3";
import { tensor, tidy } from "../../../internal.ts";
import { fft, irfft, powerSpectrum, rfft } from "../../../src/ops/audio/fft.ts";
import { cpuFft, cpuRfft } from "../../../src/ops/audio/cpu.ts";
import { assert, assertClose, gpuTest, randArray } from "../../helpers.ts";

const shape = fc.record({
  logn: fc.integer({ min: 1, max: 10 }),
  batch: fc.constantFrom(1, 2, 3, 5),
  seed: fc.integer({ min: 0, max: 999 }),
});

/** f32 FFT error bound for unit-variance input: grows as log2(n)·‖x‖ = log2(n)·√n. */
const fftTol = (n: number) => 2e-6 * Math.max(1, Math.log2(n)) * Math.sqrt(2 * n);

gpuTest(
  "rfft: random sizes and batches match an f64 CPU FFT; irfft returns the signal",
  async () => {
    await fc.assert(
      fc.asyncProperty(shape, async ({ logn, batch, seed }) => {
        const n = 2 ** logn;
        const x = randArray(batch * n, seed);
        const [X, back, p] = tidy(() => {
          const xt = tensor(x, [batch, n]);
          const X = rfft(xt);
          return [X, irfft(X), powerSpectrum(xt)];
        });
        assert.deepEqual(X.shape, [batch, n / 2 + 1, 2]);
        const got = await X.read(), rec = await back.read(), pw = await p.read();
        for (let b = 0; b < batch; b++) {
          const row = x.subarray(b * n, (b + 1) * n);
          const ref = cpuRfft(row);
          assertClose(got.subarray(b * (n + 2), (b + 1) * (n + 2)), ref, {
            atol: fftTol(n),
            rtol: 0,
            msg: `rfft n=${n} b=${b}`,
          });
          assertClose(rec.subarray(b * n, (b + 1) * n), row, { atol: 1e-5 * logn, rtol: 1e-4 });
          // Parseval: Σ x² = (|X0|² + |X_{n/2}|² + 2 Σ_{0<k<n/2} |Xk|²) / n.
          let e = 0, f = 0;
          for (const v of row) e += v * v;
          for (let k = 0; k <= n / 2; k++) {
            f += (k === 0 || k === n / 2 ? 1 : 2) * pw[b * (n / 2 + 1) + k];
          }
          assertClose([f / n], [e], { atol: 1e-6, rtol: 2e-5, msg: `Parseval n=${n}` });
        }
        X.dispose(), back.dispose(), p.dispose();
      }),
      { numRuns: 12 },
    );
  },
);

gpuTest("fft: complex transforms match the CPU FFT and ifft(fft(x)) = x", async () => {
  await fc.assert(
    fc.asyncProperty(shape, async ({ logn, batch, seed }) => {
      const m = 2 ** (logn - 1);
      const x = randArray(batch * m * 2, seed);
      const [F, back] = tidy(() => {
        const F = fft(tensor(x, [batch, m, 2]));
        return [F, fft(F, true)];
      });
      const got = await F.read();
      for (let b = 0; b < batch; b++) {
        const re = new Float64Array(m), im = new Float64Array(m);
        for (let i = 0; i < m; i++) re[i] = x[2 * (b * m + i)], im[i] = x[2 * (b * m + i) + 1];
        cpuFft(re, im);
        const ref = new Float64Array(2 * m);
        for (let i = 0; i < m; i++) ref[2 * i] = re[i], ref[2 * i + 1] = im[i];
        assertClose(got.subarray(2 * b * m, 2 * (b + 1) * m), ref, {
          atol: fftTol(m),
          rtol: 0,
        });
      }
      assertClose(await back.read(), x, { atol: 1e-5 * logn, rtol: 1e-4 });
      F.dispose(), back.dispose();
    }),
    { numRuns: 10 },
  );
});

gpuTest("fft: bad shapes are refused with the op and the shape", () => {
  tidy(() => {
    assert.throws(() => rfft(tensor(new Float32Array(6), [6])), /rfft.*\[6\].*power of two/);
    assert.throws(() => rfft(tensor(new Float32Array(1), [1])), /rfft.*length must be ≥ 2/);
    assert.throws(() => fft(tensor(new Float32Array(6), [3, 2])), /fft.*\[3, 2\].*power of two/);
    assert.throws(() => fft(tensor(new Float32Array(8), [2, 4])), /fft.*\[2, 4\]/);
    assert.throws(() => irfft(tensor(new Float32Array(8), [4, 2])), /irfft.*\[4, 2\]/);
    assert.throws(() => powerSpectrum(tensor(new Float32Array(8), [8]), 0), /power 0/);
  });
});
