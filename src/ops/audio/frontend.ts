/**
 * The GPU audio front end: signals [B, L] → frames (`audio_frames.wgsl`: reflect padding or
 * snipped edges, DC removal, pre-emphasis, window) → power spectrum (batched real FFT, `fft.ts`)
 * → mel filterbank and log (`mel_log.wgsl`). Settings come from `settings.ts` (Kaldi fbank or
 * torchaudio MelSpectrogram). No gradients: a fixed feature extractor.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import * as audioWgsl from "../../../shaders/audio/wgsl.ts";
import { fmt, keep, type Tensor, tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { powerSpectrum } from "./fft.ts";
import { frameCount, type FrontEndSettings, isPow2 } from "./settings.ts";

const framesK = /* @__PURE__ */ kernel({
  name: "audio_frames",
  source: audioWgsl.audio_frames,
  bindings: { x: "f32", win: "f32", y: "f32 rw" },
  uniforms: {
    frames: "u32",
    per_signal: "u32",
    t0: "u32",
    len: "u32",
    hop: "u32",
    pad_left: "u32",
    frame_len: "u32",
    n_fft: "u32",
    remove_dc: "u32",
    preemph: "f32",
  },
  workgroupSize: [64],
});

const melK = /* @__PURE__ */ kernel({
  name: "mel_log",
  source: audioWgsl.mel_log,
  bindings: { spec: "f32", fb: "f32", y: "f32 rw" },
  uniforms: {
    rows: "u32",
    bins: "u32",
    mels: "u32",
    mode: "u32",
    floor: "f32",
    chunk: "u32",
    frames: "u32",
    t0: "u32",
  },
  workgroupSize: [64],
});

function checkSettings(op: string, s: FrontEndSettings): void {
  const bad = (what: string) => new Error(`wgrec ${op}: settings: ${what}`);
  if (!isPow2(s.nFft) || s.nFft < 2) throw bad(`nFft ${s.nFft} must be a power of two ≥ 2`);
  if (!(s.frameLen >= 1 && s.frameLen <= s.nFft)) {
    throw bad(`frameLen ${s.frameLen} must be in 1..nFft (${s.nFft})`);
  }
  if (s.window.length !== s.frameLen) {
    throw bad(`window has ${s.window.length} values, expected frameLen = ${s.frameLen}`);
  }
  if (!(Number.isInteger(s.hop) && s.hop >= 1)) throw bad(`hop ${s.hop} must be an integer ≥ 1`);
  if (s.filterbank.length !== (s.nFft / 2 + 1) * s.nMels) {
    throw bad(
      `filterbank has ${s.filterbank.length} values, expected [${s.nFft / 2 + 1}, ${s.nMels}]`,
    );
  }
}

/** The signal batch [B, L] of a [L] or [B, L] input. */
function signalDims(op: string, x: Tensor<"f32">): [number, number] {
  expectDtype(op, x, "f32");
  if (x.shape.length === 1) return [1, x.shape[0]];
  if (x.shape.length === 2) return [x.shape[0], x.shape[1]];
  throw new Error(`wgrec ${op}: signal ${fmt(x.shape)} must be [samples] or [batch, samples]`);
}

/**
 * A front end with its window and filterbank uploaded once: `frames`, `spectrogram` and
 * `forward` (mel + log) of signals [L] or [B, L]. `forward` runs long clips in chunks of
 * frames whose FFT buffers stay under `chunkBytes` (default 32 MiB; a storage binding holds at
 * most 128 MiB on some adapters). Call `dispose()` when done.
 */
export class AudioFrontEnd {
  /** The settings it runs. */
  readonly settings: FrontEndSettings;
  /** Bytes of one chunk's frame buffer in `forward`. */
  readonly chunkBytes: number;
  #win: Tensor<"f32">;
  #fb: Tensor<"f32">;

  /** Uploads the window and the filterbank of `settings`. */
  constructor(settings: FrontEndSettings, chunkBytes = 32 * 2 ** 20) {
    checkSettings("AudioFrontEnd", settings);
    this.settings = settings;
    this.chunkBytes = chunkBytes;
    this.#win = keep(tensor(settings.window, [settings.frameLen]));
    this.#fb = keep(tensor(settings.filterbank, [settings.nFft / 2 + 1, settings.nMels]));
  }

  /** Number of frames for signals of `len` samples (throws when shorter than one frame). */
  frameCount(len: number): number {
    return frameCount("AudioFrontEnd", this.settings, len);
  }

  /**
   * Windowed frames [B, count, nFft] (zero past frameLen): frames t0 .. t0 + count − 1 of each
   * signal (default all T).
   */
  frames(x: Tensor<"f32">, t0 = 0, count?: number): Tensor<"f32"> {
    const op = "audio frames";
    const [b, len] = signalDims(op, x);
    const s = this.settings;
    const all = frameCount(op, s, len);
    const t = count ?? all - t0;
    if (!(Number.isInteger(t0) && t0 >= 0 && t >= 1 && t0 + t <= all)) {
      throw new Error(`wgrec ${op}: frames ${t0}..${t0 + t - 1} of a clip with ${all} frames`);
    }
    const y = output(op, [b, t, s.nFft], "f32");
    launch(op, framesK, {
      buffers: { x: x.buffer, win: this.#win.buffer, y: y.buffer },
      uniforms: {
        frames: b * t,
        per_signal: t,
        t0,
        len,
        hop: s.hop,
        pad_left: s.center ? s.nFft / 2 : 0,
        frame_len: s.frameLen,
        n_fft: s.nFft,
        remove_dc: s.removeDc ? 1 : 0,
        preemph: s.preemph,
      },
      workgroups: groups(b * t, 64),
    }, y);
    return y;
  }

  /** |STFT|^power [B, T, nFft/2 + 1]. */
  spectrogram(x: Tensor<"f32">): Tensor<"f32"> {
    const f = this.frames(x);
    const p = powerSpectrum(f, this.settings.power);
    f.dispose();
    return p;
  }

  /** Mel features [B, T, nMels], log-compressed as the settings say. */
  forward(x: Tensor<"f32">): Tensor<"f32"> {
    const op = "audio mel";
    const s = this.settings;
    const [b, len] = signalDims(op, x);
    const total = frameCount(op, s, len);
    const bins = s.nFft / 2 + 1;
    const y = output(op, [b, total, s.nMels], "f32");
    const chunk = Math.max(1, Math.min(total, Math.floor(this.chunkBytes / (4 * b * s.nFft))));
    for (let t0 = 0; t0 < total; t0 += chunk) {
      const tc = Math.min(chunk, total - t0);
      const f = this.frames(x, t0, tc);
      const p = powerSpectrum(f, s.power);
      f.dispose();
      launch(op, melK, {
        buffers: { spec: p.buffer, fb: this.#fb.buffer, y: y.buffer },
        uniforms: {
          rows: b * tc,
          bins,
          mels: s.nMels,
          mode: s.log === "log" ? 1 : s.log === "db" ? 2 : 0,
          floor: s.floor,
          chunk: tc,
          frames: total,
          t0,
        },
        workgroups: groups(b * tc * s.nMels, 64),
      }, y);
      p.dispose();
    }
    return y;
  }

  /** Frees the window and filterbank. */
  dispose(): void {
    this.#win.dispose();
    this.#fb.dispose();
  }
}
