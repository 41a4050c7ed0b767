// The WGSL files: the generated modules (shaders/<family>/wgsl.ts) match the .wgsl files, no
// helper function or struct is written out in more than one file (shared helpers live in one
// `lib` file that specs list), and every module-level spec is a pure call (so a bundler drops
// the kernels an app never reaches).
import { escapeTemplate, existingModules, MODULE, renderAll } from "../../shaders/gen.ts";
import { assert } from "../helpers.ts";

const DIR = new URL("../../shaders/", import.meta.url);

Deno.test("shaders/<family>/wgsl.ts are generated from the current .wgsl files", async () => {
  const expected = await renderAll(DIR);
  const problems: string[] = [];
  for (const [path, text] of Object.entries(expected)) {
    const actual = await Deno.readTextFile(new URL(path, DIR)).catch(() => null);
    if (actual === null) problems.push(`shaders/${path} is missing`);
    else if (actual !== text) problems.push(`shaders/${path} is stale`);
  }
  for (const path of await existingModules(DIR)) {
    if (!(path in expected)) problems.push(`shaders/${path} has no .wgsl files`);
  }
  assert.ok(Object.keys(expected).every((p) => p.endsWith(`/${MODULE}`)));
  assert.deepEqual(problems, [], `run \`deno task gen\`: ${problems.join("; ")}`);
});

Deno.test("the generated text is the file's text, line for line", async () => {
  const awkward = "a `b` ${c} \\d\n${\n";
  const escaped = escapeTemplate(awkward);
  assert.equal(escaped.split("\n").length, awkward.split("\n").length, "same lines");
  assert.equal(new Function(`return \`${escaped}\`;`)(), awkward);
  // And a real module, imported: every export equals its file.
  const core = await import("../../shaders/core/wgsl.ts") as Record<string, string>;
  for (const [name, text] of Object.entries(core)) {
    assert.equal(text, await Deno.readTextFile(new URL(`core/${name}.wgsl`, DIR)), name);
  }
});

/** Top-level `fn`/`struct` definitions of every .wgsl file: name → file → body (whitespace-normalised). */
async function definitions(): Promise<Map<string, Map<string, string>>> {
  const defs = new Map<string, Map<string, string>>();
  for await (const fam of Deno.readDir(DIR)) {
    if (!fam.isDirectory) continue;
    for await (const f of Deno.readDir(new URL(`${fam.name}/`, DIR))) {
      if (!f.name.endsWith(".wgsl")) continue;
      const path = `${fam.name}/${f.name}`;
      const text = await Deno.readTextFile(new URL(path, DIR));
      for (const m of text.matchAll(/^(fn|struct) ([A-Za-z_][A-Za-z0-9_]*)/gm)) {
        let depth = 0;
        let end = text.indexOf("{", m.index);
        for (; end < text.length; end++) {
          if (text[end] === "{") depth++;
          else if (text[end] === "}" && --depth === 0) break;
        }
        const body = text.slice(m.index, end + 1).replace(/\/\/.*$/gm, "").replace(/\s+/g, " ");
        const key = `${m[1]} ${m[2]}`;
        if (!defs.has(key)) defs.set(key, new Map());
        defs.get(key)!.set(path, body);
      }
    }
  }
  return defs;
}

/**
 * Names several files define as *different* functions: each kernel's own entry point and the
 * per-kernel hooks of one shape of loop (never combined in one module, bodies differ).
 */
const LOCAL: ReadonlySet<string> = new Set([
  "fn main",
  "fn finish",
  "fn partial",
  "fn ok",
  "fn better",
  "fn act",
  "fn kmask",
  "struct Keys",
]);

/**
 * Copies not yet moved to a shared file, with why. The test also fails when an entry is no
 * longer copied, so this list only shrinks.
 */
const PENDING: Readonly<Record<string, string>> = {};

Deno.test("no WGSL helper function or struct is defined in more than one file", async () => {
  const defs = await definitions();
  const problems: string[] = [];
  for (const [key, files] of defs) {
    if (files.size < 2 || key in PENDING) continue;
    const where = [...files.keys()].join(", ");
    if (!LOCAL.has(key)) {
      problems.push(`${key} is defined in ${where}: move it to a shared lib file`);
    } else if (key !== "fn main" && new Set(files.values()).size < files.size) {
      problems.push(`${key} is copied verbatim in ${where}: move it to a shared lib file`);
    }
  }
  for (const key of Object.keys(PENDING)) {
    if ((defs.get(key)?.size ?? 0) < 2) problems.push(`${key} is no longer copied: drop it`);
  }
  assert.deepEqual(problems, []);
});

Deno.test("every module-level kernel spec is declared as a pure call", async () => {
  const src = new URL("../../src/", import.meta.url);
  const bare: string[] = [];
  const walk = async (dir: URL, rel: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir), `${rel}${e.name}/`);
      else if (e.name.endsWith(".ts")) {
        const lines = (await Deno.readTextFile(new URL(e.name, dir))).split("\n");
        lines.forEach((l, i) => {
          // `= kernel({` at module level, or as a member of a module-level table.
          if (/(=|^ {2}\w+:) kernel\(\{/.test(l)) bare.push(`src/${rel}${e.name}:${i + 1}`);
        });
      }
    }
  };
  await walk(src, "");
  assert.deepEqual(bare, [], "write `= /* @__PURE__ */ kernel({` (see src/gpu/kernel.ts)");
});
