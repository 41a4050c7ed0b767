/**
 * Picks the matmul kernel and its block configuration from the adapter and the problem shape.
 *
 * Two families:
 * - `regblock` (`shaders/matmul_regblock.wgsl`) for adapters that run compute shaders on a CPU
 *   (llvmpipe/lavapipe, SwiftShader): no workgroup memory (barriers are coroutine switches
 *   there, and a 64×64 shared-memory tile measured 1.5 GFLOP/s on lavapipe), a block of up to
 *   32×32 outputs per invocation kept in registers, vec4 loads where the layout is aligned.
 * - on hardware GPUs the same register-blocked kernel with a small block (up to 8×16 outputs per
 *   invocation): measured on an NVIDIA H200 (bench/results/matmul_variants_h200.md) it ran
 *   2.3–5× the workgroup-memory `tiled` kernel at every shape (2048³: 2927 against 596
 *   GFLOP/s), and 8×8 quads spill there (784 GFLOP/s).
 * - `tiled` (`shaders/matmul_tiled.wgsl`): 16×16 workgroups staging 16-deep K slices of A and B
 *   in workgroup memory, up to 4×4 outputs per invocation; kept for `matmulWith` and as the
 *   fallback where the register-blocked kernel's padded output would not fit a binding.
 * @module
 */

/** Whether the adapter is a CPU implementation of WebGPU or a hardware GPU. */
export type AdapterClass = "software" | "hardware";

/** The problem a matmul call solves: C[b] = op(A[b]) · op(B[b]), C[b] of shape [m, n]. */
export interface MatmulProblem {
  /** Rows of C. */
  m: number;
  /** Columns of C. */
  n: number;
  /** Inner dimension. */
  k: number;
  /** Matrices in the batch. */
  batch: number;
  /** A is stored [K, M]. */
  transA: boolean;
  /** B is stored [N, K]. */
  transB: boolean;
}

/** Register-blocked kernel: each invocation computes (4·rm) × (4·rn) outputs. */
export interface RegblockConfig {
  /** Kernel family. */
  family: "regblock";
  /** Row quads per invocation: 1, 2, 4 or 8. */
  rm: number;
  /** Column quads per invocation: 1, 2, 4 or 8. */
  rn: number;
}

/** Workgroup-memory tiled kernel: a 16×16 workgroup computes a (16·tr)² tile. */
export interface TiledConfig {
  /** Kernel family. */
  family: "tiled";
  /** Outputs per invocation along each axis: 1, 2 or 4. */
  tr: number;
}

/** A kernel choice. */
export type MatmulConfig = RegblockConfig | TiledConfig;

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software/i;

/**
 * Classifies an adapter by its description (`runtime().gpu.adapter.description`): Mesa's
 * llvmpipe/lavapipe and SwiftShader are "software", anything else "hardware".
 */
export function adapterClass(description: string): AdapterClass {
  return SOFTWARE.test(description) ? "software" : "hardware";
}

/** Smallest of 1, 2, 4, 8 that covers `quads`. */
function quadsFor(quads: number): number {
  let q = 1;
  while (q < 8 && q < quads) q *= 2;
  return q;
}

/** Whether both operands of the regblock kernel load vec4s (contiguous axes multiple of 4). */
export function regblockAligned(p: MatmulProblem): boolean {
  return (p.transA ? p.m : p.k) % 4 === 0 && (p.transB ? p.k : p.n) % 4 === 0;
}

/** Invocations per workgroup of the regblock kernel (one 8-lane SIMD pass on llvmpipe). */
export const REGBLOCK_WG = 8;

/**
 * Regblock rules: the block covers the problem up to 32×32 (rm = rn = 8; 16×16 when an operand
 * is not vec4-aligned), since on llvmpipe
 * every storage load is a per-lane loop and a bigger block divides the loads per multiply-add
 * (measured at n = 1024: 8×8 ≈ 5, 16×16 ≈ 12-18, 32×32 ≈ 20-27 GFLOP/s); then, when the problem
 * is big enough to matter (≥ 16 MFLOP) but leaves fewer than 4 workgroups to share between the
 * CPU threads, the larger side is halved until it does (or the block is 8×8).
 */
export function regblockConfig(p: MatmulProblem): RegblockConfig {
  // Unaligned operands take 16 scalar loads per 4×4 tile instead of 4 vec4 loads; at 32×32 that
  // code takes llvmpipe tens of seconds to compile, so they stop at 16×16.
  const cap = regblockAligned(p) ? 8 : 4;
  let rm = Math.min(cap, quadsFor(Math.ceil(p.m / 4)));
  let rn = Math.min(cap, quadsFor(Math.ceil(p.n / 4)));
  const flops = 2 * p.m * p.n * p.k * p.batch;
  const workgroups = () =>
    Math.ceil(p.m / (4 * rm)) * Math.ceil(Math.ceil(p.n / 4) / rn) * p.batch / REGBLOCK_WG;
  while (flops >= 2 ** 24 && workgroups() < 4 && Math.max(rm, rn) > 2) {
    if (rm >= rn) rm /= 2;
    else rn /= 2;
  }
  return { family: "regblock", rm, rn };
}

/** Tiled rules: 64×64 tiles once both sides reach 64, 32×32 from 32, else 16×16. */
export function tiledConfig(p: MatmulProblem): TiledConfig {
  const side = Math.min(p.m, p.n);
  return { family: "tiled", tr: side >= 64 ? 4 : side >= 32 ? 2 : 1 };
}

/**
 * Hardware rules: register blocks of at most 2×4 quads (8×16 outputs), the best block on the
 * H200 at every measured shape; smaller problems shrink the block to fit.
 */
export function hardwareConfig(p: MatmulProblem): RegblockConfig {
  return {
    family: "regblock",
    rm: Math.min(2, quadsFor(Math.ceil(p.m / 4))),
    rn: Math.min(4, quadsFor(Math.ceil(p.n / 4))),
  };
}

/** The kernel for a problem on an adapter class. */
export function selectMatmul(p: MatmulProblem, cls: AdapterClass): MatmulConfig {
  return cls === "software" ? regblockConfig(p) : hardwareConfig(p);
}
