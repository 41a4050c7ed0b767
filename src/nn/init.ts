/**
 * Weight initialisers (PyTorch's conventions: a `[rows, cols]` weight has fan_in = cols).
 * @module
 */

import type { Rng } from "../random.ts";

/** Xavier/Glorot uniform values for a `[rows, cols]` weight (PyTorch: fan_in = cols). */
export function xavierUniform(rows: number, cols: number, rng: Rng): Float32Array {
  const b = Math.sqrt(6 / (rows + cols));
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * b;
  return a;
}

/** Xavier/Glorot normal values for a `[rows, cols]` weight. */
export function xavierNormal(rows: number, cols: number, rng: Rng): Float32Array {
  const s = Math.sqrt(2 / (rows + cols));
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = s * rng.normal();
  return a;
}
