/**
 * Module weights and training checkpoints as safetensors (PyTorch-compatible names and
 * layouts: a Linear's weight is [out, in], as `torch.nn.Linear` saves it).
 * @module
 */

import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
} from "../io/safetensors.ts";
import { fmt, keep, readAll, type Tensor, tensor } from "../tensor.ts";
import type { Module } from "./module.ts";
import type { Optimizer } from "./optim.ts";

/** Serialises a module's parameters (one readback for all of them). */
export async function saveModule(
  m: Module,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  const named = m.namedParameters();
  return encodeSafetensors(await toRecord(named), metadata);
}

async function toRecord(named: [string, Tensor<"f32">][]) {
  const data = await readAll(named.map(([, t]) => t));
  const out: Record<string, SafetensorsTensor> = {};
  named.forEach(([n, t], i) => (out[n] = { dtype: "F32", shape: [...t.shape], data: data[i] }));
  return out;
}

/** F32 values of a stored tensor (F64 and F16 are converted; other dtypes are refused). */
function asF32(name: string, t: SafetensorsTensor): Float32Array {
  if (t.dtype === "F32") return t.data as Float32Array;
  if (t.dtype === "F64") return Float32Array.from(t.data as Float64Array);
  if (t.dtype === "F16") return Float32Array.from(t.data as Uint16Array, halfToFloat);
  throw new Error(`wgrec load: tensor '${name}' has dtype ${t.dtype}, expected F32, F64 or F16`);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Options of {@link loadModule}. */
export interface LoadOptions {
  /** Fail on missing or unexpected names (default true). */
  strict?: boolean;
  /** Only names with this prefix are read, with the prefix removed. */
  prefix?: string;
}

/**
 * Loads parameters into a module from safetensors bytes (or a decoded file). Shapes must
 * match; with `strict`, the names must match exactly. Atomic: every name, shape, dtype and
 * value is checked (and uploaded) before the first parameter is written, so a bad file leaves
 * the module as it was.
 */
export function loadModule(
  m: Module,
  file: Uint8Array | SafetensorsFile,
  opts: LoadOptions = {},
): void {
  const f = file instanceof Uint8Array ? decodeSafetensors(file) : file;
  const staged = stageModule(m, f, opts, "loadModule");
  try {
    for (const [n, t] of staged) m.setParameter(n, t);
  } finally {
    for (const [, t] of staged) t.dispose();
  }
}

// Validates a file against a module and uploads its values into new tensors (kept out of any
// scope; the caller disposes them). Nothing of the module is touched.
function stageModule(
  m: Module,
  f: SafetensorsFile,
  opts: LoadOptions,
  op: string,
): [string, Tensor<"f32">][] {
  const prefix = opts.prefix ?? "";
  const stored = new Map(
    Object.entries(f.tensors)
      .filter(([n]) => n.startsWith(prefix))
      .map(([n, t]) => [n.slice(prefix.length), t]),
  );
  const named = m.namedParameters();
  if (opts.strict ?? true) {
    const ours = new Set(named.map(([n]) => n));
    const missing = [...ours].filter((n) => !stored.has(n));
    const extra = [...stored.keys()].filter((n) => !ours.has(n));
    if (missing.length || extra.length) {
      throw new Error(
        `wgrec ${op}: names differ (missing: [${missing.join(", ")}], unexpected: ` +
          `[${extra.join(", ")}]); nothing was loaded`,
      );
    }
  }
  const values: [string, Float32Array, readonly number[]][] = [];
  for (const [n, p] of named) {
    const t = stored.get(n);
    if (!t) continue;
    if (t.shape.join() !== p.shape.join()) {
      throw new Error(
        `wgrec ${op}: '${prefix}${n}' is stored as [${t.shape.join(", ")}], the module has ` +
          `${fmt(p.shape)}; nothing was loaded`,
      );
    }
    values.push([n, asF32(prefix + n, t), p.shape]);
  }
  return stage(values, op);
}

// Uploads host values as kept tensors; on any failure (a non-finite value…) frees those made.
function stage(
  values: [string, Float32Array, readonly number[]][],
  op: string,
): [string, Tensor<"f32">][] {
  const out: [string, Tensor<"f32">][] = [];
  try {
    for (const [n, v, shape] of values) {
      try {
        out.push([n, keep(tensor(v, shape))]);
      } catch (e) {
        throw new Error(`wgrec ${op}: '${n}': ${(e as Error).message}; nothing was loaded`);
      }
    }
  } catch (e) {
    for (const [, t] of out) t.dispose();
    throw e;
  }
  return out;
}

/**
 * A checkpoint: the module's parameters (`model.*`), the optimizer's state (`optim.*`) and
 * its counters, plus any JSON-able `extra` (epoch, RNG seed, best metric…), so that training
 * resumes exactly.
 */
export async function saveCheckpoint(
  m: Module,
  opt: Optimizer,
  extra: Record<string, unknown> = {},
): Promise<Uint8Array> {
  const named: [string, Tensor<"f32">][] = [
    ...m.namedParameters().map(([n, t]) => [`model.${n}`, t] as [string, Tensor<"f32">]),
    ...[...opt.state()].map(([n, t]) => [`optim.${n}`, t] as [string, Tensor<"f32">]),
  ];
  return encodeSafetensors(await toRecord(named), {
    format: "wgrec-checkpoint",
    counters: JSON.stringify(opt.counters()),
    lr: String(opt.lr),
    extra: JSON.stringify(extra),
  });
}

/**
 * Restores a checkpoint made by {@link saveCheckpoint}; returns its `extra`. Atomic: the
 * parameters, optimizer state and metadata are all checked before anything is written.
 */
export function loadCheckpoint(
  m: Module,
  opt: Optimizer,
  bytes: Uint8Array,
): Record<string, unknown> {
  const f = decodeSafetensors(bytes, "checkpoint");
  if (f.metadata.format !== "wgrec-checkpoint") {
    throw new Error("wgrec loadCheckpoint: not a wgrec checkpoint (no format metadata)");
  }
  const counters = parseMeta(f, "counters");
  const extra = parseMeta(f, "extra");
  const lr = Number(f.metadata.lr);
  if (!Array.isArray(counters) || !counters.every((c) => Number.isFinite(c))) {
    throw new Error(`wgrec loadCheckpoint: metadata 'counters' is not a list of numbers`);
  }
  if (!Number.isFinite(lr) || !extra || typeof extra !== "object") {
    throw new Error(
      `wgrec loadCheckpoint: metadata 'lr' or 'extra' is invalid; nothing was loaded`,
    );
  }
  // Optimizer slots are named `<slot>.<parameter index>` and shaped like that parameter.
  const optim: [string, Float32Array, readonly number[]][] = [];
  for (const [n, t] of Object.entries(f.tensors)) {
    if (!n.startsWith("optim.")) continue;
    const i = Number(n.slice(n.lastIndexOf(".") + 1));
    const p = opt.params[i];
    if (!p || t.shape.join() !== p.shape.join()) {
      throw new Error(
        `wgrec loadCheckpoint: '${n}' is stored as [${t.shape.join(", ")}], but the optimizer ` +
          `has ${p ? `parameter ${i} of shape ${fmt(p.shape)}` : `no parameter ${i}`}; ` +
          `nothing was loaded`,
      );
    }
    optim.push([n.slice(6), asF32(n, t), p.shape]);
  }
  const params = stageModule(m, f, { prefix: "model." }, "loadCheckpoint");
  let state: [string, Tensor<"f32">][];
  try {
    state = stage(optim, "loadCheckpoint");
  } catch (e) {
    for (const [, t] of params) t.dispose();
    throw e;
  }
  try {
    for (const [n, t] of params) m.setParameter(n, t);
  } finally {
    for (const [, t] of params) t.dispose();
  }
  opt.loadState(new Map(state), counters);
  const taken = new Set(opt.state().values());
  for (const [, t] of state) if (!taken.has(t)) t.dispose();
  opt.lr = lr;
  return extra as Record<string, unknown>;
}

function parseMeta(f: SafetensorsFile, key: string): unknown {
  try {
    return JSON.parse(f.metadata[key]);
  } catch {
    throw new Error(`wgrec loadCheckpoint: metadata '${key}' is missing or not JSON`);
  }
}
