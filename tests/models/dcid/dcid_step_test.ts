// One DCID pretraining step against an independent PyTorch re-implementation
// (fixtures/make_dcid.py, float64): the CLUB inner loop's −log-likelihoods, every loss term of
// the main pass, every main parameter's gradient, the codebook after the EMA passes and the
// parameters after the clipped Adam step. f32 here against f64 there: terms to rtol 1e-4,
// gradients to 2e-3 of each tensor's largest entry.
import {
  Adam,
  backward,
  Dcid,
  decodeSafetensors,
  readAll,
  runtime,
  smallDcid,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const file = decodeSafetensors(
  await Deno.readFile(new URL("./fixtures/dcid_step.safetensors", import.meta.url)),
);
const C = JSON.parse(file.metadata.config);
const draws = JSON.parse(file.metadata.draws);
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

gpuTest(
  "DCID: one pretraining step matches PyTorch (losses, gradients, codebook, Adam step)",
  async () => {
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
    });
    const model = new Dcid(cfg, 1);
    const mods = ["Audio_mi_net", "Video_mi_net", "Text_mi_net"];
    const named: [string, Tensor<"f32">][] = [
      ...model.namedParameters(),
      ...model.mi.flatMap((n, i) => n.namedParameters(`${mods[i]}.`)),
    ];
    // Same parameter names as the PyTorch modules, both ways.
    const want = Object.keys(file.tensors).filter((k) => k.startsWith("param/")).map((k) =>
      k.slice(6)
    );
    assert.deepEqual(named.map(([n]) => n).sort(), want.sort());
    tidy(() => {
      for (const [n, p] of named) {
        runtime().copy(up(`param/${n}`).buffer, 0, p.buffer, 0, p.size * 4);
      }
      const vq = model.encoder.quantizer.vq;
      const e = up("buf/embedding");
      runtime().copy(e.buffer, 0, vq.codebook.buffer, 0, e.size * 4);
      runtime().copy(e.buffer, 0, vq.ema!.weight.buffer, 0, e.size * 4);
    });
    const main = named.filter(([n]) => !n.includes("_mi_net."));
    const opt = new Adam(main.map(([, p]) => p), { lr: C.lr });
    await tidy(async () => {
      const x = { audio: up("input/audio"), video: up("input/video"), text: up("input/text") };
      const tf = model.textFeatures(x.text);
      const lld = model.trainMi(x, tf);
      const parts = model.mainLoss(x, tf, draws);
      backward(parts.loss);
      const names = Object.keys(parts);
      const vals = await readAll([...lld, ...names.map((k) => parts[k])]);
      ["audio", "video", "text"].forEach((m, i) =>
        assertClose(vals[i], arr(`out/lld_${m}`).data as Float32Array, {
          atol: 1e-4,
          rtol: 1e-4,
          msg: `lld_${m}`,
        })
      );
      names.forEach((k, i) =>
        assertClose(vals[3 + i], arr(`out/${k}`).data as Float32Array, {
          atol: 2e-5,
          rtol: 1e-4,
          msg: k,
        })
      );
      const grads = await readAll(main.map(([, p]) => p.grad!));
      if (Deno.env.get("DCID_REPORT")) {
        main.forEach(([n], i) => {
          const w = arr(`grad/${n}`).data as Float32Array;
          const sc = Math.max(1e-12, ...w.map(Math.abs));
          const err = Math.max(...grads[i].map((g, j) => Math.abs(g - w[j])));
          console.log(`${(err / sc).toExponential(2)} ${sc.toExponential(2)} ${n}`);
        });
      }
      main.forEach(([n], i) =>
        closeRel(grads[i], arr(`grad/${n}`).data as Float32Array, 2e-3, `∂${n}`)
      );
      model.clipAndDropMi();
      opt.step();
      const after = await readAll([...main.map(([, p]) => p), model.encoder.quantizer.codebook]);
      // Adam's first step is ±lr wherever a gradient is non-zero, so a parameter whose exact
      // gradient is 0 (a CPC predictor bias: the row-wise softmax cancels it) moves by f32 noise
      // here; those are checked by their gradients above, the rest after the step.
      main.forEach(([n], i) => {
        const g = arr(`grad/${n}`).data as Float32Array;
        if (Math.max(...g.map(Math.abs)) < 1e-6) return;
        assertClose(after[i], arr(`after/${n}`).data as Float32Array, {
          atol: 2e-5,
          rtol: 1e-4,
          msg: n,
        });
      });
      closeRel(
        after[main.length],
        arr("buf/embedding_after").data as Float32Array,
        1e-4,
        "codebook",
      );
    });
    model.dispose();
  },
);
