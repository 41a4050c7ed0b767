/**
 * Vector-quantization modules: {@link VectorQuantizer} (straight-through or UIST's no-STE
 * variant, gradient or EMA codebook, dead-code reset, k-means++ init, usage statistics),
 * {@link ResidualQuantizer}, {@link ProductQuantizer}, and DCID's shared multi-modal EMA
 * codebook ({@link MultiModalQuantizer}).
 *
 * Losses follow VQ-VAE: `codebook = MSE(q, sg(x))`, `commitment = MSE(x, sg(q))`,
 * `loss = codebook + β·commitment` (an EMA codebook has no codebook loss).
 * @module
 */

import { noGrad } from "../autograd/tape.ts";
import {
  add,
  affine,
  div,
  eq,
  exp,
  log,
  mul,
  scale,
  square,
  sub,
} from "../ops/core/elementwise.ts";
import { mean, sum } from "../ops/core/reduce.ts";
import { concat, reshape, slice } from "../ops/core/shape.ts";
import {
  centroidUpdate,
  codeLookup,
  codeStats,
  type EmaState,
  emaUpdate,
  nearestCode,
  resetDeadCodes,
  type VqMetric,
} from "../ops/vq/vq.ts";
import { Rng } from "../random.ts";
import { fmt, full, keep, runtime, type Tensor, tensor, tidy, zeros } from "../tensor.ts";
import { Module } from "./module.ts";

/** How the codebook learns. */
export type CodebookUpdate = "grad" | "ema";

/** Options of {@link VectorQuantizer}. */
export interface VectorQuantizerOptions {
  /** Codes (per sub-space for product quantization). */
  numCodes: number;
  /** Input (and code) dimension. */
  dim: number;
  /** Sub-spaces (product quantization): `dim` must divide evenly. Default 1. */
  subspaces?: number;
  /** Commitment weight β. Default 0.25. */
  beta?: number;
  /** "grad" (default): codebook loss + optimizer; "ema": exponential moving averages. */
  update?: CodebookUpdate;
  /** EMA decay γ. Default 0.99. */
  decay?: number;
  /** Laplace smoothing ε of the EMA counts. Default 1e-5. */
  eps?: number;
  /**
   * Straight-through estimator (default true): the output is `x + sg(q − x)`, so the
   * gradient reaches the input unchanged. false: UIST's variant, the output is
   * `q = codebook[code]` and the downstream gradient flows into the codebook ("grad" only).
   */
  straightThrough?: boolean;
  /** Distance of the code search. Default "l2". */
  metric?: VqMetric;
  /** Reset codes unused for this many consecutive training steps (0 = never). Default 0. */
  deadAfter?: number;
  /** Initial codes are U(−initBound, initBound). Default 1/numCodes. */
  initBound?: number;
  /** Seed of the initial codebook and of dead-code resets. */
  seed?: number;
}

/** Output of a quantizer's forward pass. */
export interface QuantizeResult {
  /** Quantized vectors [N, dim] (straight-through output unless disabled). */
  quantized: Tensor<"f32">;
  /** Code indices, i32: [N] (VQ), [N, B] (product), [N, L] (residual). */
  codes: Tensor<"i32">;
  /** Total quantization loss (scalar): codebook loss + β·commitment. */
  loss: Tensor<"f32">;
  /** Unweighted commitment term MSE(x, sg(q)) (summed over levels for residual). */
  commitment: Tensor<"f32">;
  /** Batch counts per code ([M], [B, M] or [L, M]) in training mode, else null. */
  counts: Tensor<"f32"> | null;
  /** Codes reset in this step (u32 [1]; one entry per level for residual), or null. */
  reset: Tensor<"u32"> | null;
}

/** Codebook usage statistics of a batch. */
export interface CodeUsage {
  /** exp(−Σ p log(p + 1e-10)) over the batch's code frequencies (scalar). */
  perplexity: Tensor<"f32">;
  /** Codes with no assignment in the batch (scalar, f32). */
  deadCodes: Tensor<"f32">;
}

/** Perplexity and dead-code count from per-code counts (any shape; one distribution). */
export function codeUsage(counts: Tensor<"f32">): CodeUsage {
  return noGrad(() => {
    const total = sum(counts);
    const p = div(counts, total);
    const ent = sum(mul(p, log(affine(p, 1, 1e-10))));
    const perplexity = exp(scale(ent, -1));
    const deadCodes = sum(eq(counts, full([1], 0)));
    return { perplexity, deadCodes };
  });
}

/** MSE between a and b. */
function mse(a: Tensor<"f32">, b: Tensor<"f32">): Tensor<"f32"> {
  return mean(square(sub(a, b)));
}

/** Stop-gradient: a copy outside the graph (the tensor itself when it needs no gradient). */
function sg(x: Tensor<"f32">): Tensor<"f32"> {
  return x.requiresGrad ? noGrad(() => scale(x, 1)) : x;
}

/** Options of {@link VectorQuantizer.initFromData}. */
export interface KMeansOptions {
  /** Lloyd iterations on the GPU after the k-means++ seeding. Default 10. */
  iters?: number;
  /** Rows (at most) used for the host-side k-means++ seeding. Default 4096. */
  sample?: number;
  /** Seeding: "kmeans++" (default) or "random" rows. */
  seeding?: "kmeans++" | "random";
  /** Seed of the row sample and the seeding draws. */
  seed?: number;
}

/**
 * k-means++ seeding on the host: the first centre is a random row, each next one a row drawn
 * with probability ∝ its squared distance to the nearest centre chosen so far. Returns k
 * row indices into `rows` (a flat [n, d] array).
 */
export function kmeansPlusPlus(
  rows: Float32Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
): number[] {
  const chosen = [rng.int(n)];
  const best = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < k; c++) {
    const last = chosen[c - 1] * d;
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = rows[i * d + j] - rows[last + j];
        s += v * v;
      }
      if (s < best[i]) best[i] = s;
      total += best[i];
    }
    // Fewer distinct rows than codes: every row is a centre already; draw uniformly.
    if (!(total > 0)) {
      chosen.push(rng.int(n));
      continue;
    }
    let r = rng.uniform() * total;
    let pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= best[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
    chosen.push(pick);
  }
  return chosen;
}

/**
 * A vector quantizer with one codebook, or B codebooks over B sub-spaces (see
 * {@link ProductQuantizer}). Call {@link forward} in training mode to also update an EMA
 * codebook and reset dead codes.
 */
export class VectorQuantizer extends Module {
  /** Codes per codebook. */
  readonly numCodes: number;
  /** Input dimension. */
  readonly dim: number;
  /** Sub-spaces (1 unless product quantization). */
  readonly subspaces: number;
  /** Commitment weight β. */
  readonly beta: number;
  /** How the codebook learns. */
  readonly update: CodebookUpdate;
  /** EMA decay γ. */
  readonly decay: number;
  /** Laplace smoothing ε. */
  readonly eps: number;
  /** Whether the output is straight-through. */
  readonly straightThrough: boolean;
  /** Distance of the code search. */
  readonly metric: VqMetric;
  /** Steps without use before a code is reset (0 = never). */
  readonly deadAfter: number;
  /** EMA state (update = "ema"). */
  readonly ema: EmaState | null;
  /** Steps each code went unused (u32 [B·M]), when dead-code reset is on. */
  readonly idle: Tensor<"u32"> | null;
  #codebook: Tensor<"f32">;
  #steps = 0;
  #seed: number;

  /** Builds the codebook: U(−initBound, initBound), a parameter for "grad", buffers for "ema". */
  constructor(opts: VectorQuantizerOptions) {
    super();
    const nb = opts.subspaces ?? 1;
    if (
      ![opts.numCodes, opts.dim, nb].every((v) => Number.isInteger(v) && v > 0) ||
      opts.dim % nb !== 0
    ) {
      throw new Error(
        `wgrec VectorQuantizer: numCodes ${opts.numCodes}, dim ${opts.dim}, subspaces ${nb} ` +
          `must be positive integers with dim divisible by subspaces`,
      );
    }
    this.numCodes = opts.numCodes;
    this.dim = opts.dim;
    this.subspaces = nb;
    this.beta = opts.beta ?? 0.25;
    this.update = opts.update ?? "grad";
    this.decay = opts.decay ?? 0.99;
    this.eps = opts.eps ?? 1e-5;
    this.straightThrough = opts.straightThrough ?? true;
    this.metric = opts.metric ?? "l2";
    this.deadAfter = opts.deadAfter ?? 0;
    this.#seed = opts.seed ?? 0;
    if (this.update === "ema" && !this.straightThrough) {
      throw new Error(
        "wgrec VectorQuantizer: the no-STE variant needs a gradient-trained codebook " +
          "(update 'grad'), an EMA codebook gets no gradient",
      );
    }
    const shape = nb === 1 ? [this.numCodes, this.dim] : [nb, this.numCodes, this.dim / nb];
    const bound = opts.initBound ?? 1 / this.numCodes;
    const rng = new Rng(this.#seed);
    const init = new Float32Array(nb * this.numCodes * (this.dim / nb));
    for (let i = 0; i < init.length; i++) init[i] = bound * (2 * rng.uniform() - 1);
    const cb = tidy(() => tensor(init, shape));
    if (this.update === "grad") {
      this.#codebook = this.param("codebook", cb);
      this.ema = null;
    } else {
      // Buffers, not parameters: no optimizer touches them.
      this.#codebook = keep(cb);
      this.ema = {
        count: keep(zeros([nb * this.numCodes])),
        weight: keep(tidy(() => tensor(init, shape))),
      };
    }
    this.idle = this.deadAfter > 0 ? keep(zeros([nb * this.numCodes], "u32")) : null;
  }

  /** The codebook: [M, dim] or [B, M, dim/B]. */
  get codebook(): Tensor<"f32"> {
    return this.#codebook;
  }

  /** Copies `t` into the codebook (and resets an EMA state to it with unit counts). */
  setCodebook(t: Tensor<"f32">): void {
    const cb = this.#codebook;
    if (t.dtype !== "f32" || t.size !== cb.size || t.rank !== cb.rank) {
      throw new Error(
        `wgrec VectorQuantizer.setCodebook: got ${t.dtype} ${fmt(t.shape)}, expected f32 ` +
          `${fmt(cb.shape)}`,
      );
    }
    runtime().copy(t.buffer, 0, cb.buffer, 0, cb.size * 4);
    this.#resetEma();
  }

  // EMA state restarted from the current codebook: W = e·N with N = 1, so the next EMA step
  // is a weighted mean of e and the batch.
  #resetEma(): void {
    if (!this.ema) return;
    const rt = runtime();
    rt.copy(this.#codebook.buffer, 0, this.ema.weight.buffer, 0, this.#codebook.size * 4);
    const ones = full([this.ema.count.size], 1);
    rt.copy(ones.buffer, 0, this.ema.count.buffer, 0, ones.size * 4);
    ones.dispose();
  }

  /** Nearest codes of `x` [N, dim] (no gradient): [N] or [N, B]. */
  assign(x: Tensor<"f32">): Tensor<"i32"> {
    this.#checkInput("assign", x);
    return nearestCode(x, this.#codebook, { metric: this.metric }).codes;
  }

  /** Code vectors [N, dim] of codes [N] / [N, B] (differentiable w.r.t. the codebook). */
  lookup(codes: Tensor<"i32">): Tensor<"f32"> {
    return codeLookup(this.#codebook, codes);
  }

  #checkInput(op: string, x: Tensor): void {
    if (x.dtype !== "f32" || x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new Error(
        `wgrec VectorQuantizer.${op}: input ${x.dtype} ${fmt(x.shape)}, expected f32 ` +
          `[N, ${this.dim}]`,
      );
    }
  }

  /**
   * Quantizes one input (used by {@link forward} and by {@link ResidualQuantizer} levels).
   * Returns the code vectors `q` (differentiable w.r.t. the codebook for "grad"), codes, the
   * loss terms, and in training mode applies the EMA step and dead-code reset.
   */
  quantize(x: Tensor<"f32">): {
    q: Tensor<"f32">;
    qDetached: Tensor<"f32">;
    codes: Tensor<"i32">;
    loss: Tensor<"f32">;
    commitment: Tensor<"f32">;
    counts: Tensor<"f32"> | null;
    reset: Tensor<"u32"> | null;
  } {
    this.#checkInput("forward", x);
    const xs = sg(x);
    const codes = nearestCode(xs, this.#codebook, { metric: this.metric }).codes;
    const qDetached = noGrad(() => codeLookup(this.#codebook, codes));
    const commitment = mse(x, qDetached);
    let q = qDetached;
    let loss = scale(commitment, this.beta);
    if (this.update === "grad") {
      q = codeLookup(this.#codebook, codes);
      loss = add(mse(q, xs), loss);
    }
    let counts: Tensor<"f32"> | null = null;
    let reset: Tensor<"u32"> | null = null;
    if (this.training) {
      const st = codeStats(codes, xs, this.numCodes);
      counts = st.counts;
      if (this.ema) emaUpdate(this.#codebook, this.ema, st, this.decay, this.eps);
      st.sums.dispose();
      reset = this.#resetDead(counts, xs);
    }
    return { q, qDetached, codes, loss, commitment, counts, reset };
  }

  /** Dead-code bookkeeping and reset for one training step. */
  resetDead(counts: Tensor<"f32">, x: Tensor<"f32">): Tensor<"u32"> | null {
    return this.#resetDead(counts, x);
  }

  #resetDead(counts: Tensor<"f32">, x: Tensor<"f32">): Tensor<"u32"> | null {
    this.#steps++;
    if (!this.idle) return null;
    return resetDeadCodes({
      codebook: this.#codebook,
      counts,
      idle: this.idle,
      x,
      after: this.deadAfter,
      seed: (this.#seed * 0x9e3779b1 + this.#steps) >>> 0,
      ema: this.ema ?? undefined,
    });
  }

  /**
   * Quantizes `x` [N, dim]: nearest codes, quantized output (straight-through unless
   * disabled), losses; in training mode also the EMA update and dead-code reset.
   */
  forward(x: Tensor<"f32">): QuantizeResult {
    const r = this.quantize(x);
    const quantized = this.straightThrough ? add(x, sub(r.qDetached, sg(x))) : r.q;
    return {
      quantized,
      codes: r.codes,
      loss: r.loss,
      commitment: r.commitment,
      counts: r.counts,
      reset: r.reset,
    };
  }

  /**
   * Initialises the codebook from data `x` [N, dim]: k-means++ seeding on (a sample of) the
   * rows, per sub-space, then `iters` Lloyd iterations on the GPU over all rows.
   */
  async initFromData(x: Tensor<"f32">, opts: KMeansOptions = {}): Promise<void> {
    this.#checkInput("initFromData", x);
    const n = x.shape[0];
    if (n === 0) throw new Error(`wgrec VectorQuantizer.initFromData: input ${fmt(x.shape)}`);
    const rng = new Rng(opts.seed ?? this.#seed + 1);
    const nb = this.subspaces;
    const ds = this.dim / nb;
    const m = this.numCodes;
    const data = await x.read();
    const sampleN = Math.min(n, opts.sample ?? 4096);
    const rowsIdx = Array.from({ length: n }, (_, i) => i);
    rng.shuffle(rowsIdx);
    const init = new Float32Array(nb * m * ds);
    for (let b = 0; b < nb; b++) {
      const sub = new Float32Array(sampleN * ds);
      for (let i = 0; i < sampleN; i++) {
        const src = rowsIdx[i] * this.dim + b * ds;
        sub.set(data.subarray(src, src + ds), i * ds);
      }
      const picks = (opts.seeding ?? "kmeans++") === "kmeans++"
        ? kmeansPlusPlus(sub, sampleN, ds, m, rng)
        : Array.from({ length: m }, () => rng.int(sampleN));
      picks.forEach((p, k) => init.set(sub.subarray(p * ds, (p + 1) * ds), (b * m + k) * ds));
    }
    const cb = this.#codebook;
    tidy(() => {
      const c0 = tensor(init, cb.shape);
      runtime().copy(c0.buffer, 0, cb.buffer, 0, cb.size * 4);
      for (let it = 0; it < (opts.iters ?? 10); it++) {
        tidy(() => {
          const codes = nearestCode(x, cb, { metric: this.metric }).codes;
          centroidUpdate(cb, codeStats(codes, x, m));
        });
      }
    });
    this.#resetEma();
    await runtime().sync();
  }

  /** Frees the codebook, the EMA state and the idle counters. */
  override dispose(): void {
    super.dispose();
    if (this.update === "ema") this.#codebook.dispose();
    this.ema?.count.dispose();
    this.ema?.weight.dispose();
    this.idle?.dispose();
  }
}

/** Options of {@link ProductQuantizer}. */
export interface ProductQuantizerOptions extends Omit<VectorQuantizerOptions, "subspaces"> {
  /** Number of sub-vectors M (`dim` must be divisible by it). */
  subspaces: number;
}

/**
 * Product quantization: `dim` is split into M sub-vectors, each quantized with its own
 * codebook of `numCodes` codes; codes are [N, M] and the codebook is [M, numCodes, dim/M].
 */
export class ProductQuantizer extends VectorQuantizer {
  /** A product quantizer: `subspaces` codebooks of `numCodes` codes of dim/subspaces. */
  constructor(opts: ProductQuantizerOptions) {
    super(opts);
  }
}

/** Options of {@link ResidualQuantizer}. */
export interface ResidualQuantizerOptions extends Omit<VectorQuantizerOptions, "subspaces"> {
  /** Levels L, each with its own codebook of `numCodes` codes. */
  levels: number;
}

/**
 * Residual quantization: level l quantizes the residual `r_l = r_{l−1} − q_{l−1}` (r_0 = x)
 * with its own codebook; codes are [N, L] and the output is Σ_l q_l.
 *
 * Straight-through (default): residuals are taken with sg(q), and the output is
 * `x + sg(Σq − x)`. No-STE (UIST's code): `r_{l+1} = r_l − q_l` and the output is `Σ q_l`
 * with q_l = codebook_l[c_l], so downstream and later-level gradients reach the codebooks.
 * The loss is Σ_l (codebook_l + β·commitment_l).
 */
export class ResidualQuantizer extends Module {
  /** One quantizer per level. */
  readonly levels: VectorQuantizer[];

  /** L quantizers with the same options (seeds offset by level). */
  constructor(readonly opts: ResidualQuantizerOptions) {
    super();
    if (!Number.isInteger(opts.levels) || opts.levels < 1) {
      throw new Error(`wgrec ResidualQuantizer: levels = ${opts.levels}, expected ≥ 1`);
    }
    this.levels = Array.from(
      { length: opts.levels },
      (_, l) => this.child(`${l}`, new VectorQuantizer({ ...opts, seed: (opts.seed ?? 0) + l })),
    );
  }

  /** Quantizes `x` [N, dim] through every level. */
  forward(x: Tensor<"f32">): QuantizeResult {
    const ste = this.levels[0].straightThrough;
    let r = x;
    let total: Tensor<"f32"> | null = null;
    let loss: Tensor<"f32"> | null = null;
    let commitment: Tensor<"f32"> | null = null;
    const codes: Tensor<"i32">[] = [];
    const counts: Tensor<"f32">[] = [];
    const resets: Tensor<"u32">[] = [];
    for (const level of this.levels) {
      const o = level.quantize(r);
      codes.push(reshape(o.codes, [o.codes.shape[0], 1]));
      if (o.counts) counts.push(o.counts);
      if (o.reset) resets.push(o.reset);
      const q = ste ? o.qDetached : o.q;
      total = total ? add(total, q) : q;
      loss = loss ? add(loss, o.loss) : o.loss;
      commitment = commitment ? add(commitment, o.commitment) : o.commitment;
      r = sub(r, q);
    }
    const quantized = ste ? add(x, sub(total!, sg(x))) : total!;
    return {
      quantized,
      codes: concat(codes, 1),
      loss: loss!,
      commitment: commitment!,
      counts: counts.length ? reshape(concat(counts, 0), [this.levels.length, -1]) : null,
      reset: resets.length ? concat(resets, 0) : null,
    };
  }

  /** Codes [N, L] of `x` without updating anything. */
  assign(x: Tensor<"f32">): Tensor<"i32"> {
    return noGrad(() => {
      let r = x;
      const codes: Tensor<"i32">[] = [];
      for (const level of this.levels) {
        const c = level.assign(r);
        codes.push(reshape(c, [c.shape[0], 1]));
        r = sub(r, level.lookup(c));
      }
      return concat(codes, 1);
    });
  }

  /** Sum of the code vectors of codes [N, L]. */
  decode(codes: Tensor<"i32">): Tensor<"f32"> {
    const L = this.levels.length;
    if (codes.rank !== 2 || codes.shape[1] !== L) {
      throw new Error(
        `wgrec ResidualQuantizer.decode: codes ${fmt(codes.shape)}, expected [N, ${L}]`,
      );
    }
    let out: Tensor<"f32"> | null = null;
    this.levels.forEach((level, l) => {
      const q = level.lookup(codeColumn(codes, l));
      out = out ? add(out, q) : q;
    });
    return out!;
  }

  /** k-means++/Lloyd initialisation level by level on the residuals of `x`. */
  async initFromData(x: Tensor<"f32">, opts: KMeansOptions = {}): Promise<void> {
    let r = keep(noGrad(() => scale(x, 1)));
    for (const [l, level] of this.levels.entries()) {
      await level.initFromData(r, { ...opts, seed: (opts.seed ?? 0) + l });
      const next = keep(noGrad(() => tidy(() => sub(r, level.lookup(level.assign(r))))));
      r.dispose();
      r = next;
    }
    r.dispose();
  }
}

/** Column l of an i32 [N, L] code matrix, as [N]. */
function codeColumn(codes: Tensor<"i32">, l: number): Tensor<"i32"> {
  const n = codes.shape[0];
  return reshape(slice(codes, [0, l], [n, 1]), [n]);
}

/** Options of {@link MultiModalQuantizer}. */
export interface MultiModalQuantizerOptions {
  /** Codes of the shared codebook (DCID: 400). */
  numCodes: number;
  /** Code dimension (DCID: 256). */
  dim: number;
  /** β. Default 0.25. */
  beta?: number;
  /** EMA decay γ. Default 0.99. */
  decay?: number;
  /** Laplace ε. Default 1e-5. */
  eps?: number;
  /**
   * EMA mixing weight of a modality's own features; the rest is split evenly over the other
   * modalities at the same rows. Default 0.5 (DCID: 0.5/0.25/0.25 for three, 0.5/0.5 for two).
   */
  selfWeight?: number;
  /** Commitment weight of the own code, in units of β. Default 2 (DCID code). */
  ownCommit?: number;
  /**
   * Total commitment weight of the other modalities' codes, in units of β, split evenly.
   * Default 1 (DCID code: β for two modalities, β/2 each for three).
   */
  crossCommit?: number;
  /** Reset codes that no modality used for this many consecutive steps (0 = never). */
  deadAfter?: number;
  /** Initial codes are U(−initBound, initBound). Default 1/numCodes. */
  initBound?: number;
  /** Seed of the initial codebook and of dead-code resets. */
  seed?: number;
}

/** Output of {@link MultiModalQuantizer.forward}, one entry per modality. */
export interface MultiModalResult {
  /** Straight-through quantized features [N, dim]. */
  quantized: Tensor<"f32">[];
  /** Codes [N]. */
  codes: Tensor<"i32">[];
  /** Commitment loss with the cross-modal terms (scalar). */
  losses: Tensor<"f32">[];
  /** Batch counts per code [M] (training mode), else empty. */
  counts: Tensor<"f32">[];
  /** Codes reset this step (u32 [1]) or null. */
  reset: Tensor<"u32"> | null;
}

/**
 * DCID's shared codebook for several modalities (Cross_VQEmbeddingEMA of the reference
 * code): every modality is quantized against the same EMA codebook; the EMA then runs
 * sequentially per modality m (in argument order) with counts from m's codes and sums of
 * the mixed features `w·X_m + (1−w)/(K−1)·Σ_{m'≠m} X_{m'}` taken at m's assignments. The
 * commitment loss of modality m is `β·(own·MSE(x_m, sg(q_m)) + cross/(K−1)·Σ MSE(x_m,
 * sg(q_m')))`. Rows of all modalities must be aligned (same (batch, time) positions).
 * Dead codes (unused by every modality) reset to random current inputs of any modality.
 */
export class MultiModalQuantizer extends Module {
  /** The shared EMA quantizer (codebook, EMA state, idle counters). */
  readonly vq: VectorQuantizer;
  /** EMA mixing weight of the own modality. */
  readonly selfWeight: number;
  /** Own commitment weight (× β). */
  readonly ownCommit: number;
  /** Total cross-modal commitment weight (× β). */
  readonly crossCommit: number;

  /** A shared EMA codebook for aligned modalities. */
  constructor(opts: MultiModalQuantizerOptions) {
    super();
    this.vq = this.child(
      "vq",
      new VectorQuantizer({
        numCodes: opts.numCodes,
        dim: opts.dim,
        beta: opts.beta,
        update: "ema",
        decay: opts.decay,
        eps: opts.eps,
        deadAfter: opts.deadAfter,
        initBound: opts.initBound,
        seed: opts.seed,
      }),
    );
    this.selfWeight = opts.selfWeight ?? 0.5;
    this.ownCommit = opts.ownCommit ?? 2;
    this.crossCommit = opts.crossCommit ?? 1;
  }

  /** The shared codebook [M, dim]. */
  get codebook(): Tensor<"f32"> {
    return this.vq.codebook;
  }

  /** Quantizes every modality (each [N, dim], aligned rows) and, in training, updates. */
  forward(xs: readonly Tensor<"f32">[]): MultiModalResult {
    const K = xs.length;
    if (K < 1 || xs.some((x) => x.rank !== 2 || x.shape.join() !== xs[0].shape.join())) {
      throw new Error(
        `wgrec MultiModalQuantizer: modalities ${xs.map((x) => fmt(x.shape)).join(", ")} ` +
          `must share one shape [N, ${this.vq.dim}]`,
      );
    }
    const vq = this.vq;
    const beta = vq.beta;
    const det = xs.map(sg);
    const codes = det.map((x) => vq.assign(x));
    const q = codes.map((c) => noGrad(() => vq.lookup(c)));
    const losses = xs.map((x, m) => {
      let l = scale(mse(x, q[m]), beta * this.ownCommit);
      for (let o = 0; o < K; o++) {
        if (o !== m) l = add(l, scale(mse(x, q[o]), (beta * this.crossCommit) / (K - 1)));
      }
      return l;
    });
    const quantized = xs.map((x, m) => add(x, sub(q[m], det[m])));
    const counts: Tensor<"f32">[] = [];
    let reset: Tensor<"u32"> | null = null;
    if (this.training) {
      noGrad(() => {
        const other = K > 1 ? (1 - this.selfWeight) / (K - 1) : 0;
        for (let m = 0; m < K; m++) {
          const mix = tidy(() => {
            let acc = scale(det[m], K > 1 ? this.selfWeight : 1);
            for (let o = 0; o < K; o++) if (o !== m) acc = add(acc, scale(det[o], other));
            return acc;
          });
          const st = codeStats(codes[m], mix, vq.numCodes);
          emaUpdate(vq.codebook, vq.ema!, st, vq.decay, vq.eps);
          st.sums.dispose();
          mix.dispose();
          counts.push(st.counts);
        }
        const any = counts.reduce((a, c) => add(a, c));
        reset = vq.resetDead(any, K > 1 ? concat(det, 0) : det[0]);
      });
    }
    return { quantized, codes, losses, counts, reset };
  }
}
