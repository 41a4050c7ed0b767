/**
 * `deno task serve:example`: serves the repository read-only on 127.0.0.1 (never on other
 * interfaces), so the demo at `/examples/browser/index.html` can import `/dist/wgrec.js`.
 * Run `deno task bundle` first. Flags: `--port N` (default 8000; 0 picks a free port).
 * @module
 */

import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wgsl": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** A running server: its URL and a way to stop it. */
export interface StaticServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Serves the files under `root` on 127.0.0.1 (`port` 0 picks a free one). GET/HEAD only. */
export function serveStatic(root: string, port = 0): StaticServer {
  const base = normalize(root);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    async (req) => {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return new Response("method not allowed", { status: 405 });
      }
      let path = decodeURIComponent(new URL(req.url).pathname);
      if (path === "/") path = "/examples/browser/index.html";
      const file = normalize(join(base, path));
      // No escaping the root with `..` or encoded separators.
      if (file !== base && !file.startsWith(base.endsWith("/") ? base : base + "/")) {
        return new Response("forbidden", { status: 403 });
      }
      try {
        const data = await Deno.readFile(file);
        return new Response(req.method === "HEAD" ? null : data, {
          headers: {
            "content-type": TYPES[extname(file)] ?? "application/octet-stream",
            "cache-control": "no-store",
          },
        });
      } catch {
        return new Response(`not found: ${path}`, { status: 404 });
      }
    },
  );
  return { url: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--port");
  const port = i >= 0 ? Number(Deno.args[i + 1]) : 8000;
  const root = fileURLToPath(new URL("..", import.meta.url));
  const s = serveStatic(root, port);
  try {
    await Deno.stat(join(root, "dist/wgrec.js"));
  } catch {
    console.log("dist/wgrec.js is missing: run `deno task bundle` first.");
  }
  console.log(`serving ${root} on ${s.url}/ (the demo: ${s.url}/examples/browser/index.html)`);
}
