/**
 * Most-popular baseline: ranks items by training interaction count.
 * @module
 */

import { ones, type Tensor, tensor } from "../../tensor.ts";
import type { Interactions } from "../../data/types.ts";
import { type LossOutput, Recommender } from "../../train/fit.ts";

/** Most-popular baseline: every user gets the items with the most training interactions. */
export class Popularity extends Recommender {
  /** Display name. */
  readonly name = "Popularity";
  readonly #counts: Float32Array;
  readonly #users: number;

  /** Counts items in `train`. */
  constructor(train: Interactions) {
    super();
    this.#users = train.numUsers;
    this.#counts = new Float32Array(train.numItems);
    for (let j = 0; j < train.items.length; j++) this.#counts[train.items[j]]++;
  }

  /** Nothing to train. */
  loss(): LossOutput {
    throw new Error("wgrec Popularity: nothing to train");
  }

  /** Users `[U, 1]` of ones and items `[I, 1]` of counts, so `users · itemsᵀ` = counts. */
  embeddings(): { users: Tensor<"f32">; items: Tensor<"f32"> } {
    return {
      users: ones([this.#users, 1]),
      items: tensor(this.#counts, [this.#counts.length, 1]),
    };
  }
}
