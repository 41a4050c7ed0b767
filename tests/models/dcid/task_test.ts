// DCID / H-DCID as the runner's pretraining task: the codebooks travel as gradient-free
// parameters (saved, snapshotted, never moved by the optimizer), the probe reports V→A, A→V
// and their mean, TOC narrows the head's input, and H-DCID's level 2 joins at `level2From`.
import { backward, readAll, tidy } from "../../../internal.ts";
import { getModel, modelSettings } from "../../../src/runner/models.ts";
import { resolveSettings } from "../../../src/runner/settings.ts";
import type { CmgPretrain } from "../../../src/models/dcid/mod.ts";
import { Rng } from "../../../src/random.ts";
import { assert, gpuTest } from "../../helpers.ts";

async function build(name: string, over: Record<string, unknown>): Promise<CmgPretrain> {
  const e = getModel(name);
  const config = resolveSettings(modelSettings(e), [["test", { ...e.tiny, ...over }]]);
  const log = () => {};
  // deno-lint-ignore no-explicit-any
  return await e.build({ data: null as any, config, log, artifact: null as any }) as CmgPretrain;
}

gpuTest(
  "dcid/hdcid tasks: codebooks as gradient-free parameters, probe, TOC, schedule",
  async () => {
    const m = await build("hdcid", { toc: true, tocK: 8, tocA: 1, tocB: 0, level2From: 1 });
    const named = Object.fromEntries(m.namedParameters());
    for (const k of ["Encoder.Cross_quantizer.embedding", "Encoder.Cross_quantizer_2.ema_weight"]) {
      assert.ok(named[k], `${k} registered`);
      assert.equal(named[k].requiresGrad, false);
    }
    const cb = named["Encoder.Cross_quantizer.embedding"];
    const before = await cb.read();
    const keys: string[][] = [];
    for (const epoch of [0, 1]) {
      tidy(() => {
        const { loss, parts } = m.loss(Int32Array.from([0, 1, 2, 3]), new Rng(epoch), epoch);
        keys.push(Object.keys(parts));
        backward(loss);
        m.afterBackward();
        assert.equal(cb.grad ?? null, null, "the codebook gets no gradient");
        m.zeroGrad();
      });
    }
    assert.ok(!keys[0].some((k) => k.endsWith("_2")), `epoch 0: ${keys[0]}`);
    assert.ok(
      keys[1].includes("cpc_2") && keys[1].includes("recon_video_2"),
      `epoch 1: ${keys[1]}`,
    );
    const after = await cb.read();
    assert.ok(after.some((v, i) => v !== before[i]), "the EMA moved the codebook");
    const r = await m.probe("valid");
    assert.deepEqual(Object.keys(r).sort(), ["a2v", "transfer", "v2a"]);
    for (const v of Object.values(r)) assert.ok(v >= 0 && v <= 1);
    assert.ok(Math.abs(r.transfer - (r.v2a + r.a2v) / 2) < 1e-12);
    m.dispose();
    const d = await build("dcid", {});
    const [x] = await readAll([d.model.quantizers()[0].codebook]);
    assert.equal(x.length, 16 * 16, "tiny: 16 codes of width 16");
    d.dispose();
  },
);
