/**
 * Gather / scatter-add / spmm / top-k timings on the current adapter.
 *
 * `deno bench -A bench/gather_bench.ts` runs the cases through Deno.bench.
 * `deno run -A bench/gather_bench.ts [--write]` times each case (median of 5 after a warm-up,
 * GPU work recorded then `runtime().sync()`) and with --write stores bench/results/gather.{md,json}.
 * @module
 */

import {
  bipartiteAdjacency,
  gather,
  indexTensor,
  init,
  normalizedUserItem,
  randNormal,
  runtime,
  scatterAdd,
  spmm,
  tidy,
  topk,
} from "../internal.ts";
import { Rng } from "../src/random.ts";

await init();

/** Zipf-like ids (a few very hot rows, as in embedding lookups). */
function zipfIds(n: number, v: number, seed: number): Int32Array {
  const r = new Rng(seed);
  return Int32Array.from({ length: n }, () => Math.min(v - 1, Math.floor(v ** r.uniform()) - 1));
}

const V = 50_000, D = 64, N = 8192;
const table = randNormal([V, D], 1);
const ids = indexTensor(zipfIds(N, V, 2), V);
const grad = randNormal([N, D], 3);
const U = 3000, I = 5000, E = 60_000;
const r = new Rng(4);
const adj = bipartiteAdjacency({
  users: Int32Array.from({ length: E }, () => Math.floor(r.uniform() * U)),
  items: Int32Array.from({ length: E }, () => Math.floor(r.uniform() * I)),
  numUsers: U,
  numItems: I,
});
const inter = {
  users: Int32Array.from({ length: E }, () => Math.floor(r.uniform() * U)),
  items: Int32Array.from({ length: E }, () => Math.floor(r.uniform() * I)),
  numUsers: U,
  numItems: I,
};
const ui = normalizedUserItem(inter);
const uiT = ui.transpose();
const h = randNormal([U + I, D], 5);
const hu = randNormal([U, D], 7);
const scores = randNormal([256, 20_000], 6);

const cases: Record<string, () => void> = {
  [`gather [${V}, ${D}] × ${N} ids`]: () => void gather(table, ids),
  [`scatterAdd ${N} × ${D} into ${V} rows (Zipf ids)`]: () => void scatterAdd(grad, ids, V),
  [`spmm LightGCN (U+I = ${U + I}, nnz ${adj.nnz}) × ${D}`]: () => void spmm(adj, h),
  [`spmm R̂ᵀ (GPU-built transpose, ${I}×${U}, nnz ${ui.nnz}) × ${D}`]: () => void spmm(uiT, hu),
  [`topk k=50 of [256, 20000]`]: () => void topk(scores, 50),
};

async function time(f: () => void): Promise<number> {
  tidy(f);
  await runtime().sync();
  const ts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    tidy(f);
    await runtime().sync();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[2];
}

if (import.meta.main) {
  const rows: { case: string; ms: number }[] = [];
  for (const [name, f] of Object.entries(cases)) {
    const ms = await time(f);
    rows.push({ case: name, ms });
    console.log(`${name}: ${ms.toFixed(2)} ms`);
  }
  if (Deno.args.includes("--write")) {
    const adapter = runtime().gpu.adapter.description || runtime().gpu.adapter.vendor;
    const md = [
      "# gather / scatter-add / spmm / top-k",
      "",
      `Adapter: ${adapter}. Median of 5 runs after a warm-up; each run records the op and waits`,
      "for the queue (`runtime().sync()`). Measured with `deno run -A bench/gather_bench.ts --write`",
      "on a machine whose 2 CPU cores (which run the software adapter) were shared with other jobs:",
      "expect ±50 % noise.",
      "",
      "| case | ms |",
      "|---|---|",
      ...rows.map((x) => `| ${x.case} | ${x.ms.toFixed(2)} |`),
      "",
    ].join("\n");
    await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
    await Deno.writeTextFile(new URL("./results/gather.md", import.meta.url), md);
    await Deno.writeTextFile(
      new URL("./results/gather.json", import.meta.url),
      JSON.stringify({ adapter, rows }, null, 2) + "\n",
    );
  }
} else {
  for (const [name, f] of Object.entries(cases)) {
    Deno.bench(name, async () => {
      tidy(f);
      await runtime().sync();
    });
  }
}
