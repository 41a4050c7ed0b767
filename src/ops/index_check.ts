/**
 * Index validation for the ops that take row ids (gather, scatterAdd, CSR builds, retrieval).
 *
 * Two layers:
 * - **Host boundary.** {@link indexTensor} range-checks host data before upload and remembers
 *   the range it saw, so an op handed that tensor with a too-small table throws at once,
 *   naming the op, the offending value and its position.
 * - **Device side.** Ids computed on the GPU cannot be checked on the host without a readback,
 *   so every kernel that consumes ids tests them. An out-of-range id is never read through:
 *   gather writes a zero row (a NaN row in numerics-check mode), scatter-add and CSR builds
 *   drop the entry. The kernel also records the event in a flag buffer — count, first
 *   position, smallest and largest bad value, per op label — that {@link checkIndices} reads
 *   back (one readback) and turns into an error. In numerics-check mode every guarded launch
 *   also raises a NaN sentinel, so the next `read()` fails naming the op without an explicit
 *   `checkIndices()`.
 * @module
 */

import { kernel } from "../gpu/kernel.ts";
import type { PooledBuffer } from "../gpu/pool.ts";
import type { Runtime } from "../gpu/runtime.ts";
import { fmt, runtime, type Shape, type Tensor, tensor } from "../tensor.ts";
import * as sparseWgsl from "../../shaders/sparse/wgsl.ts";

/** Flag slots (distinct op labels between two {@link checkIndices} calls). */
const SLOTS = 1024;
const INT_MAX = 0x7fffffff;
const INT_MIN = -0x80000000;

const flagK = /* @__PURE__ */ kernel({
  name: "gather_flag",
  source: sparseWgsl.gather_flag,
  bindings: { bad: "i32", out: "f32 rw" },
  uniforms: { slot: "u32" },
  workgroupSize: [1],
});

interface GuardState {
  rt: Runtime;
  buf: PooledBuffer;
  labels: string[];
  slotOf: Map<string, number>;
}
let state: GuardState | null = null;

function initSlots(n: number): Int32Array {
  const a = new Int32Array(n * 4);
  for (let s = 0; s < n; s++) a.set([0, INT_MAX, INT_MAX, INT_MIN], 4 * s);
  return a;
}

function guard(): GuardState {
  const rt = runtime();
  if (state?.rt !== rt) {
    // A new runtime (first use, or `init` after a device loss): a fresh buffer on its device.
    const buf = rt.pool.acquire(SLOTS * 16, "checkIndices");
    rt.upload(buf, initSlots(SLOTS));
    // Slot 0 collects the ops that arrive once every other slot is taken.
    state = {
      rt,
      buf,
      labels: ["(an op recorded after 1023 others since checkIndices())"],
      slotOf: new Map(),
    };
  }
  return state;
}

/**
 * The flag buffer and slot for one guarded launch (kernels bind it as `bad` and take `slot`
 * as a uniform). `label` names the op and its shapes; equal labels share a slot. In
 * numerics-check mode, also watches a NaN sentinel raised when the slot is flagged — call this
 * after dispatching the guarded kernel.
 */
export function indexGuard(label: string): { buffer: PooledBuffer; slot: number } {
  const g = guard();
  let slot = g.slotOf.get(label);
  if (slot === undefined) {
    slot = g.labels.length < SLOTS ? g.labels.length : 0;
    if (slot !== 0) g.labels.push(label);
    g.slotOf.set(label, slot);
  }
  return { buffer: g.buf, slot };
}

/** Numerics-check mode: records a sentinel that reads as NaN when `slot` has been flagged. */
export function watchIndexGuard(slot: number, label: string): void {
  const rt = runtime();
  if (!rt.checkNumerics) return;
  const g = guard();
  const sentinel = rt.pool.acquire(4, "checkIndices");
  rt.dispatch(flagK, {
    buffers: { bad: g.buf, out: sentinel },
    uniforms: { slot },
    workgroups: [1],
  });
  rt.watch(sentinel, 1, `${label}: an index was out of range (await checkIndices() names it)`);
  // The scan is recorded already; later users of this buffer are ordered after it.
  rt.pool.release(sentinel);
}

/**
 * Reads the device-side index flags back (one readback), resets them, and throws naming the
 * first op that met an out-of-range index: how many, the first flat position, and the range
 * of the bad values. Resolves when every index since the last call was in range.
 */
export async function checkIndices(): Promise<void> {
  if (!state || state.rt !== runtime()) return;
  const g = state;
  const used = g.labels.length;
  const [raw] = await g.rt.readBuffers([{ buffer: g.buf, bytes: used * 16 }]);
  g.rt.upload(g.buf, initSlots(used));
  const labels = g.labels.splice(1);
  g.slotOf.clear();
  const f = new Int32Array(raw);
  const problems: string[] = [];
  for (let s = 0; s < used; s++) {
    const count = f[4 * s];
    if (count === 0) continue;
    const label = s === 0 ? g.labels[0] : labels[s - 1];
    const [pos, lo, hi] = [f[4 * s + 1], f[4 * s + 2], f[4 * s + 3]];
    const vals = lo === hi ? `value ${lo}` : `values in [${lo}, ${hi}]`;
    problems.push(
      `${label}: ${count} out-of-range index(es), first at flat position ${pos}, ${vals}`,
    );
  }
  if (problems.length) {
    throw new Error(
      `wgrec checkIndices: ${problems.join("; ")}. Out-of-range rows were read as zeros ` +
        `(gather) or dropped (scatterAdd/CSR builds); expected 0 ≤ index < rows`,
    );
  }
}

/** What {@link indexTensor} learned about a tensor's values. */
export interface IndexInfo {
  /** Smallest value (0 when empty). */
  min: number;
  /** Largest value (−1 when empty). */
  max: number;
  /** Flat position of the largest value. */
  argmax: number;
  /** Largest number of times one value occurs (0 when empty). */
  maxDup: number;
  /** The values (a copy of the host data). */
  host: Int32Array;
}
const known = new WeakMap<Tensor, IndexInfo>();

/** The host-checked range of an index tensor made by {@link indexTensor}, if any. */
export function indexInfo(t: Tensor): IndexInfo | undefined {
  return known.get(t);
}

/**
 * An i32 index tensor from host data, every value checked to lie in `[0, numRows)`.
 * Throws `wgrec indexTensor: …` naming the first offending value and its position. Ops that
 * receive the tensor compare the recorded range with their table at once.
 */
export function indexTensor(
  data: ArrayLike<number>,
  numRows: number,
  shape?: Shape,
): Tensor<"i32"> {
  if (!Number.isInteger(numRows) || numRows < 0 || numRows > INT_MAX) {
    throw new Error(`wgrec indexTensor: numRows ${numRows} must be an integer in [0, 2^31)`);
  }
  const a = Int32Array.from(data); // a copy: the caller may reuse its array
  let min = 0, max = -1, argmax = 0, maxDup = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < 0 || v >= numRows) {
      throw new Error(
        `wgrec indexTensor: value ${v} at flat position ${i} of ${data.length} is out of range ` +
          `for a table of ${numRows} rows; expected integers 0 ≤ index < ${numRows}`,
      );
    }
    if (i === 0 || v < min) min = v;
    if (v > max) [max, argmax] = [v, i];
  }
  if (a.length) maxDup = maxMultiplicity(a, max + 1);
  const t = tensor(a, shape ?? [a.length], "i32");
  known.set(t, { min, max, argmax, maxDup, host: a });
  return t;
}

function maxMultiplicity(a: Int32Array, bound: number): number {
  let best = 0;
  if (bound <= 4 * a.length + 1024) {
    const c = new Int32Array(bound);
    for (const v of a) best = Math.max(best, ++c[v]);
  } else {
    const c = new Map<number, number>();
    for (const v of a) {
      const n = (c.get(v) ?? 0) + 1;
      c.set(v, n);
      if (n > best) best = n;
    }
  }
  return best;
}

/**
 * Throws when `idx` was made by {@link indexTensor} with a value ≥ `numRows` (the host
 * already knows it is out of range for this table).
 */
export function assertKnownInRange(op: string, idx: Tensor, numRows: number, what: string): void {
  const info = known.get(idx);
  if (info && info.max >= numRows) {
    throw new Error(
      `wgrec ${op}: index ${info.max} at flat position ${info.argmax} of indices ${
        fmt(idx.shape)
      } is out of range for ${what} with ${numRows} rows; expected 0 ≤ index < ${numRows}`,
    );
  }
}
