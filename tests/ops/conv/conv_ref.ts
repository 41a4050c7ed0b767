// CPU references of the conv family (float64 loops, PyTorch semantics, NCHW), shared by tests.

/** A conv geometry. */
export interface G {
  n: number;
  c: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  s: [number, number];
  p: [number, number];
  d: [number, number];
  g: number;
}

/** PyTorch conv2d in float64 over NCHW. */
export function conv2dRef(x: Float32Array, wt: Float32Array, b: Float32Array | null, q: G) {
  const oh = Math.floor((q.h + 2 * q.p[0] - q.d[0] * (q.kh - 1) - 1) / q.s[0]) + 1;
  const ow = Math.floor((q.w + 2 * q.p[1] - q.d[1] * (q.kw - 1) - 1) / q.s[1]) + 1;
  const cg = q.c / q.g;
  const og = q.cout / q.g;
  const y = new Float32Array(q.n * q.cout * oh * ow);
  for (let n = 0; n < q.n; n++) {
    for (let co = 0; co < q.cout; co++) {
      const grp = Math.floor(co / og);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let acc = b ? b[co] : 0;
          for (let ci = 0; ci < cg; ci++) {
            for (let ky = 0; ky < q.kh; ky++) {
              for (let kx = 0; kx < q.kw; kx++) {
                const iy = oy * q.s[0] - q.p[0] + ky * q.d[0];
                const ix = ox * q.s[1] - q.p[1] + kx * q.d[1];
                if (iy < 0 || ix < 0 || iy >= q.h || ix >= q.w) continue;
                const c = grp * cg + ci;
                acc += x[((n * q.c + c) * q.h + iy) * q.w + ix] *
                  wt[((co * cg + ci) * q.kh + ky) * q.kw + kx];
              }
            }
          }
          y[((n * q.cout + co) * oh + oy) * ow + ox] = acc;
        }
      }
    }
  }
  return { y, oh, ow };
}

/** PyTorch conv_transpose2d in float64 over NCHW: x [n, c, h, w], w [c, cout/g, kh, kw]. */
export function convTransposeRef(
  x: Float32Array,
  wt: Float32Array,
  b: Float32Array | null,
  q: G,
  op: [number, number] = [0, 0],
) {
  const oh = (q.h - 1) * q.s[0] - 2 * q.p[0] + q.d[0] * (q.kh - 1) + op[0] + 1;
  const ow = (q.w - 1) * q.s[1] - 2 * q.p[1] + q.d[1] * (q.kw - 1) + op[1] + 1;
  const cg = q.c / q.g;
  const og = q.cout / q.g;
  const y = new Float64Array(q.n * q.cout * oh * ow);
  for (let n = 0; n < q.n; n++) {
    for (let c = 0; c < q.c; c++) {
      const grp = Math.floor(c / cg);
      for (let iy = 0; iy < q.h; iy++) {
        for (let ix = 0; ix < q.w; ix++) {
          const v = x[((n * q.c + c) * q.h + iy) * q.w + ix];
          for (let o = 0; o < og; o++) {
            for (let ky = 0; ky < q.kh; ky++) {
              for (let kx = 0; kx < q.kw; kx++) {
                const oy = iy * q.s[0] - q.p[0] + ky * q.d[0];
                const ox = ix * q.s[1] - q.p[1] + kx * q.d[1];
                if (oy < 0 || ox < 0 || oy >= oh || ox >= ow) continue;
                const co = grp * og + o;
                y[((n * q.cout + co) * oh + oy) * ow + ox] += v *
                  wt[((c * og + o) * q.kh + ky) * q.kw + kx];
              }
            }
          }
        }
      }
    }
  }
  if (b) {
    for (let i = 0; i < y.length; i++) y[i] += b[Math.floor(i / (oh * ow)) % q.cout];
  }
  return { y: Float32Array.from(y), oh, ow };
}

/** NCHW → NHWC on the host. */
export function toNhwc(x: Float32Array, n: number, c: number, h: number, w: number) {
  const y = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      for (let yy = 0; yy < h; yy++) {
        for (let xx = 0; xx < w; xx++) {
          y[((i * h + yy) * w + xx) * c + k] = x[((i * c + k) * h + yy) * w + xx];
        }
      }
    }
  }
  return y;
}
