/**
 * The survey's four adaptation strategies (../shared/specs/survey-building-blocks.md §2) as
 * building blocks that work on the Linear and attention layers of any model here:
 *
 * - representation transfer: {@link FrozenFeatures}, fixed features through a trainable
 *   projection with dropout;
 * - fine-tuning: {@link freeze} / {@link unfreeze} by name pattern, and {@link paramGroups}
 *   for per-group learning-rate multipliers and weight decay on the optimizers;
 * - adapter tuning: {@link BottleneckAdapter} (Houlsby: after the attention and the
 *   feed-forward block of each transformer layer; Pfeiffer: after the feed-forward block
 *   only, see {@link addAdapters}), {@link CrossModalAdapter}, and {@link Adapted} around any
 *   layer;
 * - prompt tuning: {@link PromptTokens} (learned tokens before the input) and
 *   {@link PrefixTuning} (learned per-layer key/value prefixes, the mechanism PMG uses);
 * - and LoRA: {@link addLoRA} puts `W x + (α/r)·B A dropout(x)` on Linear layers and on the
 *   q/k/v projections of attention, with {@link mergeLoRA} / {@link unmergeLoRA} for serving.
 *
 * Parameter names follow PEFT where it has one (`lora_A` [r, in], `lora_B` [out, r]).
 * @module
 */

import { add, scale, sub } from "../ops/core/elementwise.ts";
import { broadcastTo, concat, reshape, slice } from "../ops/core/shape.ts";
import { linear, matmul } from "../ops/matmul/matmul.ts";
import { gather } from "../ops/sparse/gather.ts";
import { noGrad } from "../autograd/tape.ts";
import { keep, randNormal, randUniform, runtime, type Tensor, zeros } from "../tensor.ts";
import { activate, type Activation, Linear } from "./linear.ts";
import { Module } from "./module.ts";
import { dropout, Seeds } from "./dropout.ts";
import { MultiHeadAttention, TransformerEncoderLayer } from "./attention.ts";
import type { Optimizer } from "./optim.ts";

// --- LoRA ---------------------------------------------------------------------------------

/** Options of {@link addLoRA}. */
export interface LoRAOptions {
  /** Rank r. Default 8. */
  rank?: number;
  /** α: the update is scaled by α / r. Default 8 (PEFT's default: scale 1 at r = 8). */
  alpha?: number;
  /** Dropout on the LoRA branch's input (training mode). Default 0. */
  dropout?: number;
  /** Which layers (dotted module names) get LoRA. Default every Linear and attention layer. */
  target?: RegExp;
  /** Which attention projections get LoRA. Default "qv" (the LoRA paper's choice). */
  projections?: string;
  /** Freeze every parameter that is not a LoRA parameter. Default true. */
  freezeBase?: boolean;
  /** Initialisation and dropout seed. Default 0. */
  seed?: number;
}

/**
 * The low-rank branch `(α/r) · B A dropout(x)` of one projection in → out. A starts as PEFT's
 * Kaiming-uniform (bound 1/√in), B at zero, so an adapted model starts as the base model.
 */
export class LoRA extends Module {
  /** A [r, in]. */
  readonly loraA: Tensor<"f32">;
  /** B [out, r]. */
  readonly loraB: Tensor<"f32">;
  /** α / r. */
  readonly scaling: number;
  /** Whether the update is folded into the base weight (the branch then adds nothing). */
  merged = false;
  #seeds: Seeds;

  /** A branch for a projection `inDim → outDim`. */
  constructor(
    readonly inDim: number,
    readonly outDim: number,
    readonly rank: number,
    alpha: number,
    readonly dropout = 0,
    seed = 0,
  ) {
    super();
    if (!Number.isInteger(rank) || rank < 1) {
      throw new Error(`wgrec LoRA: rank ${rank}, expected a positive integer`);
    }
    const bound = 1 / Math.sqrt(inDim);
    this.loraA = this.param("lora_A", randUniform([rank, inDim], seed, -bound, bound));
    this.loraB = this.param("lora_B", zeros([outDim, rank]));
    this.scaling = alpha / rank;
    this.#seeds = new Seeds(seed + 1);
  }

  /** The update for x [..., in] → [..., out] (zeros' worth of nothing once merged: null). */
  forward(x: Tensor<"f32">): Tensor<"f32"> | null {
    if (this.merged) return null;
    const h = this.training ? dropout(x, this.dropout, this.#seeds.next()) : x;
    const lowRank = linear(h, this.loraA, null); // [..., r]
    return linear(lowRank, this.#scaledB(), null); // [..., out]
  }

  /** The dense update ΔW = (α/r)·B A [out, in]. */
  deltaWeight(): Tensor<"f32"> {
    return matmul(this.#scaledB(), this.loraA);
  }

  #scaledB(): Tensor<"f32"> {
    return this.scaling === 1 ? this.loraB : scale(this.loraB, this.scaling);
  }
}

/**
 * Adds LoRA branches to the matching Linear layers and attention projections of `model`
 * (registered as `<layer>.lora` / `<attention>.lora_q` …, so they save and free with it).
 * Returns the names of the adapted projections.
 */
export function addLoRA(model: Module, opts: LoRAOptions = {}): string[] {
  const rank = opts.rank ?? 8;
  const alpha = opts.alpha ?? 8;
  const target = opts.target ?? /.*/;
  const proj = opts.projections ?? "qv";
  let seed = opts.seed ?? 0;
  const done: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!target.test(name)) continue;
    if (m instanceof Linear && !m.delta) {
      m.delta = m.attach(
        "lora",
        new LoRA(m.inFeatures, m.outFeatures, rank, alpha, opts.dropout, seed++),
      );
      done.push(name);
    } else if (m instanceof MultiHeadAttention) {
      for (const p of proj) {
        const i = "qkv".indexOf(p);
        if (i < 0) throw new Error(`wgrec addLoRA: projection '${p}', expected q, k or v`);
        if (m.deltas[i]) continue;
        const E = m.embedDim;
        m.deltas[i] = m.attach(
          `lora_${p}`,
          new LoRA(m.inputDims[i], E, rank, alpha, opts.dropout, seed++),
        );
        done.push(`${name}.${p}`);
      }
    }
  }
  if (done.length === 0) {
    throw new Error(`wgrec addLoRA: no Linear or attention layer matches ${target}`);
  }
  if (opts.freezeBase ?? true) freezeBase(model);
  return done;
}

/** The LoRA branches of `model` with the weight each one updates. */
function loraTargets(model: Module): [LoRA, Tensor<"f32">, number][] {
  const out: [LoRA, Tensor<"f32">, number][] = [];
  for (const [, m] of model.namedModules()) {
    if (m instanceof Linear && m.delta instanceof LoRA) out.push([m.delta, m.weight, 0]);
    if (m instanceof MultiHeadAttention) {
      m.deltas.forEach((d, i) => {
        if (!(d instanceof LoRA)) return;
        const w = [m.qProjWeight, m.kProjWeight, m.vProjWeight][i];
        if (w) out.push([d, w, 0]);
        else out.push([d, m.inProjWeight!, i * m.embedDim]);
      });
    }
  }
  return out;
}

/** Folds every LoRA update into its base weight (W ← W + ΔW): serving then costs nothing extra. */
export function mergeLoRA(model: Module): void {
  foldLoRA(model, true);
}

/** Undoes {@link mergeLoRA} (W ← W − ΔW), so training can go on. */
export function unmergeLoRA(model: Module): void {
  foldLoRA(model, false);
}

function foldLoRA(model: Module, merge: boolean): void {
  noGrad(() => {
    for (const [lora, w, row] of loraTargets(model)) {
      if (lora.merged === merge) continue;
      const [rows, cols] = [lora.outDim, lora.inDim];
      const part = row === 0 && rows === w.shape[0] ? w : slice(w, [row, 0], [rows, cols]);
      const delta = lora.deltaWeight();
      const next = merge ? add(part, delta) : sub(part, delta);
      runtime().copy(next.buffer, 0, w.buffer, row * cols * 4, next.size * 4);
      lora.merged = merge;
    }
  });
}

// --- Adapters -----------------------------------------------------------------------------

/**
 * Bottleneck adapter (Houlsby et al. 2019): `h + up(act(down(h)))`, d → r → d. `up` starts at
 * zero, so the adapted model starts as the base model.
 */
export class BottleneckAdapter extends Module {
  /** d → r. */
  readonly down: Linear;
  /** r → d. */
  readonly up: Linear;

  /** An adapter of width `dim` through a bottleneck of `bottleneck`. */
  constructor(dim: number, bottleneck: number, readonly act: Activation = "relu", seed = 0) {
    super();
    this.down = this.child("down", new Linear(dim, bottleneck, { seed }));
    this.up = this.child("up", new Linear(bottleneck, dim, { seed: seed + 1 }));
    zeroParams(this.up);
  }

  /** h [..., d] → h + up(act(down(h))). */
  forward(h: Tensor<"f32">): Tensor<"f32"> {
    return add(h, this.up.forward(this.down.forward(h, this.act)));
  }
}

/**
 * Cross-modal adapter: the bottleneck of `h` attends to the bottleneck of another modality's
 * tokens `ctx`: `z = down(h); z ← z + Attn(z, c, c)` with `c = downCtx(ctx)`; `h + up(act(z))`.
 * As DG-SCT-style adapters, it lets one modality's features steer another's.
 */
export class CrossModalAdapter extends Module {
  /** d → r. */
  readonly down: Linear;
  /** dCtx → r. */
  readonly downCtx: Linear;
  /** Attention inside the bottleneck. */
  readonly attn: MultiHeadAttention;
  /** r → d. */
  readonly up: Linear;

  /** An adapter of width `dim` reading context of width `ctxDim`. */
  constructor(
    dim: number,
    ctxDim: number,
    bottleneck: number,
    heads = 1,
    readonly act: Activation = "relu",
    seed = 0,
  ) {
    super();
    this.down = this.child("down", new Linear(dim, bottleneck, { seed }));
    this.downCtx = this.child("down_ctx", new Linear(ctxDim, bottleneck, { seed: seed + 1 }));
    this.attn = this.child("attn", new MultiHeadAttention(bottleneck, heads, { seed: seed + 2 }));
    this.up = this.child("up", new Linear(bottleneck, dim, { seed: seed + 3 }));
    zeroParams(this.up);
  }

  /** h [B, L, d], ctx [B, Lc, dCtx] → [B, L, d]. */
  forward(h: Tensor<"f32">, ctx: Tensor<"f32">): Tensor<"f32"> {
    const z = this.down.forward(h);
    const c = this.downCtx.forward(ctx);
    const mixed = add(z, this.attn.forward(z, c, c));
    return add(h, this.up.forward(activate(mixed, this.act)));
  }
}

/** Any layer followed by an adapter: `adapter(layer(x))`, children `layer` and `adapter`. */
export class Adapted<M extends Module & { forward(x: Tensor<"f32">): Tensor<"f32"> }>
  extends Module {
  /** The wrapped layer. */
  readonly layer: M;
  /** The adapter on its output. */
  readonly adapter: BottleneckAdapter;
  /** Wraps `layer`; its output goes through `adapter`. */
  constructor(layer: M, adapter: BottleneckAdapter) {
    super();
    this.layer = this.child("layer", layer);
    this.adapter = this.child("adapter", adapter);
  }
  /** The layer's output through the adapter. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return this.adapter.forward(this.layer.forward(x));
  }
}

/** Options of {@link addAdapters}. */
export interface AdapterOptions {
  /** "houlsby": after attention and feed-forward; "pfeiffer": after feed-forward only. */
  placement?: "houlsby" | "pfeiffer";
  /** Bottleneck width. Default 16. */
  bottleneck?: number;
  /** Bottleneck activation. Default relu. */
  act?: Activation;
  /** Freeze every non-adapter parameter. Default true. */
  freezeBase?: boolean;
  /** Initialisation seed. Default 0. */
  seed?: number;
}

/**
 * Puts bottleneck adapters into every transformer encoder layer of `model` (registered as
 * `adapter_attn` / `adapter_ffn`); returns the adapted layers' names.
 */
export function addAdapters(model: Module, opts: AdapterOptions = {}): string[] {
  const r = opts.bottleneck ?? 16;
  const act = opts.act ?? "relu";
  let seed = opts.seed ?? 0;
  const done: string[] = [];
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof TransformerEncoderLayer)) continue;
    const d = m.selfAttn.embedDim;
    if ((opts.placement ?? "houlsby") === "houlsby" && !m.adapterAttn) {
      m.adapterAttn = m.attach("adapter_attn", new BottleneckAdapter(d, r, act, seed));
      seed += 2;
    }
    if (!m.adapterFfn) {
      m.adapterFfn = m.attach("adapter_ffn", new BottleneckAdapter(d, r, act, seed));
      seed += 2;
    }
    done.push(name);
  }
  if (done.length === 0) throw new Error("wgrec addAdapters: the model has no transformer layer");
  if (opts.freezeBase ?? true) freezeBase(model);
  return done;
}

// --- Prompt and prefix tuning -------------------------------------------------------------

/** Learned prompt tokens placed before every input sequence: [B, L, d] → [B, P + L, d]. */
export class PromptTokens extends Module {
  /** The prompt [P, d]. */
  readonly prompt: Tensor<"f32">;
  /** P tokens of width d, initialised N(0, 0.02²). */
  constructor(readonly numTokens: number, readonly dim: number, seed = 0) {
    super();
    this.prompt = this.param("prompt", randNormal([numTokens, dim], seed, 0.02));
  }
  /** The prompt then the sequence; add `numTokens` to any key lengths. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new Error(`wgrec PromptTokens: input [${x.shape}], expected [B, L, ${this.dim}]`);
    }
    const p = broadcastTo(reshape(this.prompt, [1, this.numTokens, this.dim]), [
      x.shape[0],
      this.numTokens,
      this.dim,
    ]);
    return concat([p, x], 1);
  }
}

/**
 * Prefix tuning (Li & Liang 2021; P-Tuning v2): learned key and value prefixes for every
 * attention layer, `prefix_key` / `prefix_value` [layers, P, H, Dh], handed to a layer's
 * forward as `{ ...prefix.kv(i) }`. The queries attend to them before the sequence's own keys.
 */
export class PrefixTuning extends Module {
  /** Key prefixes [layers, P, H, Dh]. */
  readonly prefixKey: Tensor<"f32">;
  /** Value prefixes [layers, P, H, Dh]. */
  readonly prefixValue: Tensor<"f32">;

  /** Prefixes of P tokens for `layers` layers of `heads` × `headDim`. */
  constructor(
    readonly layers: number,
    readonly numTokens: number,
    readonly heads: number,
    readonly headDim: number,
    seed = 0,
  ) {
    super();
    const shape = [layers, numTokens, heads, headDim];
    this.prefixKey = this.param("prefix_key", randNormal(shape, seed, 0.02));
    this.prefixValue = this.param("prefix_value", randNormal(shape, seed + 1, 0.02));
  }

  /** Layer i's prefixes, as attention call options. */
  kv(i: number): { prefixKey: Tensor<"f32">; prefixValue: Tensor<"f32"> } {
    if (!Number.isInteger(i) || i < 0 || i >= this.layers) {
      throw new Error(`wgrec PrefixTuning: layer ${i}, expected 0 ≤ i < ${this.layers}`);
    }
    const pick = (t: Tensor<"f32">) =>
      reshape(slice(t, [i, 0, 0, 0], [1, this.numTokens, this.heads, this.headDim]), [
        this.numTokens,
        this.heads,
        this.headDim,
      ]);
    return { prefixKey: pick(this.prefixKey), prefixValue: pick(this.prefixValue) };
  }
}

// --- Representation transfer --------------------------------------------------------------

/**
 * Representation transfer: fixed item features [N, f] (not trained, not saved) through a
 * trainable projection f → … → d with dropout between layers.
 */
export class FrozenFeatures extends Module {
  /** The projection layers. */
  readonly layers: Linear[];
  readonly #features: Tensor<"f32">;
  #seeds: Seeds;

  /** Projects `features` through widths `sizes` (the first must be f). */
  constructor(
    features: Tensor<"f32">,
    sizes: readonly number[],
    readonly act: Activation = "relu",
    readonly dropout = 0,
    seed = 0,
  ) {
    super();
    if (features.rank !== 2 || sizes[0] !== features.shape[1] || sizes.length < 2) {
      throw new Error(
        `wgrec FrozenFeatures: features [${features.shape}] and sizes [${sizes}], expected ` +
          `[N, f] and [f, …, d]`,
      );
    }
    this.#features = keep(features);
    this.layers = sizes.slice(1).map((n, i) =>
      this.child(String(i), new Linear(sizes[i], n, { seed: seed + 17 * i }))
    );
    this.#seeds = new Seeds(seed + 1);
  }

  /** Projected features of rows `idx` (all rows when omitted). */
  forward(idx?: Tensor<"i32">): Tensor<"f32"> {
    let h = idx ? gather(this.#features, idx) : this.#features;
    const last = this.layers.length - 1;
    this.layers.forEach((l, i) => {
      if (this.training) h = dropout(h, this.dropout, this.#seeds.next());
      h = l.forward(h, i < last ? this.act : "none");
    });
    return h;
  }

  /** Frees the projection and the features. */
  override dispose(): void {
    super.dispose();
    this.#features.dispose();
  }
}

// --- Fine-tuning: freezing and parameter groups -------------------------------------------

/** A dotted-name glob (`encoder.*.weight`, `encoder.**`) or a regular expression. */
export type NamePattern = string | RegExp;

function toRegExp(p: NamePattern): RegExp {
  if (p instanceof RegExp) return p;
  const body = p.split("**").map((part) =>
    part.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^.]*")
  ).join(".*");
  return new RegExp(`^${body}$`);
}

/** Stops the matching parameters from training (no gradient, no optimizer state). */
export function freeze(model: Module, ...patterns: NamePattern[]): number {
  return setTrainable(model, patterns, false);
}

/** Lets the matching parameters train again. */
export function unfreeze(model: Module, ...patterns: NamePattern[]): number {
  return setTrainable(model, patterns, true);
}

function setTrainable(model: Module, patterns: NamePattern[], on: boolean): number {
  const res = (patterns.length ? patterns : ["**"]).map(toRegExp);
  let n = 0;
  for (const [name, p] of model.namedParameters()) {
    if (!res.some((r) => r.test(name))) continue;
    p.requiresGrad = on;
    if (!on) {
      p.grad?.dispose();
      p.grad = null;
    }
    n++;
  }
  if (n === 0) throw new Error(`wgrec freeze: no parameter matches ${patterns.join(", ")}`);
  return n;
}

/** Trainable and total scalar parameter counts of `model`. */
export function trainableParameters(model: Module): { trainable: number; total: number } {
  let trainable = 0;
  let total = 0;
  for (const p of model.parameters()) {
    total += p.size;
    if (p.requiresGrad) trainable += p.size;
  }
  return { trainable, total };
}

/** One parameter group: the parameters whose names match, and their settings. */
export interface ParamGroup {
  /** Which parameters (dotted-name glob or regular expression). */
  match: NamePattern;
  /** Learning-rate multiplier. Default 1. */
  lrScale?: number;
  /** Weight decay for this group (default: the optimizer's). */
  weightDecay?: number;
}

/**
 * Applies parameter groups to an optimizer built over `model.parameters()`: the first group
 * whose pattern matches a parameter's name sets its learning-rate multiplier and weight
 * decay (e.g. a lower rate for a pretrained encoder than for a new head, or layer-wise decay).
 */
export function paramGroups(opt: Optimizer, model: Module, groups: readonly ParamGroup[]): void {
  const named = model.namedParameters();
  const res = groups.map((g) => toRegExp(g.match));
  named.forEach(([name, p]) => {
    const i = opt.params.indexOf(p);
    if (i < 0) return;
    const g = res.findIndex((r) => r.test(name));
    if (g < 0) return;
    opt.setGroup(i, { lrScale: groups[g].lrScale, weightDecay: groups[g].weightDecay });
  });
}

/** Names of parameters that adaptation added (LoRA branches, adapters). */
const ADDED = /(^|\.)(lora|lora_[qkv]|adapter_attn|adapter_ffn)\./;

/** Freezes every parameter that no adaptation added, so only the added ones train. */
function freezeBase(model: Module): void {
  for (const [n, p] of model.namedParameters()) {
    if (ADDED.test(n)) continue;
    p.requiresGrad = false;
    p.grad?.dispose();
    p.grad = null;
  }
}

function zeroParams(m: Module): void {
  for (const [n, p] of m.namedParameters()) {
    const z = zeros(p.shape);
    m.setParameter(n, z);
    z.dispose();
  }
}
