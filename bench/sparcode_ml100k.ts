/**
 * SparCode vs two-tower vs all-to-all on MovieLens-100K (issue 17): the runner's ml-100k
 * retrieval data (ratings ≥ 4, per-user chronological 8:1:1), the shared training loop
 * (`trainLoop`) on BPR triples for all three, full ranking over every item with training items
 * masked (P/R/NDCG@50 as the paper), selection on valid Recall@50, mean ± std over seeds.
 * SparCode is also served from its GPU inverted index after training, and the index's top-50
 * is checked against the dense brute force of the same quantised model.
 *
 *   deno run -A bench/sparcode_ml100k.ts [--data ../shared/data/ml-100k] [--seeds 3]
 *        [--epochs 30] [--models sparcode,twotower,alltoall] [--out bench/results/sparcode_ml100k.json]
 * @module
 */

import { parseArgs } from "node:util";
import { init, noGrad, tensor, tidy } from "../internal.ts";
import { loadRetrievalData } from "../src/runner/data.ts";
import { trainData } from "../src/train/fit.ts";
import { trainLoop } from "../src/train/loop.ts";
import {
  AllToAll,
  disposeIndex,
  indexBytes,
  type PairwiseScorer,
  pairwiseTask,
  SparCode,
  TwoTower,
} from "../src/models/sparcode/mod.ts";
import { topk } from "../src/ops/search/topk.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string", default: "../shared/data/ml-100k" },
    seeds: { type: "string", default: "3" },
    epochs: { type: "string", default: "30" },
    models: { type: "string", default: "twotower,sparcode,alltoall" },
    out: { type: "string", default: "bench/results/sparcode_ml100k.json" },
    lr: { type: "string", default: "0.003" },
    "bias-init": { type: "string", default: "1" },
    sparsity: { type: "string", default: "0.1" },
    "first-seed": { type: "string", default: "999" },
  },
});
await init();
const data = await loadRetrievalData(a.data);
const td = trainData(data.split);
const { numUsers, numItems } = data.split.train;
console.log(data.description);
const ks = [10, 20, 50];
const results: Record<string, Record<string, number>[]> = {};
const extra: Record<string, unknown>[] = [];
for (const name of a.models!.split(",")) {
  for (let s = 0; s < Number(a.seeds); s++) {
    const seed = Number(a["first-seed"]) + s;
    const model: PairwiseScorer = name === "sparcode"
      ? new SparCode(numUsers, numItems, {
        seed,
        biasInit: Number(a["bias-init"]),
        sparsity: Number(a.sparsity),
      })
      : name === "twotower"
      ? new TwoTower(numUsers, numItems, { seed })
      : new AllToAll(numUsers, numItems, { seed });
    const res = await trainLoop(pairwiseTask(model, td, ks), {
      epochs: Number(a.epochs),
      batchSize: 1024,
      lr: Number(a.lr),
      evalEvery: 2,
      patience: 5,
      validMetric: "recall@50",
      seed,
    });
    console.log(
      `${name} seed ${seed}: best epoch ${res.bestEpoch}, ${res.seconds.toFixed(0)} s, test`,
      JSON.stringify(res.test),
    );
    (results[name] ??= []).push(res.test);
    if (model instanceof SparCode) {
      // Serve every user from the inverted index; compare with the dense brute force.
      const t0 = performance.now();
      const index = await model.buildIndex();
      const build = (performance.now() - t0) / 1000;
      const users = tensor(Int32Array.from({ length: numUsers }, (_, u) => u), [numUsers], "i32");
      const [same, total] = await tidy(async () => {
        const ids = noGrad(() => model.userCodeIds(users));
        const { serveTopK, denseScores } = await import("../src/models/sparcode/index.ts");
        const served = serveTopK(index, ids, 50);
        const dense = topk(noGrad(() => denseScores(model.fullTable(), ids)), 50);
        const [si, di] = [await served.indices.read(), await dense.indices.read()];
        let eq = 0;
        for (let j = 0; j < si.length; j++) if (si[j] === di[j]) eq++;
        return [eq, si.length];
      });
      const codes = numUsers * model.cfg.tokens;
      extra.push({
        seed,
        nnz: index.nnz,
        density: index.nnz / (model.cfg.codes ** model.cfg.subspaces * numItems),
        indexMiB: indexBytes(index) / 2 ** 20,
        buildSeconds: build,
        top50Agreement: same / total,
        userCodes: codes,
      });
      console.log("index", JSON.stringify(extra.at(-1)));
      disposeIndex(index);
    }
    model.dispose();
  }
}
const summary: Record<string, Record<string, string>> = {};
for (const [name, runs] of Object.entries(results)) {
  summary[name] = {};
  for (const key of Object.keys(runs[0])) {
    const v = runs.map((r) => r[key]);
    const m = v.reduce((x, y) => x + y, 0) / v.length;
    const sd = Math.sqrt(v.reduce((x, y) => x + (y - m) ** 2, 0) / Math.max(1, v.length - 1));
    summary[name][key] = `${m.toFixed(4)} ± ${sd.toFixed(4)}`;
  }
}
console.log(JSON.stringify(summary, null, 1));
await Deno.writeTextFile(
  a.out!,
  JSON.stringify({ args: a, data: data.description, results, summary, index: extra }, null, 1) +
    "\n",
);
