// Issue 15, item 8: a tensor belongs to the runtime that made it. After a device loss (or a
// second init()), disposing an old tensor leaves the new pool alone, and using one says what
// happened and what to do, instead of WebGPU's "Device doesn't match".
import assert from "node:assert/strict";
import { add, init, memory, runtime, tensor } from "../../internal.ts";

Deno.test({
  name: "tensors of a lost or replaced runtime: dispose is a no-op, use is a clear error",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await init();
    const a = tensor([1, 2, 3], [3]);
    const b = tensor([4, 5], [2]);
    const old = runtime();
    old.device.destroy();
    await old.lost;
    await init();
    const fresh = memory();
    assert.equal(fresh.tensors, 0, "old tensors do not count as live on the new runtime");
    a.dispose(); // after the loss: must not enter the new pool
    assert.deepEqual(memory(), fresh);
    const c = tensor([10, 20], [2]);
    assert.deepEqual([...await add(c, c).read()], [20, 40]);
    assert.ok(memory().liveBytes > 0);
    assert.throws(
      () => add(b, c),
      /belongs to an earlier GPU runtime: the GPU device was lost .*reload weights from a checkpoint/,
    );
    await assert.rejects(b.read(), /earlier GPU runtime/);
    // init() twice: the same rules, with the cause named.
    const d = tensor([1], [1]);
    await init();
    assert.throws(() => d.buffer, /earlier GPU runtime: init\(\) was called again/);
    d.dispose();
    assert.equal(memory().liveBytes, 0);
    const e = tensor([3], [1]);
    assert.deepEqual([...await e.read()], [3]);
  },
});
