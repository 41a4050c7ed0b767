/**
 * Every matmul kernel variant on this adapter, at a few shapes: which family and block the
 * selection (src/ops/matmul/select.ts) should pick here. Wall clock to queue completion over
 * repetitions after a warm-up call (one submit per repetition).
 *
 *   deno run -A bench/matmul_variants.ts [--out=bench/results/matmul_variants]
 * @module
 */

import { init, type MatmulConfig, matmulWith, randNormal, runtime } from "../internal.ts";

const args = Object.fromEntries(
  Deno.args.map((a) => a.replace(/^--/, "").split("=")).map(([k, v]) => [k, v ?? "true"]),
);
await init();
const rt = runtime();
const adapter = rt.gpu.adapter.description;
const shapes = [
  { name: "1024³", m: 1024, n: 1024, k: 1024, transB: false },
  { name: "2048³", m: 2048, n: 2048, k: 2048, transB: false },
  { name: "4096×64·(4096×64)ᵀ", m: 4096, n: 4096, k: 64, transB: true },
  { name: "8192×256·256×256", m: 8192, n: 256, k: 256, transB: false },
];
const configs: MatmulConfig[] = [
  { family: "tiled", tr: 1 },
  { family: "tiled", tr: 2 },
  { family: "tiled", tr: 4 },
  { family: "regblock", rm: 1, rn: 1 },
  { family: "regblock", rm: 2, rn: 2 },
  { family: "regblock", rm: 2, rn: 4 },
  { family: "regblock", rm: 4, rn: 4 },
  { family: "regblock", rm: 8, rn: 8 },
];
const label = (c: MatmulConfig) =>
  c.family === "tiled" ? `tiled tr=${c.tr}` : `regblock ${c.rm}×${c.rn}`;
const rows: string[] = [];
const json: Record<string, Record<string, number>> = {};
for (const s of shapes) {
  const a = randNormal([s.m, s.k], 1);
  const b = randNormal(s.transB ? [s.n, s.k] : [s.k, s.n], 2);
  const flop = 2 * s.m * s.n * s.k;
  const cells: string[] = [];
  json[s.name] = {};
  for (const c of configs) {
    const reps = flop > 4e9 ? 3 : 8;
    matmulWith(c, a, b, { transB: s.transB }).dispose();
    await rt.sync();
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) {
      matmulWith(c, a, b, { transB: s.transB }).dispose();
      rt.flush();
    }
    await rt.sync();
    const ms = (performance.now() - t0) / reps;
    const gf = flop / ms / 1e6;
    json[s.name][label(c)] = gf;
    cells.push(gf.toFixed(1));
    console.log(`${s.name} ${label(c)}: ${gf.toFixed(1)} GFLOP/s (${ms.toFixed(2)} ms)`);
  }
  rows.push(`| ${s.name} | ${cells.join(" | ")} |`);
  a.dispose();
  b.dispose();
}
const md = [
  "# Matmul kernel variants on one adapter",
  "",
  `Adapter: **${adapter}**. \`deno run -A bench/matmul_variants.ts\`, ${new Date().toISOString()}.`,
  "GFLOP/s, wall clock to queue completion per repetition after a warm-up call.",
  "",
  `| shape | ${configs.map(label).join(" | ")} |`,
  `|---|${configs.map(() => "--:").join("|")}|`,
  ...rows,
  "",
].join("\n");
const out = args.out ?? "bench/results/matmul_variants";
await Deno.writeTextFile(`${out}.md`, md);
await Deno.writeTextFile(`${out}.json`, JSON.stringify({ adapter, gflops: json }, null, 2) + "\n");
console.log(md);
