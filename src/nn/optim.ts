/**
 * Optimizers with fused update kernels (`shaders/sgd.wgsl`, `shaders/adam.wgsl`): one
 * dispatch per parameter, no readback. Parameters without a gradient are skipped.
 * @module
 */

import { kernel } from "../gpu/kernel.ts";
import { groups, launch } from "../ops/common.ts";
import { keep, type Tensor, zeros } from "../tensor.ts";
import * as optimWgsl from "../../shaders/optim/wgsl.ts";

const sgdK = /* @__PURE__ */ kernel({
  name: "sgd",
  source: optimWgsl.sgd,
  defines: { NESTEROV: "bool" },
  bindings: { p: "f32 rw", grad: "f32", vel: "f32 rw" },
  uniforms: { n: "u32", lr: "f32", momentum: "f32", wd: "f32", first: "u32" },
  workgroupSize: [256],
});

const adamK = /* @__PURE__ */ kernel({
  name: "adam",
  source: optimWgsl.adam,
  defines: { DECOUPLED: "bool" },
  bindings: { p: "f32 rw", grad: "f32", m: "f32 rw", v: "f32 rw" },
  uniforms: {
    n: "u32",
    lr: "f32",
    beta1: "f32",
    beta2: "f32",
    eps: "f32",
    wd: "f32",
    bc1: "f32",
    bc2: "f32",
  },
  workgroupSize: [256],
});

/** Common optimizer interface. */
export abstract class Optimizer {
  /** Learning rate; schedulers change it between steps. */
  lr: number;
  /** Steps taken. */
  steps = 0;

  /** Per-parameter learning-rate multipliers (parameter groups; 1 by default). */
  readonly lrScales: number[];
  /** Per-parameter weight decay overriding the optimizer's (undefined: the optimizer's). */
  readonly decays: (number | undefined)[];

  /** An optimizer of `params` with learning rate `lr`. */
  constructor(readonly params: readonly Tensor<"f32">[], lr: number) {
    this.lr = lr;
    this.lrScales = params.map(() => 1);
    this.decays = params.map(() => undefined);
  }

  /** Puts parameter `i` in a group with its own learning-rate multiplier and weight decay. */
  setGroup(i: number, g: { lrScale?: number; weightDecay?: number }): void {
    if (!(i >= 0 && i < this.params.length)) {
      throw new Error(`wgrec optimizer: parameter ${i} of ${this.params.length}`);
    }
    if (g.lrScale !== undefined) {
      if (!(g.lrScale >= 0)) throw new Error(`wgrec optimizer: lrScale ${g.lrScale}`);
      this.lrScales[i] = g.lrScale;
    }
    this.decays[i] = g.weightDecay ?? this.decays[i];
  }

  /** Applies one update from the parameters' `.grad`. */
  abstract step(): void;

  /** Frees every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Named state tensors (for checkpoints), e.g. `m.3` for parameter 3's first moment. */
  abstract state(): Map<string, Tensor<"f32">>;

  /** Scalar state for checkpoints (step counts), as JSON-able numbers. */
  counters(): number[] {
    return [this.steps];
  }

  /**
   * Restores what {@link state} and {@link counters} returned. The optimizer takes ownership
   * of the given tensors.
   */
  abstract loadState(state: Map<string, Tensor<"f32">>, counters: readonly number[]): void;

  /** Frees the state. */
  dispose(): void {
    for (const t of this.state().values()) t.dispose();
  }
}

function slot(slots: (Tensor<"f32"> | null)[], i: number, p: Tensor<"f32">): Tensor<"f32"> {
  return slots[i] ??= keep(zeros(p.shape));
}

/** SGD with optional momentum, Nesterov and L2 weight decay (torch.optim.SGD semantics). */
export class SGD extends Optimizer {
  /** Momentum factor μ. */
  readonly momentum: number;
  /** L2 weight decay. */
  readonly weightDecay: number;
  /** Nesterov momentum. */
  readonly nesterov: boolean;
  #vel: (Tensor<"f32"> | null)[];
  #dummy: Tensor<"f32"> | null = null;

  /** SGD over `params`. */
  constructor(
    params: readonly Tensor<"f32">[],
    opts: { lr: number; momentum?: number; weightDecay?: number; nesterov?: boolean },
  ) {
    super(params, opts.lr);
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.#vel = params.map(() => null);
  }

  /** Applies one update. */
  step(): void {
    this.steps++;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const first = this.#vel[i] === null;
      // Without momentum the velocity binding is unused: bind a one-element placeholder.
      const vel = this.momentum ? slot(this.#vel, i, p) : (this.#dummy ??= keep(zeros([1])));
      launch("sgd", sgdK, {
        buffers: { p: p.buffer, grad: p.grad.buffer, vel: vel.buffer },
        uniforms: {
          n: p.size,
          lr: this.lr * this.lrScales[i],
          momentum: this.momentum,
          wd: this.decays[i] ?? this.weightDecay,
          first: first ? 1 : 0,
        },
        workgroups: groups(p.size),
        defines: { NESTEROV: this.nesterov },
      }, p);
    });
  }

  /** Named state tensors. */
  state(): Map<string, Tensor<"f32">> {
    const s = new Map<string, Tensor<"f32">>();
    this.#vel.forEach((v, i) => v && s.set(`momentum.${i}`, v));
    return s;
  }

  /** Restores velocities saved from {@link state}. */
  loadState(state: Map<string, Tensor<"f32">>, counters: readonly number[]): void {
    this.steps = counters[0] ?? 0;
    this.params.forEach((_, i) => {
      const t = state.get(`momentum.${i}`);
      if (t) {
        this.#vel[i]?.dispose();
        this.#vel[i] = keep(t);
      }
    });
  }

  /** Frees the state. */
  override dispose(): void {
    super.dispose();
    this.#dummy?.dispose();
  }
}

/** Adam options. */
export interface AdamOptions {
  /** Learning rate. */
  lr: number;
  /** First-moment decay (0.9). */
  beta1?: number;
  /** Second-moment decay (0.999). */
  beta2?: number;
  /** Denominator term (1e-8). */
  eps?: number;
  /** Weight decay (Adam: L2 in the gradient; AdamW: decoupled). */
  weightDecay?: number;
  /**
   * Lazy (row-sparse) updates for embedding tables: `true` for every 2-D parameter, or the
   * tables to treat so. A row of such a table whose gradient is all zero this step (no id of
   * the batch gathered it) keeps its weights and moments unchanged: no moment decay and no
   * weight decay for it, as `torch.optim.SparseAdam` treats rows absent from a sparse
   * gradient; touched rows get the usual update. This changes the result (untouched rows do not
   * coast on their momentum), so it is off by default. Default false.
   */
  lazy?: boolean | readonly Tensor<"f32">[];
}

// One invocation per row; a row with an all-zero gradient is left alone (shaders/optim).
const adamLazyK = /* @__PURE__ */ kernel({
  name: "adam_lazy",
  source: optimWgsl.adam_lazy,
  defines: { DECOUPLED: "bool" },
  bindings: { p: "f32 rw", grad: "f32", m: "f32 rw", v: "f32 rw" },
  uniforms: {
    rows: "u32",
    cols: "u32",
    lr: "f32",
    beta1: "f32",
    beta2: "f32",
    eps: "f32",
    wd: "f32",
    bc1: "f32",
    bc2: "f32",
  },
  workgroupSize: [64],
});

/** Adam (L2 weight decay folded into the gradient, torch.optim.Adam semantics). */
export class Adam extends Optimizer {
  /** First-moment decay. */
  readonly beta1: number;
  /** Second-moment decay. */
  readonly beta2: number;
  /** Denominator term. */
  readonly eps: number;
  /** Weight decay. */
  readonly weightDecay: number;
  /** Decoupled (AdamW) decay. */
  protected decoupled = false;
  #m: (Tensor<"f32"> | null)[];
  #v: (Tensor<"f32"> | null)[];
  #t: number[];
  #lazy: boolean[];

  /** Adam over `params`. */
  constructor(params: readonly Tensor<"f32">[], opts: AdamOptions) {
    super(params, opts.lr);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.#m = params.map(() => null);
    this.#v = params.map(() => null);
    this.#t = params.map(() => 0);
    const lazy = opts.lazy ?? false;
    this.#lazy = params.map((p) =>
      lazy === true ? p.rank === 2 : lazy !== false && lazy.includes(p)
    );
    this.#lazy.forEach((on, i) => {
      const p = params[i];
      if (on && (p.rank !== 2 || p.shape[1] > 65535)) {
        throw new Error(
          `wgrec Adam: lazy updates need a [rows, cols ≤ 65535] table, parameter ${i} is ` +
            `[${p.shape.join(", ")}]`,
        );
      }
    });
  }

  /** Applies one update. */
  step(): void {
    this.steps++;
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      // Per-parameter step counts, as PyTorch: a parameter without a gradient is not stepped.
      const t = ++this.#t[i];
      if (this.#lazy[i]) {
        launch(this.decoupled ? "adamw (lazy)" : "adam (lazy)", adamLazyK, {
          buffers: {
            p: p.buffer,
            grad: p.grad.buffer,
            m: slot(this.#m, i, p).buffer,
            v: slot(this.#v, i, p).buffer,
          },
          uniforms: {
            rows: p.shape[0],
            cols: p.shape[1],
            lr: this.lr * this.lrScales[i],
            beta1: this.beta1,
            beta2: this.beta2,
            eps: this.eps,
            wd: this.decays[i] ?? this.weightDecay,
            bc1: 1 - this.beta1 ** t,
            bc2: 1 - this.beta2 ** t,
          },
          workgroups: groups(p.shape[0], 64),
          defines: { DECOUPLED: this.decoupled },
        }, p);
        return;
      }
      launch(this.decoupled ? "adamw" : "adam", adamK, {
        buffers: {
          p: p.buffer,
          grad: p.grad.buffer,
          m: slot(this.#m, i, p).buffer,
          v: slot(this.#v, i, p).buffer,
        },
        uniforms: {
          n: p.size,
          lr: this.lr * this.lrScales[i],
          beta1: this.beta1,
          beta2: this.beta2,
          eps: this.eps,
          wd: this.decays[i] ?? this.weightDecay,
          bc1: 1 - this.beta1 ** t,
          bc2: 1 - this.beta2 ** t,
        },
        workgroups: groups(p.size),
        defines: { DECOUPLED: this.decoupled },
      }, p);
    });
  }

  /** Named state tensors. */
  state(): Map<string, Tensor<"f32">> {
    const s = new Map<string, Tensor<"f32">>();
    this.#m.forEach((m, i) => m && s.set(`m.${i}`, m));
    this.#v.forEach((v, i) => v && s.set(`v.${i}`, v));
    return s;
  }

  /** The optimizer's step count, then each parameter's. */
  override counters(): number[] {
    return [this.steps, ...this.#t];
  }

  /** Restores moments and step counts saved from {@link state} and {@link counters}. */
  loadState(state: Map<string, Tensor<"f32">>, counters: readonly number[]): void {
    this.steps = counters[0] ?? 0;
    this.params.forEach((_, i) => {
      for (const [k, arr] of [["m", this.#m], ["v", this.#v]] as const) {
        const t = state.get(`${k}.${i}`);
        if (t) {
          arr[i]?.dispose();
          arr[i] = keep(t);
        }
      }
      this.#t[i] = counters[i + 1] ?? 0;
    });
  }
}

/** AdamW: decoupled weight decay (torch.optim.AdamW semantics; default decay 0.01). */
export class AdamW extends Adam {
  /** AdamW over `params`. */
  constructor(params: readonly Tensor<"f32">[], opts: AdamOptions) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 0.01 });
    this.decoupled = true;
  }
}
