/**
 * The one pretrained encoder of the comparison and the item token rows it reads: the corpus
 * (a RecBole `.item` file, ml-100k's "title year genres", or the data's own item text) is
 * tokenised exactly as `textmlm` tokenises it, so a `textmlm` run's weights
 * (`model.safetensors`, names `encoder.*`) load here unchanged; each data item then takes its
 * corpus row by raw id. Without weights, stage 1 runs here (OLEO's `pretrainEncoder`).
 * @module
 */

import { decodeSafetensors } from "../../io/safetensors.ts";
import { loadModule } from "../../nn/serialize.ts";
import type { RetrievalData } from "../../runner/data.ts";
import { splitLines } from "../../data/text.ts";
import { itemTextOf } from "../oleo/register.ts";
import { pretrainEncoder, tokenize } from "../oleo/stage.ts";
import { TextEncoder } from "../oleo/text_encoder.ts";
import type { TokenRows } from "../oleo/tokenizer.ts";

/** Where the text and the encoder come from. */
export interface EncoderSource {
  /** Item text file (`.item` or `news.tsv`, as textmlm's `text`); empty: the data's text. */
  text: string;
  /** A textmlm run's `model.safetensors`; empty: pretrain here for `mlmEpochs`. */
  encoder: string;
  /** Tokens per item ([CLS] included); must equal the textmlm run's. */
  maxLength: number;
  /** In-place pretraining: width, layers, heads, MLM epochs, seed. */
  hidden: number;
  /** See {@link hidden}. */
  layers: number;
  /** See {@link hidden}. */
  heads: number;
  /** See {@link hidden}. */
  mlmEpochs: number;
  /** See {@link hidden}. */
  seed: number;
}

/** The corpus rows and, per data item, its row (identity for the data's own text). */
async function corpusOf(
  data: RetrievalData,
  file: string,
): Promise<{ corpus: string[]; rowOf: Int32Array }> {
  const n = data.split.train.numItems;
  if (!file) {
    if (!data.itemText) {
      throw new Error(`wgrec textrec: ${data.name} has no item text; give it with --set text=PATH`);
    }
    return { corpus: data.itemText, rowOf: Int32Array.from({ length: n }, (_, i) => i) };
  }
  const raw = await Deno.readTextFile(file);
  const corpus = itemTextOf(raw, file);
  if (!data.rawIds) throw new Error(`wgrec textrec: ${data.name} has no raw item ids for ${file}`);
  // Both layouts start each line with the item id (after a typed header in a .item file).
  const lines = [...splitLines(raw)].filter((l) => l.length > 0);
  const ids = (/:token/.test(lines[0]) ? lines.slice(1) : lines).map((l) => l.split("\t")[0]);
  const index = new Map(ids.map((id, r) => [id, r]));
  const rowOf = Int32Array.from({ length: n }, (_, i) => {
    const id = data.rawIds!.items.ids[i];
    const r = index.get(id);
    if (r === undefined) throw new Error(`wgrec textrec: item '${id}' has no line in ${file}`);
    return r;
  });
  return { corpus, rowOf };
}

/** Rows `rowOf` of `all`, as token rows of their own. */
function pick(all: TokenRows, rowOf: Int32Array): TokenRows {
  const L = all.L;
  const ids = new Int32Array(rowOf.length * L);
  rowOf.forEach((r, i) => ids.set(all.ids.subarray(r * L, (r + 1) * L), i * L));
  return { ids, lengths: Int32Array.from(rowOf, (r) => all.lengths[r]), L };
}

/** The pretrained encoder and the data items' token rows. */
export async function loadEncoder(
  data: RetrievalData,
  s: EncoderSource,
  log: (line: string) => void = () => {},
): Promise<{ encoder: TextEncoder; tokens: TokenRows }> {
  const { corpus, rowOf } = await corpusOf(data, s.text);
  if (!s.encoder) {
    const s1 = await pretrainEncoder(corpus, {
      maxLength: s.maxLength,
      hidden: s.hidden,
      layers: s.layers,
      heads: s.heads,
      epochs: s.mlmEpochs,
      seed: s.seed,
    }, log);
    log(`textrec: pretrained here (${s.mlmEpochs} MLM epochs, ${s1.seconds.toFixed(1)} s)`);
    return { encoder: s1.mlm.encoder, tokens: pick(s1.tokens, rowOf) };
  }
  const all = tokenize(corpus, { maxLength: s.maxLength });
  let vocab = 0;
  for (const x of all.ids) vocab = Math.max(vocab, x + 1);
  const file = decodeSafetensors(await Deno.readFile(s.encoder));
  // The textmlm run's own shape settings win over ours (they made the weights).
  const cfg = JSON.parse(file.metadata.config ?? "{}");
  if (cfg.maxLength !== undefined && cfg.maxLength !== s.maxLength) {
    throw new Error(
      `wgrec textrec: ${s.encoder} was pretrained on rows of ${cfg.maxLength} tokens; ` +
        `set maxLength=${cfg.maxLength} (the tokenisation must match)`,
    );
  }
  const word = file.tensors["encoder.embeddings.word_embeddings.weight"];
  if (!word || word.shape[0] !== vocab) {
    throw new Error(
      `wgrec textrec: ${s.encoder} has a ${word?.shape[0] ?? "missing"}-word table, the text ` +
        `gives ${vocab} words; pretrain textmlm on the same text (--set text=…)`,
    );
  }
  const encoder = new TextEncoder({
    vocabSize: vocab,
    maxLength: all.L,
    hidden: cfg.hidden ?? s.hidden,
    layers: cfg.layers ?? s.layers,
    heads: cfg.heads ?? s.heads,
    seed: s.seed,
  });
  loadModule(encoder, file, { prefix: "encoder." });
  log(`textrec: encoder from ${s.encoder} (${vocab} words, ${all.L} tokens per item)`);
  return { encoder, tokens: pick(all, rowOf) };
}
