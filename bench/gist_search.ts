/**
 * GIST's lifelong source-sequence search: latency per request at 10k-long sequences.
 * A table of N joint embeddings (d = 32), requests whose users each have a sequence of L
 * source items, top-K by inner product on the GPU (`lifelongSearch`: gather, batched matmul,
 * running top-K, one readback per block), against the TypeScript scan (`lifelongSearchCpu`),
 * whose top-K it must equal.
 *
 * ```sh
 * deno run -A bench/gist_search.ts [--n 100000] [--len 10000] [--k 16] [--reps 5]
 * ```
 * @module
 */

import { init, tensor } from "../src/tensor.ts";
import { toCsr } from "../src/models/gist/data.ts";
import { lifelongSearch, lifelongSearchCpu } from "../src/models/gist/search.ts";
import { Rng } from "../src/random.ts";

const arg = (k: string, d: number) => {
  const i = Deno.args.indexOf(`--${k}`);
  return i >= 0 ? +Deno.args[i + 1] : d;
};
const N = arg("n", 100_000);
const L = arg("len", 10_000);
const K = arg("k", 16);
const reps = arg("reps", 5);
const d = 32;

const rt = await init();
const rng = new Rng(1);
const table = Float32Array.from({ length: N * d }, () => rng.normal());
const users = 64;
const seq = toCsr(Array.from({ length: users }, () => Array.from({ length: L }, () => rng.int(N))));
const tT = tensor(table, [N, d]);
console.log(
  `adapter: ${rt.gpu.adapter.description}; load ${
    Deno.loadavg().map((x) => x.toFixed(1)).join(" ")
  }; N = ${N}, d = ${d}, L = ${L}, K = ${K}`,
);
console.log("| requests per call | GPU ms / request | CPU scan ms / request | equal |");
console.log("| ---: | ---: | ---: | --- |");
for (const B of [1, 8, 64]) {
  const q = Float32Array.from({ length: B * d }, () => rng.normal());
  const qT = tensor(q, [B, d]);
  const u = Int32Array.from({ length: B }, (_, b) => b % users);
  let got = await lifelongSearch(tT, qT, seq, u, K); // warm-up (pipelines)
  let t = performance.now();
  for (let r = 0; r < reps; r++) got = await lifelongSearch(tT, qT, seq, u, K);
  const gpu = (performance.now() - t) / reps / B;
  t = performance.now();
  const ref = lifelongSearchCpu(table, d, q, seq, u, K);
  const cpu = (performance.now() - t) / B;
  const equal = got.every((v, i) => v === ref[i]);
  console.log(`| ${B} | ${gpu.toFixed(2)} | ${cpu.toFixed(2)} | ${equal} |`);
  qT.dispose();
}
tT.dispose();
