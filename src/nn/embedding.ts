/**
 * Lookup tables and bare parameters, with PyTorch's parameter names.
 * @module
 */

import { Module } from "./module.ts";
import { gather } from "../ops/sparse/gather.ts";
import { type Tensor, tensor } from "../tensor.ts";

/** A lookup table `weight` `[num, dim]` (PyTorch's `nn.Embedding` parameter name). */
export class Embedding extends Module {
  /** The table. */
  readonly weight: Tensor<"f32">;

  /** A table initialised with `init` (row-major `[num, dim]`). */
  constructor(readonly num: number, readonly dim: number, init: Float32Array) {
    super();
    if (init.length !== num * dim) {
      throw new Error(`wgrec Embedding: ${init.length} initial values for [${num}, ${dim}]`);
    }
    this.weight = this.param("weight", tensor(init, [num, dim]));
  }

  /** Rows `idx` of the table. */
  forward(idx: Tensor<"i32">): Tensor<"f32"> {
    return gather(this.weight, idx);
  }
}

/** Named parameters without a layer (PyTorch's `nn.ParameterDict`). */
export class ParameterDict extends Module {
  /** Registers each entry as a trainable parameter under its key. */
  constructor(entries: Record<string, Tensor<"f32">>) {
    super();
    for (const [k, v] of Object.entries(entries)) this.param(k, v);
  }
}
