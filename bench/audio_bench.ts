/**
 * Spectrograms per second: wgrec's GPU front end (power spectrogram, and the whole
 * log-mel fbank) against the plain TypeScript CPU front end (`src/ops/audio/cpu.ts`, f64) and
 * tfjs's `tf.signal.stft` (one call per signal: it takes 1-D input) + |·|² on the webgpu
 * backend, on the same adapter, one process.
 * Frames: nFft 512, window 512 (periodic Hann), hop 256, edges snipped (tfjs's stft framing),
 * so all three compute the same [batch, T, 257] power spectrogram; the max |error| of each
 * against the f64 CPU reference is reported beside its speed.
 *
 *   deno run -A bench/audio_bench.ts [--batch=8] [--seconds=1] [--iters=10] [--no-tfjs]
 *     [--no-cpu] [--out=bench/results/audio] [--note=...]
 * @module
 */

import { parseArgs } from "node:util";
import { init, readAll, tensor, tidy } from "../internal.ts";
import { AudioFrontEnd } from "../src/ops/audio/frontend.ts";
import { cpuFft } from "../src/ops/audio/cpu.ts";
import { kaldiFbank, melSpectrogram } from "../src/ops/audio/settings.ts";
import { Rng } from "../src/random.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    batch: { type: "string", default: "8" },
    seconds: { type: "string", default: "1" },
    iters: { type: "string", default: "10" },
    "no-tfjs": { type: "boolean", default: false },
    "no-cpu": { type: "boolean", default: false },
    out: { type: "string" },
    note: { type: "string", default: "" },
  },
});
const B = Number(a.batch), SR = 16000, L = Math.round(Number(a.seconds) * SR);
const ITERS = Number(a.iters), N = 512, HOP = 256;
// deno-lint-ignore no-explicit-any
type Any = any;

const rng = new Rng(5);
const x = Float32Array.from(
  { length: B * L },
  (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * (i % L)) / SR) + 0.1 * rng.normal(),
);
const spec = melSpectrogram({ sampleRate: SR, nFft: N, hopLength: HOP, center: false });
const T = 1 + Math.floor((L - N) / HOP), BINS = N / 2 + 1;

/** f64 power spectrogram [B, T, BINS], the reference. */
function cpuSpectrogram(): Float64Array {
  const out = new Float64Array(B * T * BINS);
  const re = new Float64Array(N), im = new Float64Array(N);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let j = 0; j < N; j++) re[j] = x[b * L + t * HOP + j] * spec.window[j], im[j] = 0;
      cpuFft(re, im);
      for (let k = 0; k < BINS; k++) out[(b * T + t) * BINS + k] = re[k] * re[k] + im[k] * im[k];
    }
  }
  return out;
}

const maxErr = (got: ArrayLike<number>, ref: Float64Array) => {
  let e = 0, m = 0;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(got[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return e / m;
};

/** Mean ms per call of `fn` (awaited) after one warm-up call. */
async function time(fn: () => Promise<unknown>, iters = ITERS): Promise<number> {
  await fn();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) await fn();
  return (performance.now() - t0) / iters;
}

const rows: string[][] = [];
const add = (name: string, ms: number, err: number | null, what = "power spectrogram") =>
  rows.push([
    name,
    what,
    ms.toFixed(2),
    ((1000 * B) / ms).toFixed(1),
    err === null ? "—" : err.toExponential(1),
  ]);

const rt = await init();
const adapter = rt.gpu.adapter.description ?? "?";
const ref = cpuSpectrogram();

if (!a["no-cpu"]) {
  const cpuIters = Math.max(1, Math.min(ITERS, 3));
  add("TS CPU (f64 radix-2)", await time(() => Promise.resolve(cpuSpectrogram()), cpuIters), 0);
}

const fe = new AudioFrontEnd(spec);
const xt = tensor(x, [B, L]);
let gpuOut: Float32Array = new Float32Array();
add(
  "wgrec GPU",
  await time(async () => {
    const s = tidy(() => fe.spectrogram(xt));
    [gpuOut] = await readAll([s]) as [Float32Array];
    s.dispose();
  }),
  maxErr(gpuOut, ref),
);
const fbank = new AudioFrontEnd(kaldiFbank({ sampleRate: SR }));
add(
  "wgrec GPU",
  await time(async () => {
    const s = tidy(() => fbank.forward(xt));
    await s.read();
    s.dispose();
  }),
  null,
  "Kaldi log-mel fbank (25/10 ms, 23 bins)",
);

if (!a["no-tfjs"]) {
  const tf: Any = await import("npm:@tensorflow/tfjs-core@4.22");
  await import("npm:@tensorflow/tfjs-backend-webgpu@4.22");
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  // tf.signal.stft takes one 1-D signal: one call per signal, stacked.
  const xs = Array.from({ length: B }, (_, b) => tf.tensor1d(x.subarray(b * L, (b + 1) * L)));
  const win = (n: number) => tf.tensor1d(spec.window.subarray(0, n));
  let tfOut: Float32Array = new Float32Array();
  const ms = await time(async () => {
    const p = tf.tidy(() => {
      const s = tf.stack(xs.map((v: Any) => tf.signal.stft(v, N, HOP, N, win)));
      return tf.add(tf.square(tf.real(s)), tf.square(tf.imag(s)));
    });
    tfOut = await p.data();
    p.dispose();
  });
  add(`tfjs ${tf.version_core} webgpu stft`, ms, maxErr(tfOut, ref));
}

const head = [
  `Audio front end: B = ${B} signals × ${L} samples (${a.seconds} s at ${SR} Hz), nFft ${N}, ` +
  `hop ${HOP}, T = ${T} frames; ${ITERS} timed calls after a warm-up, each ending in a readback.`,
  `Adapter: ${adapter}. ${a.note}`,
  "",
  "| implementation | output | ms / call | spectrograms / s | max rel. error vs f64 |",
  "|---|---|---|---|---|",
];
const md = [...head, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n") + "\n";
console.log(md);
if (a.out) {
  await Deno.writeTextFile(`${a.out}.md`, md);
  await Deno.writeTextFile(`${a.out}.json`, JSON.stringify({ B, L, N, HOP, T, adapter, rows }));
}
fe.dispose();
fbank.dispose();
