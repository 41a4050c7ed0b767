/**
 * Modules: objects that own parameters and sub-modules, list them for optimizers and for
 * save/load, and free them on `dispose`.
 * @module
 */

import { keep, runtime, type Tensor } from "../tensor.ts";

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

  /**
   * Registers an add-on module (an adapter, a LoRA branch) on a module that is already built;
   * its parameters are then listed, saved and freed with the module's own.
   */
  attach<M extends Module>(name: string, m: M): M {
    return this.child(name, m);
  }

  /** This module (name `""`) and every sub-module below it, with dotted names, depth first. */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix.replace(/\.$/, ""), this]];
    for (const [n, c] of this.#children) out.push(...c.namedModules(`${prefix}${n}.`));
    return out;
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

  /** The parameter with a dotted name. */
  getParameter(name: string): Tensor<"f32"> {
    const p = this.namedParameters().find(([n]) => n === name)?.[1];
    if (!p) throw new Error(`wgrec Module: no parameter '${name}'`);
    return p;
  }

  /**
   * Copies `t`'s values into a parameter (in place: layers, optimizers and anyone else
   * holding the parameter see the new values). Shapes must match.
   */
  setParameter(name: string, t: Tensor<"f32">): void {
    const p = this.getParameter(name);
    if (p.shape.join() !== t.shape.join() || t.dtype !== "f32") {
      throw new Error(
        `wgrec setParameter: '${name}' is f32 [${p.shape.join(", ")}], got ${t.dtype} ` +
          `[${t.shape.join(", ")}]`,
      );
    }
    runtime().copy(t.buffer, 0, p.buffer, 0, p.size * 4);
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
