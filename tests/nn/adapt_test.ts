// Adaptation wrappers (src/nn/adapt.ts) against PyTorch (tests/fixtures/make_adapt.py): a
// transformer layer with LoRA on q, v and linear1, Houlsby adapters and prefix tokens, and a
// cross-modal adapter, forward and every gradient; LoRA merge equals the unmerged output;
// frozen parameters get no update and no optimizer state; parameter groups scale the rate.
import {
  Adam,
  addAdapters,
  addLoRA,
  backward,
  CrossModalAdapter,
  freeze,
  FrozenFeatures,
  Linear,
  mergeLoRA,
  Module,
  mul,
  paramGroups,
  PromptTokens,
  readAll,
  SGD,
  sum,
  type Tensor,
  tensor,
  tidy,
  trainableParameters,
  TransformerEncoderLayer,
  unmergeLoRA,
} from "../../internal.ts";
import { assert, assertClose, gpuTest, randArray } from "../helpers.ts";

interface Golden {
  dims: Record<string, number>;
  weights: Record<string, number[]>;
  prefix_key: number[];
  prefix_value: number[];
  x: number[];
  r: number[];
  out: number[];
  grads: Record<string, number[]>;
  grad_x: number[];
  grad_prefix_key: number[];
  grad_prefix_value: number[];
  cross: {
    dims: Record<string, number>;
    weights: Record<string, number[]>;
    ctx: number[];
    h: number[];
    out: number[];
    grads: Record<string, number[]>;
    grad_ctx: number[];
    grad_h: number[];
  };
}

const g: Golden = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/adapt_golden.json", import.meta.url)),
);
const TOL = { atol: 1e-5, rtol: 1e-4 };

function load(m: Module, state: Record<string, number[]>): void {
  for (const [name, values] of Object.entries(state)) {
    const p = m.getParameter(name);
    const t = tensor(Float32Array.from(values), p.shape);
    m.setParameter(name, t);
    t.dispose();
  }
}

function adaptedLayer(): TransformerEncoderLayer {
  const { D, H, FF, R, alpha } = g.dims;
  const layer = new TransformerEncoderLayer(D, H, { dimFeedforward: FF, dropout: 0, seed: 3 });
  addLoRA(layer, { rank: R, alpha, target: /^(self_attn|linear1)$/ });
  addAdapters(layer, { placement: "houlsby", bottleneck: g.dims.RB });
  load(layer, g.weights);
  return layer;
}

gpuTest(
  "LoRA + Houlsby adapters + prefix tuning match PyTorch (forward and every gradient)",
  async () => {
    const { B, L, D, P, H } = g.dims;
    const layer = adaptedLayer();
    const pk = tensor(Float32Array.from(g.prefix_key), [P, H, D / H]);
    const pv = tensor(Float32Array.from(g.prefix_value), [P, H, D / H]);
    for (const t of [pk, pv]) t.requiresGrad = true;
    const names = layer.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
    const [out, gx] = tidy(() => {
      const x = tensor(Float32Array.from(g.x), [B, L, D]);
      x.requiresGrad = true;
      const y = layer.forward(x, { prefixKey: pk, prefixValue: pv });
      backward(sum(mul(y, tensor(Float32Array.from(g.r), y.shape))));
      return [y, x.grad!];
    });
    assertClose(await out.read(), g.out, { ...TOL, msg: "output" });
    assertClose(await gx.read(), g.grad_x, { ...TOL, msg: "grad x" });
    assertClose(await pk.grad!.read(), g.grad_prefix_key, { ...TOL, msg: "grad prefix_key" });
    assertClose(await pv.grad!.read(), g.grad_prefix_value, { ...TOL, msg: "grad prefix_value" });
    // Only the LoRA and adapter parameters train; each gradient matches.
    assert.deepEqual(
      names.sort(),
      Object.keys(g.grads).filter((n) => /lora|adapter/.test(n)).sort(),
    );
    for (const n of names) {
      assertClose(await layer.getParameter(n).grad!.read(), g.grads[n], { ...TOL, msg: n });
    }
    for (const [n, p] of layer.namedParameters()) {
      if (!names.includes(n)) assert.equal(p.grad, null, `${n} is frozen`);
    }
    for (const t of [out, gx, pk, pv]) t.dispose();
    layer.dispose();
  },
);

gpuTest("CrossModalAdapter matches PyTorch", async () => {
  const c = g.cross;
  const { B, L, D } = g.dims;
  const { CD, CL, CB, CH } = c.dims;
  const a = new CrossModalAdapter(D, CD, CB, CH);
  load(a, c.weights);
  const [out, gh, gc] = tidy(() => {
    const h = tensor(Float32Array.from(c.h), [B, L, D]);
    const ctx = tensor(Float32Array.from(c.ctx), [B, CL, CD]);
    h.requiresGrad = true;
    ctx.requiresGrad = true;
    const y = a.forward(h, ctx);
    backward(sum(mul(y, tensor(Float32Array.from(g.r), y.shape))));
    return [y, h.grad!, ctx.grad!];
  });
  assertClose(await out.read(), c.out, { ...TOL, msg: "output" });
  assertClose(await gh.read(), c.grad_h, { ...TOL, msg: "grad h" });
  assertClose(await gc.read(), c.grad_ctx, { ...TOL, msg: "grad ctx" });
  for (const [n, p] of a.namedParameters()) {
    assertClose(await p.grad!.read(), c.grads[n], { ...TOL, msg: n });
  }
  for (const t of [out, gh, gc]) t.dispose();
  a.dispose();
});

gpuTest(
  "LoRA: a new branch is the identity, merge equals the unmerged output, unmerge restores",
  async () => {
    const { B, L, D } = g.dims;
    const x = tensor(randArray(B * L * D, 5), [B, L, D]);
    const layer = new TransformerEncoderLayer(D, 2, { dimFeedforward: 16, dropout: 0, seed: 9 });
    layer.eval();
    const before = await tidy(() => layer.forward(x)).read();
    const names = addLoRA(layer, { rank: 2, alpha: 4 });
    assert.deepEqual(names, [
      "self_attn.q",
      "self_attn.v",
      "self_attn.out_proj",
      "linear1",
      "linear2",
    ]);
    // B starts at zero: the adapted layer computes what the base did.
    assertClose(await tidy(() => layer.forward(x)).read(), before, { atol: 1e-6, msg: "init" });
    load(
      layer,
      Object.fromEntries(
        layer.namedParameters().filter(([n]) => n.endsWith("lora_B")).map(([n, p], i) => [
          n,
          Array.from(randArray(p.size, 40 + i, 0.3)),
        ]),
      ),
    );
    const w0 = await layer.getParameter("self_attn.in_proj_weight").read();
    const unmerged = await tidy(() => layer.forward(x)).read();
    assert.ok(unmerged.some((v, i) => Math.abs(v - before[i]) > 1e-3), "the branches change it");
    mergeLoRA(layer);
    assertClose(await tidy(() => layer.forward(x)).read(), unmerged, { atol: 2e-5, msg: "merged" });
    unmergeLoRA(layer);
    assertClose(await layer.getParameter("self_attn.in_proj_weight").read(), w0, { atol: 1e-6 });
    assertClose(await tidy(() => layer.forward(x)).read(), unmerged, { atol: 1e-5, msg: "again" });
    x.dispose();
    layer.dispose();
  },
);

class Two extends Module {
  a = this.child("a", new Linear(4, 3, { seed: 1 }));
  b = this.child("b", new Linear(3, 2, { seed: 2 }));
}

gpuTest(
  "frozen parameters get no update and no optimizer state; groups scale the rate",
  async () => {
    const net = new FrozenFeatures(tensor(randArray(5 * 4, 3), [5, 4]), [4, 3, 2]);
    assert.equal(freeze(net, "0.*"), 2);
    assert.deepEqual(trainableParameters(net), { trainable: 3 * 2 + 2, total: 4 * 3 + 3 + 8 });
    const opt = new Adam(net.parameters(), { lr: 0.1 });
    const w0 = await net.getParameter("0.weight").read();
    const w1 = await net.getParameter("1.weight").read();
    tidy(() => {
      backward(sum(net.forward(tensor([0, 2, 4], [3], "i32"))));
      opt.step();
      opt.zeroGrad();
    });
    assert.deepEqual(await net.getParameter("0.weight").read(), w0, "frozen: unchanged");
    assert.notDeepEqual(await net.getParameter("1.weight").read(), w1, "trainable: stepped");
    assert.deepEqual([...opt.state().keys()].sort(), ["m.2", "m.3", "v.2", "v.3"]);
    opt.dispose();
    net.dispose();

    // Groups by name: rate 0 for layer a, 1 for the rest (plain SGD: Δw = −lr·scale·g).
    const two = new Two();
    const sgd = new SGD(two.parameters(), { lr: 0.5 });
    paramGroups(sgd, two, [{ match: "a.*", lrScale: 0 }]);
    assert.deepEqual(sgd.lrScales, [0, 0, 1, 1]);
    const wa = await two.a.weight.read();
    const wb = await two.b.weight.read();
    tidy(() => {
      backward(sum(two.b.forward(two.a.forward(tensor(randArray(8, 6), [2, 4])))));
      sgd.step();
      sgd.zeroGrad();
    });
    assert.deepEqual(await two.a.weight.read(), wa, "lrScale 0 leaves the weight");
    assert.notDeepEqual(await two.b.weight.read(), wb);
    two.dispose();
  },
);

gpuTest("PromptTokens put learned tokens first and receive the summed gradient", async () => {
  const pt = new PromptTokens(2, 3, 1);
  const x = tensor(randArray(2 * 4 * 3, 2), [2, 4, 3]);
  const y = tidy(() => {
    const out = pt.forward(x);
    backward(sum(mul(out, out)));
    return out;
  });
  assert.deepEqual(y.shape, [2, 6, 3]);
  const [yv, p, gp] = await readAll([y, pt.prompt, pt.prompt.grad!]);
  assertClose(yv.slice(0, 6), p, { msg: "batch 0 prompt" });
  assertClose(yv.slice(18, 24), p, { msg: "batch 1 prompt" });
  assertClose(gp, Array.from(p, (v) => 4 * v), { msg: "d/dp Σ y² over two copies" });
  for (const t of [x, y] as Tensor[]) t.dispose();
  pt.dispose();
});

gpuTest("bad input: no matching layer, bad rank, bad prefix layer", () => {
  const lin = new Linear(2, 2);
  assert.throws(() => addLoRA(lin, { target: /^nothing$/ }), /addLoRA: no Linear/);
  assert.throws(() => addLoRA(lin, { rank: 0 }), /LoRA: rank 0/);
  assert.throws(() => addAdapters(lin), /addAdapters: the model has no transformer layer/);
  assert.throws(() => freeze(lin, "nope.*"), /freeze: no parameter matches nope/);
  lin.dispose();
});
