// The MMRec comparison table on ml-100k from the runner's `--seeds` folders:
//
//   for m in alignrec lightgcn vbpr lattice freedom bm3 mgcn; do
//     deno task train --model $m --data ../shared/data/ml-100k --epochs 8 --set lr=0.005 \
//       --set evalEvery=2 --set ks=20 --seeds 3 --out runs/ml100k/$m
//   done
//   deno run -A bench/mmrec_table.ts runs/ml100k
//
// Prints test Recall/NDCG@20 (mean ± sample std over the seeds that finished), the best
// epochs and seconds per seed run.
const root = Deno.args[0] ?? "runs/ml100k";
const MODELS = ["alignrec", "lightgcn", "vbpr", "lattice", "freedom", "bm3", "mgcn"];
const stat = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1
    ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1))
    : NaN;
  return `${m.toFixed(4)}${v.length > 1 ? ` ± ${sd.toFixed(4)}` : ""}`;
};
console.log("| model | seeds | test Recall@20 | test NDCG@20 | best epochs | s per run |");
console.log("| --- | --: | --: | --: | --- | --: |");
for (const m of MODELS) {
  const runs: { test: Record<string, number>; bestEpoch: number; seconds: number }[] = [];
  try {
    for (const e of Deno.readDirSync(`${root}/${m}`)) {
      if (!e.isDirectory || !e.name.startsWith("seed-")) continue;
      try {
        runs.push(JSON.parse(Deno.readTextFileSync(`${root}/${m}/${e.name}/results.json`)));
      } catch { /* seed still running */ }
    }
  } catch {
    continue;
  }
  if (!runs.length) continue;
  const title = (runs[0] as unknown as { title: string }).title;
  console.log(
    `| ${title} | ${runs.length} | ${stat(runs.map((r) => r.test["recall@20"]))} | ${
      stat(runs.map((r) => r.test["ndcg@20"]))
    } | ${runs.map((r) => r.bestEpoch).join(", ")} | ${
      (runs.reduce((a, r) => a + r.seconds, 0) / runs.length).toFixed(0)
    } |`,
  );
}
