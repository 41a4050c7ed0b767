/**
 * `deno task serve:example`: serves the repository read-only on 127.0.0.1 (never on other
 * interfaces), so the demo at `/examples/browser/index.html` can import `/dist/wgrec.js`.
 * `/` and `/examples/browser/` redirect to the demo page (its script is the relative
 * `./dist/main.js`, which only resolves from the page's own folder). Run `deno task bundle`
 * first; without it the page says so. Flags: `--port N` (default 8000; 0 picks a free port).
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
      const path = decodeURIComponent(new URL(req.url).pathname);
      // Redirect, not serve: the page's relative script URL must resolve from its folder.
      if (path === "/" || path === "/examples/browser" || path === "/examples/browser/") {
        return new Response(null, {
          status: 302,
          headers: { location: "/examples/browser/index.html" },
        });
      }
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
  for (const f of ["dist/wgrec.js", "examples/browser/dist/main.js"]) {
    try {
      await Deno.stat(join(root, f));
    } catch {
      console.log(`${f} is missing: run \`deno task bundle\` first (the page will say so too).`);
    }
  }
  console.log(
    `serving ${root} on ${s.url}/\n  demo page:    ${s.url}/examples/browser/index.html ` +
      `(${s.url}/ redirects there)\n  kernel check: ${s.url}/examples/browser/kernels.html`,
  );
}
