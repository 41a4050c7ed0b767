// The survey's adaptation comparison on ml-100k (bench/results/adapt.md): TextRec over one
// pretrained encoder (a textmlm run on ml-100k.item, "title year genres"), each strategy ×
// seed trained through the runner in this one process (pipelines compile once), then:
// trainable/total parameters, training seconds (the epochs' own, evaluation excluded), and
// peak GPU memory: the pool is trimmed before each cell, and it keeps every buffer it
// allocates, so memory().liveBytes + pooledBytes at the cell's end is its high-water mark.
// Rows go to OUT/rows.jsonl as they finish; the table is printed and written at the end.
//
//   deno task train --model textmlm --data ../shared/data/ml-100k \
//     --set text=../shared/data/ml-100k/ml-100k.item --set maxLength=16 --out runs/textmlm-items
//   deno run -A bench/adapt_table.ts --epochs 2 --seeds 999,1000,1001 --out runs/adapt \
//     [--adapt frozen,finetune,adapter,prefix,lora] [--set key=value …]
import { init, memory, runtime } from "../src/tensor.ts";
import { trainRun } from "../src/runner/run.ts";
import { trainableParameters } from "../src/nn/adapt.ts";
import { ADAPT_STRATEGIES } from "../src/nn/adapt_strategy.ts";
import type { Module } from "../src/nn/module.ts";
import "../src/runner/models.ts";

const arg = (k: string, d: string) => {
  const i = Deno.args.indexOf(`--${k}`);
  return i >= 0 ? Deno.args[i + 1] : d;
};
const DATA = arg("data", "../shared/data/ml-100k");
const OUT = arg("out", "runs/adapt");
const adapts = arg("adapt", ADAPT_STRATEGIES.join(",")).split(",");
const seeds = arg("seeds", "999,1000,1001").split(",");
const sets: Record<string, string> = {
  text: `${DATA}/ml-100k.item`,
  encoder: "runs/textmlm-items/model.safetensors",
  maxLength: "16",
  epochs: arg("epochs", "2"),
};
Deno.args.forEach((a, i) => {
  if (a !== "--set") return;
  const [k, v] = Deno.args[i + 1].split("=");
  sets[k] = v;
});

interface Row {
  adapt: string;
  seed: number;
  trainable: number;
  total: number;
  trainSeconds: number;
  peakBytes: number;
  test: Record<string, number>;
  bestEpoch: number;
}

await init();
await Deno.mkdir(OUT, { recursive: true });
const rows: Row[] = [];
for (const seed of seeds) {
  for (const adapt of adapts) {
    runtime().trim();
    const out = `${OUT}/${adapt}-${seed}`;
    const r = await trainRun(
      {
        model: "textrec",
        data: DATA,
        layers: [["bench/adapt_table.ts", { ...sets, adapt, seed }]],
      },
      { out, keepModel: true, log: (l) => console.error(l) },
    );
    const m = memory();
    const row: Row = {
      adapt,
      seed: Number(seed),
      ...trainableParameters(r.model as Module),
      trainSeconds: r.fit.history.reduce((a, e) => a + e.seconds, 0),
      peakBytes: m.liveBytes + m.pooledBytes,
      test: r.fit.test,
      bestEpoch: r.fit.bestEpoch,
    };
    (r.model as Module).dispose();
    rows.push(row);
    console.log(JSON.stringify(row));
    await Deno.writeTextFile(`${OUT}/rows.jsonl`, JSON.stringify(row) + "\n", { append: true });
  }
}

const stat = (v: number[], digits: number) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1
    ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1))
    : NaN;
  return `${m.toFixed(digits)}${v.length > 1 ? ` ± ${sd.toFixed(digits)}` : ""}`;
};
const lines = [
  "| adapt | seeds | trainable / total params | train s | peak MiB | test Recall@20 | test NDCG@20 |",
  "| --- | --: | --: | --: | --: | --: | --: |",
];
for (const a of adapts) {
  const rs = rows.filter((r) => r.adapt === a);
  if (!rs.length) continue;
  lines.push(
    `| ${a} | ${rs.length} | ${rs[0].trainable.toLocaleString("en")} / ${
      rs[0].total.toLocaleString("en")
    } | ${stat(rs.map((r) => r.trainSeconds), 0)} | ${
      stat(rs.map((r) => r.peakBytes / 2 ** 20), 1)
    } | ${stat(rs.map((r) => r.test["recall@20"]), 4)} | ${
      stat(rs.map((r) => r.test["ndcg@20"]), 4)
    } |`,
  );
}
console.log(lines.join("\n"));
await Deno.writeTextFile(`${OUT}/table.md`, lines.join("\n") + "\n");
