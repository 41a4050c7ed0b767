// The seeded AVT generator (shapes, determinism, shared events across modalities) and the
// cross-modal protocol pieces: the head's transfer accuracy on aligned vs shuffled features,
// retrieval recall, TOC channel slicing of frozen features, bad input.
import fc from "npm:fast-check@3";
import { batchOf, generateAvt, retrievalRecall, transfer } from "../../../src/models/dcid/mod.ts";
import { readAll, tensor, tidy } from "../../../internal.ts";
import { assert, gpuTest } from "../../helpers.ts";

const small = { classes: 4, seqLen: 5, audioDim: 6, videoDim: 4, textDim: 5 };

Deno.test("generateAvt: shapes, determinism per seed, labels in range, post-ReLU video", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 99 }), (n, seed) => {
      const a = generateAvt({ ...small, clips: n, seed });
      const b = generateAvt({ ...small, clips: n, seed });
      assert.equal(a.audio.length, n * 5 * 6);
      assert.equal(a.video.length, n * 5 * 49 * 4);
      assert.equal(a.text.length, n * 5 * 5);
      assert.deepEqual(a.audio, b.audio);
      assert.deepEqual(a.video, b.video);
      assert.ok(a.labels.every((c) => c >= 0 && c < 4));
      assert.ok(a.video.every((v) => v >= 0));
    }),
    { numRuns: 10 },
  );
  assert.throws(() => generateAvt({ ...small, clips: 0, seed: 1 }), /generateAvt: sizes/);
});

Deno.test("generateAvt: the class event is findable under the nuisance (class means beat chance)", () => {
  // A nearest-class-mean classifier fitted on the pooled audio of 100 clips labels the audio of
  // 100 other clips well above chance: the event, not only the nuisance, reaches a modality.
  const d = generateAvt({ ...small, audioDim: 16, textDim: 16, clips: 200, seed: 3, noise: 0.1 });
  const T = 5;
  const pooled = (x: Float32Array, w: number) =>
    Array.from({ length: 200 }, (_, n) => {
      const v = new Float64Array(w);
      for (let t = 0; t < T; t++) for (let i = 0; i < w; i++) v[i] += x[(n * T + t) * w + i];
      return v;
    });
  const a = pooled(d.audio, 16);
  const means = Array.from({ length: 4 }, () => new Float64Array(16));
  const counts = [0, 0, 0, 0];
  for (let n = 0; n < 100; n++) {
    counts[d.labels[n]]++;
    a[n].forEach((v, i) => (means[d.labels[n]][i] += v));
  }
  means.forEach((m, c) => m.forEach((_, i) => (m[i] /= Math.max(1, counts[c]))));
  let hit = 0;
  for (let n = 100; n < 200; n++) {
    const dist = means.map((m) => m.reduce((s, v, i) => s + (v - a[n][i]) ** 2, 0));
    if (dist.indexOf(Math.min(...dist)) === d.labels[n]) hit++;
  }
  assert.ok(hit / 100 > 0.4, `nearest class mean on audio: ${hit}% (chance 25%)`);
});

gpuTest(
  "transfer: a head trained on one view transfers to an aligned view, not a shuffled one",
  async () => {
    const n = 48;
    const T = 3;
    const D = 4;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    const feat = (shift: number, shuffle: boolean) => {
      const x = new Float32Array(n * T * D);
      for (let i = 0; i < n; i++) {
        const c = shuffle ? (labels[i] + 1) % 3 : labels[i];
        for (let t = 0; t < T; t++) x[(i * T + t) * D + c] = 2 + shift * ((i * 7 + t) % 5) / 10;
      }
      return x;
    };
    const [aligned, shuffled] = await tidy(async () => {
      const a = tensor(feat(0, false), [n, T, D]);
      return await transfer(
        a,
        labels,
        [
          { x: tensor(feat(1, false), [n, T, D]), labels },
          { x: tensor(feat(1, true), [n, T, D]), labels },
        ],
        3,
        { epochs: 60, batch: 16, lr: 1e-2, seed: 1 },
      );
    });
    assert.ok(aligned > 0.95, `aligned ${aligned}`);
    assert.ok(shuffled < 0.05, `shuffled ${shuffled}`);
  },
);

gpuTest(
  "retrievalRecall: identical views retrieve themselves; batchOf takes the rows",
  async () => {
    const x = Float32Array.from({ length: 5 * 2 * 3 }, (_, i) => Math.sin(i * 1.7));
    const r = await tidy(async () =>
      await retrievalRecall(tensor(x, [5, 2, 3]), tensor(x, [5, 2, 3]), [1, 5])
    );
    assert.deepEqual(r, [1, 1]);
    const d = generateAvt({ ...small, clips: 4, seed: 2 });
    const picked = tidy(() => {
      const b = batchOf(d, [2, 0]);
      return [b.audio, b.text];
    });
    const got = await readAll(picked);
    for (const t of picked) t.dispose();
    assert.deepEqual([...got[0].subarray(0, 30)], [...d.audio.subarray(60, 90)]);
    assert.deepEqual([...got[1].subarray(25, 50)], [...d.text.subarray(0, 25)]);
  },
);
