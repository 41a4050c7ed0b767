/**
 * Propagation over a user–item (or item–item) graph held as a constant sparse matrix.
 * @module
 */

import { add, scale } from "../ops/core/elementwise.ts";
import { gather } from "../ops/sparse/gather.ts";
import { propagateRows, rowSubset } from "../ops/sparse/propagate.ts";
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

/**
 * {@link lightGcnPropagate} over a users-then-items graph, read at a batch of (user, positive,
 * negative) triples: the `[B, d]` rows of users, positives and negatives. Computes only what
 * the batch reads (`propagateRows`), with the same bits as gathering the full result.
 */
export function lightGcnTriplets(
  adj: SparseMatrix,
  h0: Tensor<"f32">,
  layers: number,
  numUsers: number,
  batch: { users: Int32Array; pos: Int32Array; neg: Int32Array },
): { u: Tensor<"f32">; p: Tensor<"f32">; n: Tensor<"f32"> } {
  const node = (items: Int32Array) => items.map((i) => i + numUsers);
  const { subset, at } = rowSubset(adj, [batch.users, node(batch.pos), node(batch.neg)]);
  const rows = propagateRows(adj, h0, layers, subset);
  return { u: gather(rows, at[0]), p: gather(rows, at[1]), n: gather(rows, at[2]) };
}
