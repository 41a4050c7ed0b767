/**
 * PMG (Shen et al., WWW 2024, arXiv 2404.08677), small and faithful (spec
 * ../shared/specs/pmg.md §5.1–5.2): behaviour → natural-language description → preference
 * keywords (TF-IDF, `keywords.ts`); soft preference embeddings from a small encoder with
 * P-Tuning-v2 prefixes and 4 multimodal tokens (`preference.ts`), injected as prefix key/values
 * into two small generators trained here: a causal text decoder over item titles and
 * descriptions (`generator_text.ts`) and a poster decoder (`generator_image.ts`); candidates
 * chosen by z = α·log d_p + (1−α)·log d_t (`select.ts`), scored by `metrics.ts`.
 *
 * Training (the paper's soft-embedding training is not released; the spec presumes the
 * generator's own loss): one step of a batch of (user, target) pairs minimises
 *
 *   s   = PreferenceEncoder(E(kw), item(history))           [B, 4, c]  (§5.1.3)
 *   L   = CE(TextGenerator(text | s)) + λ·MSE(ImageDecoder(prompt | s), poster(target))
 *
 * with the prefix dropped for a whole batch with probability `dropPrefix` and each row's
 * keyword repetition w drawn from {0 … maxStyleWeight}, so one model also generates without
 * personalisation (the baseline) and at every style weight (the candidates).
 * @module
 */

import { noGrad } from "../../autograd/tape.ts";
import { Embedding } from "../../nn/embedding.ts";
import { Module } from "../../nn/module.ts";
import { add, mul, neg, square, sub } from "../../ops/core/elementwise.ts";
import { mean, sum } from "../../ops/core/reduce.ts";
import { reshape } from "../../ops/core/shape.ts";
import { logSoftmax, softmax } from "../../ops/core/softmax.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { Rng } from "../../random.ts";
import { readAll, type Tensor, tensor, tidy } from "../../tensor.ts";
import type { LossOutput } from "../../train/loop.ts";
import type { PretrainModel } from "../../train/pretrain.ts";
import type { PmgConfig } from "./config.ts";
import type { Batch, PmgData, Sample } from "./data.ts";
import { ImageDecoder } from "./generator_image.ts";
import { TextGenerator } from "./generator_text.ts";
import { TOKENS } from "./keywords.ts";
import { PreferenceEncoder } from "./preference.ts";

/** How to generate: style weight, with or without the soft prefix, sampling temperature. */
export interface GenerateOptions {
  /** Keyword repetitions w in the prompts. */
  styleWeight: number;
  /** With the soft preference prefix (false: the unpersonalised baseline). */
  personalised: boolean;
  /** Text sampling temperature (0: greedy). */
  temperature?: number;
  /** Seed of the text sampling. */
  seed?: number;
}

/** Generated items: posters [n, S, S, 3] and description token ids [n, D]. */
export interface Generated {
  /** Posters, row-major [n, S, S, 3]. */
  images: Float32Array;
  /** Sampled description ids (decade, genres, [EOS], then [PAD]). */
  desc: Int32Array;
}

/** The PMG model on the pretraining task (its own loss; a held-out generation loss probe). */
export class Pmg extends Module implements PretrainModel {
  /** Display name. */
  readonly name = "PMG";
  /** Probe: generation loss on held-out pairs (text CE + λ·image MSE), lower is better. */
  readonly probeMetric = { name: "gen_loss", mode: "min" as const };
  /** Shared word table (`word_embeddings.weight`). */
  readonly words: Embedding;
  /** Soft preference encoder (`preference.*`). */
  readonly preference: PreferenceEncoder;
  /** Text generator (`text_generator.*`). */
  readonly text: TextGenerator;
  /** Image decoder (`image_decoder.*`). */
  readonly image: ImageDecoder;

  /** A model of `cfg` over `data`, initialised from `cfg.seed`. */
  constructor(readonly data: PmgData, readonly cfg: PmgConfig) {
    super();
    const seed = cfg.seed;
    const d = cfg.dim, V = data.vocab.size;
    const rng = new Rng(seed);
    this.words = this.child(
      "word_embeddings",
      new Embedding(V, d, Float32Array.from({ length: V * d }, () => 0.1 * rng.normal())),
    );
    const gen = { dim: d, heads: cfg.heads, layers: cfg.layers, ffn: 2 * d, condDim: cfg.condDim };
    this.preference = this.child(
      "preference",
      new PreferenceEncoder(
        { ...gen, layers: cfg.encoderLayers, numPrefix: 4, numTokens: 4 },
        seed + 100,
      ),
    );
    this.text = this.child(
      "text_generator",
      new TextGenerator(gen, data.textLength, V, seed + 200),
    );
    this.image = this.child(
      "image_decoder",
      new ImageDecoder(gen, data.promptLength, data.layout.posterSize, cfg.channels, seed + 300),
    );
  }

  /** Training pairs. */
  get numSamples(): number {
    return this.data.train.length;
  }

  /** Soft preference embeddings [B, 4, c] of a batch's rows. */
  soft(b: Batch): Tensor<"f32"> {
    const l = this.data.layout, d = this.cfg.dim;
    const B = b.lengths.length, H = l.history, I = l.itemSlots;
    const kw = reshape(this.words.forward(tensor(b.keywords, [b.keywords.length], "i32")), [
      B,
      l.keywords,
      d,
    ]);
    const bag = reshape(this.words.forward(tensor(b.items, [b.items.length], "i32")), [B, H, I, d]);
    const items = sum(mul(bag, tensor(b.itemWeights, [B, H, I, 1])), 2);
    return this.preference.forward(kw, items, b.lengths);
  }

  /**
   * Text cross-entropy (next token over title and description), image MSE against `want`
   * [B, S, S, 3], and the soft embeddings (null without personalisation) of a batch.
   */
  losses(
    b: Batch,
    personalised: boolean,
    want: Float32Array,
  ): { text: Tensor<"f32">; image: Tensor<"f32">; soft: Tensor<"f32"> | null } {
    const s = personalised ? this.soft(b) : null;
    const W = this.words.weight;
    const L = this.data.textLength, V = this.data.vocab.size, B = b.lengths.length;
    // Next-token targets from [BOS] on: positions S … L−2 predict tokens S+1 … L−1.
    const S = this.data.layout.keywords * this.data.layout.maxStyleWeight, n = L - 1 - S;
    const logits = this.text.forward(b.text, W, s, S, n);
    const picks: number[] = [];
    for (let r = 0; r < B; r++) {
      for (let p = 0; p < n; p++) {
        const y = b.text[r * L + S + p + 1];
        if (y !== TOKENS.pad) picks.push((r * n + p) * V + y);
      }
    }
    const lp = reshape(logSoftmax(logits, 2), [B * n * V, 1]);
    const text = neg(mean(gather(lp, tensor(Int32Array.from(picks), [picks.length], "i32"))));
    const P = this.data.layout.posterSize;
    const img = this.image.forward(b.prompt, W, s);
    const image = mean(square(sub(img, tensor(want, [B, P, P, 3]))));
    return { text, image, soft: s };
  }

  /** The target posters of `samples`, [B, S, S, 3] row-major. */
  postersOf(samples: readonly Sample[]): Float32Array {
    const P = this.data.layout.posterSize ** 2 * 3;
    const want = new Float32Array(samples.length * P);
    samples.forEach((t, r) =>
      want.set(this.data.posters.subarray(t.item * P, (t.item + 1) * P), r * P)
    );
    return want;
  }

  /** The training loss of batch `rows` (indices into the training pairs). */
  loss(rows: Int32Array, rng: Rng): LossOutput {
    const samples = Array.from(rows, (r) => this.data.train[r]);
    const w = samples.map(() => rng.int(this.data.layout.maxStyleWeight + 1));
    const personalised = rng.uniform() >= this.cfg.dropPrefix;
    const b = this.data.batch(samples, w);
    const { text, image } = this.losses(b, personalised, this.postersOf(samples));
    const loss = add(text, mul(image, tensor([this.cfg.imageWeight], [1])));
    return { loss: reshape(loss, []), parts: { text, image } };
  }

  /** Held-out generation loss (style weight 1, personalised) on up to `probeSamples` pairs. */
  async probe(split: "valid" | "test"): Promise<Record<string, number>> {
    const pairs = (split === "valid" ? this.data.valid : this.data.test).slice(
      0,
      this.cfg.probeSamples,
    );
    if (pairs.length === 0) return { gen_loss: 0, text_ce: 0, image_mse: 0 };
    let t = 0, m = 0, n = 0;
    for (let lo = 0; lo < pairs.length; lo += 64) {
      const chunk = pairs.slice(lo, lo + 64);
      const out = tidy(() =>
        noGrad(() => {
          const b = this.data.batch(chunk, chunk.map(() => 1));
          const r = this.losses(b, true, this.postersOf(chunk));
          return [r.text, r.image];
        })
      );
      const [a, b] = await readAll(out);
      out.forEach((x) => x.dispose());
      t += a[0] * chunk.length;
      m += b[0] * chunk.length;
      n += chunk.length;
    }
    const text = t / n, image = m / n;
    return { gen_loss: text + this.cfg.imageWeight * image, text_ce: text, image_mse: image };
  }

  /** Generates a poster and a description for each (user, target) pair. */
  async generate(samples: readonly Sample[], opts: GenerateOptions): Promise<Generated> {
    const P = this.data.layout.posterSize, D = this.data.layout.descSlots;
    const L = this.data.textLength, V = this.data.vocab.size, start = this.data.descStart;
    const images = new Float32Array(samples.length * P * P * 3);
    const desc = new Int32Array(samples.length * D);
    const rng = new Rng(opts.seed ?? 0);
    const temp = opts.temperature ?? 1;
    const was = this.training;
    this.eval();
    try {
      for (let lo = 0; lo < samples.length; lo += 64) {
        const chunk = samples.slice(lo, lo + 64);
        const B = chunk.length;
        const b = this.data.batch(chunk, chunk.map(() => opts.styleWeight));
        // The prompt and title stay; the description slots are sampled one by one.
        const rows = b.text.slice();
        for (let r = 0; r < B; r++) rows.fill(TOKENS.pad, r * L + start, (r + 1) * L);
        const soft = opts.personalised ? tidy(() => noGrad(() => this.soft(b))) : null;
        const imgT = tidy(() =>
          noGrad(() => this.image.forward(b.prompt, this.words.weight, soft))
        );
        const [img] = await readAll([imgT]);
        imgT.dispose();
        images.set(img as Float32Array, lo * P * P * 3);
        const done = new Uint8Array(B);
        for (let j = 0; j < D; j++) {
          const probs = tidy(() =>
            noGrad(() => {
              const lg = this.text.forward(rows, this.words.weight, soft, start - 1 + j, 1);
              return softmax(temp > 0 ? mul(lg, tensor([1 / temp], [1])) : lg, 2);
            })
          );
          const [p] = await readAll([probs]);
          probs.dispose();
          for (let r = 0; r < B; r++) {
            if (done[r]) continue;
            const row = (p as Float32Array).subarray(r * V, (r + 1) * V);
            const y = temp > 0 ? sample(row, rng) : argmaxOf(row);
            rows[r * L + start + j] = y;
            desc[(lo + r) * D + j] = y;
            if (y === TOKENS.eos) done[r] = 1;
          }
        }
        soft?.dispose();
      }
    } finally {
      this.train(was);
    }
    return { images, desc };
  }
}

function sample(p: Float32Array, rng: Rng): number {
  let u = rng.uniform() * p.reduce((a, b) => a + b, 0);
  for (let i = 0; i < p.length; i++) if ((u -= p[i]) <= 0) return i;
  return p.length - 1;
}

function argmaxOf(p: Float32Array): number {
  let k = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[k]) k = i;
  return k;
}
