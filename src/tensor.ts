/**
 * Tensors: a shape, a dtype and a pooled GPU buffer, plus the scopes that own them.
 *
 * Ownership is scoped: every tensor created inside {@link tidy} is disposed when the scope
 * ends, except the tensors it returns and those passed to {@link keep}. Nothing relies on
 * garbage collection and nobody counts references.
 * @module
 */

import { Runtime } from "./gpu/runtime.ts";
import type { DeviceOptions } from "./gpu/device.ts";
import type { PooledBuffer, PoolStats } from "./gpu/pool.ts";
import type { Node } from "./autograd/tape.ts";
import { Rng } from "./random.ts";

/** Element types. */
export type DType = "f32" | "i32" | "u32";
/** A tensor shape. */
export type Shape = readonly number[];
/** Typed array of each dtype. */
export interface ArrayOf {
  /** 32-bit floats. */
  f32: Float32Array;
  /** 32-bit signed integers. */
  i32: Int32Array;
  /** 32-bit unsigned integers. */
  u32: Uint32Array;
}
const CTOR = { f32: Float32Array, i32: Int32Array, u32: Uint32Array } as const;

let current: Runtime | null = null;

/** Options for {@link init}. */
export interface InitOptions extends DeviceOptions {
  /**
   * Numerics-check mode: every floating-point op result is scanned on the GPU for NaN/Inf,
   * and {@link checkNumerics} (also run by every `read`) names the first op that made one.
   */
  checkNumerics?: boolean;
}

/** Acquires the GPU and makes it the runtime of every op. Call again after a device loss. */
export async function init(opts: InitOptions = {}): Promise<Runtime> {
  current = await Runtime.create(opts);
  current.checkNumerics = opts.checkNumerics ?? false;
  return current;
}

/** The current runtime; throws when {@link init} has not been awaited. */
export function runtime(): Runtime {
  if (!current) throw new Error("wgrec: no GPU runtime; call `await init()` first");
  return current;
}

/** Bytes and buffers live (owned by tensors) and pooled (free for reuse). */
export function memory(): PoolStats & { tensors: number } {
  return { ...runtime().memory(), tensors: liveTensors };
}

let nextId = 1;
let liveTensors = 0;
const scopes: Set<Tensor>[] = [];

/** Number of elements of a shape. */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Formats a shape for error messages: `[2, 3]`. */
export function fmt(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/** A GPU tensor. Create one with {@link tensor}, {@link zeros}, … or get one from an op. */
export class Tensor<D extends DType = DType> {
  /** Unique id. */
  readonly id: number = nextId++;
  /** Number of elements. */
  readonly size: number;
  /** Gradient accumulated by `backward` (parameters only). */
  grad: Tensor<"f32"> | null = null;
  /** The op that produced this tensor, when it takes part in a gradient. */
  node: Node | null = null;
  /** Optional name (parameters are named by their module path). */
  name?: string;
  #buf: PooledBuffer | null;

  /** Wraps a pooled buffer (ops and creation functions call this; users rarely do). */
  constructor(
    /** The dims. */
    readonly shape: Shape,
    /** The element type. */
    readonly dtype: D,
    buf: PooledBuffer,
    public requiresGrad = false,
  ) {
    this.size = sizeOf(shape);
    this.#buf = buf;
    liveTensors++;
    scopes.at(-1)?.add(this);
  }

  /** The GPU buffer; throws once disposed. */
  get buffer(): PooledBuffer {
    if (!this.#buf) {
      throw new Error(
        `wgrec: tensor ${this.name ?? "#" + this.id} ${fmt(this.shape)} used after dispose`,
      );
    }
    return this.#buf;
  }

  /** Whether the buffer went back to the pool. */
  get disposed(): boolean {
    return this.#buf === null;
  }

  /** Number of dims. */
  get rank(): number {
    return this.shape.length;
  }

  /** Returns the buffer to the pool. Safe to call twice. */
  dispose(): void {
    if (!this.#buf) return;
    current?.pool.release(this.#buf);
    this.#buf = null;
    this.node = null;
    liveTensors--;
    for (const s of scopes) s.delete(this);
  }

  /** Copies the data back to the host (one readback; batch several with {@link readAll}). */
  async read(): Promise<ArrayOf[D]> {
    const [a] = await readAll([this]);
    return a as unknown as ArrayOf[D];
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`wgrec item: tensor ${fmt(this.shape)} is not a scalar`);
    return (await this.read())[0];
  }

  /** `Tensor(f32, [2, 3])`. */
  toString(): string {
    return `Tensor(${this.dtype}, ${fmt(this.shape)})`;
  }
}

/** Reads several tensors back with one staging buffer and one map. */
export async function readAll<T extends readonly Tensor[]>(
  ts: T,
): Promise<{ [K in keyof T]: T[K] extends Tensor<infer D> ? ArrayOf[D] : never }> {
  const rt = runtime();
  if (rt.checkNumerics) await rt.checkNumericsNow();
  const bufs = await rt.readBuffers(ts.map((t) => ({ buffer: t.buffer, bytes: t.size * 4 })));
  // deno-lint-ignore no-explicit-any
  return bufs.map((b, i) => new CTOR[ts[i].dtype](b)) as any;
}

/** Throws naming the first op that produced NaN/Inf (numerics-check mode only). */
export async function checkNumerics(): Promise<void> {
  await runtime().checkNumericsNow();
}

/** Allocates an uninitialised tensor (ops use this for outputs). */
export function empty<D extends DType>(shape: Shape, dtype: D, op = "empty"): Tensor<D> {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`wgrec ${op}: invalid shape ${fmt(shape)} (dims must be integers ≥ 0)`);
    }
  }
  return new Tensor(shape, dtype, runtime().pool.acquire(sizeOf(shape) * 4, op));
}

/** Numbers nested in arrays, e.g. `[[1, 2], [3, 4]]`. */
export type NestedNumbers = number | readonly NestedNumbers[];

function flatten(data: NestedNumbers, out: number[], shape: number[], depth: number): void {
  if (typeof data === "number") {
    out.push(data);
    return;
  }
  if (shape.length === depth) shape.push(data.length);
  else if (shape[depth] !== data.length) {
    throw new Error(`wgrec tensor: ragged nested array at depth ${depth}`);
  }
  for (const d of data) flatten(d, out, shape, depth + 1);
}

/**
 * A tensor from host data: a typed array (with a shape) or nested number arrays.
 * Values are converted to the dtype; the default dtype is f32 (i32 for an Int32Array…).
 */
export function tensor<D extends DType = "f32">(
  data: NestedNumbers | ArrayOf[DType],
  shape?: Shape,
  dtype?: D,
): Tensor<D> {
  let flat: ArrayLike<number>;
  let inferred: number[] = [];
  if (ArrayBuffer.isView(data)) {
    flat = data;
    inferred = [data.length];
  } else {
    const out: number[] = [];
    flatten(data, out, inferred, 0);
    flat = out;
  }
  const dt = (dtype ??
    (data instanceof Int32Array ? "i32" : data instanceof Uint32Array ? "u32" : "f32")) as D;
  const s = shape ?? inferred;
  if (sizeOf(s) !== flat.length) {
    throw new Error(
      `wgrec tensor: ${flat.length} values do not fill shape ${fmt(s)} (${sizeOf(s)} elements)`,
    );
  }
  const typed = flat instanceof CTOR[dt] ? flat as ArrayOf[D] : CTOR[dt].from(flat);
  if (dt === "f32" && checkingInput) assertFinite(typed as Float32Array, "tensor", s);
  const t = empty(s, dt, "tensor");
  runtime().upload(t.buffer, typed);
  return t;
}

let checkingInput = true;
/** Turns the finiteness check of host data passed to {@link tensor} on or off (default on). */
export function setInputChecks(on: boolean): void {
  checkingInput = on;
}

function assertFinite(a: Float32Array, op: string, shape: Shape): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) {
      throw new Error(
        `wgrec ${op}: input of shape ${fmt(shape)} has a non-finite value (${a[i]}) at ` +
          `flat index ${i}; expected finite numbers`,
      );
    }
  }
}

/** A tensor of zeros. */
export function zeros<D extends DType = "f32">(shape: Shape, dtype?: D): Tensor<D> {
  const t = empty(shape, (dtype ?? "f32") as D, "zeros");
  runtime().clear(t.buffer, t.size * 4);
  return t;
}

/** A tensor filled with `value`. */
export function full<D extends DType = "f32">(shape: Shape, value: number, dtype?: D): Tensor<D> {
  const dt = (dtype ?? "f32") as D;
  const a = new CTOR[dt](sizeOf(shape));
  a.fill(value);
  return tensor(a, shape, dt);
}

/** A tensor of ones. */
export function ones(shape: Shape): Tensor<"f32"> {
  return full(shape, 1);
}

/** Uniform draws in [lo, hi) from a seeded generator. */
export function randUniform(shape: Shape, seed: number, lo = 0, hi = 1): Tensor<"f32"> {
  const rng = new Rng(seed);
  const a = new Float32Array(sizeOf(shape));
  for (let i = 0; i < a.length; i++) a[i] = lo + (hi - lo) * rng.uniform();
  return tensor(a, shape);
}

/** Normal draws with mean 0 and standard deviation `std` from a seeded generator. */
export function randNormal(shape: Shape, seed: number, std = 1): Tensor<"f32"> {
  const rng = new Rng(seed);
  const a = new Float32Array(sizeOf(shape));
  for (let i = 0; i < a.length; i++) a[i] = std * rng.normal();
  return tensor(a, shape);
}

// --- scopes -----------------------------------------------------------------------------

/** Anything `tidy` can return: tensors, possibly nested in arrays or plain objects. */
export type TensorContainer =
  | void
  | number
  | string
  | boolean
  | null
  | undefined
  | Tensor
  | readonly TensorContainer[]
  | { readonly [k: string]: TensorContainer };

function collect(x: unknown, out: Set<Tensor>): void {
  if (x instanceof Tensor) out.add(x);
  else if (Array.isArray(x)) { for (const v of x) collect(v, out); }
  else if (x && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    for (const v of Object.values(x)) collect(v, out);
  }
}

/**
 * Runs `fn` in a scope: every tensor created inside and not returned or kept is disposed
 * at the end. Returned tensors move to the enclosing scope. An async `fn` keeps its scope
 * open until it settles: tensors that other code creates meanwhile land in it too, so do
 * not interleave async scopes.
 */
export function tidy<T extends TensorContainer>(fn: () => T): T;
/** Async form of {@link tidy}. */
export function tidy<T extends TensorContainer>(fn: () => Promise<T>): Promise<T>;
export function tidy<T extends TensorContainer>(fn: () => T | Promise<T>): T | Promise<T> {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (e) {
    closeScope(scope, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (r) => closeScope(scope, r),
      (e) => {
        closeScope(scope, undefined);
        throw e;
      },
    );
  }
  return closeScope(scope, result);
}

function closeScope<T>(scope: Set<Tensor>, result: T): T {
  scopes.splice(scopes.lastIndexOf(scope), 1);
  const keepSet = new Set<Tensor>();
  collect(result, keepSet);
  // Newest first, so the pool's LIFO free lists hand the same buffers to the same ops in the
  // next step (and the runtime's bind-group cache hits).
  for (const t of [...scope].reverse()) if (!keepSet.has(t)) t.dispose();
  const parent = scopes.at(-1);
  if (parent) { for (const t of keepSet) if (!t.disposed) parent.add(t); }
  return result;
}

/** Takes a tensor out of every scope: it lives until disposed. Returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}
