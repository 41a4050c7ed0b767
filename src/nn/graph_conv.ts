/**
 * Propagation over a user–item (or item–item) graph held as a constant sparse matrix.
 * @module
 */

import { add, scale } from "../ops/core/elementwise.ts";
import { type SparseMatrix, spmm } from "../ops/sparse/sparse.ts";
import type { Tensor } from "../tensor.ts";

/**
 * LightGCN propagation: `mean(H⁰, ÂH⁰, …, Â^L H⁰)` over `layers` products with the
 * normalised adjacency (spec §1.2, "User-item view").
 */
export function lightGcnPropagate(
  adj: SparseMatrix,
  h0: Tensor<"f32">,
  layers: number,
): Tensor<"f32"> {
  let h = h0;
  let acc = h0;
  for (let l = 0; l < layers; l++) {
    h = spmm(adj, h);
    acc = add(acc, h);
  }
  return layers === 0 ? acc : scale(acc, 1 / (layers + 1));
}
