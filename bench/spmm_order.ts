/**
 * Row order of the spmm kernel on the ML-1M-shaped graph of the step benchmark (LightGCN's
 * normalised adjacency, 9,065 rows, 1.59 M entries, d = 64): the library's order (rows by
 * length in groups of 8, groups bit-reversed over the dispatch, 64 columns per invocation on
 * software adapters) against rows by length alone, natural order with 64 columns, and natural
 * order with 16 columns (the previous default). Variants take turns, one repetition each, in
 * one process; wall ms per product (10 products, one readback) and CPU ms of the driver threads
 * (`workerCpuMs`: on lavapipe the threads that run shaders), whose ratio is the number of
 * threads busy.
 *
 * `deno run -A bench/spmm_order.ts [--reps=5] [--out=bench/results/spmm_order]`
 * @module
 */
import { parseArgs } from "node:util";
import { init, readAll, tensor } from "../src/tensor.ts";
import { bipartiteAdjacency } from "../src/ops/sparse/sparse.ts";
import { setSpmmColumnQuads, spmm, spmmCsr } from "../src/ops/sparse/spmm.ts";
import { loadAverage, markdownTable, summarize, workerCpuMs, writeReport } from "./harness.ts";
import { mlShapedGraph } from "./step_bench.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { reps: { type: "string", default: "5" }, out: { type: "string" } },
});
const rt = await init();
const A = bipartiteAdjacency(mlShapedGraph());
const m = A.shape[0];
const X = tensor(Float32Array.from({ length: m * 64 }, (_, i) => Math.sin(i)), [m, 64]);

const [ptr] = await readAll([A.rowPtr]);
const len = (r: number) => ptr[r + 1] - ptr[r];
const byLength = tensor(
  Int32Array.from({ length: m }, (_, r) => r).sort((a, b) => len(b) - len(a) || a - b),
  [m],
  "i32",
);
// Rows by length, not spread over the dispatch (an order the library does not build).
const sortedOnly = () => spmmCsr(A, X, { order: byLength });
const viaLibrary = (cv: 4 | 16 | null, ordered: boolean | null) => () => {
  setSpmmColumnQuads(cv, ordered);
  try {
    return spmm(A, X);
  } finally {
    setSpmmColumnQuads(null);
  }
};
const variants = [
  ["balanced order, 64 columns (default)", viaLibrary(null, null)],
  ["by length only, 64 columns", sortedOnly],
  ["natural order, 64 columns", viaLibrary(16, false)],
  ["natural order, 16 columns (previous default)", viaLibrary(4, false)],
] as const;

const [ref] = await readAll([variants[0][1]()]);
for (const [name, f] of variants) {
  const [y] = await readAll([f()]);
  if (!y.every((v, i) => v === ref[i])) throw new Error(`${name}: a different product`);
}

const N = 10;
const load0 = loadAverage();
const runs = variants.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
for (let rep = 0; rep < Number(args.reps); rep++) {
  for (const [v, [, f]] of variants.entries()) {
    const c0 = workerCpuMs() ?? 0;
    const t0 = performance.now();
    for (let i = 0; i < N - 1; i++) f().dispose();
    await readAll([f()]);
    runs[v].wall.push((performance.now() - t0) / N);
    runs[v].cpu.push(((workerCpuMs() ?? 0) - c0) / N);
  }
}
const base = summarize(runs[0].wall).median;
const rows = variants.map(([name], v) => {
  const w = summarize(runs[v].wall), c = summarize(runs[v].cpu);
  return [
    name,
    `${w.median.toFixed(1)} (${w.min.toFixed(1)}–${w.max.toFixed(1)})`,
    c.median.toFixed(1),
    (c.median / w.median).toFixed(2),
    `${(w.median / base).toFixed(2)}×`,
  ];
});
const adapter = rt.gpu.adapter.description;
const md = [
  "# spmm row order on a software adapter",
  "",
  `Adapter: ${adapter}; ${navigator.hardwareConcurrency} CPU threads; load average ${
    load0?.join(" ")
  } ` +
  `before, ${loadAverage()?.join(" ")} after.`,
  "",
  "Command: `deno run -A bench/spmm_order.ts" +
  (Deno.args.length ? " " + Deno.args.join(" ") : "") +
  "`",
  "",
  `LightGCN's normalised adjacency of the step benchmark's ML-1M-shaped graph (${m} rows, ` +
  `${A.nnz} entries, power-law degrees) times a ${m} × 64 matrix; all variants give the same ` +
  `bits. ${args.reps} turns of ${N} products each; medians (min–max).`,
  "",
  markdownTable(
    ["row order", "wall ms / product", "driver CPU ms", "threads busy", "time vs default"],
    rows,
  ),
].join("\n");
console.log(md);
if (args.out) await writeReport(args.out, md, { adapter, reps: Number(args.reps), runs });
