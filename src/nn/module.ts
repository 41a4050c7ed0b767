/**
 * Modules: objects that own parameters and sub-modules, list them for optimizers and for
 * save/load, and free them on `dispose`.
 * @module
 */

import { keep, type Tensor } from "../tensor.ts";

/** Base class of every layer and model. */
export abstract class Module {
  #params = new Map<string, Tensor<"f32">>();
  #children = new Map<string, Module>();
  /** Training mode (dropout and similar behave differently at evaluation). */
  training = true;

  /** Registers a trainable parameter; it is kept out of every scope and requires a gradient. */
  protected param(name: string, t: Tensor<"f32">): Tensor<"f32"> {
    if (this.#params.has(name) || this.#children.has(name)) {
      throw new Error(`wgrec Module: '${name}' is registered twice`);
    }
    keep(t);
    t.requiresGrad = true;
    t.name = name;
    this.#params.set(name, t);
    return t;
  }

  /** Registers a sub-module under `name`. */
  protected child<M extends Module>(name: string, m: M): M {
    if (this.#params.has(name) || this.#children.has(name)) {
      throw new Error(`wgrec Module: '${name}' is registered twice`);
    }
    this.#children.set(name, m);
    return m;
  }

  /** Parameters with dotted names (`encoder.0.weight`), in registration order. */
  namedParameters(prefix = ""): [string, Tensor<"f32">][] {
    const out: [string, Tensor<"f32">][] = [];
    for (const [n, p] of this.#params) out.push([prefix + n, p]);
    for (const [n, c] of this.#children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** All parameters. */
  parameters(): Tensor<"f32">[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Replaces a parameter's tensor (used by load); shapes must match. */
  setParameter(name: string, t: Tensor<"f32">): void {
    const dot = name.indexOf(".");
    if (dot >= 0) {
      const c = this.#children.get(name.slice(0, dot));
      if (!c) throw new Error(`wgrec Module: no sub-module '${name.slice(0, dot)}'`);
      return c.setParameter(name.slice(dot + 1), t);
    }
    const old = this.#params.get(name);
    if (!old) throw new Error(`wgrec Module: no parameter '${name}'`);
    if (old.shape.join() !== t.shape.join()) {
      throw new Error(
        `wgrec Module: parameter '${name}' has shape [${old.shape}], got [${t.shape}]`,
      );
    }
    keep(t);
    t.requiresGrad = old.requiresGrad;
    t.name = old.name;
    old.grad?.dispose();
    old.dispose();
    this.#params.set(name, t);
  }

  /** Sets training mode here and below. */
  train(on = true): this {
    this.training = on;
    for (const c of this.#children.values()) c.train(on);
    return this;
  }

  /** Evaluation mode. */
  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees parameters and gradients. */
  dispose(): void {
    this.zeroGrad();
    for (const p of this.#params.values()) p.dispose();
    for (const c of this.#children.values()) c.dispose();
  }

  /** Number of scalar parameters. */
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.size, 0);
  }
}
