// PMG against an independent PyTorch re-implementation (fixtures/make_pmg.py, float64):
// (1) soft-prefix key/value injection into one causal pre-LN layer, output and every gradient
// (input, soft embeddings, layer and projection weights); (2) one training step of the whole
// model: text CE, image MSE, soft embeddings, every parameter's gradient and the parameters
// after one Adam step, and the unpersonalised (no prefix) losses. f32 here against f64 there.
import {
  Adam,
  backward,
  decodeSafetensors,
  grad,
  Pmg,
  type PmgData,
  readAll,
  runtime,
  SoftPrefix,
  type Tensor,
  tensor,
  tidy,
  TransformerEncoderLayer,
} from "../../../internal.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";
import { add, mul, sum } from "../../../src/ops/mod.ts";

const file = decodeSafetensors(
  await Deno.readFile(new URL("./fixtures/pmg_step.safetensors", import.meta.url)),
);
const C = JSON.parse(file.metadata.config);
const arr = (k: string) => {
  const t = file.tensors[k];
  if (!t) throw new Error(`fixture has no '${k}'`);
  return t.data as Float32Array;
};
const shape = (k: string) => file.tensors[k].shape;
const up = (k: string) => tensor(arr(k), shape(k));
const ints = (k: string) => Int32Array.from(arr(k));

function closeRel(got: ArrayLike<number>, want: Float32Array, rel: number, msg: string) {
  const scale = Math.max(1e-6, ...want.map(Math.abs));
  assertClose(got, want, { atol: rel * scale + 1e-6, rtol: 0, msg });
}

function load(named: [string, Tensor<"f32">][], prefix: string) {
  const want = Object.keys(file.tensors).filter((k) => k.startsWith(prefix)).map((k) =>
    k.slice(prefix.length)
  );
  assert.deepEqual(named.map(([n]) => n).sort(), want.sort(), "parameter names");
  tidy(() => {
    for (const [n, p] of named) {
      runtime().copy(up(prefix + n).buffer, 0, p.buffer, 0, p.size * 4);
    }
  });
}

gpuTest("PMG: soft-prefix K/V injection matches PyTorch (output and every gradient)", async () => {
  const d = C.d;
  const layer = new TransformerEncoderLayer(d, C.heads, {
    dimFeedforward: C.ffn,
    dropout: 0,
    normFirst: true,
  });
  const proj = new SoftPrefix(C.c, C.heads, d / C.heads);
  const named: [string, Tensor<"f32">][] = [
    ...layer.namedParameters("layer."),
    ...proj.namedParameters("prefix."),
  ];
  load(named, "inj/param/");
  await tidy(async () => {
    const R = up("inj/R");
    const f = grad((x: Tensor<"f32">, s: Tensor<"f32">) =>
      sum(mul(layer.forward(x, { causal: true, ...proj.forward(s) }), R))
    );
    const out = layer.forward(up("inj/x"), { causal: true, ...proj.forward(up("inj/soft")) });
    const { grads } = f(up("inj/x"), up("inj/soft"));
    const got = await readAll([out, ...grads, ...named.map(([, p]) => p.grad!)]);
    closeRel(got[0], arr("inj/out"), 1e-4, "output");
    closeRel(got[1], arr("inj/grad_x"), 1e-3, "grad x");
    closeRel(got[2], arr("inj/grad_soft"), 1e-3, "grad soft");
    named.forEach(([n], i) => closeRel(got[3 + i], arr(`inj/grad/${n}`), 1e-3, `grad ${n}`));
  });
  layer.dispose();
  proj.dispose();
});

gpuTest("PMG: one training step matches PyTorch (losses, soft, gradients, Adam)", async () => {
  const SL = C.K * C.W;
  const layout = {
    keywords: C.K,
    maxStyleWeight: C.W,
    history: C.H,
    titleWords: C.TW,
    descSlots: C.D,
    itemSlots: C.I,
    posterSize: C.S,
  };
  // The model reads only these of its data when building and computing losses.
  const data = {
    layout,
    vocab: { size: C.V },
    textLength: SL + C.TW + C.D + 2,
    promptLength: SL + C.TW + 1,
    train: [],
  } as unknown as PmgData;
  const model = new Pmg(data, {
    dim: C.d,
    heads: C.heads,
    layers: C.layers,
    encoderLayers: C.enc_layers,
    condDim: C.c,
    channels: C.ch,
    imageWeight: C.lam,
    dropPrefix: 0,
    probeSamples: 1,
    seed: 1,
  });
  const named = model.namedParameters();
  load(named, "param/");
  const batch = {
    keywords: ints("input/keywords"),
    lengths: Array.from(arr("input/lengths")),
    items: ints("input/items"),
    itemWeights: arr("input/item_weights"),
    text: ints("input/text"),
    prompt: ints("input/prompt"),
  };
  const opt = new Adam(named.map(([, p]) => p), { lr: C.lr });
  await tidy(async () => {
    const r = model.losses(batch, true, arr("input/want"));
    const loss = sum(mul(r.image, tensor([C.lam], [1])));
    backward(add(r.text, loss));
    const got = await readAll([r.text, r.image, r.soft!, ...named.map(([, p]) => p.grad!)]);
    closeRel(got[0], arr("out/text"), 1e-4, "text CE");
    closeRel(got[1], arr("out/image"), 1e-4, "image MSE");
    closeRel(got[2], arr("out/soft"), 1e-4, "soft embeddings");
    named.forEach(([n], i) => closeRel(got[3 + i], arr(`grad/${n}`), 2e-3, `grad ${n}`));
  });
  opt.step();
  const after = await readAll(named.map(([, p]) => p));
  named.forEach(([n], i) => closeRel(after[i], arr(`after/${n}`), 1e-4, `after Adam ${n}`));
  await tidy(async () => {
    const r = model.losses(batch, false, arr("input/want"));
    assert.equal(r.soft, null);
    const [t, im] = await readAll([r.text, r.image]);
    closeRel(t, arr("out/text_unpersonalised"), 1e-4, "unpersonalised text CE");
    closeRel(im, arr("out/image_unpersonalised"), 1e-4, "unpersonalised image MSE");
  });
  model.dispose();
});
