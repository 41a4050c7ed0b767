// Music-PAW's host parts: multi-level crops (shapes over awkward sizes; without augmentation a
// whole is exactly its two parts, and parts are deterministic per seed), the baseline's views,
// the linear probe (separable data learnt, shuffled labels at chance), the stratified split,
// and bad input: a WAV shorter than one frame, an unsupported WAV encoding, clips too short
// for the hierarchy, wrong settings. No GPU needed.
import fc from "npm:fast-check@3";
import assert from "node:assert/strict";
import {
  type Augment,
  levelCrops,
  type MelClips,
  twoViews,
  usableFrames,
  wholeClips,
} from "../../../src/models/musicpaw/crops.ts";
import { accuracy, fitLinearProbe } from "../../../src/models/musicpaw/probe.ts";
import { type MusicSet, stratifiedSplit } from "../../../src/models/musicpaw/clips.ts";
import { wavFolderSet } from "../../../src/models/musicpaw/wav_folder.ts";
import { MusicPawTask } from "../../../src/models/musicpaw/task.ts";
import { resolveMusicPaw } from "../../../src/models/musicpaw/config.ts";
import { encodeWav } from "../../../src/io/wav.ts";
import { Rng } from "../../../src/random.ts";

const NONE: Augment = { jitter: 0, gain: 0, noise: 0, freqMask: 0, timeMask: 0 };

function mel(clips: number, frames: number, nMels: number, seed: number): MelClips {
  const r = new Rng(seed);
  return {
    frames,
    nMels,
    data: Float32Array.from({ length: clips * frames * nMels }, () => r.normal()),
  };
}

Deno.test("musicpaw crops: level shapes; without augmentation each whole is its two parts", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 2, max: 4 }),
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: 1, max: 7 }),
      (clips, levels, extra, F) => {
        const T = 2 * 2 ** (levels - 1) + extra; // parts of ≥ 2 frames, T not a power of two
        const m = mel(clips, T, F, clips + T);
        const rows = Int32Array.from({ length: clips }, (_, i) => clips - 1 - i);
        const cs = levelCrops(m, rows, levels, new Rng(1), NONE);
        const Tu = usableFrames(T, levels);
        cs.forEach((c, l) => assert.deepEqual(c.shape, [clips * 2 ** l, Tu / 2 ** l, F]));
        // Whole k of level ℓ = part 2k then part 2k+1 of level ℓ+1 (clip-major rows).
        for (let l = 0; l + 1 < levels; l++) {
          assert.deepEqual(cs[l].data, cs[l + 1].data);
        }
        // Level 0 is the clip's first T' frames.
        assert.deepEqual(cs[0].data, wholeClips(m, rows, Tu).data);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("musicpaw crops: augmentation is seeded, changes values, keeps shapes", () => {
  const m = mel(3, 37, 5, 0);
  const rows = Int32Array.from([2, 0]);
  const a = levelCrops(m, rows, 3, new Rng(7));
  const b = levelCrops(m, rows, 3, new Rng(7));
  const c = levelCrops(m, rows, 3, new Rng(8));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[2].data, c[2].data);
  assert.notDeepEqual(a[0].data, levelCrops(m, rows, 3, new Rng(7), NONE)[0].data);
  const [v1, v2] = twoViews(m, rows, 0.75, new Rng(3));
  assert.deepEqual(v1.shape, [2, 28, 5]);
  assert.deepEqual(v2.shape, v1.shape);
  assert.notDeepEqual(v1.data, v2.data);
  // Without augmentation a view is a contiguous window of its clip.
  const [w] = twoViews(m, Int32Array.from([1]), 0.5, new Rng(4), NONE);
  const clip = m.data.subarray(37 * 5, 2 * 37 * 5);
  const hit = Array.from({ length: 37 - 19 + 1 }, (_, s) => s).some((s) =>
    w.data.every((v, i) => v === clip[s * 5 + i])
  );
  assert.ok(hit, "a view is a window of its clip");
});

Deno.test("musicpaw probe: learns separable classes, chance on shuffled labels", () => {
  const rng = new Rng(3), d = 6, k = 3, n = 90;
  const centers = Array.from({ length: k * d }, () => 3 * rng.normal());
  const make = (m: number, r: Rng) => {
    const y = Int32Array.from({ length: m }, (_, i) => i % k);
    const x = Float32Array.from(
      { length: m * d },
      (_, i) => centers[y[(i / d) | 0] * d + (i % d)] + r.normal(),
    );
    return { x, y };
  };
  const tr = make(n, rng), te = make(60, rng);
  const p = fitLinearProbe(tr.x, tr.y, d, k);
  assert.ok(accuracy(p.predict(te.x), te.y) > 0.9);
  const shuffled = new Rng(9).shuffle(Int32Array.from(tr.y)) as Int32Array;
  const q = fitLinearProbe(Float32Array.from(tr.x, () => rng.normal()), shuffled, d, k);
  assert.ok(accuracy(q.predict(te.x), te.y) < 0.6);
  assert.throws(() => fitLinearProbe(tr.x, tr.y, d + 1, k), /linear probe: .* expected n·D/);
});

Deno.test("musicpaw split: stratified, disjoint, covers every clip", () => {
  const y = Int32Array.from({ length: 40 }, (_, i) => i % 4);
  const s = stratifiedSplit(y, 40, 1);
  const all = [...s.train, ...s.valid, ...s.test].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 40 }, (_, i) => i));
  for (let c = 0; c < 4; c++) assert.equal(s.train.filter((i) => y[i] === c).length, 6);
});

async function folder(files: Record<string, Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [name, bytes] of Object.entries(files)) {
    const path = `${dir}/${name}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, bytes);
  }
  return dir;
}

const tone = (n: number, sr = 8000) =>
  encodeWav({
    sampleRate: sr,
    channels: [Float32Array.from({ length: n }, (_, i) => Math.sin(i / 5) / 2)],
  });

Deno.test("musicpaw bad input: a WAV shorter than one frame, an unsupported encoding", async () => {
  const short = await folder({ "a/x.wav": tone(4000), "b/y.wav": tone(100) });
  await assert.rejects(
    () => wavFolderSet(short),
    /musicpaw: .*b\/y\.wav: 100 samples at 8000 Hz is shorter than one frame \(512 samples/,
  );
  const adpcm = tone(4000);
  new DataView(adpcm.buffer).setUint16(20, 2, true); // format tag 2 (MS ADPCM)
  const bad = await folder({ "a/x.wav": tone(4000), "b/z.wav": adpcm });
  await assert.rejects(
    () => wavFolderSet(bad),
    /decodeWav: .*b\/z\.wav: unsupported encoding: format tag 2/,
  );
  const one = await folder({ "x.wav": tone(4000) });
  await assert.rejects(() => wavFolderSet(one), /has 1 \.wav files; expected at least 2/);
  for (const d of [short, bad, one]) await Deno.remove(d, { recursive: true });
});

Deno.test("musicpaw bad input: clips too short for the levels; settings named", () => {
  const set: MusicSet = {
    name: "tiny",
    description: "",
    mel: mel(4, 7, 3, 1),
    labels: Int32Array.from([0, 1, 0, 1]),
    classes: ["a", "b"],
    split: stratifiedSplit(Int32Array.from([0, 1, 0, 1]), 4, 0, [0.5, 0.25]),
  };
  assert.throws(
    () => new MusicPawTask(set, { levels: 3 }),
    /tiny: clips of 7 frames are too short for 3 levels \(level 2 parts would have 1 frames/,
  );
  assert.throws(() => resolveMusicPaw({ levels: 1 }), /levels 1 must be an integer in 2\.\.6/);
  assert.throws(() => resolveMusicPaw({ dim: 10, heads: 4 }), /dim 10 is not divisible by heads 4/);
  assert.throws(() => resolveMusicPaw({ channels: 0 }), /channels 0 must be an integer ≥ 1/);
  assert.throws(
    () => resolveMusicPaw({ levelWeights: [1] }),
    /levelWeights has 1 values, expected/,
  );
});
