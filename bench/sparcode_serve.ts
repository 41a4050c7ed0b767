/**
 * SparCode serving benchmark (issue 17): the GPU inverted index (build: count + scan + fill;
 * serve: posting-list scatter-add + top-50) against brute-force two-tower top-50 (matmul of
 * d = 32 user and item vectors + top-50) on synthetic catalogues of 100k and 1M items.
 *
 * The index holds N^M = 256 code ids (N = 16, M = 2) × I items of a synthetic table
 * `T = ReLU(z − τ)`, z = a_c·b_i/4 ≈ N(0, 1) from random 16-d code and item vectors (a matmul
 * per chunk on the GPU), τ set for a given density (default 2%);
 * queries carry K = 4 random code ids. Build time includes computing the table chunks.
 *
 *   deno run -A bench/sparcode_serve.ts [--items 100000,1000000] [--batch 64] [--density 0.02]
 *        [--reps 5] [--out bench/results/sparcode_serve.json]
 * @module
 */

import { parseArgs } from "node:util";
import { init, noGrad, randNormal, tensor, tidy } from "../internal.ts";
import { affine, relu } from "../src/ops/core/elementwise.ts";
import { matmul } from "../src/ops/matmul/matmul.ts";
import { slice } from "../src/ops/core/shape.ts";
import { topk } from "../src/ops/search/topk.ts";
import { Rng } from "../src/random.ts";
import { buildIndex, disposeIndex, indexBytes, serveTopK } from "../src/models/sparcode/index.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    items: { type: "string", default: "100000,1000000" },
    batch: { type: "string", default: "64" },
    density: { type: "string", default: "0.02" },
    reps: { type: "string", default: "5" },
    out: { type: "string", default: "bench/results/sparcode_serve.json" },
  },
});
const rt = await init();
const B = Number(a.batch), K = 4, D = 32, TOPK = 50, reps = Number(a.reps);
const space = { codesPerSpace: 16, subspaces: 2 };
const C = 256;
// τ with P(z > τ) = density (normal tail, bisection on erfc).
const dens = Number(a.density);
const tail = (t: number) => 0.5 * erfc(t / Math.SQRT2);
let lo = -5, hi = 8;
for (let i = 0; i < 60; i++) {
  [lo, hi] = tail((lo + hi) / 2) > dens ? [(lo + hi) / 2, hi] : [lo, (lo + hi) / 2];
}
const tau = (lo + hi) / 2;

function erfc(x: number): number {
  // Numerical Recipes erfc (|error| < 1.2e-7).
  const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(
    -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
                      t *
                        (0.27886807 +
                          t *
                            (-1.13520398 +
                              t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
  );
  return x >= 0 ? r : 2 - r;
}

async function time(fn: () => Promise<void>): Promise<number[]> {
  await fn();
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1];

const rows: Record<string, number | string>[] = [];
for (const I of a.items!.split(",").map(Number)) {
  const rng = new Rng(I);
  await rt.sync();
  const t0 = performance.now();
  // z = a_c · b_i / 4 with a, b ~ N(0, I_16): ≈ N(0, 1), computed on the GPU chunk by chunk.
  const codeVecs = randNormal([C, 16], 11);
  const itemVecs = randNormal([I, 16], 13);
  const index = await buildIndex(
    (c0, n) =>
      relu(
        affine(matmul(slice(codeVecs, [c0, 0], [n, 16]), itemVecs, { transB: true }), 0.25, -tau),
      ),
    space,
    I,
  );
  await rt.sync();
  const build = (performance.now() - t0) / 1000;
  const ids = tensor(Int32Array.from({ length: B * K }, () => rng.int(C)), [B, K], "i32");
  const serve = await time(async () => {
    const top = tidy(() => serveTopK(index, ids, TOPK).indices);
    await top.read();
    top.dispose();
  });
  const users = randNormal([B, D], 3);
  const items = randNormal([I, D], 5);
  const brute = await time(async () => {
    // Query chunks whose score rows fit one storage binding, as serveTopK does.
    const step = Math.max(1, Math.floor(2 ** 25 / I));
    const tops = [];
    for (let q0 = 0; q0 < B; q0 += step) {
      const n = Math.min(step, B - q0);
      const u = slice(users, [q0, 0], [n, D]);
      tops.push(noGrad(() => tidy(() => topk(matmul(u, items, { transB: true }), TOPK).indices)));
    }
    for (const t of tops) {
      await t.read();
      t.dispose();
    }
  });
  const row = {
    items: I,
    nnz: index.nnz,
    density: index.nnz / (C * I),
    indexMiB: +(indexBytes(index) / 2 ** 20).toFixed(1),
    itemVectorsMiB: +((I * D * 4) / 2 ** 20).toFixed(1),
    buildSeconds: +build.toFixed(2),
    serveMs: +median(serve).toFixed(1),
    serveQps: Math.round((B * 1000) / median(serve)),
    twoTowerMs: +median(brute).toFixed(1),
    twoTowerQps: Math.round((B * 1000) / median(brute)),
  };
  console.log(JSON.stringify(row));
  rows.push(row);
  disposeIndex(index);
  codeVecs.dispose();
  itemVecs.dispose();
  users.dispose();
  items.dispose();
  ids.dispose();
}
await Deno.writeTextFile(
  a.out!,
  JSON.stringify({ args: a, batch: B, tokens: K, dim: D, codes: C, tau, rows }, null, 1) + "\n",
);
