// RAT retrieval throughput: queries/s over a 100k-row DB on the GPU (ratRetrieve: field match
// × IDF, running top-5) against the same retrieval written plainly in TypeScript on the CPU,
// on the same random table (F = 6 fields with vocabularies 1000, 1700, 2, 7, 21, 400, like the
// ML-100K CTR fields). Results must agree. Run: deno run -A bench/rat_retrieval.ts [queries]
import { init, tensor } from "../internal.ts";
import { ratRetrieve } from "../src/models/rat/retrieve.ts";
import { Rng } from "../src/random.ts";

// --params=uniform|storage: where kernels read their parameters (bench/results/params_binding.md).
const params = Deno.args.find((a) => a.startsWith("--params="))?.slice(9);
await init({ params: params as "uniform" | "storage" | undefined });
const N = 100_000;
const Q = Number(Deno.args.find((a) => !a.startsWith("--")) ?? 256);
const K = 5;
const vocab = [1000, 1700, 2, 7, 21, 400];
const F = vocab.length;
const rng = new Rng(3);
const db = Int32Array.from({ length: N * F }, (_, i) => rng.u32() % vocab[i % F]);
const q = Int32Array.from({ length: Q * F }, (_, i) => rng.u32() % vocab[i % F]);

/** Plain TypeScript: IDF counts, then per query a full scan with a running top-k. */
function cpu(): Int32Array {
  const cnt = vocab.map((v) => new Int32Array(v));
  for (let r = 0; r < N; r++) for (let f = 0; f < F; f++) cnt[f][db[r * F + f]]++;
  const out = new Int32Array(Q * K).fill(-1);
  const w = new Float32Array(F);
  const bs = new Float32Array(K);
  for (let i = 0; i < Q; i++) {
    for (let f = 0; f < F; f++) {
      const c = cnt[f][q[i * F + f]];
      w[f] = c > 0 ? Math.fround(Math.log(N / c)) : 0;
    }
    bs.fill(-Infinity);
    const bi = out.subarray(i * K, i * K + K);
    for (let r = 0; r < N; r++) {
      let s = 0;
      // f32 sums, as on the GPU (an f64 sum against f32-rounded kept scores breaks ties).
      for (let f = 0; f < F; f++) if (db[r * F + f] === q[i * F + f]) s = Math.fround(s + w[f]);
      if (s > 0 && s > bs[K - 1]) {
        let j = K - 1;
        while (j > 0 && s > bs[j - 1]) [bs[j], bi[j]] = [bs[j - 1], bi[j - 1]], j--;
        [bs[j], bi[j]] = [s, r];
      }
    }
  }
  return out;
}

const dbT = tensor(db, [N, F], "i32");
const qT = tensor(q, [Q, F], "i32");
await ratRetrieve(qT, dbT, K, { vocabSizes: vocab }).indices.read(); // warm-up (pipelines)
let t0 = performance.now();
const gpu = await ratRetrieve(qT, dbT, K, { vocabSizes: vocab }).indices.read();
const tg = (performance.now() - t0) / 1000;
t0 = performance.now();
const ref = cpu();
const tc = (performance.now() - t0) / 1000;
let same = 0;
for (let i = 0; i < Q * K; i++) same += gpu[i] === ref[i] ? 1 : 0;
console.log(
  `| ${Q} queries × ${N} rows, F = ${F}, K = ${K} | GPU ${(Q / tg).toFixed(0)} q/s | ` +
    `CPU ${(Q / tc).toFixed(0)} q/s | ${(tc / tg).toFixed(2)}× | ${same}/${Q * K} indices equal |`,
);
