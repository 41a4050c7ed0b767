/**
 * UIST's hierarchical mixture inference (HMI) predictor (../shared/specs/uist.md §5.1 Stage C,
 * Legommenders `semantic_mix_predictor.py`):
 * ```
 * U = E_u[user tokens]  [B, S_u, D],   I = E_i[item tokens]  [B, S_i, D]
 * U_j ← Σ_{l≤j} U_l,   I_j ← Σ_{l≤j} I_l                  coarse-to-fine prefix sums
 * s[b, i, j] = f([U_j; I_i])  for every (item level i, user level j)   base CTR network f
 * ŷ = w · vec(s[b]) + c   (Linear(S_i·S_u → 1), flattened item-level-major)   logit, BCE
 * ```
 * The base network f is DCN (the Legommenders default): a cross network (`CrossNetV2`,
 * `x_{l+1} = x_0 ⊙ (W x_l + b) + x_l`) and a DNN in parallel over x_0 = [U_j; I_i], then a linear
 * layer on their concatenation.
 *
 * Token ids: level l of a side's codes indexes rows `l·K + code` of that side's table (levels
 * have distinct rows). User and item tokens get separate tables by default; the official
 * inputer embeds user tokens with the item table (spec §5.1, marked "check whether intended"):
 * `shareTable: true` reproduces that.
 * @module
 */

import { Embedding } from "../../nn/embedding.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { CrossNetV2, DNN } from "../../nn/ctr.ts";
import { add } from "../../ops/core/elementwise.ts";
import { broadcastTo, concat, reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { Rng } from "../../random.ts";
import { fmt, type Tensor } from "../../tensor.ts";

/** Options of {@link HmiPredictor}. */
export interface HmiConfig {
  /** User token levels S_u. */
  userLevels: number;
  /** Item token levels S_i. */
  itemLevels: number;
  /** Codes per level on the user side. */
  userCodes: number;
  /** Codes per level on the item side. */
  itemCodes: number;
  /** Token embedding width D. Default 32. */
  dim?: number;
  /** Cross layers. Default 2. */
  crossLayers?: number;
  /** DNN hidden widths. Default [64, 32]. */
  hidden?: number[];
  /** Embed user tokens with the item table (the official inputer). Default false. */
  shareTable?: boolean;
  /** Seed. Default 0. */
  seed?: number;
}

/** DCN base network: cross network ∥ DNN over x_0, then a linear layer. */
export class Dcn extends Module {
  /** Cross network (`cross`). */
  readonly cross: CrossNetV2;
  /** DNN (`dnn`). */
  readonly dnn: DNN;
  /** Output layer over [x_L; h] (`fc`). */
  readonly fc: Linear;

  /** A DCN over `inDim`-wide inputs. */
  constructor(inDim: number, crossLayers: number, hidden: readonly number[], seed = 0) {
    super();
    this.cross = this.child("cross", new CrossNetV2(inDim, crossLayers, seed));
    this.dnn = this.child("dnn", new DNN(inDim, hidden, 0, { seed: seed + 7 }));
    this.fc = this.child("fc", new Linear(inDim + hidden.at(-1)!, 1, { seed: seed + 11 }));
  }

  /** x_0 [P, inDim] → logits [P, 1]. */
  forward(x0: Tensor<"f32">): Tensor<"f32"> {
    return this.fc.forward(concat([this.cross.forward(x0), this.dnn.forward(x0)], 1));
  }
}

/** The HMI predictor over user and item semantic tokens. */
export class HmiPredictor extends Module {
  /** Resolved settings. */
  readonly cfg: Required<HmiConfig>;
  /** Item token table [S_i·K_i, D] (`item_tokens`). */
  readonly itemTable: Embedding;
  /** User token table [S_u·K_u, D] (`user_tokens`), or null when shared. */
  readonly userTable: Embedding | null;
  /** Base CTR network f (`base`). */
  readonly base: Dcn;
  /** Mixing layer S_i·S_u → 1 (`mix`). */
  readonly mix: Linear;

  /** A predictor; see {@link HmiConfig}. */
  constructor(cfg: HmiConfig) {
    super();
    const c = this.cfg = {
      dim: 32,
      crossLayers: 2,
      hidden: [64, 32],
      shareTable: false,
      seed: 0,
      ...cfg,
    };
    const rng = new Rng(c.seed);
    const table = (n: number) => Float32Array.from({ length: n * c.dim }, () => 0.1 * rng.normal());
    const itemRows = c.itemLevels * c.itemCodes;
    const userRows = c.userLevels * c.userCodes;
    if (c.shareTable && userRows > itemRows) {
      throw new Error(
        `wgrec HmiPredictor: a shared table has ${itemRows} item-token rows, the user tokens ` +
          `need ${userRows}`,
      );
    }
    this.itemTable = this.child("item_tokens", new Embedding(itemRows, c.dim, table(itemRows)));
    this.userTable = c.shareTable
      ? null
      : this.child("user_tokens", new Embedding(userRows, c.dim, table(userRows)));
    this.base = this.child("base", new Dcn(2 * c.dim, c.crossLayers, c.hidden, c.seed + 5));
    this.mix = this.child("mix", new Linear(c.itemLevels * c.userLevels, 1, { seed: c.seed + 9 }));
  }

  /** Prefix sums over the level axis of [B, S, D]. */
  #prefix(x: Tensor<"f32">): Tensor<"f32"> {
    const [b, s, d] = x.shape;
    const out: Tensor<"f32">[] = [];
    let acc: Tensor<"f32"> | null = null;
    for (let l = 0; l < s; l++) {
      const xl = slice(x, [0, l, 0], [b, 1, d]);
      acc = acc ? add(acc, xl) : xl;
      out.push(acc);
    }
    return concat(out, 1);
  }

  /**
   * Logits [B] from token rows: `userTokens` [B, S_u] and `itemTokens` [B, S_i] (i32 rows of
   * the tables, i.e. `level·K + code`).
   */
  forward(userTokens: Tensor<"i32">, itemTokens: Tensor<"i32">): Tensor<"f32"> {
    const { userLevels: su, itemLevels: si, dim: d } = this.cfg;
    const bsz = userTokens.shape[0];
    if (
      userTokens.rank !== 2 || itemTokens.rank !== 2 || userTokens.shape[1] !== su ||
      itemTokens.shape[1] !== si || itemTokens.shape[0] !== bsz
    ) {
      throw new Error(
        `wgrec HmiPredictor: user tokens ${fmt(userTokens.shape)} and item tokens ` +
          `${fmt(itemTokens.shape)}, expected [B, ${su}] and [B, ${si}]`,
      );
    }
    const uTable = this.userTable ?? this.itemTable;
    const u = reshape(gather(uTable.weight, reshape(userTokens, [-1])), [bsz, su, d]);
    const it = reshape(gather(this.itemTable.weight, reshape(itemTokens, [-1])), [bsz, si, d]);
    return this.mixEmbeddings(this.#prefix(u), this.#prefix(it));
  }

  /**
   * The mixture over given level embeddings u [B, S_u, D] and i [B, S_i, D] (already summed
   * coarse-to-fine): f on every (item level, user level) pair, then the mixing layer → [B].
   */
  mixEmbeddings(u: Tensor<"f32">, it: Tensor<"f32">): Tensor<"f32"> {
    const [bsz, su, d] = u.shape;
    const si = it.shape[1];
    // Every (item level i, user level j) pair, item-level-major: [B, S_i, S_u, 2D].
    const ub = broadcastTo(reshape(u, [bsz, 1, su, d]), [bsz, si, su, d]);
    const ib = broadcastTo(reshape(it, [bsz, si, 1, d]), [bsz, si, su, d]);
    const x0 = reshape(concat([ub, ib], 3), [bsz * si * su, 2 * d]);
    const s = reshape(this.base.forward(x0), [bsz, si * su]); // f per pair
    return reshape(this.mix.forward(s), [bsz]);
  }
}
