/**
 * conv2d, LSTM and GRU: wgrec against @tensorflow/tfjs-backend-webgpu, in one process on the
 * same adapter (issues 21 and 19): `deno run -A bench/conv_rnn_compare.ts
 * [--only=<substring>] [--out=<base path>] [--note=<conditions>] [--lstm-per-step]`. Writes
 * bench/results/conv_rnn.md and .json (`--only="H="` runs the recurrent rows alone;
 * `--lstm-per-step` times wgrec's LSTM in its per-step form, as before the fused recurrence).
 *
 * Shapes are the small ones DCID runs on a CPU adapter (NHWC video maps, the CPC and text
 * LSTMs) plus longer sequences, sized so that the run finishes in minutes on lavapipe. tfjs
 * has no fused LSTM in tfjs-core: its side is the per-step `tf.basicLSTMCell` loop that
 * tfjs-layers also runs. tfjs has no GRU op at all (tfjs-layers' GRU is Keras's variant, with
 * the reset gate before the recurrent product): its side is PyTorch's GRU written from tfjs
 * ops (matMul, sigmoid, tanh) over the time steps, as a user would, differentiated by
 * `tf.grads` for the forward + backward rows (loss Σ out ⊙ R; the result checked is ∂/∂x).
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

/** A one-layer GRU over x [B, T, I] with hidden H; `train` times forward + backward. */
interface GruSpec extends LstmSpec {
  train: boolean;
}

/** CPU GRU (PyTorch gate order r, z, n) in f64: the outputs [B, T, H] and, for the loss
 * Σ out ⊙ R, its gradient with respect to x (back-propagation through time). */
function gruReference(
  s: GruSpec,
  [X, Wih, Whh, bih, bhh, R]: Float32Array[],
): { out: Float64Array; dx: Float64Array } {
  const { b: B, t: T, i: I, h: H } = s;
  const out = new Float64Array(B * T * H);
  const dx = new Float64Array(B * T * I);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  for (let n = 0; n < B; n++) {
    // Forward, keeping every step's gates and previous state.
    const hs: Float64Array[] = [new Float64Array(H)];
    const saved: { r: Float64Array; z: Float64Array; nn: Float64Array; ghn: Float64Array }[] = [];
    for (let t = 0; t < T; t++) {
      const hp = hs[t];
      const gi = new Float64Array(3 * H);
      const gh = new Float64Array(3 * H);
      for (let r = 0; r < 3 * H; r++) {
        let a = bih[r];
        for (let q = 0; q < I; q++) a += Wih[r * I + q] * X[(n * T + t) * I + q];
        gi[r] = a;
        let b = bhh[r];
        for (let q = 0; q < H; q++) b += Whh[r * H + q] * hp[q];
        gh[r] = b;
      }
      const st = {
        r: new Float64Array(H),
        z: new Float64Array(H),
        nn: new Float64Array(H),
        ghn: new Float64Array(H),
      };
      const h = new Float64Array(H);
      for (let k = 0; k < H; k++) {
        st.r[k] = sig(gi[k] + gh[k]);
        st.z[k] = sig(gi[H + k] + gh[H + k]);
        st.ghn[k] = gh[2 * H + k];
        st.nn[k] = Math.tanh(gi[2 * H + k] + st.r[k] * st.ghn[k]);
        h[k] = (1 - st.z[k]) * st.nn[k] + st.z[k] * hp[k];
        out[(n * T + t) * H + k] = h[k];
      }
      hs.push(h);
      saved.push(st);
    }
    if (!s.train) continue;
    // Backward through time.
    let dh = new Float64Array(H);
    for (let t = T - 1; t >= 0; t--) {
      const { r, z, nn, ghn } = saved[t];
      const hp = hs[t];
      const dgi = new Float64Array(3 * H);
      const dgh = new Float64Array(3 * H);
      const next = new Float64Array(H);
      for (let k = 0; k < H; k++) {
        const d = dh[k] + R[(n * T + t) * H + k];
        const dan = d * (1 - z[k]) * (1 - nn[k] * nn[k]);
        dgi[k] = dan * ghn[k] * r[k] * (1 - r[k]);
        dgi[H + k] = d * (hp[k] - nn[k]) * z[k] * (1 - z[k]);
        dgi[2 * H + k] = dan;
        dgh[k] = dgi[k];
        dgh[H + k] = dgi[H + k];
        dgh[2 * H + k] = dan * r[k];
        next[k] = d * z[k];
      }
      for (let q = 0; q < I; q++) {
        let a = 0;
        for (let g = 0; g < 3 * H; g++) a += Wih[g * I + q] * dgi[g];
        dx[(n * T + t) * I + q] = a;
      }
      for (let q = 0; q < H; q++) {
        for (let g = 0; g < 3 * H; g++) next[q] += Whh[g * H + q] * dgh[g];
      }
      dh = next;
    }
  }
  return { out, dx };
}

const TFJS_GRADIENTS = "npm:@tensorflow/tfjs@4.22";

/** [rows, cols] → [cols, rows] (tfjs keeps weights as [in, out]). */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

function gruCase(s: GruSpec): Case {
  const { b: B, t: T, i: I, h: H } = s;
  const fwd = 2 * B * T * 3 * H * (I + H);
  return {
    group: "gru",
    name: s.name,
    // Gate matmuls (the elementwise work left out); a backward costs about twice a forward.
    flops: s.train ? 3 * fwd : fwd,
    reps: s.reps,
    rtol: 1e-4 * Math.sqrt(I + H) * (s.train ? Math.sqrt(T) : 1),
    inputs: () => [
      randn(B * T * I, 1),
      randn(3 * H * I, 2, 1 / Math.sqrt(H)),
      randn(3 * H * H, 3, 1 / Math.sqrt(H)),
      randn(3 * H, 4, 0.1),
      randn(3 * H, 5, 0.1),
      randn(B * T * H, 6),
    ],
    reference: (inputs) => {
      const ref = gruReference(s, inputs);
      const full = s.train ? ref.dx : ref.out;
      return Array.from({ length: 32 }, (_, t) => {
        const idx = Math.floor(((t + 0.5) / 32) * full.length);
        return [idx, full[idx]] as [number, number];
      });
    },
    prepare: {
      "wgrec": ([X, Wih, Whh, bih, bhh, R]) => {
        const ps = [
          wg.tensor(X, [B, T, I]),
          wg.tensor(Wih, [3 * H, I]),
          wg.tensor(Whh, [3 * H, H]),
          wg.tensor(bih, [3 * H]),
          wg.tensor(bhh, [3 * H]),
        ].map((t) => wg.keep(t));
        const r = wg.keep(wg.tensor(R, [B, T, H]));
        const h0 = wg.keep(wg.zeros([B, H]));
        // As nn.GRU runs it: one matmul for every step's input projection, then the recurrence.
        const gru = (x: Any, wih: Any, whh: Any, bi: Any, bh: Any) =>
          wg.gruSequence(wg.linear(x, wih, bi), whh, bh, h0);
        const loss = wg.grad((...a: wg.Tensor<"f32">[]) =>
          wg.sum(wg.mul(gru(a[0], a[1], a[2], a[3], a[4]), r))
        );
        let y: wg.Tensor<"f32"> | null = null;
        return {
          run: () => {
            y?.dispose();
            y = wg.keep(
              wg.tidy(() =>
                s.train ? loss(...ps).grads[0] : gru(ps[0], ps[1], ps[2], ps[3], ps[4])
              ),
            );
            wg.runtime().flush();
          },
          read: () => y!.read() as Promise<Float32Array>,
          dispose: () => [...ps, r, h0, y].forEach((t) => t?.dispose()),
        };
      },
      "tfjs-webgpu": async ([X, Wih, Whh, bih, bhh, R]) => {
        const { tf } = peerModules();
        // tfjs-core registers no gradients by itself: the union package @tensorflow/tfjs does.
        if (s.train) await import(TFJS_GRADIENTS);
        // tfjs-core has no GRU op (tfjs-layers builds its GRU from ops): written from ops as a
        // user would, weights kept as [in, 3H] so that no step transposes.
        const x = tf.tensor(X, [B, T, I], "float32");
        const wih = tf.tensor(transpose(Wih, 3 * H, I), [I, 3 * H], "float32");
        const whh = tf.tensor(transpose(Whh, 3 * H, H), [H, 3 * H], "float32");
        const bi = tf.tensor(bih, [3 * H], "float32");
        const bh = tf.tensor(bhh, [3 * H], "float32");
        const r = tf.tensor(R, [B, T, H], "float32");
        const gru = (x: Any, wih: Any, whh: Any, bi: Any, bh: Any) => {
          const gi = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [B * T, I]), wih), bi), [
            B,
            T,
            3 * H,
          ]);
          let h = tf.zeros([B, H]);
          const hs = [];
          for (const g of tf.unstack(gi, 1)) {
            const [ir, iz, inn] = tf.split(g, 3, 1);
            const [hr, hz, hn] = tf.split(tf.add(tf.matMul(h, whh), bh), 3, 1);
            const rg = tf.sigmoid(tf.add(ir, hr));
            const z = tf.sigmoid(tf.add(iz, hz));
            const n = tf.tanh(tf.add(inn, tf.mul(rg, hn)));
            h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
            hs.push(h);
          }
          return tf.stack(hs, 1);
        };
        const grads = tf.grads((x: Any, wih: Any, whh: Any, bi: Any, bh: Any) =>
          tf.sum(tf.mul(gru(x, wih, whh, bi, bh), r))
        );
        let y: Any = null;
        return {
          run: () => {
            y?.dispose();
            y = tf.tidy(() => s.train ? grads([x, wih, whh, bi, bh])[0] : gru(x, wih, whh, bi, bh));
            tfFlush();
          },
          read: async () => new Float32Array(await y.data()),
          dispose: () => [x, wih, whh, bi, bh, r, y].forEach((t) => t?.dispose()),
        } satisfies Prepared;
      },
    },
  };
}

/** The recurrent shapes: the DCID ones and a longer sequence at each T. */
const RNN_SHAPES: LstmSpec[] = [
  { name: "B=32 T=10 I=128 H=128", b: 32, t: 10, i: 128, h: 128, reps: 10 },
  { name: "B=16 T=32 I=64 H=64", b: 16, t: 32, i: 64, h: 64, reps: 6 },
  { name: "B=16 T=64 I=64 H=64", b: 16, t: 64, i: 64, h: 64, reps: 4 },
  { name: "B=80 T=10 I=32 H=32 (DCID small CPC)", b: 80, t: 10, i: 32, h: 32, reps: 10 },
];

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
  ...RNN_SHAPES.map((r) => lstmCase({ ...r, name: `LSTM ${r.name}` })),
  ...RNN_SHAPES.map((r) => gruCase({ ...r, name: `GRU ${r.name}`, train: false })),
  ...RNN_SHAPES.map((r) =>
    gruCase({ ...r, name: `GRU fwd+bwd ${r.name}`, train: true, reps: Math.min(r.reps, 5) })
  ),
];

if (import.meta.main) {
  let only: string | null = null;
  let note = "";
  let out = new URL("./results/conv_rnn", import.meta.url).pathname;
  for (const a of Deno.args) {
    if (a.startsWith("--only=")) only = a.slice(7);
    else if (a.startsWith("--out=")) out = a.slice(6);
    else if (a.startsWith("--note=")) note = a.slice(7);
    // The LSTM as before the fused recurrence (a matmul + add + cell dispatch per step).
    else if (a === "--lstm-per-step") wg.lstmTuning.fused = false;
  }
  await runComparison({
    title: "conv2d, LSTM and GRU: wgrec vs tfjs-webgpu",
    cases: CASES.filter((c) => !only || c.name.includes(only)),
    out,
    note,
  });
}
