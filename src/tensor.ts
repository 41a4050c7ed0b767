/**
 * Tensors: a shape, a dtype and a pooled GPU buffer, plus the scopes that own them.
 *
 * Ownership is scoped: every tensor created inside {@link tidy} is disposed when the scope
 * ends, except the tensors it returns and those passed to {@link keep}. Nothing relies on
 * garbage collection and nobody counts references.
 * @module
 */

import { Runtime, type RuntimeOptions } from "./gpu/runtime.ts";
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
export interface InitOptions extends RuntimeOptions {
  /**
   * Numerics-check mode: every floating-point op result is scanned on the GPU for NaN/Inf,
   * and {@link checkNumerics} (also run by every `read`) names the first op that made one.
   */
  checkNumerics?: boolean;
}

/** Acquires the GPU and makes it the runtime of every op. Call again after a device loss. */
export async function init(opts: InitOptions = {}): Promise<Runtime> {
  const rt = await Runtime.create(opts);
  rt.checkNumerics = opts.checkNumerics ?? false;
  // Tensors of an earlier runtime stay bound to it (see Tensor.buffer): their buffers never
  // enter this runtime's pool and they no longer count as live here.
  current = rt;
  live = new Set();
  return rt;
}

/** The current runtime; throws when {@link init} has not been awaited. */
export function runtime(): Runtime {
  if (!current) throw new Error("wgrec: no GPU runtime; call `await init()` first");
  return current;
}

/** Memory statistics: pool bytes and buffers plus the number of live tensors. */
export type MemoryStats = PoolStats & {
  /** Live tensors of the current runtime. */
  tensors: number;
};

/** One line of {@link memory}'s detail listing: live tensors made by one op at one site. */
export interface LiveGroup {
  /** The op that allocated them (`matmul`, `tensor`, `zeros`…). */
  op: string;
  /**
   * Where they were created: the first stack frame outside wgrec, when
   * {@link trackTensorSites} is on; otherwise `"?"`.
   */
  site: string;
  /** Number of live tensors in the group. */
  count: number;
  /** Their bytes (element bytes, before the pool's bucket rounding). */
  bytes: number;
  /** A few of their shapes, e.g. `[64, 32]`. */
  shapes: string[];
}

/**
 * Bytes and buffers live (owned by tensors) and pooled (free for reuse). With
 * `{ detail: true }` also `live`: the live tensors grouped by op and creation site, largest
 * count first, to find a leak (a tensor created outside `tidy` and never disposed).
 */
export function memory(): MemoryStats;
/** {@link memory} with the live-tensor listing. */
export function memory(opts: { detail: true }): MemoryStats & { live: LiveGroup[] };
export function memory(opts: { detail?: boolean } = {}): MemoryStats & { live?: LiveGroup[] } {
  const stats = { ...runtime().memory(), tensors: live.size };
  if (!opts.detail) return stats;
  const groups = new Map<string, LiveGroup>();
  for (const t of live) {
    const site = t.site ? siteOf(t.site) : "?";
    const key = `${t.op}\u0000${site}`;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { op: t.op, site, count: 0, bytes: 0, shapes: [] });
    g.count++;
    g.bytes += t.size * 4;
    if (g.shapes.length < 4) g.shapes.push(fmt(t.shape));
  }
  return { ...stats, live: [...groups.values()].sort((a, b) => b.count - a.count) };
}

let trackingSites = false;
/**
 * Records the creation site (a stack trace, ~2 µs per tensor) of every tensor created from now
 * on, for {@link memory}`({ detail: true })`. Off by default.
 */
export function trackTensorSites(on: boolean): void {
  trackingSites = on;
}

// The first frame outside this library's src/ (the caller that created the tensor).
function siteOf(e: Error): string {
  const frames = (e.stack ?? "").split("\n").slice(1).map((l) => l.trim().replace(/^at /, ""));
  const own = /\/src\/(tensor|ops|autograd|gpu|nn)\/|\/src\/tensor\.ts/;
  return frames.find((f) => !own.test(f)) ?? frames[0] ?? "?";
}

let nextId = 1;
/** Live tensors of the current runtime. */
let live = new Set<Tensor>();
const scopes: Scope[] = [];

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
  /** The op that allocated it (for error messages and `memory({ detail: true })`). */
  op = "tensor";
  /** Creation stack, when {@link trackTensorSites} is on. */
  site: Error | null = null;
  #buf: PooledBuffer | null;
  // The runtime whose pool owns the buffer; a later `init()` leaves this tensor behind.
  #rt: Runtime | null;
  // Set when disposed: the op of the node that was cleared, for backward's error message.
  #disposedNode: string | null = null;

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
    this.#rt = current;
    live.add(this);
    if (trackingSites) this.site = new Error();
    scopes.at(-1)?.tensors.add(this);
  }

  /** A short description for error messages: `tensor #12 [2, 3] (made by matmul)`. */
  describe(): string {
    return `tensor ${this.name ?? "#" + this.id} ${fmt(this.shape)} (made by ${this.op})`;
  }

  /** The GPU buffer; throws once disposed or when its runtime was replaced. */
  get buffer(): PooledBuffer {
    if (!this.#buf) {
      throw new Error(
        `wgrec: ${this.describe()} used after dispose` +
          (this.#disposedNode ? ` (it was the output of '${this.#disposedNode}')` : ""),
      );
    }
    if (this.#rt !== current) {
      const why = this.#rt?.lostReason
        ? `the GPU device was lost (${this.#rt.lostReason})`
        : "init() was called again";
      throw new Error(
        `wgrec: ${this.describe()} belongs to an earlier GPU runtime: ${why}, and its data is ` +
          `gone. Recreate it on the new runtime (reload weights from a checkpoint: ` +
          `loadCheckpoint / loadModule).`,
      );
    }
    return this.#buf;
  }

  /** Whether the tensor was made on a runtime that a later `init()` replaced. */
  get stale(): boolean {
    return this.#rt !== current;
  }

  /** The op of the graph node this tensor had when it was disposed (null if none). */
  get disposedNode(): string | null {
    return this.#disposedNode;
  }

  /** Whether the buffer went back to the pool. */
  get disposed(): boolean {
    return this.#buf === null;
  }

  /** Number of dims. */
  get rank(): number {
    return this.shape.length;
  }

  /**
   * Returns the buffer to the pool of the runtime that made it. Safe to call twice, and after
   * a later `init()` (the buffer then never enters the new runtime's pool).
   */
  dispose(): void {
    if (!this.#buf) return;
    if (this.#rt === current) {
      current?.pool.release(this.#buf);
      live.delete(this);
    }
    this.#buf = null;
    if (this.node) this.#disposedNode = this.node.kind;
    this.node = null;
    this.site = null;
    for (const s of scopes) s.tensors.delete(this);
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
  const rt = runtime();
  const bytes = sizeOf(shape) * 4;
  if (bytes > rt.pool.maxBinding) {
    throw new Error(
      `wgrec ${op}: a ${dtype} tensor of shape ${fmt(shape)} (${bytes} bytes) exceeds this ` +
        `device's storage binding limit (${rt.pool.maxBinding} bytes): one tensor must fit one ` +
        `binding. Lower the setting that sets its largest dim (batch size, chunk size, ` +
        `embedding size or table rows).`,
    );
  }
  const t = new Tensor(shape, dtype, rt.pool.acquire(bytes, op));
  t.op = op;
  return t;
}

/** Numbers nested in arrays, e.g. `[[1, 2], [3, 4]]`. */
export type NestedNumbers = number | readonly NestedNumbers[];

function flatten(data: NestedNumbers, out: number[], shape: number[], depth: number): void {
  if (typeof data === "number") {
    out.push(data);
    return;
  }
  if (!Array.isArray(data) && !ArrayBuffer.isView(data)) {
    throw new Error(
      `wgrec tensor: value ${JSON.stringify(data) ?? String(data)} (${typeof data}) at flat ` +
        `index ${out.length}, depth ${depth} is not a number or an array of numbers`,
    );
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
  if (!CTOR[dt]) throw new Error(`wgrec tensor: dtype '${dt}' is not one of f32, i32, u32`);
  if (dt !== "f32" && !(flat instanceof CTOR[dt])) assertIntegers(flat, dt, s);
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

// i32/u32 from other numbers: refuse what a typed-array conversion would silently change
// (fractions truncated, NaN to 0, out-of-range values wrapped).
function assertIntegers(a: ArrayLike<number>, dt: "i32" | "u32", shape: Shape): void {
  const [lo, hi] = dt === "i32" ? [-(2 ** 31), 2 ** 31 - 1] : [0, 2 ** 32 - 1];
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
      throw new Error(
        `wgrec tensor: ${dt} input of shape ${fmt(shape)} has ${
          typeof v === "number" ? v : `${JSON.stringify(v)} (${typeof v})`
        } at flat index ${i}; expected integers in [${lo}, ${hi}]`,
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

/** An open `tidy` scope: the tensors created while it was the innermost one. */
interface Scope {
  tensors: Set<Tensor>;
  /** Set when a scope below it closed first: its set may hold that scope's tensors. */
  interleaved: boolean;
}

const INTERLEAVED = "wgrec tidy: async scopes interleaved: a tidy(async …) ended while a tidy " +
  "started after it was still open, so tensors each created may sit in the other's scope. " +
  "Await each async tidy before starting the next (no Promise.all over async tidy calls).";

/**
 * Runs `fn` in a scope: every tensor created inside and not returned or kept is disposed
 * at the end. Returned tensors move to the enclosing scope. An async `fn` keeps its scope
 * open until it settles: await it before starting another scope from other code. Async
 * scopes that end out of order (interleaved, e.g. `Promise.all` over async `tidy` calls)
 * are refused with an error, and neither scope disposes the other's tensors.
 */
export function tidy<T extends TensorContainer>(fn: () => T): T;
/** Async form of {@link tidy}. */
export function tidy<T extends TensorContainer>(fn: () => Promise<T>): Promise<T>;
export function tidy<T extends TensorContainer>(fn: () => T | Promise<T>): T | Promise<T> {
  const scope: Scope = { tensors: new Set(), interleaved: false };
  scopes.push(scope);
  let result: T | Promise<T>;
  try {
    result = fn();
  } catch (e) {
    closeScope(scope, undefined, true);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (r) => closeScope(scope, r, false),
      (e) => {
        closeScope(scope, undefined, true);
        throw e;
      },
    );
  }
  return closeScope(scope, result, false);
}

function closeScope<T>(scope: Scope, result: T, failing: boolean): T {
  const at = scopes.lastIndexOf(scope);
  const outOfOrder = at !== scopes.length - 1;
  scopes.splice(at, 1);
  const parent = scopes[at - 1];
  if (outOfOrder || scope.interleaved) {
    // Scopes opened after this one may hold its tensors, and it may hold theirs: dispose
    // nothing, hand everything to the enclosing scope and refuse.
    for (let i = at; i < scopes.length; i++) scopes[i].interleaved = true;
    if (parent) { for (const t of scope.tensors) parent.tensors.add(t); }
    if (!failing) throw new Error(INTERLEAVED);
    return result;
  }
  const keepSet = new Set<Tensor>();
  collect(result, keepSet);
  for (const t of keepSet) {
    if (t.disposed && !failing) {
      throw new Error(
        `wgrec tidy: the scope returns ${t.describe()}, which was already disposed (by ` +
          `dispose() or by another scope's end: were async tidy calls interleaved?)`,
      );
    }
  }
  // Newest first, so the pool's LIFO free lists hand the same buffers to the same ops in the
  // next step (and the runtime's bind-group cache hits).
  for (const t of [...scope.tensors].reverse()) if (!keepSet.has(t)) t.dispose();
  if (parent) { for (const t of keepSet) if (!t.disposed) parent.tensors.add(t); }
  return result;
}

/** Takes a tensor out of every scope: it lives until disposed. Returns it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.tensors.delete(t);
  return t;
}
