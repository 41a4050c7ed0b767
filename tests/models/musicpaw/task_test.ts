// Music-PAW on the pretraining task end to end at tiny sizes: a WAV folder labelled by
// subfolders becomes log-mel clips (GPU front end), the hierarchical and the baseline losses
// run and are finite, the linear probe reports an accuracy in [0, 1]; an unlabelled folder is
// probed by the held-out loss; a training step changes the backbone.
import assert from "node:assert/strict";
import { backward } from "../../../src/autograd/backward.ts";
import { noGrad } from "../../../src/autograd/tape.ts";
import { readAll, tidy } from "../../../src/tensor.ts";
import { wavFolderSet } from "../../../src/models/musicpaw/wav_folder.ts";
import { MusicPawTask } from "../../../src/models/musicpaw/task.ts";
import { generateMusic } from "../../../src/models/musicpaw/data.ts";
import { encodeWav } from "../../../src/io/wav.ts";
import { Adam } from "../../../src/nn/optim.ts";
import { Rng } from "../../../src/random.ts";
import { gpuTest } from "../../helpers.ts";

const tiny = { channels: 6, dim: 8, projDim: 8, heads: 2, ffn: 8, nMels: 12 };

async function musicFolder(labelled: boolean): Promise<string> {
  const g = generateMusic({ clips: 8, seed: 5, sampleRate: 8000, phrases: 1, bars: 2, beats: 2 });
  const dir = await Deno.makeTempDir();
  for (let c = 0; c < 8; c++) {
    const sub = labelled ? `${dir}/${g.styles[g.style[c]].name}` : dir;
    await Deno.mkdir(sub, { recursive: true });
    const x = g.audio.slice(c * g.length, (c + 1) * g.length);
    // Stereo at 16 kHz, PCM 24: mixed to mono and resampled to 8 kHz on reading.
    const up = Float32Array.from({ length: 2 * x.length }, (_, i) => x[i >> 1]);
    await Deno.writeFile(
      `${sub}/clip${c}.wav`,
      encodeWav({ sampleRate: 16000, channels: [up, up] }, "pcm24"),
    );
  }
  return dir;
}

gpuTest("musicpaw task: WAV folder → clips → both losses, probe, one training step", async () => {
  const dir = await musicFolder(true);
  const set = await wavFolderSet(dir, { nMels: tiny.nMels });
  assert.equal(set.labels?.length, 8);
  assert.deepEqual(set.classes, ["drone", "major", "pentatonic", "wholetone"]);
  assert.equal(set.mel.nMels, tiny.nMels);
  for (const objective of ["paw", "clip"] as const) {
    const m = new MusicPawTask(set, { ...tiny, objective, seed: 1 });
    assert.deepEqual(m.probeMetric, { name: "probe_acc", mode: "max" });
    const opt = new Adam(m.parameters(), { lr: 1e-2 });
    const w0 = await m.encoder.conv1.weight.read();
    const rows = Int32Array.from({ length: m.numSamples }, (_, i) => i);
    await tidy(async () => {
      const out = m.loss(rows, new Rng(2));
      backward(out.loss);
      const vals = await readAll([out.loss, ...Object.values(out.parts)]);
      assert.ok(vals.every((v) => Number.isFinite(v[0]) && v[0] > 0), `${objective} losses`);
      assert.deepEqual(
        Object.keys(out.parts),
        objective === "paw" ? ["level0", "level1"] : ["clip"],
      );
      opt.step();
    });
    const w1 = await m.encoder.conv1.weight.read();
    assert.notDeepEqual(w0, w1, "a step moves the backbone");
    const p = await m.probe("test");
    assert.ok(p.probe_acc >= 0 && p.probe_acc <= 1);
    const h = await m.embedClips(Int32Array.from([0, 1]));
    assert.equal(h.length, 2 * tiny.dim);
    m.dispose();
  }
  await Deno.remove(dir, { recursive: true });
});

gpuTest("musicpaw task: an unlabelled folder is probed by the held-out loss", async () => {
  const dir = await musicFolder(false);
  const set = await wavFolderSet(dir, { nMels: tiny.nMels });
  assert.equal(set.labels, null);
  const m = new MusicPawTask(set, { ...tiny, seed: 1 });
  assert.deepEqual(m.probeMetric, { name: "ssl_loss", mode: "min" });
  const a = await m.probe("valid"), b = await noGrad(() => m.probe("valid"));
  assert.ok(Number.isFinite(a.ssl_loss) && a.ssl_loss > 0);
  assert.equal(a.ssl_loss, b.ssl_loss, "the same held-out crops every time");
  m.dispose();
  await Deno.remove(dir, { recursive: true });
});
