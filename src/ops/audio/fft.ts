/**
 * Batched radix-2 FFTs on the GPU: complex (`fft`, forward and inverse), real (`rfft`: the
 * size-N real transform from a size-N/2 complex one plus a split step) and its inverse
 * (`irfft`). Each Stockham stage is one dispatch over every butterfly of the batch
 * (`shaders/audio/fft_stage.wgsl`), ping-ponging two buffers: no workgroup memory, so any
 * power-of-two size runs on any adapter. Twiddles come from an f64-accurate host table, kept
 * per runtime and size. No gradients: these are fixed transforms for feature extraction.
 * @module
 */

import { kernel } from "../../gpu/kernel.ts";
import type { Runtime } from "../../gpu/runtime.ts";
import * as audioWgsl from "../../../shaders/audio/wgsl.ts";
import { fmt, keep, runtime, type Shape, type Tensor, tensor } from "../../tensor.ts";
import { expectDtype, groups, launch, output } from "../common.ts";
import { unary } from "../core/elementwise.ts";
import { reshape } from "../core/shape.ts";
import { isPow2 } from "./settings.ts";

const stageK = /* @__PURE__ */ kernel({
  name: "fft_stage",
  source: audioWgsl.fft_stage,
  bindings: { src: "f32", tw: "f32", dst: "f32 rw" },
  uniforms: { batch: "u32", m: "u32", p: "u32", inverse: "u32", scale: "f32" },
  workgroupSize: [256],
});

const postK = /* @__PURE__ */ kernel({
  name: "rfft_post",
  source: audioWgsl.rfft_post,
  bindings: { z: "f32", tw: "f32", out: "f32 rw" },
  uniforms: { batch: "u32", m: "u32", power: "f32" },
  defines: { POWER: "bool" },
  workgroupSize: [256],
});

const preK = /* @__PURE__ */ kernel({
  name: "irfft_pre",
  source: audioWgsl.irfft_pre,
  bindings: { spec: "f32", tw: "f32", z: "f32 rw" },
  uniforms: { batch: "u32", m: "u32" },
  workgroupSize: [256],
});

const tables = new WeakMap<Runtime, Map<number, Tensor<"f32">>>();

/** exp(−2πi·t/(2m)) for t = 0..m, interleaved, computed in f64; one per runtime and size. */
function twiddles(m: number): Tensor<"f32"> {
  const rt = runtime();
  let byM = tables.get(rt);
  if (!byM) tables.set(rt, byM = new Map());
  let t = byM.get(m);
  if (!t || t.disposed) {
    const a = new Float32Array(2 * (m + 1));
    for (let i = 0; i <= m; i++) {
      a[2 * i] = Math.cos((Math.PI * i) / m);
      a[2 * i + 1] = -Math.sin((Math.PI * i) / m);
    }
    t = keep(tensor(a, [m + 1, 2]));
    byM.set(m, t);
  }
  return t;
}

/**
 * Runs the log2(m) Stockham stages over `batch` complex rows of size m in `z` (left intact),
 * the last stage scaling by `scale`. Returns a new tensor.
 */
function stages(
  op: string,
  z: Tensor<"f32">,
  batch: number,
  m: number,
  inverse: boolean,
  scale: number,
): Tensor<"f32"> {
  if (m === 1) return unary("affine", z, scale, 0); // nothing to transform: a scaled copy
  const tw = twiddles(m);
  let src = z;
  for (let p = 1; p < m; p *= 2) {
    const dst = output(op, z.shape, "f32");
    launch(op, stageK, {
      buffers: { src: src.buffer, tw: tw.buffer, dst: dst.buffer },
      uniforms: { batch, m, p, inverse: inverse ? 1 : 0, scale: 2 * p === m ? scale : 1 },
      workgroups: groups((batch * m) / 2),
    });
    if (src !== z) src.dispose();
    src = dst;
  }
  return src;
}

function lastDim(op: string, x: Tensor, what: string): number {
  const n = x.shape[x.shape.length - 1] ?? 0;
  if (x.shape.length < 1 || !isPow2(n)) {
    throw new Error(`wgrec ${op}: input ${fmt(x.shape)} must end in ${what}, a power of two`);
  }
  return n;
}

/**
 * Complex FFT over the second-to-last dim of `x` [..., m, 2] (re, im pairs), m a power of two.
 * `inverse` uses exp(+2πi·jk/m) and divides by m, so `fft(fft(x), true)` returns `x`.
 */
export function fft(x: Tensor<"f32">, inverse = false): Tensor<"f32"> {
  const op = inverse ? "ifft" : "fft";
  expectDtype(op, x, "f32");
  const r = x.shape.length;
  const m = x.shape[r - 2];
  if (r < 2 || x.shape[r - 1] !== 2 || !isPow2(m)) {
    throw new Error(`wgrec ${op}: input ${fmt(x.shape)} must be [..., m, 2] with m a power of two`);
  }
  return stages(op, x, x.size / (2 * m), m, inverse, inverse ? 1 / m : 1);
}

/**
 * Real FFT over the last dim of `x` [..., n] (n a power of two ≥ 2): [..., n/2 + 1, 2], the
 * non-negative frequencies (re, im) as numpy.fft.rfft.
 */
export function rfft(x: Tensor<"f32">): Tensor<"f32"> {
  return realFft("rfft", x, null);
}

/**
 * |rfft(x)|^power over the last dim of `x` [..., n]: [..., n/2 + 1] (power 2: the power
 * spectrum; 1: the magnitude), fused into the FFT's last step.
 */
export function powerSpectrum(x: Tensor<"f32">, power = 2): Tensor<"f32"> {
  if (!(power > 0) || !Number.isFinite(power)) {
    throw new Error(`wgrec powerSpectrum: power ${power} must be a positive number`);
  }
  return realFft("powerSpectrum", x, power);
}

function realFft(op: string, x: Tensor<"f32">, power: number | null): Tensor<"f32"> {
  expectDtype(op, x, "f32");
  const n = lastDim(op, x, "the signal length n");
  if (n < 2) throw new Error(`wgrec ${op}: input ${fmt(x.shape)}: the length must be ≥ 2`);
  const m = n / 2;
  const batch = x.size / n;
  const z = stages(op, x, batch, m, false, 1);
  const lead: Shape = x.shape.slice(0, -1);
  const out = output(op, power === null ? [...lead, m + 1, 2] : [...lead, m + 1], "f32");
  launch(op, postK, {
    buffers: { z: z.buffer, tw: twiddles(m).buffer, out: out.buffer },
    uniforms: { batch, m, power: power ?? 2 },
    workgroups: groups(batch * (m + 1)),
    defines: { POWER: power !== null },
  }, out);
  z.dispose();
  return out;
}

/**
 * Inverse of {@link rfft}: `X` [..., n/2 + 1, 2] → the real signal [..., n]. The imaginary
 * parts of bins 0 and n/2 are ignored (a real signal's are zero).
 */
export function irfft(X: Tensor<"f32">): Tensor<"f32"> {
  const op = "irfft";
  expectDtype(op, X, "f32");
  const r = X.shape.length;
  const m = X.shape[r - 2] - 1;
  if (r < 2 || X.shape[r - 1] !== 2 || !isPow2(m)) {
    throw new Error(
      `wgrec ${op}: input ${fmt(X.shape)} must be [..., n/2 + 1, 2] with n a power of two ≥ 2`,
    );
  }
  const batch = X.size / (2 * (m + 1));
  const z = output(op, [...X.shape.slice(0, -2), m, 2], "f32");
  launch(op, preK, {
    buffers: { spec: X.buffer, tw: twiddles(m).buffer, z: z.buffer },
    uniforms: { batch, m },
    workgroups: groups(batch * m),
  });
  const y = stages(op, z, batch, m, true, 1 / m);
  z.dispose();
  return reshape(y, [...X.shape.slice(0, -2), 2 * m]);
}
