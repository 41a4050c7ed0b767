/**
 * `deno task bundle`: builds the browser bundle of wgrec with esbuild and the in-browser demo.
 *
 * - `dist/wgrec.js` and `dist/wgrec.min.js` (ES modules, platform browser, linked source maps):
 *   the library as `examples/browser/entry.ts` exports it — all of `mod.ts` plus the
 *   browser-safe parts of `src/data`, `src/metrics` and `src/io` (not the `Deno.*` file
 *   helpers). The WGSL sources come along as the strings of `shaders/<family>/wgsl.ts` that the
 *   library's kernel specs import.
 * - `examples/browser/dist/main.js` and `kernels.js`: the demo page's and the kernel-check
 *   page's scripts. They import the library from `../../../dist/wgrec.js` (kept external, so
 *   the page runs the bundle itself) and carry their own dependencies (`wgpu-matrix`).
 *
 * The build fails when a `Deno` API is reachable from the library bundle: a second esbuild pass
 * replaces the free identifier `Deno` and the expression `globalThis.Deno` by markers (esbuild's
 * `define` rewrites identifiers only, never strings or comments), and every marker left in the
 * output is traced back to its source line through the source map. A free `Deno` always fails;
 * `globalThis.Deno` (which is `undefined` in a browser, not a ReferenceError) is accepted only
 * in the files of {@link GUARDED_DENO}, each with its reason, and reported.
 *
 * - An app that imports only the core and one model family ({@link APP}: `init`, `tensor` and
 *   LightGCN), minified: its size and how many of the repository's WGSL files it embeds. With
 *   `--app-before DIR` the same app is built against another checkout (e.g. `git worktree add
 *   /tmp/before 896c767`, where the names were flat in mod.ts) for the comparison.
 *
 * Sizes (raw and gzip -9) are printed. `--write` records them in `bench/results/bundle.md` and
 * `bundle.json`, and only rewrites those files when a number changed.
 * @module
 */

import * as esbuild from "npm:esbuild@0.28.2";
import { gzipSync } from "node:zlib";
import { dirname, join, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

/** The repository root. */
export const ROOT: string = fromFileUrl(new URL("..", import.meta.url));
/** The library's browser entry. */
export const ENTRY: string = join(ROOT, "examples/browser/entry.ts");
const PAGE_DIR = join(ROOT, "examples/browser");

/**
 * Files allowed to read `globalThis.Deno` (never the free `Deno`), and why that is safe or
 * documented as Deno-only. Anything else that reaches `Deno` fails the build.
 */
export const GUARDED_DENO: Readonly<Record<string, string>> = {
  "src/train/fit.ts": "terminalProgress feature-detects Deno and falls back to " +
    "console.log; fit's checkpoint/resume options are documented as Deno-only",
  "src/train/checkpoint.ts": "the loop's checkpoint/resume file helpers are documented as " +
    "Deno-only (training itself runs anywhere)",
  "src/train/progress.ts": "terminalProgress feature-detects Deno.stderr and falls back to " +
    "console.log",
};

/** One output file and its sizes. */
export interface BundleFile {
  /** Path relative to the repository root. */
  path: string;
  /** Bytes. */
  bytes: number;
  /** Bytes after gzip -9. */
  gzip: number;
}

/** A `Deno` use found in the library bundle. */
export interface DenoUse {
  /** `free` (the global identifier) or `globalThis` (a property read). */
  kind: "free" | "globalThis";
  /** Source file relative to the root, and 1-based line. */
  source: string;
  /** 1-based line in the source. */
  line: number;
  /** Whether {@link GUARDED_DENO} accepts it. */
  allowed: boolean;
}

/** What {@link build} did. */
export interface BundleReport {
  /** esbuild version. */
  esbuild: string;
  /** Output files (the `.map` files are listed too). */
  files: BundleFile[];
  /** Every `Deno` use reachable from the library bundle. */
  denoUses: DenoUse[];
  /** Source modules in the library bundle. */
  modules: number;
  /** The one-family app, built against this checkout (and another, when asked). */
  app: AppBundle[];
}

/** The app of the one-family measurement, for a checkout with per-family entries… */
export const APP = 'import { init, tensor } from "./mod.ts";\n' +
  'import { LightGCN } from "./src/models/lightgcn/mod.ts";\n' +
  "export { init, LightGCN, tensor };\n";
/** …and for one from before them, where every name was exported flat by mod.ts. */
export const APP_FLAT = 'export { init, LightGCN, tensor } from "./mod.ts";\n';

/** One build of the app. */
export interface AppBundle {
  /** What was measured (`this checkout` or the label given). */
  label: string;
  /** The checkout's commit (short), with `+` when its tree had uncommitted changes. */
  commit: string;
  /** The commit's subject, cut to 60 characters. */
  subject: string;
  /** Minified bytes. */
  bytes: number;
  /** Minified bytes after gzip -9. */
  gzip: number;
  /** Source modules bundled. */
  modules: number;
  /** WGSL files of the checkout whose text is in the bundle. */
  kernels: number;
  /** WGSL files in the checkout. */
  kernelsTotal: number;
}

const COMMON: esbuild.BuildOptions = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  charset: "utf8",
  sourcemap: "linked",
  sourcesContent: true,
  logLevel: "silent",
};

/** Builds everything; throws on a build error or a reachable `Deno` use. */
export async function build(
  opts: { record?: boolean; quiet?: boolean; appBefore?: string } = {},
): Promise<BundleReport> {
  const log = opts.quiet ? () => {} : console.log;
  const denoUses = await findDenoUses();
  const bad = denoUses.filter((u) => !u.allowed);
  if (bad.length) {
    throw new Error(
      "wgrec bundle: Deno APIs are reachable from the browser bundle:\n" +
        bad.map((u) => `  ${u.source}:${u.line} (${u.kind} Deno)`).join("\n") +
        "\nKeep Deno-only code out of the modules examples/browser/entry.ts exports " +
        "(see GUARDED_DENO in examples/bundle.ts).",
    );
  }

  const lib = await esbuild.build({
    ...COMMON,
    entryPoints: [ENTRY],
    outfile: join(ROOT, "dist/wgrec.js"),
    metafile: true,
    banner: { js: "// wgrec browser bundle (examples/browser/entry.ts); MIT license." },
  });
  await esbuild.build({
    ...COMMON,
    entryPoints: [ENTRY],
    outfile: join(ROOT, "dist/wgrec.min.js"),
    minify: true,
  });
  const pages = await esbuild.build({
    ...COMMON,
    entryPoints: [join(PAGE_DIR, "main.ts"), join(PAGE_DIR, "kernels.ts")],
    outdir: join(PAGE_DIR, "dist"),
    metafile: true,
    plugins: [libraryExternal(), npmSpecifiers()],
  });
  // The page scripts must import the library bundle, never embed a second copy of it.
  const copied = Object.keys(pages.metafile!.inputs).filter((p) =>
    p.startsWith("src/") || p === "mod.ts" || p === "internal.ts" || p.startsWith("shaders/")
  );
  if (copied.length) {
    throw new Error(`wgrec bundle: the page scripts embed library modules: ${copied.join(", ")}`);
  }

  const outs = [
    "dist/wgrec.js",
    "dist/wgrec.min.js",
    "dist/wgrec.js.map",
    "dist/wgrec.min.js.map",
    "examples/browser/dist/main.js",
    "examples/browser/dist/kernels.js",
  ];
  const files: BundleFile[] = [];
  for (const path of outs) {
    const data = await Deno.readFile(join(ROOT, path));
    files.push({ path, bytes: data.length, gzip: gzipSync(data, { level: 9 }).length });
  }
  const app = [await measureApp(ROOT, "this checkout")];
  if (opts.appBefore) app.unshift(await measureApp(opts.appBefore, "earlier checkout"));
  const report: BundleReport = {
    esbuild: esbuild.version,
    files,
    denoUses,
    modules: Object.keys(lib.metafile!.inputs).length,
    app,
  };
  log(`esbuild ${esbuild.version}: ${report.modules} modules`);
  for (const f of files) {
    log(`  ${f.path.padEnd(34)} ${kb(f.bytes).padStart(9)}   gzip ${kb(f.gzip).padStart(8)}`);
  }
  for (const a of app) {
    log(
      `  app (core + LightGCN) at ${a.commit.padEnd(9)} ${kb(a.bytes).padStart(9)}   gzip ` +
        `${kb(a.gzip).padStart(8)}   ${a.kernels}/${a.kernelsTotal} WGSL files (${a.label})`,
    );
  }
  for (const u of denoUses) {
    log(`  note: ${u.source}:${u.line} reads globalThis.Deno (${GUARDED_DENO[u.source]})`);
  }
  if (opts.record) await record(report);
  return report;
}

/** Builds {@link APP} (or {@link APP_FLAT}) against the checkout at `root`, minified. */
export async function measureApp(root: string, label: string): Promise<AppBundle> {
  const perFamily = await exists(join(root, "src/models/lightgcn/mod.ts"));
  const r = await esbuild.build({
    ...COMMON,
    stdin: { contents: perFamily ? APP : APP_FLAT, resolveDir: root, sourcefile: "app.ts" },
    loader: { ".ts": "ts" },
    sourcemap: false,
    minify: true,
    write: false,
    metafile: true,
    plugins: [npmSpecifiers()],
  });
  const js = r.outputFiles[0].contents;
  const text = new TextDecoder().decode(js);
  const wgsl = await wgslFiles(join(root, "shaders"));
  const kernels = probes(wgsl).filter((line) => text.includes(line)).length;
  const git = (...args: string[]) =>
    new Deno.Command("git", { args: ["-C", root, ...args] }).output().then((o) =>
      new TextDecoder().decode(o.stdout).trim()
    );
  // Build outputs and recorded results do not make a checkout dirty.
  const outputs = [":!dist", ":!examples/browser/dist", ":!bench/results"];
  const dirty =
    (await git("status", "--porcelain", "--untracked-files=no", "--", ".", ...outputs)) !==
      "";
  const subject = await git("log", "-1", "--format=%s");
  return {
    label,
    commit: (await git("rev-parse", "--short", "HEAD")) + (dirty ? "+" : ""),
    subject: subject.length > 60 ? `${subject.slice(0, 59)}…` : subject,
    bytes: js.length,
    gzip: gzipSync(js, { level: 9 }).length,
    modules: Object.keys(r.metafile!.inputs).length,
    kernels,
    kernelsTotal: wgsl.length,
  };
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** The texts of every `.wgsl` file under `dir`. */
async function wgslFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) out.push(...await wgslFiles(join(dir, e.name)));
    else if (e.name.endsWith(".wgsl")) out.push(await Deno.readTextFile(join(dir, e.name)));
  }
  return out;
}

/**
 * One line per WGSL file that any embedding keeps verbatim (a JSON string or a template
 * literal): its longest line that has no quotes, backslashes, backticks or `${` and that no
 * other file has (a file without one counts by its whole trimmed text).
 */
function probes(files: string[]): string[] {
  const count = new Map<string, number>();
  const lines = files.map((src) => [...new Set(src.split("\n").map((l) => l.trim()))]);
  for (const ls of lines) for (const l of ls) count.set(l, (count.get(l) ?? 0) + 1);
  return lines.map((ls, i) =>
    ls.filter((l) => count.get(l) === 1 && !/["\\`]|\$\{/.test(l))
      .reduce((a, b) => (b.length > a.length ? b : a), "") || files[i].trim()
  );
}

function kb(n: number): string {
  return `${(n / 1024).toFixed(1)} KiB`;
}

/** Resolves `examples/browser/entry.ts` to the library bundle, kept external. */
function libraryExternal(): esbuild.Plugin {
  return {
    name: "wgrec-library-external",
    setup(b) {
      b.onResolve({ filter: /entry\.ts$/ }, (args) => {
        const path = join(args.resolveDir, args.path);
        if (path !== ENTRY) return undefined;
        // From examples/browser/dist/*.js to dist/wgrec.js.
        return { path: "../../../dist/wgrec.js", external: true };
      });
    },
  };
}

/**
 * Resolves `npm:` specifiers to the files Deno downloaded (`import.meta.resolve` after a
 * dynamic import). Enough for the self-contained ES packages the pages use (wgpu-matrix).
 */
function npmSpecifiers(): esbuild.Plugin {
  return {
    name: "deno-npm-specifiers",
    setup(b) {
      b.onResolve({ filter: /^npm:/ }, async (args) => {
        await import(args.path);
        const url = import.meta.resolve(args.path);
        if (!url.startsWith("file:")) {
          return { errors: [{ text: `cannot resolve ${args.path} to a file (got ${url})` }] };
        }
        return { path: fromFileUrl(url) };
      });
    },
  };
}

const FREE = "__WGREC_FREE_DENO__";
const GLOBAL = "__WGREC_GLOBAL_DENO__";

/** Every `Deno` use in the bundle of `entry`, located in its source through the source map. */
export async function findDenoUses(entry: string = ENTRY): Promise<DenoUse[]> {
  const r = await esbuild.build({
    ...COMMON,
    entryPoints: [entry],
    outfile: join(ROOT, "dist/deno-check.js"),
    write: false,
    sourcemap: "external",
    sourcesContent: false,
    define: { "globalThis.Deno": GLOBAL, "Deno": FREE },
  });
  const js = r.outputFiles.find((f) => f.path.endsWith(".js"))!;
  const map = JSON.parse(r.outputFiles.find((f) => f.path.endsWith(".map"))!.text);
  const lookup = sourceMapLookup(map);
  const uses: DenoUse[] = [];
  js.text.split("\n").forEach((text, line) => {
    for (const [marker, kind] of [[FREE, "free"], [GLOBAL, "globalThis"]] as const) {
      for (let col = text.indexOf(marker); col >= 0; col = text.indexOf(marker, col + 1)) {
        const at = lookup(line, col);
        const source = at
          ? relative(ROOT, join(dirname(js.path), at.source)).replaceAll("\\", "/")
          : "?";
        uses.push({
          kind,
          source,
          line: at ? at.line + 1 : 0,
          allowed: kind === "globalThis" && source in GUARDED_DENO,
        });
      }
    }
  });
  return uses;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * A source map v3 lookup: (generated line, column) → (source, original line), both 0-based,
 * from the last mapping segment at or before the column.
 */
export function sourceMapLookup(
  map: { sources: string[]; mappings: string },
): (line: number, col: number) => { source: string; line: number } | null {
  const lines: number[][][] = [];
  let src = 0, oLine = 0, oCol = 0;
  for (const l of map.mappings.split(";")) {
    const segs: number[][] = [];
    let gCol = 0;
    for (const s of l.split(",")) {
      if (!s) continue;
      const v: number[] = [];
      let shift = 0, acc = 0;
      for (const ch of s) {
        const d = B64.indexOf(ch);
        acc += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          v.push(acc & 1 ? -(acc >>> 1) : acc >>> 1);
          acc = shift = 0;
        }
      }
      gCol += v[0];
      if (v.length >= 4) {
        src += v[1];
        oLine += v[2];
        oCol += v[3];
        segs.push([gCol, src, oLine]);
      }
    }
    lines.push(segs);
  }
  return (line, col) => {
    let best: number[] | null = null;
    for (const s of lines[line] ?? []) if (s[0] <= col) best = s;
    return best ? { source: map.sources[best[1]], line: best[2] } : null;
  };
}

async function record(report: BundleReport): Promise<void> {
  const jsonPath = join(ROOT, "bench/results/bundle.json");
  const old = await Deno.readTextFile(jsonPath).catch(() => "");
  // Rows of other checkouts measured earlier stay until measured again.
  const earlier = ((old ? JSON.parse(old).app : null) ?? []) as AppBundle[];
  const kept = earlier.filter((a) =>
    !a.label.startsWith("this checkout") && !report.app.some((b) => b.commit === a.commit)
  );
  const r = { ...report, app: [...kept, ...report.app] };
  const size = (p: string) => r.files.find((f) => f.path === p)!;
  const row = (p: string, what: string) => {
    const f = size(p);
    return `| \`${p}\` | ${what} | ${f.bytes} (${kb(f.bytes)}) | ${f.gzip} (${kb(f.gzip)}) |`;
  };
  const md = [
    "# Browser bundle sizes",
    "",
    `Measured by \`deno task bundle\` (examples/bundle.ts) with esbuild ${r.esbuild}: ES module,`,
    "platform browser, target es2022, UTF-8 output, linked source maps with sources inlined.",
    `The library bundle holds ${r.modules} modules (examples/browser/entry.ts: all of mod.ts plus`,
    "the browser-safe parts of src/data, src/metrics and src/io) and every WGSL kernel as text.",
    "gzip is Node's zlib at level 9 (what `gzip -9` gives, minus the header).",
    "",
    "| file | what | bytes | gzip -9 bytes |",
    "|---|---|---|---|",
    row("dist/wgrec.js", "library, readable"),
    row("dist/wgrec.min.js", "library, minified"),
    row("dist/wgrec.js.map", "source map of wgrec.js"),
    row("dist/wgrec.min.js.map", "source map of wgrec.min.js"),
    row("examples/browser/dist/main.js", "demo page script (+ wgpu-matrix), imports the library"),
    row("examples/browser/dist/kernels.js", "kernel-check page script, imports the library"),
    "",
    "## An app that imports the core and one model family",
    "",
    "`examples/bundle.ts` builds, minified, an app that imports `init` and `tensor` from mod.ts",
    "and LightGCN from its family entry `src/models/lightgcn/mod.ts` (before the per-family",
    "entries: the same three names from mod.ts, where everything was exported flat), and counts",
    "the repository's WGSL files whose text the bundle embeds. A recorded op carries its family's",
    "gradient rule (no global table at run time) and every kernel spec is a pure call, so the",
    "bundle keeps only the kernels of the ops the app can reach.",
    "",
    "| checkout | commit | bytes | gzip -9 bytes | modules | WGSL files embedded |",
    "|---|---|---|---|---|---|",
    ...r.app.map((a) =>
      `| ${a.label} | ${a.commit} ${a.subject.replaceAll("|", "\\|")} | ${a.bytes} ` +
      `(${kb(a.bytes)}) | ${a.gzip} (${kb(a.gzip)}) | ${a.modules} | ${a.kernels} of ` +
      `${a.kernelsTotal} |`
    ),
    "",
    "`Deno` reads left in the library bundle (accepted; any other use fails the build):",
    "",
    ...(r.denoUses.length
      ? r.denoUses.map((u) =>
        `- \`${u.source}:${u.line}\` reads \`globalThis.Deno\`: ${GUARDED_DENO[u.source]}.`
      )
      : ["- none"]),
    "",
  ].join("\n");
  const json = JSON.stringify(
    { esbuild: r.esbuild, modules: r.modules, files: r.files, app: r.app },
    null,
    2,
  ) + "\n";
  // Only a changed number rewrites the tracked files (a new commit alone does not).
  const numbers = (text: string) =>
    JSON.stringify(JSON.parse(text), (k, v) => (k === "commit" || k === "subject" ? undefined : v));
  const mdPath = join(ROOT, "bench/results/bundle.md");
  if (old && numbers(old) === numbers(json) && await exists(mdPath)) {
    console.log("bench/results/bundle.{md,json}: sizes unchanged, not rewritten");
    return;
  }
  await Deno.mkdir(join(ROOT, "bench/results"), { recursive: true });
  await Deno.writeTextFile(mdPath, md);
  await Deno.writeTextFile(jsonPath, json);
  // Keep the written files as `deno fmt` would (the repository checks formatting).
  const written = ["bench/results/bundle.md", "bench/results/bundle.json"].map((p) =>
    join(ROOT, p)
  );
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", ...written] }).output();
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--app-before");
  const appBefore = at >= 0 ? Deno.args[at + 1] : undefined;
  try {
    await build({ record: Deno.args.includes("--write"), appBefore });
    if (!Deno.args.includes("--write")) {
      console.log("(not recorded: `deno task bundle --write` updates bench/results/bundle.*)");
    }
  } finally {
    await esbuild.stop();
  }
}
