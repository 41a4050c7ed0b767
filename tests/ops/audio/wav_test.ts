// WAV reading: files written by Python's `wave`/`struct` (fixtures/make_wav.py), encode/decode
// round trips, windowed-sinc resampling of tones, and the errors for bad files.
import fc from "npm:fast-check@3";
import { decodeWav, encodeWav, mixToMono, readWav, resample } from "../../../src/io/wav.ts";
import { assert, assertClose } from "../../helpers.ts";

const dir = new URL("./fixtures/wav/", import.meta.url);
const expected = JSON.parse(await Deno.readTextFile(new URL("wav.json", dir))) as Record<
  string,
  { rate: number; channels: number[][] }
>;

Deno.test("wav: PCM 16 stereo, PCM 24, float 32 and extensible float decode exactly", async () => {
  for (
    const [file, key] of [
      ["pcm16_stereo", "pcm16_stereo"],
      ["pcm24_mono", "pcm24_mono"],
      ["float32_mono", "float32_mono"],
      ["float32_extensible", "float32_mono"],
    ]
  ) {
    const a = decodeWav(await Deno.readFile(new URL(`${file}.wav`, dir)), file);
    const e = expected[key];
    assert.equal(a.sampleRate, e.rate, file);
    assert.equal(a.channels.length, e.channels.length, file);
    a.channels.forEach((c, i) => assertClose(c, e.channels[i], { atol: 0, rtol: 1e-7, msg: file }));
  }
});

Deno.test("wav: readWav mixes to mono and resamples", async () => {
  const a = await readWav(new URL("pcm16_stereo.wav", dir), { mono: true });
  const e = expected.pcm16_stereo.channels;
  assertClose(a.channels[0], e[0].map((v, i) => (v + e[1][i]) / 2), { atol: 1e-7, rtol: 0 });
  const b = await readWav(new URL("pcm16_stereo.wav", dir), { sampleRate: 11025 });
  assert.equal(b.sampleRate, 11025);
  assert.equal(b.channels.length, 2);
  assert.equal(b.channels[0].length, Math.ceil(37 / 2));
});

Deno.test("wav: encode → decode round trips (pcm16, pcm24 within a step, float32 exactly)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 50 }),
      fc.constantFrom("pcm16", "pcm24", "float32") as fc.Arbitrary<"pcm16" | "pcm24" | "float32">,
      fc.integer({ min: 1, max: 96000 }),
      (ch, n, enc, rate) => {
        const channels = Array.from(
          { length: ch },
          (_, c) => Float32Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + c) * 0.99),
        );
        const back = decodeWav(encodeWav({ sampleRate: rate, channels }, enc));
        assert.equal(back.sampleRate, rate);
        const step = enc === "pcm16" ? 1 / 32768 : enc === "pcm24" ? 1 / 8388608 : 0;
        back.channels.forEach((c, i) => assertClose(c, channels[i], { atol: step, rtol: 0 }));
      },
    ),
    { numRuns: 40 },
  );
});

const tone = (f: number, rate: number, n: number) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * f * i) / rate));

Deno.test("wav: resampling keeps an in-band tone and removes what would alias", () => {
  for (const [from, to] of [[16000, 8000], [8000, 22050], [44100, 16000]]) {
    const y = resample(tone(440, from, 4000), from, to);
    assert.equal(y.length, Math.ceil((4000 * to) / from));
    const ref = tone(440, to, y.length);
    const mid = y.subarray(100, y.length - 100); // away from the edges the filter sees zeros
    assertClose(mid, ref.subarray(100, y.length - 100), {
      atol: 2e-3,
      rtol: 0,
      msg: `${from}→${to}`,
    });
  }
  const alias = resample(tone(7000, 16000, 4000), 16000, 8000).subarray(100, 1900);
  const rms = Math.sqrt(alias.reduce((s, v) => s + v * v, 0) / alias.length);
  assert.ok(rms < 0.02, `7 kHz at 16 kHz → 8 kHz should be filtered out, RMS ${rms}`);
});

Deno.test("wav: unsupported encodings and non-WAV data are refused by name", async () => {
  const adpcm = await Deno.readFile(new URL("adpcm.wav", dir));
  assert.throws(
    () => decodeWav(adpcm, "adpcm.wav"),
    /adpcm\.wav: unsupported encoding: format tag 2, 4 bits/,
  );
  assert.throws(
    () => decodeWav(new TextEncoder().encode("hello world!!"), "x.txt"),
    /x\.txt: not a RIFF/,
  );
  const noData = encodeWav({ sampleRate: 8000, channels: [new Float32Array(2)] }).subarray(0, 36);
  assert.throws(() => decodeWav(noData), /no 'data' chunk/);
  await assert.rejects(() => readWav(new URL("adpcm.wav", dir)), /adpcm\.wav: unsupported/);
});

Deno.test("wav: mixToMono averages", () => {
  const m = mixToMono({ sampleRate: 1, channels: [Float32Array.of(1, 2), Float32Array.of(3, 6)] });
  assert.deepEqual(Array.from(m), [2, 4]);
});
