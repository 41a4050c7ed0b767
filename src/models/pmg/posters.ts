/**
 * Procedural item posters: the image modality PMG generates (the paper's movie posters are not
 * here). Deterministic from the item's attributes, so the genres are visible in the picture:
 * the background is the mean of the genres' colours, dimmed; each of the first three genres
 * draws its shape (disc, square, band or diagonal, by a hash of its name) in its colour at its
 * slot; a bottom bar's length is the decade; a 2×2 marker placed by a hash of the title tells
 * items of equal genres apart. Pixels in [0, 1], layout [S, S, 3] (HWC).
 * @module
 */

import type { ItemCatalog } from "./keywords.ts";

/** FNV-1a hash of a string (the deterministic choice of colours, shapes and markers). */
export function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

/** RGB of a hue in [0, 1) at full saturation and value. */
function hueRgb(h: number): [number, number, number] {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return 1 - Math.max(0, Math.min(k, 4 - k, 1));
  };
  return [f(5), f(3), f(1)];
}

/** A genre's colour (hue from its name's hash). */
export function genreColour(genre: string): [number, number, number] {
  return hueRgb((hash(genre) % 360) / 360);
}

/** Whether pixel (y, x) of an S×S poster lies in genre shape `kind` centred at (cy, cx). */
function inShape(kind: number, y: number, x: number, cy: number, cx: number, r: number): boolean {
  const dy = y - cy, dx = x - cx;
  switch (kind) {
    case 0:
      return dy * dy + dx * dx <= r * r; // disc
    case 1:
      return Math.abs(dy) <= r * 0.8 && Math.abs(dx) <= r * 0.8; // square
    case 2:
      return Math.abs(dy) <= r * 0.35 && Math.abs(dx) <= r * 1.3; // band
    default:
      return Math.abs(dy - dx) <= r * 0.4 && Math.abs(dx) <= r; // diagonal
  }
}

/** The poster of item `i`, [S, S, 3] in [0, 1]. */
export function poster(cat: ItemCatalog, i: number, S = 16): Float32Array {
  const img = new Float32Array(S * S * 3);
  const gs = cat.genres[i];
  const cols = gs.map(genreColour);
  const bg = [0, 1, 2].map((c) =>
    cols.length ? 0.35 * cols.reduce((a, k) => a + k[c], 0) / cols.length : 0.2
  );
  for (let p = 0; p < S * S; p++) img.set(bg, p * 3);
  const slots = [[0.3, 0.3], [0.3, 0.72], [0.68, 0.5]];
  gs.slice(0, 3).forEach((g, k) => {
    const kind = (hash(g) >>> 9) % 4;
    const [cy, cx] = slots[k].map((v) => v * (S - 1));
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        if (inShape(kind, y, x, cy, cx, S * 0.2)) img.set(cols[k], (y * S + x) * 3);
      }
    }
  });
  const dec = cat.decades[i];
  if (dec) {
    const len = Math.round(Math.max(1, Math.min(S, ((+dec.slice(0, 4) - 1920) / 80) * S)));
    for (let x = 0; x < len; x++) img.set([0.9, 0.9, 0.9], ((S - 1) * S + x) * 3);
  }
  const h = hash(cat.titles[i].join(" "));
  const my = h % (S - 3), mx = (h >>> 8) % (S - 2);
  for (let y = my; y < my + 2; y++) {
    for (let x = mx; x < mx + 2; x++) img.set([1, 1, 1], (y * S + x) * 3);
  }
  return img;
}

/** Every item's poster, [N, S, S, 3]. */
export function posters(cat: ItemCatalog, S = 16): Float32Array {
  const n = cat.titles.length;
  const out = new Float32Array(n * S * S * 3);
  for (let i = 0; i < n; i++) out.set(poster(cat, i, S), i * S * S * 3);
  return out;
}
