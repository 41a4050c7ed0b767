/**
 * Every model family, one folder per paper (`src/models/<paper>/`); each is also its own
 * package entry (`@wgrec/wgrec/models/<paper>`), so an app that uses one paper loads only
 * its kernels.
 * @module
 */

export * from "./alignrec/mod.ts";
export * from "./lightgcn/mod.ts";
export * from "./vbpr/mod.ts";
export * from "./lattice/mod.ts";
export * from "./freedom/mod.ts";
export * from "./bm3/mod.ts";
export * from "./mgcn/mod.ts";
export * from "./popularity/mod.ts";
export * from "./rat/mod.ts";
export * from "./ctrbase/mod.ts";
export * from "./rar/mod.ts";
export * from "./gist/mod.ts";
export * from "./dcid/mod.ts";
export * from "./dgsct/mod.ts";
export * from "./oleo/mod.ts";
export * from "./survey/mod.ts";
export * from "./sparcode/mod.ts";
export * from "./uist/mod.ts";
export * from "./musicpaw/mod.ts";
export * from "./pmg/mod.ts";
