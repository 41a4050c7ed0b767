// precompile: pipelines compiled ahead with createComputePipelineAsync are the ones dispatches
// then use (no compile at dispatch), a captured step changes nothing and lists exactly the
// pipelines the step compiles, and failures name the kernel.
import {
  add,
  backward,
  exp,
  kernel,
  mul,
  precompile,
  runtime,
  sum,
  tensor,
  tidy,
  variant,
} from "../../internal.ts";
import { assert, gpuTest } from "../helpers.ts";

const scaleK = kernel({
  name: "scale_probe",
  source: `@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x < u.n) { y[g.x] = select(F, -F, NEG) * x[g.x]; }
}`,
  bindings: { x: "f32", y: "f32 rw" },
  uniforms: { n: "u32" },
  defines: { F: "f32", NEG: "bool" },
  workgroupSize: [64],
});

gpuTest("precompile: the dispatch then finds its pipeline compiled", async () => {
  const rt = runtime();
  const x = tensor([1, 2, 3]);
  const y = tensor([0, 0, 0]);
  const before = rt.stats.pipelines;
  const n = await precompile([
    variant(scaleK, { F: 2.5, NEG: true }),
    variant(scaleK, { F: 2.5, NEG: true }), // a repeat compiles once
    variant(scaleK, { F: 3, NEG: false }),
  ]);
  assert.equal(n, 2);
  assert.equal(rt.stats.pipelines - before, 2);
  assert.equal(await precompile([variant(scaleK, { F: 3, NEG: false })]), 0, "cached");
  const args = { buffers: { x: x.buffer, y: y.buffer }, uniforms: { n: 3 }, workgroups: [1] };
  rt.dispatch(scaleK, { ...args, workgroups: [1], defines: { F: 2.5, NEG: true } });
  assert.deepEqual([...await y.read()], [-2.5, -5, -7.5]);
  rt.dispatch(scaleK, { ...args, workgroups: [1], defines: { F: 3, NEG: false } });
  assert.deepEqual([...await y.read()], [3, 6, 9]);
  assert.equal(rt.stats.pipelines - before, 2, "the dispatches compiled nothing");
  x.dispose();
  y.dispose();
});

gpuTest(
  "capturePipelines: a step's pipelines, none run; precompiling them leaves none to compile",
  async () => {
    const rt = runtime();
    const w = tensor([0.5, -1, 2]);
    w.requiresGrad = true;
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const step = () =>
      tidy(() => {
        backward(sum(exp(mul(add(x, w), w))));
      });
    const keys = rt.capturePipelines(step);
    assert.ok(keys.length >= 4, `add, mul, exp, sum and their backward: ${keys.length} pipelines`);
    assert.deepEqual([...await w.read()], [0.5, -1, 2], "nothing ran");
    w.grad?.dispose(); // allocated by the captured backward, never written
    w.grad = null;
    await rt.precompile(keys);
    const before = rt.stats.pipelines;
    step();
    const g = await w.grad!.read();
    assert.equal(rt.stats.pipelines, before, "the real step compiled nothing");
    assert.ok(g.every(Number.isFinite) && g.some((v) => v !== 0));
    w.dispose();
    x.dispose();
  },
);

gpuTest("precompile: missing defines and WGSL that does not compile are named", async () => {
  const rt = runtime();
  await assert.rejects(() => precompile([scaleK]), /scale_probe: define 'F' is not given/);
  const broken = kernel({
    name: "broken_probe",
    source: "@compute @workgroup_size(1) fn main() { let a: u32 = 1.5; }",
    bindings: {},
    uniforms: {},
    workgroupSize: [1],
  });
  await assert.rejects(() => precompile([broken]), /broken_probe: the pipeline does not compile/);
  rt.assertHealthy(); // the scoped error is the rejection's alone; the runtime works on
  const y = tidy(() => add(tensor([1]), tensor([2])));
  assert.deepEqual([...await y.read()], [3]);
});
