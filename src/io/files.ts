/**
 * Thin Deno wrappers that read and write `.npy` and safetensors files. The parsers themselves
 * ({@link readNpy}, {@link decodeSafetensors}) are pure and work in browsers on fetched bytes.
 * @module
 */

import {
  type NpyArray,
  type NpyData,
  type NpyDType,
  readNpy,
  type ReadNpyOptions,
  writeNpy,
} from "./npy.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsFile,
  type SafetensorsTensor,
} from "./safetensors.ts";

/** Read a `.npy` file (Deno only; needs read permission). Errors name the path. */
export async function readNpyFile(
  path: string | URL,
  options: ReadNpyOptions = {},
): Promise<NpyArray> {
  const bytes = await Deno.readFile(path);
  return readNpy(bytes, { source: String(path), ...options });
}

/** Write an array as a `.npy` file (Deno only; needs write permission). */
export async function writeNpyFile(
  path: string | URL,
  array: { dtype?: NpyDType; shape: readonly number[]; data: NpyData },
): Promise<void> {
  await Deno.writeFile(path, writeNpy(array));
}

/** Read a safetensors file (Deno only; needs read permission). Errors name the path. */
export async function readSafetensorsFile(path: string | URL): Promise<SafetensorsFile> {
  return decodeSafetensors(await Deno.readFile(path), String(path));
}

/** Write tensors and optional metadata as a safetensors file (Deno only; needs write permission). */
export async function writeSafetensorsFile(
  path: string | URL,
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  await Deno.writeFile(path, encodeSafetensors(tensors, metadata));
}
