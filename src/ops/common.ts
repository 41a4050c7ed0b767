/**
 * Shared checks and helpers for op wrappers.
 * @module
 */

import { type DType, empty, fmt, runtime, type Shape, type Tensor } from "../tensor.ts";
import type { DispatchArgs, PipelineKey } from "../gpu/runtime.ts";
import type { DefineTypes, KernelSpec, UniformTypes } from "../gpu/kernel.ts";

/** Throws unless `t` has dtype `dtype`. */
export function expectDtype<D extends DType>(
  op: string,
  t: Tensor,
  dtype: D,
  what = "input",
): asserts t is Tensor<D> {
  if (t.dtype !== dtype) {
    throw new Error(`wgrec ${op}: ${what} ${fmt(t.shape)} has dtype ${t.dtype}, expected ${dtype}`);
  }
}

/** Throws unless `t` has the given rank (or one of the given ranks). */
export function expectRank(op: string, t: Tensor, ...ranks: number[]): void {
  if (!ranks.includes(t.rank)) {
    throw new Error(
      `wgrec ${op}: input ${fmt(t.shape)} has rank ${t.rank}, expected rank ${ranks.join(" or ")}`,
    );
  }
}

/** Throws unless two shapes are equal. */
export function expectSameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.rank !== b.rank || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`wgrec ${op}: shapes ${fmt(a.shape)} and ${fmt(b.shape)} must be equal`);
  }
}

/** Normalises a possibly negative axis; throws when out of range. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(rank, 1)) {
    throw new Error(`wgrec ${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return a;
}

/** NumPy broadcasting of two shapes; throws naming the op when incompatible. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `wgrec ${op}: shapes ${fmt(a)} and ${fmt(b)} do not broadcast (dim ${i}: ${da} vs ${db})`,
      );
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Strides that read `shape` broadcast to `target` (0 on broadcast dims). */
export function broadcastStrides(shape: Shape, target: Shape): number[] {
  const st = stridesOf(shape);
  const off = target.length - shape.length;
  return target.map((_, i) => (i < off || shape[i - off] === 1 ? 0 : st[i - off]));
}

/** Allocates an op's output. */
export function output<D extends DType>(op: string, shape: Shape, dtype: D): Tensor<D> {
  return empty(shape, dtype, op);
}

/**
 * Records one dispatch writing `out`, and in numerics-check mode a scan of `out` labelled
 * with the op name and shapes. `args` is typed by `spec` (see `Runtime.dispatch`).
 */
export function launch<B extends string, U extends UniformTypes, D extends DefineTypes>(
  op: string,
  spec: KernelSpec<B, U, D>,
  args: NoInfer<DispatchArgs<B, U, D>>,
  out?: Tensor,
): void {
  const rt = runtime();
  rt.dispatch(spec, args);
  if (out && rt.checkNumerics && out.dtype === "f32") {
    rt.watch(out.buffer, out.size, `'${op}' (output ${fmt(out.shape)})`);
  }
}

/**
 * Compiles pipelines ahead of their first use, asynchronously and all at once (see
 * `Runtime.precompile`): those of `keys` (specs, or `[spec, defines]`, see `variant`), or those
 * a function's ops would dispatch (see `Runtime.capturePipelines`; nothing it dispatches runs).
 * Resolves to the number compiled.
 */
export function precompile(keys: readonly PipelineKey[] | (() => void)): Promise<number> {
  const rt = runtime();
  return rt.precompile(typeof keys === "function" ? rt.capturePipelines(keys) : keys);
}

/** Workgroups for `n` invocations of a 1-D kernel with workgroup size `wg`. */
export function groups(n: number, wg = 256): [number] {
  return [Math.ceil(n / wg)];
}

/**
 * Merges adjacent dims that every stride list walks contiguously (or all broadcast), so
 * strided kernels loop over as few dims as possible. Returns the collapsed shape and strides.
 */
export function collapseDims(
  shape: Shape,
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue; // size-1 dims never move the index
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k][last] === s[d] * shape[d])) {
      outShape[last] *= shape[d];
      strides.forEach((s, k) => (outStrides[k][last] = s[d]));
    } else {
      outShape.push(shape[d]);
      strides.forEach((s, k) => outStrides[k].push(s[d]));
    }
  }
  return { shape: outShape, strides: outStrides };
}
