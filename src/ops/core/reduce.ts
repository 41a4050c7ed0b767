/**
 * Reductions over axes (`shaders/reduce.wgsl`): sum, mean, and `sumTo`, the reduction that
 * undoes broadcasting in gradients.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import { type Node, record, type RuleTable } from "../../autograd/tape.ts";
import { fmt, runtime, type Shape, type Tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, normAxis, output } from "../common.ts";
import { broadcastTo, reshape } from "./shape.ts";
import { scale as scaleTensor } from "./elementwise.ts";
import * as coreWgsl from "../../../shaders/core/wgsl.ts";

const reduceK = /* @__PURE__ */ kernel({
  name: "reduce",
  source: coreWgsl.reduce,
  defines: { OP: "u32", ROW: "bool" },
  bindings: { x: "f32", out: "f32 rw" },
  uniforms: { outer: "u32", red: "u32", inner: "u32", chunk: "u32", nb: "u32", scale: "f32" },
  workgroupSize: [256],
});

/**
 * Most loop iterations one invocation runs. Software adapters (lavapipe) silently stop an
 * invocation after 65,535 loop iterations, so longer reductions go through partial sums.
 */
export const MAX_LOOP = 4096;

/**
 * Most iterations of a kernel whose only loop is this one. lavapipe's 65,535-iteration budget
 * is shared by every loop an invocation runs (Mesa's `LP_MAX_TGSI_LOOP_ITERATIONS`; measured
 * the same for workgroups of 1 to 256), so a lone loop may take half of it; nested loops stay
 * within {@link MAX_LOOP}.
 */
export const MAX_SINGLE_LOOP = 32768;

/**
 * Reduces one axis of `x` viewed as [outer, red, inner] (OP 0 = sum, 1 = max), scaled.
 * A long axis is reduced in blocks (one partial result per block), then the partials are
 * reduced, so no invocation loops more than {@link MAX_LOOP} times.
 * Internal building block: no graph recording.
 */
export function reduceAxis(
  op: string,
  code: 0 | 1,
  x: Tensor<"f32">,
  axis: number,
  scaleBy = 1,
): Tensor<"f32"> {
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const red = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const shape = x.shape.filter((_, i) => i !== axis);
  // A workgroup per row (a 256-wide tree with barriers) pays off for long rows only; short
  // rows take one invocation per output. Few long rows are cut into blocks, so that several
  // workgroups (CPU threads on software adapters) share them.
  const row = inner === 1 && red >= 1024;
  const perRow = Math.ceil(32 / outer);
  const chunk = row
    ? Math.min(256 * MAX_LOOP, Math.max(256 * 16, 256 * Math.ceil(red / perRow / 256)))
    : MAX_LOOP;
  const nb = Math.max(1, Math.ceil(red / chunk));
  const out = output(op, nb > 1 ? [outer, nb, inner] : shape, "f32");
  launch(op, reduceK, {
    buffers: { x: x.buffer, out: out.buffer },
    uniforms: { outer, red, inner, chunk, nb, scale: nb > 1 ? 1 : scaleBy },
    workgroups: row ? [outer * nb] : groups(outer * nb * inner),
    defines: { OP: code, ROW: row },
  }, out);
  if (nb === 1) return out;
  const partial = reduceAxis(op, code, out, 1, scaleBy);
  out.dispose();
  const res = reshape(partial, shape);
  if (res !== partial) partial.dispose();
  return res;
}

function normAxes(op: string, axes: number | readonly number[] | undefined, rank: number) {
  const list = axes === undefined
    ? [...Array(rank).keys()]
    : (typeof axes === "number" ? [axes] : axes).map((a) => normAxis(op, a, rank));
  if (new Set(list).size !== list.length) {
    throw new Error(`wgrec ${op}: repeated axis in [${list.join(", ")}]`);
  }
  return list.sort((a, b) => a - b);
}

/** Sum over `axes` (all by default). */
export function sum(
  x: Tensor<"f32">,
  axes?: number | readonly number[],
  keepDims = false,
): Tensor<"f32"> {
  expectDtype("sum", x, "f32");
  const list = normAxes("sum", axes, x.rank);
  const out = sumRaw(x, list, keepDims, 1);
  return record(reduceRules, out, "sum", [x], { axes: list, keepDims });
}

/** Mean over `axes` (all by default). */
export function mean(
  x: Tensor<"f32">,
  axes?: number | readonly number[],
  keepDims = false,
): Tensor<"f32"> {
  expectDtype("mean", x, "f32");
  const list = normAxes("mean", axes, x.rank);
  const count = list.reduce((a, i) => a * x.shape[i], 1);
  const out = sumRaw(x, list, keepDims, count === 0 ? NaN : 1 / count);
  // A mean is a scaled sum: its gradient rule is the sum's, with the scale folded in.
  return record(reduceRules, out, "sum", [x], { axes: list, keepDims, scale: 1 / count });
}

function sumRaw(x: Tensor<"f32">, axes: number[], keepDims: boolean, s: number): Tensor<"f32"> {
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepDims ? keptShape : x.shape.filter((_, i) => !axes.includes(i));
  // Merge runs of adjacent reduced axes, then reduce from the last run to the first.
  let cur = x;
  let shape = [...x.shape];
  const runs: [number, number][] = [];
  for (const a of axes) {
    const last = runs.at(-1);
    if (last && last[1] === a) last[1] = a + 1;
    else runs.push([a, a + 1]);
  }
  if (runs.length === 0) {
    // Nothing to reduce: still a new tensor (returning x would give x a node pointing to itself).
    const out = output("sum", outShape, "f32");
    runtime().copy(x.buffer, 0, out.buffer, 0, x.size * 4);
    return out;
  }
  for (let r = runs.length - 1; r >= 0; r--) {
    const [lo, hi] = runs[r];
    const merged = [...shape.slice(0, lo), shape.slice(lo, hi).reduce((a, b) => a * b, 1)];
    merged.push(...shape.slice(hi));
    const view = reshape(cur, merged);
    const next = reduceAxis("sum", 0, view, lo, r === 0 ? s : 1);
    if (view !== cur) view.dispose();
    if (cur !== x) cur.dispose();
    cur = next;
    shape = [...shape.slice(0, lo), ...shape.slice(hi)];
  }
  const res = reshape(cur, outShape);
  if (res !== cur) cur.dispose();
  return res;
}

/** Sums `g` down to `shape` (the inverse of broadcasting `shape` to `g.shape`). */
export function sumTo(g: Tensor<"f32">, shape: Shape): Tensor<"f32"> {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const off = g.rank - shape.length;
  if (off < 0) throw new Error(`wgrec sumTo: cannot reduce ${fmt(g.shape)} to ${fmt(shape)}`);
  const axes: number[] = [];
  g.shape.forEach((d, i) => {
    if (i < off || (shape[i - off] === 1 && d !== 1)) axes.push(i);
  });
  return reshape(sum(g, axes, true), shape);
}

/** Gradient of `sum`/`mean`: broadcast the output gradient back over the reduced axes. */
export function sumGrad(node: Node<"sum">, gy: Tensor<"f32">): Tensor<"f32">[] {
  const [x] = node.inputs as Tensor<"f32">[];
  const { axes, scale } = node.attrs;
  const kept = reshape(gy, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
  const g = broadcastTo(kept, x.shape);
  return [scale === undefined ? g : scaleTensor(g, scale)];
}

/** Attributes of this family's differentiable op kinds (merged into `OpAttrs`). */
export interface ReduceAttrs {
  /** `scale` turns the sum into a mean. */
  sum: { axes: number[]; keepDims: boolean; scale?: number };
}

/** Gradient rules of this family's op kinds (merged into the autograd table). */
export const reduceRules: RuleTable<keyof ReduceAttrs> = {
  sum: sumGrad,
};
