// Runtime-level behaviour: generated shader text and defines, batching, errors, numerics mode, device
// loss, per-op live-buffer counts and import by URL.
import {
  add,
  backward,
  concat,
  exp,
  init,
  log,
  matmul,
  memory,
  mul,
  permute,
  readAll,
  reshape,
  Runtime,
  runtime,
  slice,
  softplus,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../internal.ts";
import * as attentionWgsl from "../../shaders/attention/wgsl.ts";
import * as commonWgsl from "../../shaders/common/wgsl.ts";
import { kernel, kernelSource } from "../../src/gpu/kernel.ts";
import { assert, gpuTest } from "../helpers.ts";

Deno.test("kernelSource places a spec's shared files, in order, before its own text", () => {
  const spec = kernel({
    name: "attention_bwd_dq",
    source: attentionWgsl.attention_bwd_dq,
    lib: [commonWgsl.tile4, attentionWgsl.attention_common, attentionWgsl.attention_bwd_common],
    bindings: { q: "vec4<f32>" },
    uniforms: { n: "u32" },
    workgroupSize: [8],
  });
  const src = kernelSource(spec);
  const at = (text: string) => src.indexOf(text);
  assert.ok(at(commonWgsl.tile4) > 0, "the first shared file is included");
  assert.ok(at(attentionWgsl.attention_common) > at(commonWgsl.tile4), "then the second");
  assert.ok(
    at(attentionWgsl.attention_bwd_common) > at(attentionWgsl.attention_common),
    "then the third",
  );
  assert.ok(
    at(attentionWgsl.attention_bwd_dq) > at(attentionWgsl.attention_bwd_common),
    "then the kernel's own text",
  );
  assert.throws(
    () => kernelSource({ ...spec, lib: [undefined as unknown as string] }),
    /attention_bwd_dq: lib\[0\] is not a WGSL string/,
  );
});

Deno.test("kernelSource checks a spec's defines: each given, of its type, none undeclared", () => {
  const spec = kernel({
    name: "defines_probe",
    source: "fn main() {}",
    bindings: { x: "f32" },
    uniforms: {},
    defines: { N: "u32", S: "i32", E: "f32", B: "bool" },
    workgroupSize: [1],
  });
  const src = kernelSource(spec, { N: 4, S: -2, E: 0.5, B: true });
  for (const line of ["const N = 4;", "const S = -2;", "const E = 5e-1;", "const B = true;"]) {
    assert.ok(src.includes(line), line);
  }
  const bad = (d: Record<string, number | boolean>) => () => kernelSource(spec, d);
  const ok = { N: 4, S: -2, E: 0.5, B: true };
  assert.throws(bad({ ...ok, N: -1 }), /defines_probe: define 'N' is -1, expected an u32/);
  assert.throws(bad({ ...ok, S: 1.5 }), /define 'S' is 1.5, expected an i32/);
  assert.throws(bad({ ...ok, E: Infinity }), /define 'E' is Infinity, expected a finite number/);
  assert.throws(bad({ ...ok, B: 1 }), /define 'B' is 1, expected a boolean/);
  const { B: _, ...missing } = ok;
  assert.throws(bad(missing), /define 'B' is not given/);
  assert.throws(bad({ ...ok, X: 1 }), /define 'X' is not declared/);
});

gpuTest("ops are recorded into batches, not one submit per op", async () => {
  const rt = runtime();
  await rt.sync();
  const before = rt.stats.submits;
  const x = tidy(() => {
    let h = tensor([1, 2, 3]);
    for (let i = 0; i < 50; i++) h = add(h, h);
    return h;
  });
  await x.read();
  assert.equal(rt.stats.submits - before, 1, "50 ops and a read in one submit");
  x.dispose();
});

gpuTest("bind groups are reused across repeated steps", async () => {
  const rt = runtime();
  const a = tensor([[1, 2], [3, 4]]);
  const step = () => tidy(() => void sum(mul(a, a)));
  for (let i = 0; i < 2; i++) { // warm-up: the pool's free lists settle
    step();
    await rt.sync();
  }
  const misses = rt.stats.bindGroupMisses;
  step();
  await rt.sync();
  step();
  await rt.sync();
  assert.equal(rt.stats.bindGroupMisses, misses, "steady-state steps create no bind group");
  a.dispose();
});

gpuTest("bad input: errors name the op, the shapes and what was expected", () => {
  tidy(() => {
    const a = tensor([[1, 2, 3]]);
    const b = tensor([[1, 2]]);
    assert.throws(() => add(a, b), /wgrec add: shapes \[1, 3\] and \[1, 2\] do not broadcast/);
    assert.throws(() => matmul(a, a), /wgrec matmul: \[1, 3\] · \[1, 3\] do not fit/);
    const i = tensor([1, 2], [2], "i32");
    assert.throws(() => exp(i as unknown as Tensor<"f32">), /wgrec exp: input \[2\] has dtype i32/);
    assert.throws(() => reshape(a, [2, 2]), /wgrec reshape: cannot reshape \[1, 3\]/);
    assert.throws(() => slice(a, [0, 2], [1, 2]), /wgrec slice: .* is outside \[1, 3\]/);
    assert.throws(() => tensor([1, NaN]), /wgrec tensor: input of shape \[2\] has a non-finite/);
    assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\]/);
    assert.throws(() => permute(a, [0, 0]), /not a permutation/);
  });
});

gpuTest("numerics-check mode names the first op that produced NaN/Inf", async () => {
  const rt = runtime();
  rt.checkNumerics = true;
  try {
    const y = tidy(() => exp(add(log(tensor([-1, 2])), tensor([1, 1]))));
    await assert.rejects(y.read(), /numerics: op 'log' \(output \[2\]\) produced a NaN or Inf/);
    y.dispose();
    const ok = tidy(() => exp(tensor([0, 1])));
    await ok.read(); // flags were cleared: no stale report
    ok.dispose();
  } finally {
    rt.checkNumerics = false;
  }
});

gpuTest("device loss rejects pending work and later calls; init() recovers", async () => {
  const rt = await Runtime.create();
  const buf = rt.pool.acquire(16);
  rt.clear(buf, 16);
  const pending = rt.readBuffers([{ buffer: buf, bytes: 16 }]);
  await pending; // completes before the loss
  rt.device.destroy();
  const reason = await rt.lost;
  assert.match(reason, /destroyed|unknown/);
  assert.throws(() => rt.flush(), /GPU device was lost/);
  await assert.rejects(rt.readBuffers([{ buffer: buf, bytes: 16 }]), /device was lost/);
  // The global runtime is untouched; a fresh one can always be made with init().
  const x = tensor([1, 2]);
  assert.deepEqual([...await x.read()], [1, 2]);
  x.dispose();
});

gpuTest("each op leaves exactly its output live; backward leaves only leaf grads", async () => {
  const a = tensor([[1, 2, 3], [4, 5, 6]]);
  const b = tensor([[1, 0], [0, 1], [1, 1]]);
  const ops: [string, () => Tensor][] = [
    ["add", () => add(a, a)],
    ["exp", () => exp(a)],
    ["softplus", () => softplus(a)],
    ["matmul", () => matmul(a, b)],
    ["sum axes", () => sum(a, [0, 1])],
    ["sum keep", () => sum(a, 1, true)],
    ["permute", () => permute(a, [1, 0])],
    ["concat", () => concat([a, a], 1)],
    ["slice", () => slice(a, [0, 1], [2, 2])],
  ];
  for (const [name, f] of ops) {
    const before = memory();
    const y = f();
    const mid = memory();
    assert.equal(mid.tensors - before.tensors, 1, `${name}: live tensors after the op`);
    assert.equal(mid.liveBuffers - before.liveBuffers, 1, `${name}: live buffers after the op`);
    y.dispose();
    assert.deepEqual(
      [memory().tensors, memory().liveBytes],
      [before.tensors, before.liveBytes],
      name,
    );
  }
  a.requiresGrad = true;
  b.requiresGrad = true;
  const before = memory();
  tidy(() => backward(sum(exp(matmul(a, b)))));
  assert.equal(memory().tensors - before.tensors, 2, "only a.grad and b.grad remain");
  await readAll([a.grad!, b.grad!]);
  a.grad!.dispose();
  b.grad!.dispose();
  a.dispose();
  b.dispose();
});

gpuTest("library imports by URL with no config or import map", async () => {
  const root = new URL("../../", import.meta.url);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    try {
      const body = await Deno.readFile(new URL("." + path, root));
      return new Response(body, { headers: { "content-type": "application/typescript" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/main.ts`;
    const url = `http://127.0.0.1:${server.addr.port}/mod.ts`;
    await Deno.writeTextFile(
      script,
      `import { init, ops, tensor } from "${url}";\nawait init();\n` +
        `console.log(JSON.stringify([...await ops.add(tensor([1, 2]), tensor([3, 4])).read()]));\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", "--no-lock", "-A", "--quiet", script],
      env: { DENO_DIR: `${dir}/deno_dir` },
      stderr: "piped",
      stdout: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "[4,6]");
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

// Keep the shared runtime alive across files: re-initialising is what recovery after a loss
// looks like, and it must give a working runtime.
gpuTest("init() returns a working runtime", async () => {
  const rt = await init();
  const x = tensor([3]);
  assert.equal(await x.item(), 3);
  x.dispose();
  assert.equal(runtime(), rt);
});

gpuTest(
  "params in storage: the same kernel and uniforms give the same result as uniform params",
  async () => {
    // A loop bounded by a parameter (the pattern lavapipe inlines), two uniforms of two types.
    const spec = kernel({
      name: "params_probe",
      source: `@compute @workgroup_size(WG_X)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x >= u.n) { return; }
  var s = 0.0;
  for (var j = 0u; j <= g.x; j++) { s += u.alpha; }
  out[g.x] = s;
}`,
      bindings: { out: "f32 rw" },
      uniforms: { n: "u32", alpha: "f32" },
      workgroupSize: [64],
    });
    assert.match(
      kernelSource(spec, {}, "storage"),
      /var<storage, read> u_in: Params;[^]*u = u_in;/,
    );
    assert.match(kernelSource(spec), /var<uniform> u: Params;/);
    const results: number[][] = [];
    for (const params of ["uniform", "storage"] as const) {
      const rt = await Runtime.create({ params });
      assert.equal(rt.params, params);
      const out = rt.pool.acquire(100 * 4);
      for (const [n, alpha] of [[100, 0.5], [37, 2]]) {
        rt.dispatch(spec, { buffers: { out }, uniforms: { n, alpha }, workgroups: [2] });
      }
      const [buf] = await rt.readBuffers([{ buffer: out, bytes: 100 * 4 }]);
      results.push([...new Float32Array(buf)]);
      rt.device.destroy();
    }
    // Rows < 37 were written last with alpha 2, the rest with 0.5.
    const want = Array.from({ length: 100 }, (_, i) => (i + 1) * (i < 37 ? 2 : 0.5));
    assert.deepEqual(results[0], want);
    assert.deepEqual(results[1], want);
  },
);
