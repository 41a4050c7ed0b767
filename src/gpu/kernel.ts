/**
 * Declarative kernel specs. A spec carries its WGSL text and lists, in one place, its storage
 * bindings, its uniforms, its defines and its workgroup size; the runtime generates the WGSL
 * declarations from it (so the shader and the host can never disagree on a binding or a field
 * offset) and caches the pipeline by the final source text. `Runtime.dispatch` and `launch` are
 * typed by the spec: a misspelt binding, a missing uniform or an undeclared define is a type
 * error.
 *
 * Adding a kernel:
 * 1. write `shaders/<family>/<name>.wgsl` (file names are unique across families);
 * 2. run `deno task gen`: it embeds each family folder into `shaders/<family>/wgsl.ts`, one
 *    exported string per file (a test fails while a generated module is stale);
 * 3. declare the spec beside its op, importing the text, as a pure call: a
 *    `/* @__PURE__ *\/` comment before `kernel(` (`*\/` stands for the comment's end here;
 *    a test checks every spec in src/). Bundlers cannot see through the call otherwise, and
 *    would keep the kernels of every module an app's imports reach:
 *
 * ```ts
 * import * as coreWgsl from "../../../shaders/core/wgsl.ts";
 * const scaleK = /* @__PURE__ *\/ kernel({
 *   name: "scale", // labels the pipeline and errors
 *   source: coreWgsl.scale,
 *   lib: [commonWgsl.tile4], // shared helper files placed before it, if any
 *   bindings: { x: "f32", out: "f32 rw" },
 *   uniforms: { n: "u32", alpha: "f32" },
 *   defines: { VEC: "bool" }, // compile-time constants every dispatch must give
 *   workgroupSize: [64],
 * });
 * ```
 *
 * Generated header for that spec (defines are abstract constants, usable as any numeric type):
 *
 * ```wgsl
 * struct Params { n: u32, alpha: f32 }
 * @group(0) @binding(0) var<uniform> u: Params;
 * @group(0) @binding(1) var<storage, read> x: array<f32>;
 * @group(0) @binding(2) var<storage, read_write> out: array<f32>;
 * const WG_X: u32 = 64u; const WG_Y: u32 = 1u; const WG_Z: u32 = 1u;
 * const VEC = true;
 * ```
 *
 * Importing the text (not looking a name up in one record) lets a bundler keep only the kernels
 * an app's ops reach. A helper used by several kernels lives once, in a `lib` file
 * (`tests/gpu/shaders_test.ts` fails on a function or struct written out in two files).
 * Pipelines can be compiled ahead of use with `Runtime.precompile` (see `variant` and
 * `Runtime.capturePipelines`).
 * @module
 */

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

/** A spec's uniform fields, in order. */
export type UniformTypes = Readonly<Record<string, UniformType>>;

/** Host values of a spec's uniforms: a number per scalar, up to eight per `*x8` field. */
export type UniformValues<U extends UniformTypes> = {
  readonly [K in keyof U]: U[K] extends "u32x8" | "i32x8" ? readonly number[] : number;
};

/**
 * Type of a define: `u32` (a non-negative integer), `i32` (an integer), `f32` (any finite
 * number) or `bool`.
 */
export type DefineType = "u32" | "i32" | "f32" | "bool";

/** A spec's declared defines. */
export type DefineTypes = Readonly<Record<string, DefineType>>;

/** Host values of a spec's defines. */
export type DefineValues<D extends DefineTypes> = {
  readonly [K in keyof D]: D[K] extends "bool" ? boolean : number;
};

/** Compile-time constants injected as WGSL `const` declarations (part of the cache key). */
export type Defines = Readonly<Record<string, number | boolean>>;

/** One kernel: its WGSL text, its interface, and the shared files it needs. */
export interface KernelSpec<
  B extends string = string,
  U extends UniformTypes = UniformTypes,
  D extends DefineTypes = DefineTypes,
> {
  /** The kernel's file name in `shaders/<family>/` without `.wgsl` (labels and errors). */
  readonly name: string;
  /** The kernel's WGSL text, imported from `shaders/<family>/wgsl.ts`. */
  readonly source: string;
  /** Storage bindings in binding order (binding 0 is the uniform block). */
  readonly bindings: Readonly<Record<B, BindingType>>;
  /** Uniform fields in order. */
  readonly uniforms: U;
  /** Defines every dispatch gives, by name and type (absent: none). */
  readonly defines?: D;
  /** `@workgroup_size`, available to the WGSL as WG_X, WG_Y, WG_Z. */
  readonly workgroupSize: readonly [number, number?, number?];
  /**
   * Shared WGSL files (helper functions only, imported like `source`) placed before the
   * kernel's own text, in order: how kernels share their tile and load helpers.
   */
  readonly lib?: readonly string[];
}

/**
 * Declares a kernel spec (an identity function that pins the generic parameters: binding
 * names, uniform names and types, define names and types).
 */
export function kernel<
  B extends string,
  const U extends UniformTypes,
  // deno-lint-ignore ban-types
  const D extends DefineTypes = {},
>(spec: KernelSpec<B, U, D>): KernelSpec<B, U, D> {
  return spec;
}

/** Throws unless `values` gives every define of `spec`, each of its declared type, and no other. */
export function checkDefines(spec: KernelSpec, values: Defines): void {
  const types: DefineTypes = spec.defines ?? {};
  for (const [k, t] of Object.entries(types)) {
    const v = values[k];
    const ok = t === "bool"
      ? typeof v === "boolean"
      : typeof v === "number" && Number.isFinite(v) &&
        (t === "f32" || (Number.isInteger(v) && (t === "i32" || v >= 0)));
    if (!ok) {
      throw new Error(
        `wgrec ${spec.name}: define '${k}' is ${v === undefined ? "not given" : String(v)}, ` +
          `expected ${t === "bool" ? "a boolean" : t === "f32" ? "a finite number" : `an ${t}`}`,
      );
    }
  }
  for (const k of Object.keys(values)) {
    if (!(k in types)) throw new Error(`wgrec ${spec.name}: define '${k}' is not declared`);
  }
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
 * Where a kernel reads its `Params` block: a uniform buffer (the default), or a read-only storage
 * buffer. Lavapipe (Mesa 22.3) inlines uniform values that loop bounds and branches depend on,
 * re-optimising the shader (and often recompiling it through LLVM) on every dispatch whose
 * uniform offset changed, i.e. on every dispatch here; storage reads are never inlined.
 */
export type ParamsBinding = "uniform" | "storage";

/**
 * The full WGSL text of a kernel: generated declarations, defines, helpers, the spec's shared
 * files, then its own file.
 */
export function kernelSource(
  spec: KernelSpec,
  defines: Defines = {},
  params: ParamsBinding = "uniform",
): string {
  checkDefines(spec, defines);
  const files = [...(spec.lib ?? []), spec.source];
  files.forEach((text, i) => {
    if (typeof text !== "string") {
      const what = i < files.length - 1 ? `lib[${i}]` : "source";
      throw new Error(`wgrec ${spec.name}: ${what} is not a WGSL string (run \`deno task gen\`)`);
    }
  });
  const body = files.join("\n");
  const fields = Object.entries<UniformType>(spec.uniforms).map(([n, t]) =>
    `${n}: ${WGSL_UNIFORM[t]}`
  );
  if (fields.length === 0) fields.push("_pad: u32");
  const lines = [`struct Params { ${fields.join(", ")} }`];
  if (params === "uniform") lines.push("@group(0) @binding(0) var<uniform> u: Params;");
  else {
    // Copied once into a private: read through storage everywhere, each `u.x` would be a
    // bounds-checked load that LLVM cannot hoist past the kernel's stores (2× compile time).
    lines.push("@group(0) @binding(0) var<storage, read> u_in: Params;", "var<private> u: Params;");
  }
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
  lines.push(HELPERS, finiteConstants(params === "uniform" ? body : copyParams(spec, body)));
  return lines.join("\n");
}

/** Starts the entry point `main` with `u = u_in;` (storage params, see {@link kernelSource}). */
function copyParams(spec: KernelSpec, body: string): string {
  const entry = /@compute[^{]*?\bfn\s+main\s*\([^{]*\{/;
  if (!entry.test(body)) {
    throw new Error(`wgrec ${spec.name}: no \`@compute … fn main(…) {\` found`);
  }
  return body.replace(entry, (m) => `${m}\n  u = u_in;`);
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
