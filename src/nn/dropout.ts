/**
 * Inverted dropout with a seeded mask: kept values are scaled by 1/(1 − rate), so evaluation
 * needs no rescaling. The mask comes from the seeded uniform generator, so a run is
 * reproducible from its seed.
 * @module
 */

import { ge, mul, scale } from "../ops/core/elementwise.ts";
import { full, randUniform, type Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** `x` with each element zeroed with probability `rate` (identity at rate 0). */
export function dropout(x: Tensor<"f32">, rate: number, seed: number): Tensor<"f32"> {
  if (!(rate >= 0 && rate < 1)) {
    throw new Error(`wgrec dropout: rate ${rate}, expected a number in [0, 1)`);
  }
  if (rate === 0) return x;
  const keep = ge(randUniform(x.shape, seed), full(x.shape, rate));
  return mul(x, scale(keep, 1 / (1 - rate)));
}

/** A seeded counter of per-call seeds, so each call draws a fresh mask. */
export class Seeds {
  #n = 0;
  /** Seeds derived from `seed`. */
  constructor(readonly seed: number) {}
  /** The next call's seed. */
  next(): number {
    return (Math.imul(this.seed + 1, 0x9e3779b1) + this.#n++ * 0x85ebca6b) >>> 0;
  }
}

/** Dropout as a layer: active in training mode only. */
export class Dropout extends Module {
  #seeds: Seeds;
  /** Drops with probability `rate`; masks are drawn from `seed`. */
  constructor(readonly rate: number, seed = 0) {
    super();
    this.#seeds = new Seeds(seed);
  }
  /** Applies dropout in training mode; the identity otherwise. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return this.training ? dropout(x, this.rate, this.#seeds.next()) : x;
  }
}
