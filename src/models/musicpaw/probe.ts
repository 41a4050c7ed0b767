/**
 * The linear probe (spec §2.2 (5)): multinomial logistic regression on frozen clip features,
 * standardised with the training rows' statistics, L2-regularised, fitted by full-batch
 * gradient descent with a step of 1 / (Lipschitz bound) (power iteration on XᵀX/n), so the
 * fit is deterministic and needs no tuning. Host code: n and D are small.
 * @module
 */

/** A fitted probe: weights [K, D] and biases [K] over standardised features. */
export interface LinearProbe {
  /** Predicted class of each row of `x` [n, D]. */
  predict(x: Float32Array): Int32Array;
}

/** Options of {@link fitLinearProbe}. */
export interface ProbeOptions {
  /** L2 weight λ on the weights (default 1e-3). */
  l2?: number;
  /** Gradient steps (default 400). */
  iters?: number;
}

/** Fits a K-class softmax regression on rows x [n, D] with labels y. */
export function fitLinearProbe(
  x: Float32Array,
  y: Int32Array,
  d: number,
  k: number,
  opts: ProbeOptions = {},
): LinearProbe {
  const n = y.length;
  if (x.length !== n * d || n < 1 || k < 2) {
    throw new Error(
      `wgrec linear probe: ${x.length} feature values for ${n} labels of width ${d}, ${k} ` +
        `classes; expected n·D values, n ≥ 1, K ≥ 2`,
    );
  }
  const l2 = opts.l2 ?? 1e-3, iters = opts.iters ?? 400;
  const mu = new Float64Array(d), sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mu[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) sd[j] += (x[i * d + j] - mu[j]) ** 2 / n;
  }
  for (let j = 0; j < d; j++) sd[j] = 1 / Math.sqrt(sd[j] + 1e-8);
  const z = (src: Float32Array) => {
    const out = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) out[i] = (src[i] - mu[i % d]) * sd[i % d];
    return out;
  };
  const X = z(x);
  // λ_max(XᵀX/n) by power iteration, with the bias column (a constant 1).
  let v = new Float64Array(d + 1).fill(1), lam = 1;
  for (let it = 0; it < 30; it++) {
    const w = new Float64Array(d + 1);
    for (let i = 0; i < n; i++) {
      let s = v[d];
      for (let j = 0; j < d; j++) s += X[i * d + j] * v[j];
      for (let j = 0; j < d; j++) w[j] += (X[i * d + j] * s) / n;
      w[d] += s / n;
    }
    lam = Math.hypot(...w);
    v = w.map((t) => t / Math.max(lam, 1e-12));
  }
  const step = 1 / (0.5 * lam + l2); // softmax CE's Hessian ≤ ½ XᵀX/n ⊗ I
  const W = new Float64Array(k * d), b = new Float64Array(k);
  const p = new Float64Array(k);
  for (let it = 0; it < iters; it++) {
    const gW = new Float64Array(k * d), gb = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      let mx = -Infinity;
      for (let c = 0; c < k; c++) {
        let s = b[c];
        for (let j = 0; j < d; j++) s += W[c * d + j] * X[i * d + j];
        p[c] = s;
        mx = Math.max(mx, s);
      }
      let tot = 0;
      for (let c = 0; c < k; c++) tot += p[c] = Math.exp(p[c] - mx);
      for (let c = 0; c < k; c++) {
        const g = (p[c] / tot - (c === y[i] ? 1 : 0)) / n;
        gb[c] += g;
        for (let j = 0; j < d; j++) gW[c * d + j] += g * X[i * d + j];
      }
    }
    for (let q = 0; q < k * d; q++) W[q] -= step * (gW[q] + l2 * W[q]);
    for (let c = 0; c < k; c++) b[c] -= step * gb[c];
  }
  return {
    predict(xs: Float32Array): Int32Array {
      const Z = z(xs), m = xs.length / d;
      return Int32Array.from({ length: m }, (_, i) => {
        let best = 0, bv = -Infinity;
        for (let c = 0; c < k; c++) {
          let s = b[c];
          for (let j = 0; j < d; j++) s += W[c * d + j] * Z[i * d + j];
          if (s > bv) [best, bv] = [c, s];
        }
        return best;
      });
    },
  };
}

/** Accuracy of predictions against labels. */
export function accuracy(pred: Int32Array, y: Int32Array): number {
  let hit = 0;
  pred.forEach((p, i) => (hit += p === y[i] ? 1 : 0));
  return hit / Math.max(1, y.length);
}
