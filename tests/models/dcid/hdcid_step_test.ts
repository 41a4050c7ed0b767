// One H-DCID pretraining step against an independent PyTorch re-implementation
// (fixtures/make_hdcid.py, float64): after the warm-up (epoch 3) every loss term of both
// levels, the six CLUB nets' −log-likelihoods, every main gradient, both codebooks after the
// EMA passes and the parameters after the clipped Adam step; during the warm-up (epoch 0) the
// same level-1 terms with the loss their sum alone and the level-2 CLUB nets untouched.
// f32 here against f64 there: terms to rtol 1e-4, gradients to 2e-3 of each tensor's largest
// entry.
import {
  Adam,
  backward,
  decodeSafetensors,
  readAll,
  runtime,
  smallDcid,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { Hdcid } from "../../../src/models/dcid/mod.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const file = decodeSafetensors(
  await Deno.readFile(new URL("./fixtures/hdcid_step.safetensors", import.meta.url)),
);
const C = JSON.parse(file.metadata.config);
const draws = JSON.parse(file.metadata.draws);
const arr = (k: string) => {
  const t = file.tensors[k];
  if (!t) throw new Error(`fixture has no '${k}'`);
  return t.data as Float32Array;
};
const up = (k: string) => tensor(arr(k), file.tensors[k].shape);
const MODS = ["audio", "video", "text"];

function closeRel(got: Float32Array, want: Float32Array, rel: number, msg: string) {
  const scale = Math.max(1e-6, ...want.map(Math.abs));
  assertClose(got, want, { atol: rel * scale + 1e-6, rtol: 0, msg });
}

/** H-DCID at the fixture's sizes with its parameters and codebooks. */
function build(): { model: Hdcid; named: [string, Tensor<"f32">][] } {
  const cfg = smallDcid({
    seqLen: C.T,
    audioDim: C.A,
    videoDim: C.V,
    textDim: C.W,
    textLstmHidden: C.LH,
    hidden: C.D,
    specificDim: C.SP,
    videoHidden: C.H,
    numCodes: C.M,
    heads: C.heads,
    ffn: C.ffn,
    clubHidden: C.club,
    miIters: C.mi_iters,
    dropout: 0,
    level2Weight: C.level2_weight,
  });
  const model = new Hdcid(cfg, 1);
  const nets = ["Audio_mi_net", "Video_mi_net", "Text_mi_net"];
  const named: [string, Tensor<"f32">][] = [
    ...model.namedParameters(),
    ...model.mi.flatMap((n, i) => n.namedParameters(`${nets[i]}.`)),
    ...model.mi2.flatMap((n, i) => n.namedParameters(`${nets[i]}_2.`)),
  ];
  tidy(() => {
    for (const [n, p] of named) runtime().copy(up(`param/${n}`).buffer, 0, p.buffer, 0, p.size * 4);
    for (
      const [q, k] of [[model.encoder.quantizer, ""], [model.encoder.quantizer2, "_2"]] as const
    ) {
      const e = up(`buf/embedding${k}`);
      runtime().copy(e.buffer, 0, q.vq.codebook.buffer, 0, e.size * 4);
      runtime().copy(e.buffer, 0, q.vq.ema!.weight.buffer, 0, e.size * 4);
    }
  });
  return { model, named };
}

const inputs = () => ({
  audio: up("input/audio"),
  video: up("input/video"),
  text: up("input/text"),
});

gpuTest("H-DCID: one step after the warm-up matches PyTorch (both levels)", async () => {
  const { model, named } = build();
  const want = Object.keys(file.tensors).filter((k) => k.startsWith("param/")).map((k) =>
    k.slice(6)
  );
  assert.deepEqual(named.map(([n]) => n).sort(), want.sort());
  const main = named.filter(([n]) => !n.includes("_mi_net"));
  const opt = new Adam(main.map(([, p]) => p), { lr: C.lr });
  await tidy(async () => {
    const x = inputs();
    const tf = model.textFeatures(x.text);
    const lld = model.trainMi(x, tf, 3);
    const parts = model.mainLoss(x, tf, draws, 3);
    backward(parts.loss);
    const names = Object.keys(parts);
    const vals = await readAll([...lld, ...names.map((k) => parts[k])]);
    // trainMi returns level 1 (video, text, audio), then level 2 in the same order.
    const order = [1, 2, 0];
    ["", "_2"].forEach((suf, l) =>
      order.forEach((m, j) =>
        assertClose(vals[3 * l + j], arr(`out/lld_${MODS[m]}${suf}`), {
          atol: 1e-4,
          rtol: 1e-4,
          msg: `lld_${MODS[m]}${suf}`,
        })
      )
    );
    assert.equal(names.length, 21);
    names.forEach((k, i) =>
      assertClose(vals[6 + i], arr(`out/${k}`), { atol: 2e-5, rtol: 1e-4, msg: k })
    );
    const grads = await readAll(
      main.map(([, p]) => p.grad ?? tensor(new Float32Array(p.size), p.shape)),
    );
    main.forEach(([n], i) => closeRel(grads[i], arr(`grad/${n}`), 2e-3, `∂${n}`));
    model.afterBackward();
    opt.step();
    const q = model.quantizers();
    const after = await readAll([...main.map(([, p]) => p), q[0].codebook, q[1].codebook]);
    main.forEach(([n], i) => {
      const g = arr(`grad/${n}`);
      const gmax = Math.max(...g.map(Math.abs));
      if (gmax < 1e-6) return; // see dcid_step_test
      // Adam's first step moves an entry by about lr·sign(g): entries whose reference gradient
      // is below 1% of the tensor's largest (where the f32 gradient, checked above to 2e-3 of
      // that largest, need not keep its sign) are not compared one by one.
      const keep = (_: number, j: number) => Math.abs(g[j]) >= 1e-2 * gmax;
      assertClose(after[i].filter(keep), arr(`after/${n}`).filter(keep), {
        atol: 2e-5,
        rtol: 1e-4,
        msg: n,
      });
    });
    closeRel(after[main.length], arr("buf/embedding_after"), 1e-4, "codebook 1");
    closeRel(after[main.length + 1], arr("buf/embedding_2_after"), 1e-4, "codebook 2");
  });
  model.dispose();
});

gpuTest(
  "H-DCID: during the warm-up the loss is level 1 alone, level-2 CLUB nets idle",
  async () => {
    const { model } = build();
    const before = await readAll(model.mi2.flatMap((n) => n.parameters()));
    await tidy(async () => {
      const x = inputs();
      const tf = model.textFeatures(x.text);
      const lld = model.trainMi(x, tf, 0);
      assert.equal(lld.length, 3);
      const parts = model.mainLoss(x, tf, draws, 0);
      assert.ok(Object.keys(parts).every((k) => !k.endsWith("_2")));
      const names = Object.keys(parts).filter((k) => k !== "loss");
      const vals = await readAll([parts.loss, ...names.map((k) => parts[k])]);
      // The same encoder passes run, so level 1 equals the fixture's level 1.
      names.forEach((k, i) =>
        assertClose(vals[1 + i], arr(`out/${k}`), { atol: 2e-5, rtol: 1e-4, msg: k })
      );
      assertClose(vals[0], arr("out/loss1"), { atol: 2e-5, rtol: 1e-4, msg: "loss (level 1)" });
    });
    const after = await readAll(model.mi2.flatMap((n) => n.parameters()));
    after.forEach((a, i) => assert.deepEqual(a, before[i]));
    model.dispose();
  },
);
