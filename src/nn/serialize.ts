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
import { fmt, readAll, type Tensor, tensor, tidy } from "../tensor.ts";
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
 * match; with `strict`, the names must match exactly.
 */
export function loadModule(
  m: Module,
  file: Uint8Array | SafetensorsFile,
  opts: LoadOptions = {},
): void {
  const f = file instanceof Uint8Array ? decodeSafetensors(file) : file;
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
        `wgrec loadModule: names differ (missing: [${missing.join(", ")}], unexpected: ` +
          `[${extra.join(", ")}])`,
      );
    }
  }
  tidy(() => {
    for (const [n, p] of named) {
      const t = stored.get(n);
      if (!t) continue;
      if (t.shape.join() !== p.shape.join()) {
        throw new Error(
          `wgrec loadModule: '${n}' is stored as [${t.shape.join(", ")}], the module has ` +
            `${fmt(p.shape)}`,
        );
      }
      m.setParameter(n, tensor(asF32(n, t), p.shape));
    }
  });
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

/** Restores a checkpoint made by {@link saveCheckpoint}; returns its `extra`. */
export function loadCheckpoint(
  m: Module,
  opt: Optimizer,
  bytes: Uint8Array,
): Record<string, unknown> {
  const f = decodeSafetensors(bytes, "checkpoint");
  if (f.metadata.format !== "wgrec-checkpoint") {
    throw new Error("wgrec loadCheckpoint: not a wgrec checkpoint (no format metadata)");
  }
  loadModule(m, f, { prefix: "model." });
  const state = new Map<string, Tensor<"f32">>();
  for (const [n, t] of Object.entries(f.tensors)) {
    if (n.startsWith("optim.")) state.set(n.slice(6), tensor(asF32(n, t), t.shape));
  }
  opt.loadState(state, JSON.parse(f.metadata.counters));
  opt.lr = Number(f.metadata.lr);
  return JSON.parse(f.metadata.extra);
}
