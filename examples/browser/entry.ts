/**
 * The browser build of wgrec (`deno task bundle` → `dist/wgrec.js`): the whole library, flat
 * (`internal.ts`: the public API of `mod.ts` plus the internals the kernel-check page uses).
 * An app that bundles `mod.ts` itself gets only what it imports. The Deno file helpers live in a separate entry (`src/files.ts`, exported as
 * `./files`); in a browser, fetch the bytes and hand them to the parsers instead. The bundler
 * fails when any `Deno` use becomes reachable (see examples/bundle.ts).
 * @module
 */

export * from "../../internal.ts";
