// Every kernel spec in src/ binds at most 8 storage buffers: WebGPU's default per-stage limit,
// what a browser grants unless asked for more. Read from the source text (most specs are
// module-private), so a new kernel that binds a ninth buffer fails here, not on a user's device.
import { assert } from "../helpers.ts";

async function* sources(dir: URL): AsyncGenerator<[string, string]> {
  for await (const e of Deno.readDir(dir)) {
    const u = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* sources(u);
    else if (e.name.endsWith(".ts")) yield [u.pathname, await Deno.readTextFile(u)];
  }
}

Deno.test("every kernel spec binds at most 8 storage buffers", async () => {
  let specs = 0;
  for await (const [path, text] of sources(new URL("../../src/", import.meta.url))) {
    for (const m of text.matchAll(/kernel\(\{[\s\S]*?bindings: \{([^}]*)\}/g)) {
      const names = [...m[1].matchAll(/(\w+):\s*"/g)].map((x) => x[1]);
      const name = /name: "(\w+)"/.exec(m[0])?.[1] ?? "?";
      assert.ok(names.length <= 8, `${path}: kernel ${name} binds ${names.length}: ${names}`);
      specs++;
    }
  }
  assert.ok(specs > 50, `found ${specs} kernel specs`);
});
