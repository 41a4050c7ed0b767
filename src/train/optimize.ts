/**
 * The loop's optimisation pieces: the optimizer by name, the learning-rate schedule's factor
 * per epoch, and gradient clipping by global norm (on the GPU, no readback).
 * @module
 */

import { Adam, AdamW, type Optimizer, SGD } from "../nn/optim.ts";
import { add, div, minimum, mul, sqrt, square } from "../ops/core/elementwise.ts";
import { sum } from "../ops/core/reduce.ts";
import { keep, type Tensor, tensor } from "../tensor.ts";
import type { LoopOptions, LrSchedule } from "./loop.ts";

/** The schedule's factor at `epoch` (plateau: the factor reached so far). */
export function lrFactor(
  s: LrSchedule,
  epoch: number,
  epochs: number,
  plateau: number,
): number {
  switch (s.kind) {
    case "constant":
      return 1;
    case "exponential":
      return Math.pow(s.base, epoch / s.every);
    case "step":
      return Math.pow(s.gamma, Math.floor(epoch / s.every));
    case "cosine": {
      const m = s.min ?? 0;
      return m + (1 - m) * 0.5 * (1 + Math.cos((Math.PI * epoch) / Math.max(1, epochs)));
    }
    case "plateau":
      return plateau;
  }
}

/** The optimizer the options name. */
export function makeOptimizer(params: Tensor<"f32">[], o: LoopOptions, lr: number): Optimizer {
  const weightDecay = o.weightDecay ?? 0;
  switch (o.optimizer ?? "adam") {
    case "adam":
      return new Adam(params, { lr, weightDecay });
    case "adamw":
      return new AdamW(params, { lr, weightDecay });
    case "sgd":
      return new SGD(params, { lr, weightDecay });
    default:
      throw new Error(`wgrec fit: optimizer '${o.optimizer}'; expected adam, adamw or sgd`);
  }
}

/** Scales every gradient by min(1, c / ‖g‖) with ‖g‖ the global L2 norm (on the GPU). */
export function clipGradients(params: Tensor<"f32">[], c: number): void {
  const grads = params.filter((p) => p.grad);
  if (!grads.length) return;
  let sq: Tensor<"f32"> | null = null;
  for (const p of grads) {
    const s = sum(square(p.grad!));
    sq = sq ? add(sq, s) : s;
  }
  // factor = min(1, c / (‖g‖ + 1e-6)), as torch.nn.utils.clip_grad_norm_.
  const norm = add(sqrt(sq!), tensor([1e-6], [1]));
  const factor = minimum(div(tensor([c], [1]), norm), tensor([1], [1]));
  for (const p of grads) {
    const g = keep(mul(p.grad!, factor));
    p.grad!.dispose();
    p.grad = g;
  }
}
