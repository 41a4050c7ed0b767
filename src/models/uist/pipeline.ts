/**
 * UIST's three stages on the shared training loop (../shared/specs/uist.md §5.1): Stage A
 * trains the item tokenizer on item content, Stage B the user tokenizer on click histories over
 * the exported item embeddings, Stage C a CTR model over the resulting tokens (./model.ts).
 * {@link contentFromCtr} reads both inputs from the runner's CTR rows when no other content is
 * at hand (items: their genre tokens; users: positive items of the training rows).
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { mean } from "../../ops/core/reduce.ts";
import { keep, tidy } from "../../tensor.ts";
import type { CtrData } from "../../data/ctr.ts";
import { type Task, trainLoop } from "../../train/loop.ts";
import { SemanticTokenizer, type TokenBatch, tokenBatch } from "./tokenizer.ts";

/** The pretraining task of a tokenizer over fixed sequences: batches of rows, loss, full eval. */
export function tokenizerTask(
  tok: SemanticTokenizer,
  seqs: readonly number[][],
  maxLen: number,
): Task<number[]> {
  const n = seqs.length;
  const batch = (ids: number[]): TokenBatch => tokenBatch(ids.map((i) => seqs[i]), maxLen);
  return {
    name: "UIST tokenizer",
    module: tok,
    trainable: true,
    metric: { name: "loss", mode: "min" },
    steps: (b) => Math.ceil(n / b),
    batches: function* (b, rng) {
      const order = rng.shuffle(Array.from({ length: n }, (_, i) => i)) as number[];
      for (let i = 0; i < n; i += b) yield order.slice(i, i + b);
    },
    size: (ids) => ids.length,
    loss: (ids) => {
      const o = tok.forward(batch(ids));
      return { loss: o.loss, parts: o.parts };
    },
    evaluate: async () => {
      tok.eval(); // no dead-code resets while measuring
      const l = noGrad(() =>
        tidy(() => mean(tok.forward(batch(Array.from({ length: n }, (_, i) => i))).loss))
      );
      tok.train();
      return { loss: (await l.read())[0] };
    },
  };
}

/** Settings of {@link fitTokenizer}. */
export interface FitTokenizerOptions {
  /** Width d. */
  dim: number;
  /** RQ depth. */
  depth: number;
  /** Total codes over the levels. */
  numCodes: number;
  /** Epoch limit. */
  epochs: number;
  /** Straight-through RQ instead of the official no-STE. Default false. */
  straightThrough?: boolean;
  /**
   * Initialise each RQ level's codebook by k-means++/Lloyd on the (residual) encoder outputs of
   * every row before training (the earlier official code's k-means init). Default false.
   */
  kmeansInit?: boolean;
  /** Steps a code may stay unused before it is reset (0: never). Default 20. */
  deadAfter?: number;
  /** Fixed input table (the user side: exported item embeddings). */
  inputTable?: Float32Array;
  /** Seed. */
  seed: number;
}

/** A trained tokenizer's exports. */
export interface TokenizerExport {
  /** Embeddings e of every row, [n, d]. */
  embeddings: Float32Array;
  /** Codes [n, depth]. */
  codes: Int32Array;
  /** Final full-data loss. */
  loss: number;
  /** The tokenizer (codebooks for `.npy` export). */
  tokenizer: SemanticTokenizer;
}

/** Trains a tokenizer on `seqs` (ids < `vocab`) with the shared loop and exports e and codes. */
export async function fitTokenizer(
  seqs: readonly number[][],
  vocab: number,
  o: FitTokenizerOptions,
): Promise<TokenizerExport> {
  const maxLen = Math.max(...seqs.map((s) => s.length));
  const tok = new SemanticTokenizer({
    vocabSize: vocab,
    dim: o.dim,
    attnHidden: o.dim,
    depth: o.depth,
    numCodes: o.numCodes,
    straightThrough: o.straightThrough,
    deadAfter: o.deadAfter ?? 20,
    inputTable: o.inputTable,
    seed: o.seed,
  });
  const b = tokenBatch(seqs, maxLen);
  if (o.kmeansInit) {
    const e = noGrad(() => tidy(() => keep(tok.encode(b))));
    await tok.rq.initFromData(e, { seed: o.seed });
    e.dispose();
  }
  const r = await trainLoop(tokenizerTask(tok, seqs, maxLen), {
    epochs: o.epochs,
    batchSize: 64,
    lr: 1e-3,
    evalEvery: 5,
    patience: 2,
    mode: "min",
    validMetric: "loss",
    seed: o.seed,
  });
  const [e, codes] = noGrad(() => tidy(() => [keep(tok.encode(b)), keep(tok.codes(b))]));
  const out = {
    embeddings: await e.read(),
    codes: await codes.read(),
    loss: r.valid.loss,
    tokenizer: tok,
  };
  e.dispose();
  codes.dispose();
  return out;
}

/** Level-offset token rows `level·K + code` of codes [n, depth]. */
export function levelRows(codes: Int32Array, depth: number, codesPerLevel: number): Int32Array {
  return Int32Array.from(codes, (c, j) => (j % depth) * codesPerLevel + c);
}

/** Item and user sequences from CTR rows (see the module header). */
export interface CtrContent {
  /** Content tokens of each item id (index 0: the OOV id). */
  itemSeqs: number[][];
  /** Vocabulary of the item content tokens. */
  itemVocab: number;
  /** Positive items of each user id in the training rows, oldest first, last 30. */
  userSeqs: number[][];
}

/**
 * Item content = the row's `genres` tokens (offset by 1; token 0 marks an item without
 * genres); user history = the items of the user's positive training rows. A user without
 * positives, and the OOV user id, read the OOV item 0 (the tokenizer refuses empty
 * sequences).
 */
export function contentFromCtr(
  train: CtrData,
  userField: string,
  itemField: string,
  genreField = "genres",
): CtrContent {
  const nf = train.sparseNames.length;
  const uf = train.sparseNames.indexOf(userField);
  const itf = train.sparseNames.indexOf(itemField);
  const g = train.sequences.find((s) => s.name === genreField);
  if (uf < 0 || itf < 0) {
    throw new Error(
      `wgrec UIST: CTR rows have fields [${train.sparseNames}], expected '${userField}' and ` +
        `'${itemField}'`,
    );
  }
  const ni = train.cardinalities[itf];
  const nu = train.cardinalities[uf];
  const itemSeqs: number[][] = Array.from({ length: ni }, () => []);
  const userSeqs: number[][] = Array.from({ length: nu }, () => []);
  for (let r = 0; r < train.numRows; r++) {
    const it = train.sparse[r * nf + itf];
    if (itemSeqs[it].length === 0 && g) {
      for (let j = g.indptr[r]; j < g.indptr[r + 1]; j++) itemSeqs[it].push(g.indices[j] + 1);
    }
    if (train.labels[r] > 0) userSeqs[train.sparse[r * nf + uf]].push(it);
  }
  return {
    itemSeqs: itemSeqs.map((s) => (s.length ? s : [0])),
    itemVocab: (g?.cardinality ?? 0) + 1,
    userSeqs: userSeqs.map((s) => (s.length ? s.slice(-30) : [0])),
  };
}
