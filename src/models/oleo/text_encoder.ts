/**
 * Stage 1 of OLEO (spec §4.2): a small BERT-style news encoder — word and position
 * embeddings, LayerNorm, then N post-LN Transformer layers (the L3H4E64 variant: 3 layers,
 * 4 heads, width 64, GELU feed-forward of 4·64) — pretrained with masked-language modelling on
 * the item text, then run once to export one vector per item (the `[CLS]` state): "only encode
 * once". The same module is the end-to-end baseline's in-model encoder, and
 * {@link TextEncoder.hiddenAt} / {@link TextEncoder.forwardFrom} give layer caching (frozen
 * lower layers' states cached, only the top layers tuned).
 * @module
 */

import { add } from "../../ops/core/elementwise.ts";
import { concat, reshape, slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { noGrad } from "../../autograd/tape.ts";
import { keep, randNormal, type Tensor, tensor, tidy } from "../../tensor.ts";
import { Module } from "../../nn/module.ts";
import { LayerNorm } from "../../nn/norm.ts";
import { TransformerEncoderLayer } from "../../nn/attention.ts";
import { dropout } from "../../nn/dropout.ts";
import { MlmHead } from "../../nn/mlm.ts";
import type { TokenRows } from "./tokenizer.ts";

/** Encoder hyper-parameters (defaults: the L3H4E64 variant of the GreenRec code). */
export interface TextEncoderConfig {
  /** Vocabulary size. */
  vocabSize: number;
  /** Longest row (position table size). Default 32. */
  maxLength?: number;
  /** Width E. Default 64. */
  hidden?: number;
  /** Transformer layers. Default 3. */
  layers?: number;
  /** Attention heads. Default 4. */
  heads?: number;
  /** Dropout (embeddings, attention, feed-forward) in training mode. Default 0.1. */
  dropout?: number;
  /** Seed of the initial weights and dropout masks. Default 0. */
  seed?: number;
}

/** Word + position embeddings and their LayerNorm (BERT's `embeddings`). */
export class TextEmbeddings extends Module {
  /** Word table [V, E] (`word_embeddings.weight`). */
  readonly word: Tensor<"f32">;
  /** Position table [Lmax, E] (`position_embeddings.weight`). */
  readonly position: Tensor<"f32">;
  /** `LayerNorm`. */
  readonly norm: LayerNorm;
  /** Tables of V words and Lmax positions of width E, BERT's N(0, 0.02) init. */
  constructor(V: number, Lmax: number, E: number, seed: number) {
    super();
    // BERT's init: N(0, 0.02).
    this.word = this.param("word_embeddings.weight", randNormal([V, E], seed, 0.02));
    this.position = this.param("position_embeddings.weight", randNormal([Lmax, E], seed + 1, 0.02));
    this.norm = this.child("LayerNorm", new LayerNorm(E, 1e-12));
  }
}

/** Numbered sub-modules (`layers.0`, `layers.1`, …). */
export class LayerStack extends Module {
  #n = 0;
  /** Registers the next layer. */
  add<M extends Module>(m: M): M {
    return this.child(String(this.#n++), m);
  }
}

/** The news encoder: embeddings, Transformer layers, and an MLM head for pretraining. */
export class TextEncoder extends Module {
  /** Width E. */
  readonly hidden: number;
  /** Longest row. */
  readonly maxLength: number;
  /** Dropout rate in training mode. */
  readonly dropout: number;
  /** Embeddings. */
  readonly embeddings: TextEmbeddings;
  /** The Transformer layers (`layers.i.*`). */
  readonly layers: TransformerEncoderLayer[];
  /** MLM head tied to the word table (`cls.*`). */
  readonly mlm: MlmHead;
  #seed: number;
  #calls = 0;

  /** An encoder for `cfg.vocabSize` words. */
  constructor(readonly cfg: TextEncoderConfig) {
    super();
    const E = this.hidden = cfg.hidden ?? 64;
    const heads = cfg.heads ?? 4;
    this.maxLength = cfg.maxLength ?? 32;
    this.dropout = cfg.dropout ?? 0.1;
    const seed = this.#seed = cfg.seed ?? 0;
    this.embeddings = this.child(
      "embeddings",
      new TextEmbeddings(cfg.vocabSize, this.maxLength, E, seed),
    );
    const stack = this.child("layers", new LayerStack());
    this.layers = Array.from({ length: cfg.layers ?? 3 }, (_, i) =>
      stack.add(
        new TransformerEncoderLayer(E, heads, {
          dimFeedforward: 4 * E,
          dropout: this.dropout,
          activation: "gelu",
          seed: seed + 100 * (i + 1),
        }),
      ));
    this.mlm = this.child("cls", new MlmHead(E, cfg.vocabSize, seed + 7));
  }

  /** Embedding output [B, L, E] of ids [B, L]. */
  embed(ids: Tensor<"i32">): Tensor<"f32"> {
    const [B, L] = ids.shape;
    if (L > this.maxLength) {
      throw new Error(`wgrec TextEncoder: rows of ${L} tokens, longer than ${this.maxLength}`);
    }
    const E = this.hidden;
    const w = reshape(gather(this.embeddings.word, reshape(ids, [B * L])), [B, L, E]);
    const p = slice(this.embeddings.position, [0, 0], [L, E]);
    const h = this.embeddings.norm.forward(add(w, p));
    return this.training ? dropout(h, this.dropout, this.#nextSeed()) : h;
  }

  #nextSeed(): number {
    return (Math.imul(this.#seed + 11, 0x9e3779b1) + this.#calls++ * 0x85ebca6b) >>> 0;
  }

  /** Runs layers [from, end) on states `h` [B, L, E] with `lengths` real tokens per row. */
  forwardFrom(from: number, h: Tensor<"f32">, lengths: Tensor<"i32">): Tensor<"f32"> {
    for (let i = from; i < this.layers.length; i++) {
      h = this.layers[i].forward(h, { keyLengths: lengths });
    }
    return h;
  }

  /** Hidden states [B, L, E] of the last layer. */
  forward(ids: Tensor<"i32">, lengths: Tensor<"i32">): Tensor<"f32"> {
    return this.forwardFrom(0, this.embed(ids), lengths);
  }

  /** States after the first `k` layers (k = 0: the embeddings). */
  hiddenAt(k: number, ids: Tensor<"i32">, lengths: Tensor<"i32">): Tensor<"f32"> {
    let h = this.embed(ids);
    for (let i = 0; i < k; i++) h = this.layers[i].forward(h, { keyLengths: lengths });
    return h;
  }

  /** The `[CLS]` state of each row: [B, L, E] → [B, E]. */
  pool(h: Tensor<"f32">): Tensor<"f32"> {
    const [B, , E] = h.shape;
    return reshape(slice(h, [0, 0, 0], [B, 1, E]), [B, E]);
  }

  /**
   * Encode once: the pooled vector of every row, [N, E], in evaluation mode without a graph,
   * `chunk` rows at a time. The result is kept (dispose it when done).
   */
  encodeAll(rows: TokenRows, chunk = 256): Tensor<"f32"> {
    const n = rows.lengths.length;
    const was = this.training;
    this.eval();
    try {
      return noGrad(() =>
        tidy(() => {
          const parts: Tensor<"f32">[] = [];
          for (let lo = 0; lo < n; lo += chunk) {
            parts.push(this.pool(this.forward(...rowTensors(rows, lo, Math.min(n, lo + chunk)))));
          }
          return keep(parts.length === 1 ? parts[0] : concat(parts, 0));
        })
      );
    } finally {
      this.train(was);
    }
  }
}

/** ids [hi − lo, L] and lengths [hi − lo] of rows lo…hi as GPU tensors. */
export function rowTensors(
  rows: TokenRows,
  lo: number,
  hi: number,
): [Tensor<"i32">, Tensor<"i32">] {
  return [
    tensor(rows.ids.subarray(lo * rows.L, hi * rows.L), [hi - lo, rows.L], "i32"),
    tensor(rows.lengths.subarray(lo, hi), [hi - lo], "i32"),
  ];
}
