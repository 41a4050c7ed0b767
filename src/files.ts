/**
 * Deno file helpers: loaders that read datasets from disk, `.npy` / safetensors file
 * readers and writers, and WAV audio (decode, encode, resample). A separate entry
 * (`wgrec/files`) so that `mod.ts` stays free of Deno APIs and bundles for browsers as is.
 * @module
 */

import { featuresFromNpy, type FeatureTable } from "./models/alignrec/ica.ts";

export * from "./data/files.ts";
export * from "./io/files.ts";
export * from "./io/wav.ts";

/** Reads a precomputed item-feature file (`.npy`, float32 `[items, dim]`), e.g. stage-1 output. */
export async function loadFeatureFile(path: string | URL): Promise<FeatureTable> {
  return featuresFromNpy(await Deno.readFile(path), String(path));
}
