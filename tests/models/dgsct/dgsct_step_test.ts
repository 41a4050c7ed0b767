// One DG-SCT training step (adapt = dgsct) against an independent PyTorch re-implementation
// of the spec (fixtures/make_dgsct.py, float64, official NCHW adapter layout): the four loss
// terms, the scores, and the gradient of every trainable parameter (adapters, temporal module,
// CMBS; the backbones are frozen and get none). f32 here: terms to 1e-4, gradients to 2e-3 of
// each tensor's largest entry. The fixture script guards PyTorch 1.13's CPU batch-norm backward
// against a layout bug (see batch_norm_2d in make_dgsct.py); without the guard its adapter
// gradients were wrong while ours were right.
import {
  aveLoss,
  backward,
  decodeSafetensors,
  Dgsct,
  dgsctConfig,
  readAll,
  runtime,
  tensor,
  tidy,
  trainableParameters,
} from "../../../internal.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const file = decodeSafetensors(
  await Deno.readFile(new URL("./fixtures/dgsct_step.safetensors", import.meta.url)),
);
const C = JSON.parse(file.metadata.config);
const arr = (k: string) => {
  const t = file.tensors[k];
  if (!t) throw new Error(`fixture has no '${k}'`);
  return t;
};
const up = (k: string) => tensor(arr(k).data as Float32Array, arr(k).shape);

function closeRel(got: Float32Array, want: Float32Array, rel: number, msg: string) {
  const scale = Math.max(1e-6, ...want.map(Math.abs));
  assertClose(got, want, { atol: rel * scale + 1e-6, rtol: 0, msg });
}

const cfg = (adapt: "dgsct" | "frozen" | "finetune") =>
  dgsctConfig({
    adapt,
    classes: C.K,
    segments: C.T,
    side: C.side,
    visualPatch: C.vpatch,
    visualDims: C.vdims,
    melFrames: C.mels,
    mels: C.mels,
    audioPatch: C.apatch,
    audioDims: C.adims,
    depths: C.depths,
    heads: C.heads,
    numTokens: C.tokens,
    adapterDownsample: C.down,
    convGroups: C.groups,
    videoFc: C.vfc,
    audioFc: C.afc,
    dModel: C.d,
    ffn: C.ffn,
    temporalHeads: C.theads,
    dropout: 0,
    fcDropout: 0,
  });

gpuTest("DG-SCT: one training step matches PyTorch (loss terms, scores, gradients)", async () => {
  const model = new Dgsct(cfg("dgsct"));
  const named = model.namedParameters();
  const want = Object.keys(file.tensors).filter((k) => k.startsWith("param/")).map((k) =>
    k.slice(6)
  );
  assert.deepEqual(named.map(([n]) => n).sort(), want.sort());
  tidy(() => {
    for (const [n, p] of named) runtime().copy(up(`param/${n}`).buffer, 0, p.buffer, 0, p.size * 4);
  });
  const trainable = named.filter(([, p]) => p.requiresGrad);
  const wantGrads = Object.keys(file.tensors).filter((k) => k.startsWith("grad/"));
  assert.deepEqual(trainable.map(([n]) => `grad/${n}`).sort(), wantGrads.sort());
  await tidy(async () => {
    const b = {
      videos: C.B,
      images: up("input/images"),
      mels: up("input/mels"),
      fg: up("input/fg"),
      onehot: up("input/onehot"),
    };
    const h = model.forward(b);
    const { loss, parts } = aveLoss(h, b.fg, b.onehot);
    backward(loss);
    const keys = ["is_event", "gate", "event", "cas"];
    const vals = await readAll([...keys.map((k) => parts[k]), loss, h.isEvent, h.event]);
    keys.forEach((k, i) =>
      assertClose(vals[i], arr(`out/${k}`).data as Float32Array, { atol: 1e-5, rtol: 1e-4, msg: k })
    );
    assertClose(vals[4], arr("out/loss").data as Float32Array, { atol: 1e-5, rtol: 1e-4 });
    closeRel(vals[5], arr("score/is_event").data as Float32Array, 1e-4, "is_event scores");
    closeRel(vals[6], arr("score/event").data as Float32Array, 1e-4, "event scores");
    const grads = await readAll(trainable.map(([, p]) => p.grad!));
    if (Deno.env.get("DGSCT_REPORT")) {
      trainable.forEach(([n], i) => {
        const w = arr(`grad/${n}`).data as Float32Array;
        const sc = Math.max(1e-12, ...w.map(Math.abs));
        const err = Math.max(...grads[i].map((g, j) => Math.abs(g - w[j])));
        console.log(`${(err / sc).toExponential(2)} ${sc.toExponential(2)} ${n}`);
      });
    }
    let checked = 0;
    trainable.forEach(([n], i) => {
      closeRel(grads[i], arr(`grad/${n}`).data as Float32Array, 2e-3, `∂${n}`);
      checked++;
    });
    assert.equal(checked, trainable.length);
    // The frozen backbones got no gradient.
    for (const [n, p] of named) if (!p.requiresGrad) assert.equal(p.grad, null, n);
  });
  model.dispose();
});

gpuTest("DG-SCT: adapt settings train what they say", () => {
  const counts = (["frozen", "dgsct", "finetune"] as const).map((a) => {
    const m = new Dgsct(cfg(a));
    const c = trainableParameters(m);
    const adapters = m.namedParameters().filter(([n]) => n.includes("adapter_blocks")).length;
    m.dispose();
    return { ...c, adapters };
  });
  const [frozen, dgsct, finetune] = counts;
  assert.equal(frozen.adapters, 0);
  assert.equal(finetune.adapters, 0);
  assert.ok(dgsct.adapters > 0);
  assert.equal(frozen.total, finetune.total); // same modules, different freezing
  assert.ok(frozen.trainable < dgsct.trainable && dgsct.trainable < dgsct.total);
  assert.equal(finetune.trainable, finetune.total);
  // DG-SCT trains the head plus exactly its adapters.
  assert.equal(dgsct.trainable - frozen.trainable, dgsct.total - frozen.total);
});

gpuTest("DG-SCT: bad shapes name the op and what was expected", () => {
  const model = new Dgsct(cfg("dgsct"));
  tidy(() => {
    const b = {
      videos: 1,
      images: up("input/images"),
      mels: up("input/mels"),
      fg: up("input/fg"),
      onehot: up("input/onehot"),
    };
    assert.throws(() => model.forward(b), /Dgsct: images \[10, 3, 8, 8\].*videos × segments = 5/);
  });
  assert.throws(
    () => new Dgsct({ ...cfg("dgsct"), visualDims: [16, 24] }),
    /DG-SCT backbone: .*must double per stage/,
  );
  model.dispose();
});
