// Encode-once (OLEO) against end-to-end training of the same news recommender on the same data
// (issue 19): accuracy, training time, stage-2 throughput and ApC for both paradigms.
//
//   deno run -A bench/oleo_compare.ts [--data ../shared/data/ml-100k | --mind DIR] \
//     [--model lstur] [--paradigms oleo,e2e,cache] [--epochs 2] [--stage1-epochs 4] \
//     [--watts 15] [--train-limit 0] [--scorer dot,dcn,deepfm,din] [--seeds 1] [--first-seed 1]
//     [--out bench/results/oleo.md]
//
// --scorer: stage-2 scoring (dot product or a CTR predictor, src/models/oleo/scorer.ts); with
// several, OLEO's stage 1 runs once per seed and every scorer trains over the same vectors.
// Energy = wall-clock seconds × --watts (the device's stated power; only ratios matter).
import { init } from "../src/tensor.ts";
import { trainLoop } from "../src/train/loop.ts";
import { impressionTask } from "../src/train/impression.ts";
import { accuracyPerCost, buildNewsModel, pretrainEncoder } from "../src/models/oleo/stage.ts";
import { mindData, ml100kNews, type NewsData } from "../src/models/oleo/data.ts";
import type { Paradigm } from "../src/models/oleo/model.ts";
import type { UserEncoderKind } from "../src/models/oleo/user_encoders.ts";
import type { ScorerKind } from "../src/models/oleo/scorer.ts";

const args = new Map<string, string>();
for (let i = 0; i < Deno.args.length; i += 2) {
  args.set(Deno.args[i].replace(/^--/, ""), Deno.args[i + 1]);
}
const get = (k: string, d: string) => args.get(k) ?? d;

await init();
let data: NewsData;
if (args.has("mind")) {
  const dir = get("mind", "");
  data = mindData({
    news: await Deno.readTextFile(`${dir}/train/news.tsv`),
    train: await Deno.readTextFile(`${dir}/train/behaviors.tsv`),
    dev: await Deno.readTextFile(`${dir}/dev/behaviors.tsv`),
  });
} else {
  const dir = get("data", "../shared/data/ml-100k");
  data = ml100kNews(
    await Deno.readTextFile(`${dir}/ml-100k.inter`),
    await Deno.readTextFile(`${dir}/ml-100k.item`),
  );
}
const limit = +get("train-limit", "0");
if (limit > 0) data = { ...data, train: data.train.slice(0, limit) };
const user = get("model", "lstur") as UserEncoderKind;
const epochs = +get("epochs", "2");
const watts = +get("watts", "15");
const stage1 = { epochs: +get("stage1-epochs", "4"), maxLength: +get("max-length", "16") };
console.log(data.description);

interface Row {
  paradigm: Paradigm;
  scorer: ScorerKind;
  seed: number;
  test: Record<string, number>;
  stage1: number;
  stage2: number;
  samplesPerSec: number;
}
const rows: Row[] = [];
const scorers = get("scorer", "dot").split(",") as ScorerKind[];
const seeds = Array.from({ length: +get("seeds", "1") }, (_, i) => +get("first-seed", "1") + i);
for (const seed of seeds) {
  // OLEO's encode-once vectors of this seed, shared by every scorer (stage-1 seed = seed − 1,
  // so seed 1 reproduces the earlier single-scorer table).
  let shared: { data: Float32Array; dim: number; seconds: number } | null = null;
  for (const paradigm of get("paradigms", "oleo,e2e").split(",") as Paradigm[]) {
    for (const scorer of scorers) {
      if (paradigm === "oleo" && scorers.length > 1 && !shared) {
        const t1 = performance.now();
        const s1 = await pretrainEncoder(data.itemText, { ...stage1, seed: seed - 1 }, console.log);
        const v = await s1.mlm.export();
        shared = {
          data: v,
          dim: s1.mlm.encoder.hidden,
          seconds: (performance.now() - t1) / 1000,
        };
        s1.mlm.dispose();
      }
      await run(paradigm, scorer, seed, paradigm === "oleo" ? shared : null);
    }
  }
}

async function run(
  paradigm: Paradigm,
  scorer: ScorerKind,
  seed: number,
  vectors: { data: Float32Array; dim: number; seconds: number } | null,
) {
  const t0 = performance.now();
  const built = await buildNewsModel(data, {
    userEncoder: user,
    paradigm,
    stage1: { ...stage1, seed: seed - 1 },
    vectors: vectors ?? undefined,
    model: { seed, scorer },
    log: console.log,
  });
  const { model } = built;
  const stage1Seconds = vectors ? vectors.seconds : built.stage1Seconds;
  const buildSeconds = (performance.now() - t0) / 1000 - (vectors ? 0 : stage1Seconds);
  const r = await trainLoop(impressionTask(model, data, 4), {
    epochs,
    batchSize: 64,
    lr: +get("lr", "1e-3"),
    seed,
    test: true,
    patience: 1000,
    onEpoch: (e) =>
      console.log(
        `${paradigm}/${scorer}/${seed} epoch ${e.epoch}: loss ${e.loss.toFixed(4)} ${
          e.seconds.toFixed(1)
        } s ` +
          JSON.stringify(e.valid ?? {}),
      ),
  });
  const train = r.history.reduce((a, e) => a + e.seconds, 0);
  rows.push({
    paradigm,
    scorer,
    seed,
    test: r.test,
    stage1: stage1Seconds,
    stage2: train + buildSeconds,
    samplesPerSec: r.samplesPerSec,
  });
  console.log(paradigm, JSON.stringify(rows.at(-1)));
  model.dispose();
}

const f = (x: number, d = 4) => x.toFixed(d);
const lines = [
  `| paradigm | scorer | seed | test AUC | MRR | nDCG@5 | nDCG@10 | stage 1 s | stage 2 s | total s | ` +
  `stage-2 samples/s | ApC (${watts} W) |`,
  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
];
for (const r of rows) {
  const total = r.stage1 + r.stage2;
  lines.push(
    `| ${r.paradigm} | ${r.scorer} | ${r.seed} | ${f(r.test.auc)} | ${f(r.test.mrr)} | ${
      f(r.test["ndcg@5"])
    } | ` +
      `${f(r.test["ndcg@10"])} | ${f(r.stage1, 1)} | ${f(r.stage2, 1)} | ${f(total, 1)} | ` +
      `${f(r.samplesPerSec, 0)} | ${f(accuracyPerCost(r.test.auc, total, watts), 3)} |`,
  );
}
console.log(lines.join("\n"));
const out = args.get("out");
if (out) await Deno.writeTextFile(out, lines.join("\n") + "\n");
