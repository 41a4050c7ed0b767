/**
 * DG-SCT's small frozen backbones (../shared/specs/dg-sct.md §3.1, §3.6): the same 4-stage
 * (here `depths.length`-stage) hierarchical token structure as Swin-V2 (`swin`) and HTS-AT
 * (`htsat`) at small widths, randomly initialised and frozen (the pretrained ones are not
 * here). A stage's grid is small enough that one Swin window covers it, so window attention
 * is plain global attention over the stage's tokens (no shift, no relative bias). The visual
 * block is Swin-V2's res-post-norm (`x + norm1(attn(x))`, `x + norm2(mlp(x))`, split so the
 * adapters sit between the two halves, §3.2 step 7); the audio block is HTS-AT's (Swin-V1)
 * pre-norm block, run whole as the official loop does. Patch merging concatenates each 2×2
 * neighbourhood (V2: reduction then norm; V1: norm then reduction).
 * @module
 */

import { add, gelu } from "../../ops/core/elementwise.ts";
import { permute, reshape } from "../../ops/core/shape.ts";
import { fmt, type Tensor } from "../../tensor.ts";
import { MultiHeadAttention } from "../../nn/attention.ts";
import { Conv2d } from "../../nn/conv.ts";
import { Linear } from "../../nn/linear.ts";
import { Module } from "../../nn/module.ts";
import { LayerNorm } from "../../nn/norm.ts";

/** Children registered under given names (PyTorch's `ModuleList`/`Sequential` numbering). */
export class ModuleList<M extends Module> extends Module {
  /** The items in order. */
  constructor(readonly items: M[]) {
    super();
    items.forEach((m, i) => this.child(String(i), m));
  }
}

/** Children registered under given names. */
export class Named extends Module {
  /** Children by name. */
  constructor(items: Record<string, Module>) {
    super();
    for (const [k, m] of Object.entries(items)) this.child(k, m);
  }
}

/** The transformer MLP `mlp.fc1` → GELU → `mlp.fc2`. */
export class Mlp extends Module {
  /** d → 4d. */
  readonly fc1: Linear;
  /** 4d → d. */
  readonly fc2: Linear;
  /** For width `dim`. */
  constructor(dim: number, seed: number) {
    super();
    this.fc1 = this.child("fc1", new Linear(dim, 4 * dim, { seed }));
    this.fc2 = this.child("fc2", new Linear(4 * dim, dim, { seed: seed + 1 }));
  }
  /** fc2(GELU(fc1 x)). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return this.fc2.forward(gelu(this.fc1.forward(x)));
  }
}

/** A Swin block over one stage's tokens: `attn`, `norm1`, `mlp`, `norm2`. */
export class SwinBlock extends Module {
  /** Attention over the stage's tokens. */
  readonly attn: MultiHeadAttention;
  /** Norms of the two halves. */
  readonly norm1: LayerNorm;
  /** See {@link norm1}. */
  readonly norm2: LayerNorm;
  /** The MLP half. */
  readonly mlp: Mlp;

  /** `postNorm`: Swin-V2's res-post-norm; otherwise Swin-V1's pre-norm (HTS-AT). */
  constructor(dim: number, heads: number, readonly postNorm: boolean, seed: number) {
    super();
    this.norm1 = this.child("norm1", new LayerNorm(dim));
    this.attn = this.child("attn", new MultiHeadAttention(dim, heads, { dropout: 0, seed }));
    this.norm2 = this.child("norm2", new LayerNorm(dim));
    this.mlp = this.child("mlp", new Mlp(dim, seed + 5));
  }

  /** V2's attention half `norm1(attn(x))` (the caller adds the residual and the adapter). */
  attnPart(x: Tensor<"f32">): Tensor<"f32"> {
    return this.norm1.forward(this.attn.forward(x));
  }

  /** V2's MLP half `norm2(mlp(x))`. */
  mlpPart(x: Tensor<"f32">): Tensor<"f32"> {
    return this.norm2.forward(this.mlp.forward(x));
  }

  /** The whole block (V1: pre-norm; V2: post-norm). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    if (this.postNorm) {
      const h = add(x, this.attnPart(x));
      return add(h, this.mlpPart(h));
    }
    const h = add(x, this.attn.forward(this.norm1.forward(x)));
    return add(h, this.mlp.forward(this.norm2.forward(h)));
  }
}

/** Patch merging: 2×2 neighbours concatenated (4C) → C' = 2C. */
export class PatchMerging extends Module {
  /** 4C → 2C, no bias. */
  readonly reduction: Linear;
  /** LayerNorm (after the reduction in V2, before it in V1). */
  readonly norm: LayerNorm;
  /** For width `dim` on a `grid`² token grid. */
  constructor(readonly dim: number, readonly grid: number, readonly postNorm: boolean, s: number) {
    super();
    this.reduction = this.child(
      "reduction",
      new Linear(4 * dim, 2 * dim, { bias: false, seed: s }),
    );
    this.norm = this.child("norm", new LayerNorm(postNorm ? 2 * dim : 4 * dim));
  }
  /** [n, g², C] → [n, (g/2)², 2C]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    const n = x.shape[0], g = this.grid, h = g / 2, C = this.dim;
    // [n, g·g, C] → [n, h, 2, h, 2, C] → [n, h, h, 2 (row), 2 (col), C] → [n, h·h, 4C].
    const m = reshape(permute(reshape(x, [n, h, 2, h, 2, C]), [0, 1, 3, 2, 4, 5]), [
      n,
      h * h,
      4 * C,
    ]);
    return this.postNorm
      ? this.norm.forward(this.reduction.forward(m))
      : this.reduction.forward(this.norm.forward(m));
  }
}

/** Conv patch embedding `patch_embed.proj` + `patch_embed.norm`: image → [n, tokens, C]. */
export class PatchEmbed extends Module {
  /** patch × patch conv, stride patch. */
  readonly proj: Conv2d;
  /** LayerNorm of the tokens. */
  readonly norm: LayerNorm;
  /** `inCh` → `dim` channels. */
  constructor(inCh: number, dim: number, readonly patch: number, seed: number) {
    super();
    this.proj = this.child("proj", new Conv2d(inCh, dim, patch, { stride: patch, seed }));
    this.norm = this.child("norm", new LayerNorm(dim));
  }
  /** [n, inCh, H, W] → [n, tokens, dim]. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    const y = this.proj.forward(x); // [n, C, gh, gw]
    const [n, C, gh, gw] = y.shape;
    return this.norm.forward(reshape(permute(y, [0, 2, 3, 1]), [n, gh * gw, C]));
  }
}

/** One stage: `blocks.{j}` and the `downsample` after it (none after the last stage). */
export class Stage extends Module {
  /** The stage's blocks. */
  readonly blocks: SwinBlock[];
  /** Patch merging, or null. */
  readonly downsample: PatchMerging | null;
  /** Tokens and width in this stage. */
  constructor(
    readonly tokens: number,
    readonly dim: number,
    blocks: SwinBlock[],
    down: boolean,
    postNorm: boolean,
    seed: number,
  ) {
    super();
    this.blocks = blocks;
    this.child("blocks", new ModuleList(blocks));
    this.downsample = down
      ? this.child("downsample", new PatchMerging(dim, Math.sqrt(tokens), postNorm, seed))
      : null;
  }
}

/** Options of {@link Backbone}. */
export interface BackboneOptions {
  /** Input channels (3 for images, 1 for a log-mel "image"). */
  inChannels: number;
  /** Square input side (frames = mels for audio). */
  side: number;
  /** Patch size. */
  patch: number;
  /** Width per stage (each stage doubles it). */
  dims: number[];
  /** Blocks per stage. */
  depths: number[];
  /** Heads per stage. */
  heads: number[];
  /** Swin-V2 (post-norm, with a final `norm`) or Swin-V1/HTS-AT (pre-norm, no final norm used). */
  postNorm: boolean;
  /** Seed. */
  seed: number;
}

/** A small hierarchical Swin-like encoder: `patch_embed`, `layers.{i}`, (V2) `norm`. */
export class Backbone extends Module {
  /** Patch embedding. */
  readonly patchEmbed: PatchEmbed;
  /** Stages. */
  readonly layers: Stage[];
  /** Final norm (V2 only; `swin.norm`). */
  readonly norm: LayerNorm | null;

  /** Built from the options; checks the grid halves cleanly at every stage. */
  constructor(readonly o: BackboneOptions) {
    super();
    const g0 = o.side / o.patch;
    const S = o.dims.length;
    if (
      !Number.isInteger(g0) || g0 % 2 ** (S - 1) !== 0 || o.depths.length !== S ||
      o.heads.length !== S || o.dims.some((d, i) => i > 0 && d !== 2 * o.dims[i - 1])
    ) {
      throw new Error(
        `wgrec DG-SCT backbone: side ${o.side} / patch ${o.patch} must give a grid divisible by ` +
          `2^(stages−1), dims [${o.dims}] must double per stage, depths [${o.depths}] and heads ` +
          `[${o.heads}] one per stage`,
      );
    }
    this.patchEmbed = this.child(
      "patch_embed",
      new PatchEmbed(o.inChannels, o.dims[0], o.patch, o.seed),
    );
    this.layers = o.dims.map((d, i) => {
      const g = g0 / 2 ** i;
      const blocks = Array.from(
        { length: o.depths[i] },
        (_, j) => new SwinBlock(d, o.heads[i], o.postNorm, o.seed + 100 * (i + 1) + 10 * j),
      );
      return new Stage(g * g, d, blocks, i < S - 1, o.postNorm, o.seed + 100 * (i + 1) + 99);
    });
    this.child("layers", new ModuleList(this.layers));
    this.norm = o.postNorm ? this.child("norm", new LayerNorm(o.dims[S - 1])) : null;
  }

  /** Patch tokens [n, tokens₀, dims₀] of an input [n, inChannels, side, side]. */
  embed(x: Tensor<"f32">): Tensor<"f32"> {
    const o = this.o;
    if (
      x.rank !== 4 || x.shape[1] !== o.inChannels || x.shape[2] !== o.side || x.shape[3] !== o.side
    ) {
      throw new Error(
        `wgrec DG-SCT backbone: input ${
          fmt(x.shape)
        }, expected [n, ${o.inChannels}, ${o.side}, ${o.side}]`,
      );
    }
    return this.patchEmbed.forward(x);
  }
}
