/**
 * A word tokenizer built from the item corpus (our stand-in for BERT's word pieces, which need
 * a downloaded vocabulary): text is lower-cased and split into runs of letters and digits
 * (apostrophes inside words kept), words seen at least `minCount` times get ids by decreasing
 * frequency after five special tokens, the rest map to `[UNK]`. A row is `[CLS] w1 … wn`,
 * truncated to L and padded with `[PAD]` (id 0).
 * @module
 */

/** Ids of the special tokens. */
export const SPECIAL = { pad: 0, unk: 1, cls: 2, sep: 3, mask: 4 } as const;
const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/** Words of a text: lower-cased runs of letters/digits (inner apostrophes kept). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? [];
}

/** Token rows of many texts. */
export interface TokenRows {
  /** Ids, row-major [rows, L]. */
  ids: Int32Array;
  /** Real tokens per row ([CLS] included), ≥ 1. */
  lengths: Int32Array;
  /** Row length. */
  L: number;
}

/** A word vocabulary with BERT-style special tokens. */
export class WordTokenizer {
  /** Token of each id. */
  readonly tokens: string[];
  #index = new Map<string, number>();

  /** From tokens in id order (the five special tokens first). */
  constructor(tokens: readonly string[]) {
    if (SPECIAL_TOKENS.some((t, i) => tokens[i] !== t)) {
      throw new Error(`wgrec WordTokenizer: the first tokens must be ${SPECIAL_TOKENS.join(" ")}`);
    }
    this.tokens = [...tokens];
    this.tokens.forEach((t, i) => this.#index.set(t, i));
  }

  /** Fits a vocabulary on a corpus: words seen ≥ minCount times, at most maxSize of them. */
  static fit(
    texts: Iterable<string>,
    opts: { minCount?: number; maxSize?: number } = {},
  ): WordTokenizer {
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of words(t)) counts.set(w, (counts.get(w) ?? 0) + 1);
    const kept = [...counts].filter(([, c]) => c >= (opts.minCount ?? 1))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, opts.maxSize ?? Infinity)
      .map(([w]) => w);
    return new WordTokenizer([...SPECIAL_TOKENS, ...kept]);
  }

  /** Vocabulary size (special tokens included). */
  get size(): number {
    return this.tokens.length;
  }

  /** Id of a word (`[UNK]` when unknown). */
  id(word: string): number {
    return this.#index.get(word) ?? SPECIAL.unk;
  }

  /** `[CLS]` and the words of each text, truncated to L, padded with `[PAD]`. */
  encode(texts: readonly string[], L: number): TokenRows {
    if (!(Number.isInteger(L) && L >= 2)) {
      throw new Error(`wgrec WordTokenizer: row length ${L}, expected an integer ≥ 2`);
    }
    const ids = new Int32Array(texts.length * L);
    const lengths = new Int32Array(texts.length);
    texts.forEach((t, r) => {
      const w = words(t).slice(0, L - 1);
      ids[r * L] = SPECIAL.cls;
      w.forEach((x, i) => (ids[r * L + 1 + i] = this.id(x)));
      lengths[r] = 1 + w.length;
    });
    return { ids, lengths, L };
  }
}
