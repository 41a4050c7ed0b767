/**
 * PMG's metrics (spec §5.1 "Metrics", §5.2 item 4), on the host:
 * - SSIM (Wang et al. 2004) with a uniform 7×7 window (smaller posters: the whole image),
 *   C1 = 0.01², C2 = 0.03² for pixels in [0, 1], averaged over windows and channels.
 * - An LPIPS-style distance: features of a small FIXED conv net (seeded random weights, not
 *   trained, not VGG/AlexNet, no learned channel weights; so not LPIPS itself), unit-normalised
 *   over channels at each pixel, squared differences summed over channels, averaged over
 *   pixels, summed over the two layers (LPIPS's recipe with uniform weights).
 * - The CLIP substitute: an image's embedding is its conv features pooled globally plus its
 *   mean colour per quadrant, centred by the catalogue posters' mean embedding; an item
 *   text's embedding is the embedding of the poster its attributes render (posters are a
 *   function of the attributes), so image–text scores are cosines in one space:
 *   d = (1 + cos) / 2 ∈ [0, 1].
 * - Text: bags of description words (decade, genres); d = cosine of the bags.
 * Personalisation compares a generated item with the user's history, accuracy with the target.
 * @module
 */

import { Rng } from "../../random.ts";
import { TOKENS } from "./keywords.ts";

/** SSIM of two [S, S, 3] images in [0, 1]. */
export function ssim(a: Float32Array, b: Float32Array, S: number): number {
  if (a.length !== S * S * 3 || b.length !== S * S * 3) {
    throw new Error(
      `wgrec pmg ssim: images of ${a.length} and ${b.length} values, expected ${S}×${S}×3`,
    );
  }
  const w = Math.min(7, S), C1 = 1e-4, C2 = 9e-4;
  let total = 0, n = 0;
  for (let c = 0; c < 3; c++) {
    for (let y0 = 0; y0 + w <= S; y0++) {
      for (let x0 = 0; x0 + w <= S; x0++) {
        let ma = 0, mb = 0;
        for (let y = y0; y < y0 + w; y++) {
          for (let x = x0; x < x0 + w; x++) {
            ma += a[(y * S + x) * 3 + c];
            mb += b[(y * S + x) * 3 + c];
          }
        }
        const N = w * w;
        ma /= N;
        mb /= N;
        let va = 0, vb = 0, cov = 0;
        for (let y = y0; y < y0 + w; y++) {
          for (let x = x0; x < x0 + w; x++) {
            const da = a[(y * S + x) * 3 + c] - ma, db = b[(y * S + x) * 3 + c] - mb;
            va += da * da;
            vb += db * db;
            cov += da * db;
          }
        }
        va /= N - 1;
        vb /= N - 1;
        cov /= N - 1;
        total += ((2 * ma * mb + C1) * (2 * cov + C2)) /
          ((ma * ma + mb * mb + C1) * (va + vb + C2));
        n++;
      }
    }
  }
  return total / n;
}

/** 3×3 convolution with zero padding and ReLU, HWC in and out. */
function conv3(
  x: Float32Array,
  S: number,
  cin: number,
  w: Float32Array,
  cout: number,
): Float32Array {
  const y = new Float32Array(S * S * cout);
  for (let i = 0; i < S; i++) {
    for (let j = 0; j < S; j++) {
      for (let o = 0; o < cout; o++) {
        let s = 0;
        for (let di = -1; di <= 1; di++) {
          for (let dj = -1; dj <= 1; dj++) {
            const ii = i + di, jj = j + dj;
            if (ii < 0 || jj < 0 || ii >= S || jj >= S) continue;
            const xo = (ii * S + jj) * cin, wo = ((o * 3 + di + 1) * 3 + dj + 1) * cin;
            for (let c = 0; c < cin; c++) s += x[xo + c] * w[wo + c];
          }
        }
        y[(i * S + j) * cout + o] = Math.max(0, s);
      }
    }
  }
  return y;
}

/** 2×2 average pooling, HWC. */
function pool2(x: Float32Array, S: number, C: number): Float32Array {
  const h = S >> 1, y = new Float32Array(h * h * C);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < h; j++) {
      for (let c = 0; c < C; c++) {
        y[(i * h + j) * C + c] = 0.25 * (x[((2 * i) * S + 2 * j) * C + c] +
          x[((2 * i) * S + 2 * j + 1) * C + c] + x[((2 * i + 1) * S + 2 * j) * C + c] +
          x[((2 * i + 1) * S + 2 * j + 1) * C + c]);
      }
    }
  }
  return y;
}

/** The fixed feature net (3 → 8 → pool → 16 channels), seeded He-normal weights. */
export class FeatureNet {
  readonly #w1: Float32Array;
  readonly #w2: Float32Array;

  /** Weights from `seed` (fixed: the metrics are comparable across runs). */
  constructor(seed = 7) {
    const r = new Rng(seed);
    const he = (n: number, fan: number) =>
      Float32Array.from({ length: n }, () => r.normal() * Math.sqrt(2 / fan));
    this.#w1 = he(8 * 9 * 3, 27);
    this.#w2 = he(16 * 9 * 8, 72);
  }

  /** Layer features of an [S, S, 3] image: [S, S, 8] and [S/2, S/2, 16]. */
  features(img: Float32Array, S: number): [Float32Array, Float32Array] {
    const f1 = conv3(img, S, 3, this.#w1, 8);
    return [f1, conv3(pool2(f1, S, 8), S >> 1, 8, this.#w2, 16)];
  }

  /** LPIPS-style distance of two [S, S, 3] images (0 for equal images). */
  distance(a: Float32Array, b: Float32Array, S: number): number {
    const fa = this.features(a, S), fb = this.features(b, S);
    let d = 0;
    [8, 16].forEach((C, l) => {
      const P = fa[l].length / C;
      let s = 0;
      for (let p = 0; p < P; p++) {
        let na = 1e-10, nb = 1e-10;
        for (let c = 0; c < C; c++) {
          na += fa[l][p * C + c] ** 2;
          nb += fb[l][p * C + c] ** 2;
        }
        na = Math.sqrt(na);
        nb = Math.sqrt(nb);
        for (let c = 0; c < C; c++) s += (fa[l][p * C + c] / na - fb[l][p * C + c] / nb) ** 2;
      }
      d += s / P;
    });
    return d;
  }

  /** Uncentred embedding: pooled features of both layers and mean colour per quadrant (36-d). */
  embed(img: Float32Array, S: number): Float32Array {
    const [f1, f2] = this.features(img, S);
    const e = new Float32Array(36);
    for (let p = 0; p < S * S; p++) for (let c = 0; c < 8; c++) e[c] += f1[p * 8 + c] / (S * S);
    const P2 = (S >> 1) ** 2;
    for (let p = 0; p < P2; p++) for (let c = 0; c < 16; c++) e[8 + c] += f2[p * 16 + c] / P2;
    const h = S >> 1;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const q = (y < h ? 0 : 2) + (x < h ? 0 : 1);
        for (let c = 0; c < 3; c++) e[24 + q * 3 + c] += img[(y * S + x) * 3 + c] / (h * h);
      }
    }
    return e;
  }
}

/** Cosine of two vectors (0 when either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** The shared image space: embeddings centred by the catalogue posters' mean. */
export class ImageSpace {
  /** The feature net. */
  readonly net: FeatureNet;
  /** Mean embedding of the catalogue. */
  readonly centre: Float32Array;
  /** Centred embedding of every catalogue poster [N][36]. */
  readonly items: Float32Array[];

  /** The space of `posters` [N, S, S, 3]. */
  constructor(posters: Float32Array, readonly size: number, seed = 7) {
    this.net = new FeatureNet(seed);
    const P = size * size * 3, n = posters.length / P;
    const raw = Array.from(
      { length: n },
      (_, i) => this.net.embed(posters.subarray(i * P, (i + 1) * P), size),
    );
    this.centre = new Float32Array(36);
    for (const e of raw) e.forEach((v, k) => (this.centre[k] += v / n));
    this.items = raw.map((e) => e.map((v, k) => v - this.centre[k]));
  }

  /** Centred embedding of an image. */
  embed(img: Float32Array): Float32Array {
    return this.net.embed(img, this.size).map((v, k) => v - this.centre[k]);
  }

  /** Mean centred embedding of items. */
  meanOf(items: readonly number[]): Float32Array {
    const m = new Float32Array(36);
    for (const i of items) this.items[i].forEach((v, k) => (m[k] += v / items.length));
    return m;
  }
}

/** Bag of description words (specials and [PAD] left out), as id → count. */
export function bag(ids: ArrayLike<number>): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i];
    if (t === TOKENS.eos) break;
    if (t > TOKENS.eos) m.set(t, (m.get(t) ?? 0) + 1);
  }
  return m;
}

/** Cosine of two bags. */
export function bagCosine(a: Map<number, number>, b: Map<number, number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (const [k, v] of a) {
    aa += v * v;
    ab += v * (b.get(k) ?? 0);
  }
  for (const v of b.values()) bb += v * v;
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** Mean of bags (each normalised to unit length first). */
export function meanBag(bags: readonly Map<number, number>[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const b of bags) {
    const n = Math.sqrt([...b.values()].reduce((a, v) => a + v * v, 0)) || 1;
    for (const [k, v] of b) m.set(k, (m.get(k) ?? 0) + v / n / bags.length);
  }
  return m;
}
