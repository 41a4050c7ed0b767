// Parameter groups from the model (issue 20): a module's paramGroups() reaches the loop's
// optimizer, so each parameter moves by lr·scale·grad; TextRec's layer-wise decay for
// finetune gives layer i of N the scale ξ^(N−i) and the embeddings ξ^(N+1).
import assert from "node:assert/strict";
import { assertClose, gpuTest } from "../helpers.ts";
import { backward } from "../../src/autograd/backward.ts";
import { add, mul } from "../../src/ops/core/elementwise.ts";
import { sum } from "../../src/ops/core/reduce.ts";
import { Module } from "../../src/nn/module.ts";
import type { ParamGroup } from "../../src/nn/adapt.ts";
import { keep, readAll, type Tensor, tensor, tidy } from "../../src/tensor.ts";
import { type Task, trainLoop } from "../../src/train/loop.ts";
import { tripletTensors } from "../../src/train/fit.ts";
import { TextEncoder } from "../../src/models/oleo/text_encoder.ts";
import { TextRec } from "../../src/models/survey/model.ts";

/** A one-step task over `module` with the given loss; the metric is a constant. */
function oneStep(module: Module, loss: () => Tensor<"f32">): Task<number> {
  return {
    name: "groups",
    module,
    trainable: true,
    metric: { name: "m", mode: "max" },
    steps: () => 1,
    batches: () => [0],
    size: () => 1,
    loss: () => ({ loss: loss(), parts: {} }),
    evaluate: () => Promise.resolve({ m: 0 }),
  };
}

/** Named parameter values and the gradients of `loss` at them (no step taken). */
async function valuesAndGrads(m: Module, loss: () => Tensor<"f32">) {
  const named = m.namedParameters();
  const grads = tidy(() => {
    backward(loss());
    return named.map(([, p]) => (p.grad ? keep(p.grad) : null));
  });
  const vals = await readAll(named.map(([, p]) => p));
  const g = await Promise.all(grads.map((t) => (t ? t.read() : Promise.resolve(null))));
  for (const [, p] of named) p.grad = null;
  for (const t of grads) t?.dispose();
  return { named, vals, grads: g };
}

/** Runs one SGD step through trainLoop and checks Δp = −lr·scale(name)·g for every parameter. */
async function checkStep(m: Module, loss: () => Tensor<"f32">, scale: (n: string) => number) {
  const lr = 0.1;
  const before = await valuesAndGrads(m, loss);
  await trainLoop(oneStep(m, loss), { optimizer: "sgd", lr, epochs: 1, test: false });
  const after = await readAll(before.named.map(([, p]) => p));
  let moved = 0;
  before.named.forEach(([name], i) => {
    const g = before.grads[i];
    const want = before.vals[i].map((v, j) => v - (g ? lr * scale(name) * g[j] : 0));
    assertClose(after[i], want, { atol: 1e-6, rtol: 1e-4, msg: name });
    if (g && scale(name) > 0 && g.some((x) => x !== 0)) moved++;
  });
  return moved;
}

class TwoVecs extends Module {
  readonly a: Tensor<"f32">;
  readonly b: Tensor<"f32">;
  constructor(readonly groups: ParamGroup[]) {
    super();
    this.a = this.param("head.a", tensor([1, 2, 3], [3]));
    this.b = this.param("body.b", tensor([4, 5, 6], [3]));
  }
  paramGroups(): ParamGroup[] {
    return this.groups;
  }
}

gpuTest("loop: a module's paramGroups() sets each parameter's learning rate", async () => {
  const x = tensor([0.5, -1, 2], [3]);
  for (const scales of [[0.25, 1], [1, 0], [3, 0.5]]) {
    const m = new TwoVecs([{ match: "head.*", lrScale: scales[0] }, {
      match: /^body\./,
      lrScale: scales[1],
    }]);
    const loss = () => add(sum(mul(m.a, x)), sum(mul(mul(m.b, m.b), x)));
    await checkStep(m, loss, (n) => (n.startsWith("head.") ? scales[0] : scales[1]));
    m.dispose();
  }
  // No groups: one rate everywhere.
  const m = new TwoVecs([]);
  const loss = () => add(sum(mul(m.a, x)), sum(mul(m.b, x)));
  assert.equal(await checkStep(m, loss, () => 1), 2);
  m.dispose();
  x.dispose();
});

/** A tiny TextRec: 4 users, 5 items of 4 tokens, a 2-layer encoder, finetune. */
function tinyTextRec(layerDecay: number, adapt: "finetune" | "lora" = "finetune"): TextRec {
  const enc = new TextEncoder({
    vocabSize: 9,
    maxLength: 4,
    hidden: 8,
    layers: 2,
    heads: 2,
    dropout: 0,
  });
  const ids = Int32Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? 1 : 2 + ((i * 7) % 7)));
  const lengths = Int32Array.from([4, 3, 4, 2, 4]);
  return new TextRec(4, { ids, lengths, L: 4 }, enc, { adapt, dim: 4, dropout: 0, layerDecay });
}

gpuTest("TextRec layerDecay: layer i of N at ξ^(N−i), embeddings ξ^(N+1), head at 1", async () => {
  const xi = 0.5;
  const m = tinyTextRec(xi);
  const groups = m.paramGroups();
  assert.deepEqual(groups.map((g) => [String(g.match), g.lrScale]), [
    ["encoder.layers.0.**", 0.25],
    ["encoder.layers.1.**", 0.5],
    ["encoder.**", 0.125],
  ]);
  const b = tripletTensors(
    {
      users: Int32Array.from([0, 1, 2, 3]),
      pos: Int32Array.from([0, 1, 2, 3]),
      neg: Int32Array.from([4, 3, 0, 1]),
    },
    4,
    5,
  );
  const scale = (n: string) => {
    const layer = /^encoder\.layers\.(\d+)\./.exec(n);
    if (layer) return xi ** (2 - Number(layer[1]));
    return n.startsWith("encoder.") ? xi ** 3 : 1;
  };
  const moved = await checkStep(m, () => m.loss(b).loss, scale);
  assert.ok(moved >= 10, `only ${moved} parameters moved`);
  m.dispose();
  const flat = tinyTextRec(1);
  assert.deepEqual(flat.paramGroups(), []);
  flat.dispose();
  assert.throws(() => tinyTextRec(0.8, "lora"), /layerDecay 0.8 .* expected adapt=finetune/);
  assert.throws(() => tinyTextRec(0), /layerDecay 0; expected a number in \(0, 1\]/);
});
