/**
 * What the loop keeps of the weights: the best-valid copy on the GPU (snapshot / restore),
 * its file beside a checkpoint, and the Deno file helpers (training runs anywhere; checkpoints
 * need a file system).
 * @module
 */

import { noGrad } from "../autograd/tape.ts";
import { decodeSafetensors, encodeSafetensors } from "../io/safetensors.ts";
import type { Module } from "../nn/module.ts";
import { keep, readAll, runtime, type Tensor, tensor } from "../tensor.ts";

/** Copies the parameters into `prev` (or new tensors) on the GPU. */
export function snapshot(params: Tensor<"f32">[], prev: Tensor<"f32">[] | null): Tensor<"f32">[] {
  const rt = runtime();
  const out = prev ??
    params.map((p) => keep(noGrad(() => tensor(new Float32Array(p.size), p.shape))));
  params.forEach((p, i) => rt.copy(p.buffer, 0, out[i].buffer, 0, p.size * 4));
  return out;
}

/** Copies a snapshot back into the parameters. */
export function restore(params: Tensor<"f32">[], saved: Tensor<"f32">[]): void {
  const rt = runtime();
  params.forEach((p, i) => rt.copy(saved[i].buffer, 0, p.buffer, 0, p.size * 4));
}

/** A snapshot as safetensors under the trained parameters' names. */
export async function saveSnapshot(model: Module, best: Tensor<"f32">[]): Promise<Uint8Array> {
  const trained = model.parameters();
  const named = model.namedParameters().filter(([, p]) => trained.includes(p));
  const data = await readAll(best);
  const rec: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  named.forEach(([n, p], i) => (rec[n] = { dtype: "F32", shape: [...p.shape], data: data[i] }));
  return encodeSafetensors(rec, { format: "wgrec-best-weights" });
}

/** A snapshot from {@link saveSnapshot}'s bytes. */
export function loadSnapshot(bytes: Uint8Array, model: Module): Tensor<"f32">[] {
  const f = decodeSafetensors(bytes, "best weights");
  const trained = model.parameters();
  return model.namedParameters().filter(([, p]) => trained.includes(p)).map(([n, p]) => {
    const t = f.tensors[n];
    if (!t || t.shape.join() !== p.shape.join()) {
      throw new Error(`wgrec fit: best-weights file lacks '${n}' ${JSON.stringify(p.shape)}`);
    }
    return keep(tensor(t.data as Float32Array, p.shape));
  });
}

// File helpers: Deno only (training itself runs anywhere; checkpoints need a file system).
// deno-lint-ignore no-explicit-any
const deno = () => (globalThis as any).Deno;
/** Whether a file exists (Deno). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await deno().stat(path);
    return true;
  } catch {
    return false;
  }
}
/** Reads a file (Deno). */
export function readFile(path: string): Promise<Uint8Array> {
  return deno().readFile(path);
}
/** Writes a file (Deno). */
export function writeFile(path: string, bytes: Uint8Array): Promise<void> {
  return deno().writeFile(path, bytes);
}
