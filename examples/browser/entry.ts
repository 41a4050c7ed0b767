/**
 * The browser build of wgrec (`deno task bundle` → `dist/wgrec.js`): everything `mod.ts`
 * exports. The Deno file helpers live in a separate entry (`src/files.ts`, exported as
 * `./files`); in a browser, fetch the bytes and hand them to the parsers instead. The bundler
 * fails when any `Deno` use becomes reachable (see examples/bundle.ts).
 * @module
 */

export * from "../../mod.ts";
