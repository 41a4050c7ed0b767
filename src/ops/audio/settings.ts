/**
 * Front-end settings (host side, f64): windows, mel filterbanks and the two presets, Kaldi's
 * `fbank` (as `torchaudio.compliance.kaldi.fbank`) and torchaudio's `MelSpectrogram`. The GPU
 * kernels (`frontend.ts`) take the tables built here, so both presets run the same kernels.
 * @module
 */

/** Window functions over a frame of `n` samples. */
export type WindowKind = "hann" | "hamming" | "povey" | "rectangular";

/** Mel scales: HTK's 2595·log10(1 + f/700), or Kaldi's 1127·ln(1 + f/700) (the same curve). */
export type MelScale = "htk" | "kaldi";

/** Complete front-end settings (see {@link kaldiFbank} and {@link melSpectrogram}). */
export interface FrontEndSettings {
  /** Sample rate of the input, Hz. */
  sampleRate: number;
  /** FFT size, a power of two (the FFT is radix-2). */
  nFft: number;
  /** Samples per frame taken from the signal (≤ nFft; zero padded to nFft). */
  frameLen: number;
  /** Samples between frame starts. */
  hop: number;
  /** Window over the frame, `frameLen` values (zero where a shorter window is centred). */
  window: Float32Array;
  /** Reflect-pad nFft/2 samples each side (torch's center=True) instead of snipping edges. */
  center: boolean;
  /** Subtract each frame's mean before pre-emphasis (Kaldi). */
  removeDc: boolean;
  /** Pre-emphasis coefficient (Kaldi 0.97; 0 = none). */
  preemph: number;
  /** Exponent of the magnitude: 2 = power spectrum, 1 = magnitude. */
  power: number;
  /** Mel filterbank [nFft/2 + 1, nMels], row k = FFT bin k. */
  filterbank: Float32Array;
  /** Number of mel bands. */
  nMels: number;
  /** Final compression: none, ln(max(x, floor)) or 10·log10(max(x, floor)). */
  log: "none" | "log" | "db";
  /** Floor inside the logarithm. */
  floor: number;
}

/** Kaldi's epsilon in fbank's log: the f32 machine epsilon. */
export const F32_EPS = 1.1920928955078125e-7;

/** True when `n` is a power of two (1, 2, 4, ...). */
export function isPow2(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/**
 * Window values: periodic Hann (torch.hann_window), periodic Hamming, Kaldi's Povey window
 * (symmetric Hann to the power 0.85) or all ones.
 */
export function makeWindow(kind: WindowKind, n: number): Float64Array {
  const w = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    if (kind === "hann") w[j] = 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / n);
    else if (kind === "hamming") w[j] = 0.54 - 0.46 * Math.cos((2 * Math.PI * j) / n);
    else if (kind === "povey") {
      w[j] = n === 1 ? 1 : Math.pow(0.5 - 0.5 * Math.cos((2 * Math.PI * j) / (n - 1)), 0.85);
    } else w[j] = 1;
  }
  return w;
}

const hzToMel = (f: number, s: MelScale): number =>
  s === "htk" ? 2595 * Math.log10(1 + f / 700) : 1127 * Math.log(1 + f / 700);
const melToHz = (m: number, s: MelScale): number =>
  s === "htk" ? 700 * (Math.pow(10, m / 2595) - 1) : 700 * (Math.exp(m / 1127) - 1);

/**
 * torchaudio's `melscale_fbanks` (norm None): triangles in Hz between mel-spaced points,
 * bins at linspace(0, ⌊sr/2⌋, nFft/2 + 1). Returns [nFft/2 + 1, nMels] row-major.
 */
export function htkFilterbank(
  nFft: number,
  sampleRate: number,
  nMels: number,
  fMin: number,
  fMax: number,
): Float32Array {
  const bins = nFft / 2 + 1;
  const pts = new Float64Array(nMels + 2);
  const m0 = hzToMel(fMin, "htk"), m1 = hzToMel(fMax, "htk");
  for (let i = 0; i < nMels + 2; i++) pts[i] = melToHz(m0 + ((m1 - m0) * i) / (nMels + 1), "htk");
  const fb = new Float32Array(bins * nMels);
  const top = Math.floor(sampleRate / 2);
  for (let k = 0; k < bins; k++) {
    const f = bins === 1 ? 0 : (top * k) / (bins - 1);
    for (let m = 0; m < nMels; m++) {
      const down = (f - pts[m]) / (pts[m + 1] - pts[m]);
      const up = (pts[m + 2] - f) / (pts[m + 2] - pts[m + 1]);
      fb[k * nMels + m] = Math.max(0, Math.min(down, up));
    }
  }
  return fb;
}

/**
 * Kaldi's mel banks (as torchaudio.compliance.kaldi.get_mel_banks, no VTLN): triangles in the
 * mel domain over bins k·sr/nFft for k < nFft/2; the Nyquist row is zero (Kaldi has none).
 * Returns [nFft/2 + 1, nMels] row-major.
 */
export function kaldiFilterbank(
  nFft: number,
  sampleRate: number,
  nMels: number,
  lowFreq: number,
  highFreq: number,
): Float32Array {
  const half = nFft / 2;
  const nyquist = sampleRate / 2;
  const high = highFreq <= 0 ? nyquist + highFreq : highFreq;
  const lo = hzToMel(lowFreq, "kaldi"), hi = hzToMel(high, "kaldi");
  const delta = (hi - lo) / (nMels + 1);
  const fb = new Float32Array((half + 1) * nMels);
  for (let k = 0; k < half; k++) {
    const mel = hzToMel((sampleRate / nFft) * k, "kaldi");
    for (let m = 0; m < nMels; m++) {
      const left = lo + m * delta, center = lo + (m + 1) * delta, right = lo + (m + 2) * delta;
      const up = (mel - left) / (center - left);
      const down = (right - mel) / (right - center);
      fb[k * nMels + m] = Math.max(0, Math.min(up, down));
    }
  }
  return fb;
}

function check(op: string, ok: boolean, what: string): void {
  if (!ok) throw new Error(`wgrec ${op}: ${what}`);
}

/** Options of {@link kaldiFbank} (names and defaults of torchaudio.compliance.kaldi.fbank). */
export interface KaldiFbankOptions {
  /** Hz (default 16000). */
  sampleRate?: number;
  /** Frame length in ms (default 25). */
  frameLength?: number;
  /** Frame shift in ms (default 10). */
  frameShift?: number;
  /** Mel bands (default 23). */
  numMelBins?: number;
  /** Lowest mel edge, Hz (default 20). */
  lowFreq?: number;
  /** Highest mel edge, Hz; ≤ 0 is an offset from Nyquist (default 0). */
  highFreq?: number;
  /** Pre-emphasis coefficient (default 0.97). */
  preemphasisCoefficient?: number;
  /** Subtract the frame mean (default true). */
  removeDcOffset?: boolean;
  /** Window (default "povey"). */
  windowType?: WindowKind;
  /** Log of the mel energies (default true). */
  useLogFbank?: boolean;
  /** Power spectrum (true, default) or magnitude. */
  usePower?: boolean;
}

/**
 * Kaldi fbank settings (dither 0, snip_edges true, round_to_power_of_two true, no energy term):
 * frames of frameLength ms every frameShift ms, FFT size the next power of two.
 */
export function kaldiFbank(opts: KaldiFbankOptions = {}): FrontEndSettings {
  const sr = opts.sampleRate ?? 16000;
  const frameLen = Math.round((sr * (opts.frameLength ?? 25)) / 1000);
  const hop = Math.round((sr * (opts.frameShift ?? 10)) / 1000);
  const nMels = opts.numMelBins ?? 23;
  check("kaldiFbank", frameLen >= 2 && hop >= 1, `frame of ${frameLen} samples, shift ${hop}`);
  check("kaldiFbank", nMels >= 1, `numMelBins ${nMels} must be ≥ 1`);
  let nFft = 1;
  while (nFft < frameLen) nFft *= 2;
  return {
    sampleRate: sr,
    nFft,
    frameLen,
    hop,
    window: Float32Array.from(makeWindow(opts.windowType ?? "povey", frameLen)),
    center: false,
    removeDc: opts.removeDcOffset ?? true,
    preemph: opts.preemphasisCoefficient ?? 0.97,
    power: (opts.usePower ?? true) ? 2 : 1,
    filterbank: kaldiFilterbank(nFft, sr, nMels, opts.lowFreq ?? 20, opts.highFreq ?? 0),
    nMels,
    log: (opts.useLogFbank ?? true) ? "log" : "none",
    floor: F32_EPS,
  };
}

/** Options of {@link melSpectrogram} (names and defaults of torchaudio's MelSpectrogram). */
export interface MelSpectrogramOptions {
  /** Hz (default 16000). */
  sampleRate?: number;
  /** FFT size, a power of two (default 512; torchaudio's 400 is not one). */
  nFft?: number;
  /** Window length ≤ nFft (default nFft), centred in the FFT frame. */
  winLength?: number;
  /** Samples between frames (default winLength / 2, floored). */
  hopLength?: number;
  /** Lowest mel edge, Hz (default 0). */
  fMin?: number;
  /** Highest mel edge, Hz (default sampleRate / 2). */
  fMax?: number;
  /** Mel bands (default 128). */
  nMels?: number;
  /** Magnitude exponent (default 2). */
  power?: number;
  /** Reflect-pad nFft/2 each side (default true). */
  center?: boolean;
  /** Window (default periodic "hann"). */
  window?: WindowKind;
  /** Log compression after the filterbank (default "none", as torchaudio; "db" = AmplitudeToDB). */
  log?: "none" | "log" | "db";
  /** Floor inside the log (default 1e-10, AmplitudeToDB's amin). */
  floor?: number;
}

/** torchaudio MelSpectrogram settings (HTK mel scale, norm None, reflect padding). */
export function melSpectrogram(opts: MelSpectrogramOptions = {}): FrontEndSettings {
  const sr = opts.sampleRate ?? 16000;
  const nFft = opts.nFft ?? 512;
  check(
    "melSpectrogram",
    isPow2(nFft) && nFft >= 2,
    `nFft ${nFft} must be a power of two ≥ 2 (the FFT is radix-2; for torchaudio's 400 use 512)`,
  );
  const win = opts.winLength ?? nFft;
  check("melSpectrogram", Number.isInteger(win) && win >= 1 && win <= nFft, `winLength ${win}`);
  const hop = opts.hopLength ?? Math.floor(win / 2);
  check("melSpectrogram", Number.isInteger(hop) && hop >= 1, `hopLength ${hop} must be ≥ 1`);
  const nMels = opts.nMels ?? 128;
  // torch.stft centres a shorter window inside the nFft frame.
  const window = new Float32Array(nFft);
  const left = Math.floor((nFft - win) / 2);
  makeWindow(opts.window ?? "hann", win).forEach((v, j) => window[left + j] = v);
  return {
    sampleRate: sr,
    nFft,
    frameLen: nFft,
    hop,
    window,
    center: opts.center ?? true,
    removeDc: false,
    preemph: 0,
    power: opts.power ?? 2,
    filterbank: htkFilterbank(nFft, sr, nMels, opts.fMin ?? 0, opts.fMax ?? sr / 2),
    nMels,
    log: opts.log ?? "none",
    floor: opts.floor ?? 1e-10,
  };
}

/**
 * Frames a signal of `len` samples yields under `s`; throws, naming the op, when the clip is
 * shorter than one frame (or, centred, too short to reflect-pad).
 */
export function frameCount(op: string, s: FrontEndSettings, len: number): number {
  if (s.center) {
    const pad = s.nFft / 2;
    if (len <= pad) {
      throw new Error(
        `wgrec ${op}: a clip of ${len} samples is too short for centred frames of ${s.nFft} ` +
          `(reflect padding of ${pad} needs more than ${pad} samples)`,
      );
    }
    return 1 + Math.floor(len / s.hop);
  }
  if (len < s.frameLen) {
    throw new Error(
      `wgrec ${op}: a clip of ${len} samples is shorter than one frame (${s.frameLen} samples, ` +
        `${((1000 * s.frameLen) / s.sampleRate).toFixed(1)} ms at ${s.sampleRate} Hz)`,
    );
  }
  return 1 + Math.floor((len - s.frameLen) / s.hop);
}
