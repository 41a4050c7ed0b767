/**
 * Array file formats: NumPy `.npy` and safetensors, as pure byte-level codecs plus thin Deno
 * file wrappers.
 * @module
 */

export * from "./npy.ts";
export * from "./safetensors.ts";
