// RAR look-alike selection at scale: Hamming top-k of Q query codes against 1M user codes of
// 64 bits (2 u32 words each, uniform random: SimHash codes of random vectors are uniform), on
// the GPU (hammingTopK: XOR-popcount tiles merged into a running top-k) against a plain
// TypeScript scan on the CPU for the first queries. Also SimHash encoding of 1M × d vectors,
// and for comparison exact inner-product top-k over 1M × d f32 vectors (RAR's `select=dot`:
// matmul tiles merged into a running top-k, `selectTopK`). Results must agree with the CPU.
// Run: deno run -A bench/rar_hamming.ts [queries] [k] [d]
import { init, readAll, tensor } from "../internal.ts";
import { hammingTopK, simhash, simhashPlanes } from "../src/ops/search/hashing.ts";
import { Rng } from "../src/random.ts";
import { randNormal } from "../src/tensor.ts";
import { selectTopK } from "../src/models/rar/select.ts";

await init();
const N = 1_000_000;
const W = 2; // 64 bits
const Q = Number(Deno.args[0] ?? 64);
const K = Number(Deno.args[1] ?? 10);
const CHECK = Math.min(Q, 4);
const rng = new Rng(18);
const db = Uint32Array.from({ length: N * W }, () => rng.u32());
const q = Uint32Array.from({ length: Q * W }, () => rng.u32());
const dbT = tensor(db, [N, W], "u32");
const qT = tensor(q, [Q, W], "u32");

const pop = (x: number) => {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
};
function cpu(i: number): number[] {
  const dist = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    dist[r] = pop((q[i * W] ^ db[r * W]) >>> 0) + pop((q[i * W + 1] ^ db[r * W + 1]) >>> 0);
  }
  const order = Array.from({ length: N }, (_, r) => r);
  // Partial: the K best by (distance, row).
  const best: number[] = [];
  for (const r of order) {
    if (best.length < K || dist[r] < dist[best[K - 1]]) {
      best.push(r);
      best.sort((a, b) => dist[a] - dist[b] || a - b);
      if (best.length > K) best.pop();
    }
  }
  return best;
}

async function gpuOnce(): Promise<{ ms: number; idx: Int32Array }> {
  const t0 = performance.now();
  const top = hammingTopK(qT, dbT, K);
  const [idx] = await readAll([top.indices]);
  const ms = performance.now() - t0;
  top.indices.dispose();
  top.distances.dispose();
  return { ms, idx: idx as Int32Array };
}

await gpuOnce(); // compile
const runs: number[] = [];
let last: Int32Array = new Int32Array(0);
for (let r = 0; r < 3; r++) {
  const g = await gpuOnce();
  runs.push(g.ms);
  last = g.idx;
}
const t0 = performance.now();
let equal = true;
for (let i = 0; i < CHECK; i++) {
  const ref = cpu(i);
  if (ref.join() !== [...last.subarray(i * K, i * K + K)].join()) equal = false;
}
const cpuMs = (performance.now() - t0) / CHECK;
const med = runs.sort((a, b) => a - b)[1];

// SimHash encoding of 1M × 16 vectors into 64 bits.
const d = 16;
const x = randNormal([N, d], 5);
const planes = simhashPlanes(d, 64, 7);
const enc = async () => {
  const t = performance.now();
  const c = simhash(x, planes);
  await readAll([c]);
  c.dispose();
  return performance.now() - t;
};
await enc();
const encMs = [await enc(), await enc(), await enc()].sort((a, b) => a - b)[1];

// Exact inner-product top-k over 1M × D f32 vectors (D = 16 unless given).
const D = Number(Deno.args[2] ?? 16);
const xv = Float32Array.from({ length: N * D }, () => rng.normal());
const qv = Float32Array.from({ length: Q * D }, () => rng.normal());
const xT = tensor(xv, [N, D]);
const qvT = tensor(qv, [Q, D]);
const dotOnce = async () => {
  const t = performance.now();
  const idx = selectTopK(qvT, xT, K, { method: "dot" });
  const [got] = await readAll([idx]);
  idx.dispose();
  return { ms: performance.now() - t, idx: got as Int32Array };
};
await dotOnce(); // compile
const dots = [await dotOnce(), await dotOnce(), await dotOnce()];
const dotMs = dots.map((r) => r.ms).sort((a, b) => a - b)[1];
const score = (i: number, r: number) => {
  let s = 0;
  for (let t = 0; t < D; t++) s = Math.fround(s + Math.fround(qv[i * D + t] * xv[r * D + t]));
  return s;
};
const t1 = performance.now();
let dotEqual = true;
for (let i = 0; i < CHECK; i++) {
  const best: number[] = []; // K best scores, descending
  for (let r = 0; r < N; r++) {
    const s = score(i, r);
    if (best.length < K || s > best[K - 1]) {
      best.push(s);
      best.sort((a, b) => b - a);
      if (best.length > K) best.pop();
    }
  }
  // Compare the picked rows' scores (f32 near-ties may swap rows).
  const got = [...dots[0].idx.subarray(i * K, i * K + K)].map((r) => score(i, r));
  if (got.some((s, j) => Math.abs(s - best[j]) > 1e-4)) dotEqual = false;
}
const dotCpuMs = (performance.now() - t1) / CHECK;

const load = Deno.loadavg().map((v) => v.toFixed(1)).join(", ");
console.log(
  `| ${N} × 64 bits | Q = ${Q}, k = ${K} | GPU ${med.toFixed(0)} ms ` +
    `(${((Q * N) / med / 1e3).toFixed(1)} M distances/s, ${
      (Q / med * 1e3).toFixed(1)
    } queries/s) | ` +
    `CPU scan ${cpuMs.toFixed(0)} ms/query | top-${K} equal on ${CHECK} queries: ${equal} | ` +
    `SimHash 1M × ${d} → 64 bits ${encMs.toFixed(0)} ms | load ${load} |`,
);
console.log(
  `| ${N} × ${D} f32 (inner product) | Q = ${Q}, k = ${K} | GPU ${dotMs.toFixed(0)} ms ` +
    `(${((Q * N) / dotMs / 1e3).toFixed(1)} M scores/s, ${(Q / dotMs * 1e3).toFixed(1)} ` +
    `queries/s) | CPU scan ${dotCpuMs.toFixed(0)} ms/query | top-${K} scores equal on ${CHECK} ` +
    `queries: ${dotEqual} |`,
);
if (!equal || !dotEqual) Deno.exit(1);
