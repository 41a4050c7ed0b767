/**
 * UIST's CTR stage (../shared/specs/uist.md §5.1 Stage C) as a `CtrModel` over the runner's CTR
 * rows: each row's user and item ids select their semantic tokens (exported by the two
 * tokenizers, ./tokenizer.ts), which the HMI predictor (./hmi.ts) scores. {@link DenseCtr} is
 * the same base network on the cached dense embeddings e (one level per side), the model the
 * tokens compress; {@link compression} counts the bytes of both (spec §5.1 claims ≈ 200×).
 *
 * Rows whose id the CTR encoder did not see in training (OOV id 0) use the token row given for
 * id 0 by the caller.
 * @module
 */

import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { concat, reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { keep, type Tensor, tensor } from "../../tensor.ts";
import type { CtrModel, CtrTensors } from "../../train/ctr.ts";
import { Dcn, type HmiConfig, HmiPredictor } from "./hmi.ts";

/** Column f of an i32 [B, F] table, as [B]. */
function column(x: Tensor<"i32">, f: number): Tensor<"i32"> {
  const b = x.shape[0];
  return reshape(slice(x, [0, f], [b, 1]), [b]);
}

/** Token rows of every user and item id (level-offset codes: `level·K + code`). */
export interface SemanticTokens {
  /** [numUserIds, S_u] row-major. */
  user: Int32Array;
  /** [numItemIds, S_i] row-major. */
  item: Int32Array;
}

/** UIST on CTR rows: the user/item fields' ids → semantic tokens → HMI. */
export class UistCtr extends Module implements CtrModel {
  /** Display name. */
  readonly name = "UIST";
  /** The predictor (`hmi`). */
  readonly hmi: HmiPredictor;
  #user: Tensor<"i32">;
  #item: Tensor<"i32">;

  /** `userField`/`itemField`: positions of the id fields among the rows' sparse fields. */
  constructor(
    tokens: SemanticTokens,
    cfg: HmiConfig,
    readonly userField: number,
    readonly itemField: number,
  ) {
    super();
    const { userLevels: su, itemLevels: si } = cfg;
    if (tokens.user.length % su || tokens.item.length % si) {
      throw new Error(
        `wgrec UistCtr: ${tokens.user.length} user and ${tokens.item.length} item tokens do ` +
          `not form rows of ${su} and ${si} levels`,
      );
    }
    const check = (t: Int32Array, rows: number, what: string) => {
      const bad = t.findIndex((v) => !(v >= 0 && v < rows));
      if (bad >= 0) {
        throw new Error(
          `wgrec UistCtr: ${what} token ${t[bad]} at position ${bad} is outside the ${rows} ` +
            `token rows (level·codes + code); a code outside its codebook`,
        );
      }
    };
    check(tokens.user, su * cfg.userCodes, "user");
    check(tokens.item, si * cfg.itemCodes, "item");
    this.#user = keep(tensor(tokens.user, [tokens.user.length / su, su], "i32"));
    this.#item = keep(tensor(tokens.item, [tokens.item.length / si, si], "i32"));
    this.hmi = this.child("hmi", new HmiPredictor(cfg));
  }

  /** Logits [B] of a batch. */
  logits(b: CtrTensors): Tensor<"f32"> {
    const ut = gather(this.#user, column(b.sparse, this.userField));
    const it = gather(this.#item, column(b.sparse, this.itemField));
    return this.hmi.forward(ut, it);
  }

  /** Frees parameters and token tables. */
  override dispose(): void {
    super.dispose();
    this.#user.dispose();
    this.#item.dispose();
  }
}

/** The same base network on dense cached embeddings (one level per side). */
export class DenseCtr extends Module implements CtrModel {
  /** Display name. */
  readonly name = "UIST-dense";
  /** d → D projection of user vectors (`user_proj`). */
  readonly userProj: Linear;
  /** d → D projection of item vectors (`item_proj`). */
  readonly itemProj: Linear;
  /** DCN over [u; i] (`base`). */
  readonly base: Dcn;
  #user: Tensor<"f32">;
  #item: Tensor<"f32">;

  /** Frozen tables `user` [Nu, d] and `item` [Ni, d] (row-major), DCN sizes as HMI's. */
  constructor(
    user: Float32Array,
    item: Float32Array,
    readonly dim: number,
    cfg: { embed?: number; crossLayers?: number; hidden?: number[]; seed?: number },
    readonly userField: number,
    readonly itemField: number,
  ) {
    super();
    if (user.length % dim || item.length % dim) {
      throw new Error(`wgrec DenseCtr: tables of ${user.length}/${item.length} values, d = ${dim}`);
    }
    const D = cfg.embed ?? 32;
    const seed = cfg.seed ?? 0;
    this.#user = keep(tensor(user, [user.length / dim, dim]));
    this.#item = keep(tensor(item, [item.length / dim, dim]));
    this.userProj = this.child("user_proj", new Linear(dim, D, { seed }));
    this.itemProj = this.child("item_proj", new Linear(dim, D, { seed: seed + 1 }));
    this.base = this.child(
      "base",
      new Dcn(2 * D, cfg.crossLayers ?? 2, cfg.hidden ?? [64, 32], seed + 5),
    );
  }

  /** Logits [B]. */
  logits(b: CtrTensors): Tensor<"f32"> {
    const u = this.userProj.forward(gather(this.#user, column(b.sparse, this.userField)));
    const i = this.itemProj.forward(gather(this.#item, column(b.sparse, this.itemField)));
    return reshape(this.base.forward(concat([u, i], 1)), [b.size]);
  }

  /** Frees parameters and tables. */
  override dispose(): void {
    super.dispose();
    this.#user.dispose();
    this.#item.dispose();
  }
}

/** Bytes of the semantic-token representation against the dense embedding cache. */
export interface CompressionRow {
  /** Entities (users + items). */
  entities: number;
  /** Dense cache: entities × d float32. */
  denseBytes: number;
  /** Tokens packed at ⌈log2 K⌉ bits per level. */
  tokenBytes: number;
  /** Tokenizer codebooks (float32), needed to decode tokens back to vectors. */
  codebookBytes: number;
  /** HMI token-embedding tables (float32), what the CTR model stores per token. */
  tokenTableBytes: number;
  /** dense / tokens. */
  ratioTokens: number;
  /** dense / (tokens + HMI token tables). */
  ratioWithTables: number;
}

/** The compression arithmetic of one side pair (see {@link CompressionRow}). */
export function compression(a: {
  users: number;
  items: number;
  dim: number;
  userLevels: number;
  itemLevels: number;
  userCodes: number;
  itemCodes: number;
  hmiDim: number;
}): CompressionRow {
  const bits = (k: number) => Math.max(1, Math.ceil(Math.log2(k)));
  const entities = a.users + a.items;
  const denseBytes = entities * a.dim * 4;
  const tokenBytes = Math.ceil(
    (a.users * a.userLevels * bits(a.userCodes) + a.items * a.itemLevels * bits(a.itemCodes)) / 8,
  );
  const codebookBytes = (a.userLevels * a.userCodes + a.itemLevels * a.itemCodes) * a.dim * 4;
  const tokenTableBytes = (a.userLevels * a.userCodes + a.itemLevels * a.itemCodes) * a.hmiDim * 4;
  return {
    entities,
    denseBytes,
    tokenBytes,
    codebookBytes,
    tokenTableBytes,
    ratioTokens: denseBytes / tokenBytes,
    ratioWithTables: denseBytes / (tokenBytes + tokenTableBytes),
  };
}
