/**
 * A 3-D view of embeddings: the top three principal components by orthogonal (block power)
 * iteration. The covariance XᵀX and the projection X·V run on the GPU with wgrec's matmul; the
 * d×d iteration (d ≤ a few hundred) runs on the CPU. Each call warm-starts from the previous
 * basis and keeps its signs, so the cloud does not jump or mirror between refreshes.
 * @module
 */

import { keep, matmul, mean, readAll, sub, type Tensor, tensor, tidy } from "./entry.ts";

/** A projection: `[n, 3]` on the GPU plus the variance it explains. */
export interface Projection {
  /** Coordinates `[n, 3]` (kept: the caller disposes it). */
  coords: Tensor<"f32">;
  /** Variance along each component (eigenvalues of the covariance, divided by n). */
  variance: [number, number, number];
  /** Fraction of the total variance each component explains. */
  explained: [number, number, number];
}

/** Orthogonal iteration for the top-3 eigenvectors of a symmetric d×d matrix. */
export function topEigenvectors(
  c: Float32Array | Float64Array,
  d: number,
  start: Float64Array | null,
  iters: number,
): { v: Float64Array; values: number[] } {
  const k = Math.min(3, d);
  // v is d×3, column-major: component j is v[j*d .. j*d+d).
  let v = start ?? Float64Array.from({ length: 3 * d }, (_, i) => Math.sin(12.9898 * (i + 1)));
  for (let it = 0; it < iters; it++) {
    const next = new Float64Array(3 * d);
    for (let j = 0; j < k; j++) {
      for (let r = 0; r < d; r++) {
        let s = 0;
        for (let q = 0; q < d; q++) s += c[r * d + q] * v[j * d + q];
        next[j * d + r] = s;
      }
    }
    orthonormalize(next, d, k);
    v = next;
  }
  const values = [0, 0, 0];
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let r = 0; r < d; r++) {
      let cv = 0;
      for (let q = 0; q < d; q++) cv += c[r * d + q] * v[j * d + q];
      s += v[j * d + r] * cv;
    }
    values[j] = s;
  }
  return { v, values };
}

/** Gram–Schmidt on the first k columns (a column that vanishes is replaced by a unit axis). */
function orthonormalize(v: Float64Array, d: number, k: number): void {
  for (let j = 0; j < k; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let r = 0; r < d; r++) dot += v[j * d + r] * v[p * d + r];
      for (let r = 0; r < d; r++) v[j * d + r] -= dot * v[p * d + r];
    }
    let n = 0;
    for (let r = 0; r < d; r++) n += v[j * d + r] ** 2;
    n = Math.sqrt(n);
    if (n < 1e-12) {
      v.fill(0, j * d, j * d + d);
      v[j * d + (j % d)] = 1;
    } else for (let r = 0; r < d; r++) v[j * d + r] /= n;
  }
}

/** Projects rows of embedding tables to 3-D, keeping a stable basis between calls. */
export class Projector {
  #basis: Float64Array | null = null;

  /** The top-3 principal-component coordinates of the rows of `x` `[n, d]`. */
  async project(x: Tensor<"f32">, iters = 8): Promise<Projection> {
    const [n, d] = x.shape;
    if (this.#basis && this.#basis.length !== 3 * d) this.#basis = null;
    const { centered, cov } = tidy(() => {
      const centered = sub(x, mean(x, [0], true));
      return { centered, cov: matmul(centered, centered, { transA: true }) };
    });
    try {
      const [c] = await readAll([cov]);
      const prev = this.#basis;
      const { v, values } = topEigenvectors(c, d, prev, prev ? iters : 6 * iters);
      for (let j = 0; j < 3; j++) {
        // Keep each axis pointing the way it did (or, the first time, toward its largest entry).
        let s = 0;
        if (prev) { for (let r = 0; r < d; r++) s += v[j * d + r] * prev[j * d + r]; }
        else for (let r = 0; r < d; r++) if (Math.abs(v[j * d + r]) > Math.abs(s)) s = v[j * d + r];
        if (s < 0) { for (let r = 0; r < d; r++) v[j * d + r] = -v[j * d + r]; }
      }
      this.#basis = v;
      let trace = 0;
      for (let r = 0; r < d; r++) trace += c[r * d + r];
      // Row-major d×3 for the GPU.
      const w = new Float32Array(d * 3);
      for (let r = 0; r < d; r++) for (let j = 0; j < 3; j++) w[r * 3 + j] = v[j * d + r];
      const coords = keep(tidy(() => matmul(centered, tensor(w, [d, 3]))));
      const variance = values.map((l) => Math.max(0, l) / Math.max(1, n)) as Projection["variance"];
      const explained = values.map((l) => (trace > 0 ? Math.max(0, l) / trace : 0)) as Projection[
        "explained"
      ];
      return { coords, variance, explained };
    } finally {
      centered.dispose();
      cov.dispose();
    }
  }
}
