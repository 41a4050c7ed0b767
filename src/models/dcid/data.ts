/**
 * A seeded audio-visual-text generator for DCID (the spec's VGGSound-AVEL features are not
 * available here, so this is the data; say so wherever numbers from it are quoted).
 *
 * Each clip has an event class c and a contiguous span of active steps. A shared latent event
 * `s_t = u_c` (active) or 0 (background), plus small jitter, reaches every modality through its
 * own fixed random projection; each modality also carries a clip-level nuisance latent of its
 * own (speaker/scene/wording), projected with a larger gain than the event, plus noise. Video
 * places the event in a Gaussian blob at a random position of the 7×7 map over a nuisance
 * field, so spatial attention has something to find. Labels are the event classes. Shapes are
 * the official ones ([T, 128], [T, 7, 7, 512], [T, 768]) or any smaller widths.
 * @module
 */

import { Rng } from "../../random.ts";

/** Options of {@link generateAvt}. */
export interface AvtOptions {
  /** Clips. */
  clips: number;
  /** Event classes. */
  classes: number;
  /** Steps per clip (10). */
  seqLen: number;
  /** Audio width (128). */
  audioDim: number;
  /** Video channels (512) on a 7×7 map. */
  videoDim: number;
  /** Text token width (768). */
  textDim: number;
  /** Width of the shared event latent and of each nuisance latent. Default 8. */
  latent?: number;
  /** Gain of the nuisance relative to the event. Default 1.5. */
  nuisance?: number;
  /** Observation noise std. Default 0.3. */
  noise?: number;
  /** Seed (the projections and the clips). */
  seed: number;
}

/** Generated clips (row-major, clip first). */
export interface AvtData {
  /** [N, T, A]. */
  audio: Float32Array;
  /** [N, T, 7, 7, V] (channels last). */
  video: Float32Array;
  /** [N, T, W]. */
  text: Float32Array;
  /** Event class per clip, [N]. */
  labels: Int32Array;
  /** Options used. */
  opts: Required<AvtOptions>;
}

function gaussMatrix(r: Rng, rows: number, cols: number, scale: number): Float32Array {
  const m = new Float32Array(rows * cols);
  for (let i = 0; i < m.length; i++) m[i] = scale * r.normal();
  return m;
}

/** out[0..cols) += M[cols, k] · v[k] (M row-major [cols, k]). */
function project(out: Float32Array, off: number, m: Float32Array, v: Float32Array, g: number) {
  const k = v.length;
  const cols = m.length / k;
  for (let c = 0; c < cols; c++) {
    let acc = 0;
    for (let j = 0; j < k; j++) acc += m[c * k + j] * v[j];
    out[off + c] += g * acc;
  }
}

/** Generates `clips` aligned audio/video/text clips with shared events (deterministic). */
export function generateAvt(options: AvtOptions): AvtData {
  const o: Required<AvtOptions> = { latent: 8, nuisance: 1.5, noise: 0.3, ...options };
  const { clips: N, classes: C, seqLen: T, audioDim: A, videoDim: V, textDim: W, latent: L } = o;
  if (![N, C, T, A, V, W, L].every((v) => Number.isInteger(v) && v > 0) || T < 3) {
    throw new Error(
      `wgrec generateAvt: sizes must be positive integers (T ≥ 3): ${JSON.stringify(o)}`,
    );
  }
  const world = new Rng(o.seed * 7919 + 1);
  const protos = gaussMatrix(world, C, L, 1);
  const proj = [A, V, W].map((d) => gaussMatrix(world, d, L, 1 / Math.sqrt(L)));
  const nproj = [A, V, W].map((d) => gaussMatrix(world, d, L, 1 / Math.sqrt(L)));
  const r = new Rng(o.seed * 104729 + 17);
  const audio = new Float32Array(N * T * A);
  const video = new Float32Array(N * T * 49 * V);
  const text = new Float32Array(N * T * W);
  const labels = new Int32Array(N);
  const s = new Float32Array(L);
  const nu = [0, 1, 2].map(() => new Float32Array(L));
  for (let n = 0; n < N; n++) {
    const c = r.int(C);
    labels[n] = c;
    const len = Math.max(2, Math.ceil(T / 2) + r.int(Math.ceil(T / 2)));
    const start = r.int(T - len + 1);
    for (const v of nu) for (let j = 0; j < L; j++) v[j] = r.normal();
    const cy = 1 + r.uniform() * 4;
    const cx = 1 + r.uniform() * 4;
    for (let t = 0; t < T; t++) {
      const on = t >= start && t < start + len;
      for (let j = 0; j < L; j++) s[j] = (on ? protos[c * L + j] : 0) + 0.2 * r.normal();
      const ai = (n * T + t) * A;
      project(audio, ai, proj[0], s, 1);
      project(audio, ai, nproj[0], nu[0], o.nuisance);
      for (let i = 0; i < A; i++) audio[ai + i] += o.noise * r.normal();
      const ti = (n * T + t) * W;
      project(text, ti, proj[2], s, 1);
      project(text, ti, nproj[2], nu[2], o.nuisance);
      for (let i = 0; i < W; i++) text[ti + i] += o.noise * r.normal();
      for (let p = 0; p < 49; p++) {
        const y = Math.floor(p / 7);
        const x = p % 7;
        const blob = Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 2);
        const vi = ((n * T + t) * 49 + p) * V;
        project(video, vi, proj[1], s, 2 * blob);
        project(video, vi, nproj[1], nu[1], o.nuisance);
        for (let i = 0; i < V; i++) {
          // VGG pool5 features are post-ReLU: keep them non-negative.
          video[vi + i] = Math.max(0, video[vi + i] + o.noise * r.normal());
        }
      }
    }
  }
  return { audio, video, text, labels, opts: o };
}
