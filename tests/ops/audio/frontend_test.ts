// The GPU front end against NumPy re-implementations of Kaldi fbank and torchaudio's
// MelSpectrogram (fixtures/make_frontend.py; torchaudio is not installed here), against the
// TS CPU front end on random settings, and its bad-input errors.
import fc from "npm:fast-check@3";
import { tensor, tidy } from "../../../internal.ts";
import { AudioFrontEnd } from "../../../src/ops/audio/frontend.ts";
import { cpuFrontEnd } from "../../../src/ops/audio/cpu.ts";
import { kaldiFbank, melSpectrogram } from "../../../src/ops/audio/settings.ts";
import { assert, assertClose, gpuTest, randArray } from "../../helpers.ts";

interface Case {
  x: number[];
  batch: number;
  y: number[];
}
const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/frontend.json", import.meta.url)),
) as { kaldi: Case; mel: Case; mel_db: { y: number[] } };

async function run(fe: AudioFrontEnd, c: Case): Promise<Float32Array> {
  const y = tidy(() => fe.forward(tensor(Float32Array.from(c.x), [c.batch, c.x.length / c.batch])));
  const v = await y.read();
  y.dispose();
  return v;
}

gpuTest("front end: Kaldi fbank settings match the NumPy reference (1e-4 relative)", async () => {
  const fe = new AudioFrontEnd(kaldiFbank({ sampleRate: 16000 }));
  assert.equal(fe.settings.nFft, 512);
  const got = await run(fe, fx.kaldi);
  assertClose(got, fx.kaldi.y, { atol: 1e-4, rtol: 1e-4, msg: "kaldi fbank" });
  assertClose(cpuFrontEnd(fe.settings, fx.kaldi.x, 2), fx.kaldi.y, { atol: 1e-5, rtol: 1e-5 });
  fe.dispose();
});

gpuTest("front end: torchaudio MelSpectrogram settings match NumPy (power and dB)", async () => {
  const opts = { sampleRate: 8000, nFft: 256, winLength: 200, hopLength: 100, nMels: 20 };
  const fe = new AudioFrontEnd(melSpectrogram(opts));
  assertClose(await run(fe, fx.mel), fx.mel.y, { atol: 1e-6, rtol: 1e-4, msg: "mel power" });
  fe.dispose();
  const db = new AudioFrontEnd(melSpectrogram({ ...opts, log: "db" }));
  assertClose(await run(db, fx.mel), fx.mel_db.y, { atol: 1e-4, rtol: 1e-4, msg: "mel dB" });
  db.dispose();
});

gpuTest("front end: random settings and lengths match the CPU front end", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        logn: fc.integer({ min: 3, max: 8 }),
        hop: fc.integer({ min: 1, max: 37 }),
        len: fc.integer({ min: 1, max: 300 }),
        batch: fc.integer({ min: 1, max: 3 }),
        kaldi: fc.boolean(),
        seed: fc.integer({ min: 0, max: 999 }),
      }),
      async ({ logn, hop, len, batch, kaldi, seed }) => {
        const n = 2 ** logn;
        const s = kaldi
          ? kaldiFbank({
            sampleRate: 1000,
            frameLength: (n - 1) * 1,
            frameShift: hop,
            numMelBins: 5,
          })
          : melSpectrogram({
            sampleRate: 1000,
            nFft: n,
            winLength: n - 1,
            hopLength: hop,
            nMels: 7,
            log: "log",
          });
        const fe = new AudioFrontEnd(s);
        const total = s.center ? len + n / 2 + 1 : len + s.frameLen;
        const x = randArray(batch * total, seed);
        const y = tidy(() => fe.forward(tensor(x, [batch, total])));
        assertClose(await y.read(), cpuFrontEnd(s, x, batch), { atol: 2e-4, rtol: 1e-4 });
        y.dispose();
        fe.dispose();
      },
    ),
    { numRuns: 10 },
  );
});

gpuTest("front end: a clip shorter than one frame and bad settings are refused", () => {
  const fe = new AudioFrontEnd(kaldiFbank());
  tidy(() => {
    assert.throws(
      () => fe.forward(tensor(new Float32Array(300), [1, 300])),
      /clip of 300 samples is shorter than one frame \(400 samples, 25\.0 ms at 16000 Hz\)/,
    );
    assert.throws(() => fe.forward(tensor(new Float32Array(8), [2, 2, 2])), /\[2, 2, 2\]/);
  });
  fe.dispose();
  const mel = new AudioFrontEnd(melSpectrogram({ nFft: 64 }));
  tidy(() => {
    assert.throws(() => mel.forward(tensor(new Float32Array(32), [32])), /too short for centred/);
  });
  mel.dispose();
  assert.throws(() => melSpectrogram({ nFft: 400 }), /nFft 400 must be a power of two.*512/);
  assert.throws(() => melSpectrogram({ nFft: 64, winLength: 65 }), /winLength 65/);
  const bad = { ...kaldiFbank(), window: new Float32Array(3) };
  assert.throws(() => new AudioFrontEnd(bad), /window has 3 values, expected frameLen = 400/);
});

gpuTest("front end: chunked frames (a long clip in pieces) equal one pass", async () => {
  const s = kaldiFbank({ sampleRate: 8000 }); // 200-sample frames, hop 80, nFft 256
  const x = randArray(2 * 3000, 9);
  const whole = new AudioFrontEnd(s);
  const pieces = new AudioFrontEnd(s, 2 * 256 * 4 * 7); // 7 frames per chunk: 36 = 5·7 + 1
  const [a, b] = tidy(() => {
    const xt = tensor(x, [2, 3000]);
    return [whole.forward(xt), pieces.forward(xt)];
  });
  assert.deepEqual(a.shape, [2, 36, 23]);
  assert.deepEqual(await b.read(), await a.read());
  assertClose(await a.read(), cpuFrontEnd(s, x, 2), { atol: 1e-4, rtol: 1e-4 });
  tidy(() => {
    assert.throws(
      () => whole.frames(tensor(x, [2, 3000]), 30, 7),
      /frames 30\.\.36 of a clip with 36/,
    );
  });
  a.dispose(), b.dispose(), whole.dispose(), pieces.dispose();
});
