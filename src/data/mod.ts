/**
 * Data loading and preparation: the common interaction/split/CSR types, parsers for MMRec,
 * RecBole atomic, MovieLens, MIND and CTR CSV files, preprocessing (binarisation, k-core,
 * chronological splits), CTR feature encoding, training samplers and a synthetic multimodal
 * dataset generator. The parsers are pure and browser-safe; `files.ts` adds Deno file readers.
 * @module
 */

export * from "./types.ts";
export * from "./text.ts";
export * from "./vocab.ts";
export * from "./transform.ts";
export * from "./recbole.ts";
export * from "./mmrec.ts";
export * from "./movielens.ts";
export * from "./mind.ts";
export * from "./csv.ts";
export * from "./ctr.ts";
// libFM: the pure parser and encoder (loadLibfm, the Deno folder reader, is in ./files.ts).
export { fixedFieldCount, libfmSplits, parseLibfm } from "./libfm.ts";
export type { LibfmOptions, LibfmRows, LibfmSplits } from "./libfm.ts";
export * from "./sampling.ts";
export * from "./synthetic.ts";
// The samplers and the generator take this seeded generator; re-exported for convenience.
export { Rng } from "../random.ts";
