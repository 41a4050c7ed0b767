/**
 * RAT's training step (issue 16, spec ../shared/specs/rat.md §4.2) in wgrec and the same model
 * written with tfjs-core ops on tfjs-webgpu, in one process on the same adapter, as ratios.
 *
 * `nice -n 5 deno run -A bench/rat_step.ts [--batches=128,1024] [--warmup=2] [--steps=3]
 *  [--data=../shared/data/ml-100k] [--out=bench/results/rat_step] [--note=...]`
 *
 * Sizes: the paper's ML-Tag column (d = 10, h = 2, dh = 10, 4 cascaded blocks, FFN ×4, K = 5,
 * DNN 400-400-400, wide term, λ_emb = 0.03) over the fields of ML-100K as a CTR task (user,
 * item, gender, age, occupation, zip, genres and history as mean-pooled sequences: F = 8,
 * S = F + 1 = 9 tokens per row, T = 1 + K = 6 rows per sample); the vocabularies are read
 * from the data, the ids are synthetic: target rows and a 20,000-row "DB" of random ids, each
 * target's K retrieved rows random DB rows (no retrieval runs), every retrieval present (so
 * no key is masked on either side). A step: upload the batch, forward, BCE + the embedding
 * L2, backward, Adam (lr 1e-3), free the temporaries; the loss of the last timed step is read
 * once at the end of the window.
 *
 * Before timing, the tfjs variables are copied from wgrec's parameters and both compute the
 * loss of one tiny batch, take one Adam step on it and compute it again: the bench stops if
 * the two disagree, so the timed models are the same model.
 * @module
 */

import * as wg from "../internal.ts";
import { loadMovieLensCtr } from "../src/data/ctr_files.ts";
import { type CtrBatch, type FeatureSpec, featureSpecs } from "../src/nn/features.ts";
import { Rat, type RatInput } from "../src/models/rat/model.ts";
import { loadAverage, markdownTable, writeReport } from "./harness.ts";
import { startTfjs, tfjsRead } from "./step_tfjs.ts";

const args: Record<string, string> = Object.fromEntries(
  Deno.args.map((a) => a.replace(/^--/, "").split("=")).map(([k, v]) => [k, v ?? "true"]),
);
const BATCHES = (args.batches ?? "128,1024").split(",").map(Number);
const WARMUP = Number(args.warmup ?? 2);
const STEPS = Number(args.steps ?? 3);
const DATA = args.data ?? "../shared/data/ml-100k";
const OUT = args.out ?? "bench/results/rat_step";
const K = 5;
const DB_ROWS = 20000;
const CFG = { embeddingDim: 10, numHeads: 2, dimHead: 10, depth: 4, scaleDim: 4, topK: K };

// deno-lint-ignore no-explicit-any
type Any = any;

// --- synthetic batches ----------------------------------------------------------------------

/** `n` rows of random ids (sequence lengths 0 … maxLen) and random 0/1 labels. */
function randomRows(specs: readonly FeatureSpec[], n: number, rng: wg.Rng): CtrBatch {
  const cat = specs.filter((s) => s.type === "categorical");
  const seq = specs.flatMap((s) => (s.type === "sequence" ? [s] : []));
  return {
    size: n,
    labels: Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 1 : 0)),
    categorical: Int32Array.from(
      { length: n * cat.length },
      (_, i) => rng.int((cat[i % cat.length] as { vocabSize: number }).vocabSize),
    ),
    numeric: new Float32Array(0),
    sequences: seq.map((s) => {
      const lengths = Int32Array.from({ length: n }, () => rng.int(s.maxLen + 1));
      const ids = new Int32Array(n * s.maxLen);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < lengths[i]; j++) ids[i * s.maxLen + j] = rng.int(s.vocabSize);
      }
      return { ids, lengths };
    }),
  };
}

/** Rows `pick(i)` of `src` as a batch of `n` rows. */
function takeRows(src: CtrBatch, n: number, pick: (i: number) => number): CtrBatch {
  const nc = src.categorical.length / src.size;
  const out: CtrBatch = {
    size: n,
    labels: new Float32Array(n),
    categorical: new Int32Array(n * nc),
    numeric: new Float32Array(0),
    sequences: src.sequences.map((q) => ({
      ids: new Int32Array(n * (q.ids.length / src.size)),
      lengths: new Int32Array(n),
    })),
  };
  for (let i = 0; i < n; i++) {
    const r = pick(i);
    out.labels[i] = src.labels[r];
    out.categorical.set(src.categorical.subarray(r * nc, (r + 1) * nc), i * nc);
    src.sequences.forEach((q, j) => {
      const L = q.ids.length / src.size;
      out.sequences[j].ids.set(q.ids.subarray(r * L, (r + 1) * L), i * L);
      out.sequences[j].lengths[i] = q.lengths[r];
    });
  }
  return out;
}

/** B targets, each followed by K random DB rows carrying their labels as label tokens. */
function ratBatch(
  specs: readonly FeatureSpec[],
  db: CtrBatch,
  B: number,
  seed: number,
): RatInput {
  const rng = new wg.Rng(seed);
  const T = 1 + K;
  const targets = randomRows(specs, B, rng);
  const dbRows = Int32Array.from({ length: B * K }, () => rng.int(db.size));
  // Row b·T holds the target (filled below), rows b·T + t the retrieved DB rows.
  const all = takeRows(db, B * T, (i) => (i % T ? dbRows[Math.floor(i / T) * K + (i % T) - 1] : 0));
  const labelIds = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const t0 = takeRows(targets, 1, () => b);
    all.categorical.set(t0.categorical, b * T * (all.categorical.length / all.size));
    all.sequences.forEach((q, j) => {
      const L = q.ids.length / all.size;
      q.ids.set(t0.sequences[j].ids, b * T * L);
      q.lengths[b * T] = t0.sequences[j].lengths[0];
    });
    labelIds[b * T] = 2; // [MASK]
    for (let t = 1; t < T; t++) labelIds[b * T + t] = all.labels[b * T + t];
  }
  return {
    size: B,
    k: K,
    rows: all,
    labelIds,
    lens: new Int32Array(B).fill(K),
    labels: targets.labels,
  };
}

// --- the tfjs model -------------------------------------------------------------------------

/**
 * RAT (cascaded) in tfjs-core ops, over variables named as wgrec's parameters (functional
 * calls: `tf.mul(x, y)`, as the chained `x.mul(y)` exists only once the union package ran).
 */
function tfjsRat(
  tf: Any,
  specs: readonly FeatureSpec[],
  params: Map<string, { shape: number[]; data: Float32Array }>,
  lambda: number,
) {
  const { embeddingDim: d, numHeads: H, dimHead: dh, depth } = CFG;
  const { add, mul, reshape: rs, transpose: tr, matMul, slice } = tf;
  const vars = new Map<string, Any>();
  for (const [n, p] of params) vars.set(n, tf.variable(tf.tensor(p.data, p.shape), true));
  const P = (n: string) => {
    const v = vars.get(n);
    if (!v) throw new Error(`rat_step: no parameter '${n}'`);
    return v;
  };
  const lin = (x: Any, pre: string) => {
    const y = matMul(x, P(`${pre}.weight`), false, true);
    return vars.has(`${pre}.bias`) ? add(y, P(`${pre}.bias`)) : y;
  };
  const layerNorm = (x: Any, pre: string) => {
    const { mean, variance } = tf.moments(x, -1, true);
    const xh = tf.div(tf.sub(x, mean), tf.sqrt(add(variance, 1e-5)));
    return add(mul(xh, P(`${pre}.weight`)), P(`${pre}.bias`));
  };
  const gelu = (x: Any) => mul(mul(x, 0.5), add(tf.erf(mul(x, Math.SQRT1_2)), 1));
  /** PreNorm multi-head attention over `[n, L, d]`. */
  const mha = (x: Any, pre: string) => {
    const [n, L] = x.shape;
    const h = rs(layerNorm(x, `${pre}.norm`), [n * L, d]);
    const qkv = rs(matMul(h, P(`${pre}.fn.to_qkv.weight`), false, true), [n, L, 3, H, dh]);
    const [q, k, v] = tf.split(qkv, 3, 2).map((t: Any) =>
      rs(tr(rs(t, [n, L, H, dh]), [0, 2, 1, 3]), [n * H, L, dh])
    );
    const s = tf.softmax(mul(matMul(q, k, false, true), dh ** -0.5));
    const o = rs(tr(rs(matMul(s, v), [n, H, L, dh]), [0, 2, 1, 3]), [n * L, H * dh]);
    return rs(lin(o, `${pre}.fn.to_out.0`), [n, L, d]);
  };
  /** Per-field embeddings `[N, F, w]` of the tables under `pre` (sequences mean-pooled). */
  const embed = (rows: CtrBatch, pre: string, w: number) => {
    const N = rows.size;
    const cat = specs.filter((s) => s.type === "categorical");
    const cols = tf.unstack(tf.tensor2d(rows.categorical, [N, cat.length], "int32"), 1);
    let ic = 0, iq = 0;
    const parts = specs.map((s) => {
      if (s.type === "categorical") return tf.gather(P(`${pre}.${s.name}.weight`), cols[ic++]);
      if (s.type !== "sequence") throw new Error("rat_step: numeric fields are not written here");
      const q = rows.sequences[iq++];
      const L = s.maxLen;
      const m = new Float32Array(N * L);
      for (let i = 0; i < N; i++) {
        const n = q.lengths[i];
        m.fill(n > 0 ? 1 / n : 1, i * L, i * L + n);
      }
      const ids = tf.tensor2d(q.ids, [N, L], "int32");
      const e = tf.gather(P(`${pre}.${s.share ?? s.name}.weight`), ids);
      return tf.sum(mul(e, tf.tensor3d(m, [N, L, 1])), 1);
    });
    return rs(tf.stack(parts, 1), [N, specs.length, w]);
  };
  const F = specs.length;
  const S = F + 1;
  const T = 1 + K;
  const embNames = [...params.keys()].filter((n) => n.includes("embedding_layer"));
  const loss = (inp: RatInput) => {
    const B = inp.size;
    const N = B * T;
    const e = embed(inp.rows, "embedding_layer", d); // [N, F, d]
    const lab = tf.gather(P("label_embedding_layer.weight"), tf.tensor1d(inp.labelIds, "int32"));
    let x = tf.concat([rs(lab, [N, 1, d]), e], 1); // [N, S, d], label token first
    for (let l = 0; l < depth; l++) {
      const pre = `encoder.encoder.${l}`;
      x = add(mha(x, `${pre}.intra_attention`), x); // over the S fields of each row
      let y = rs(tr(rs(x, [B, T, S, d]), [0, 2, 1, 3]), [B * S, T, d]);
      y = add(mha(y, `${pre}.cross_attention`), y); // over the T rows, per field
      const f = lin(gelu(lin(rs(y, [B * S * T, d]), `${pre}.mlp.net.0`)), `${pre}.mlp.net.3`);
      y = add(rs(f, [B * S, T, d]), y);
      x = rs(tr(rs(y, [B, S, T, d]), [0, 2, 1, 3]), [N, S, d]);
    }
    const read = slice(rs(x, [B, T * S * d]), [0, 0], [B, d]); // the target's label token
    let h = slice(rs(e, [B, T * F * d]), [0, 0], [B, F * d]);
    for (let i = 0; vars.has(`dnn.dnn.${i}.weight`); i++) {
      h = lin(h, `dnn.dnn.${i}`);
      if (vars.has(`dnn.dnn.${i + 1}.weight`)) h = tf.relu(h);
    }
    const wide = rs(tf.sum(embed(inp.rows, "lr_layer.embedding_layer", 1), 1), [B, T]);
    const z = rs(add(add(lin(read, "fc"), h), slice(wide, [0, 0], [B, 1])), [B]);
    const bce = tf.mean(tf.sub(tf.softplus(z), mul(z, tf.tensor1d(inp.labels))));
    // Pairwise adds: tfjs-webgpu's addN binds every input at once, past lavapipe's 8 storage
    // bindings per shader, and then silently returns 0.
    const reg = embNames.map((n) => tf.sum(tf.square(P(n)))).reduce((u: Any, v: Any) => add(u, v));
    return add(bce, mul(reg, lambda / 2));
  };
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  return {
    loss,
    step: (inp: RatInput): Any => opt.minimize(() => loss(inp), true),
    dispose() {
      opt.dispose();
      for (const v of vars.values()) v.dispose();
    },
  };
}

// --- timing ---------------------------------------------------------------------------------

/** CPU ms of this whole process so far (all threads; /proc, Linux), null elsewhere. */
function processCpuMs(): number | null {
  try {
    const st = Deno.readTextFileSync("/proc/self/stat");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

interface Measured {
  impl: "wgrec" | "tfjs";
  batch: number;
  samplesPerSec: number;
  msPerStep: number;
  cpuMsPerStep: number | null;
  warmupMs: number;
  load: number[] | null;
  finalLoss: number;
}

/** Warm-up steps (each read), then `STEPS` timed steps with one read at the end. */
async function measure(
  impl: "wgrec" | "tfjs",
  B: number,
  step: (i: number) => unknown,
  read: (l: unknown) => Promise<number>,
  dispose: (l: unknown) => void,
): Promise<Measured> {
  const w0 = performance.now();
  for (let i = 0; i < WARMUP; i++) {
    const l = step(i);
    await read(l);
    dispose(l);
  }
  const warmupMs = performance.now() - w0;
  const load = loadAverage();
  const t0 = performance.now();
  const c0 = processCpuMs();
  const losses = [];
  for (let i = 0; i < STEPS; i++) losses.push(step(WARMUP + i));
  const finalLoss = await read(losses[losses.length - 1]);
  const ms = (performance.now() - t0) / STEPS;
  const c1 = processCpuMs();
  losses.forEach(dispose);
  const m: Measured = {
    impl,
    batch: B,
    samplesPerSec: (B * 1000) / ms,
    msPerStep: ms,
    cpuMsPerStep: c0 === null || c1 === null ? null : (c1 - c0) / STEPS,
    warmupMs,
    load,
    finalLoss,
  };
  console.error(
    `${impl} B=${B}: ${m.samplesPerSec.toFixed(1)} samples/s, ${ms.toFixed(0)} ms/step, ` +
      `CPU ${m.cpuMsPerStep?.toFixed(0)} ms/step, warm-up ${warmupMs.toFixed(0)} ms, load ${load}`,
  );
  return m;
}

// --- main -----------------------------------------------------------------------------------

if (import.meta.main) {
  const folder = await loadMovieLensCtr(DATA);
  if (!folder) throw new Error(`rat_step: no ML-100K RecBole files in ${DATA}`);
  const specs = featureSpecs(folder.train, { maxLen: 10 });
  const rt = await wg.init({ params: args.params as "uniform" | "storage" | undefined });
  const adapter = rt.gpu.adapter.description;
  const model = new Rat(specs, CFG);
  const lambda = model.cfg.embeddingRegularizer;
  const opt = new wg.Adam(model.parameters(), { lr: 1e-3 });
  const db = randomRows(specs, DB_ROWS, new wg.Rng(7));
  const wgStep = (inp: RatInput) =>
    wg.keep(wg.tidy(() => {
      const logits = wg.reshape(model.forward(inp), [inp.size]);
      const loss = wg.add(
        wg.bceWithLogits(logits, wg.tensor(inp.labels, [inp.size])),
        model.penalty()!,
      );
      wg.backward(loss);
      opt.step();
      opt.zeroGrad();
      return loss;
    }));

  // The tfjs variables start from wgrec's parameters.
  const named = model.namedParameters();
  const values = await wg.readAll(named.map(([, p]) => p));
  const params = new Map(
    named.map(([n, p], i) => [n, { shape: [...p.shape], data: values[i].slice() }]),
  );
  // The Node build of tfjs-core that Deno loads registers no gradients (and no chained methods):
  // the union package registers them, into the registries tfjs keeps on the global object.
  await import("npm:@tensorflow/tfjs@4.22");
  let { version, adapter: tfAdapter } = await startTfjs();
  const tf: Any = await import("npm:@tensorflow/tfjs-core@4.22");
  if (args["tfjs-backend"]) { // e.g. cpu: tells a model error from a backend error
    await tf.setBackend(args["tfjs-backend"]);
    tfAdapter = tf.getBackend();
  }
  const tfm = tfjsRat(tf, specs, params, lambda);
  console.error(`wgrec on ${adapter}; tfjs-webgpu ${version} on ${tfAdapter}`);

  // Same model check: loss on one tiny batch, one Adam step, the loss again.
  const tiny = ratBatch(specs, db, 4, 99);
  const wgLoss: number[] = [];
  const tfLoss: number[] = [];
  for (let i = 0; i < 2; i++) {
    const l = wgStep(tiny);
    wgLoss.push((await l.read())[0]);
    l.dispose();
    const t = tfm.step(tiny);
    tfLoss.push(await tfjsRead(t));
    t.dispose();
  }
  const moved = Math.abs(wgLoss[1] - wgLoss[0]);
  const check = {
    wgrec: wgLoss,
    tfjs: tfLoss,
    diffBefore: Math.abs(wgLoss[0] - tfLoss[0]),
    diffAfter: Math.abs(wgLoss[1] - tfLoss[1]),
    moved,
  };
  console.error(`same-model check: ${JSON.stringify(check)}`);
  if (check.diffBefore > 1e-4 * Math.abs(wgLoss[0]) + 1e-6) {
    throw new Error(`rat_step: losses differ on the same weights: ${wgLoss[0]} vs ${tfLoss[0]}`);
  }
  if (check.diffAfter > 0.05 * moved + 1e-5) {
    throw new Error(
      `rat_step: after one Adam step the losses differ: ${wgLoss[1]} vs ${tfLoss[1]} ` +
        `(the step moved wgrec's by ${moved})`,
    );
  }

  const runs: Measured[] = [];
  for (const B of BATCHES) {
    const bs = [0, 1].map((s) => ratBatch(specs, db, B, 1000 * B + s));
    runs.push(
      await measure(
        "wgrec",
        B,
        (i) => wgStep(bs[i % 2]),
        async (l) => (await (l as wg.Tensor<"f32">).read())[0],
        (l) => (l as wg.Tensor<"f32">).dispose(),
      ),
    );
    runs.push(
      await measure(
        "tfjs",
        B,
        (i) => tfm.step(bs[i % 2]),
        (l) => tfjsRead(l),
        (l) => (l as Any).dispose(),
      ),
    );
  }
  tfm.dispose();

  const fmtLoad = (l: number[] | null) => (l ? l.map((x) => x.toFixed(1)).join(" ") : "?");
  const rows = BATCHES.map((B) => {
    const w = runs.find((r) => r.impl === "wgrec" && r.batch === B)!;
    const t = runs.find((r) => r.impl === "tfjs" && r.batch === B)!;
    const cpu = w.cpuMsPerStep && t.cpuMsPerStep ? t.cpuMsPerStep / w.cpuMsPerStep : NaN;
    return [
      String(B),
      w.samplesPerSec.toFixed(1),
      w.msPerStep.toFixed(0),
      w.cpuMsPerStep?.toFixed(0) ?? "-",
      fmtLoad(w.load),
      t.samplesPerSec.toFixed(1),
      t.msPerStep.toFixed(0),
      t.cpuMsPerStep?.toFixed(0) ?? "-",
      fmtLoad(t.load),
      (w.samplesPerSec / t.samplesPerSec).toFixed(2) + "×",
      Number.isFinite(cpu) ? cpu.toFixed(2) + "×" : "-",
    ];
  });
  const cmd = `nice -n 5 deno run -A bench/rat_step.ts${
    Deno.args.length ? " " + Deno.args.join(" ") : ""
  }`;
  const md = [
    `# RAT training step: wgrec vs tfjs-webgpu (same adapter, same process)`,
    ``,
    `Adapter: ${adapter} (tfjs-webgpu ${version}: ${tfAdapter}). ${args.note ?? ""}`,
    `Command: \`${cmd}\``,
    ``,
    `RAT (cascaded, spec §4.2) at the ML-Tag sizes: d = 10, h = 2, dh = 10, 4 blocks, FFN ×4,`,
    `K = 5, DNN 400-400-400, wide term, λ_emb = 0.03, over ML-100K's CTR fields (F = ${specs.length}:`,
    `${specs.map((s) => s.name).join(", ")}; S = ${specs.length + 1} tokens, T = ${1 + K} rows per`,
    `sample; vocabularies from the data). Ids, labels and retrieved rows are synthetic (random DB`,
    `rows, all K present). Adam lr 1e-3. tfjs side: the same model in tfjs-core ops (gather,`,
    `matMul, softmax, layer norm by moments, GELU by erf) with \`optimizer.minimize\`. ${WARMUP}`,
    `warm-up + ${STEPS} timed steps per cell, wgrec then tfjs per batch size; load = 1/5/15-min`,
    `load average at the start of each timed window; CPU ms = the whole process's CPU time per step`,
    `(all threads: on a software adapter the shader threads are the "GPU"), the fairer figure on`,
    `a shared machine. Ratios > 1 mean wgrec is faster.`,
    ``,
    markdownTable(
      [
        "batch",
        "wgrec samples/s",
        "ms/step",
        "CPU ms/step",
        "load",
        "tfjs samples/s",
        "ms/step",
        "CPU ms/step",
        "load",
        "wgrec/tfjs (wall)",
        "(CPU time)",
      ],
      rows,
      ["r", "r", "r", "r", "l", "r", "r", "r", "l", "r", "r"],
    ),
    ``,
    `Warm-up (pipeline/shader compilation and the first steps), ms: ${
      runs.map((r) => `${r.impl} B=${r.batch} ${r.warmupMs.toFixed(0)}`).join(", ")
    }.`,
    ``,
    `Same model: from wgrec's initial parameters copied into the tfjs variables, one batch of 4`,
    `samples gives loss ${wgLoss[0].toFixed(6)} (wgrec) and ${tfLoss[0].toFixed(6)} (tfjs); after`,
    `one Adam step on it, ${wgLoss[1].toFixed(6)} and ${tfLoss[1].toFixed(6)} (the step moved the`,
    `loss by ${moved.toExponential(2)}; the bench stops when the gap passes 1e-4 relative before`,
    `the step or 5 % of that move after it).`,
  ].join("\n");
  await writeReport(OUT, md, {
    adapter,
    tfjs: { version, adapter: tfAdapter },
    args: Deno.args,
    check,
    runs,
  });
  console.log(md);
}
