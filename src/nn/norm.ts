/**
 * Normalisation layers.
 * @module
 */

import { layerNorm } from "../ops/core/layernorm.ts";
import { ones, type Tensor, zeros } from "../tensor.ts";
import { Module } from "./module.ts";

/** LayerNorm over the last axis with PyTorch's parameter names (`weight` γ, `bias` β). */
export class LayerNorm extends Module {
  /** γ. */
  readonly weight: Tensor<"f32">;
  /** β. */
  readonly bias: Tensor<"f32">;
  /** Over a last axis of size n, with PyTorch's default ε. */
  constructor(n: number, readonly eps = 1e-5) {
    super();
    this.weight = this.param("weight", ones([n]));
    this.bias = this.param("bias", zeros([n]));
  }
  /** Normalises the last axis. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
