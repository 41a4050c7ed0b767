/**
 * PMG's balance of accuracy and personalisation (spec §5.1 item 5): candidates are generated
 * with the preference keywords repeated w ∈ {0 … maxStyleWeight} times (the official
 * `style_weight`) with and without the soft prefix, and for each (user, target) pair the
 * candidate maximising
 *
 *   z = α·log d_p + (1 − α)·log d_t
 *
 * is kept (selection among samples, as the official `calcBestImage`; its W_P = 2 is α = 2/3),
 * separately for the poster and the description. d_p and d_t are the CLIP-substitute scores
 * of `metrics.ts` against the user's history and the target item's text.
 * @module
 */

import type { Sample } from "./data.ts";
import { bag, bagCosine, cosine, type FeatureNet, ImageSpace, meanBag, ssim } from "./metrics.ts";
import type { GenerateOptions, Pmg } from "./model.ts";

/** z = α·log d_p + (1 − α)·log d_t (scores clamped to ≥ 1e-6). */
export function weightedScore(dp: number, dt: number, alpha: number): number {
  if (!(alpha >= 0 && alpha <= 1)) {
    throw new Error(`wgrec pmg select: α = ${alpha}, expected 0 ≤ α ≤ 1`);
  }
  return alpha * Math.log(Math.max(1e-6, dp)) + (1 - alpha) * Math.log(Math.max(1e-6, dt));
}

/** Index of the candidate with the largest weighted score (the first on ties). */
export function selectBest(cands: readonly { dp: number; dt: number }[], alpha: number): number {
  let best = 0, z = -Infinity;
  cands.forEach((c, k) => {
    const s = weightedScore(c.dp, c.dt, alpha);
    if (s > z) [best, z] = [k, s];
  });
  return best;
}

/** Scores of one generated item against its user and target. */
export interface Scored {
  /** Image d_p, d_t ((1 + cos) / 2 in the image space). */
  image: {
    dp: number;
    dt: number;
    ssimHist: number;
    ssimTarget: number;
    lpipsHist: number;
    lpipsTarget: number;
  };
  /** Text d_p, d_t (bag cosines). */
  text: { dp: number; dt: number };
}

/** Averages over pairs of the selected (or single) candidates. */
export interface Summary {
  /** Image personalisation: mean cos to the history embedding. */
  imagePers: number;
  /** Image accuracy: mean cos to the target embedding. */
  imageAcc: number;
  /** SSIM with the history posters (mean) and with the target. */
  ssimHist: number;
  /** See {@link ssimHist}. */
  ssimTarget: number;
  /** LPIPS-style distance to the history posters (mean) and to the target (lower: closer). */
  lpipsHist: number;
  /** See {@link lpipsHist}. */
  lpipsTarget: number;
  /** Text personalisation and accuracy (bag cosines). */
  textPers: number;
  /** See {@link textPers}. */
  textAcc: number;
}

/** Generates and scores the candidate configurations for `pairs`. */
export class CandidateScorer {
  /** The shared image space of the catalogue. */
  readonly space: ImageSpace;
  readonly #net: FeatureNet;

  /** A scorer over `model`'s catalogue. */
  constructor(readonly model: Pmg) {
    const l = model.data.layout;
    this.space = new ImageSpace(model.data.posters, l.posterSize);
    this.#net = this.space.net;
  }

  /** The candidate configurations: every w with and without the soft prefix. */
  configs(): GenerateOptions[] {
    const out: GenerateOptions[] = [];
    for (const personalised of [false, true]) {
      for (let w = 0; w <= this.model.data.layout.maxStyleWeight; w++) {
        out.push({ styleWeight: w, personalised, temperature: 1 });
      }
    }
    return out;
  }

  /** Scores of each pair's candidate under each configuration: [config][pair]. */
  async score(
    pairs: readonly Sample[],
    configs: readonly GenerateOptions[],
    seed = 0,
  ): Promise<Scored[][]> {
    const d = this.model.data, S = d.layout.posterSize, P = S * S * 3;
    const poster = (i: number) => d.posters.subarray(i * P, (i + 1) * P);
    const prep = pairs.map((s) => ({
      hist: this.space.meanOf(s.history),
      target: this.space.items[s.item],
      histBag: meanBag(s.history.map((i) => bag(d.descIds(i)))),
      targetBag: bag(d.descIds(s.item)),
    }));
    const out: Scored[][] = [];
    for (const [k, cfg] of configs.entries()) {
      const g = await this.model.generate(pairs, { ...cfg, seed: seed + 97 * k });
      const D = d.layout.descSlots;
      out.push(pairs.map((s, r) => {
        const img = g.images.subarray(r * P, (r + 1) * P);
        const e = this.space.embed(img);
        const hs = s.history;
        const gb = bag(g.desc.subarray(r * D, (r + 1) * D));
        return {
          image: {
            dp: (1 + cosine(e, prep[r].hist)) / 2,
            dt: (1 + cosine(e, prep[r].target)) / 2,
            ssimHist: hs.reduce((a, i) => a + ssim(img, poster(i), S), 0) / hs.length,
            ssimTarget: ssim(img, poster(s.item), S),
            lpipsHist: hs.reduce((a, i) => a + this.#net.distance(img, poster(i), S), 0) /
              hs.length,
            lpipsTarget: this.#net.distance(img, poster(s.item), S),
          },
          text: { dp: bagCosine(gb, prep[r].histBag), dt: bagCosine(gb, prep[r].targetBag) },
        };
      }));
    }
    return out;
  }
}

/** Summary of the candidates chosen at α (per pair, per modality) among `scored` [config][pair]. */
export function summarise(scored: readonly Scored[][], alpha: number): Summary {
  const n = scored[0]?.length ?? 0;
  const s: Summary = {
    imagePers: 0,
    imageAcc: 0,
    ssimHist: 0,
    ssimTarget: 0,
    lpipsHist: 0,
    lpipsTarget: 0,
    textPers: 0,
    textAcc: 0,
  };
  for (let r = 0; r < n; r++) {
    const im = scored[selectBest(scored.map((c) => c[r].image), alpha)][r].image;
    const tx = scored[selectBest(scored.map((c) => c[r].text), alpha)][r].text;
    s.imagePers += (2 * im.dp - 1) / n;
    s.imageAcc += (2 * im.dt - 1) / n;
    s.ssimHist += im.ssimHist / n;
    s.ssimTarget += im.ssimTarget / n;
    s.lpipsHist += im.lpipsHist / n;
    s.lpipsTarget += im.lpipsTarget / n;
    s.textPers += tx.dp / n;
    s.textAcc += tx.dt / n;
  }
  return s;
}
