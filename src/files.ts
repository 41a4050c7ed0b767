/**
 * Deno file helpers: loaders that read datasets from disk and `.npy` / safetensors file
 * readers and writers. A separate entry (`wgrec/files`) so that `mod.ts` stays free of Deno
 * APIs and bundles for browsers as is.
 * @module
 */

export * from "./data/files.ts";
export * from "./io/files.ts";
