/**
 * A plain TypeScript CPU front end (f64, iterative radix-2 FFT): the reference the GPU kernels
 * are tested against beside the NumPy fixtures, and the CPU baseline of `bench/audio_bench.ts`.
 * @module
 */

import { frameCount, type FrontEndSettings } from "./settings.ts";

const twiddleCache = new Map<number, Float64Array>();

/** cos, sin of −2π·k/n for k < n/2, interleaved (computed once per size). */
function twiddleTable(n: number): Float64Array {
  let t = twiddleCache.get(n);
  if (!t) {
    t = new Float64Array(n);
    for (let k = 0; k < n / 2; k++) {
      t[2 * k] = Math.cos((2 * Math.PI * k) / n);
      t[2 * k + 1] = -Math.sin((2 * Math.PI * k) / n);
    }
    twiddleCache.set(n, t);
  }
  return t;
}

/** In-place complex FFT of size n (power of two) over `re`, `im` (forward: exp(−2πi·jk/n)). */
export function cpuFft(re: Float64Array, im: Float64Array, inverse = false): void {
  const n = re.length;
  const tw = twiddleTable(n);
  for (let i = 1, j = 0; i < n; i++) { // bit reversal
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len *= 2) {
    const step = n / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = tw[2 * k * step], wi = inverse ? -tw[2 * k * step + 1] : tw[2 * k * step + 1];
        const a = i + k, b = a + len / 2;
        const xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
  if (inverse) { for (let i = 0; i < n; i++) re[i] /= n, im[i] /= n; }
}

/** numpy.fft.rfft of one real signal (power-of-two length): interleaved [n/2 + 1, 2]. */
export function cpuRfft(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const re = Float64Array.from(x), im = new Float64Array(n);
  cpuFft(re, im);
  const out = new Float64Array(n + 2);
  for (let k = 0; k <= n / 2; k++) out[2 * k] = re[k], out[2 * k + 1] = im[k];
  return out;
}

/**
 * The whole front end on the CPU for signals [batch, len] (row-major): mel features
 * [batch, T, nMels] under `s` (the same steps as `AudioFrontEnd.forward`).
 */
export function cpuFrontEnd(
  s: FrontEndSettings,
  x: ArrayLike<number>,
  batch: number,
): Float32Array {
  const len = x.length / batch;
  const t = frameCount("cpuFrontEnd", s, len);
  const n = s.nFft, bins = n / 2 + 1;
  const out = new Float32Array(batch * t * s.nMels);
  const re = new Float64Array(n), im = new Float64Array(n), p = new Float64Array(bins);
  const pad = s.center ? n / 2 : 0;
  const at = (b: number, i: number) => {
    if (i < 0) i = -i;
    if (i >= len) i = 2 * (len - 1) - i;
    return x[b * len + i];
  };
  for (let b = 0; b < batch; b++) {
    for (let f = 0; f < t; f++) {
      const start = f * s.hop - pad;
      let mean = 0;
      if (s.removeDc) {
        for (let j = 0; j < s.frameLen; j++) mean += at(b, start + j);
        mean /= s.frameLen;
      }
      re.fill(0);
      im.fill(0);
      let prev = at(b, start) - mean;
      for (let j = 0; j < s.frameLen; j++) {
        const v = at(b, start + j) - mean;
        re[j] = (v - s.preemph * prev) * s.window[j];
        prev = v;
      }
      cpuFft(re, im);
      for (let k = 0; k < bins; k++) {
        const q = re[k] * re[k] + im[k] * im[k];
        p[k] = s.power === 2 ? q : Math.pow(q, s.power / 2);
      }
      for (let m = 0; m < s.nMels; m++) {
        let acc = 0;
        for (let k = 0; k < bins; k++) acc += p[k] * s.filterbank[k * s.nMels + m];
        if (s.log === "log") acc = Math.log(Math.max(acc, s.floor));
        else if (s.log === "db") acc = 10 * Math.log10(Math.max(acc, s.floor));
        out[(b * t + f) * s.nMels + m] = acc;
      }
    }
  }
  return out;
}
