// The seeded part-whole music generator: determinism, balanced labels, the hierarchy (each
// bar of a phrase repeats the phrase's rhythm; pitches stay in the style's scale), and that its
// style labels are audible: nearest-centroid on mean log-mel features (CPU front end) beats
// chance over 3 seeds.
import { generateMusic, MUSIC_STYLES } from "../../../src/models/musicpaw/data.ts";
import { cpuFrontEnd } from "../../../src/ops/audio/cpu.ts";
import { melSpectrogram } from "../../../src/ops/audio/settings.ts";
import assert from "node:assert/strict";

const small = { sampleRate: 8000, phrases: 2, bars: 2, beats: 3 };

Deno.test("musicpaw data: same seed, same clips; another seed differs", () => {
  const a = generateMusic({ clips: 3, seed: 1, ...small });
  const b = generateMusic({ clips: 3, seed: 1, ...small });
  const c = generateMusic({ clips: 3, seed: 2, ...small });
  assert.deepEqual(a.audio, b.audio);
  assert.notDeepEqual(a.audio, c.audio);
  assert.equal(a.audio.length, 3 * a.length);
  assert.ok(a.audio.every((v) => Math.abs(v) < 1), "samples stay in (−1, 1)");
});

Deno.test("musicpaw data: balanced styles, motifs repeat per bar, pitches in the scale", () => {
  const d = generateMusic({ clips: 8, seed: 3, ...small });
  assert.deepEqual(Array.from(d.style), [0, 1, 2, 3, 0, 1, 2, 3]);
  d.notes.forEach((notes, c) => {
    const s = MUSIC_STYLES[d.style[c]];
    const tonic = Math.min(...notes.map((n) => n.pitch)); // at or above the tonic's octave
    for (let p = 0; p < small.phrases; p++) {
      const beatsOf = (bar: number) =>
        notes.filter((n) => n.phrase === p && n.bar === bar).map((n) => n.beat).join(",");
      for (let b = 1; b < small.bars; b++) assert.equal(beatsOf(b), beatsOf(0), `clip ${c}`);
    }
    // Every pitch class lies in the scale transposed to some tonic: check intervals between notes.
    const pcs = new Set(notes.map((n) => (n.pitch - tonic + 120) % 12));
    const fits = Array.from(
      { length: 12 },
      (_, t) => [...pcs].every((pc) => s.scale.includes((pc + t) % 12)),
    );
    assert.ok(fits.some(Boolean), `clip ${c} (${s.name}): pitch classes ${[...pcs]}`);
  });
});

Deno.test("musicpaw data: styles are audible (nearest centroid on log-mel, 3 seeds)", () => {
  const fe = melSpectrogram({ sampleRate: 8000, nFft: 512, hopLength: 256, nMels: 32, log: "log" });
  for (const seed of [11, 12, 13]) {
    const d = generateMusic({ clips: 16, seed, ...small });
    const y = cpuFrontEnd(fe, d.audio, 16);
    const t = y.length / (16 * 32);
    const mean = Array.from({ length: 16 }, (_, c) => {
      // Mean and standard deviation over time of each band.
      const m = new Float64Array(64);
      for (let f = 0; f < t; f++) {
        for (let k = 0; k < 32; k++) {
          const v = y[(c * t + f) * 32 + k];
          m[k] += v / t;
          m[32 + k] += (v * v) / t;
        }
      }
      for (let k = 0; k < 32; k++) m[32 + k] = Math.sqrt(Math.max(0, m[32 + k] - m[k] * m[k]));
      return m;
    });
    let right = 0;
    for (let c = 0; c < 16; c++) { // leave-one-out nearest centroid
      let best = -1, bestD = Infinity;
      for (let s = 0; s < 4; s++) {
        const cent = new Float64Array(64);
        let n = 0;
        for (let o = 0; o < 16; o++) {
          if (o === c || d.style[o] !== s) continue;
          mean[o].forEach((v, k) => cent[k] += v);
          n++;
        }
        const dist = cent.reduce((acc, v, k) => acc + (v / n - mean[c][k]) ** 2, 0);
        if (dist < bestD) bestD = dist, best = s;
      }
      if (best === d.style[c]) right++;
    }
    assert.ok(right / 16 > 0.5, `seed ${seed}: accuracy ${right}/16 (chance 4/16)`);
  }
});

Deno.test("musicpaw data: bad sizes are refused", () => {
  assert.throws(() => generateMusic({ clips: 0, seed: 1 }), /generateMusic: clips 0/);
});
