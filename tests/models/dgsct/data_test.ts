// DG-SCT's seeded audio-visual generator and AVE's segment accuracy: determinism, one
// contiguous event span per video, and the design claim that the event needs both modalities
// (an oracle reading both matches the labels; one reading the audio alone does not), over
// 3 seeds; the accuracy against a hand-worked example and its shape errors.
import assert from "node:assert/strict";
import { aveAccuracy, generateAudioVisual } from "../../../src/models/dgsct/data.ts";

Deno.test("dgsct data: same seed, same videos; one contiguous event span per video", () => {
  const a = generateAudioVisual({ videos: 6, seed: 4 });
  const b = generateAudioVisual({ videos: 6, seed: 4 });
  assert.deepEqual(a.audio, b.audio);
  assert.deepEqual(a.images, b.images);
  assert.notDeepEqual(a.audio, generateAudioVisual({ videos: 6, seed: 5 }).audio);
  for (let v = 0; v < 6; v++) {
    const row = Array.from(a.fg.subarray(v * 10, v * 10 + 10)).join("");
    assert.match(row, /^0*11+0*$/, `video ${v}: ${row}`);
    for (let s = 0; s < 10; s++) {
      assert.equal(a.labels[v * 10 + s], a.fg[v * 10 + s] ? a.cls[v] : a.classes);
    }
  }
});

/** Amplitude of class c's two tones in a segment (DFT at their bins, normalised). */
function toneLevel(x: Float32Array, c: number, n: number): number {
  let e = 0;
  for (const k of [0, 1]) {
    const f = Math.round(n * (0.02 + 0.035 * c + 0.013 * k));
    let re = 0, im = 0;
    for (let i = 0; i < n; i++) {
      re += x[i] * Math.cos((2 * Math.PI * f * i) / n);
      im -= x[i] * Math.sin((2 * Math.PI * f * i) / n);
    }
    e += (2 * Math.hypot(re, im)) / n;
  }
  return e / 2;
}

/** Mean brightness of class c's square. */
function squareLevel(img: Float32Array, c: number, side: number): number {
  const q = side / 4, cell = c % 16, ch = c % 3;
  const y0 = Math.floor(cell / 4) * q, x0 = (cell % 4) * q;
  let s = 0;
  for (let y = y0; y < y0 + q; y++) {
    for (let x = x0; x < x0 + q; x++) s += img[(ch * side + y) * side + x];
  }
  return s / (q * q);
}

Deno.test("dgsct data: the event needs both modalities (oracles over 3 seeds)", () => {
  for (const seed of [1, 2, 3]) {
    const d = generateAudioVisual({ videos: 12, seed, samples: 1024 });
    let both = 0, audioOnly = 0;
    const n = d.videos * d.segments, img = 3 * d.side * d.side;
    for (let i = 0; i < n; i++) {
      const c = d.cls[Math.floor(i / d.segments)];
      const heard =
        toneLevel(d.audio.subarray(i * d.samples, (i + 1) * d.samples), c, d.samples) > 0.15;
      const seen = squareLevel(d.images.subarray(i * img, (i + 1) * img), c, d.side) > 0.5;
      if ((heard && seen ? 1 : 0) === d.fg[i]) both++;
      if ((heard ? 1 : 0) === d.fg[i]) audioOnly++;
    }
    assert.equal(both, n, `seed ${seed}: the audio-visual oracle is exact`);
    assert.ok(
      audioOnly < n,
      `seed ${seed}: audio alone is fooled by silent-source segments (${audioOnly}/${n})`,
    );
  }
});

Deno.test("dgsct data: AVE segment accuracy on a worked example, and shape errors", () => {
  // 2 videos × 3 segments, 2 classes (background = 2).
  const labels = [0, 0, 2, 2, 1, 1];
  const event = [2, 1, 0, 3]; // video 0 → class 0, video 1 → class 1
  const isEvent = [1, -1, -2, 0.5, 0.1, -0.3]; // σ > 0.5 ⇔ logit > 0
  // predictions: [0, 2, 2], [1, 1, 2] → right: 1, 0, 1, 0, 1, 0 = 3/6
  assert.equal(aveAccuracy(isEvent, event, labels, 2, 3, 2), 0.5);
  assert.throws(
    () => aveAccuracy([1], event, labels, 2, 3, 2),
    /isEvent \(1\).*videos × segments = 6/,
  );
  assert.throws(() => aveAccuracy(isEvent, [1], labels, 2, 3, 2), /event holds 1 logits/);
  assert.throws(() => generateAudioVisual({ videos: 0, seed: 1 }), /videos 0/);
});
