/**
 * One switch over the survey's adaptation strategies (../shared/specs/survey-building-blocks.md
 * §2) for any pretrained encoder built from {@link TransformerEncoderLayer}s, so a model with an
 * encoder offers `--set adapt=frozen|finetune|adapter|prefix|lora` by calling
 * {@link adaptEncoder} once and {@link EncoderAdaptation.layerOptions} in its layer loop:
 *
 * - `frozen` (representation transfer): every encoder parameter frozen; the caller encodes the
 *   items once and trains a projection over the cached vectors ({@link FrozenFeatures});
 * - `finetune`: every encoder parameter trains (except `unused` ones);
 * - `adapter`: Houlsby/Pfeiffer bottleneck adapters in each layer, the rest frozen;
 * - `prefix`: per-layer key/value prefixes ({@link PrefixTuning}, attached to the encoder as
 *   `prefix`), the rest frozen;
 * - `lora`: LoRA on the attention projections (default q and v), the rest frozen.
 * @module
 */

import type { Tensor } from "../tensor.ts";
import { TransformerEncoderLayer } from "./attention.ts";
import type { Module } from "./module.ts";
import { addAdapters, addLoRA, freeze, type NamePattern, PrefixTuning } from "./adapt.ts";

/** The strategies {@link adaptEncoder} knows. */
export const ADAPT_STRATEGIES = ["frozen", "finetune", "adapter", "prefix", "lora"] as const;

/** One of {@link ADAPT_STRATEGIES}. */
export type AdaptStrategy = typeof ADAPT_STRATEGIES[number];

/** Options of {@link adaptEncoder} (each strategy reads its own). */
export interface AdaptEncoderOptions {
  /** Parameters the downstream task never uses (e.g. an MLM head): frozen in every strategy. */
  unused?: NamePattern[];
  /** adapter: bottleneck width. Default 16. */
  bottleneck?: number;
  /** adapter: "houlsby" (after attention and feed-forward) or "pfeiffer". Default houlsby. */
  placement?: "houlsby" | "pfeiffer";
  /** prefix: tokens per layer. Default 8. */
  prefixTokens?: number;
  /** lora: rank. Default 8. */
  rank?: number;
  /** lora: α (update scaled by α / rank). Default 16. */
  alpha?: number;
  /** lora: attention projections that get LoRA. Default "qv". */
  projections?: string;
  /** Initialisation seed of what the strategy adds. Default 0. */
  seed?: number;
}

/** What {@link adaptEncoder} did, and what the caller's forward needs from it. */
export interface EncoderAdaptation {
  /** The strategy. */
  readonly strategy: AdaptStrategy;
  /**
   * Whether any encoder parameter trains. False for `frozen`: its outputs never change, so the
   * caller should encode once and cache them.
   */
  readonly encoderTrains: boolean;
  /** The prefixes (`prefix` only), else null. */
  readonly prefix: PrefixTuning | null;
  /** Options for transformer layer `i`'s forward (the prefix key/values, when any). */
  layerOptions(i: number): { prefixKey?: Tensor<"f32">; prefixValue?: Tensor<"f32"> };
}

/** The transformer layers of `encoder`, in order. */
function transformerLayers(encoder: Module): TransformerEncoderLayer[] {
  return encoder.namedModules().map(([, m]) => m).filter((m) =>
    m instanceof TransformerEncoderLayer
  ) as TransformerEncoderLayer[];
}

/**
 * Adapts a pretrained `encoder` in place by `strategy`: freezes what does not train and
 * attaches what the strategy adds (adapters, LoRA branches, prefixes), so they save, train and
 * free with the encoder. Call it once, after loading the pretrained weights.
 */
export function adaptEncoder(
  encoder: Module,
  strategy: AdaptStrategy,
  opts: AdaptEncoderOptions = {},
): EncoderAdaptation {
  const layers = transformerLayers(encoder);
  if (layers.length === 0) {
    throw new Error("wgrec adaptEncoder: the encoder has no TransformerEncoderLayer");
  }
  const seed = opts.seed ?? 0;
  let prefix: PrefixTuning | null = null;
  switch (strategy) {
    case "frozen":
      freeze(encoder);
      break;
    case "finetune":
      break;
    case "adapter":
      addAdapters(encoder, { bottleneck: opts.bottleneck, placement: opts.placement, seed });
      break;
    case "prefix": {
      freeze(encoder);
      const attn = layers[0].selfAttn;
      prefix = encoder.attach(
        "prefix",
        new PrefixTuning(layers.length, opts.prefixTokens ?? 8, attn.numHeads, attn.headDim, seed),
      );
      break;
    }
    case "lora":
      // LoRA on the attention modules only (not their out_proj or the feed-forward Linears).
      addLoRA(encoder, {
        rank: opts.rank ?? 8,
        alpha: opts.alpha ?? 16,
        projections: opts.projections ?? "qv",
        target: /(^|\.)self_attn$/,
        seed,
      });
      break;
    default:
      throw new Error(
        `wgrec adaptEncoder: strategy '${strategy}', expected one of ${
          ADAPT_STRATEGIES.join(", ")
        }`,
      );
  }
  if (opts.unused?.length) freeze(encoder, ...opts.unused);
  const encoderTrains = encoder.parameters().some((p) => p.requiresGrad);
  return {
    strategy,
    encoderTrains,
    prefix,
    layerOptions: (i) => (prefix ? prefix.kv(i) : {}),
  };
}
