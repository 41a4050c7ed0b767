// The runner: settings precedence, every registered model from the CLI on tiny data of its
// task, --from reproduction, recommend with raw ids, seeds, search, and bad input.
import assert from "node:assert/strict";
import { gpuTest } from "../helpers.ts";
import { runCli } from "../../src/runner/cli.ts";
import { listModels } from "../../src/runner/models.ts";
import { getModel, modelSettings } from "../../src/runner/registry.ts";
import { int, num, resolveSettings } from "../../src/runner/settings.ts";
import { meanStd } from "../../src/runner/report.ts";
import { encodeWav } from "../../src/io/wav.ts";

/** Tiny synthetic data (every task derives its own from it). */
const TINY = "synthetic:users=40,items=30,interactions=320,topics=3";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), progress: false },
  };
}

async function cli(cmd: string, args: string[]) {
  const c = io();
  const code = await runCli(cmd, args, c.io);
  return { code, out: c.out.join("\n"), err: c.err.join("\n") };
}

const readJson = async (p: string) => JSON.parse(await Deno.readTextFile(p));

Deno.test("settings: defaults < config file < flags, each value type-checked", () => {
  const s = { lr: num(1e-3, "lr"), epochs: int(10, "epochs"), layers: int(2, "layers") };
  const c = resolveSettings(s, [
    ["config.json", { lr: 0.01, epochs: 5 }],
    ["the command line", { epochs: "7" }],
  ]);
  assert.deepEqual(c, { lr: 0.01, epochs: 7, layers: 2 });
  assert.throws(
    () => resolveSettings(s, [["config.json", { layer: 3 }]]),
    /unknown setting 'layer' in config.json; did you mean 'layers'\?/,
  );
  assert.throws(
    () => resolveSettings(s, [["the command line", { epochs: "2.5" }]]),
    /setting 'epochs' from the command line is "2.5"; expected an integer/,
  );
  assert.throws(() => resolveSettings(s, [["f", { lr: "fast" }]]), /expected a number/);
});

Deno.test("registry: every model folder with a model is registered, names lower-case", async () => {
  const names = listModels().map((e) => e.name);
  for (const n of names) assert.match(n, /^[a-z][a-z0-9]*$/);
  // Every model family exported as ./models/<paper> must register; folders holding only
  // paper ops so far (no model class yet) are listed here by name.
  const opsOnly = new Set(["rat"]);
  const deno = await readJson(new URL("../../deno.json", import.meta.url).pathname);
  const index = await Deno.readTextFile(new URL("../../src/runner/models.ts", import.meta.url));
  for (const key of Object.keys(deno.exports)) {
    const m = /^\.\/models\/([a-z0-9_]+)$/.exec(key);
    if (!m || opsOnly.has(m[1])) continue;
    assert.ok(
      index.includes(`../models/${m[1]}/register.ts`),
      `${key} is exported but not registered: add src/models/${m[1]}/register.ts and its line ` +
        `in src/runner/models.ts (see src/runner/registry.ts)`,
    );
  }
  for (const e of listModels()) {
    for (const [k, s] of Object.entries(modelSettings(e))) {
      assert.ok(s.doc.length > 0, `${e.name}.${k} has no doc`);
    }
  }
});

Deno.test("cli: bad input gives clear errors before any training", async () => {
  let r = await cli("train", ["--model", "lightgcm"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown model 'lightgcm'.*did you mean 'lightgcn'/);
  r = await cli("train", ["--model", "lightgcn", "--set", "embedingSize=8"]);
  assert.match(
    r.err,
    /unknown setting 'embedingSize' in the command line; did you mean 'embeddingSize'/,
  );
  r = await cli("train", ["--model", "lightgcn", "--set", "layers=two"]);
  assert.match(r.err, /setting 'layers' from the command line is "two"; expected an integer/);
  r = await cli("train", ["--model", "lightgcn", "--epoch", "2"]);
  assert.match(r.err, /unknown flag '--epoch'; did you mean '--epochs'/);
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/data.csv`, "a,b\n1,2\n");
  r = await cli("train", ["--model", "lightgcn", "--data", `${dir}/data.csv`]);
  assert.equal(r.code, 2);
  assert.match(r.err, /is a file; the retrieval task expects a folder with <name>.inter/);
  await Deno.mkdir(`${dir}/shop`);
  await Deno.writeTextFile(
    `${dir}/shop/baby.inter`,
    "userID\titemID\trating\ttimestamp\tx_label\n",
  );
  r = await cli("train", ["--model", "lightgcn", "--data", `${dir}/shop`]);
  assert.match(
    r.err,
    /shop\/shop.inter: no such file; the folder has baby.inter: pass --name baby/,
  );
  await Deno.writeTextFile(`${dir}/cfg.json`, JSON.stringify({ lr: "fast" }));
  r = await cli("train", ["--model", "lightgcn", "--config", `${dir}/cfg.json`]);
  assert.match(r.err, /setting 'lr' from --config .*cfg.json is "fast"; expected a number/);
  r = await cli("train", ["--model", "lightgcn", "--from", `${dir}/nowhere/config.json`]);
  assert.match(r.err, /nowhere\/config.json: no such file; expected a run folder/);
  r = await cli("train", ["--model", "lightgcn", "--help"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /layers\s+int\s+2\s+propagation layers/);
  assert.match(r.out, /epochs\s+int\s+1000\s+epoch limit/);
});

gpuTest(
  "cli: every registered model trains two epochs and writes a complete run folder",
  async () => {
    const root = await Deno.makeTempDir();
    for (const e of listModels()) {
      const sets = Object.entries(e.tiny ?? {}).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
      const out = `${root}/${e.name}`;
      // Models that load their own data (registry loadData) get none: their generators.
      const data = e.loadData ? [] : ["--data", TINY];
      const r = await cli("train", [
        "--model",
        e.name,
        ...data,
        "--epochs",
        "2",
        "--out",
        out,
        ...sets,
      ]);
      assert.equal(r.code, 0, `${e.name}: ${r.err}`);
      for (
        const f of [
          "config.json",
          "model.safetensors",
          "epochs.csv",
          "results.json",
          "results.md",
          "curves.svg",
        ]
      ) {
        assert.ok((await Deno.stat(`${out}/${f}`)).size > 0, `${e.name}: ${f}`);
      }
      const res = await readJson(`${out}/results.json`);
      const trainable = (await Deno.readTextFile(`${out}/epochs.csv`)).trim().split("\n").length -
        1;
      assert.ok(trainable === 2 || trainable === 0, `${e.name}: ${trainable} epochs logged`);
      assert.ok(Object.keys(res.test).length > 0, `${e.name}: test metrics`);
      for (const v of Object.values(res.test)) assert.ok(Number.isFinite(v as number));
      const cfg = await readJson(`${out}/config.json`);
      assert.equal(cfg.model, e.name);
      assert.equal(cfg.config.epochs, 2);
    }
  },
);

gpuTest(
  "cli: a pretraining model loads --data itself and the run folder describes it",
  async () => {
    const root = await Deno.makeTempDir();
    // Six 2.7 s WAV clips in two labelled subfolders (low and high tones).
    const sr = 8000, n = Math.round(2.7 * sr);
    for (const [label, f] of [["low", 220], ["high", 1200]] as const) {
      await Deno.mkdir(`${root}/wav/${label}`, { recursive: true });
      for (let k = 0; k < 3; k++) {
        const x = Float32Array.from(
          { length: n },
          (_, i) => 0.4 * Math.sin((2 * Math.PI * f * (1 + k / 10) * i) / sr),
        );
        await Deno.writeFile(
          `${root}/wav/${label}/${k}.wav`,
          encodeWav({ sampleRate: sr, channels: [x] }),
        );
      }
    }
    const tiny = Object.entries(getModel("musicpaw").tiny ?? {}).flatMap((
      [k, v],
    ) => ["--set", `${k}=${v}`]);
    const out = `${root}/run`;
    const args = ["--model", "musicpaw", "--epochs", "1", ...tiny];
    const r = await cli("train", [...args, "--out", out, "--data", `${root}/wav`]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /data: WAV folder .*wav: 6 clips cut to 2\.70 s at 8000 Hz, 2 labels/);
    const md = await Deno.readTextFile(`${out}/results.md`);
    assert.match(md, /WAV folder .*: 6 clips/);
    assert.doesNotMatch(md, /SYNTHETIC/);
    assert.match((await readJson(`${out}/results.json`)).data, /WAV folder/);
    // evaluate rebuilds the model over the same folder.
    const ev = await cli("evaluate", ["--run", out]);
    assert.equal(ev.code, 0, ev.err);
    // --set wav= is an alias; two different folders, or --data for a generator model, refused.
    const alias = await cli("train", [...args, "--set", `wav=${root}/wav`, "--out", `${out}2`]);
    assert.equal(alias.code, 0, alias.err);
    assert.match(alias.err, /data: WAV folder/);
    const two = await cli("train", [...args, "--data", `${root}/wav`, "--set", `wav=${root}/x`]);
    assert.equal(two.code, 1);
    assert.match(two.err, /musicpaw: --data .*wav and --set wav=.*x name two WAV folders/);
    const dcid = await cli("train", ["--model", "dcid", "--data", TINY, "--epochs", "1"]);
    assert.match(dcid.err, /dcid: --data synthetic:.*reads no --data/);
  },
);

gpuTest("cli: --from reproduces a run exactly; evaluate recomputes its metrics", async () => {
  const root = await Deno.makeTempDir();
  const a = `${root}/a`;
  assert.equal(
    (await cli("train", [
      "--model",
      "lightgcn",
      "--data",
      TINY,
      "--epochs",
      "3",
      "--set",
      "embeddingSize=16",
      "--seed",
      "5",
      "--out",
      a,
    ])).code,
    0,
  );
  const b = `${root}/b`;
  const r = await cli("train", ["--from", `${a}/config.json`, "--out", b]);
  assert.equal(r.code, 0, r.err);
  const ra = await readJson(`${a}/results.json`);
  const rb = await readJson(`${b}/results.json`);
  assert.deepEqual(rb.valid, ra.valid);
  assert.deepEqual(rb.test, ra.test);
  assert.equal(rb.config.seed, 5);
  assert.equal(rb.config.embeddingSize, 16);
  // --resume continues a 2-epoch run to 3 epochs exactly like the uninterrupted run.
  const c = `${root}/c`;
  const base = ["--model", "lightgcn", "--data", TINY, "--set", "embeddingSize=16", "--seed", "5"];
  assert.equal((await cli("train", [...base, "--epochs", "2", "--out", c])).code, 0);
  const rc = await cli("train", [...base, "--epochs", "3", "--out", c, "--resume"]);
  assert.equal(rc.code, 0, rc.err);
  const resumed = await readJson(`${c}/results.json`);
  assert.deepEqual(resumed.test, ra.test);
  assert.equal(resumed.bestEpoch, ra.bestEpoch);
  const ev = await cli("evaluate", ["--run", a]);
  assert.equal(ev.code, 0, ev.err);
  const m = await readJson(`${a}/evaluate.json`);
  assert.deepEqual(m.test, ra.test);
});

gpuTest("cli: recommend takes and returns raw ids, leaving out known items", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/shop`;
  await Deno.mkdir(data);
  // RecBole atomic file with string ids: 12 users × 6 items each over 20 items.
  const lines = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"];
  const known = new Map<string, Set<string>>();
  for (let u = 0; u < 12; u++) {
    for (let j = 0; j < 6; j++) {
      const i = `item${(u * 3 + j * 5) % 20}`;
      lines.push(`user${u}\t${i}\t5\t${1000 + u * 10 + j}`);
      if (!known.has(`user${u}`)) known.set(`user${u}`, new Set());
      known.get(`user${u}`)!.add(i);
    }
  }
  await Deno.writeTextFile(`${data}/shop.inter`, lines.join("\n") + "\n");
  const run = `${dir}/run`;
  const t = await cli("train", [
    "--model",
    "lightgcn",
    "--data",
    data,
    "--epochs",
    "2",
    "--out",
    run,
  ]);
  assert.equal(t.code, 0, t.err);
  const r = await cli("recommend", ["--run", run, "--users", "user3,user7", "--k", "5"]);
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split("\n").slice(1).map((l) => l.split("\t"));
  assert.deepEqual(rows.map((x) => x[0]), ["user3", "user7"]);
  for (const [u, items] of rows) {
    const got = items.split(" ");
    assert.equal(got.length, 5);
    for (const i of got) {
      assert.match(i, /^item\d+$/);
      assert.ok(!known.get(u)!.has(i), `${u} already has ${i}`);
    }
  }
  const bad = await cli("recommend", ["--run", run, "--users", "nobody"]);
  assert.match(bad.err, /user 'nobody' at position 0 is not a user of the training data/);
});

gpuTest("cli: --seeds N reports the mean ± std of the seed runs", async () => {
  const out = await Deno.makeTempDir();
  const r = await cli("train", [
    "--model",
    "lightgcn",
    "--data",
    TINY,
    "--epochs",
    "2",
    "--seeds",
    "2",
    "--set",
    "embeddingSize=8",
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.err);
  const runs = [
    await readJson(`${out}/seed-999/results.json`),
    await readJson(`${out}/seed-1000/results.json`),
  ];
  assert.equal(runs[1].config.seed, 1000);
  const s = await readJson(`${out}/seeds.json`);
  const want = meanStd(runs.map((x) => x.test["recall@20"]));
  assert.ok(Math.abs(s.test["recall@20"].mean - want.mean) < 1e-12);
  assert.ok(Math.abs(s.test["recall@20"].std - want.std) < 1e-12);
  assert.match(r.out, /mean ± std/);
});

gpuTest("cli: a grid search over two values ranks runs by the valid metric", async () => {
  const out = await Deno.makeTempDir();
  await Deno.writeTextFile(`${out}/grid.json`, JSON.stringify({ embeddingSize: [2, 16] }));
  const r = await cli("train", [
    "--model",
    "lightgcn",
    "--data",
    TINY,
    "--epochs",
    "2",
    "--grid",
    `${out}/grid.json`,
    "--out",
    out,
  ]);
  assert.equal(r.code, 0, r.err);
  const s = await readJson(`${out}/search.json`);
  assert.equal(s.length, 2);
  const v = s.map((x: { valid: Record<string, number> }) => x.valid["recall@20"]);
  assert.ok(v[0] >= v[1], `ranked: ${v}`);
  const each = await Promise.all(
    ["run-01", "run-02"].map((d) => readJson(`${out}/${d}/results.json`)),
  );
  const best = each.reduce((a, b) => (b.valid["recall@20"] > a.valid["recall@20"] ? b : a));
  assert.deepEqual(s[0].test, best.test);
  assert.match(r.out, /Best: /);
  const rnd = await cli("train", [
    "--model",
    "lightgcn",
    "--data",
    TINY,
    "--epochs",
    "1",
    "--grid",
    `${out}/grid.json`,
    "--random",
    "1",
    "--out",
    `${out}/random`,
  ]);
  assert.equal(rnd.code, 0, rnd.err);
  assert.equal((await readJson(`${out}/random/search.json`)).length, 1);
  // Grid keys are settings too.
  await Deno.writeTextFile(`${out}/bad.json`, JSON.stringify({ embedingSize: [2] }));
  const bad = await cli("train", [
    "--model",
    "lightgcn",
    "--data",
    TINY,
    "--grid",
    `${out}/bad.json`,
  ]);
  assert.match(bad.err, /unknown setting 'embedingSize' in --grid; did you mean 'embeddingSize'/);
});

Deno.test("registry: a model's training defaults apply and its settings cannot shadow the task's", () => {
  const e = getModel("alignrec");
  assert.equal(modelSettings(e).epochs.default, 1000);
  assert.equal(modelSettings(e).knnK.default, 10);
});

gpuTest("cli: alltoall ranks by its scoreUsers hook: train, evaluate, recommend", async () => {
  const run = `${await Deno.makeTempDir()}/alltoall`;
  const t = await cli("train", [
    "--model",
    "alltoall",
    "--data",
    TINY,
    "--epochs",
    "2",
    "--out",
    run,
    "--set",
    "embeddingSize=8",
    "--set",
    "hidden=16,8",
  ]);
  assert.equal(t.code, 0, t.err);
  const res = await readJson(`${run}/results.json`);
  assert.ok(res.test["recall@20"] >= 0 && res.test["recall@20"] <= 1, JSON.stringify(res.test));
  const e = await cli("evaluate", ["--run", run]);
  assert.equal(e.code, 0, e.err);
  const r = await cli("recommend", ["--run", run, "--users", "0,5", "--k", "4"]);
  assert.equal(r.code, 0, r.err);
  const rows = r.out.trim().split("\n").slice(1).map((l) => l.split("\t"));
  assert.deepEqual(rows.map((x) => x[1].split(" ").length), [4, 4]);
});

gpuTest("cli: a libFM folder trains the CTR models (fm, dcnv2)", async () => {
  const data = new URL("../data/libfm", import.meta.url).pathname;
  for (const model of ["fm", "dcnv2"]) {
    const run = `${await Deno.makeTempDir()}/${model}`;
    const t = await cli("train", ["--model", model, "--data", data, "--epochs", "2", "--out", run]);
    assert.equal(t.code, 0, `${model}: ${t.err}`);
    const res = await readJson(`${run}/results.json`);
    assert.ok(Number.isFinite(res.test.logloss), JSON.stringify(res.test));
  }
  const bad = await Deno.makeTempDir();
  await Deno.writeTextFile(`${bad}/train.libfm`, "1 0:1 1:1\n3 0:1 2:1\n");
  await Deno.writeTextFile(`${bad}/test.libfm`, "1 0:1 1:1\n");
  const r = await cli("train", ["--model", "fm", "--data", bad, "--epochs", "1"]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /train\.libfm:2: label '3'; expected 1 \(click\), 0 or -1/);
});
