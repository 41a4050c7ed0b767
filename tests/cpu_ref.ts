// CPU reference implementations shared by the op tests (plain loops over float64, then the
// result rounded to f32 by the caller's Float32Array).

/** Number of elements of a shape. */
export function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Row-major strides. */
export function strides(shape: readonly number[]): number[] {
  const s: number[] = [];
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** NumPy broadcast of several shapes, or null when they do not broadcast. */
export function broadcast(...shapes: (readonly number[])[]): number[] | null {
  const n = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - n + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) return null;
      if (v !== 1) d = v;
    }
    out.push(d);
  }
  return out;
}

/** Flat index into `shape` of the multi-index `idx` of the broadcast shape `target`. */
export function bIndex(
  idx: readonly number[],
  shape: readonly number[],
  target: readonly number[],
) {
  const st = strides(shape);
  const off = target.length - shape.length;
  let k = 0;
  for (let i = 0; i < shape.length; i++) if (shape[i] !== 1) k += idx[i + off] * st[i];
  return k;
}

/** Multi-index of flat index `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Elementwise f over the broadcast of a and b. */
export function binaryRef(
  a: ArrayLike<number>,
  as: readonly number[],
  b: ArrayLike<number>,
  bs: readonly number[],
  f: (x: number, y: number) => number,
): { data: Float32Array; shape: number[] } {
  const shape = broadcast(as, bs)!;
  const data = new Float32Array(prod(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    data[i] = f(a[bIndex(idx, as, shape)], b[bIndex(idx, bs, shape)]);
  }
  return { data, shape };
}

/** Applies f to every 1-D fibre of x along `axis`, writing the fibre f returns. */
export function mapAxis(
  x: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  f: (row: number[]) => number[],
): Float32Array {
  const out = new Float32Array(prod(shape));
  const inner = prod(shape.slice(axis + 1));
  const n = shape[axis];
  const outer = prod(shape.slice(0, axis));
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) {
      const row: number[] = [];
      for (let r = 0; r < n; r++) row.push(x[(o * n + r) * inner + k]);
      const y = f(row);
      for (let r = 0; r < n; r++) out[(o * n + r) * inner + k] = y[r];
    }
  }
  return out;
}

/** One value per fibre of x along `axis` (output in the order of the remaining axes). */
export function foldAxis(
  x: ArrayLike<number>,
  shape: readonly number[],
  axis: number,
  f: (row: number[]) => number,
): Float64Array {
  const inner = prod(shape.slice(axis + 1));
  const n = shape[axis];
  const outer = prod(shape.slice(0, axis));
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < inner; k++) {
      const row: number[] = [];
      for (let r = 0; r < n; r++) row.push(x[(o * n + r) * inner + k]);
      out[o * inner + k] = f(row);
    }
  }
  return out;
}

/** Permutes axes: out.shape[i] = shape[perm[i]]. */
export function permuteRef(
  x: ArrayLike<number>,
  shape: readonly number[],
  perm: readonly number[],
): Float32Array {
  const os = perm.map((p) => shape[p]);
  const st = strides(shape);
  const out = new Float32Array(prod(os));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, os);
    let k = 0;
    idx.forEach((v, d) => (k += v * st[perm[d]]));
    out[i] = x[k];
  }
  return out;
}

/** Softmax of one row (log-softmax when `log`), in float64. */
export function softmaxRow(row: number[], log = false): number[] {
  const m = Math.max(...row);
  const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
  return row.map((v) => (log ? v - m - Math.log(s) : Math.exp(v - m) / s));
}

/** logsumexp of one row, in float64 (−Inf when empty). */
export function logSumExpRow(row: number[]): number {
  if (row.length === 0) return -Infinity;
  const m = Math.max(...row);
  return m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
}
