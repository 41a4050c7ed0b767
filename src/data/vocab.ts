/**
 * Token vocabularies with a minimum count and an out-of-vocabulary bucket, for categorical
 * features (CTR fields, genres, news categories). Browser-safe.
 * @module
 */

/** Options for {@link Vocab.fit}. */
export interface VocabOptions {
  /** Tokens seen fewer times than this map to the OOV bucket. Default 1 (keep all). */
  minCount?: number;
  /** Keep at most this many tokens (the most frequent), OOV excluded. Default unlimited. */
  maxSize?: number;
}

/**
 * A token ↔ index map where index 0 is the out-of-vocabulary bucket (rare, unseen tokens) and
 * tokens get 1…size-1 by decreasing frequency, ties broken by token text so fitting is
 * deterministic. An empty string is an ordinary token (a missing value is informative in CTR
 * data).
 */
export class Vocab {
  /** Index of the out-of-vocabulary bucket. */
  static readonly OOV = 0;
  /** Token of each index; `tokens[0]` is the OOV placeholder `"<oov>"`. */
  readonly tokens: string[];
  /** Training count of each index (OOV: the total count of tokens mapped to it). */
  readonly counts: Int32Array;
  #index: Map<string, number>;

  /**
   * Build from tokens in index order; index 0 is added in front as OOV, so `tokens[j]` gets
   * index j+1. `counts`, when given, is per index with the OOV count first (length
   * `tokens.length + 1`); counts default to 0.
   */
  constructor(tokens: readonly string[], counts?: ArrayLike<number>) {
    this.tokens = ["<oov>", ...tokens];
    this.counts = new Int32Array(this.tokens.length);
    if (counts) this.counts.set(counts);
    this.#index = new Map();
    for (let i = 0; i < tokens.length; i++) {
      if (this.#index.has(tokens[i])) throw new Error(`Vocab: duplicate token '${tokens[i]}'`);
      this.#index.set(tokens[i], i + 1);
    }
  }

  /** Fit a vocabulary on training tokens. */
  static fit(tokens: Iterable<string>, options: VocabOptions = {}): Vocab {
    const minCount = options.minCount ?? 1;
    const counts = new Map<string, number>();
    for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1);
    return Vocab.fromCounts(counts, { minCount, maxSize: options.maxSize });
  }

  /** Fit a vocabulary from token counts. */
  static fromCounts(counts: ReadonlyMap<string, number>, options: VocabOptions = {}): Vocab {
    const minCount = options.minCount ?? 1;
    let kept = [...counts].filter(([, c]) => c >= minCount);
    kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (options.maxSize !== undefined) kept = kept.slice(0, options.maxSize);
    let oov = 0;
    for (const c of counts.values()) oov += c;
    for (const [, c] of kept) oov -= c;
    const v = new Vocab(kept.map(([t]) => t), [oov, ...kept.map(([, c]) => c)]);
    return v;
  }

  /** Number of indices, OOV included (the embedding table size). */
  get size(): number {
    return this.tokens.length;
  }

  /** Index of a token; {@link Vocab.OOV} when not in the vocabulary. */
  encode(token: string): number {
    return this.#index.get(token) ?? Vocab.OOV;
  }

  /** Indices of many tokens. */
  encodeAll(tokens: readonly string[]): Int32Array {
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) out[i] = this.#index.get(tokens[i]) ?? 0;
    return out;
  }

  /** Whether a token has its own index. */
  has(token: string): boolean {
    return this.#index.has(token);
  }
}
