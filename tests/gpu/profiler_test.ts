// The profiler: per-kernel timestamps (or wall clock), phases, counts, and no effect on results.
import assert from "node:assert/strict";
import {
  add,
  formatProfile,
  matmul,
  Module,
  Profiler,
  type ProfileReport,
  runtime,
  square,
  sum,
  tensor,
  tidy,
} from "../../internal.ts";
import { type Task, trainLoop } from "../../src/train/loop.ts";
import { gpuTest } from "../helpers.ts";

for (const timestamps of [true, false]) {
  gpuTest(`profiler records kernels by phase (timestamps ${timestamps})`, async () => {
    const rt = runtime();
    const a = tensor(new Float32Array(64 * 64).fill(1), [64, 64]);
    const before = await tidy(() => add(matmul(a, a), a)).read();
    const p = Profiler.start(rt, { timestamps, adapter: "test" });
    assert.throws(() => Profiler.start(rt), /already attached/);
    let out = before;
    for (let s = 0; s < 2; s++) {
      p.phase = "forward";
      const y = matmul(a, a);
      p.phase = "backward";
      const z = add(y, a);
      out = await z.read();
      y.dispose();
      z.dispose();
      p.step();
    }
    const r = await p.stop();
    assert.equal(rt.profiler, null);
    assert.deepEqual(out, before); // one pass per dispatch changes nothing
    assert.equal(r.steps, 2);
    assert.equal(r.perStep.dispatches, 2);
    assert.equal(r.perStep.readbacks, 1);
    assert.equal(r.perStep.readBytes, 64 * 64 * 4);
    assert.deepEqual(r.byPhase.map((x) => x.name).sort(), ["backward", "forward"]);
    for (const ph of r.byPhase) assert.equal(ph.dispatches, 2);
    const hasTs = rt.device.features.has("timestamp-query");
    assert.equal(r.method, timestamps && hasTs ? "timestamp-query" : "wall-clock");
    if (r.method === "timestamp-query") {
      assert.ok(r.gpuMs > 0);
      const shares = r.byKernel.reduce((s, k) => s + (k.share ?? 0), 0);
      assert.ok(Math.abs(shares - 1) < 1e-9);
    } else assert.ok(r.byKernel.every((k) => k.gpuMs === null));
    assert.ok(r.byKernel.every((k) => k.bytes > 0));
    const text = formatProfile(r);
    assert.match(text, /forward/);
    assert.match(text, /2 step/);
    a.dispose();
  });
}

gpuTest("trainLoop profile option: a window of steps by phase, report returned", async () => {
  const m = new (class extends Module {
    readonly w = this.param("w", tensor([1, 2, 3], [3]));
  })();
  const w = m.w;
  const task: Task<number> = {
    name: "vec",
    module: m,
    trainable: true,
    metric: { name: "m", mode: "min" },
    steps: () => 4,
    batches: () => [0, 1, 2, 3],
    size: () => 1,
    loss: () => ({ loss: sum(square(w)), parts: {} }),
    evaluate: async () => ({ m: (await w.read())[0] }),
  };
  let seen: ProfileReport | null = null;
  const r = await trainLoop(task, {
    epochs: 3,
    test: false,
    profile: { skip: 1, steps: 3 },
    onProfile: (p) => (seen = p),
  });
  assert.equal(runtime().profiler, null);
  assert.ok(r.profile);
  assert.equal(seen, r.profile);
  assert.equal(r.profile.steps, 3);
  const phases = r.profile.byPhase.map((x) => x.name).sort();
  assert.deepEqual(phases, ["backward", "forward", "optimizer"]);
  const opt = r.profile.byPhase.find((x) => x.name === "optimizer")!;
  assert.equal(opt.dispatches, 3); // one Adam dispatch per step
  // A window ends with its epoch (evaluation is not a step): 3 of the 4 steps after skip 1.
  const cut = await trainLoop(task, { epochs: 2, test: false, profile: { skip: 1, steps: 8 } });
  assert.equal(cut.profile?.steps, 3);
  const off = await trainLoop(task, { epochs: 1, test: false });
  assert.equal(off.profile, undefined);
  m.dispose();
});
