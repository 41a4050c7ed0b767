/**
 * The page's PMG view (issue 23 item 4): a tiny PMG (Shen et al., WWW 2024; src/models/pmg)
 * trained in the tab on a slice of MovieLens-100K embedded at build time (`pmg_slice.ts`: 120
 * most-rated items with their titles, years and genres, 40 users × 16 ratings; the page's own
 * data is synthetic and has neither). For a chosen user it shows the preference keywords
 * (TF-IDF over the history's description), the history titles and, for the user's 3 test items,
 * the six candidates (keyword repetition w ∈ {0, 1, 2}, without and with the soft preference
 * prefix): 16×16 posters and sampled descriptions (decade + genres; the title is part of the
 * prompt, the generator writes the rest). The α slider re-runs the selection
 * z = α·log d_p + (1 − α)·log d_t over those candidates, without retraining or generating again.
 * @module
 */

import {
  Adam,
  backward,
  bag,
  bagCosine,
  catalogFromItemFile,
  chronologicalSplit,
  type GenerateOptions,
  ImageSpace,
  type Interactions,
  LAYOUT_DEFAULTS,
  meanBag,
  Pmg,
  PmgData,
  readAll,
  Rng,
  type Runtime,
  type Sample,
  selectBest,
  tidy,
  weightedScore,
} from "./entry.ts";
import { PMG_ITEMS, PMG_USERS } from "./pmg_slice.ts";

/** Personalisation d_p (against the user's history) and accuracy d_t (against the target). */
export interface Scores {
  /** Personalisation. */
  dp: number;
  /** Accuracy. */
  dt: number;
}

/** One generated candidate of a (user, target) pair and its scores. */
export interface PmgCandidate {
  /** How it was generated. */
  config: GenerateOptions;
  /** Poster [S, S, 3]. */
  image: Float32Array;
  /** Description words (decade, genres). */
  words: string[];
  /** Image scores: d_p against the history, d_t against the target ((1 + cos) / 2). */
  imageScore: Scores;
  /** Text scores (bag cosines). */
  textScore: Scores;
}

/** What the view exposes as `globalThis.wgrecPmg` (the browser test reads it). */
export interface PmgViewState {
  /** Where the view is. */
  phase: "idle" | "compiling" | "training" | "generating" | "ready" | "error";
  /** Training loss of every step. */
  losses: number[];
  /** Epochs done. */
  epochs: number;
  /** Raw ml-100k id of the user shown. */
  user: string;
  /** Current α. */
  alpha: number;
  /** Candidates per target of the user shown: [target][candidate]. */
  candidates: { words: string[]; image: Scores; text: Scores }[][];
  /** The chosen candidate per target: image and text index. */
  chosen: { image: number; text: number; zImage: number; zText: number }[];
  /** Canvases drawn. */
  posters: number;
  /** Seconds spent compiling shaders, training, and generating the user shown. */
  seconds: { compile: number; train: number; generate: number };
  /** Why the view stopped, when it did. */
  error: string | null;
}

/** Options of {@link mountPmgView}. */
export interface PmgViewOptions {
  /** Start training at once (else on the button). */
  autostart: boolean;
  /** Training epochs. */
  epochs: number;
  /** Seed of the model and the sampling. */
  seed: number;
}

/** Users in the select box (the first of the slice's 40; all 40 train the model). */
const SHOWN_USERS = 6;

/** The slice as PMG data: 12 / 1 / 3 train / valid / test ratings per user, in time order. */
export function slicePmgData(): { data: PmgData; users: string[]; titles: string[] } {
  const rows = PMG_ITEMS.split("\n").slice(1).map((l) => l.split("\t"));
  const ids = rows.map((f) => f[0]);
  const index = new Map(ids.map((id, i) => [id, i]));
  const users: string[] = [], u: number[] = [], it: number[] = [];
  for (const line of PMG_USERS.split("\n")) {
    const [raw, list] = line.split(":");
    for (const i of list.split(",")) {
      u.push(users.length);
      it.push(index.get(i)!);
    }
    users.push(raw);
  }
  const x: Interactions = {
    users: Int32Array.from(u),
    items: Int32Array.from(it),
    timestamps: Float64Array.from(u, (_, k) => k), // the slice lists each user's in time order
    numUsers: users.length,
    numItems: ids.length,
  };
  const cat = catalogFromItemFile(PMG_ITEMS, { size: ids.length, raw: (i) => ids[i] }, "slice");
  const layout = { ...LAYOUT_DEFAULTS, keywords: 6, history: 8, posterSize: 16 };
  const data = new PmgData(chronologicalSplit(x, [12, 1, 3]), cat, layout, 8);
  return { data, users, titles: rows.map((f) => `${f[1]} (${f[2]})`) };
}

/** A tiny PMG over `data` (d = 16, one layer per generator). */
export function tinyPmg(data: PmgData, seed: number): Pmg {
  return new Pmg(data, {
    dim: 16,
    heads: 2,
    layers: 1,
    encoderLayers: 1,
    condDim: 16,
    channels: 8,
    imageWeight: 10,
    dropPrefix: 0.25,
    probeSamples: 0,
    seed,
  });
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  a.forEach((v, k) => ((ab += v * b[k]), (aa += v * v), (bb += b[k] * b[k])));
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** The six candidates (w ∈ {0 … maxStyleWeight} × without/with prefix) of each pair, scored. */
export async function pmgCandidates(
  model: Pmg,
  space: ImageSpace,
  pairs: readonly Sample[],
  seed: number,
): Promise<PmgCandidate[][]> {
  const d = model.data, S = d.layout.posterSize, P = S * S * 3, D = d.layout.descSlots;
  const configs: GenerateOptions[] = [];
  for (const personalised of [false, true]) {
    for (let w = 0; w <= d.layout.maxStyleWeight; w++) {
      configs.push({ styleWeight: w, personalised, temperature: 1 });
    }
  }
  const out: PmgCandidate[][] = pairs.map(() => []);
  for (const [k, config] of configs.entries()) {
    const g = await model.generate(pairs, { ...config, seed: seed + 97 * k });
    pairs.forEach((s, r) => {
      const image = g.images.slice(r * P, (r + 1) * P);
      const desc = g.desc.subarray(r * D, (r + 1) * D);
      const e = space.embed(image), gb = bag(desc);
      out[r].push({
        config,
        image,
        words: [...gb.keys()].map((t) => d.vocab.words[t]),
        imageScore: {
          dp: (1 + cosine(e, space.meanOf(s.history))) / 2,
          dt: (1 + cosine(e, space.items[s.item])) / 2,
        },
        textScore: {
          dp: bagCosine(gb, meanBag(s.history.map((i) => bag(d.descIds(i))))),
          dt: bagCosine(gb, bag(d.descIds(s.item))),
        },
      });
    });
  }
  return out;
}

/**
 * Trains `m` for `opts.epochs` epochs of shuffled batches of 64 pairs (Adam, lr 5e-3), after
 * compiling a step's pipelines a few at a time. `report(epoch, loss)` follows every step (from
 * epoch 1); during compilation it gets epoch −1 and "k/N".
 */
export async function trainPmg(
  rt: Runtime,
  m: Pmg,
  opts: { epochs: number; seed: number },
  report: (epoch: number, loss: number | string) => void,
): Promise<void> {
  const opt = new Adam(m.parameters(), { lr: 5e-3 });
  const B = 64, n = m.data.train.length;
  const first = Int32Array.from({ length: Math.min(B, n) }, (_, i) => i);
  const keys = rt.capturePipelines(() => tidy(() => backward(m.loss(first, new Rng(0)).loss)));
  m.zeroGrad(); // the captured backward allocated gradients it never wrote
  for (let i = 0; i < keys.length; i += 4) {
    report(-1, `${i}/${keys.length}`);
    await rt.precompile(keys.slice(i, i + 4));
  }
  report(-1, `${keys.length}/${keys.length}`);
  const rng = new Rng(opts.seed);
  try {
    for (let e = 1; e <= opts.epochs; e++) {
      const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array;
      for (let lo = 0; lo < n; lo += B) {
        const rows = perm.slice(lo, lo + B), r = new Rng(rng.u32());
        const loss = tidy(() => {
          const { loss } = m.loss(rows, r);
          backward(loss);
          opt.step();
          opt.zeroGrad();
          return loss;
        });
        const [l] = await readAll([loss]);
        loss.dispose();
        if (!Number.isFinite(l[0])) throw new Error(`PMG: the loss became ${l[0]} in epoch ${e}`);
        report(e, l[0]);
      }
    }
  } finally {
    opt.dispose();
  }
}

/** Draws an [S, S, 3] image in [0, 1] (clamped) on a canvas of S×S pixels. */
function drawPoster(c: HTMLCanvasElement, img: Float32Array, S: number): void {
  c.width = c.height = S;
  const g = c.getContext("2d")!;
  const px = g.createImageData(S, S);
  for (let p = 0; p < S * S; p++) {
    for (let ch = 0; ch < 3; ch++) {
      px.data[p * 4 + ch] = Math.round(255 * Math.min(1, Math.max(0, img[p * 3 + ch])));
    }
    px.data[p * 4 + 3] = 255;
  }
  g.putImageData(px, 0, 0);
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls = "", text = "") => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
};
const f3 = (x: number) => x.toFixed(3);
const label = (c: GenerateOptions) =>
  `${c.personalised ? "prefix" : "no prefix"}, w = ${c.styleWeight}`;

/**
 * Mounts the view into the page's `#pmg` panel (its controls `#pmgUser`, `#pmgTrain`,
 * `#pmgAlpha`, `#pmgAlphaValue`, `#pmgProgress`, `#pmgOut`) on runtime `rt`.
 */
export function mountPmgView(rt: Runtime, opts: PmgViewOptions): PmgViewState {
  const state: PmgViewState = {
    phase: "idle",
    losses: [],
    epochs: 0,
    user: "",
    alpha: 0.5,
    candidates: [],
    chosen: [],
    posters: 0,
    seconds: { compile: 0, train: 0, generate: 0 },
    error: null,
  };
  (globalThis as unknown as { wgrecPmg: PmgViewState }).wgrecPmg = state;
  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const select = $<HTMLSelectElement>("pmgUser"), button = $<HTMLButtonElement>("pmgTrain");
  const slider = $<HTMLInputElement>("pmgAlpha"), out = $("pmgOut");
  const progress = (s: string) => ($("pmgProgress").textContent = s);
  const { data, users, titles } = slicePmgData();
  const S = data.layout.posterSize, P = S * S * 3;
  const space = new ImageSpace(data.posters, S);
  for (let u = 0; u < Math.min(SHOWN_USERS, users.length); u++) {
    const o = el("option", "", `user ${users[u]}`);
    o.value = String(u);
    select.append(o);
  }
  progress(
    `ml-100k slice: ${users.length} users, ${data.catalog.titles.length} items, ` +
      `${data.train.length} training pairs. Press Train.`,
  );
  let model: Pmg | null = null;
  let shown: { pairs: Sample[]; cands: PmgCandidate[][] } | null = null;
  let busy = false;

  const poster = (img: Float32Array, title: string, cls = "") => {
    const fig = el("figure", cls);
    const c = el("canvas");
    drawPoster(c, img, S);
    state.posters++;
    fig.append(c, el("figcaption", "", title));
    return fig;
  };

  /** Re-selects at the slider's α and marks the chosen candidates (no generation). */
  const reselect = () => {
    state.alpha = Number(slider.value);
    $("pmgAlphaValue").textContent = state.alpha.toFixed(2);
    if (!shown) return;
    const a = state.alpha;
    state.chosen = shown.cands.map((cs) => {
      const image = selectBest(cs.map((c) => c.imageScore), a);
      const text = selectBest(cs.map((c) => c.textScore), a);
      const zImage = weightedScore(cs[image].imageScore.dp, cs[image].imageScore.dt, a);
      return {
        image,
        text,
        zImage,
        zText: weightedScore(cs[text].textScore.dp, cs[text].textScore.dt, a),
      };
    });
    out.querySelectorAll<HTMLElement>(".pmgTarget").forEach((row, r) => {
      const ch = state.chosen[r], cs = shown!.cands[r];
      row.querySelectorAll("figure.cand").forEach((f, k) =>
        f.classList.toggle("chosen", k === ch.image)
      );
      const ci = cs[ch.image].imageScore, ct = cs[ch.text];
      row.querySelector(".pmgScores")!.textContent =
        `chosen poster: ${label(cs[ch.image].config)}, personalisation d_p ${f3(ci.dp)}, ` +
        `accuracy d_t ${f3(ci.dt)}, z ${f3(ch.zImage)}. Chosen description: ` +
        `"${ct.words.join(" ")}" (${label(ct.config)}), d_p ${f3(ct.textScore.dp)}, ` +
        `d_t ${f3(ct.textScore.dt)}, z ${f3(ch.zText)}.`;
    });
  };

  /** Generates and shows the selected user's candidates. */
  const show = async () => {
    if (!model) return;
    const u = Number(select.value);
    state.user = users[u];
    state.phase = "generating";
    progress(`generating 6 candidates for each of user ${users[u]}'s test items…`);
    const pairs = data.test.filter((s) => s.user === u);
    const t0 = performance.now();
    const cands = await pmgCandidates(model, space, pairs, opts.seed);
    state.seconds.generate = (performance.now() - t0) / 1000;
    shown = { pairs, cands };
    state.candidates = cands.map((cs) =>
      cs.map((c) => ({ words: c.words, image: c.imageScore, text: c.textScore }))
    );
    out.replaceChildren();
    const hist = data.trainHistory[u].slice(-data.layout.history);
    const who = el("div", "pmgUserInfo");
    who.append(
      el("p", "", `Preference keywords (TF-IDF): ${data.keywords(hist).join(", ")}`),
      el("p", "", `History (most recent last): ${hist.map((i) => titles[i]).join("; ")}`),
    );
    const strip = el("div", "pmgStrip");
    for (const i of hist) strip.append(poster(data.posters.slice(i * P, (i + 1) * P), ""));
    who.append(strip);
    out.append(who);
    pairs.forEach((s, r) => {
      const row = el("div", "pmgTarget");
      const truth = [data.catalog.decades[s.item], ...data.catalog.genres[s.item]].join(" ");
      row.append(el("h3", "", `Target: ${titles[s.item]}; true description "${truth}"`));
      const figs = el("div", "pmgStrip");
      figs.append(poster(data.posters.slice(s.item * P, (s.item + 1) * P), "target", "truth"));
      for (const c of cands[r]) {
        figs.append(poster(c.image, `${label(c.config)}: ${c.words.join(" ")}`, "cand"));
      }
      row.append(figs, el("p", "pmgScores note"));
      out.append(row);
    });
    reselect();
    state.phase = "ready";
    progress(
      `trained ${state.epochs} epochs (loss ${f3(state.losses[0])} → ${f3(state.losses.at(-1)!)})` +
        ` in ${(state.seconds.compile + state.seconds.train).toFixed(0)} s; user ${users[u]}, ` +
        `generated in ${state.seconds.generate.toFixed(1)} s: the first poster is the target's, ` +
        `the outlined candidate is the one chosen at α.`,
    );
  };

  const train = async () => {
    const m = tinyPmg(data, opts.seed);
    state.phase = "compiling";
    const t0 = performance.now();
    await trainPmg(rt, m, opts, (epoch, loss) => {
      if (typeof loss === "string") {
        progress(`compiling shaders ${loss}`);
        state.seconds.compile = (performance.now() - t0) / 1000;
        return;
      }
      state.phase = "training";
      state.epochs = epoch - 1;
      state.losses.push(loss);
      progress(
        `training PMG: epoch ${epoch}/${opts.epochs}, step ${state.losses.length}, loss ${
          f3(loss)
        }`,
      );
    });
    state.epochs = opts.epochs;
    state.seconds.train = (performance.now() - t0) / 1000 - state.seconds.compile;
    model?.dispose();
    model = m;
  };

  const guard = (fn: () => Promise<void>) => async () => {
    if (busy) return;
    busy = true;
    button.disabled = select.disabled = true;
    try {
      await fn();
    } catch (e) {
      console.error(e);
      state.phase = "error";
      state.error = e instanceof Error ? e.message : String(e);
      progress(`PMG stopped: ${state.error}`);
    } finally {
      busy = false;
      button.disabled = select.disabled = false;
    }
  };
  button.onclick = guard(async () => {
    state.losses = [];
    state.epochs = 0;
    await train();
    await show();
  });
  select.onchange = guard(show);
  slider.oninput = reselect;
  reselect();
  if (opts.autostart) button.click();
  return state;
}
