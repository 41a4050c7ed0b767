/**
 * Propagation over a user–item (or item–item) graph held as a constant sparse matrix.
 * @module
 */

import { add, scale } from "../ops/core/elementwise.ts";
import { propagateRows, rowSubset } from "../ops/sparse/propagate.ts";
import type { SparseMatrix } from "../ops/sparse/sparse.ts";
import { spmm } from "../ops/sparse/spmm.ts";
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
 * negative) triples: the `[k, d]` propagated rows the batch names (`propagateRows`, the same
 * bits as the full table's rows, less work) and each triple's row in them, for `gather` or
 * `bprRows`.
 */
export function lightGcnBatch(
  adj: SparseMatrix,
  h0: Tensor<"f32">,
  layers: number,
  numUsers: number,
  batch: { users: Int32Array; pos: Int32Array; neg: Int32Array },
): { rows: Tensor<"f32">; users: Tensor<"i32">; pos: Tensor<"i32">; neg: Tensor<"i32"> } {
  const node = (items: Int32Array) => items.map((i) => i + numUsers);
  const { subset, at } = rowSubset(adj, [batch.users, node(batch.pos), node(batch.neg)]);
  const rows = propagateRows(adj, h0, layers, subset);
  return { rows, users: at[0], pos: at[1], neg: at[2] };
}
