/**
 * Dense layers.
 * @module
 */

import { add, gelu, relu, sigmoid, tanh } from "../ops/core/elementwise.ts";
import { linear } from "../ops/matmul/matmul.ts";
import { randUniform, type Tensor } from "../tensor.ts";
import { Module } from "./module.ts";

/** Activation names accepted by layers. */
export type Activation = "relu" | "gelu" | "tanh" | "sigmoid" | "none";

/** Applies an activation by name. */
export function activate(x: Tensor<"f32">, act: Activation): Tensor<"f32"> {
  switch (act) {
    case "relu":
      return relu(x);
    case "gelu":
      return gelu(x);
    case "tanh":
      return tanh(x);
    case "sigmoid":
      return sigmoid(x);
    case "none":
      return x;
  }
}

/**
 * y = act(x·Wᵀ + b) in one fused kernel, with W stored [out, in] as in PyTorch (so weights
 * interchange as is).
 */
export class Linear extends Module {
  /** Weight, [out, in]. */
  readonly weight: Tensor<"f32">;
  /** Bias, [out], or null. */
  readonly bias: Tensor<"f32"> | null;

  /** PyTorch's default init: U(−1/√in, 1/√in) for weight and bias. */
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: {
    bias?: boolean;
    seed?: number;
  } = {}) {
    super();
    const bound = 1 / Math.sqrt(inFeatures);
    const seed = opts.seed ?? 0;
    this.weight = this.param("weight", randUniform([outFeatures, inFeatures], seed, -bound, bound));
    this.bias = opts.bias === false
      ? null
      : this.param("bias", randUniform([outFeatures], seed + 1, -bound, bound));
  }

  /**
   * An update added to x·Wᵀ + b before the activation (a LoRA branch, see `nn/adapt.ts`); it
   * returns null when it has nothing to add (merged into the weight).
   */
  delta: { forward(x: Tensor<"f32">): Tensor<"f32"> | null } | null = null;

  /** Applies the layer to [..., in] (rank 2 or 3), with an optional fused activation. */
  forward(x: Tensor<"f32">, act: Activation = "none"): Tensor<"f32"> {
    const d = this.delta?.forward(x);
    if (!d) return linear(x, this.weight, this.bias, act);
    return activate(add(linear(x, this.weight, this.bias), d), act);
  }
}

/** A stack of Linear layers with an activation between them (none after the last). */
export class MLP extends Module {
  /** The Linear layers in order. */
  readonly layers: Linear[];

  /** Layers of sizes[0] → sizes[1] → … with `act` between them. */
  constructor(sizes: readonly number[], readonly act: Activation = "relu", seed = 0) {
    super();
    if (sizes.length < 2) throw new Error("wgrec MLP: give at least input and output sizes");
    this.layers = sizes.slice(1).map((n, i) =>
      this.child(String(i), new Linear(sizes[i], n, { seed: seed + 17 * i }))
    );
  }

  /** Applies the stack. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    let h = x;
    const last = this.layers.length - 1;
    this.layers.forEach((l, i) => (h = l.forward(h, i < last ? this.act : "none")));
    return h;
  }
}

/** `nn.Sequential(Linear, Sigmoid)` with PyTorch's child name `0` for the Linear. */
export class Gate extends Module {
  /** The Linear layer (`0`). */
  readonly lin: Linear;
  /** A d → d gate. */
  constructor(d: number, seed: number) {
    super();
    this.lin = this.child("0", new Linear(d, d, { seed }));
  }
  /** σ(x Wᵀ + b). */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return sigmoid(this.lin.forward(x));
  }
}
