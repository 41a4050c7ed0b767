// One Music-PAW training step against an independent PyTorch re-implementation
// (fixtures/make_musicpaw.py, float64) on fixed weights and crops: both level-pair InfoNCE
// terms, the weighted total and every parameter's gradient; then the no-hierarchy baseline's
// clip InfoNCE and its gradients with the same backbone and head. f32 here against f64 there:
// terms to 1e-4, gradients to 2e-3 of each tensor's largest entry.
import {
  backward,
  decodeSafetensors,
  MusicPaw,
  readAll,
  runtime,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const file = decodeSafetensors(
  await Deno.readFile(new URL("./fixtures/musicpaw_step.safetensors", import.meta.url)),
);
const C = JSON.parse(file.metadata.config);
const arr = (k: string) => {
  const t = file.tensors[k];
  if (!t) throw new Error(`fixture has no '${k}'`);
  return t;
};
const up = (k: string) => tensor(arr(k).data as Float32Array, arr(k).shape);
const keys = (prefix: string) =>
  Object.keys(file.tensors).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));

function closeRel(got: Float32Array, want: Float32Array, rel: number, msg: string) {
  const scale = Math.max(1e-6, ...want.map(Math.abs));
  assertClose(got, want, { atol: rel * scale + 1e-6, rtol: 0, msg });
}

function build(objective: "paw" | "clip"): MusicPaw {
  const m = new MusicPaw({
    nMels: C.F,
    channels: C.C,
    dim: C.D,
    projDim: C.P,
    levels: C.H,
    heads: C.heads,
    ffn: C.ffn,
    tau: C.tau,
    levelWeights: C.w,
    objective,
  });
  tidy(() => {
    for (const [n, p] of m.namedParameters()) {
      runtime().copy(up(`param/${n}`).buffer, 0, p.buffer, 0, p.size * 4);
    }
  });
  return m;
}

async function checkGrads(named: [string, Tensor<"f32">][], prefix: string) {
  const grads = await readAll(named.map(([, p]) => p.grad!));
  named.forEach(([n], i) =>
    closeRel(grads[i], arr(`${prefix}${n}`).data as Float32Array, 2e-3, `∂${n}`)
  );
}

gpuTest(
  "Music-PAW: one step matches PyTorch (both level terms, total, every gradient)",
  async () => {
    const model = build("paw");
    const named = model.namedParameters();
    // Same parameter names as the PyTorch module, both ways.
    assert.deepEqual(named.map(([n]) => n).sort(), keys("param/").sort());
    await tidy(async () => {
      const levels = Array.from({ length: C.H }, (_, l) => up(`input/level${l}`));
      const out = model.hierarchicalLoss(levels);
      backward(out.loss);
      const vals = await readAll([out.loss, out.parts.level0, out.parts.level1]);
      ["loss", "level0", "level1"].forEach((k, i) =>
        assertClose(vals[i], arr(`out/${k}`).data as Float32Array, {
          atol: 2e-5,
          rtol: 1e-4,
          msg: k,
        })
      );
      await checkGrads(named, "grad/");
    });
    model.dispose();
  },
);

gpuTest(
  "Music-PAW baseline: the two-view clip InfoNCE and its gradients match PyTorch",
  async () => {
    const model = build("clip");
    const named = model.namedParameters();
    assert.deepEqual(named.map(([n]) => n).sort(), keys("clipgrad/").sort());
    await tidy(async () => {
      const out = model.clipLoss(up("input/view1"), up("input/view2"));
      backward(out.loss);
      assertClose(await out.parts.clip.read(), arr("out/clip").data as Float32Array, {
        atol: 2e-5,
        rtol: 1e-4,
        msg: "clip",
      });
      await checkGrads(named, "clipgrad/");
    });
    model.dispose();
  },
);
