/**
 * The browser build of wgrec (`deno task bundle` → `dist/wgrec.js`): everything `mod.ts`
 * exports, plus the browser-safe parts of `src/data` (parsers, preprocessing, samplers, the
 * synthetic dataset), `src/metrics` and the byte-level `.npy`/safetensors codecs of `src/io`.
 *
 * Left out: `src/data/files.ts` and `src/io/files.ts`, the thin wrappers that read and write
 * files with `Deno.*` (in a browser, fetch the bytes and hand them to the parsers instead).
 * The bundler fails when any other `Deno` use becomes reachable (see examples/bundle.ts).
 * @module
 */

export * from "../../mod.ts";
export * from "../../src/data/types.ts";
export * from "../../src/data/text.ts";
export * from "../../src/data/vocab.ts";
export * from "../../src/data/transform.ts";
export * from "../../src/data/recbole.ts";
export * from "../../src/data/mmrec.ts";
export * from "../../src/data/movielens.ts";
export * from "../../src/data/mind.ts";
export * from "../../src/data/csv.ts";
export * from "../../src/data/ctr.ts";
export * from "../../src/data/sampling.ts";
export * from "../../src/data/synthetic.ts";
export * from "../../src/metrics/mod.ts";
export * from "../../src/io/npy.ts";
export * from "../../src/io/safetensors.ts";
