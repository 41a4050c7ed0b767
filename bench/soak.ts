// Soak test (issue 15): trains AlignRec (stage 2, raw modalities side by side as in the model
// test) for many steps on the embedded synthetic data and samples `memory()` every 100 steps.
// Pass: after the first sample (warm-up: pools and optimizer state fill), every sample is
// exactly equal — live and pooled bytes and buffers, live tensors — and the loss stays finite.
// Opt-in, not part of `deno task test`:
//
//   deno task bench:soak [--steps 10000] [--batch 2048] [--every 100] [--small] [--write]
//
// --small uses the CI-sized draw of the same generator (EMBEDDED_SMALL); --write records the
// run in bench/results/soak.md, rewritten every 10 samples so that a run stopped early (the
// soak is long on a software adapter) still leaves its measured part, marked as partial.
import {
  Adam,
  AlignRec,
  backward,
  concatFeatures,
  init,
  keep,
  memory,
  readAll,
  Rng,
  runtime,
  type Tensor,
  tidy,
  trainData,
  tripletBatches,
  tripletTensors,
} from "../internal.ts";
import { EMBEDDED, EMBEDDED_SMALL, embeddedData } from "../src/runner/data.ts";

function flag(name: string, dflt: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : dflt;
}
const steps = flag("steps", 10000);
const batch = flag("batch", 2048);
const every = flag("every", 100);
const write = Deno.args.includes("--write");
const small = Deno.args.includes("--small");

await init();
const d = embeddedData(small ? EMBEDDED_SMALL : EMBEDDED);
const data = trainData(d.split);
const { numUsers, numItems } = d.split.train;
const model = new AlignRec(d.split.train, concatFeatures(d.image!, d.text!).data);
const opt = new Adam(model.parameters(), { lr: 0.001 });
const rng = new Rng(0);

interface Sample {
  step: number;
  liveBytes: number;
  liveBuffers: number;
  pooledBytes: number;
  pooledBuffers: number;
  tensors: number;
  loss: number;
  seconds: number;
}
const samples: Sample[] = [];
const t0 = performance.now();
const key = (s: Sample) =>
  [s.liveBytes, s.liveBuffers, s.pooledBytes, s.pooledBuffers, s.tensors].join(",");

// The verdict so far, and (with --write) the results file; `done` false marks a partial run.
async function report(done: boolean): Promise<boolean> {
  const ref = samples[0];
  const drift = samples.filter((s) => key(s) !== key(ref));
  const flat = drift.length === 0;
  const at = samples.at(-1)?.step ?? 0;
  const seconds = (performance.now() - t0) / 1000;
  if (done) {
    console.log(
      `${at} steps (${epochs} epochs) in ${seconds.toFixed(0)} s; ${samples.length} samples; ` +
        (flat ? "memory exactly flat" : `memory drifted at ${drift.length} samples`),
    );
    for (const s of drift.slice(0, 5)) console.log("  drift:", JSON.stringify(s));
  }
  if (!write) return flat;
  const adapter = runtime().gpu.adapter.description;
  const show = [samples[0], samples[1], ...samples.filter((_, i) => (i + 1) % 10 === 0)]
    .filter((s, i, a) => s && a.indexOf(s) === i);
  const load = Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
  const cmd = `deno task bench:soak --steps ${steps} --batch ${batch}${
    small ? " --small" : ""
  } --write`;
  const md = `# Soak: AlignRec training steps, memory sampled every ${every} steps

Measured ${new Date().toISOString()} by \`${cmd}\` (bench/soak.ts) on **${adapter}**; load
average at the last write: ${load} (shared machine, 2 CPU cores).

${
    done
      ? `Complete: ${at} of ${steps} steps.`
      : `**Partial**: ${at} of ${steps} steps measured so far (the file is rewritten every ${
        10 * every
      } steps; the run was still going or was stopped).`
  }

Model: AlignRec stage 2 (defaults of src/models/alignrec/model.ts; the item features are the
two raw modalities side by side, as in tests/models/alignrec), Adam lr 0.001, batch ${batch}
triples with one uniform negative, on the embedded synthetic data (src/runner/data.ts
\`${
    small
      ? "EMBEDDED_SMALL"
      : "EMBEDDED"
  }\`: ${numUsers} users, ${numItems} items) — ${epochs} epochs.
Each step runs in one \`tidy\`; the loss is read back at every sample.

**Result: ${
    flat
      ? `memory exactly flat — all ${samples.length} samples (steps ${every}–${at}) equal`
      : `memory NOT flat — ${drift.length} of ${samples.length} samples differ from the first`
  }** (live bytes and buffers, pooled bytes and buffers, live tensors); loss finite throughout.
${seconds.toFixed(0)} s so far (${(1000 * seconds / Math.max(at, 1)).toFixed(0)} ms per step).

| step | live bytes | live buffers | pooled bytes | pooled buffers | tensors |   loss | seconds |
| ---: | ---------: | -----------: | -----------: | -------------: | ------: | -----: | ------: |
${
    show.map((s) =>
      `| ${s.step} | ${s.liveBytes} | ${s.liveBuffers} | ${s.pooledBytes} | ${s.pooledBuffers} | ` +
      `${s.tensors} | ${s.loss.toFixed(4)} | ${s.seconds.toFixed(0)} |`
    ).join("\n")
  }
`;
  const path = new URL("./results/soak.md", import.meta.url);
  await Deno.writeTextFile(path, md);
  // Wrap and align the table as `deno task check` expects (best effort).
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", path.pathname] }).output()
    .catch(() => {});
  if (done) console.log("wrote bench/results/soak.md");
  return flat;
}

let step = 0;
let epochs = 0;
let last: Tensor<"f32"> | null = null;
while (step < steps) {
  epochs++;
  for (const b of tripletBatches(d.split.train, data.trainCsr, batch, rng)) {
    if (step === steps) break;
    const loss = tidy(() => {
      const out = model.loss(tripletTensors(b, numUsers, numItems));
      backward(out.loss);
      opt.step();
      opt.zeroGrad();
      return out.loss;
    });
    last?.dispose();
    last = keep(loss);
    step++;
    if (step % every === 0) {
      const [l] = await readAll([last]); // also bounds the queue: one readback per sample
      const m = memory();
      const s = { step, ...m, loss: l[0], seconds: (performance.now() - t0) / 1000 };
      samples.push(s);
      if (!Number.isFinite(s.loss)) throw new Error(`soak: loss ${s.loss} at step ${step}`);
      if (step % (every * 10) === 0 || samples.length <= 3) {
        console.log(
          `step ${step}: loss ${s.loss.toFixed(4)}, live ${m.liveBytes} B in ${m.liveBuffers} ` +
            `buffers, pooled ${m.pooledBytes} B in ${m.pooledBuffers}, ${m.tensors} tensors, ` +
            `${s.seconds.toFixed(0)} s`,
        );
      }
      if (samples.length % 10 === 0) await report(false);
    }
  }
}
last?.dispose();

const flat = await report(true);
model.dispose();
opt.dispose();
if (!flat) Deno.exit(1);
