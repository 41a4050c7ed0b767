// Typed dispatch: `Runtime.dispatch` and `launch` take arguments typed by the spec, so a misspelt
// or missing binding, a missing uniform, a uniform of the wrong shape, or a wrong, missing or
// undeclared define does not compile. Each `@ts-expect-error` below fails type checking (and so
// this file) as soon as the call under it compiles, i.e. when a check is lost.
import { kernel } from "../../src/gpu/kernel.ts";
import type { PooledBuffer } from "../../src/gpu/pool.ts";
import type { Runtime } from "../../src/gpu/runtime.ts";
import { launch } from "../../src/ops/common.ts";
import { assert } from "../helpers.ts";

const spec = kernel({
  name: "typed_probe",
  source: "",
  bindings: { x: "f32", out: "f32 rw" },
  uniforms: { n: "u32", shape: "u32x8" },
  defines: { VEC: "bool", K: "u32" },
  workgroupSize: [64],
});
const plain = kernel({
  name: "plain_probe",
  source: "",
  bindings: { x: "f32" },
  uniforms: { n: "u32" },
  workgroupSize: [64],
});

/** Never called: only type-checked. */
function typedCalls(rt: Runtime, b: PooledBuffer): void {
  const buffers = { x: b, out: b };
  const uniforms = { n: 1, shape: [2, 3] };
  const defines = { VEC: true, K: 2 };
  const w = [1] as const;

  // The correct calls compile.
  rt.dispatch(spec, { buffers, uniforms, defines, workgroups: w });
  launch("probe", spec, { buffers, uniforms, defines, workgroups: w });
  rt.dispatch(plain, { buffers: { x: b }, uniforms: { n: 1 }, workgroups: w });

  // @ts-expect-error: a misspelt binding
  rt.dispatch(spec, { buffers: { x: b, ot: b }, uniforms, defines, workgroups: w });
  // @ts-expect-error: a missing binding
  rt.dispatch(spec, { buffers: { x: b }, uniforms, defines, workgroups: w });
  // @ts-expect-error: a missing uniform
  rt.dispatch(spec, { buffers, uniforms: { n: 1 }, defines, workgroups: w });
  // @ts-expect-error: a misspelt uniform
  rt.dispatch(spec, { buffers, uniforms: { n: 1, shap: [2] }, defines, workgroups: w });
  // @ts-expect-error: a scalar for a u32x8 uniform
  rt.dispatch(spec, { buffers, uniforms: { n: 1, shape: 2 }, defines, workgroups: w });
  // @ts-expect-error: an array for a scalar uniform
  rt.dispatch(spec, { buffers, uniforms: { n: [1], shape: [2] }, defines, workgroups: w });
  // @ts-expect-error: the spec declares defines, the call gives none
  rt.dispatch(spec, { buffers, uniforms, workgroups: w });
  // @ts-expect-error: a define of the wrong type
  rt.dispatch(spec, { buffers, uniforms, defines: { VEC: 1, K: 2 }, workgroups: w });
  // @ts-expect-error: a missing define
  rt.dispatch(spec, { buffers, uniforms, defines: { VEC: true }, workgroups: w });
  // @ts-expect-error: an undeclared define
  rt.dispatch(spec, { buffers, uniforms, defines: { ...defines, X: 1 }, workgroups: w });
  // @ts-expect-error: a define given to a spec that declares none
  rt.dispatch(plain, { buffers: { x: b }, uniforms: { n: 1 }, defines, workgroups: w });
  // @ts-expect-error: launch is typed the same way (misspelt binding)
  launch("probe", spec, { buffers: { x: b, ot: b }, uniforms, defines, workgroups: w });
  // @ts-expect-error: launch, missing uniform
  launch("probe", spec, { buffers, uniforms: { shape: [2] }, defines, workgroups: w });
  // @ts-expect-error: launch, missing define
  launch("probe", spec, { buffers, uniforms, workgroups: w });
  const bare = { name: "t", source: "", bindings: {}, workgroupSize: [1] as const };
  // @ts-expect-error: a spec with an unknown uniform type
  kernel({ ...bare, uniforms: { n: "u64" } });
  // @ts-expect-error: a spec with an unknown define type
  kernel({ ...bare, uniforms: {}, defines: { A: "int" } });
}

Deno.test("typed dispatch: misspelt or missing bindings, uniforms and defines do not compile", () => {
  // The assertions are the `@ts-expect-error` lines above (checked when this file compiles).
  assert.equal(typeof typedCalls, "function");
  assert.deepEqual(Object.keys(spec.defines ?? {}), ["VEC", "K"]);
});
