/**
 * conv2d and LSTM forward: wgrec against @tensorflow/tfjs-backend-webgpu, in one process on the
 * same adapter (issue 21): `deno run -A bench/conv_rnn_compare.ts [--only=<substring>]
 * [--out=<base path>] [--note=<conditions>]`. Writes bench/results/conv_rnn.md and .json.
 *
 * Shapes are the small ones DCID runs on a CPU adapter (NHWC video maps, the CPC and text
 * LSTMs), sized so that the run finishes in minutes on lavapipe. tfjs has no fused LSTM in
 * tfjs-core: its side is the per-step `tf.basicLSTMCell` loop that tfjs-layers also runs.
 * jax-js starts with the others (bench/compare.ts) and has no case here: its column is n/a.
 * @module
 */

import * as wg from "../internal.ts";
import { type Case, peerModules, type Prepared, runComparison, tfFlush } from "./compare.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = new wg.Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * r.normal();
  return a;
}

/** A conv2d problem in NHWC with a [Cout, Cin, k, k] weight (PyTorch's layout). */
interface ConvSpec {
  name: string;
  n: number;
  h: number;
  c: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  reps: number;
}

function convCase(s: ConvSpec): Case {
  const oh = Math.floor((s.h + 2 * s.pad - s.k) / s.stride) + 1;
  const xShape = [s.n, s.h, s.h, s.c];
  return {
    group: "conv2d",
    name: s.name,
    flops: 2 * s.n * oh * oh * s.cout * s.c * s.k * s.k,
    reps: s.reps,
    rtol: 1e-4 * Math.sqrt(s.c * s.k * s.k),
    inputs: () => [
      randn(s.n * s.h * s.h * s.c, 1),
      randn(s.cout * s.c * s.k * s.k, 2, 1 / Math.sqrt(s.c * s.k * s.k)),
    ],
    reference: ([X, W]) => {
      const out: [number, number][] = [];
      const total = s.n * oh * oh * s.cout;
      for (let t = 0; t < 32; t++) {
        const idx = Math.floor(((t + 0.5) / 32) * total);
        const co = idx % s.cout;
        const ox = Math.floor(idx / s.cout) % oh;
        const oy = Math.floor(idx / (s.cout * oh)) % oh;
        const b = Math.floor(idx / (s.cout * oh * oh));
        let acc = 0;
        for (let ky = 0; ky < s.k; ky++) {
          for (let kx = 0; kx < s.k; kx++) {
            const y = oy * s.stride - s.pad + ky;
            const x = ox * s.stride - s.pad + kx;
            if (y < 0 || x < 0 || y >= s.h || x >= s.h) continue;
            for (let ci = 0; ci < s.c; ci++) {
              acc += X[((b * s.h + y) * s.h + x) * s.c + ci] *
                W[((co * s.c + ci) * s.k + ky) * s.k + kx];
            }
          }
        }
        out.push([idx, acc]);
      }
      return out;
    },
    prepare: {
      "wgrec": ([X, W]) => {
        const x = wg.keep(wg.tensor(X, xShape));
        const w = wg.keep(wg.tensor(W, [s.cout, s.c, s.k, s.k]));
        let y: wg.Tensor<"f32"> | null = null;
        return {
          run: () => {
            y?.dispose();
            y = wg.keep(
              wg.tidy(() =>
                wg.conv2d(x, w, null, { stride: s.stride, padding: s.pad, layout: "NHWC" })
              ),
            );
            wg.runtime().flush();
          },
          read: () => y!.read() as Promise<Float32Array>,
          dispose: () => [x, w, y].forEach((t) => t?.dispose()),
        };
      },
      "tfjs-webgpu": ([X, W]) => {
        const { tf } = peerModules();
        // [Cout, Cin, kh, kw] → tfjs's [kh, kw, Cin, Cout].
        const f = new Float32Array(W.length);
        for (let co = 0; co < s.cout; co++) {
          for (let ci = 0; ci < s.c; ci++) {
            for (let ky = 0; ky < s.k; ky++) {
              for (let kx = 0; kx < s.k; kx++) {
                f[((ky * s.k + kx) * s.c + ci) * s.cout + co] =
                  W[((co * s.c + ci) * s.k + ky) * s.k + kx];
              }
            }
          }
        }
        const x = tf.tensor(X, xShape, "float32");
        const w = tf.tensor(f, [s.k, s.k, s.c, s.cout], "float32");
        const pad = s.pad === 0 ? "valid" : [[0, 0], [s.pad, s.pad], [s.pad, s.pad], [0, 0]];
        let y: Any = null;
        return {
          run: () => {
            y?.dispose();
            y = tf.conv2d(x, w, s.stride, pad, "NHWC");
            tfFlush();
          },
          read: async () => new Float32Array(await y.data()),
          dispose: () => [x, w, y].forEach((t) => t?.dispose()),
        } satisfies Prepared;
      },
    },
  };
}

/** A one-layer LSTM over x [B, T, I] with hidden H (zero initial state, batch first). */
interface LstmSpec {
  name: string;
  b: number;
  t: number;
  i: number;
  h: number;
  reps: number;
}

/** CPU LSTM (PyTorch gate order i, f, g, o) in f64: the whole output [B, T, H]. */
function lstmReference(
  s: LstmSpec,
  X: Float32Array,
  Wih: Float32Array,
  Whh: Float32Array,
  bias: Float32Array,
) {
  const { b: B, t: T, i: I, h: H } = s;
  const out = new Float64Array(B * T * H);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  for (let n = 0; n < B; n++) {
    const h = new Float64Array(H);
    const c = new Float64Array(H);
    const g = new Float64Array(4 * H);
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < 4 * H; r++) {
        let acc = bias[r];
        for (let q = 0; q < I; q++) acc += Wih[r * I + q] * X[(n * T + t) * I + q];
        for (let q = 0; q < H; q++) acc += Whh[r * H + q] * h[q];
        g[r] = acc;
      }
      for (let k = 0; k < H; k++) {
        c[k] = sig(g[H + k]) * c[k] + sig(g[k]) * Math.tanh(g[2 * H + k]);
        h[k] = sig(g[3 * H + k]) * Math.tanh(c[k]);
        out[(n * T + t) * H + k] = h[k];
      }
    }
  }
  return out;
}

function lstmCase(s: LstmSpec): Case {
  const { b: B, t: T, i: I, h: H } = s;
  return {
    group: "lstm",
    name: s.name,
    // Gate matmuls; the cell's elementwise work is left out of the count.
    flops: 2 * B * T * 4 * H * (I + H),
    reps: s.reps,
    rtol: 1e-4 * Math.sqrt(I + H),
    inputs: () => [
      randn(B * T * I, 1),
      randn(4 * H * I, 2, 1 / Math.sqrt(H)),
      randn(4 * H * H, 3, 1 / Math.sqrt(H)),
      randn(4 * H, 4, 0.1),
    ],
    reference: ([X, Wih, Whh, bias]) => {
      const full = lstmReference(s, X, Wih, Whh, bias);
      return Array.from({ length: 32 }, (_, t) => {
        const idx = Math.floor(((t + 0.5) / 32) * full.length);
        return [idx, full[idx]] as [number, number];
      });
    },
    prepare: {
      "wgrec": ([X, Wih, Whh, bias]) => {
        const x = wg.keep(wg.tensor(X, [B, T, I]));
        const w = {
          weightIh: wg.keep(wg.tensor(Wih, [4 * H, I])),
          weightHh: wg.keep(wg.tensor(Whh, [4 * H, H])),
          biasIh: wg.keep(wg.tensor(bias, [4 * H])),
          biasHh: null,
        };
        let y: wg.Tensor<"f32"> | null = null;
        return {
          run: () => {
            y?.dispose();
            y = wg.keep(wg.tidy(() => wg.lstm(x, [[w]]).output));
            wg.runtime().flush();
          },
          read: () => y!.read() as Promise<Float32Array>,
          dispose: () => [x, w.weightIh, w.weightHh, w.biasIh, y].forEach((t) => t?.dispose()),
        };
      },
      "tfjs-webgpu": ([X, Wih, Whh, bias]) => {
        const { tf } = peerModules();
        // basicLSTMCell: kernel [I + H, 4H] on concat(x, h), gates in order i, j (= g), f, o.
        const fromPt = [0, 2, 1, 3];
        const kernel = new Float32Array((I + H) * 4 * H);
        const b = new Float32Array(4 * H);
        for (let gt = 0; gt < 4; gt++) {
          for (let k = 0; k < H; k++) {
            const r = fromPt[gt] * H + k;
            const col = gt * H + k;
            for (let q = 0; q < I; q++) kernel[q * 4 * H + col] = Wih[r * I + q];
            for (let q = 0; q < H; q++) kernel[(I + q) * 4 * H + col] = Whh[r * H + q];
            b[col] = bias[r];
          }
        }
        const x = tf.tensor(X, [B, T, I], "float32");
        const kt = tf.tensor(kernel, [I + H, 4 * H], "float32");
        const bt = tf.tensor(b, [4 * H], "float32");
        const forget = tf.scalar(0);
        let y: Any = null;
        return {
          run: () => {
            y?.dispose();
            y = tf.tidy(() => {
              let c = tf.zeros([B, H]);
              let h = tf.zeros([B, H]);
              const hs = [];
              for (const xt of tf.unstack(x, 1)) {
                [c, h] = tf.basicLSTMCell(forget, kt, bt, xt, c, h);
                hs.push(h);
              }
              return tf.stack(hs, 1);
            });
            tfFlush();
          },
          read: async () => new Float32Array(await y.data()),
          dispose: () => [x, kt, bt, forget, y].forEach((t) => t?.dispose()),
        } satisfies Prepared;
      },
    },
  };
}

const CASES: Case[] = [
  convCase({
    name: "conv 3×3 valid 40×7×7×64→128",
    n: 40,
    h: 7,
    c: 64,
    cout: 128,
    k: 3,
    stride: 1,
    pad: 0,
    reps: 10,
  }),
  convCase({
    name: "conv 3×3 pad 1 16×14×14×64→64",
    n: 16,
    h: 14,
    c: 64,
    cout: 64,
    k: 3,
    stride: 1,
    pad: 1,
    reps: 10,
  }),
  convCase({
    name: "conv 1×1 64×7×7×128→128",
    n: 64,
    h: 7,
    c: 128,
    cout: 128,
    k: 1,
    stride: 1,
    pad: 0,
    reps: 10,
  }),
  convCase({
    name: "conv 3×3 stride 2 16×16×16×32→64",
    n: 16,
    h: 16,
    c: 32,
    cout: 64,
    k: 3,
    stride: 2,
    pad: 1,
    reps: 10,
  }),
  lstmCase({ name: "LSTM B=32 T=10 I=128 H=128", b: 32, t: 10, i: 128, h: 128, reps: 10 }),
  lstmCase({ name: "LSTM B=16 T=32 I=64 H=64", b: 16, t: 32, i: 64, h: 64, reps: 10 }),
  lstmCase({
    name: "LSTM B=80 T=10 I=32 H=32 (DCID small CPC)",
    b: 80,
    t: 10,
    i: 32,
    h: 32,
    reps: 10,
  }),
];

if (import.meta.main) {
  let only: string | null = null;
  let note = "";
  let out = new URL("./results/conv_rnn", import.meta.url).pathname;
  for (const a of Deno.args) {
    if (a.startsWith("--only=")) only = a.slice(7);
    else if (a.startsWith("--out=")) out = a.slice(6);
    else if (a.startsWith("--note=")) note = a.slice(7);
  }
  await runComparison({
    title: "conv2d and LSTM forward: wgrec vs tfjs-webgpu",
    cases: CASES.filter((c) => !only || c.name.includes(only)),
    out,
    note,
  });
}
