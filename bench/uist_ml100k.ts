/**
 * UIST on MovieLens-100K as CTR (issue 17): the runner's ml-100k CTR rows (label rating ≥ 4,
 * time-ordered 8:1:1, a 10-item positive history per row). Stage A trains the item tokenizer
 * on item content (title words, genres, release year), Stage B the user tokenizer on each
 * user's training-split positive history over the exported item embeddings, Stage C the HMI
 * CTR model over the tokens, against the same DCN on the dense embeddings the tokens replace.
 * Every stage runs on the shared loop (`trainLoop`). Reports test AUC/LogLoss per seed and the
 * compression table.
 *
 *   deno run -A bench/uist_ml100k.ts [--data ../shared/data/ml-100k] [--seeds 1]
 *        [--tok-epochs 20] [--ctr-epochs 5] [--out bench/results/uist_ml100k.json]
 *        [--kmeans] [--dead-after 20] [--first-seed 11]
 * @module
 */

import { parseArgs } from "node:util";
import { init } from "../internal.ts";
import { CtrEncoder, movielensCtrTables } from "../src/data/ctr.ts";
import type { CtrSplits } from "../src/train/ctr.ts";
import { ctrTask } from "../src/train/ctr.ts";
import { trainLoop } from "../src/train/loop.ts";
import { compression, DenseCtr, UistCtr } from "../src/models/uist/mod.ts";
import { fitTokenizer, levelRows } from "../src/models/uist/pipeline.ts";

const { values: a } = parseArgs({
  args: Deno.args,
  options: {
    data: { type: "string", default: "../shared/data/ml-100k" },
    seeds: { type: "string", default: "1" },
    "tok-epochs": { type: "string", default: "20" },
    "ctr-epochs": { type: "string", default: "5" },
    out: { type: "string", default: "bench/results/uist_ml100k.json" },
    kmeans: { type: "boolean", default: false },
    "dead-after": { type: "string", default: "20" },
    "first-seed": { type: "string", default: "11" },
  },
});
await init();
const dir = a.data!;
const read = (e: string) => Deno.readTextFileSync(`${dir}/ml-100k.${e}`);
const ml = movielensCtrTables(read("inter"), read("item"), read("user"));
const enc = CtrEncoder.fit(ml.train, ml.schema, { labelThreshold: 4 });
const [train, valid, test] = [ml.train, ml.valid, ml.test].map((t) => enc.transform(t));
const data: CtrSplits = { name: "ml-100k", description: "ml-100k CTR", train, valid, test };
const uf = train.sparseNames.indexOf("user_id");
const itf = train.sparseNames.indexOf("item_id");
const userVocab = enc.vocabs[uf];
const itemVocab = enc.vocabs[itf];
const nu = userVocab.size, ni = itemVocab.size;
console.log(
  `${train.numRows}/${valid.numRows}/${test.numRows} rows, ${nu} user ids, ${ni} item ids`,
);

// Item content: title words, genres and year per raw item id → a word vocabulary.
const content = new Map<string, string[]>();
for (const line of read("item").split("\n").slice(1)) {
  const [id, title, year, cls] = line.split("\t");
  if (!id) continue;
  const words = (title ?? "").toLowerCase().match(/[a-z0-9']+/g) ?? [];
  content.set(id, [
    ...words,
    ...(cls ?? "").split(" ").filter(Boolean).map((g) => `g:${g}`),
    `y:${year}`,
  ]);
}
const words = new Map<string, number>([["<unk>", 0]]);
const itemSeqs: number[][] = itemVocab.tokens.map((raw, v) => {
  const toks = v === 0 ? ["<unk>"] : content.get(raw) ?? ["<unk>"];
  return toks.map((w) => words.get(w) ?? (words.set(w, words.size), words.size - 1));
});
// User histories: training rows' positive items in time order (rows are time-ordered).
const hist: number[][] = Array.from({ length: nu }, () => []);
for (let r = 0; r < train.numRows; r++) {
  if (train.labels[r] > 0) {
    hist[train.sparse[r * train.sparseNames.length + uf]].push(
      train.sparse[r * train.sparseNames.length + itf],
    );
  }
}
// A user without positives (and the OOV id) reads the OOV item: documented, not dropped.
const userSeqs = hist.map((h) => (h.length ? h.slice(-30) : [0]));

const D = 32, DEPTH = 3, NC = 3 * 32, HMI_D = 16;
const tokOpts = {
  dim: D,
  depth: DEPTH,
  numCodes: NC,
  epochs: Number(a["tok-epochs"]),
  kmeansInit: a.kmeans,
  deadAfter: Number(a["dead-after"]),
};
const runs: Record<string, unknown>[] = [];
for (let s = 0; s < Number(a.seeds); s++) {
  const seed = Number(a["first-seed"]) + s;
  const t0 = performance.now();
  const items = await fitTokenizer(itemSeqs, words.size, { ...tokOpts, seed });
  const users = await fitTokenizer(userSeqs, ni, {
    ...tokOpts,
    seed: seed + 100,
    inputTable: items.embeddings,
  });
  const k = NC / DEPTH;
  const distinct = (c: Int32Array) =>
    new Set(
      Array.from(
        { length: c.length / DEPTH },
        (_, r) => c.slice(r * DEPTH, r * DEPTH + DEPTH).join(),
      ),
    ).size;
  const ctrOpts = { epochs: Number(a["ctr-epochs"]), batchSize: 256, lr: 1e-3, patience: 2, seed };
  const uist = new UistCtr(
    { user: levelRows(users.codes, DEPTH, k), item: levelRows(items.codes, DEPTH, k) },
    { userLevels: DEPTH, itemLevels: DEPTH, userCodes: k, itemCodes: k, dim: HMI_D, seed },
    uf,
    itf,
  );
  const rU = await trainLoop(ctrTask(uist, data, "user_id"), ctrOpts);
  const dense = new DenseCtr(
    users.embeddings,
    items.embeddings,
    D,
    { embed: HMI_D, seed },
    uf,
    itf,
  );
  const rD = await trainLoop(ctrTask(dense, data, "user_id"), ctrOpts);
  const run = {
    seed,
    tokenizerLoss: { item: items.loss, user: users.loss },
    distinctCodes: {
      items: distinct(items.codes),
      itemRows: ni,
      users: distinct(users.codes),
      userRows: nu,
    },
    uist: rU.test,
    dense: rD.test,
    seconds: (performance.now() - t0) / 1000,
  };
  console.log(JSON.stringify(run));
  runs.push(run);
  for (const m of [uist, dense, items.tokenizer, users.tokenizer]) m.dispose();
}
const comp = compression({
  users: nu,
  items: ni,
  dim: D,
  userLevels: DEPTH,
  itemLevels: DEPTH,
  userCodes: NC / DEPTH,
  itemCodes: NC / DEPTH,
  hmiDim: HMI_D,
});
console.log(JSON.stringify(comp));
await Deno.writeTextFile(
  a.out!,
  JSON.stringify({ args: a, runs, compression: comp }, null, 1) + "\n",
);
