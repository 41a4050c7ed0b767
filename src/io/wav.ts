/**
 * WAV files: `decodeWav` reads RIFF/WAVE bytes (PCM 8/16/24/32-bit integers, 32/64-bit floats,
 * WAVE_FORMAT_EXTENSIBLE of either; any channel count) into f32 channels in [−1, 1];
 * `encodeWav` writes PCM 16/24 or float 32; `resample` changes the rate with a windowed-sinc
 * (band-limited, Hann-windowed) interpolator; `readWav` (Deno) reads a file, optionally mixing
 * to mono and resampling to a set rate. Errors name the file and what was found.
 * @module
 */

/** Decoded audio: one f32 array per channel, all the same length. */
export interface WavAudio {
  /** Samples per second. */
  sampleRate: number;
  /** channels[c][i]: sample i of channel c, in [−1, 1] for integer PCM. */
  channels: Float32Array[];
}

const PCM = 1, FLOAT = 3, EXTENSIBLE = 0xfffe;

/** Decodes a RIFF/WAVE file; `name` labels errors (a path, by default "WAV data"). */
export function decodeWav(bytes: Uint8Array, name = "WAV data"): WavAudio {
  const bad = (what: string) => new Error(`wgrec decodeWav: ${name}: ${what}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (o: number) => String.fromCharCode(...bytes.subarray(o, o + 4));
  if (bytes.length < 12 || tag(0) !== "RIFF" || tag(8) !== "WAVE") {
    throw bad("not a RIFF/WAVE file (expected 'RIFF' .... 'WAVE' at the start)");
  }
  let fmt: { format: number; channels: number; rate: number; bits: number; align: number } | null =
    null;
  let data: Uint8Array | null = null;
  for (let o = 12; o + 8 <= bytes.length;) {
    const id = tag(o), size = v.getUint32(o + 4, true), body = o + 8;
    if (id === "fmt ") {
      if (size < 16) throw bad(`'fmt ' chunk of ${size} bytes (expected at least 16)`);
      let format = v.getUint16(body, true);
      if (format === EXTENSIBLE && size >= 40) format = v.getUint16(body + 24, true); // sub-format
      fmt = {
        format,
        channels: v.getUint16(body + 2, true),
        rate: v.getUint32(body + 4, true),
        align: v.getUint16(body + 12, true),
        bits: v.getUint16(body + 14, true),
      };
    } else if (id === "data") {
      data = bytes.subarray(body, Math.min(body + size, bytes.length));
    }
    o = body + size + (size & 1); // chunks are padded to even sizes
  }
  if (!fmt) throw bad("no 'fmt ' chunk");
  if (!data) throw bad("no 'data' chunk");
  const { format, channels, rate, bits } = fmt;
  const okInt = format === PCM && [8, 16, 24, 32].includes(bits);
  const okFloat = format === FLOAT && (bits === 32 || bits === 64);
  if (!okInt && !okFloat) {
    throw bad(
      `unsupported encoding: format tag ${format}, ${bits} bits (supported: PCM 8/16/24/32-bit ` +
        `integers (tag 1), IEEE float 32/64-bit (tag 3), or either inside tag 0xFFFE)`,
    );
  }
  if (channels < 1 || rate < 1) throw bad(`${channels} channels at ${rate} Hz`);
  const bps = bits / 8, frame = bps * channels;
  const n = Math.floor(data.length / frame);
  const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = Array.from({ length: channels }, () => new Float32Array(n));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < channels; c++) {
      const o = i * frame + c * bps;
      let s: number;
      if (okFloat) s = bits === 32 ? d.getFloat32(o, true) : d.getFloat64(o, true);
      else if (bits === 8) s = (d.getUint8(o) - 128) / 128; // 8-bit PCM is unsigned
      else if (bits === 16) s = d.getInt16(o, true) / 32768;
      else if (bits === 24) {
        const u = d.getUint8(o) | (d.getUint8(o + 1) << 8) | (d.getUint8(o + 2) << 16);
        s = ((u << 8) >> 8) / 8388608; // sign-extend 24 → 32 bits
      } else s = d.getInt32(o, true) / 2147483648;
      out[c][i] = s;
    }
  }
  return { sampleRate: rate, channels: out };
}

/** Encodings {@link encodeWav} writes. */
export type WavEncoding = "pcm16" | "pcm24" | "float32";

/** Encodes channels (equal lengths) as a WAV file; integer PCM clips to [−1, 1]. */
export function encodeWav(audio: WavAudio, encoding: WavEncoding = "pcm16"): Uint8Array {
  const ch = audio.channels.length, n = ch ? audio.channels[0].length : 0;
  if (ch < 1 || audio.channels.some((c) => c.length !== n)) {
    throw new Error(`wgrec encodeWav: need ≥ 1 channel, all the same length`);
  }
  const bits = encoding === "pcm16" ? 16 : encoding === "pcm24" ? 24 : 32;
  const bps = bits / 8, size = n * ch * bps;
  const bytes = new Uint8Array(44 + size + (size & 1));
  const v = new DataView(bytes.buffer);
  const put = (o: number, s: string) => [...s].forEach((c, i) => bytes[o + i] = c.charCodeAt(0));
  put(0, "RIFF");
  v.setUint32(4, bytes.length - 8, true);
  put(8, "WAVE");
  put(12, "fmt ");
  v.setUint32(16, 16, true);
  v.setUint16(20, encoding === "float32" ? FLOAT : PCM, true);
  v.setUint16(22, ch, true);
  v.setUint32(24, audio.sampleRate, true);
  v.setUint32(28, audio.sampleRate * ch * bps, true);
  v.setUint16(32, ch * bps, true);
  v.setUint16(34, bits, true);
  put(36, "data");
  v.setUint32(40, size, true);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ch; c++) {
      const o = 44 + (i * ch + c) * bps, x = audio.channels[c][i];
      if (encoding === "float32") {
        v.setFloat32(o, x, true);
        continue;
      }
      const full = encoding === "pcm16" ? 32768 : 8388608;
      const q = Math.max(-full, Math.min(full - 1, Math.round(x * full)));
      if (encoding === "pcm16") v.setInt16(o, q, true);
      else bytes.set([q & 255, (q >> 8) & 255, (q >> 16) & 255], o);
    }
  }
  return bytes;
}

/** Mean of the channels. */
export function mixToMono(audio: WavAudio): Float32Array {
  const n = audio.channels[0]?.length ?? 0, out = new Float32Array(n);
  for (const c of audio.channels) for (let i = 0; i < n; i++) out[i] += c[i];
  for (let i = 0; i < n; i++) out[i] /= audio.channels.length;
  return out;
}

/**
 * Resamples `x` from rate `from` to rate `to`: y[j] = Σ x[i]·h(j·from/to − i), h a
 * Hann-windowed sinc with `zeros` zero crossings each side, its cutoff at the lower Nyquist
 * (so downsampling filters out what would alias). Output length ⌈len·to/from⌉.
 */
export function resample(x: Float32Array, from: number, to: number, zeros = 16): Float32Array {
  if (!(from > 0 && to > 0)) throw new Error(`wgrec resample: rates ${from} → ${to} must be > 0`);
  if (from === to) return x.slice();
  const cut = Math.min(1, to / from); // cutoff as a fraction of the input Nyquist
  const half = zeros / cut; // filter half-width in input samples
  const out = new Float32Array(Math.ceil((x.length * to) / from));
  for (let j = 0; j < out.length; j++) {
    const t = (j * from) / to;
    const lo = Math.max(0, Math.ceil(t - half)), hi = Math.min(x.length - 1, Math.floor(t + half));
    let acc = 0;
    for (let i = lo; i <= hi; i++) {
      const d = t - i;
      const s = d === 0 ? 1 : Math.sin(Math.PI * cut * d) / (Math.PI * cut * d);
      acc += x[i] * cut * s * (0.5 + 0.5 * Math.cos((Math.PI * d) / half));
    }
    out[j] = acc;
  }
  return out;
}

/** Options of {@link readWav}. */
export interface ReadWavOptions {
  /** Mix the channels to one (their mean). */
  mono?: boolean;
  /** Resample every channel to this rate, Hz. */
  sampleRate?: number;
}

/** Reads a WAV file (Deno), optionally mixed to mono and resampled. */
export async function readWav(path: string | URL, opts: ReadWavOptions = {}): Promise<WavAudio> {
  let a = decodeWav(await Deno.readFile(path), String(path));
  if (opts.mono && a.channels.length > 1) a = { ...a, channels: [mixToMono(a)] };
  const to = opts.sampleRate;
  if (to !== undefined && to !== a.sampleRate) {
    a = { sampleRate: to, channels: a.channels.map((c) => resample(c, a.sampleRate, to)) };
  }
  return a;
}
