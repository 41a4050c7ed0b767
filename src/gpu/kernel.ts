/**
 * Declarative kernel specs. A spec names its WGSL source and lists, in one place, its storage
 * bindings, its uniforms and its workgroup size; the runtime generates the WGSL declarations
 * from it (so the shader and the host can never disagree on a binding or a field offset)
 * and caches the pipeline by the final source text.
 *
 * Generated header, for a spec with `bindings: { x: "f32", out: "f32 rw" }` and
 * `uniforms: { n: "u32", alpha: "f32" }`:
 *
 * ```wgsl
 * struct Params { n: u32, alpha: f32 }
 * @group(0) @binding(0) var<uniform> u: Params;
 * @group(0) @binding(1) var<storage, read> x: array<f32>;
 * @group(0) @binding(2) var<storage, read_write> out: array<f32>;
 * const WG_X: u32 = 64u; const WG_Y: u32 = 1u; const WG_Z: u32 = 1u;
 * ```
 * @module
 */

import { sources } from "../../shaders/sources.ts";

/** Element type of a storage binding, optionally followed by ` rw` for read_write access. */
export type BindingType =
  | "f32"
  | "i32"
  | "u32"
  | "f32 rw"
  | "i32 rw"
  | "u32 rw"
  | "atomic<u32> rw"
  | "atomic<i32> rw"
  // vec4 views (16-byte loads/stores; bind the same buffer as an f32 binding too if needed).
  | "vec4<f32>"
  | "vec4<f32> rw";

/**
 * Uniform field types. `u32x8`/`i32x8` are eight values stored as `array<vec4<u32>, 2>`
 * (read them with the `at8` helper); they carry shapes and strides of rank ≤ 8.
 */
export type UniformType = "u32" | "i32" | "f32" | "u32x8" | "i32x8";

/** Compile-time constants injected as WGSL `const` declarations (part of the cache key). */
export type Defines = Readonly<Record<string, number | boolean>>;

/** One kernel: the source file, its interface, and how many workgroups a call needs. */
export interface KernelSpec<B extends string = string, U extends string = string> {
  /** File name in `shaders/` without `.wgsl`. */
  readonly name: string;
  /** Storage bindings in binding order (binding 0 is the uniform block). */
  readonly bindings: Readonly<Record<B, BindingType>>;
  /** Uniform fields in order. */
  readonly uniforms: Readonly<Record<U, UniformType>>;
  /** `@workgroup_size`, available to the WGSL as WG_X, WG_Y, WG_Z. */
  readonly workgroupSize: readonly [number, number?, number?];
  /**
   * Shared WGSL files (`shaders/<lib>.wgsl`, helper functions only) placed before the kernel's
   * own file, in order: how kernels of one family share their tile and load helpers.
   */
  readonly lib?: readonly string[];
}

/** Declares a kernel spec (an identity function that pins the generic parameters). */
export function kernel<B extends string, U extends string>(
  spec: KernelSpec<B, U>,
): KernelSpec<B, U> {
  return spec;
}

/** Byte size of a spec's uniform block (16-byte aligned, at least 16). */
export function uniformBytes(spec: KernelSpec): number {
  let off = 0;
  for (const t of Object.values<UniformType>(spec.uniforms)) {
    if (t.endsWith("x8")) off = Math.ceil(off / 16) * 16 + 32;
    else off += 4;
  }
  return Math.max(16, Math.ceil(off / 16) * 16);
}

/** Packs uniform values into `view` at `base`, in the layout of {@link uniformBytes}. */
export function packUniforms(
  spec: KernelSpec,
  values: Readonly<Record<string, number | readonly number[]>>,
  view: DataView,
  base: number,
): void {
  let off = 0;
  for (const [name, t] of Object.entries<UniformType>(spec.uniforms)) {
    const v = values[name];
    if (v === undefined) throw new Error(`wgrec ${spec.name}: uniform '${name}' not given`);
    if (t.endsWith("x8")) {
      off = Math.ceil(off / 16) * 16;
      const arr = v as readonly number[];
      if (arr.length > 8) throw new Error(`wgrec ${spec.name}: '${name}' has rank > 8`);
      for (let i = 0; i < 8; i++) {
        const x = arr[i] ?? 0;
        if (t === "u32x8") view.setUint32(base + off + 4 * i, x, true);
        else view.setInt32(base + off + 4 * i, x, true);
      }
      off += 32;
    } else {
      const x = v as number;
      if (t === "f32") view.setFloat32(base + off, x, true);
      else if (t === "i32") view.setInt32(base + off, x, true);
      else view.setUint32(base + off, x, true);
      off += 4;
    }
  }
}

const WGSL_UNIFORM: Record<UniformType, string> = {
  u32: "u32",
  i32: "i32",
  f32: "f32",
  u32x8: "array<vec4<u32>, 2>",
  i32x8: "array<vec4<i32>, 2>",
};

/**
 * The full WGSL text of a kernel: generated declarations, defines, helpers, the spec's shared
 * files, then its own file.
 */
export function kernelSource(spec: KernelSpec, defines: Defines = {}): string {
  const files = [...(spec.lib ?? []), spec.name].map((name) => {
    const text = sources[name];
    if (text === undefined) {
      throw new Error(`wgrec: no shader '${name}.wgsl' (run \`deno task gen\`)`);
    }
    return text;
  });
  const body = files.join("\n");
  const fields = Object.entries<UniformType>(spec.uniforms).map(([n, t]) =>
    `${n}: ${WGSL_UNIFORM[t]}`
  );
  if (fields.length === 0) fields.push("_pad: u32");
  const lines = [`struct Params { ${fields.join(", ")} }`];
  lines.push("@group(0) @binding(0) var<uniform> u: Params;");
  Object.entries<BindingType>(spec.bindings).forEach(([n, t], i) => {
    const [elem, rw] = t.split(" ");
    const access = rw ? "read_write" : "read";
    lines.push(`@group(0) @binding(${i + 1}) var<storage, ${access}> ${n}: array<${elem}>;`);
  });
  const [x, y = 1, z = 1] = spec.workgroupSize;
  lines.push(`const WG_X: u32 = ${x}u;`, `const WG_Y: u32 = ${y}u;`, `const WG_Z: u32 = ${z}u;`);
  for (const [k, v] of Object.entries(defines)) {
    // Abstract (untyped) constants: usable as u32, i32 or f32 without casts.
    const lit = typeof v === "number" && Number.isInteger(v) && !Object.is(v, -0) ? `${v}` : v;
    lines.push(`const ${k} = ${typeof lit === "number" ? lit.toExponential() : lit};`);
  }
  lines.push(HELPERS, finiteConstants(body));
  return lines.join("\n");
}

/**
 * Rewrites `bitcast<f32>(<integer literal>)` to `bits_f32(<literal>)`. The former is a
 * const-expression, and WGSL requires const-expressions to be finite: Chrome's compiler (Tint)
 * rejects the NaN/±Inf bit patterns kernels use as sentinels at shader creation, while Naga
 * (Deno) accepts them. A call of a user function is a runtime value, valid for every compiler.
 */
export function finiteConstants(wgsl: string): string {
  return wgsl.replace(/bitcast<f32>\(\s*(0x[0-9a-fA-F]+u?|[0-9]+u?)\s*\)/g, "bits_f32($1)");
}

/** Helpers every kernel may use. */
const HELPERS = `
fn at8(a: array<vec4<u32>, 2>, i: u32) -> u32 { return a[i / 4u][i % 4u]; }
fn at8i(a: array<vec4<i32>, 2>, i: u32) -> i32 { return a[i / 4u][i % 4u]; }
// Linear invocation index of a 1-D launch that the runtime may have folded into (x, y).
fn linear_id(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG_X + lid;
}
// True for Inf and NaN (checked on the bits: fast-math may fold x != x away).
fn non_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }
// The f32 with these bits, as a runtime value (NaN/Inf constants: see finiteConstants).
fn bits_f32(b: u32) -> f32 { return bitcast<f32>(b); }
`;
