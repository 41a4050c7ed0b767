/**
 * Reverse mode over the recorded graph.
 *
 * `backward` visits tensors in reverse topological order, so every gradient is fully
 * accumulated before it propagates; gradients of leaves that require one are accumulated
 * into `leaf.grad` (owned by the leaf: they outlive the step's scope until `zeroGrad`).
 * @module
 */

import { noGrad } from "./tape.ts";
import { add, scale } from "../ops/core/elementwise.ts";
import { fmt, keep, ones, type Tensor, zeros } from "../tensor.ts";

/** Tensors reachable from `root` through recorded nodes, inputs before outputs. */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    if (t.disposed) refuseDisposed(t, root);
    stack.push([t, true]);
    for (const s of t.node?.saved ?? []) if (s.disposed) refuseDisposed(s, root);
    for (const i of t.node?.inputs ?? []) {
      if (i.requiresGrad && !seen.has(i)) stack.push([i, false]);
    }
  }
  return order;
}

// A disposed tensor has lost its node (and its data): backward would treat it as a leaf and
// give every parameter behind it no gradient. Refuse instead.
function refuseDisposed(t: Tensor, root: Tensor): never {
  const what = t === root ? "the loss" : "the graph of the loss";
  const made = t.disposedNode ? `the output of '${t.disposedNode}'` : "a leaf";
  throw new Error(
    `wgrec backward: ${what} ${fmt(root.shape)} reaches ${t.describe()}, ${made}, which was ` +
      `already disposed (a tidy scope ended or dispose() was called). Call backward inside the ` +
      `tidy that computed the loss (return the loss value, not the graph), or keep() what ` +
      `the graph needs until backward has run.`,
  );
}

/**
 * Back-propagates from `root` (a scalar unless `seed` is given) and accumulates into the
 * `.grad` of every leaf that requires a gradient.
 */
export function backward(root: Tensor<"f32">, seed?: Tensor<"f32">): void {
  if (!root.requiresGrad) {
    throw new Error(`wgrec backward: ${fmt(root.shape)} does not depend on any parameter`);
  }
  if (!seed && root.size !== 1) {
    throw new Error(`wgrec backward: root ${fmt(root.shape)} is not a scalar; pass a seed`);
  }
  const order = topoOrder(root); // first: it refuses disposed tensors before any allocation
  noGrad(() => {
    // Reference counts of the gradients held here, so a gradient that a rule passes through
    // to several inputs (add, concat…) is freed exactly once, after its last use.
    const refs = new Map<Tensor, number>();
    const hold = (t: Tensor) => refs.set(t, (refs.get(t) ?? 0) + 1);
    const release = (t: Tensor) => {
      const n = (refs.get(t) ?? 0) - 1;
      if (n > 0) refs.set(t, n);
      else {
        refs.delete(t);
        if (t !== seed) t.dispose();
      }
    };
    const grads = new Map<Tensor, Tensor<"f32">>();
    const first = seed ?? ones(root.shape);
    grads.set(root, first);
    hold(first);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        // A leaf: it takes its own copy unless nobody else holds this gradient.
        let own = g;
        if ((refs.get(g) ?? 0) > 1 || g === seed) {
          own = scale(g, 1);
          release(g);
        } else refs.delete(g);
        if (t.grad) {
          const acc = add(t.grad, own);
          t.grad.dispose();
          own.dispose();
          t.grad = keep(acc);
        } else t.grad = keep(own);
        continue;
      }
      const gs = t.node.rule(t.node, g, t);
      t.node.inputs.forEach((x, j) => {
        const gx = gs[j];
        if (!gx || !x.requiresGrad) return;
        if (gx.dtype !== "f32" || gx.size !== x.size) {
          throw new Error(
            `wgrec backward: rule of '${t.node!.kind}' gave ${fmt(gx.shape)} for input ` +
              `${fmt(x.shape)}`,
          );
        }
        hold(gx);
        const prev = grads.get(x);
        if (!prev) grads.set(x, gx);
        else {
          const acc = add(prev, gx);
          hold(acc);
          grads.set(x, acc);
          release(prev);
          release(gx);
        }
      });
      release(g);
    }
  });
}

/**
 * Returns a function computing `f(...args)` and the gradients of its scalar result with
 * respect to every argument. Arguments are marked as requiring a gradient for the call.
 */
export function grad<A extends Tensor<"f32">[]>(
  f: (...args: A) => Tensor<"f32">,
): (...args: A) => { value: Tensor<"f32">; grads: Tensor<"f32">[] } {
  return (...args: A) => {
    const saved = args.map((a) => [a.requiresGrad, a.grad] as const);
    for (const a of args) {
      a.requiresGrad = true;
      a.grad = null;
    }
    try {
      const value = f(...args);
      backward(value);
      const grads = args.map((a) => a.grad ?? zerosLike(a));
      return { value, grads };
    } finally {
      args.forEach((a, i) => {
        a.requiresGrad = saved[i][0];
        a.grad = saved[i][1];
      });
    }
  };
}

function zerosLike(t: Tensor): Tensor<"f32"> {
  return zeros(t.shape);
}
