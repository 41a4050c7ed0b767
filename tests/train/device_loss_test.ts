// Device loss inside fit says the device was lost and where the last checkpoint is (issue 15
// item 9). Its own file: the test destroys the process's GPU device.
import assert from "node:assert/strict";
import { gpuTest } from "../helpers.ts";
import { fit, LightGCN, runtime, trainData } from "../../internal.ts";
import { generateSynthetic } from "../../src/data/synthetic.ts";

gpuTest("fit: a device lost mid-run names the loss and the last checkpoint", async () => {
  const ds = generateSynthetic({ numUsers: 30, numItems: 20, numInteractions: 240, seed: 2 });
  const m = new LightGCN(ds.split.train, { embeddingSize: 4 });
  const dir = await Deno.makeTempDir();
  const ckpt = `${dir}/ck.safetensors`;
  await assert.rejects(
    () =>
      fit(m, trainData(ds.split), {
        epochs: 5,
        batchSize: 64,
        checkpoint: ckpt,
        onEpoch: async (log) => {
          if (log.epoch !== 1) return;
          runtime().device.destroy();
          await runtime().lost;
        },
      }),
    (e: Error) => {
      assert.match(e.message, /wgrec fit: the GPU device was lost while training LightGCN/);
      assert.ok(e.message.includes(`the last checkpoint is ${ckpt} (after epoch 0)`), e.message);
      return true;
    },
  );
});
