/**
 * Where kernels read their parameters (`InitOptions.params`, src/gpu/kernel.ts): a loop of small
 * linear layers ([32, 64] · [64, 256]ᵀ, one dispatch each, submitted one by one as a per-step
 * RNN would), with the `Params` block in a uniform buffer and in a read-only storage buffer, in
 * one process on the same adapter. On lavapipe (Mesa 22.3) the uniform case pays the driver's
 * per-dispatch uniform inlining (a fresh NIR clone and optimisation, often an LLVM compile).
 *
 * `deno run -A bench/params_binding.ts [--n=50]`
 * @module
 */

import * as wg from "../internal.ts";

const n = Number(Deno.args.find((a) => a.startsWith("--n="))?.slice(4) ?? 50);
const rows: string[] = [];
let adapter = "";
for (const params of ["uniform", "storage"] as const) {
  const rt = await wg.init({ params });
  adapter = rt.gpu.adapter.description;
  const x = wg.tensor(new Float32Array(32 * 64).fill(0.1), [32, 64]);
  const w = wg.tensor(new Float32Array(256 * 64).fill(0.1), [256, 64]);
  const loop = async (k: number) => {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) {
      wg.tidy(() => {
        wg.linear(x, w);
        rt.flush();
      });
    }
    await wg.linear(x, w).read();
    return (performance.now() - t0) / k;
  };
  const first = await loop(5); // pipeline compilation included
  const steady = await loop(n);
  rows.push(`| ${params} | ${first.toFixed(1)} | ${steady.toFixed(2)} |`);
  x.dispose();
  w.dispose();
}
console.log(`Adapter: ${adapter}; ${n} dispatches timed after 5 warm-up ones.\n`);
console.log("| params in | ms/dispatch, first 5 | ms/dispatch, steady |");
console.log("| --- | ---: | ---: |");
console.log(rows.join("\n"));
