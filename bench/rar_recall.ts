// RAR's recall stage on real data: how many of the later clicks (label-1 rows of the valid and
// test splits of a MovieLens CTR folder) the per-user recall lists built from the training rows
// contain, for item-CF, the two-tower (in-batch InfoNCE), both interleaved, and a popularity
// list as the floor. Run: deno run -A bench/rar_recall.ts DIR [N] [epochs]
import { init } from "../internal.ts";
import { loadMovieLensCtr } from "../src/data/ctr_files.ts";
import type { CtrData } from "../src/data/ctr.ts";
import {
  itemCfRecall,
  mergeRecall,
  positives,
  type RecallLists,
  twoTowerRecall,
} from "../src/models/rar/recall.ts";

await init();
const dir = Deno.args[0] ?? "../shared/data/ml-100k";
const N = Number(Deno.args[1] ?? 50);
const epochs = Number(Deno.args[2] ?? 10);
const data = await loadMovieLensCtr(dir);
if (!data) throw new Error(`bench/rar_recall: no MovieLens RecBole files in ${dir}`);
const p = positives(data.train, "user_id", "item_id");

/** Share of the later positives (valid + test, items seen in training) found in the lists. */
function hitRate(l: RecallLists): number {
  let hit = 0, all = 0;
  for (const t of [data!.valid, data!.test] as CtrData[]) {
    const nf = t.sparseNames.length;
    const ui = t.sparseNames.indexOf("user_id");
    const ii = t.sparseNames.indexOf("item_id");
    for (let r = 0; r < t.numRows; r++) {
      const it = t.sparse[r * nf + ii];
      if (t.labels[r] !== 1 || it === 0) continue;
      const u = t.sparse[r * nf + ui];
      all++;
      if (l.ids.subarray(u * N, u * N + N).includes(it)) hit++;
    }
  }
  return hit / Math.max(1, all);
}

const count = new Float64Array(p.items);
for (const l of p.pos) for (const i of l) count[i]++;
const top = Array.from({ length: p.items - 1 }, (_, j) => j + 1)
  .sort((a, b) => count[b] - count[a] || a - b).slice(0, N);
const pop: RecallLists = {
  users: p.users,
  length: N,
  ids: Int32Array.from({ length: p.users * N }, (_, t) => top[t % N]),
};
const t0 = performance.now();
const cf = itemCfRecall(p, N);
const cfMs = performance.now() - t0;
const t1 = performance.now();
const tt = await twoTowerRecall(p, { length: N, epochs });
const ttMs = performance.now() - t1;
const both = mergeRecall(tt, cf, N);
console.log(`${data.description}; lists of N = ${N}`);
console.log(`| recall | later clicks in the list | time |`);
console.log(`| popularity | ${hitRate(pop).toFixed(4)} | |`);
console.log(`| item-CF | ${hitRate(cf).toFixed(4)} | ${cfMs.toFixed(0)} ms |`);
console.log(
  `| two-tower (${epochs} epochs, final InfoNCE ${tt.loss.toFixed(3)}) | ` +
    `${hitRate(tt).toFixed(4)} | ${ttMs.toFixed(0)} ms |`,
);
console.log(`| both | ${hitRate(both).toFixed(4)} | |`);
console.log(`load ${Deno.loadavg().map((v) => v.toFixed(1)).join(", ")}`);
